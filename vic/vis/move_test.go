package vis_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vic/vis"
)

// TestMoveVEth moves vEth 1 (port 0, VIF 5) to port 1, VIF 9, as the
// control plane does when its vNIC migrates: the id, policy and counters
// stay, frames on the old binding are refused, frames on the new one are
// switched, and known unicast toward the vEth leaves by the new port with
// the new VIF.
func TestMoveVEth(t *testing.T) {
	for _, mode := range []port.TagMode{port.VNTag, port.ETag} {
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
			if mode == port.ETag {
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
