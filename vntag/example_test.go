package vntag_test

import (
	"fmt"

	"github.com/nivkit/niv/vntag"
)

// Decode the VNTag of the spec's example V4: a flood to vif list 66,
// looped back to the interface virtualizer of source vif 5.
func ExampleParseTag() {
	hdr := []byte{0x89, 0x26, 0xc0, 0x42, 0x80, 0x05, 0x08, 0x00}
	t, err := vntag.ParseTag(hdr)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(t.Direction(), "| vif list:", t.Pointer(), "| dvif:", t.DVIF(), "| prune svif:", t.Looped(), t.SVIF())
	fmt.Printf("%#08x %v\n", t.Word(), t)
	// Output:
	// From Bridge | vif list: true | dvif: 66 | prune svif: true 5
	// 0xc0428005 VNTag{dir=1 ptr=1 dst=66 looped=1 r=0 version=0 src=5 etype=0x0800}
}

// An interface virtualizer tags a frame from vif 5 in place: the buffer
// keeps headroom in front of the frame, so only the 12 MAC address bytes
// move and the payload is not copied. The bridge pops the tag the same way.
func ExamplePush() {
	const headroom = 16
	frame := []byte{
		0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, // DA, SA
		0x08, 0x00, // IPv4
		0x45, 0x00, // ...
	}
	buf := make([]byte, headroom+len(frame))
	copy(buf[headroom:], frame)

	up, err := vntag.Upstream(5)
	if err != nil {
		fmt.Println(err)
		return
	}
	tagged, err := vntag.Push(buf, headroom, up)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("% x\n", tagged)

	tag, untagged, err := vntag.Pop(tagged)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("svif", tag.SVIF(), "next", fmt.Sprintf("%#04x", tag.EtherType()))
	fmt.Printf("% x\n", untagged)
	// Output:
	// 02 00 00 00 00 02 02 00 00 00 00 01 89 26 00 00 00 05 08 00 45 00
	// svif 5 next 0x0800
	// 02 00 00 00 00 02 02 00 00 00 00 01 08 00 45 00
}

// Build a tag field by field; each field is checked against its width on
// the wire.
func ExampleTagFields() {
	t, err := vntag.TagFields{Direction: vntag.FromBridge, Pointer: true, DVIF: 66, Looped: true, SVIF: 5}.Tag()
	fmt.Println(t, err)
	_, err = vntag.TagFields{DVIF: 16384}.Tag()
	fmt.Println(err)
	// Output:
	// VNTag{dir=1 ptr=1 dst=66 looped=1 r=0 version=0 src=5 etype=0x0000} <nil>
	// vntag: VNTag dvif_id 16384: value out of range (max 16383)
}

// An 802.1BR multicast E-Tag: E-channel 0x123 under GRP 1, with the
// ingress extended port 197 to prune.
func ExampleETagFields() {
	e, err := vntag.ETagFields{GRP: 1, ECIDBase: 0x123, IngressECIDBase: 197, EtherType: 0x0800}.ETag()
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := e.MarshalBinary()
	fmt.Printf("% x\n", b)
	fmt.Println("multicast", e.Multicast(), "E-CID", e.ECID(), "Ingress_E-CID", e.IngressECID())
	// Output:
	// 89 3f 00 c5 11 23 00 00 08 00
	// multicast true E-CID 291 Ingress_E-CID 197
}

// Walk a frame's tag stack: an 802.1Q tag, a VNTag, another 802.1Q tag
// (the layout of the Zeek "VLAN sandwich" capture).
func ExampleTags() {
	frame := []byte{
		0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1,
		0x81, 0x00, 0x00, 0xfa,
		0x89, 0x26, 0x00, 0x00, 0x00, 0x33,
		0x81, 0x00, 0x00, 0xfa,
		0x08, 0x00,
	}
	it := vntag.Tags(frame)
	for it.Next() {
		switch k := it.Kind(); {
		case k.IsVLAN():
			fmt.Println(it.Offset(), k, "vid", it.TCI()&0xfff)
		case k == vntag.KindVNTag:
			fmt.Println(it.Offset(), k, "svif", it.Tag().SVIF())
		}
	}
	fmt.Printf("payload %#04x at %d, err %v\n", it.EtherType(), it.PayloadOffset(), it.Err())
	// Output:
	// 12 802.1Q vid 250
	// 16 VNTag svif 51
	// 22 802.1Q vid 250
	// payload 0x0800 at 28, err <nil>
}

// A data path finds the NIV tag wherever the VLAN tags put it, without
// allocating, even for frames it rejects.
func ExampleFindTag() {
	untagged := []byte{0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x08, 0x00}
	_, _, err := vntag.FindTag(untagged)
	fmt.Println(err)
	// Output:
	// vntag: no such tag in the frame
}
