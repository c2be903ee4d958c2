package vis_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

// exact returns b in a frame whose buffer holds b and nothing more.
func exact(b []byte) port.Frame {
	buf := append(make([]byte, 0, len(b)), b...)
	return port.Frame{Buf: buf[:len(b):len(b)]}
}

// A frame that leaves shorter than 60 bytes (without its NIV tag) is
// padded to 60 even when its buffer ends where the frame does: it moves
// into the bytes the popped tag took. When the buffer cannot hold the
// padded frame and the tag it must carry, the frame is dropped and
// counted (DropNoPadRoom), never sent short.
func TestShortFramesPaddedOrDropped(t *testing.T) {
	for _, mode := range []vntag.Mode{vntag.ModeVNTag, vntag.ModeETag} {
		t.Run(mode.String(), func(t *testing.T) {
			l := newLab(t, mode, vis.Config{})
			l.from(0, 6, frame(bcast, macB, 1)) // B is learned
			hl := vntag.TagLen
			if mode == vntag.ModeETag {
				hl = vntag.ETagLen
			}
			send := func(b []byte) []out {
				tx := port.NewTx(64, 1<<16)
				require.Equal(t, 1, l.vis.Process(0, []port.Frame{exact(l.tag(b, 5))}, l.now, tx))
				var outs []out
				for i, f := range tx.Frames {
					outs = append(outs, out{tx.Ports[i], append([]byte(nil), f.Bytes()...)})
				}
				return outs
			}
			// A broadcast, 60 bytes with its tag: the uplink's frame (the
			// last out, the one in the input buffer) gets an 802.1Q tag and
			// is padded.
			short := frame(bcast, macA, 1)[:60-hl]
			outs := send(short)
			require.Len(t, outs, 3)
			up := outs[2]
			require.Equal(t, l.uplink, up.port)
			want := append(dot1q(short, 10), make([]byte, 60-4-len(short))...)
			assert.Equal(t, want, up.bytes)
			for _, o := range outs[:2] {
				assert.Len(t, o.bytes, 60+hl, "the copies to the IV ports: 60 bytes and the tag")
			}
			// Known unicast to B: 60 bytes and the tag do not fit in 60.
			assert.Empty(t, send(frame(macB, macA, 1)[:60-hl]))
			assert.Equal(t, uint64(1), l.counters(2).Drops[vis.DropNoPadRoom])
		})
	}
}

// room returns b in a buffer with no headroom and spare bytes of
// tailroom.
func room(b []byte, spare int) port.Frame {
	buf := make([]byte, len(b), len(b)+spare)
	copy(buf, b)
	return port.Frame{Buf: buf}
}

// A frame without headroom still gets the 802.1Q tag and the NIV tag it
// must carry when its buffer has the room for them anywhere: the frame
// moves within it. Without the room it is dropped and counted, never sent
// without a tag it needs, or empty.
func TestFramesWithoutHeadroom(t *testing.T) {
	l := newLab(t, vntag.ModeVNTag, vis.Config{})
	// db (vEth 3, VIF 7, MAC C) becomes a trunk of VLANs 1 and 20, native
	// 20: frames of VLAN 1 go to it tagged.
	l.configure("port-profile db\n  no switchport access vlan\n  switchport mode trunk\n  switchport trunk allowed vlan 1,20\n  switchport trunk native vlan 20\n")
	l.from(0, 7, dot1q(frame(bcast, macC, 1), 1))
	send := func(f port.Frame) []out {
		tx := port.NewTx(64, 1<<16)
		require.Equal(t, 1, l.vis.Process(l.uplink, []port.Frame{f}, l.now, tx))
		var outs []out
		for i, f := range tx.Frames {
			outs = append(outs, out{tx.Ports[i], append([]byte(nil), f.Bytes()...)})
		}
		return outs
	}
	// Untagged on the uplink: the native VLAN 1.
	in := frame(macC, macX, 1)
	outs := send(room(in, 16))
	require.Len(t, outs, 1)
	assert.Equal(t, upVNTagDown(t, dot1q(in, 1), 7), outs[0].bytes, "VLAN 1 tagged, then the VNTag")
	assert.Empty(t, send(room(in, 0)), "no room for the tags")
	assert.Equal(t, uint64(1), l.counters(3).Drops[vis.DropNoPadRoom])
}

// upVNTagDown returns b with the downstream unicast VNTag of dvif.
func upVNTagDown(t *testing.T, b []byte, dvif uint16) []byte {
	tag, err := vntag.Downstream(dvif)
	require.NoError(t, err)
	f := port.FrameFrom(b)
	out, err := vntag.Push(f.Buf, f.Off, tag)
	require.NoError(t, err)
	return append([]byte(nil), out...)
}
