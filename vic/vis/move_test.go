package vis_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

// TestMoveVEth moves vEth 1 (port 0, VIF 5) to port 1, VIF 9, as the
// control plane does when its vNIC migrates: the id, policy and counters
// stay, frames on the old binding are refused, frames on the new one are
// switched, and known unicast toward the vEth leaves by the new port with
// the new VIF.
func TestMoveVEth(t *testing.T) {
	for _, mode := range []vntag.Mode{vntag.ModeVNTag, vntag.ModeETag} {
		t.Run(mode.String(), func(t *testing.T) {
			l := newLab(t, mode, vis.Config{})
			// A → B (both web, VLAN 10, port 0; B unknown, so flooded):
			// learns A on vEth 1.
			require.NotEmpty(t, l.from(0, 5, frame(macB, macA, 80)))
			before := l.counters(1)
			require.Equal(t, uint64(1), before.RxFrames)

			require.NoError(t, l.vis.MoveVEth(1, 1, 9))
			_, err := l.ivs[1].AddVNIC(iv.VNICConfig{VIF: 9})
			require.NoError(t, err)
			assert.Equal(t, before, l.counters(1), "counters survive the move")

			// The old binding is gone.
			assert.Empty(t, l.from(0, 5, frame(macB, macA, 80)))
			assert.Equal(t, uint64(1), l.portCounters(0).Drops[vis.DropUnknownVIF])

			// D (port 1, VIF 5) → A: A was forgotten by the move, so the
			// frame floods; then A speaks from its new place and D → A is
			// unicast to port 1, VIF 9.
			l.from(1, 9, frame(macD, macA, 80))
			outs := l.from(1, 5, frame(macA, macD, 80))
			require.Len(t, outs, 1)
			assert.Equal(t, 1, outs[0].port)
			if mode == vntag.ModeETag {
				assert.Equal(t, uint32(9), etagOf(t, outs[0].bytes).ECID())
			} else {
				assert.Equal(t, uint16(9), vntagOf(t, outs[0].bytes).DVIF())
			}
			tx := port.NewTx(8, 1<<16)
			require.Equal(t, 1, l.ivs[1].Process(iv.UplinkA, []port.Frame{port.FrameFrom(outs[0].bytes)}, 0, tx))
			p9, _ := l.ivs[1].PortOf(9)
			require.Equal(t, []int{p9}, tx.Ports, "the IV delivers it to VIF 9")
			c := l.counters(1)
			assert.Equal(t, before.RxFrames+1, c.RxFrames)
			assert.Equal(t, before.TxFrames+1, c.TxFrames)

			// Errors: taken VIF, unknown vEth, uplink, same place is a no-op.
			assert.ErrorIs(t, l.vis.MoveVEth(2, 1, 5), vis.ErrVIF)
			assert.ErrorIs(t, l.vis.MoveVEth(99, 1, 10), vis.ErrNotFound)
			assert.ErrorIs(t, l.vis.MoveVEth(2, l.uplink, 10), vis.ErrPortKind)
			assert.ErrorIs(t, l.vis.MoveVEth(2, 7, 10), vis.ErrNotFound)
			assert.NoError(t, l.vis.MoveVEth(1, 1, 9))
		})
	}
}

// TestChangesMidBatch sends batches in which a frame on the general path
// changes what a later frame of the same batch must do — a MAC moves, a
// vEth is err-disabled — after the VIS has looked the whole batch up:
// the later frame must follow the change, as it would in a batch of its
// own.
func TestChangesMidBatch(t *testing.T) {
	for _, mode := range []vntag.Mode{vntag.ModeVNTag, vntag.ModeETag} {
		t.Run(mode.String()+"/move", func(t *testing.T) {
			l := newLab(t, mode, vis.Config{})
			l.from(0, 5, frame(bcast, macA, 1)) // A on vEth 1
			l.from(0, 6, frame(bcast, macB, 1)) // B on vEth 2
			before := l.counters(2).TxFrames
			outs := l.send(0,
				l.tag(frame(macB, macA, 80), 5), // A → B: to vEth 2
				l.tag(frame(macA, macB, 81), 5), // B moves to vEth 1
				l.tag(frame(macB, macA, 82), 5), // A → B: B is on vEth 1 now
			)
			require.Len(t, outs, 1, "only the first frame leaves: the last is for its own vEth")
			got := l.deliver(outs, 0)
			assert.Equal(t, [][]byte{frame(macB, macA, 80)}, got[6])
			assert.Equal(t, uint64(1), l.vis.Moves())
			assert.Equal(t, uint64(4), l.counters(1).RxFrames)
			assert.Equal(t, before+1, l.counters(2).TxFrames)
		})
		t.Run(mode.String()+"/err-disable", func(t *testing.T) {
			l := newLab(t, mode, vis.Config{})
			// vEth 2 gets a profile of its own, in VLAN 10 with port
			// security: one MAC, then err-disabled.
			l.configure("port-profile secure\n  switchport mode access\n  switchport access vlan 10\n  switchport port-security\n  switchport port-security maximum 1\n  switchport port-security violation shutdown\n  state enabled\n")
			_, err := l.store.Update(func(tx *profile.Txn) error { tx.Bind(2, "secure"); return nil })
			require.NoError(t, err)
			l.from(0, 5, frame(bcast, macA, 1)) // A on vEth 1
			l.from(0, 6, frame(bcast, macB, 1)) // B on vEth 2
			before := l.counters(2).TxFrames
			outs := l.send(0,
				l.tag(frame(macB, macA, 80), 5),       // A → B: to vEth 2
				l.tag(frame(bcast, mac(0x42), 81), 6), // a second MAC on vEth 2: err-disabled
				l.tag(frame(macB, macA, 82), 5),       // A → B: vEth 2 is down now
			)
			got := l.deliver(outs, 0)
			assert.Equal(t, [][]byte{frame(macB, macA, 80)}, got[6], "vEth 2 gets the first frame only")
			assert.Equal(t, before+1, l.counters(2).TxFrames)
			s, err := l.vis.ShowInterface(2)
			require.NoError(t, err)
			assert.Contains(t, s, "err-disabled")
		})
	}
}
