package vis_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

// The bridge rules that hold on every port kind (DESIGN, "Invariants").

// linkLocal is the n-th address of IEEE 802.1Q Table 8-1 (C-VLAN
// component reserved addresses), 01:80:C2:00:00:00 to 0F.
func linkLocal(n byte) [6]byte { return [6]byte{0x01, 0x80, 0xc2, 0, 0, n} }

// A C-VLAN bridge never relays frames to the reserved addresses
// 01:80:C2:00:00:00-0F (802.1Q 8.6.3, Table 8-1): not from a VM, on the
// general path and with a known destination or not, tagged or untagged,
// and not from the uplink. 01:80:C2:00:00:10 is not reserved and is
// flooded like any group address.
func TestLinkLocalNeverRelayed(t *testing.T) {
	for _, mode := range []vntag.Mode{vntag.ModeVNTag, vntag.ModeETag} {
		t.Run(mode.String(), func(t *testing.T) {
			l := newLab(t, mode, vis.Config{})
			l.from(0, 6, frame(bcast, macB, 1)) // B is learned
			l.send(l.uplink, dot1q(frame(bcast, macX, 1), 10))
			var n uint64
			for a := byte(0); a <= 0x0f; a++ {
				assert.Empty(t, l.from(0, 5, frame(linkLocal(a), macA, 1)), "%v from a VM", linkLocal(a))
				assert.Empty(t, l.from(0, 5, dot1q(frame(linkLocal(a), macA, 1), 10)), "%v from a VM, tagged", linkLocal(a))
				assert.Empty(t, l.send(l.uplink, dot1q(frame(linkLocal(a), macX, 1), 10)), "%v from the uplink", linkLocal(a))
				assert.Empty(t, l.send(l.uplink, frame(linkLocal(a), macX, 1)), "%v from the uplink, untagged", linkLocal(a))
				n += 2
			}
			assert.Equal(t, n, l.counters(1).Drops[vis.DropLinkLocal])
			assert.Equal(t, n, l.portCounters(l.uplink).Drops[vis.DropLinkLocal])
			assert.Equal(t, uint64(1), l.counters(2).TxFrames, "B got X's broadcast and nothing else")
			outs := l.from(0, 5, frame(linkLocal(0x10), macA, 1))
			assert.Len(t, outs, 3, "01:80:C2:00:00:10 is flooded: both IV ports and the uplink")
		})
	}
}

// A source address is always an individual address (IEEE 802.3 3.2.3):
// a frame from a VM or the uplink with a group source is dropped and
// counted, and the address is never learned.
func TestGroupSourceDropped(t *testing.T) {
	for _, mode := range []vntag.Mode{vntag.ModeVNTag, vntag.ModeETag} {
		t.Run(mode.String(), func(t *testing.T) {
			l := newLab(t, mode, vis.Config{})
			l.from(0, 6, frame(bcast, macB, 1)) // B is learned
			group := [6]byte{0x03, 0, 0, 0, 0, 0x0a}
			assert.Empty(t, l.from(0, 5, frame(macB, group, 1)), "to a known unicast")
			assert.Empty(t, l.from(0, 5, frame(mac(0x99), group, 1)), "to an unknown unicast")
			assert.Empty(t, l.from(0, 5, frame(bcast, bcast, 1)), "broadcast from broadcast")
			assert.Equal(t, uint64(3), l.counters(1).Drops[vis.DropGroupSource])
			assert.Empty(t, l.send(l.uplink, dot1q(frame(macB, group, 1), 10)))
			assert.Equal(t, uint64(1), l.portCounters(l.uplink).Drops[vis.DropGroupSource])
			for _, m := range l.vis.MACs(l.now) {
				assert.Zero(t, m.Addr[0]&1, "a group address learned: %v", m)
			}
		})
	}
}

// A NIV tag never travels beyond its own link (vntag.md): a frame whose
// EtherType behind the IV's tag and any VLAN tags is again 0x8926 or
// 0x893F is dropped and counted, whether its destination is known or not;
// so is a VNTag or E-Tag, outermost or behind VLAN tags, on a plain
// uplink.
func TestNIVTagBehindTagDropped(t *testing.T) {
	for _, mode := range []vntag.Mode{vntag.ModeVNTag, vntag.ModeETag} {
		t.Run(mode.String(), func(t *testing.T) {
			l := newLab(t, mode, vis.Config{})
			l.from(0, 6, frame(bcast, macB, 1)) // B and A are learned
			l.from(0, 5, frame(bcast, macA, 1))
			inner := [][]byte{
				upVNTag(t, frame(macB, macA, 1), 9),
				upETag(t, frame(macB, macA, 1), 9),
				dot1q(upVNTag(t, frame(macB, macA, 1), 9), 10),
				dot1q(upETag(t, frame(macB, macA, 1), 9), 0),
				dot1q(dot1q(upVNTag(t, frame(macB, macA, 1), 9), 10), 10),
				upVNTag(t, frame(bcast, macA, 1), 9),
				dot1q(upETag(t, frame(mac(0x99), macA, 1), 9), 10),
			}
			for i, b := range inner {
				assert.Empty(t, l.from(0, 5, b), "frame %d", i)
			}
			assert.Equal(t, uint64(len(inner)), l.counters(1).Drops[vis.DropNIVTag])
			// Batched: the fast path must not take them either.
			var batch [][]byte
			for _, b := range inner {
				batch = append(batch, l.tag(b, 5))
			}
			assert.Empty(t, l.send(0, batch...))
			assert.Equal(t, uint64(2*len(inner)), l.counters(1).Drops[vis.DropNIVTag])

			l.send(l.uplink, dot1q(frame(bcast, macX, 1), 10))
			up := [][]byte{
				upVNTag(t, frame(macA, macX, 1), 9),
				dot1q(upVNTag(t, frame(macA, macX, 1), 9), 10),
				dot1q(upETag(t, frame(macA, macX, 1), 9), 10),
			}
			assert.Empty(t, l.send(l.uplink, up...))
			assert.Equal(t, uint64(len(up)), l.portCounters(l.uplink).Drops[vis.DropNIVTag])
			require.Len(t, l.from(0, 5, frame(macB, macA, 1)), 1, "the plain frame still goes")
		})
	}
}

// Dropping a frame by the bridge rules, padding one or flooding one
// through the list of the admitted members allocates nothing.
func TestBridgeRuleDropsDoNotAllocate(t *testing.T) {
	for _, mode := range []vntag.Mode{vntag.ModeVNTag, vntag.ModeETag} {
		t.Run(mode.String(), func(t *testing.T) {
			l := newLab(t, mode, vis.Config{})
			l.from(0, 6, frame(bcast, macB, 1))
			l.from(0, 5, frame(bcast, macA, 1))
			hl := vntag.TagLen
			if mode == vntag.ModeETag {
				hl = vntag.ETagLen
			}
			frames := [][]byte{
				l.tag(frame(linkLocal(0x0e), macA, 1), 5),
				l.tag(frame(macB, [6]byte{1, 0, 0, 0, 0, 1}, 1), 5),
				l.tag(upVNTag(t, frame(macB, macA, 1), 9), 5),
				l.tag(frame(bcast, macA, 1)[:60-hl], 5),
			}
			up := [][]byte{frame(linkLocal(0), macX, 1), dot1q(upVNTag(t, frame(macA, macX, 1), 9), 10)}
			all := append(frames[:len(frames):len(frames)], up...)
			b := port.NewBatch(len(all))
			tx := port.NewTx(64, 1<<16)
			allocs := testing.AllocsPerRun(200, func() {
				for i, f := range all {
					b.Put(i, f)
				}
				l.vis.Process(0, b.Frames[:len(frames)], l.now, tx)
				l.vis.Process(l.uplink, b.Frames[len(frames):len(frames)+len(up)], l.now, tx)
				tx.Reset()
			})
			assert.Zero(t, allocs)
			assert.Positive(t, l.counters(1).Drops[vis.DropLinkLocal])
			assert.Positive(t, l.counters(1).Drops[vis.DropGroupSource])
			assert.Positive(t, l.counters(1).Drops[vis.DropNIVTag])
			assert.Positive(t, l.portCounters(l.uplink).Drops[vis.DropNIVTag])
		})
	}
}
