package profile

import (
	"net/netip"
	"strings"
	"unicode"

	"pgregory.net/rapid"
)

// Generators of valid configuration objects for the property tests. Every
// value is one the parser can produce, so that print → parse must give it
// back.

var genName = rapid.SampledFrom([]string{"server", "web", "db", "500", "uplink-1", "a.b", "X_1", "grp:2", "p/3"})

func genVLAN() *rapid.Generator[uint16] {
	return rapid.Custom(func(t *rapid.T) uint16 { return uint16(rapid.IntRange(MinVLAN, MaxVLAN).Draw(t, "vlan")) })
}

func genVLANSet(nonEmpty bool) *rapid.Generator[VLANSet] {
	return rapid.Custom(func(t *rapid.T) VLANSet {
		var s VLANSet
		switch rapid.IntRange(0, 3).Draw(t, "shape") {
		case 0:
			if !nonEmpty {
				return s
			}
			s.Add(genVLAN().Draw(t, "one"))
		case 1:
			return AllVLANs()
		default:
			for range rapid.IntRange(1, 5).Draw(t, "ranges") {
				lo := genVLAN().Draw(t, "lo")
				hi := min(MaxVLAN, int(lo)+rapid.IntRange(0, 50).Draw(t, "len"))
				s.AddRange(lo, uint16(hi))
			}
		}
		return s
	})
}

// genSettings draws settings whose Set is random and whose unset fields are
// zero, as the parser leaves them.
func genSettings(t *rapid.T) Settings {
	var s Settings
	s.Set = Attrs(rapid.Uint32Range(0, 1<<attrCount-1).Draw(t, "set"))
	if s.Set&AttrMode != 0 {
		s.Mode = Mode(rapid.IntRange(0, 1).Draw(t, "mode"))
	}
	if s.Set&AttrAccessVLAN != 0 {
		s.AccessVLAN = genVLAN().Draw(t, "access")
	}
	if s.Set&AttrAllowedVLANs != 0 {
		s.AllowedVLANs = genVLANSet(false).Draw(t, "allowed")
	}
	if s.Set&AttrNativeVLAN != 0 {
		s.NativeVLAN = genVLAN().Draw(t, "native")
	}
	if s.Set&AttrSystemVLANs != 0 {
		s.SystemVLANs = genVLANSet(true).Draw(t, "system")
	}
	for d := In; d <= Out; d++ {
		if s.Set&aclAttr(false, d) != 0 {
			s.IPAccessGroup[d] = genName.Draw(t, "ipacl")
		}
		if s.Set&aclAttr(true, d) != 0 {
			s.MACAccessGroup[d] = genName.Draw(t, "macacl")
		}
		if s.Set&qosAttr(d) != 0 {
			s.ServicePolicy[d] = genName.Draw(t, "qos")
		}
	}
	if s.Set&AttrPortSecurity != 0 {
		s.PortSecurity = rapid.Bool().Draw(t, "portsec")
	}
	if s.Set&AttrSecureMax != 0 {
		s.SecureMax = uint16(rapid.IntRange(1, MaxSecureMACs).Draw(t, "max"))
	}
	if s.Set&AttrViolation != 0 {
		s.Violation = Violation(rapid.IntRange(0, 2).Draw(t, "violation"))
	}
	if s.Set&AttrShutdown != 0 {
		s.Shutdown = rapid.Bool().Draw(t, "shutdown")
	}
	return s
}

var genWord = rapid.StringOfN(rapid.RuneFrom(nil, &unicode.RangeTable{
	R16: []unicode.Range16{{Lo: '!', Hi: '~', Stride: 1}, {Lo: 0xe9, Hi: 0xfc, Stride: 1}},
}), 1, 12, -1)

func genProfile(t *rapid.T, name string) Profile {
	p := Profile{Name: name, Type: Type(rapid.IntRange(0, 1).Draw(t, "type")), Settings: genSettings(t)}
	if rapid.Bool().Draw(t, "hasDesc") {
		p.Description = strings.Join(rapid.SliceOfN(genWord, 1, 6).Draw(t, "desc"), " ")
	}
	if rapid.Bool().Draw(t, "hasParent") {
		if parent := genName.Draw(t, "parent"); parent != name {
			p.Inherit = parent
		}
	}
	p.Enabled = rapid.Bool().Draw(t, "enabled")
	p.MaxPorts = uint16(rapid.IntRange(0, MaxPortsLimit).Draw(t, "maxports"))
	if p.HasPortGroup = rapid.Bool().Draw(t, "pg"); p.HasPortGroup && rapid.Bool().Draw(t, "pgname") {
		p.PortGroup = genName.Draw(t, "pgn")
	}
	p.Binding = PortBinding(rapid.IntRange(0, 2).Draw(t, "binding"))
	return p
}

// Small pools of addresses and ports make generated frames hit generated
// entries often, so the ACL property compares matches, not only misses.
var (
	genAddr = rapid.Custom(func(t *rapid.T) netip.Addr {
		pool := []string{"10.0.0.1", "10.0.0.200", "10.1.2.3", "192.0.2.1", "192.0.2.77", "0.0.0.0", "255.255.255.255", "172.16.5.4"}
		if rapid.IntRange(0, 4).Draw(t, "rand") == 0 {
			return netip.AddrFrom4([4]byte{byte(rapid.Byte().Draw(t, "a")), 10, 0, byte(rapid.Byte().Draw(t, "d"))})
		}
		return netip.MustParseAddr(rapid.SampledFrom(pool).Draw(t, "addr"))
	})
	genPort = rapid.Custom(func(t *rapid.T) uint16 {
		return rapid.SampledFrom([]uint16{0, 1, 22, 53, 79, 80, 81, 443, 1023, 1024, 8080, 65534, 65535}).Draw(t, "port")
	})
	genProto = rapid.SampledFrom([]Protocol{AnyProtocol, ProtoICMP, ProtoTCP, ProtoUDP, 47, 0, 255})
)

func genPortMatch(t *rapid.T) PortMatch {
	m := PortMatch{Op: PortOp(rapid.IntRange(0, 5).Draw(t, "op")), Port: genPort.Draw(t, "p")}
	switch m.Op {
	case PortAny:
		m.Port = 0
	case PortLt:
		m.Port = max(m.Port, 1)
	case PortGt:
		m.Port = min(m.Port, 65534)
	case PortRange:
		m.Last = genPort.Draw(t, "last")
		if m.Last < m.Port {
			m.Port, m.Last = m.Last, m.Port
		}
	}
	return m
}

func genIPEntries(t *rapid.T, maxN int) []IPEntry {
	n := rapid.IntRange(0, maxN).Draw(t, "n")
	entries := make([]IPEntry, n)
	seq := uint32(0)
	for i := range entries {
		seq += uint32(rapid.IntRange(1, 20).Draw(t, "gap"))
		e := IPEntry{Seq: seq, Action: Action(rapid.IntRange(0, 1).Draw(t, "action")), Protocol: genProto.Draw(t, "proto")}
		e.Source = netip.PrefixFrom(genAddr.Draw(t, "src"), rapid.SampledFrom([]int{0, 8, 16, 24, 25, 31, 32}).Draw(t, "sbits")).Masked()
		e.Destination = netip.PrefixFrom(genAddr.Draw(t, "dst"), rapid.SampledFrom([]int{0, 8, 16, 24, 30, 32}).Draw(t, "dbits")).Masked()
		if e.Protocol.hasPorts() {
			e.SourcePort = genPortMatch(t)
			e.DestinationPort = genPortMatch(t)
		}
		entries[i] = e
	}
	return entries
}

var genMAC = rapid.Custom(func(t *rapid.T) [6]byte {
	pool := [][6]byte{{0, 0x50, 0x56, 0xaa, 0xbb, 0xcc}, {0, 0x50, 0x56, 0xaa, 0xbb, 0xcd}, {0, 0x50, 0x56, 1, 2, 3},
		{2, 0, 0, 0, 0, 1}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {1, 0, 0x5e, 0, 0, 1}}
	if rapid.IntRange(0, 4).Draw(t, "rand") == 0 {
		return [6]byte{0, 0x50, 0x56, rapid.Byte().Draw(t, "b3"), rapid.Byte().Draw(t, "b4"), rapid.Byte().Draw(t, "b5")}
	}
	return rapid.SampledFrom(pool).Draw(t, "mac")
})

var genWildcard = rapid.Custom(func(t *rapid.T) [6]byte {
	pool := [][6]byte{{}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {0, 0, 0, 0xff, 0xff, 0xff}, {0, 0, 0, 0, 0, 0x0f}, {0xfe, 0, 0, 0, 0, 0}}
	return rapid.SampledFrom(pool).Draw(t, "wildcard")
})

func genMACEntries(t *rapid.T, maxN int) []MACEntry {
	n := rapid.IntRange(0, maxN).Draw(t, "n")
	entries := make([]MACEntry, n)
	seq := uint32(0)
	for i := range entries {
		seq += uint32(rapid.IntRange(1, 20).Draw(t, "gap"))
		e := MACEntry{Seq: seq, Action: Action(rapid.IntRange(0, 1).Draw(t, "action"))}
		e.Source, e.SourceMask = genMAC.Draw(t, "src"), genWildcard.Draw(t, "smask")
		e.Destination, e.DestinationMask = genMAC.Draw(t, "dst"), genWildcard.Draw(t, "dmask")
		for k := range 6 {
			e.Source[k] &^= e.SourceMask[k]
			e.Destination[k] &^= e.DestinationMask[k]
		}
		e.EtherType = rapid.SampledFrom([]uint16{0, 0x0800, 0x0806, 0x86dd}).Draw(t, "etype")
		e.VLAN = rapid.SampledFrom([]uint16{0, 1, 10, 4094}).Draw(t, "vlan")
		entries[i] = e
	}
	return entries
}

func genQoS(t *rapid.T, name string) QoSPolicy {
	q := QoSPolicy{Name: name}
	if q.Mark.SetCoS = rapid.Bool().Draw(t, "setcos"); q.Mark.SetCoS {
		q.Mark.CoS = uint8(rapid.IntRange(0, 7).Draw(t, "cos"))
	}
	if q.Mark.SetDSCP = rapid.Bool().Draw(t, "setdscp"); q.Mark.SetDSCP {
		q.Mark.DSCP = uint8(rapid.IntRange(0, 63).Draw(t, "dscp"))
	}
	if rapid.Bool().Draw(t, "police") {
		q.Police.CIR = rapid.Uint64Range(MinCIR, MaxCIR).Draw(t, "cir")
		q.Police.Burst = rapid.Uint64Range(MinBurst, MaxBurst).Draw(t, "bc")
	}
	return q
}

// genConfig draws a whole configuration (not necessarily valid: references
// may dangle, which Parse does not check).
func genConfig(t *rapid.T) *Config {
	c := NewConfig()
	for _, name := range rapid.SliceOfNDistinct(genName, 0, 5, rapid.ID).Draw(t, "profiles") {
		c.Profiles[name] = genProfile(t, name)
	}
	for _, name := range rapid.SliceOfNDistinct(genName, 0, 3, rapid.ID).Draw(t, "ipacls") {
		c.IPACLs[name] = IPACL{Name: name, Entries: genIPEntries(t, 8)}
	}
	for _, name := range rapid.SliceOfNDistinct(genName, 0, 3, rapid.ID).Draw(t, "macacls") {
		c.MACACLs[name] = MACACL{Name: name, Entries: genMACEntries(t, 8)}
	}
	for _, name := range rapid.SliceOfNDistinct(genName, 0, 3, rapid.ID).Draw(t, "qos") {
		c.QoSPolicies[name] = genQoS(t, name)
	}
	return c
}

// genFrame draws frame metadata from the same pools as the entries.
func genFrame(t *rapid.T) Frame {
	f := Frame{Dir: Direction(rapid.IntRange(0, 1).Draw(t, "dir")), Src: genMAC.Draw(t, "fsrc"), Dst: genMAC.Draw(t, "fdst"),
		VLAN:      rapid.SampledFrom([]uint16{0, 1, 10, 11, 4094}).Draw(t, "fvlan"),
		EtherType: rapid.SampledFrom([]uint16{0x0800, 0x0806, 0x86dd, 0x88cc}).Draw(t, "fetype"),
		Len:       uint32(rapid.IntRange(60, 1518).Draw(t, "len"))}
	if f.EtherType == 0x0800 {
		f.SrcIP, f.DstIP = genAddr.Draw(t, "fsip"), genAddr.Draw(t, "fdip")
		f.Protocol = uint8(rapid.SampledFrom([]Protocol{ProtoICMP, ProtoTCP, ProtoUDP, 47, 0, 255}).Draw(t, "fproto"))
		if f.Protocol == uint8(ProtoTCP) || f.Protocol == uint8(ProtoUDP) {
			f.SrcPort, f.DstPort = genPort.Draw(t, "fsport"), genPort.Draw(t, "fdport")
		}
	}
	return f
}
