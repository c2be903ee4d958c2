package iv_test

import (
	"bytes"
	"encoding/binary"
	"reflect"
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
	for _, mode := range []vntag.Mode{vntag.ModeVNTag, vntag.ModeETag} {
		t.Run(mode.String(), func(t *testing.T) {
			rapid.Check(t, func(rt *rapid.T) { checkInlineTagOps(rt, mode) })
		})
	}
}

func checkInlineTagOps(rt *rapid.T, mode vntag.Mode) {
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
		// The offload bytes of a finished frame are zero (port.Offload);
		// the rest of the headroom and tailroom is not.
		clear(buf[:min(port.VNetHdrLen, head)])
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

	// Upstream: a frame shorter than 60 bytes is padded first, in place
	// when the room for the tag in front and for the padding behind is
	// there, else at the end of its buffer (or not at all: then it is
	// dropped).
	ref := dirty(payload)
	var want []byte
	hl := vntag.TagLen
	if mode == vntag.ModeETag {
		hl = vntag.ETagLen
	}
	if n := ref.Len(); n < vntag.MinFrameLen {
		if ref.Off < hl || cap(ref.Buf)-ref.Off < vntag.MinFrameLen {
			off := cap(ref.Buf) - vntag.MinFrameLen
			if off < hl {
				if _, ok := sent(p, dirty(payload)); ok {
					rt.Fatalf("upstream: the IV sent a %d-byte frame it has no room to pad and tag", n)
				}
				return
			}
			buf := ref.Buf[:cap(ref.Buf)]
			copy(buf[off:], buf[ref.Off:ref.Off+n])
			ref = port.Frame{Buf: buf[:off+n], Off: off}
		}
		padded, err := vntag.Pad(ref.Bytes())
		if err != nil {
			rt.Fatal(err)
		}
		ref.Buf = ref.Buf[:ref.Off+len(padded)]
	}
	if mode == vntag.ModeETag {
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
	if mode == vntag.ModeETag {
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
	if mode == vntag.ModeETag {
		_, want, err = vntag.PopETag(ref.Bytes())
	} else {
		_, want, err = vntag.Pop(ref.Bytes())
	}
	if err != nil {
		rt.Fatal(err)
	}
	// A frame short of 60 bytes is padded where it is, or, without the
	// room behind it, first moved to the end of its buffer; in a buffer
	// smaller than 60 bytes it is not sent.
	fits := true
	if padded, err := vntag.Pad(want); err == nil {
		want = padded
	} else if buf := ref.Buf[:cap(ref.Buf)]; len(buf) >= vntag.MinFrameLen {
		at := len(buf) - vntag.MinFrameLen
		n := copy(buf[at:], want)
		clear(buf[at+n:])
		want = buf[at:]
	} else {
		fits = false
	}
	got, ok = sent(iv.UplinkA, dirty(tagged))
	if !fits {
		if ok {
			rt.Fatalf("downstream: no room to pad, but the IV sent % x", got.Bytes())
		}
		return
	}
	if !ok {
		rt.Fatalf("downstream: the IV sent nothing, vntag popped % x", want)
	}
	same("downstream", got, want, nil, ref.Buf)
}

// TestFastPathsMatchGeneralPath runs random batches through two IVs set up
// alike, one with its fast paths and one with every frame on the general
// path (iv.SetFastPath), and checks that they consume as many frames, send
// the same frames (bytes, port, place in the buffer) in the same order,
// leave the same bytes in the input buffers and keep the same counters.
// The batches mix the usual frames with every kind of frame the fast
// paths leave to the general one: short frames, frames without headroom,
// VLAN-tagged, injected, with the other mode's tag or none, d=0, a version
// other than 0, vif lists, unknown or detached VIFs, E-CIDs from 4096 up,
// looped frames for their own source, frames to pad; with an uplink down
// and with a Tx too small for the batch.
func TestFastPathsMatchGeneralPath(t *testing.T) {
	for _, mode := range []vntag.Mode{vntag.ModeVNTag, vntag.ModeETag} {
		t.Run(mode.String(), func(t *testing.T) {
			rapid.Check(t, func(rt *rapid.T) { checkFastPaths(rt, mode) })
		})
	}
}

func checkFastPaths(rt *rapid.T, mode vntag.Mode) {
	vifs := []vntag.VIF{1, 2, 7, vntag.MaxSVIF}
	list := uint32(9)
	if mode == vntag.ModeETag {
		vifs = append(vifs, vntag.MaxSVIF+1, 0x12345)
		list = vntag.Channel(1, 9)
	}
	fast, slow := iv.New(iv.Config{Mode: mode}), iv.New(iv.Config{Mode: mode})
	iv.SetFastPath(slow, false)
	ivs := []*iv.IV{fast, slow}
	var vnics []int
	for _, vif := range vifs {
		fabric := iv.Fabric(rapid.IntRange(0, 1).Draw(rt, "fabric"))
		var p int
		for _, v := range ivs {
			var err error
			if p, err = v.AddVNIC(iv.VNICConfig{VIF: vif, Fabric: fabric}); err != nil {
				rt.Fatal(err)
			}
		}
		vnics = append(vnics, p)
	}
	members := rapid.SliceOfNDistinct(rapid.SampledFrom(vifs), 1, -1, rapid.ID[vntag.VIF]).Draw(rt, "members")
	detach := rapid.SliceOfDistinct(rapid.SampledFrom(vifs), rapid.ID[vntag.VIF]).Draw(rt, "detached")
	upA, upB := rapid.IntRange(0, 4).Draw(rt, "upA") > 0, rapid.IntRange(0, 4).Draw(rt, "upB") > 0
	for _, v := range ivs {
		if err := v.SetVIFList(list, members); err != nil {
			rt.Fatal(err)
		}
		for _, vif := range detach {
			if err := v.RemoveVNIC(vif); err != nil {
				rt.Fatal(err)
			}
		}
		_ = v.SetUplinkUp(iv.UplinkA, upA)
		_ = v.SetUplinkUp(iv.UplinkB, upB)
	}

	// The frames, each with its headroom and tailroom, dirty.
	type spec struct {
		b          []byte
		head, tail int
	}
	tpids := []uint16{vntag.EtherTypeVNTag, vntag.EtherTypeETag, 0x0800, 0x88b5, 0x86dd, 0x0040,
		vntag.EtherTypeDot1Q, vntag.EtherTypeDot1AD, vntag.EtherTypeQinQ}
	nTag := uint16(vntag.EtherTypeVNTag)
	if mode == vntag.ModeETag {
		nTag = vntag.EtherTypeETag
	}
	hl := vntag.TagLen
	if mode == vntag.ModeETag {
		hl = vntag.ETagLen
	}
	// Each frame is the usual one (downstream: for a low VIF; upstream:
	// any frame without a tag) but for at most one thing the fast paths
	// leave to the general path, or random all through.
	const (
		usual = iota
		random
		ownSource // looped back to its source
		short     // around the shortest header
		pad       // 60 bytes or fewer once the tag is popped
		vlan      // a VLAN tag in front
		otherTPID // another tag, or none
		multicast // p=1, GRP>0
		badTag    // d=0, version > 0
		otherVIF  // not a low attached VIF
		noRoom    // too little headroom for a push
		variants
	)
	specs := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) spec {
		variant := rapid.IntRange(0, variants-1).Draw(t, "variant")
		pick := func(v int, name string, usual, other *rapid.Generator[uint32]) uint32 {
			if variant == random || variant == v {
				return other.Draw(t, name)
			}
			return usual.Draw(t, name)
		}
		vifs32 := make([]uint32, len(vifs))
		for i, v := range vifs {
			vifs32[i] = uint32(v)
		}
		lowVIF := rapid.SampledFrom(vifs32[:4])
		otherVIFs := rapid.SampledFrom(append([]uint32{0, 9, 5000, vntag.MaxDVIF}, vifs32...))
		source := rapid.SampledFrom(append([]uint32{0, 0x12345}, vifs32...))
		dst := pick(otherVIF, "dst", lowVIF, otherVIFs)
		if variant == multicast && rapid.Bool().Draw(t, "list") {
			dst = 9 // the list
		}
		src := source.Draw(t, "src")
		if variant == ownSource {
			src = dst
		}
		var hdr []byte
		if variant == vlan || variant == random && rapid.Bool().Draw(t, "vlan") {
			hdr = binary.BigEndian.AppendUint16(hdr, rapid.SampledFrom(tpids[6:]).Draw(t, "vlanTPID"))
			hdr = binary.BigEndian.AppendUint16(hdr, uint16(rapid.IntRange(0, 0xffff).Draw(t, "tci")))
		}
		// The link's tag for the downstream fast path, a payload type for
		// the upstream one.
		tpid := rapid.SampledFrom([]uint16{nTag, 0x88b5, 0x0800}).Draw(t, "tpid")
		if variant == otherTPID || variant == random {
			tpid = rapid.SampledFrom(tpids).Draw(t, "otherTPID")
		}
		hdr = binary.BigEndian.AppendUint16(hdr, tpid)
		inner := uint64(rapid.SampledFrom([]uint16{0x0800, 0x88b5, vntag.EtherTypeDot1Q, nTag}).Draw(t, "inner"))
		var next uint64 // the 8 bytes after the TPID
		if mode == vntag.ModeETag {
			e, _ := vntag.ETagForECID(dst)
			e, _ = e.WithIngressECID(src)
			e, _ = e.WithGRP(uint8(pick(multicast, "grp", rapid.Just(uint32(0)), rapid.Uint32Range(0, 3))))
			tci := e.TCI() | uint64(rapid.IntRange(0, 15).Draw(t, "pcpdei"))<<44
			next = tci<<16 | inner
		} else {
			tag, err := vntag.TagFields{
				Direction: vntag.Direction(pick(badTag, "d", rapid.Just(uint32(1)), rapid.Uint32Range(0, 1))),
				Pointer:   pick(multicast, "p", rapid.Just(uint32(0)), rapid.Uint32Range(0, 1)) == 1,
				DVIF:      uint16(dst),
				Looped:    rapid.Bool().Draw(t, "l") || variant == ownSource,
				Reserved:  rapid.Bool().Draw(t, "r"),
				Version:   uint8(pick(badTag, "version", rapid.Just(uint32(0)), rapid.Uint32Range(0, 3))),
				SVIF:      uint16(src & vntag.MaxSVIF),
			}.Tag()
			if err != nil {
				t.Fatal(err)
			}
			next = uint64(tag.Word())<<32 | inner<<16 | 0x4500
		}
		hdr = binary.BigEndian.AppendUint64(hdr, next)
		n := int(pick(short, "len", rapid.Uint32Range(uint32(hl+60), 120), rapid.Uint32Range(0, 24)))
		if variant == pad {
			n = rapid.IntRange(hl+56, hl+60).Draw(t, "padLen")
		}
		b := rapid.SliceOfN(rapid.Byte(), n, n).Draw(t, "frame")
		if n > 12 {
			copy(b[12:], hdr)
		}
		return spec{
			b:    b,
			head: int(pick(noRoom, "headroom", rapid.Just(uint32(port.Headroom)), rapid.SampledFrom([]uint32{0, 4, vntag.TagLen, vntag.ETagLen}))),
			tail: rapid.SampledFrom([]int{port.Tailroom, 0, 2, 8}).Draw(t, "tailroom"),
		}
	}), 1, 24).Draw(rt, "frames")
	in := rapid.SampledFrom(append([]int{iv.UplinkA, iv.UplinkA, iv.UplinkB, 99}, vnics...)).Draw(rt, "in")
	txFrames := rapid.IntRange(0, len(specs)+2).Draw(rt, "txFrames")
	txArena := rapid.SampledFrom([]int{1 << 14, port.CopySize(60), 0}).Draw(rt, "txArena")

	type sent struct {
		port       int
		b          []byte
		off, n, cp int // where the frame is in its buffer
	}
	type result struct {
		consumed []int
		sent     []sent
		bufs     [][]byte
		counters []iv.Counters
	}
	run := func(v *iv.IV) result {
		var r result
		frames := make([]port.Frame, len(specs))
		for i, s := range specs {
			buf := bytes.Repeat([]byte{0x5a}, s.head+len(s.b)+s.tail)
			copy(buf[s.head:], s.b)
			frames[i] = port.Frame{Buf: buf[:s.head+len(s.b)], Off: s.head}
		}
		tx := port.NewTx(txFrames, txArena)
		for rest := frames; len(rest) > 0; {
			n := v.Process(in, rest, 0, tx)
			r.consumed = append(r.consumed, n)
			for i, f := range tx.Frames {
				r.sent = append(r.sent, sent{tx.Ports[i], bytes.Clone(f.Bytes()), f.Off, len(f.Buf), cap(f.Buf)})
			}
			tx.Reset()
			if n == 0 {
				break
			}
			rest = rest[n:]
		}
		for _, f := range frames {
			r.bufs = append(r.bufs, f.Buf[:cap(f.Buf)])
		}
		for _, vif := range vifs {
			c, _ := v.Counters(vif)
			r.counters = append(r.counters, c)
		}
		r.counters = append(r.counters, v.UplinkCounters(iv.UplinkA), v.UplinkCounters(iv.UplinkB))
		return r
	}
	got, want := run(fast), run(slow)
	if !reflect.DeepEqual(got, want) {
		rt.Fatalf("fast path:\n%+v\ngeneral path:\n%+v", got, want)
	}
}
