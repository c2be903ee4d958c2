package bind_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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
	ivCore  *iv.IV
	visProg *bind.VISProgrammer
	visCore *vis.VIS
	// v1 makes the IV speak version 1: its open loses the version TLV.
	v1    bool
	toVIS [][]byte
	toIV  [][]byte
	msg   vic.Message
}

func newWire(t *testing.T, mode vntag.Mode, maxVIFs uint16, v1 bool) *wire {
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
	w := &wire{t: t, now: time.Unix(1000, 0), v1: v1, ivCore: ivCore, visCore: visCore,
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
			if w.v1 {
				w.msg.Present &^= vic.FieldVersion
			}
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

// A vNIC created and deleted 10,000 times on one VNTag IV port always
// gets a VIF the real cores take, an svif_id (1-4095), however far the
// VIS's round-robin allocator has gone; the allocator goes round that
// whole range, so that a freed id comes back as late as possible.
func TestCreateDeleteCyclesOnRealCores(t *testing.T) {
	w := newWire(t, vntag.ModeVNTag, 64, false)
	for i := range 10_000 {
		vif := w.cycle(i, vntag.MaxSVIF)
		require.Equal(t, vntag.VIF(i%vntag.MaxSVIF+1), vif, "cycle %d", i)
		_, _, ok := w.ivProg.Port(nthVNIC(i).Instance)
		require.False(t, ok, "cycle %d: vNIC still on the IV core after delete", i)
	}
}

func nthVNIC(i int) vic.VNIC {
	var u vic.UUID
	binary.BigEndian.PutUint32(u[12:], uint32(i+1))
	return vic.VNIC{Instance: u, MAC: mac(1), Profile: "web", Epoch: 1, Up: true}
}

// cycle creates vNIC i, checks that it is on the IV core with a VIF of
// at most max, deletes it, and returns the VIF.
func (w *wire) cycle(i int, max vntag.VIF) vntag.VIF {
	w.t.Helper()
	n := nthVNIC(i)
	w.iv(vic.IVEvent{Kind: vic.IVRequest, VNIC: n})
	w.settle()
	_, vif, ok := w.ivProg.Port(n.Instance)
	require.True(w.t, ok, "cycle %d: vNIC not on the IV core", i)
	require.LessOrEqual(w.t, vif, max, "cycle %d", i)
	w.iv(vic.IVEvent{Kind: vic.IVDelete, VNIC: vic.VNIC{Instance: n.Instance}})
	w.settle()
	return vif
}

// An E-Tag IV of version 2 that holds more than 4095 VIFs gets whole
// 20-bit E-CIDs (E-CID_ext << 12 | E-CID_base), and both real cores
// take them: past 4,095 create/delete cycles the VIS's allocator goes on
// into E-CIDs with an ext part instead of wrapping.
func TestETagECIDsWithExtOnRealCores(t *testing.T) {
	w := newWire(t, vntag.ModeETag, 5000, false)
	for i := range 4200 {
		vif := w.cycle(i, vntag.MaxECID)
		require.Equal(t, vntag.VIF(i+1), vif, "round robin over the whole E-CID range")
	}
}

// The VIS core's E-channels of every GRP (1-3) reach the IV core as the
// same E-channels, through vic.
func TestETagListGRPsOnRealCores(t *testing.T) {
	w := newWire(t, vntag.ModeETag, 64, false)
	var vifs []vntag.VIF
	for i := range 3 {
		w.iv(vic.IVEvent{Kind: vic.IVRequest, VNIC: nthVNIC(i)})
		w.settle()
		_, vif, ok := w.ivProg.Port(nthVNIC(i).Instance)
		require.True(t, ok)
		vifs = append(vifs, vif)
	}
	for grp := uint8(1); grp <= vntag.MaxGRP; grp++ {
		list := vntag.Channel(grp, vntag.VIF(100+grp))
		w.vis(vic.VISEvent{Kind: vic.VISSetVIFList, Port: 0, ListID: list, Members: vifs[:grp]})
		w.settle()
		got, ok := w.ivCore.VIFList(list)
		require.True(t, ok, "GRP %d list %#x not on the IV core", grp, list)
		assert.ElementsMatch(t, vifs[:grp], got)
	}
	assert.Zero(t, w.vism.RefusedLists())
}

// Against an IV of version 1 (no version TLV in its open) the VIS keeps to
// version 1: E-CID bases only, however many VIFs the IV announces (the
// allocator wraps after 4095), GRP 1 lists in the version-1 TLV, and a
// GRP 2 list not sent but counted.
func TestVersion1IVOnRealCores(t *testing.T) {
	w := newWire(t, vntag.ModeETag, 5000, true)
	for i := range 4200 {
		vif := w.cycle(i, vntag.MaxECIDBase)
		require.Equal(t, vntag.VIF(i%vntag.MaxECIDBase+1), vif)
	}

	grp1 := vntag.Channel(1, 7)
	w.vis(vic.VISEvent{Kind: vic.VISSetVIFList, Port: 0, ListID: grp1, Members: []vntag.VIF{1, 2}})
	w.settle()
	got, ok := w.ivCore.VIFList(grp1)
	require.True(t, ok)
	assert.ElementsMatch(t, []vntag.VIF{1, 2}, got)

	grp2 := vntag.Channel(2, 7)
	w.vis(vic.VISEvent{Kind: vic.VISSetVIFList, Port: 0, ListID: grp2, Members: []vntag.VIF{1}})
	assert.Empty(t, w.toIV, "a GRP 2 list was sent to a version-1 IV")
	assert.Equal(t, 1, w.vism.RefusedLists())
}
