package fuzz

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/gopacket/gopacket"

	"github.com/nivkit/niv/internal/dissect"
	"github.com/nivkit/niv/vntag"
	"github.com/nivkit/niv/vntag/vntaglayers"
)

var sentinels = []error{vntag.ErrShortBuffer, vntag.ErrEtherType, vntag.ErrNoTag, vntag.ErrNoRoom, vntag.ErrTrailing}

func checkSentinel(t *testing.T, err error) {
	t.Helper()
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("error %v wraps none of the package's sentinels", err)
}

func seedTags(f *testing.F) {
	f.Helper()
	for _, h := range specHeaders {
		f.Add(h)
	}
	for _, h := range nivHeaders(captureFrames(f)) {
		f.Add(h)
	}
}

// FuzzVNTag: ParseTag never panics; what it accepts re-encodes to the same
// bytes, through Put, the view and the fields; what it refuses is a typed
// error.
func FuzzVNTag(f *testing.F) {
	seedTags(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		tag, err := vntag.ParseTag(data)
		if err != nil {
			checkSentinel(t, err)
			if _, verr := vntag.TagHeaderOf(data); verr == nil {
				t.Fatal("the view accepts what ParseTag refuses")
			}
			return
		}
		out := make([]byte, vntag.TagHeaderLen)
		if _, err := tag.Put(out); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, data[:vntag.TagHeaderLen]) {
			t.Fatalf("round trip: % x became % x", data[:vntag.TagHeaderLen], out)
		}
		again, err := tag.Fields().Tag()
		if err != nil || again != tag {
			t.Fatalf("fields round trip: %v %v", again, err)
		}
		h, err := vntag.TagHeaderOf(data)
		if err != nil || h.Tag() != tag || h.DVIF() != tag.DVIF() || h.SVIF() != tag.SVIF() {
			t.Fatalf("view disagrees: %v %v", h, err)
		}
		body, err := vntag.ParseTagBody(data[2:])
		if err != nil || body != tag {
			t.Fatalf("body decode disagrees: %v %v", body, err)
		}
		if err := tag.Validate(); err != nil && !errors.Is(err, vntag.ErrReserved) && !errors.Is(err, vntag.ErrVersion) {
			t.Fatalf("Validate: %v", err)
		}
	})
}

// FuzzETag is FuzzVNTag for the 802.1BR E-Tag.
func FuzzETag(f *testing.F) {
	seedTags(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := vntag.ParseETag(data)
		if err != nil {
			checkSentinel(t, err)
			return
		}
		out := make([]byte, vntag.ETagHeaderLen)
		if _, err := e.Put(out); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, data[:vntag.ETagHeaderLen]) {
			t.Fatalf("round trip: % x became % x", data[:vntag.ETagHeaderLen], out)
		}
		again, err := e.Fields().ETag()
		if err != nil || again != e {
			t.Fatalf("fields round trip: %v %v", again, err)
		}
		if w, err := e.WithECID(e.ECID()); err != nil || w != e {
			t.Fatalf("WithECID(ECID()) changed the tag: %v %v", w, err)
		}
		if w, err := e.WithIngressECID(e.IngressECID()); err != nil || w != e {
			t.Fatalf("WithIngressECID(IngressECID()) changed the tag: %v %v", w, err)
		}
		h, err := vntag.ETagHeaderOf(data)
		if err != nil || h.ETag() != e || h.ECID() != e.ECID() || h.GRP() != e.GRP() {
			t.Fatalf("view disagrees: %v %v", h, err)
		}
	})
}

func seedBodies(f *testing.F) {
	f.Helper()
	for _, h := range specHeaders {
		f.Add(h[2:])
	}
	for _, h := range nivHeaders(captureFrames(f)) {
		f.Add(h[2:])
	}
}

// FuzzVNTagLayer: the gopacket layer decodes what ParseTagBody decodes, and
// serializes it back to the same bytes.
func FuzzVNTagLayer(f *testing.F) {
	seedBodies(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var l vntaglayers.VNTag
		err := l.DecodeFromBytes(data, gopacket.NilDecodeFeedback)
		want, werr := vntag.ParseTagBody(data)
		if (err == nil) != (werr == nil) {
			t.Fatalf("layer %v, codec %v", err, werr)
		}
		if err != nil {
			checkSentinel(t, err)
			return
		}
		if l.Tag != want || len(l.Contents) != 6 || len(l.Payload) != len(data)-6 {
			t.Fatalf("layer %v, codec %v", l.Tag, want)
		}
		buf := gopacket.NewSerializeBuffer()
		if err := l.SerializeTo(buf, gopacket.SerializeOptions{}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), data[:6]) {
			t.Fatalf("serialized % x, decoded from % x", buf.Bytes(), data[:6])
		}
	})
}

// FuzzETagLayer is FuzzVNTagLayer for the E-Tag layer.
func FuzzETagLayer(f *testing.F) {
	seedBodies(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var l vntaglayers.ETag
		err := l.DecodeFromBytes(data, gopacket.NilDecodeFeedback)
		want, werr := vntag.ParseETagBody(data)
		if (err == nil) != (werr == nil) {
			t.Fatalf("layer %v, codec %v", err, werr)
		}
		if err != nil {
			checkSentinel(t, err)
			return
		}
		if l.ETag != want || len(l.Contents) != 8 || len(l.Payload) != len(data)-8 {
			t.Fatalf("layer %v, codec %v", l.ETag, want)
		}
		buf := gopacket.NewSerializeBuffer()
		if err := l.SerializeTo(buf, gopacket.SerializeOptions{}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), data[:8]) {
			t.Fatalf("serialized % x, decoded from % x", buf.Bytes(), data[:8])
		}
	})
}

// FuzzFrame decodes a whole frame as `niv decode` does: the output is
// always valid JSON and a readable line; the tag walker agrees with the
// dissector on the stack; popping the first NIV tag and pushing it back
// gives the frame back byte for byte.
func FuzzFrame(f *testing.F) {
	for _, fr := range specFrames() {
		f.Add(fr)
	}
	for _, fr := range captureFrames(f) {
		f.Add(fr)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, frame []byte) {
		var d dissect.Frame
		dissect.Dissect(frame, &d)
		line := d.AppendJSON(nil, 1)
		if !json.Valid(line) {
			t.Fatalf("invalid JSON: %s", line)
		}
		_ = d.AppendText(nil, 1, len(frame))

		kind, off, err := vntag.FindTag(frame)
		if err != nil {
			if !errors.Is(err, vntag.ErrNoTag) && !errors.Is(err, vntag.ErrShortBuffer) {
				t.Fatalf("FindTag: %v", err)
			}
			return
		}
		orig := append([]byte(nil), frame...)
		outer := (off - vntag.AddrLen) / vntag.VLANTagLen
		// Pop moves the header into the frame's own first bytes; give the
		// buffer that headroom back for the Push.
		buf := append([]byte(nil), frame...)
		var restored []byte
		switch kind {
		case vntag.KindVNTag:
			tag, _, err := vntag.Pop(buf)
			if err != nil {
				t.Fatalf("Pop after FindTag: %v", err)
			}
			// Only VLAN tags stand before it, so the dissector reached it.
			if src := d.Get(dissect.VNTagSrc); len(src) == 0 || src[0].Num != uint64(tag.SVIF()) {
				t.Fatalf("dissector %v and Pop (svif %d) disagree on the first VNTag", src, tag.SVIF())
			}
			restored, err = vntag.PushAfter(buf, vntag.TagLen, outer, tag)
			if err != nil {
				t.Fatalf("PushAfter: %v", err)
			}
		case vntag.KindETag:
			e, _, err := vntag.PopETag(buf)
			if err != nil {
				t.Fatalf("PopETag after FindTag: %v", err)
			}
			if b := d.Get(dissect.ETagECIDBase); len(b) == 0 || b[0].Num != uint64(e.ECIDBase()) {
				t.Fatalf("dissector %v and PopETag (%v) disagree on the first E-Tag", b, e)
			}
			restored, err = vntag.PushETagAfter(buf, vntag.ETagLen, outer, e)
			if err != nil {
				t.Fatalf("PushETagAfter: %v", err)
			}
		}
		if !bytes.Equal(restored, orig) {
			t.Fatalf("pop then push changed the frame:\n% x\n% x", orig, restored)
		}
	})
}
