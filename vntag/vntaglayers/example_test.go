package vntaglayers_test

import (
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/nivkit/niv/vntag/vntaglayers"
)

// Importing vntaglayers is enough for gopacket to decode through a VNTag:
// here the spec's example V2, a downstream frame for vif 291 with a C-tag
// for VLAN 100 inside.
func Example() {
	frame := []byte{
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0xaa, 0xbb, 0xcc, 0xdd, 0x01,
		0x89, 0x26, 0x81, 0x23, 0x00, 0x00, // VNTag: d=1, dvif 291
		0x81, 0x00, 0x00, 0x64, // 802.1Q VLAN 100
		0x08, 0x00, 0x45, 0x00, 0x00, 0x14, 0, 0, 0, 0, 64, 253, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,
	}
	pk := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
	for _, l := range pk.Layers() {
		fmt.Println(l.LayerType())
	}
	v := pk.Layer(vntaglayers.LayerTypeVNTag).(*vntaglayers.VNTag)
	fmt.Println(v.Tag)
	// Output:
	// Ethernet
	// VNTag
	// Dot1Q
	// IPv4
	// VNTag{dir=1 ptr=0 dst=291 looped=0 r=0 version=0 src=0 etype=0x8100}
}

// A DecodingLayerParser decodes into preallocated layers, without
// allocating.
func ExampleETag_dlp() {
	frame := []byte{
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0xaa, 0xbb, 0xcc, 0xdd, 0x01,
		0x89, 0x3f, 0x00, 0xc5, 0x11, 0x23, 0x00, 0x00, // E-Tag: GRP 1, E-CID 0x123, prune 197
		0x08, 0x00, 0x45, 0x00, 0x00, 0x14, 0, 0, 0, 0, 64, 253, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,
	}
	var (
		eth  layers.Ethernet
		etag vntaglayers.ETag
		ip4  layers.IPv4
	)
	p := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &etag, &ip4)
	p.IgnoreUnsupported = true
	var decoded []gopacket.LayerType
	if err := p.DecodeLayers(frame, &decoded); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(decoded)
	fmt.Println("multicast:", etag.ETag.Multicast(), "E-CID:", etag.ETag.ECID(), "prune:", etag.ETag.IngressECID(), "to", ip4.DstIP)
	// Output:
	// [Ethernet ETag IPv4]
	// multicast: true E-CID: 291 prune: 197 to 192.0.2.2
}
