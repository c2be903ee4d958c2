package vdp_test

import (
	"testing"

	"github.com/nivkit/niv/vdp"
)

var sinkPDU vdp.PDU

// BenchmarkDecode: lldpad's Associate request (L1, 53 bytes, one MAC/VID
// entry), decoded into a reused PDU.
func BenchmarkDecode(b *testing.B) {
	buf := unhex(b, specPDUs[0].hex)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if err := sinkPDU.Decode(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeFourEntries: GroupID/MAC/VID with four entries and a
// port-profile org TLV.
func BenchmarkDecodeFourEntries(b *testing.B) {
	v := vdp.VSI{Mode: vdp.TypeAssociate, TypeID: 7, IDFormat: vdp.VSIIDUUID, ID: uuidL1, FilterFormat: vdp.FilterGroupMACVID}
	for i := range 4 {
		v.Filters = append(v.Filters, vdp.Filter{GroupID: uint32(i + 1), MAC: [6]byte{2, 0, 0, 0, 0, byte(i)}, VID: uint16(10 + i)})
	}
	o, _ := vdp.ProfileOrg("web")
	v.Org = []vdp.Org{o}
	p := vdp.PDU{VSIs: []vdp.VSI{v}}
	buf, _ := p.AppendBinary(nil)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if err := sinkPDU.Decode(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncode: the L1 request appended to a reused buffer.
func BenchmarkEncode(b *testing.B) {
	p := specPDUs[0].want
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = p.AppendBinary(buf[:0])
	}
}
