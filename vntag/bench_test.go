package vntag_test

import (
	"encoding/binary"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/nivkit/niv/vntag"
)

// Benchmarks of the codec beside the gopacket baseline the issue names:
// gopacket's DecodingLayerParser over Ethernet+Dot1Q on the same frame with
// the 802.1Q tag where ours has the NIV tag. Read the ratio from one run:
//
//	go test ./vntag -run '^$' -bench . -benchmem
var (
	sinkTag  vntag.Tag
	sinkETag vntag.ETag
	sinkErr  error
	sinkInt  int
	sinkU16  uint16
	sinkU32  uint32
)

// taggedFrame returns a frame of size bytes: Ethernet, the tag of kind k
// (VNTag d=1 dvif 7 svif 9, E-Tag E-CID 197, or an 802.1Q tag VID 100), IPv4
// and zero padding.
func taggedFrame(tb testing.TB, size int, k vntag.Kind) []byte {
	tb.Helper()
	f := make([]byte, size)
	copy(f, []byte{0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1})
	off := vntag.AddrLen
	switch k {
	case vntag.KindVNTag:
		n, err := mustTag(tb, vntag.TagFields{Direction: vntag.FromBridge, DVIF: 7, SVIF: 9, EtherType: 0x0800}).Put(f[off:])
		if err != nil {
			tb.Fatal(err)
		}
		off += n
	case vntag.KindETag:
		n, err := mustETag(tb, vntag.ETagFields{ECIDBase: 197, EtherType: 0x0800}).Put(f[off:])
		if err != nil {
			tb.Fatal(err)
		}
		off += n
	case vntag.KindDot1Q:
		binary.BigEndian.PutUint16(f[off:], 0x8100)
		binary.BigEndian.PutUint16(f[off+2:], 3<<13|100)
		binary.BigEndian.PutUint16(f[off+4:], 0x0800)
		off += 6
	}
	copy(f[off:], []byte{0x45, 0, 0, 20, 0, 0, 0, 0, 64, 253, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2})
	return f
}

var sizes = []struct {
	name string
	n    int
}{{"64", 64}, {"1500", 1500}}

// BenchmarkGopacketDot1Q is the baseline: gopacket's DecodingLayerParser
// decoding Ethernet and the 802.1Q tag, stopping at IPv4.
func BenchmarkGopacketDot1Q(b *testing.B) {
	for _, s := range sizes {
		b.Run(s.name, func(b *testing.B) {
			frame := taggedFrame(b, s.n, vntag.KindDot1Q)
			var (
				eth layers.Ethernet
				q   layers.Dot1Q
			)
			p := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &q)
			p.IgnoreUnsupported = true
			decoded := make([]gopacket.LayerType, 0, 4)
			b.ReportAllocs()
			b.SetBytes(int64(s.n))
			for b.Loop() {
				sinkErr = p.DecodeLayers(frame, &decoded)
			}
			if sinkErr != nil || len(decoded) != 2 {
				b.Fatalf("decode: %v %v", sinkErr, decoded)
			}
			sinkU16 = q.VLANIdentifier
		})
	}
}

// BenchmarkDecodeVNTag: find the tag in the frame (through any VLAN tags)
// and decode every field into a Tag.
func BenchmarkDecodeVNTag(b *testing.B) {
	for _, s := range sizes {
		b.Run(s.name, func(b *testing.B) {
			frame := taggedFrame(b, s.n, vntag.KindVNTag)
			b.ReportAllocs()
			b.SetBytes(int64(s.n))
			for b.Loop() {
				h, _, err := vntag.FrameTag(frame)
				if err == nil {
					sinkTag = h.Tag()
				}
			}
		})
	}
}

// BenchmarkParseTag: decode every field of the VNTag at a known offset.
func BenchmarkParseTag(b *testing.B) {
	hdr := taggedFrame(b, 64, vntag.KindVNTag)[vntag.AddrLen:]
	b.ReportAllocs()
	for b.Loop() {
		t, err := vntag.ParseTag(hdr)
		if err != nil {
			b.Fatal(err)
		}
		sinkTag = t
	}
}

// BenchmarkTagHeaderOf: the zero-copy view at a known offset, reading the
// two vif ids a forwarding core needs.
func BenchmarkTagHeaderOf(b *testing.B) {
	frame := taggedFrame(b, 64, vntag.KindVNTag)
	b.ReportAllocs()
	for b.Loop() {
		h, err := vntag.TagHeaderOf(frame[vntag.AddrLen:])
		if err == nil {
			sinkU16 = h.DVIF() ^ h.SVIF()
		}
	}
}

// BenchmarkFindTag: where is the NIV tag, through any VLAN tags.
func BenchmarkFindTag(b *testing.B) {
	frame := taggedFrame(b, 64, vntag.KindVNTag)
	b.ReportAllocs()
	for b.Loop() {
		_, sinkInt, sinkErr = vntag.FindTag(frame)
	}
}

func BenchmarkDecodeETag(b *testing.B) {
	for _, s := range sizes {
		b.Run(s.name, func(b *testing.B) {
			frame := taggedFrame(b, s.n, vntag.KindETag)
			b.ReportAllocs()
			b.SetBytes(int64(s.n))
			for b.Loop() {
				h, _, err := vntag.FrameETag(frame)
				if err == nil {
					sinkETag = h.ETag()
				}
			}
		})
	}
}

func BenchmarkParseETag(b *testing.B) {
	hdr := taggedFrame(b, 64, vntag.KindETag)[vntag.AddrLen:]
	b.ReportAllocs()
	for b.Loop() {
		e, err := vntag.ParseETag(hdr)
		if err != nil {
			b.Fatal(err)
		}
		sinkETag = e
	}
}

func BenchmarkEncodeVNTag(b *testing.B) {
	out := make([]byte, vntag.TagHeaderLen)
	t := mustTag(b, vntag.TagFields{Direction: vntag.FromBridge, DVIF: 7, SVIF: 9, EtherType: 0x0800})
	b.ReportAllocs()
	for b.Loop() {
		sinkInt, sinkErr = t.Put(out)
	}
}

func BenchmarkEncodeETag(b *testing.B) {
	out := make([]byte, vntag.ETagHeaderLen)
	e := mustETag(b, vntag.ETagFields{PCP: 5, ECIDBase: 197, EtherType: 0x0800})
	b.ReportAllocs()
	for b.Loop() {
		sinkInt, sinkErr = e.Put(out)
	}
}

// pushPop runs push on a frame with headroom and undoes it with pop outside
// the timed section's cost model: each iteration is one Push and one Pop,
// and the two are also timed apart below.
func benchPush(b *testing.B, k vntag.Kind) {
	for _, s := range sizes {
		b.Run(s.name, func(b *testing.B) {
			plain := taggedFrame(b, s.n, vntag.KindNone)
			buf := make([]byte, 16+s.n)
			copy(buf[16:], plain)
			tag := mustTag(b, vntag.TagFields{Direction: vntag.FromBridge, DVIF: 7, SVIF: 9})
			etag := mustETag(b, vntag.ETagFields{ECIDBase: 197})
			b.ReportAllocs()
			b.SetBytes(int64(s.n))
			for b.Loop() {
				// Push from the same start every time: the MAC bytes at
				// buf[16:28] are intact, since Push only reads them.
				var f []byte
				if k == vntag.KindVNTag {
					f, sinkErr = vntag.Push(buf, 16, tag)
				} else {
					f, sinkErr = vntag.PushETag(buf, 16, etag)
				}
				sinkInt = len(f)
			}
		})
	}
}

func benchPop(b *testing.B, k vntag.Kind) {
	for _, s := range sizes {
		b.Run(s.name, func(b *testing.B) {
			tagged := taggedFrame(b, s.n, k)
			work := make([]byte, len(tagged))
			copy(work, tagged)
			// Pop moves the 12 address bytes over the tag; three stores of
			// the original first 20 bytes put the tagged frame back.
			w0 := binary.NativeEndian.Uint64(tagged)
			w1 := binary.NativeEndian.Uint64(tagged[8:])
			w2 := binary.NativeEndian.Uint32(tagged[16:])
			b.ReportAllocs()
			b.SetBytes(int64(s.n))
			for b.Loop() {
				binary.NativeEndian.PutUint64(work, w0)
				binary.NativeEndian.PutUint64(work[8:], w1)
				binary.NativeEndian.PutUint32(work[16:], w2)
				if k == vntag.KindVNTag {
					sinkTag, _, sinkErr = vntag.Pop(work)
				} else {
					sinkETag, _, sinkErr = vntag.PopETag(work)
				}
			}
			if sinkErr != nil {
				b.Fatal(sinkErr)
			}
		})
	}
}

// BenchmarkPopRestoreOnly is the part of BenchmarkPop* that is not Pop:
// putting the tagged frame's first 20 bytes back.
func BenchmarkPopRestoreOnly(b *testing.B) {
	tagged := taggedFrame(b, 64, vntag.KindVNTag)
	work := make([]byte, len(tagged))
	w0 := binary.NativeEndian.Uint64(tagged)
	w1 := binary.NativeEndian.Uint64(tagged[8:])
	w2 := binary.NativeEndian.Uint32(tagged[16:])
	b.ReportAllocs()
	for b.Loop() {
		binary.NativeEndian.PutUint64(work, w0)
		binary.NativeEndian.PutUint64(work[8:], w1)
		binary.NativeEndian.PutUint32(work[16:], w2)
	}
	sinkU32 = binary.NativeEndian.Uint32(work)
}

func BenchmarkPushVNTag(b *testing.B) { benchPush(b, vntag.KindVNTag) }
func BenchmarkPopVNTag(b *testing.B)  { benchPop(b, vntag.KindVNTag) }
func BenchmarkPushETag(b *testing.B)  { benchPush(b, vntag.KindETag) }
func BenchmarkPopETag(b *testing.B)   { benchPop(b, vntag.KindETag) }

// BenchmarkPushCopyOut is the alternative Push avoids: copying the frame
// into a second buffer with the tag inserted.
func BenchmarkPushCopyOut(b *testing.B) {
	for _, s := range sizes {
		b.Run(s.name, func(b *testing.B) {
			plain := taggedFrame(b, s.n, vntag.KindNone)
			out := make([]byte, s.n+vntag.TagLen)
			hdr, _ := mustTag(b, vntag.TagFields{DVIF: 7, SVIF: 9}).MarshalBinary()
			b.ReportAllocs()
			b.SetBytes(int64(s.n))
			for b.Loop() {
				copy(out, plain[:vntag.AddrLen])
				copy(out[vntag.AddrLen:], hdr[:vntag.TagLen])
				copy(out[vntag.AddrLen+vntag.TagLen:], plain[vntag.AddrLen:])
			}
		})
	}
}
