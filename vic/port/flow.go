package port

import "encoding/binary"

// flowQueue returns which of n queues frame b's flow goes on: a hash of
// its IP addresses and, for TCP and UDP, its ports, the same for both
// directions of the flow (the kernel's TAP steers a flow to the queue its
// frames were last written to, by a hash of its own that is symmetric
// too), or 0 for a frame that is not IP. One 802.1Q tag may precede the
// EtherType.
func flowQueue(b []byte, n int) int {
	if n <= 1 || len(b) < 14 {
		return 0
	}
	et, off := binary.BigEndian.Uint16(b[12:]), 14
	if et == 0x8100 && len(b) >= 18 {
		et, off = binary.BigEndian.Uint16(b[16:]), 18
	}
	var h uint32
	var proto byte
	l4 := 0
	switch ip := b[off:]; {
	case et == 0x0800 && len(ip) >= 20:
		h = binary.BigEndian.Uint32(ip[12:]) ^ binary.BigEndian.Uint32(ip[16:])
		proto = ip[9]
		if binary.BigEndian.Uint16(ip[6:])&0x3fff == 0 { // not a fragment
			l4 = off + int(ip[0]&0xf)*4
		}
	case et == 0x86dd && len(ip) >= 40:
		for i := 8; i < 40; i += 4 {
			h ^= binary.BigEndian.Uint32(ip[i:])
		}
		proto, l4 = ip[6], off+40
	default:
		return 0
	}
	if (proto == 6 || proto == 17) && l4 > 0 && len(b) >= l4+4 {
		h ^= uint32(binary.BigEndian.Uint16(b[l4:]) ^ binary.BigEndian.Uint16(b[l4+2:]))
	}
	h ^= uint32(proto)
	h *= 0x9e3779b1 // spread the bits before taking the high ones
	return int(uint64(h) * uint64(n) >> 32)
}
