package iv_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vntag"
)

// dot1q returns frame with an 802.1Q tag of VLAN vid after its addresses.
func dot1q(frame []byte, vid byte) []byte {
	return append(append(append([]byte(nil), frame[:12]...), 0x81, 0x00, 0x00, vid), frame[12:]...)
}

// A NIV tag never travels beyond its own link (vntag.md): a downstream
// frame that carries a VNTag or an E-Tag behind the link's tag, right
// behind it or behind a VLAN tag, is dropped and counted on the uplink
// (DropNIVTag), to a VIF or to a vif list, and never reaches a vNIC.
func TestDownstreamNIVTagBehindTagDropped(t *testing.T) {
	for _, mode := range []vntag.Mode{vntag.ModeVNTag, vntag.ModeETag} {
		t.Run(mode.String(), func(t *testing.T) {
			v := newIV(t, mode)
			list := uint32(9)
			if mode == vntag.ModeETag {
				list = vntag.Channel(1, 9)
			}
			require.NoError(t, v.SetVIFList(list, []vntag.VIF{5, 6}))
			link := func(b []byte, toList bool) []byte {
				if mode == vntag.ModeETag {
					e, err := vntag.ETagForECID(6)
					if toList {
						e, err = vntag.ETagFields{GRP: 1, ECIDBase: 9}.ETag()
					}
					require.NoError(t, err)
					return etagged(t, b, e)
				}
				return tagged(t, b, mustTag(t, vntag.TagFields{Direction: vntag.FromBridge, Pointer: toList, DVIF: 6 + 3*b2i(toList)}))
			}
			plain := ethFrame(macB, macA, 7)
			up, _ := vntag.Upstream(5)
			e, _ := vntag.ETagForECID(5)
			inners := [][]byte{tagged(t, plain, up), etagged(t, plain, e), dot1q(tagged(t, plain, up), 10), dot1q(etagged(t, plain, e), 10)}
			var frames [][]byte
			for _, in := range inners {
				frames = append(frames, link(in, false), link(in, true))
			}
			tx := process(t, v.IV, iv.UplinkA, frames...)
			assert.Zero(t, tx.Len(), "no vNIC gets a NIV tag")
			c := v.UplinkCounters(iv.UplinkA)
			assert.Equal(t, uint64(len(frames)), c.RxFrames)
			assert.Equal(t, uint64(len(frames)), c.Drops[iv.DropNIVTag])
			for _, vif := range []vntag.VIF{5, 6} {
				n, _ := v.Counters(vif)
				assert.Zero(t, n.TxFrames)
			}
			// The same frames without the inner NIV tag are delivered.
			tx = process(t, v.IV, iv.UplinkA, link(plain, false), link(dot1q(plain, 10), false))
			assert.Equal(t, 2, tx.Len())
		})
	}
}

func b2i(b bool) uint16 {
	if b {
		return 1
	}
	return 0
}

// A frame a vNIC sends shorter than 60 bytes goes up padded to 60 (then
// tagged), as the VIS pads what it sends: on the fast path's batch and on
// the general path alike, with headroom or without. A frame whose buffer
// is too small for it padded and tagged is dropped and counted on the
// vNIC (DropNoPadRoom), never sent short.
func TestUpstreamPadsShortFrames(t *testing.T) {
	for _, mode := range []vntag.Mode{vntag.ModeVNTag, vntag.ModeETag} {
		t.Run(mode.String(), func(t *testing.T) {
			v := newIV(t, mode)
			hl := kindLen(mode)
			short := ethFrame(macB, macA, 3)[:42] // an ARP request's length
			headroom := port.FrameFrom(short)
			noHeadroom := exact(short)
			noHeadroom.Buf = append(noHeadroom.Buf[:len(short):len(short)], make([]byte, 60+hl-len(short))...)[:len(short)]
			tx := port.NewTx(16, 1<<16)
			long := port.FrameFrom(ethFrame(macB, macA, 4))
			require.Equal(t, 4, v.Process(v.a, []port.Frame{long, headroom, noHeadroom, long}, 0, tx))
			require.Equal(t, 4, tx.Len())
			for i, f := range tx.Frames {
				got := f.Bytes()
				require.Len(t, got, 60+hl, "frame %d", i)
				if i == 1 || i == 2 {
					assert.Equal(t, short[:12], got[:12])
					assert.Equal(t, short[12:], got[12+hl:12+hl+len(short)-12])
					assert.Equal(t, make([]byte, 60-len(short)), got[hl+len(short):])
				}
			}
			up := v.UplinkCounters(iv.UplinkA)
			assert.Equal(t, uint64(4*(60+hl)), up.TxBytes)
			// A 42-byte frame in a 42-byte buffer has no room for 60.
			tx = port.NewTx(16, 1<<16)
			require.Equal(t, 1, v.Process(v.a, []port.Frame{exact(short)}, 0, tx))
			assert.Zero(t, tx.Len(), "never sent short")
			c, _ := v.Counters(5)
			assert.Equal(t, uint64(1), c.Drops[iv.DropNoPadRoom])
		})
	}
}
