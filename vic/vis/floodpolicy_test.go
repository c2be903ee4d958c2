package vis_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

// listOf returns the vif list a frame the VIS sent to an IV port is
// addressed to, and whether it is one (p=1; E-Tag GRP≠0).
func listOf(t *testing.T, mode vntag.Mode, b []byte) (uint32, bool) {
	if mode == vntag.ModeETag {
		e := etagOf(t, b)
		return e.Channel(), e.Multicast()
	}
	tag := vntagOf(t, b)
	return uint32(tag.DVIF()), tag.Pointer()
}

// A flood stays one p=1 vif-list frame per IV port when members have
// outbound policies (DESIGN "How a frame travels", step 4): through the
// list of every member when every policy admits the frame, and through a
// list of the admitted members, programmed to the IV like every other
// list, when some deny it.
func TestFloodWithOutboundPolicyUsesLists(t *testing.T) {
	for _, mode := range []vntag.Mode{vntag.ModeVNTag, vntag.ModeETag} {
		t.Run(mode.String(), func(t *testing.T) {
			l := newLab(t, mode, vis.Config{})
			// db (vEth 3, VIF 7) joins VLAN 10 with an outbound ACL that
			// denies DNS and permits the rest.
			l.configure("port-profile db\n  switchport access vlan 10\n  ip access-group no-dns out\n")
			full, vifs, ok := l.vis.FloodList(0, 10, false)
			require.True(t, ok)
			require.Equal(t, []vntag.VIF{5, 6, 7}, vifs)

			outs := l.from(0, 5, frame(bcast, macA, 80))
			require.Len(t, outs, 3, "one frame per IV port and the uplink")
			id, isList := listOf(t, mode, outs[0].bytes)
			require.True(t, isList, "a vif-list frame, not per-VIF copies")
			assert.Equal(t, full, id, "nothing denied: the list of every member")
			got := l.deliver(outs, 0)
			assert.Len(t, got[6], 1)
			assert.Len(t, got[7], 1)
			assert.Empty(t, got[5], "the source is pruned")

			// DNS: db denies it. Still one list frame on port 0, to a list
			// of A and B that the IV was given.
			for range 2 {
				outs = l.from(0, 5, frame(bcast, macA, 53))
				require.Len(t, outs, 3)
				require.Equal(t, 0, outs[0].port)
				sub, isList := listOf(t, mode, outs[0].bytes)
				require.True(t, isList)
				assert.NotEqual(t, full, sub)
				members, ok := l.ivs[0].VIFList(sub)
				require.True(t, ok, "programmed to the IV")
				assert.Equal(t, []vntag.VIF{5, 6}, members)
				got = l.deliver(outs, 0)
				assert.Len(t, got[6], 1)
				assert.Empty(t, got[7])
				assert.Empty(t, got[5])
			}
			assert.Equal(t, uint64(2), l.counters(3).Drops[vis.DropIPACL])
			c := l.counters(2)
			assert.Equal(t, uint64(3), c.TxFrames, "B: one flood through the full list, two through the other")
			assert.Equal(t, uint64(1), l.counters(3).TxFrames)
			assert.Equal(t, uint64(0), l.counters(1).TxFrames, "the source is pruned, not counted")
			assert.Zero(t, l.portCounters(0).ListFallbacks)

			// Once the list exists, such a flood does not allocate.
			b := port.NewBatch(1)
			tx := port.NewTx(64, 1<<16)
			dns := l.tag(frame(bcast, macA, 53), 5)
			allocs := testing.AllocsPerRun(100, func() {
				b.Put(0, dns)
				l.vis.Process(0, b.Frames[:1], l.now, tx)
				tx.Reset()
			})
			assert.Zero(t, allocs)

			// A profile change rebuilds the lists; the list of admitted
			// members comes back when it is needed again.
			l.configure("port-profile web\n  description x\n")
			outs = l.from(0, 5, frame(bcast, macA, 53))
			sub, isList := listOf(t, mode, outs[0].bytes)
			require.True(t, isList)
			members, ok := l.ivs[0].VIFList(sub)
			require.True(t, ok)
			assert.Equal(t, []vntag.VIF{5, 6}, members)
		})
	}
}

// fullIV is an IV that takes the VIS's lists until it is full.
type fullIV struct {
	*iv.IV
	full bool
}

var errFull = errors.New("no room for another list")

func (f *fullIV) SetVIFList(list uint32, vifs []vntag.VIF) error {
	if f.full {
		return errFull
	}
	return f.IV.SetVIFList(list, vifs)
}

// When the IV cannot hold another list, the flood falls back to a copy
// per admitted VIF (p=0), counted in ListFallbacks.
func TestFloodFallsBackToCopiesWhenIVIsFull(t *testing.T) {
	store := profile.NewMemStore()
	_, err := store.Update(func(tx *profile.Txn) error {
		if err := tx.Configure(baseConfig + "port-profile db\n  switchport access vlan 10\n  ip access-group no-dns out\n"); err != nil {
			return err
		}
		tx.Bind(1, "web")
		tx.Bind(2, "web")
		tx.Bind(3, "db")
		return nil
	})
	require.NoError(t, err)
	s, err := vis.New(vis.Config{Store: store})
	require.NoError(t, err)
	defer s.Close()
	core := &fullIV{IV: iv.New(iv.Config{})}
	p, err := s.AddIVPort("iv0", vntag.ModeVNTag, core)
	require.NoError(t, err)
	for i, vif := range []vntag.VIF{5, 6, 7} {
		require.NoError(t, s.AddVEth(profile.VEthID(i+1), p, vif))
		_, err := core.AddVNIC(iv.VNICConfig{VIF: vif})
		require.NoError(t, err)
	}
	core.full = true
	f := []port.Frame{port.FrameFrom(upVNTag(t, frame(bcast, macA, 53), 5))}
	tx := port.NewTx(64, 1<<16)
	require.Equal(t, 1, s.Process(p, f, 1e9, tx))
	require.Equal(t, 1, tx.Len(), "one copy, to B")
	tag := vntagOf(t, tx.Frames[0].Bytes())
	assert.False(t, tag.Pointer())
	assert.Equal(t, uint16(6), tag.DVIF())
	assert.Equal(t, vntag.FromBridge, tag.Direction())
	c, _ := s.PortCounters(p)
	assert.Equal(t, uint64(1), c.ListFallbacks)
}
