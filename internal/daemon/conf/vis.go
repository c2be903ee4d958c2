package conf

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nivkit/niv/profile"
)

// ParseVIS reads the configuration file of `niv vis`:
//
//	hostname vis1
//	niv store /var/lib/niv/vis1.db
//	niv socket /run/niv/vis1.sock
//	niv metrics 127.0.0.1:9310
//	!
//	interface ethernet1/1
//	  description host1
//	  switchport mode vntag
//	  linux-interface veth-h1
//	!
//	port-profile type vethernet web
//	  switchport mode access
//	  switchport access vlan 10
//	  state enabled
//	!
//	interface vethernet 1
//	  inherit port-profile web
//	  bind interface ethernet1/1 channel 5
//
// Interface commands: description TEXT; switchport mode
// vntag|etag|evb|trunk; linux-interface IFNAME [transmit af-xdp] (not on
// evb ports, whose frames are super-frames); control-plane vic|vdp|none
// (default vic on vntag and etag ports, vdp on evb ports, none on trunks);
// on evb ports, switchport trunk native vlan N (the port's PVID). Global
// EVB lines: evb resource-wait-delay E, evb keep-alive E (exponents,
// 0-31).
// vEthernet commands: inherit port-profile NAME; bind interface ETHERNET
// channel N; description TEXT. Every other block is port-profile language
// and goes to profile.Parse with the file's line numbers.
func ParseVIS(src string) (*VIS, error) {
	lines, lerr := lex(src)
	if lerr != nil {
		return nil, Errors{lerr}
	}
	c := &VIS{EVB: DefaultEVB}
	p := &parser{}
	profileLines := make([]bool, len(strings.Split(src, "\n"))+1)
	for _, b := range blocks(lines) {
		h := b.head
		if h.indent > 0 {
			// No block above: let profile say what it says about it.
			profileLines[h.num] = true
			continue
		}
		w := h.words()
		switch {
		case p.daemon(&c.Daemon, h):
		case w[0] == "interface":
			p.visInterface(c, b)
		case w[0] == "evb":
			p.evb(&c.EVB, h)
			for _, l := range b.body {
				p.errf(l, 0, errSyntax, "evb lines take no block")
			}
		default:
			profileLines[h.num] = true
			for _, l := range b.body {
				profileLines[l.num] = true
			}
		}
	}
	// The profile blocks, at their own line numbers.
	raw := strings.Split(src, "\n")
	for i := range raw {
		if !profileLines[i+1] {
			raw[i] = ""
		}
	}
	cfg, err := profile.Parse(strings.Join(raw, "\n"))
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		p.errs = append(p.errs, fromProfile(err, lines))
	} else {
		c.Profiles = cfg
		p.checkVEths(c, lines)
	}
	p.checkPorts(c, lines)
	if len(p.errs) > 0 {
		sortErrors(p.errs)
		return nil, p.errs
	}
	if c.Checkpoint == 0 {
		c.Checkpoint = DefaultCheckpoint
	}
	return c, nil
}

func sortErrors(es Errors) {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && (es[j].Line < es[j-1].Line || es[j].Line == es[j-1].Line && es[j].Column < es[j-1].Column); j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

// vethernetID reads "vethernet 5", "vethernet5", "Vethernet5".
func vethernetID(l line) (uint32, int, bool) {
	low := strings.ToLower(l.toks[1].s)
	if !strings.HasPrefix(low, "vethernet") && !strings.HasPrefix(low, "veth") {
		return 0, 1, false
	}
	num := strings.TrimPrefix(strings.TrimPrefix(low, "vethernet"), "veth")
	tok := 1
	if num == "" && len(l.toks) == 3 {
		num, tok = l.toks[2].s, 2
	} else if len(l.toks) != 2 {
		return 0, min(len(l.toks), 2), false
	}
	n, err := strconv.ParseUint(num, 10, 32)
	if err != nil || n == 0 || n > 1<<31 {
		return 0, tok, false
	}
	return uint32(n), tok, true
}

func (p *parser) visInterface(c *VIS, b block) {
	h := b.head
	if len(h.toks) < 2 {
		p.errf(h, 1, errSyntax, "expected \"interface ethernetS/P\" or \"interface vethernet N\"")
		return
	}
	if name, ok := ethernetName(h.toks[1].s); ok && len(h.toks) == 2 {
		p.ethernet(c, name, b)
		return
	}
	if strings.HasPrefix(strings.ToLower(h.toks[1].s), "veth") {
		id, tok, ok := vethernetID(h)
		if !ok {
			p.errf(h, tok, errSyntax, "expected \"interface vethernet N\" (N 1-2147483648)")
			return
		}
		p.vethernet(c, id, b)
		return
	}
	p.errf(h, 1, errSyntax, "%q is not an interface name: expected ethernetS/P or vethernet N", h.rest(1))
}

// evb reads a global "evb resource-wait-delay E" or "evb keep-alive E".
func (p *parser) evb(e *EVB, l line) {
	if !p.args(l, 3, "evb resource-wait-delay|keep-alive EXPONENT") {
		return
	}
	var dst *uint8
	switch l.words()[1] {
	case "resource-wait-delay":
		dst = &e.RWD
	case "keep-alive":
		dst = &e.RKA
	default:
		p.unknown(l, 1, []string{"resource-wait-delay", "keep-alive"})
		return
	}
	if n, ok := p.number(l, 2, 0, 31); ok {
		*dst = uint8(n)
	}
}

var ethernetCommands = []string{"description", "switchport", "linux-interface", "control-plane"}

func (p *parser) ethernet(c *VIS, name string, b block) {
	for _, q := range c.Ports {
		if q.Name == name {
			p.errf(b.head, 1, errDup, "interface %s is already configured on line %d", name, q.Line)
			return
		}
	}
	pt := Port{Name: name, Line: b.head.num}
	control := -1
	var pvidLine, xdpLine line
	before := len(p.errs)
	for _, l := range b.body {
		w := l.words()
		switch w[0] {
		case "description":
			pt.Description = l.rest(1)
		case "switchport":
			if len(w) >= 2 && w[1] == "trunk" {
				if !p.args(l, 5, "switchport trunk native vlan N") {
					continue
				}
				if w[2] != "native" || w[3] != "vlan" {
					p.errf(l, 2, errSyntax, "expected \"switchport trunk native vlan N\"")
					continue
				}
				if n, ok := p.number(l, 4, 1, 4094); ok {
					pt.PVID = uint16(n)
					pvidLine = l
				}
				continue
			}
			if !p.args(l, 3, "switchport mode vntag|etag|evb|trunk") {
				continue
			}
			if w[1] != "mode" {
				p.unknown(l, 1, []string{"mode", "trunk"})
				continue
			}
			k, ok := kindNames[w[2]]
			if !ok {
				p.errf(l, 2, errSyntax, "switchport mode %q: expected vntag, etag, evb or trunk", w[2])
				if s := suggest(w[2], []string{"vntag", "etag", "evb", "trunk"}); s != "" {
					p.errs[len(p.errs)-1].Suggestion = "switchport mode " + s
				}
				continue
			}
			pt.Kind = k
		case "linux-interface":
			if name, xdp, ok := p.linuxInterface(l); ok {
				pt.Linux, pt.XDPTx = name, xdp
				xdpLine = l
			}
		case "control-plane":
			if !p.args(l, 2, "control-plane vic|vdp|none") {
				continue
			}
			switch w[1] {
			case "vic":
				control = int(ControlVIC)
			case "vdp":
				control = int(ControlVDP)
			case "none":
				control = int(ControlNone)
			default:
				p.errf(l, 1, errSyntax, "control-plane %q: expected vic, vdp or none", w[1])
			}
		default:
			p.unknown(l, 0, ethernetCommands)
		}
	}
	if len(p.errs) > before {
		return
	}
	if pt.Kind == 0 {
		p.errf(b.head, 1, errSyntax, "interface %s has no \"switchport mode vntag|etag|evb|trunk\"", name)
		return
	}
	if pt.Linux == "" {
		p.errf(b.head, 1, errSyntax, "interface %s has no \"linux-interface IFNAME\"", name)
		return
	}
	if pt.XDPTx && pt.Kind == KindEVB {
		p.errf(xdpLine, 2, errSyntax, "interface %s: transmit af-xdp is for vntag, etag and trunk ports (an evb port carries the VMs' super-frames, which AF_XDP cannot)", name)
		return
	}
	if pt.PVID != 0 && pt.Kind != KindEVB {
		p.errf(pvidLine, 1, errSyntax, "interface %s: switchport trunk native vlan is for evb ports (a %v port's VLANs come from its vEths' port-profiles)", name, pt.Kind)
		return
	}
	switch {
	case control >= 0:
		pt.Control = Control(control)
	case pt.Kind == KindEVB:
		pt.Control = ControlVDP
	case pt.Kind == KindTrunk:
		pt.Control = ControlNone
	default:
		pt.Control = ControlVIC
	}
	c.Ports = append(c.Ports, pt)
}

func (p *parser) vethernet(c *VIS, id uint32, b block) {
	for _, v := range c.VEths {
		if v.ID == id {
			p.errf(b.head, 1, errDup, "interface Vethernet%d is already configured on line %d", id, v.Line)
			return
		}
	}
	v := VEth{ID: id, Line: b.head.num}
	for _, l := range b.body {
		w := l.words()
		switch w[0] {
		case "description":
			v.Description = l.rest(1)
		case "inherit":
			if p.args(l, 3, "inherit port-profile NAME") {
				if w[1] != "port-profile" {
					p.unknown(l, 1, []string{"port-profile"})
					continue
				}
				v.Profile = w[2]
			}
		case "bind":
			if !p.args(l, 5, "bind interface ethernetS/P channel N") {
				continue
			}
			if w[1] != "interface" {
				p.unknown(l, 1, []string{"interface"})
				continue
			}
			name, ok := ethernetName(w[2])
			if !ok {
				p.errf(l, 2, errSyntax, "%q is not an ethernet interface", w[2])
				continue
			}
			if w[3] != "channel" {
				p.unknown(l, 3, []string{"channel"})
				continue
			}
			n, ok := p.number(l, 4, 1, 16383)
			if !ok {
				continue
			}
			v.Port, v.Channel = name, uint16(n)
		default:
			p.unknown(l, 0, []string{"description", "inherit", "bind"})
		}
	}
	c.VEths = append(c.VEths, v)
}

// checkVEths checks the vEth blocks against the interfaces and profiles.
func (p *parser) checkVEths(c *VIS, lines []line) {
	type key struct {
		port string
		ch   uint16
	}
	used := map[key]uint32{}
	for _, v := range c.VEths {
		at := lineAt(lines, v.Line)
		if v.Profile != "" {
			pr, ok := c.Profiles.Profiles[v.Profile]
			switch {
			case !ok:
				p.errf(at, 1, errUndef, "Vethernet%d inherits port-profile %s, which is not defined", v.ID, v.Profile)
			case pr.Type != profile.Vethernet:
				p.errf(at, 1, profile.ErrTypeMismatch, "Vethernet%d inherits port-profile %s, which is not of type vethernet", v.ID, v.Profile)
			}
		}
		if v.Port == "" {
			continue
		}
		pt, ok := c.Port(v.Port)
		switch {
		case !ok:
			p.errf(at, 1, errUndef, "Vethernet%d is bound to %s, which is not configured", v.ID, v.Port)
		case pt.Kind != KindVNTag && pt.Kind != KindETag:
			p.errf(at, 1, errSyntax, "Vethernet%d is bound to %s, a %v port: vEths bind to channels of vntag and etag ports (an evb port's are made by VDP)", v.ID, v.Port, pt.Kind)
		}
		k := key{v.Port, v.Channel}
		if other, ok := used[k]; ok {
			p.errf(at, 1, errDup, "Vethernet%d: channel %d of %s is Vethernet%d's already", v.ID, v.Channel, v.Port, other)
		}
		used[k] = v.ID
	}
}

// checkPorts checks what a port's kind and control plane allow.
func (p *parser) checkPorts(c *VIS, lines []line) {
	linux := map[string]string{}
	for _, pt := range c.Ports {
		at := lineAt(lines, pt.Line)
		if other, ok := linux[pt.Linux]; ok {
			p.errf(at, 1, errDup, "%s: linux-interface %s is %s's already", pt.Name, pt.Linux, other)
		}
		linux[pt.Linux] = pt.Name
		switch {
		case pt.Control == ControlVDP && pt.Kind != KindEVB:
			p.errf(at, 1, errSyntax, "%s: control-plane vdp runs on evb ports, not on a %v port", pt.Name, pt.Kind)
		case pt.Kind == KindEVB && pt.Control != ControlVDP:
			p.errf(at, 1, errSyntax, "%s: an evb port runs control-plane vdp (without it no VSI is associated, and the port drops every frame)", pt.Name)
		case pt.Control == ControlVIC && pt.Kind != KindVNTag && pt.Kind != KindETag:
			p.errf(at, 1, errSyntax, "%s: control-plane vic runs on vntag and etag ports, not on a %v port", pt.Name, pt.Kind)
		}
	}
}

func lineAt(lines []line, num int) line {
	for _, l := range lines {
		if l.num == num {
			return l
		}
	}
	return line{num: num}
}

// VEthText renders one vEth as NX-OS "show running-config interface
// vethernet N" does.
func VEthText(v VEth) string {
	var b strings.Builder
	fmt.Fprintf(&b, "interface Vethernet%d\n", v.ID)
	if v.Description != "" {
		fmt.Fprintf(&b, "  description %s\n", v.Description)
	}
	if v.Profile != "" {
		fmt.Fprintf(&b, "  inherit port-profile %s\n", v.Profile)
	}
	if v.Port != "" {
		fmt.Fprintf(&b, "  bind interface %s channel %d\n", v.Port, v.Channel)
	}
	return b.String()
}

// Text renders the configuration as a file ParseVIS reads back to the same
// configuration, with vEths (the live ones, or c.VEths if nil).
func (c *VIS) Text(veths []VEth) string {
	var b strings.Builder
	c.Daemon.text(&b)
	c.EVB.text(&b)
	for _, pt := range c.Ports {
		fmt.Fprintf(&b, "!\ninterface %s\n", pt.Name)
		if pt.Description != "" {
			fmt.Fprintf(&b, "  description %s\n", pt.Description)
		}
		fmt.Fprintf(&b, "  switchport mode %v\n", pt.Kind)
		if pt.PVID != 0 {
			fmt.Fprintf(&b, "  switchport trunk native vlan %d\n", pt.PVID)
		}
		xdp := ""
		if pt.XDPTx {
			xdp = " transmit af-xdp"
		}
		fmt.Fprintf(&b, "  linux-interface %s%s\n  control-plane %v\n", pt.Linux, xdp, pt.Control)
	}
	if c.Profiles != nil {
		b.WriteString("!\n")
		b.WriteString(c.Profiles.Text())
	}
	if veths == nil {
		veths = c.VEths
	}
	for _, v := range veths {
		b.WriteString("!\n")
		b.WriteString(VEthText(v))
	}
	return b.String()
}

func (e EVB) text(b *strings.Builder) {
	if e.RWD != DefaultEVB.RWD {
		fmt.Fprintf(b, "evb resource-wait-delay %d\n", e.RWD)
	}
	if e.RKA != DefaultEVB.RKA {
		fmt.Fprintf(b, "evb keep-alive %d\n", e.RKA)
	}
}

func (d *Daemon) text(b *strings.Builder) {
	if d.Hostname != "" {
		fmt.Fprintf(b, "hostname %s\n", d.Hostname)
	}
	if d.Store != "" {
		fmt.Fprintf(b, "niv store %s\n", d.Store)
	}
	if d.Socket != "" {
		fmt.Fprintf(b, "niv socket %s\n", d.Socket)
	}
	if d.Metrics != "" {
		fmt.Fprintf(b, "niv metrics %s\n", d.Metrics)
	}
	if d.Checkpoint != 0 {
		fmt.Fprintf(b, "niv checkpoint-interval %d\n", int(d.Checkpoint.Seconds()))
	}
	for _, t := range []struct {
		name string
		d    int64
	}{{"keepalive", d.Keepalive.Milliseconds()}, {"request-timeout", d.RequestTimeout.Milliseconds()},
		{"resync-hold", d.ResyncHold.Milliseconds()}, {"retention", int64(d.Retention.Seconds())}} {
		if t.d != 0 {
			fmt.Fprintf(b, "niv vic %s %d\n", t.name, t.d)
		}
	}
}
