package iv_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vntag"
)

// exact returns b in a frame whose buffer holds b and nothing more: no
// headroom, no tailroom, as a port that reads frames into buffers of their
// own size hands them over.
func exact(b []byte) port.Frame {
	buf := append(make([]byte, 0, len(b)), b...)
	return port.Frame{Buf: buf[:len(b):len(b)]}
}

// A frame that is shorter than 60 bytes once its tag is popped is padded
// to 60 even when its buffer ends where the frame does: the frame moves
// into the bytes the tag took. A frame whose buffer is smaller than 60
// bytes cannot be padded and is dropped and counted (DropNoPadRoom), never
// sent short.
func TestDownstreamPadsWithoutTailroom(t *testing.T) {
	for _, mode := range []vntag.Mode{vntag.ModeVNTag, vntag.ModeETag} {
		t.Run(mode.String(), func(t *testing.T) {
			v := newIV(t, mode)
			tag := func(b []byte, vif uint32) []byte {
				if mode == vntag.ModeETag {
					e, err := vntag.ETagForECID(vif)
					require.NoError(t, err)
					return etagged(t, b, e)
				}
				return tagged(t, b, mustTag(t, vntag.TagFields{Direction: vntag.FromBridge, DVIF: uint16(vif)}))
			}
			list := uint32(9)
			if mode == vntag.ModeETag {
				list = vntag.Channel(1, 9)
			}
			require.NoError(t, v.SetVIFList(list, []vntag.VIF{5, 6}))
			listTag := func(b []byte) []byte {
				if mode == vntag.ModeETag {
					e, err := vntag.ETagFields{GRP: 1, ECIDBase: 9}.ETag()
					require.NoError(t, err)
					return etagged(t, b, e)
				}
				return tagged(t, b, mustTag(t, vntag.TagFields{Direction: vntag.FromBridge, Pointer: true, DVIF: 9}))
			}
			short := ethFrame(macB, macA, 3)[:60-kindLen(mode)] // 60 bytes with the tag
			for _, in := range [][]byte{tag(short, 6), listTag(short)} {
				tx := port.NewTx(16, 1<<16)
				fs := []port.Frame{exact(in)}
				require.Equal(t, 1, v.Process(iv.UplinkA, fs, 0, tx))
				require.NotZero(t, tx.Len())
				for _, f := range tx.Frames {
					got := f.Bytes()
					require.Len(t, got, 60, "re-padded to the minimum after the pop")
					assert.Equal(t, short, got[:len(short)])
					assert.Equal(t, make([]byte, 60-len(short)), got[len(short):])
				}
			}
			// 40 bytes in a 40-byte buffer: no room for 60.
			tiny := tag(ethFrame(macB, macA, 3)[:40-kindLen(mode)], 6)
			tx := port.NewTx(16, 1<<16)
			require.Equal(t, 2, v.Process(iv.UplinkA, []port.Frame{exact(tiny), exact(listTag(ethFrame(bcast, macA, 3)[:40-kindLen(mode)]))}, 0, tx))
			assert.Zero(t, tx.Len(), "never sent short")
			c, _ := v.Counters(6)
			assert.Equal(t, uint64(1), c.Drops[iv.DropNoPadRoom])
			assert.Equal(t, uint64(1), v.UplinkCounters(iv.UplinkA).Drops[iv.DropNoPadRoom])
		})
	}
}

func kindLen(mode vntag.Mode) int {
	if mode == vntag.ModeETag {
		return vntag.ETagLen
	}
	return vntag.TagLen
}

// In E-Tag mode the IV carries a frame's priority upstream as E-PCP and
// E-DEI (vntag.md: like a C-tag's PCP and DEI): those of the 802.1Q tag
// the vNIC sent, 0 for an untagged frame.
func TestUpstreamETagPriority(t *testing.T) {
	v := newIV(t, vntag.ModeETag)
	plain := ethFrame(macB, macA, 1)
	q := append(append(append([]byte(nil), plain[:12]...), 0x81, 0x00, 0xb0, 0x0a), plain[12:]...) // PCP 5, DEI 1, VLAN 10
	tx := process(t, v.IV, v.a, plain, q)
	require.Equal(t, 2, tx.Len())
	e, err := vntag.ParseETag(tx.Frames[0].Bytes()[12:])
	require.NoError(t, err)
	assert.Equal(t, uint8(0), e.PCP())
	assert.False(t, e.DEI())
	e, err = vntag.ParseETag(tx.Frames[1].Bytes()[12:])
	require.NoError(t, err)
	assert.Equal(t, uint8(5), e.PCP())
	assert.True(t, e.DEI())
	assert.Equal(t, uint32(5), e.ECID())
	assert.Equal(t, q[12:], tx.Frames[1].Bytes()[12+vntag.ETagLen:], "the 802.1Q tag stays")
}

// A frame with offload state is never moved to make room for its
// padding: its offload positions count from the buffer's start. Without
// tailroom it is dropped and counted, and its offload state stays as it
// was.
func TestPadNeverMovesOffloadedFrame(t *testing.T) {
	v := newIV(t, vntag.ModeVNTag)
	short := ethFrame(macB, macA, 3)[:54]
	in := tagged(t, short, mustTag(t, vntag.TagFields{Direction: vntag.FromBridge, DVIF: 6}))
	buf := make([]byte, port.VNetHdrLen+len(in))
	copy(buf[port.VNetHdrLen:], in)
	f := port.Frame{Buf: buf, Off: port.VNetHdrLen}
	o := port.Offload{Flags: port.OffloadNeedsCsum, CsumStart: 34, CsumOffset: 6}
	require.True(t, f.SetOffload(o))
	tx := port.NewTx(16, 1<<16)
	require.Equal(t, 1, v.Process(iv.UplinkA, []port.Frame{f}, 0, tx))
	assert.Zero(t, tx.Len())
	c, _ := v.Counters(6)
	assert.Equal(t, uint64(1), c.Drops[iv.DropNoPadRoom])
	assert.Equal(t, o, port.Frame{Buf: buf, Off: port.VNetHdrLen}.Offload())
}
