package lldp_test

import (
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/nivkit/niv/vdp/evb"
	"github.com/nivkit/niv/vdp/lldp"
)

var (
	sinkPDU lldp.PDU
	sinkEVB evb.TLV
)

func benchFrame() []byte {
	fr, _ := lldp.AppendFrame(nil, lldp.NearestCustomerBridge, [6]byte{2, 0, 0, 0, 0, 2}, []byte{4, 2, 0, 0, 0, 0, 2},
		[]byte{3, 2, 0, 0, 0, 0, 2}, 121, evb.TLV{RRCAP: true, R: 3, RTE: 14, Mode: evb.ModeBridge, RWD: 20, RKA: 20}.AppendTLV(nil))
	return fr
}

// BenchmarkDecodeEVB: an lldpad-sized LLDPDU (chassis, port, TTL, EVB TLV,
// 60 bytes) to the EVB TLV's fields, as the agent does for every frame.
func BenchmarkDecodeEVB(b *testing.B) {
	fr := benchFrame()
	b.ReportAllocs()
	b.SetBytes(int64(len(fr)))
	for b.Loop() {
		if err := sinkPDU.Decode(fr); err != nil {
			b.Fatal(err)
		}
		sinkEVB, _ = evb.Parse(sinkPDU.Org[0])
	}
}

// BenchmarkGopacketLLDP: the same frame through gopacket.NewPacket, the
// only way gopacket decodes LLDP (LinkLayerDiscovery is not a
// DecodingLayer), which stops at the raw org TLV: the baseline.
func BenchmarkGopacketLLDP(b *testing.B) {
	fr := benchFrame()
	b.ReportAllocs()
	b.SetBytes(int64(len(fr)))
	for b.Loop() {
		p := gopacket.NewPacket(fr, layers.LayerTypeEthernet, gopacket.NoCopy)
		if p.Layer(layers.LayerTypeLinkLayerDiscovery) == nil {
			b.Fatal("no LLDP layer")
		}
	}
}
