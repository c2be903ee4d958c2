package profile

import (
	"encoding/binary"
	"net/netip"
)

// Action is what an access-list entry does with a matching frame.
type Action uint8

// ACL actions.
const (
	Permit Action = iota
	Deny
)

// String returns "permit" or "deny", as in an access-list line.
func (a Action) String() string {
	if a == Deny {
		return "deny"
	}
	return "permit"
}

// Protocol is the IP protocol an ip access-list entry matches, 0-255, or
// AnyProtocol for the keyword "ip".
type Protocol uint16

// Well-known protocols; the parser and printer use their names.
const (
	ProtoICMP   Protocol = 1
	ProtoTCP    Protocol = 6
	ProtoUDP    Protocol = 17
	AnyProtocol Protocol = 256
)

func (p Protocol) hasPorts() bool { return p == ProtoTCP || p == ProtoUDP }

// PortOp is the operator of a TCP/UDP port match.
type PortOp uint8

// Port operators, spelled as in NX-OS access lists.
const (
	PortAny   PortOp = iota // no port condition
	PortEq                  // eq P
	PortNeq                 // neq P
	PortLt                  // lt P: below P
	PortGt                  // gt P: above P
	PortRange               // range P LAST, inclusive
)

// PortMatch is a condition on a TCP or UDP port.
type PortMatch struct {
	Op   PortOp
	Port uint16
	Last uint16 // only for PortRange
}

// Match reports whether port satisfies the condition.
func (m PortMatch) Match(port uint16) bool {
	switch m.Op {
	case PortEq:
		return port == m.Port
	case PortNeq:
		return port != m.Port
	case PortLt:
		return port < m.Port
	case PortGt:
		return port > m.Port
	case PortRange:
		return port >= m.Port && port <= m.Last
	}
	return true
}

// ranges appends the inclusive port intervals the condition accepts.
func (m PortMatch) ranges(dst []span) []span {
	switch m.Op {
	case PortEq:
		return append(dst, span{uint32(m.Port), uint32(m.Port)})
	case PortNeq:
		if m.Port > 0 {
			dst = append(dst, span{0, uint32(m.Port) - 1})
		}
		if m.Port < 65535 {
			dst = append(dst, span{uint32(m.Port) + 1, 65535})
		}
		return dst
	case PortLt:
		return append(dst, span{0, uint32(m.Port) - 1})
	case PortGt:
		return append(dst, span{uint32(m.Port) + 1, 65535})
	case PortRange:
		return append(dst, span{uint32(m.Port), uint32(m.Last)})
	}
	return append(dst, span{0, 65535})
}

// IPEntry is one line of an ip access-list:
//
//	SEQ {permit|deny} PROTOCOL SOURCE [PORT] DESTINATION [PORT]
//
// Source and Destination are IPv4 prefixes with host bits cleared; 0.0.0.0/0
// is "any", a /32 is "host A.B.C.D". Port conditions need tcp or udp.
type IPEntry struct {
	Seq             uint32
	Action          Action
	Protocol        Protocol
	Source          netip.Prefix
	SourcePort      PortMatch
	Destination     netip.Prefix
	DestinationPort PortMatch
}

// Matches reports whether the IPv4 frame f matches the entry. Frames without
// an IPv4 header never match.
func (e *IPEntry) Matches(f *Frame) bool {
	if !f.SrcIP.Is4() || !f.DstIP.Is4() {
		return false
	}
	if e.Protocol != AnyProtocol && uint8(e.Protocol) != f.Protocol {
		return false
	}
	return e.Source.Contains(f.SrcIP) && e.Destination.Contains(f.DstIP) &&
		e.SourcePort.Match(f.SrcPort) && e.DestinationPort.Match(f.DstPort)
}

// IPACL is a named ip access-list: entries in ascending Seq order, evaluated
// first match wins, with an implicit deny after the last entry.
type IPACL struct {
	Name    string
	Entries []IPEntry
}

// FirstMatch scans the entries in order and returns the index of the first
// one f matches, or -1. It is the reference ("naive") lookup the compiled
// classifier must agree with, and the baseline of the benchmarks.
func (a *IPACL) FirstMatch(f *Frame) int {
	for i := range a.Entries {
		if a.Entries[i].Matches(f) {
			return i
		}
	}
	return -1
}

// MACEntry is one line of a mac access-list:
//
//	SEQ {permit|deny} SOURCE DESTINATION [ETHERTYPE] [vlan VLAN]
//
// SOURCE and DESTINATION are "any", "host MAC" or "MAC MASK". As on NX-OS the
// mask is a wildcard: a 1 bit means "don't care". Addresses are stored with
// the wildcard bits cleared. EtherType 0 and VLAN 0 match any.
type MACEntry struct {
	Seq             uint32
	Action          Action
	Source          [6]byte
	SourceMask      [6]byte
	Destination     [6]byte
	DestinationMask [6]byte
	EtherType       uint16
	VLAN            uint16
}

// Matches reports whether the frame f, classified into vlan, matches.
func (e *MACEntry) Matches(f *Frame, vlan uint16) bool {
	return macMatch(f.Src, e.Source, e.SourceMask) &&
		macMatch(f.Dst, e.Destination, e.DestinationMask) &&
		(e.EtherType == 0 || e.EtherType == f.EtherType) &&
		(e.VLAN == 0 || e.VLAN == vlan)
}

func macMatch(mac, want, wildcard [6]byte) bool {
	var m, w, c [8]byte
	copy(m[:], mac[:])
	copy(w[:], want[:])
	copy(c[:], wildcard[:])
	return binary.LittleEndian.Uint64(m[:])&^binary.LittleEndian.Uint64(c[:]) == binary.LittleEndian.Uint64(w[:])
}

// MACACL is a named mac access-list: entries in ascending Seq order, first
// match wins, implicit deny after the last entry.
type MACACL struct {
	Name    string
	Entries []MACEntry
}

// FirstMatch is the naive first-match scan; see IPACL.FirstMatch.
func (a *MACACL) FirstMatch(f *Frame, vlan uint16) int {
	for i := range a.Entries {
		if a.Entries[i].Matches(f, vlan) {
			return i
		}
	}
	return -1
}
