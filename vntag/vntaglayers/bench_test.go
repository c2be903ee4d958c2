package vntaglayers_test

import (
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/nivkit/niv/vntag/vntaglayers"
)

var sinkErr error

// benchDLP decodes frame with a Sparse DecodingLayerParser holding
// Ethernet, Dot1Q and our two layers, stopping at IPv4. The Dot1Q frame is
// the baseline: the same stack with an 802.1Q tag where the others carry a
// NIV tag. Run with
//
//	go test ./vntag/vntaglayers -run '^$' -bench . -benchmem
func benchDLP(b *testing.B, hexFrame string, size int) {
	frame := unhex(b, hexFrame)
	frame = append(frame, make([]byte, size-len(frame))...)
	var (
		eth layers.Ethernet
		q   layers.Dot1Q
		vn  vntaglayers.VNTag
		et  vntaglayers.ETag
	)
	p := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet)
	dlc := gopacket.DecodingLayerContainer(gopacket.DecodingLayerSparse(nil))
	for _, d := range []gopacket.DecodingLayer{&eth, &q, &vn, &et} {
		dlc = dlc.Put(d)
	}
	p.SetDecodingLayerContainer(dlc)
	p.IgnoreUnsupported = true
	decoded := make([]gopacket.LayerType, 0, 4)
	b.ReportAllocs()
	b.SetBytes(int64(size))
	for b.Loop() {
		sinkErr = p.DecodeLayers(frame, &decoded)
	}
	if sinkErr != nil || len(decoded) != 2 {
		b.Fatalf("decode: %v %v", sinkErr, decoded)
	}
}

func BenchmarkDLPEthDot1Q(b *testing.B) {
	b.Run("64", func(b *testing.B) { benchDLP(b, "001122334455 00aabbccdd01 8100 6064 0800 45", 64) })
	b.Run("1500", func(b *testing.B) { benchDLP(b, "001122334455 00aabbccdd01 8100 6064 0800 45", 1500) })
}

func BenchmarkDLPEthVNTag(b *testing.B) {
	b.Run("64", func(b *testing.B) { benchDLP(b, "001122334455 00aabbccdd01 8926 80070009 0800 45", 64) })
	b.Run("1500", func(b *testing.B) { benchDLP(b, "001122334455 00aabbccdd01 8926 80070009 0800 45", 1500) })
}

func BenchmarkDLPEthETag(b *testing.B) {
	b.Run("64", func(b *testing.B) { benchDLP(b, "001122334455 00aabbccdd01 893f a00000c50000 0800 45", 64) })
	b.Run("1500", func(b *testing.B) { benchDLP(b, "001122334455 00aabbccdd01 893f a00000c50000 0800 45", 1500) })
}
