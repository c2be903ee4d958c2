package dissect

import (
	"encoding/binary"
	"math/rand/v2"
)

// genFrame builds a random Ethernet frame byte by byte, without the vntag
// package, so that the encoder is not the oracle of its own decoder: 0-3
// VLAN tags (0x8100, 0x88A8, 0x9100) before a VNTag or E-Tag with random
// field values (reserved bits included), 0-3 VLAN tags after it, a random
// inner type from a set tshark dissects without going back to Ethernet, and
// a total length from a runt to a 9000-byte jumbo.
func genFrame(r *rand.Rand) []byte {
	b := make([]byte, 12, 64)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	vlans := func() {
		for n := r.IntN(4); n > 0; n-- {
			tpid := []uint16{0x8100, 0x88A8, 0x9100}[r.IntN(3)]
			b = binary.BigEndian.AppendUint16(b, tpid)
			b = binary.BigEndian.AppendUint16(b, uint16(r.UintN(1<<16)))
		}
	}
	vlans()
	switch r.IntN(10) {
	case 0: // no NIV tag at all: plain VLAN stacks must decode alike too
	case 1, 2, 3, 4, 5:
		b = binary.BigEndian.AppendUint16(b, 0x8926)
		b = binary.BigEndian.AppendUint32(b, r.Uint32())
	default:
		b = binary.BigEndian.AppendUint16(b, 0x893F)
		b = binary.BigEndian.AppendUint32(b, r.Uint32())
		b = binary.BigEndian.AppendUint16(b, uint16(r.UintN(1<<16)))
	}
	vlans()
	inner := []uint16{0x0800, 0x86DD, 0x0806, 0x88B5, 0x88B6, 0x0842}[r.IntN(6)]
	if r.IntN(20) == 0 {
		inner = uint16(r.IntN(0x0600)) // an 802.3 length, or 1501-1535
		switch r.IntN(3) {
		case 0:
			inner = uint16(1490 + r.IntN(50))
		case 1:
			inner = uint16(r.IntN(2)) // 0 is special after the addresses
		}
	}
	b = binary.BigEndian.AppendUint16(b, inner)
	switch inner {
	case 0x0800: // IPv4, protocol 253 (experimental), 192.0.2.1 → 192.0.2.2
		b = append(b, 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 253, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2)
	case 0x86DD: // IPv6, no next header
		b = append(b, 0x60, 0, 0, 0, 0, 0, 59, 64)
		b = append(b, make([]byte, 32)...)
	}
	// Total length: mostly ordinary sizes, some runts (cutting into the
	// payload header), some jumbos.
	var n int
	switch r.IntN(4) {
	case 0:
		n = len(b) - r.IntN(min(len(b)-2, 60)) + 2 // a runt: may end inside the L3 header
		if n < 14 {
			n = 14
		}
	case 1:
		n = 1500 + r.IntN(7501)
	default:
		n = 60 + r.IntN(1455)
	}
	// Never cut into the tag stack: truncated tags are tested apart.
	if stack := stackLen(b); n < stack {
		n = stack
	}
	if n <= len(b) {
		return b[:n]
	}
	return append(b, make([]byte, n-len(b))...)
}

// stackLen returns the length of b's addresses, tags and final type field.
func stackLen(b []byte) int {
	off := 12
	for off+2 <= len(b) {
		switch binary.BigEndian.Uint16(b[off:]) {
		case 0x8100, 0x88A8, 0x9100:
			off += 4
		case 0x8926:
			off += 6
		case 0x893F:
			off += 8
		default:
			return off + 2
		}
	}
	return off
}
