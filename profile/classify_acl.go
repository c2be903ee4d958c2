package profile

import (
	"encoding/binary"
	"net/netip"
)

// Compilation of ip and mac access lists to classifiers, and the key vectors
// a frame gives them.

// Key positions of an ip access-list classifier.
const (
	ipKeySrc = iota
	ipKeyDst
	ipKeyProto
	ipKeySrcPort
	ipKeyDstPort
)

// compiledACL is an access list ready for the fast path.
type compiledACL struct {
	cls     *classifier
	actions []Action
}

// prefixSpan is the address interval of an IPv4 prefix; nothing for an
// invalid or IPv6 prefix, which matches no IPv4 frame.
func prefixSpan(p netip.Prefix) []span {
	if !p.IsValid() || !p.Addr().Is4() {
		return nil
	}
	a := p.Addr().As4()
	addr := binary.BigEndian.Uint32(a[:])
	if p.Bits() <= 0 {
		return []span{{0, ^uint32(0)}}
	}
	mask := ^uint32(0) << (32 - p.Bits())
	return []span{{addr & mask, addr | ^mask}}
}

func compileIPACL(a *IPACL) *compiledACL {
	n := len(a.Entries)
	specs := []fieldSpec{
		{key: ipKeySrc, max: ^uint32(0), spans: make([][]span, n)},
		{key: ipKeyDst, max: ^uint32(0), spans: make([][]span, n)},
		{key: ipKeyProto, max: 255, spans: make([][]span, n)},
		{key: ipKeySrcPort, max: 65535, spans: make([][]span, n)},
		{key: ipKeyDstPort, max: 65535, spans: make([][]span, n)},
	}
	actions := make([]Action, n)
	for i := range a.Entries {
		e := &a.Entries[i]
		actions[i] = e.Action
		specs[0].spans[i] = prefixSpan(e.Source)
		specs[1].spans[i] = prefixSpan(e.Destination)
		if e.Protocol == AnyProtocol {
			specs[2].spans[i] = []span{{0, 255}}
		} else {
			specs[2].spans[i] = []span{{uint32(e.Protocol), uint32(e.Protocol)}}
		}
		specs[3].spans[i] = e.SourcePort.ranges(nil)
		specs[4].spans[i] = e.DestinationPort.ranges(nil)
	}
	return &compiledACL{cls: buildClassifier(n, specs), actions: actions}
}

// ipKeys fills the key vector of an IPv4 frame.
func ipKeys(f *Frame, k *keyVector) {
	src, dst := f.SrcIP.As4(), f.DstIP.As4()
	k[ipKeySrc] = binary.BigEndian.Uint32(src[:])
	k[ipKeyDst] = binary.BigEndian.Uint32(dst[:])
	k[ipKeyProto] = uint32(f.Protocol)
	k[ipKeySrcPort] = uint32(f.SrcPort)
	k[ipKeyDstPort] = uint32(f.DstPort)
}

// Key positions of a mac access-list classifier: bytes 0-5 source MAC,
// 6-11 destination MAC, then EtherType and VLAN.
const (
	macKeyEtherType = 12
	macKeyVLAN      = 13
)

func compileMACACL(a *MACACL) *compiledACL {
	n := len(a.Entries)
	specs := make([]fieldSpec, 14)
	for k := range 12 {
		specs[k] = fieldSpec{key: k, max: 255, direct: true, spans: make([][]span, n)}
	}
	specs[macKeyEtherType] = fieldSpec{key: macKeyEtherType, max: 65535, spans: make([][]span, n)}
	specs[macKeyVLAN] = fieldSpec{key: macKeyVLAN, max: 4095, spans: make([][]span, n)}
	actions := make([]Action, n)
	for i := range a.Entries {
		e := &a.Entries[i]
		actions[i] = e.Action
		for k := range 6 {
			specs[k].spans[i] = byteSpans(e.Source[k], e.SourceMask[k])
			specs[6+k].spans[i] = byteSpans(e.Destination[k], e.DestinationMask[k])
		}
		specs[macKeyEtherType].spans[i] = exactOrAny(uint32(e.EtherType), 65535)
		specs[macKeyVLAN].spans[i] = exactOrAny(uint32(e.VLAN), 4095)
	}
	return &compiledACL{cls: buildClassifier(n, specs), actions: actions}
}

// byteSpans lists the byte values v with v &^ wildcard == want.
func byteSpans(want, wildcard byte) []span {
	if wildcard == 0xff {
		return []span{{0, 255}}
	}
	var out []span
	for v := range 256 {
		if byte(v)&^wildcard == want {
			out = append(out, span{uint32(v), uint32(v)})
		}
	}
	return out
}

// exactOrAny is the span of value v, where 0 means any value up to max.
func exactOrAny(v, max uint32) []span {
	if v == 0 {
		return []span{{0, max}}
	}
	return []span{{v, v}}
}

// macKeys fills the key vector of a frame classified into vlan.
func macKeys(f *Frame, vlan uint16, k *keyVector) {
	for i := range 6 {
		k[i] = uint32(f.Src[i])
		k[6+i] = uint32(f.Dst[i])
	}
	k[macKeyEtherType] = uint32(f.EtherType)
	k[macKeyVLAN] = uint32(vlan)
}
