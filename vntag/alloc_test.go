package vntag_test

import (
	"testing"

	"github.com/nivkit/niv/vntag"
)

// Decode, encode, the views, the walker, Push and Pop make no heap
// allocation on valid input (netip's TestNoAllocs pattern).
func TestNoAllocs(t *testing.T) {
	vframe := taggedFrame(t, 64, vntag.KindVNTag)
	eframe := taggedFrame(t, 64, vntag.KindETag)
	vbuf := make([]byte, 64+vntag.ETagLen)
	out := make([]byte, 16)
	tag := mustTag(t, vntag.TagFields{Direction: vntag.FromBridge, DVIF: 7, SVIF: 9})
	etag := mustETag(t, vntag.ETagFields{PCP: 5, ECIDBase: 197})

	tests := []struct {
		name string
		fn   func()
	}{
		{"ParseTag", func() { sinkTag, sinkErr = vntag.ParseTag(vframe[vntag.AddrLen:]) }},
		{"ParseETag", func() { sinkETag, sinkErr = vntag.ParseETag(eframe[vntag.AddrLen:]) }},
		{"TagHeaderOf", func() { h, _ := vntag.TagHeaderOf(vframe[vntag.AddrLen:]); sinkU16 = h.SVIF() }},
		{"FrameTag", func() { h, _, _ := vntag.FrameTag(vframe); sinkU16 = h.DVIF() }},
		{"FrameETag", func() { h, _, _ := vntag.FrameETag(eframe); sinkU32 = h.ECID() }},
		{"ETagHeaderOf", func() { h, _ := vntag.ETagHeaderOf(eframe[vntag.AddrLen:]); sinkETag = h.ETag() }},
		{"FindTag", func() { _, sinkInt, sinkErr = vntag.FindTag(vframe) }},
		{"FindTag/none", func() { _, sinkInt, sinkErr = vntag.FindTag(vbuf) }},
		{"Tags", func() {
			it := vntag.Tags(eframe)
			for it.Next() {
				sinkInt += it.Offset()
			}
			sinkErr = it.Err()
		}},
		{"Put", func() { sinkInt, sinkErr = tag.Put(out) }},
		{"PutETag", func() { sinkInt, sinkErr = etag.Put(out) }},
		{"AppendBinary", func() { _, sinkErr = tag.AppendBinary(out[:0]) }},
		{"Push+Pop", func() {
			f, _ := vntag.Push(vbuf, vntag.TagLen, tag)
			sinkTag, _, sinkErr = vntag.Pop(f)
		}},
		{"PushETag+PopETag", func() {
			f, _ := vntag.PushETag(vbuf, vntag.ETagLen, etag)
			sinkETag, _, sinkErr = vntag.PopETag(f)
		}},
		{"Validate", func() { sinkErr = tag.Validate() }},
		{"TagFields.Tag", func() { sinkTag, sinkErr = vntag.TagFields{DVIF: 7, SVIF: 9}.Tag() }},
		{"ETagFields.ETag", func() { sinkETag, sinkErr = vntag.ETagFields{ECIDBase: 197}.ETag() }},
		{"Upstream", func() { sinkTag, sinkErr = vntag.Upstream(9) }},
		{"ETagForECID", func() { sinkETag, sinkErr = vntag.ETagForECID(197) }},
	}
	for _, tc := range tests {
		if n := testing.AllocsPerRun(1000, tc.fn); n != 0 {
			t.Errorf("%s: %v allocs per run, want 0", tc.name, n)
		}
	}
}
