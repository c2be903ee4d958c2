package iv_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"pgregory.net/rapid"

	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vntag"
)

// TestInlineTagOpsMatchVNTag checks the IV's inline push (upstream) and
// pop (downstream unicast) against vntag.Push/PushETag and
// vntag.Pop/PopETag followed by vntag.Pad, on random frames: any length
// from a bare Ethernet header up, with headroom from none (the tail-moving
// fallback) to plenty, garbage in the headroom and tailroom as in a reused
// buffer, and downstream with VLAN tags in front of the NIV tag or not.
// The frame the IV sends — its bytes, and where it sits in its buffer —
// must be exactly what the vntag functions give.
func TestInlineTagOpsMatchVNTag(t *testing.T) {
	for _, mode := range []port.TagMode{port.VNTag, port.ETag} {
		t.Run(mode.String(), func(t *testing.T) {
			rapid.Check(t, func(rt *rapid.T) { checkInlineTagOps(rt, mode) })
		})
	}
}

func checkInlineTagOps(rt *rapid.T, mode port.TagMode) {
	v := iv.New(iv.Config{Mode: mode})
	const vif = 7
	p, err := v.AddVNIC(iv.VNICConfig{VIF: vif})
	if err != nil {
		rt.Fatal(err)
	}
	// Lengths around the 60-byte minimum half of the time.
	n := rapid.OneOf(rapid.IntRange(14, 120), rapid.IntRange(50, 62)).Draw(rt, "len")
	payload := rapid.SliceOfN(rapid.Byte(), n, n).Draw(rt, "frame")
	payload[0] &^= 1 // unicast
	// A payload EtherType, not a tag's TPID.
	binary.BigEndian.PutUint16(payload[12:], rapid.SampledFrom([]uint16{0x0800, 0x86dd, 0x88b5}).Draw(rt, "type"))
	head := rapid.IntRange(0, port.Headroom).Draw(rt, "headroom")
	tail := rapid.IntRange(0, 80).Draw(rt, "tailroom")
	dirty := func(b []byte) port.Frame {
		buf := bytes.Repeat([]byte{0x5a}, head+len(b)+tail)
		copy(buf[head:], b)
		return port.Frame{Buf: buf[:head+len(b)], Off: head}
	}
	sent := func(in int, f port.Frame) (port.Frame, bool) {
		tx := port.NewTx(4, 1<<14)
		fs := []port.Frame{f}
		if n := v.Process(in, fs, 0, tx); n != 1 {
			rt.Fatalf("%d frames consumed", n)
		}
		if tx.Len() == 0 {
			return port.Frame{}, false
		}
		return tx.Frames[0], true
	}
	same := func(what string, got port.Frame, want []byte, wantErr error, wantBuf []byte) {
		if wantErr != nil {
			rt.Fatalf("%s: vntag failed (%v) but the IV sent % x", what, wantErr, got.Bytes())
		}
		if !bytes.Equal(got.Bytes(), want) {
			rt.Fatalf("%s:\n  IV    % x\n  vntag % x", what, got.Bytes(), want)
		}
		// The same place in the same buffer: the headroom and tailroom
		// a later push or pad uses are the same.
		if cap(got.Bytes()) != cap(want) || !bytes.Equal(got.Buf[:cap(got.Buf)], wantBuf[:cap(wantBuf)]) {
			rt.Fatalf("%s: the buffers differ", what)
		}
	}

	// Upstream.
	ref := dirty(payload)
	var want []byte
	if mode == port.ETag {
		e, _ := vntag.ETagForECID(vif)
		want, err = vntag.PushETag(ref.Buf, ref.Off, e)
	} else {
		tag, _ := vntag.Upstream(vif)
		want, err = vntag.Push(ref.Buf, ref.Off, tag)
	}
	got, ok := sent(p, dirty(payload))
	if !ok {
		if err == nil {
			rt.Fatalf("upstream: the IV sent nothing, vntag pushed % x", want)
		}
	} else {
		same("upstream", got, want, err, ref.Buf)
	}

	// Downstream: the tag of the vNIC, behind 0-2 VLAN tags.
	b := payload
	vlans := rapid.IntRange(0, 2).Draw(rt, "vlans")
	for range vlans {
		b = append(append(append([]byte(nil), b[:12]...), 0x81, 0x00, 0, byte(rapid.IntRange(1, 255).Draw(rt, "vid"))), b[12:]...)
	}
	in := port.FrameFrom(b)
	var tagged []byte
	if mode == port.ETag {
		e, _ := vntag.ETagForECID(vif)
		tagged, err = vntag.PushETagAfter(in.Buf, in.Off, vlans, e)
	} else {
		tag, _ := vntag.Downstream(vif)
		tagged, err = vntag.PushAfter(in.Buf, in.Off, vlans, tag)
	}
	if err != nil {
		rt.Fatal(err)
	}
	tagged = append([]byte(nil), tagged...)
	ref = dirty(tagged)
	if mode == port.ETag {
		_, want, err = vntag.PopETag(ref.Bytes())
	} else {
		_, want, err = vntag.Pop(ref.Bytes())
	}
	if err != nil {
		rt.Fatal(err)
	}
	if padded, err := vntag.Pad(want); err == nil {
		want = padded
	}
	got, ok = sent(iv.UplinkA, dirty(tagged))
	if !ok {
		rt.Fatalf("downstream: the IV sent nothing, vntag popped % x", want)
	}
	same("downstream", got, want, nil, ref.Buf)
}
