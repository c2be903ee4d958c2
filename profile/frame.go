package profile

import (
	"encoding/binary"
	"net/netip"
)

// Frame is the metadata of one frame that a policy decides on. The caller
// (the VIS) fills it from the frame's bytes, in place, without allocating;
// Load does so from an Ethernet frame.
type Frame struct {
	// Dir is In for frames from the VM, Out for frames toward it.
	Dir Direction
	// Dst and Src are the Ethernet destination and source MACs.
	Dst, Src [6]byte
	// VLAN is the 802.1Q VID of the frame's outermost customer tag, or 0 if
	// the frame is untagged or priority-tagged. For Out frames it is the VLAN
	// the switch forwards the frame in.
	VLAN uint16
	// EtherType is the type after any VLAN tag (0x0800 for IPv4).
	EtherType uint16
	// SrcIP and DstIP are the IPv4 addresses, or the zero Addr when the frame
	// carries no IPv4 header; ip access-lists only apply when both are IPv4.
	SrcIP, DstIP netip.Addr
	// Protocol is the IP protocol; SrcPort and DstPort the TCP/UDP ports
	// (zero for other protocols and non-first fragments).
	Protocol         uint8
	SrcPort, DstPort uint16
	// Len is the frame length in bytes, as counted by the policer.
	Len uint32
}

// EtherType values Load understands.
const (
	etherTypeIPv4  = 0x0800
	etherTypeDot1Q = 0x8100
)

// Load fills f from an Ethernet frame b (with at most one 802.1Q tag) seen in
// direction dir. It reads in place and never allocates. It reports false for
// frames shorter than an Ethernet header; a truncated IPv4 header leaves the
// IP fields zero.
func (f *Frame) Load(dir Direction, b []byte) bool {
	*f = Frame{Dir: dir, Len: uint32(len(b))}
	if len(b) < 14 {
		return false
	}
	f.Dst = [6]byte(b[0:6])
	f.Src = [6]byte(b[6:12])
	et := binary.BigEndian.Uint16(b[12:])
	p := b[14:]
	if et == etherTypeDot1Q {
		if len(p) < 4 {
			return false
		}
		f.VLAN = binary.BigEndian.Uint16(p) & 0x0fff
		et = binary.BigEndian.Uint16(p[2:])
		p = p[4:]
	}
	f.EtherType = et
	if et != etherTypeIPv4 || len(p) < 20 || p[0]>>4 != 4 {
		return true
	}
	ihl := int(p[0]&0x0f) * 4
	if ihl < 20 || len(p) < ihl {
		return true
	}
	f.Protocol = p[9]
	f.SrcIP = netip.AddrFrom4([4]byte(p[12:16]))
	f.DstIP = netip.AddrFrom4([4]byte(p[16:20]))
	firstFragment := binary.BigEndian.Uint16(p[6:])&0x1fff == 0
	if (f.Protocol == uint8(ProtoTCP) || f.Protocol == uint8(ProtoUDP)) && firstFragment && len(p) >= ihl+4 {
		f.SrcPort = binary.BigEndian.Uint16(p[ihl:])
		f.DstPort = binary.BigEndian.Uint16(p[ihl+2:])
	}
	return true
}
