package bind_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/bind"
	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

// wire is an IV machine and a VIS machine with the real cores behind them
// (through bind), exchanging messages in order and without loss, on a
// clock that moves only when told.
type wire struct {
	t       *testing.T
	now     time.Time
	ivm     *vic.IVMachine
	vism    *vic.VISMachine
	ivProg  *bind.IVProgrammer
	visProg *bind.VISProgrammer
	toVIS   [][]byte
	toIV    [][]byte
	msg     vic.Message
}

func newWire(t *testing.T, mode vntag.Mode, maxVIFs uint16) *wire {
	store := profile.NewMemStore()
	_, err := store.Update(func(tx *profile.Txn) error { return tx.Configure(profiles) })
	require.NoError(t, err)
	visCore, err := vis.New(vis.Config{Store: store, MACTableSize: 1024})
	require.NoError(t, err)
	t.Cleanup(visCore.Close)
	visProg, err := bind.NewVISProgrammer(visCore, store)
	require.NoError(t, err)
	cp, err := visCore.AddIVPort("iv", mode, bind.NewLists())
	require.NoError(t, err)
	visProg.AddPort(0, cp)
	ivCore := iv.New(iv.Config{Mode: mode})
	w := &wire{t: t, now: time.Unix(1000, 0),
		ivm:     vic.NewIVMachine(vic.IVConfig{Session: 1, Mode: mode, MaxVIFs: maxVIFs, Timing: timing}),
		ivProg:  bind.NewIVProgrammer(ivCore, iv.FabricA, nil),
		visProg: visProg,
	}
	w.vism = vic.NewVISMachine(vic.VISConfig{Session: 2, Profiles: bind.Profiles{Store: store}, Timing: timing}, nil, w.now)
	w.iv(vic.IVEvent{Kind: vic.IVTimer})
	w.settle()
	return w
}

func (w *wire) iv(ev vic.IVEvent) {
	w.t.Helper()
	for _, a := range w.ivm.Handle(ev, w.now) {
		switch a.Kind {
		case vic.ActSend:
			w.toVIS = append(w.toVIS, append([]byte(nil), a.Payload...))
		case vic.ActStatus:
		default:
			require.NoError(w.t, a.ApplyIV(w.ivProg), "IV core refused %v", a.Kind)
		}
	}
}

func (w *wire) vis(ev vic.VISEvent) {
	w.t.Helper()
	for _, a := range w.vism.Handle(ev, w.now) {
		switch a.Kind {
		case vic.ActSend:
			w.toIV = append(w.toIV, append([]byte(nil), a.Payload...))
		case vic.ActStatus:
		default:
			require.NoError(w.t, a.ApplyVIS(w.visProg), "VIS core refused %v", a.Kind)
		}
	}
}

// settle delivers messages until none is in flight.
func (w *wire) settle() {
	w.t.Helper()
	for len(w.toVIS) > 0 || len(w.toIV) > 0 {
		if len(w.toVIS) > 0 {
			p := w.toVIS[0]
			w.toVIS = w.toVIS[1:]
			require.NoError(w.t, vic.Decode(p, &w.msg))
			w.vis(vic.VISEvent{Kind: vic.VISReceive, Port: 0, Msg: &w.msg})
		}
		if len(w.toIV) > 0 {
			p := w.toIV[0]
			w.toIV = w.toIV[1:]
			require.NoError(w.t, vic.Decode(p, &w.msg))
			w.iv(vic.IVEvent{Kind: vic.IVReceive, Msg: &w.msg})
		}
	}
}

// A vNIC created and deleted 10,000 times on one IV port always gets a
// VIF the real cores take: in VNTag mode an svif_id (1-4095), however far
// the VIS's round-robin allocator has gone, and in E-Tag mode an E-CID.
func TestCreateDeleteCyclesOnRealCores(t *testing.T) {
	for _, c := range []struct {
		name string
		mode vntag.Mode
		max  vntag.VIF
	}{
		{"vntag", vntag.ModeVNTag, vntag.MaxSVIF},
		{"etag", vntag.ModeETag, vntag.MaxECIDBase},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWire(t, c.mode, 64)
			seen := map[vntag.VIF]bool{}
			for i := range 10_000 {
				var u vic.UUID
				binary.BigEndian.PutUint32(u[12:], uint32(i+1))
				w.iv(vic.IVEvent{Kind: vic.IVRequest, VNIC: vic.VNIC{Instance: u, MAC: mac(1), Profile: "web", Epoch: 1, Up: true}})
				w.settle()
				_, vif, ok := w.ivProg.Port(u)
				require.True(t, ok, "cycle %d: vNIC not on the IV core", i)
				require.LessOrEqual(t, vif, c.max, "cycle %d", i)
				seen[vif] = true
				w.iv(vic.IVEvent{Kind: vic.IVDelete, VNIC: vic.VNIC{Instance: u}})
				w.settle()
				_, _, ok = w.ivProg.Port(u)
				require.False(t, ok, "cycle %d: vNIC still on the IV core after delete", i)
			}
			// The allocator went round its whole range, so freed ids were
			// reused as late as possible.
			require.Len(t, seen, int(c.max))
		})
	}
}
