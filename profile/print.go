package profile

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Text renders the whole configuration as running-config text: access
// lists, then policy-maps, then port-profiles, each sorted by name. Parse of
// the result yields a Config equal to c.
func (c *Config) Text() string {
	var b strings.Builder
	for _, name := range sortedKeys(c.IPACLs) {
		writeIPACL(&b, c.IPACLs[name])
	}
	for _, name := range sortedKeys(c.MACACLs) {
		writeMACACL(&b, c.MACACLs[name])
	}
	for _, name := range sortedKeys(c.QoSPolicies) {
		writeQoS(&b, c.QoSPolicies[name])
	}
	for _, name := range sortedKeys(c.Profiles) {
		p := c.Profiles[name]
		writeProfile(&b, &p)
	}
	return b.String()
}

// ShowRunningConfig renders "show running-config port-profile [NAME]": every
// port-profile when name is "", else the one named (ErrNotFound if none).
func (c *Config) ShowRunningConfig(name string) (string, error) {
	var b strings.Builder
	if name == "" {
		for _, n := range sortedKeys(c.Profiles) {
			p := c.Profiles[n]
			writeProfile(&b, &p)
		}
		return b.String(), nil
	}
	p, ok := c.Profiles[name]
	if !ok {
		return "", configErr(ErrNotFound, "port-profile "+name, "no such port-profile")
	}
	writeProfile(&b, &p)
	return b.String(), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func writeProfile(b *strings.Builder, p *Profile) {
	fmt.Fprintf(b, "port-profile type %s %s\n", p.Type, p.Name)
	if p.Description != "" {
		fmt.Fprintf(b, "  description %s\n", p.Description)
	}
	if p.Inherit != "" {
		fmt.Fprintf(b, "  inherit port-profile %s\n", p.Inherit)
	}
	writeSettings(b, &p.Settings, p.Set)
	if p.MaxPorts != 0 {
		fmt.Fprintf(b, "  max-ports %d\n", p.MaxPorts)
	}
	if p.Binding != Static {
		fmt.Fprintf(b, "  port-binding %s\n", p.Binding)
	}
	if p.HasVSIType {
		fmt.Fprintf(b, "  vdp vsi-type %d version %d\n", p.VSIType.ID, p.VSIType.Version)
	}
	if p.HasPortGroup {
		b.WriteString(strings.TrimRight("  vmware port-group "+p.PortGroup, " ") + "\n")
	}
	if p.Enabled {
		b.WriteString("  state enabled\n")
	}
}

// writeSettings prints the attributes in set, in the order NX-OS shows
// interface configuration.
func writeSettings(b *strings.Builder, s *Settings, set Attrs) {
	line := func(a Attrs, format string, args ...any) {
		if set&a != 0 {
			fmt.Fprintf(b, "  "+format+"\n", args...)
		}
	}
	line(AttrMode, "switchport mode %s", s.Mode)
	line(AttrAccessVLAN, "switchport access vlan %d", s.AccessVLAN)
	if set&AttrAllowedVLANs != 0 {
		list := s.AllowedVLANs.String()
		if s.AllowedVLANs == AllVLANs() {
			list = "all"
		}
		fmt.Fprintf(b, "  switchport trunk allowed vlan %s\n", list)
	}
	line(AttrNativeVLAN, "switchport trunk native vlan %d", s.NativeVLAN)
	line(AttrIPACLIn, "ip access-group %s in", s.IPAccessGroup[In])
	line(AttrIPACLOut, "ip access-group %s out", s.IPAccessGroup[Out])
	line(AttrMACACLIn, "mac access-group %s in", s.MACAccessGroup[In])
	line(AttrMACACLOut, "mac access-group %s out", s.MACAccessGroup[Out])
	line(AttrQoSIn, "service-policy type qos input %s", s.ServicePolicy[In])
	line(AttrQoSOut, "service-policy type qos output %s", s.ServicePolicy[Out])
	if set&AttrPortSecurity != 0 {
		b.WriteString(map[bool]string{true: "  switchport port-security\n", false: "  no switchport port-security\n"}[s.PortSecurity])
	}
	line(AttrSecureMax, "switchport port-security maximum %d", s.SecureMax)
	line(AttrViolation, "switchport port-security violation %s", s.Violation)
	if set&AttrSystemVLANs != 0 && s.SystemVLANs != (VLANSet{}) {
		fmt.Fprintf(b, "  system vlan %s\n", s.SystemVLANs)
	}
	if set&AttrShutdown != 0 {
		b.WriteString(map[bool]string{true: "  shutdown\n", false: "  no shutdown\n"}[s.Shutdown])
	}
}

func writeIPACL(b *strings.Builder, a IPACL) {
	fmt.Fprintf(b, "ip access-list %s\n", a.Name)
	for i := range a.Entries {
		fmt.Fprintf(b, "  %s\n", a.Entries[i].String())
	}
}

// String renders the entry as an access-list line.
func (e IPEntry) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s %s %s", e.Seq, e.Action, protocolString(e.Protocol), prefixString(e.Source))
	writePort(&b, e.SourcePort)
	b.WriteString(" " + prefixString(e.Destination))
	writePort(&b, e.DestinationPort)
	return b.String()
}

func protocolString(p Protocol) string {
	switch p {
	case AnyProtocol:
		return "ip"
	case ProtoICMP:
		return "icmp"
	case ProtoTCP:
		return "tcp"
	case ProtoUDP:
		return "udp"
	}
	return strconv.Itoa(int(p))
}

func prefixString(p netip.Prefix) string {
	switch p.Bits() {
	case 0:
		return "any"
	case 32:
		return "host " + p.Addr().String()
	}
	return p.String()
}

func writePort(b *strings.Builder, m PortMatch) {
	switch m.Op {
	case PortEq:
		fmt.Fprintf(b, " eq %d", m.Port)
	case PortNeq:
		fmt.Fprintf(b, " neq %d", m.Port)
	case PortLt:
		fmt.Fprintf(b, " lt %d", m.Port)
	case PortGt:
		fmt.Fprintf(b, " gt %d", m.Port)
	case PortRange:
		fmt.Fprintf(b, " range %d %d", m.Port, m.Last)
	}
}

func writeMACACL(b *strings.Builder, a MACACL) {
	fmt.Fprintf(b, "mac access-list %s\n", a.Name)
	for i := range a.Entries {
		fmt.Fprintf(b, "  %s\n", a.Entries[i].String())
	}
}

// String renders the entry as an access-list line.
func (e MACEntry) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s %s %s", e.Seq, e.Action, macSpecString(e.Source, e.SourceMask), macSpecString(e.Destination, e.DestinationMask))
	if e.EtherType != 0 {
		fmt.Fprintf(&b, " 0x%04x", e.EtherType)
	}
	if e.VLAN != 0 {
		fmt.Fprintf(&b, " vlan %d", e.VLAN)
	}
	return b.String()
}

func macSpecString(mac, wildcard [6]byte) string {
	switch wildcard {
	case [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}:
		return "any"
	case [6]byte{}:
		return "host " + macString(mac)
	}
	return macString(mac) + " " + macString(wildcard)
}

// macString renders a MAC the NX-OS way, 0050.56aa.bbcc.
func macString(m [6]byte) string {
	return fmt.Sprintf("%02x%02x.%02x%02x.%02x%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

func writeQoS(b *strings.Builder, q QoSPolicy) {
	fmt.Fprintf(b, "policy-map type qos %s\n", q.Name)
	if q.Mark.SetCoS {
		fmt.Fprintf(b, "  set cos %d\n", q.Mark.CoS)
	}
	if q.Mark.SetDSCP {
		fmt.Fprintf(b, "  set dscp %d\n", q.Mark.DSCP)
	}
	if q.Police.CIR != 0 {
		cir, cu := inUnit(q.Police.CIR, []string{"gbps", "mbps", "kbps", "bps"})
		bc, bu := inUnit(q.Police.Burst, []string{"mbytes", "kbytes", "bytes"})
		fmt.Fprintf(b, "  police cir %d %s bc %d %s\n", cir, cu, bc, bu)
	}
}

// inUnit expresses v in the largest of the (1000-based, descending) units
// that represents it exactly.
func inUnit(v uint64, units []string) (uint64, string) {
	scale := uint64(1)
	for range len(units) - 1 {
		scale *= 1000
	}
	for _, u := range units {
		if v%scale == 0 {
			return v / scale, u
		}
		scale /= 1000
	}
	return v, units[len(units)-1]
}
