package conf

import (
	"fmt"
	"strings"
)

// Fabric names one of a host's two uplinks.
type Fabric uint8

const (
	FabricA Fabric = iota
	FabricB
)

func (f Fabric) String() string { return [...]string{"a", "b"}[f&1] }

// Uplink is one of an IV's uplinks to the VIS.
type Uplink struct {
	Name   string // "uplink1"
	Fabric Fabric
	Linux  string
	// XDPTx is "linux-interface IFNAME transmit af-xdp": the uplink
	// writes its frames through an AF_XDP socket
	// (port.PacketConfig.XDPTx).
	XDPTx bool
	Line  int
}

// VNIC is a VM's vNIC: a TAP device the IV serves.
type VNIC struct {
	Name string
	// TAP is the TAP device's name; Existing means niv opens it rather
	// than creating it (a TAP that a hypervisor made, or that persists).
	TAP      string
	Existing bool
	// Netns is the network namespace the TAP is in or is created in (the
	// VM), "" for the daemon's own.
	Netns    string
	MAC      [6]byte
	Profile  string
	Instance [16]byte
	// Fabric is the uplink the vNIC prefers (default a); it fails over to
	// the other.
	Fabric   Fabric
	Shutdown bool
	Line     int
}

// IV is the configuration of `niv iv`.
type IV struct {
	Daemon
	// Kind is the tag on the uplinks: KindVNTag (default) or KindETag.
	Kind    Kind
	Uplinks []Uplink
	VNICs   []VNIC
}

// ParseIV reads the configuration file of `niv iv`:
//
//	hostname host1
//	niv store /var/lib/niv/host1.db
//	niv socket /run/niv/host1.sock
//	!
//	interface uplink1
//	  fabric a
//	  switchport mode vntag
//	  linux-interface h1-a
//	interface uplink2
//	  fabric b
//	  switchport mode vntag
//	  linux-interface h1-b
//	!
//	vnic web1
//	  tap niv-web1
//	  mac-address 0252.5400.0001
//	  port-profile web
//	  instance-uuid a1412857-60f7-4ce1-e95a-2164943f53aa
//
// Uplink commands: fabric a|b, switchport mode vntag|etag (the same on
// both), linux-interface IFNAME [transmit af-xdp]. vNIC commands: tap NAME [existing] [netns NAMESPACE],
// mac-address MAC, port-profile NAME, instance-uuid UUID, fabric a|b,
// shutdown. Every vNIC needs a TAP, a MAC, a profile and an instance UUID.
func ParseIV(src string) (*IV, error) {
	lines, lerr := lex(src)
	if lerr != nil {
		return nil, Errors{lerr}
	}
	c := &IV{}
	p := &parser{}
	for _, b := range blocks(lines) {
		h := b.head
		if h.indent > 0 {
			p.errf(h, 0, errUnknown, "this line is indented, but no interface or vnic is open above it")
			continue
		}
		w := h.words()
		switch {
		case p.daemon(&c.Daemon, h):
		case w[0] == "interface":
			p.uplink(c, b)
		case w[0] == "vnic":
			if p.args(h, 2, "vnic NAME") {
				// Kept even if wrong, so that duplicates are found too.
				n, _ := p.vnicBody(h.toks[1].s, b.body)
				n.Line = h.num
				c.VNICs = append(c.VNICs, n)
			}
		default:
			p.unknown(h, 0, []string{"hostname", "niv", "interface", "vnic"})
		}
	}
	p.checkIV(c, lines)
	if len(p.errs) > 0 {
		sortErrors(p.errs)
		return nil, p.errs
	}
	if c.Kind == 0 {
		c.Kind = KindVNTag
	}
	if c.Checkpoint == 0 {
		c.Checkpoint = DefaultCheckpoint
	}
	return c, nil
}

func (p *parser) fabric(l line) (Fabric, bool) {
	if !p.args(l, 2, "fabric a|b") {
		return 0, false
	}
	switch strings.ToLower(l.toks[1].s) {
	case "a":
		return FabricA, true
	case "b":
		return FabricB, true
	}
	p.errf(l, 1, errSyntax, "fabric %q: expected a or b", l.toks[1].s)
	return 0, false
}

func (p *parser) uplink(c *IV, b block) {
	h := b.head
	if !p.args(h, 2, "interface uplinkN") || !strings.HasPrefix(strings.ToLower(h.toks[1].s), "uplink") {
		if len(h.toks) == 2 {
			p.errf(h, 1, errSyntax, "%q: an IV's interfaces are its uplinks, \"interface uplink1\"", h.toks[1].s)
		}
		return
	}
	u := Uplink{Name: strings.ToLower(h.toks[1].s), Line: h.num, Fabric: Fabric(len(c.Uplinks) & 1)}
	for _, l := range b.body {
		w := l.words()
		switch w[0] {
		case "fabric":
			if f, ok := p.fabric(l); ok {
				u.Fabric = f
			}
		case "linux-interface":
			if name, xdp, ok := p.linuxInterface(l); ok {
				u.Linux, u.XDPTx = name, xdp
			}
		case "switchport":
			if !p.args(l, 3, "switchport mode vntag|etag") || w[1] != "mode" {
				continue
			}
			k, ok := kindNames[w[2]]
			if !ok || (k != KindVNTag && k != KindETag) {
				p.errf(l, 2, errSyntax, "switchport mode %q: an IV's uplinks are vntag or etag", w[2])
				continue
			}
			if c.Kind != 0 && c.Kind != k {
				p.errf(l, 2, errSyntax, "switchport mode %v: the other uplink is %v; both carry the same tag", k, c.Kind)
				continue
			}
			c.Kind = k
		default:
			p.unknown(l, 0, []string{"fabric", "linux-interface", "switchport"})
		}
	}
	if u.Linux == "" {
		p.errf(h, 1, errSyntax, "interface %s has no \"linux-interface IFNAME\"", u.Name)
		return
	}
	c.Uplinks = append(c.Uplinks, u)
}

// ParseVNIC reads the body of a "vnic NAME" block given as text (the
// lines below it, indented or not), as `niv vnic add` sends it.
func ParseVNIC(name, body string) (VNIC, error) {
	lines, lerr := lex(body)
	if lerr != nil {
		return VNIC{}, Errors{lerr}
	}
	p := &parser{}
	n, ok := p.vnicBody(name, lines)
	if !ok || len(p.errs) > 0 {
		if len(p.errs) == 0 {
			p.errs = append(p.errs, &Error{Line: 1, Column: 1, Msg: "bad vnic", Err: errSyntax})
		}
		return VNIC{}, p.errs
	}
	return n, nil
}

func (p *parser) vnicBody(name string, body []line) (VNIC, bool) {
	n := VNIC{Name: name}
	var hasMAC, hasUUID bool
	before := len(p.errs)
	for _, l := range body {
		w := l.words()
		switch w[0] {
		case "tap":
			if len(w) < 2 {
				p.errf(l, 1, errSyntax, "expected \"tap NAME [existing] [netns NAMESPACE]\"")
				continue
			}
			n.TAP = w[1]
			for i := 2; i < len(w); i++ {
				switch {
				case w[i] == "existing":
					n.Existing = true
				case w[i] == "netns" && i+1 < len(w):
					n.Netns = w[i+1]
					i++
				default:
					p.errf(l, i, errSyntax, "expected \"tap NAME [existing] [netns NAMESPACE]\"")
				}
			}
			if len(n.TAP) > 15 {
				p.errf(l, 1, errSyntax, "TAP name %q is longer than 15 characters", n.TAP)
			}
		case "mac-address":
			if p.args(l, 2, "mac-address MAC") {
				m, ok := ParseMAC(w[1])
				if !ok {
					p.errf(l, 1, errSyntax, "%q is not a MAC address (0252.5400.0001)", w[1])
				} else if m[0]&1 != 0 {
					p.errf(l, 1, errSyntax, "%s is a group address; a vNIC's MAC is individual", w[1])
				}
				n.MAC, hasMAC = m, true
			}
		case "port-profile":
			if p.args(l, 2, "port-profile NAME") {
				if len(w[1]) > 39 {
					p.errf(l, 1, errSyntax, "port-profile name %q is longer than 39 characters", w[1])
				}
				n.Profile = w[1]
			}
		case "instance-uuid":
			if p.args(l, 2, "instance-uuid UUID") {
				u, ok := ParseUUID(w[1])
				if !ok {
					p.errf(l, 1, errSyntax, "%q is not a UUID (8-4-4-4-12 hex digits)", w[1])
				}
				n.Instance, hasUUID = u, true
			}
		case "fabric":
			if f, ok := p.fabric(l); ok {
				n.Fabric = f
			}
		case "shutdown":
			n.Shutdown = true
		case "no":
			if len(w) == 2 && w[1] == "shutdown" {
				n.Shutdown = false
			} else {
				p.unknown(l, 1, []string{"shutdown"})
			}
		default:
			p.unknown(l, 0, []string{"tap", "mac-address", "port-profile", "instance-uuid", "fabric", "shutdown"})
		}
	}
	var missing []string
	if n.TAP == "" {
		missing = append(missing, "tap")
	}
	if !hasMAC {
		missing = append(missing, "mac-address")
	}
	if n.Profile == "" {
		missing = append(missing, "port-profile")
	}
	if !hasUUID {
		missing = append(missing, "instance-uuid")
	}
	if len(missing) > 0 {
		at := line{num: 1, toks: []token{{name, 1}}}
		if len(body) > 0 {
			at = body[0]
			at.num--
		}
		p.errs = append(p.errs, &Error{Line: at.num, Column: 1, Err: errSyntax,
			Msg: fmt.Sprintf("vnic %s has no %s", name, strings.Join(missing, ", "))})
	}
	return n, len(p.errs) == before
}

func (p *parser) checkIV(c *IV, lines []line) {
	if len(c.Uplinks) == 0 {
		p.errs = append(p.errs, &Error{Line: 1, Column: 1, Err: errSyntax, Msg: "no uplink: an IV needs \"interface uplink1\" with a linux-interface"})
	}
	if len(c.Uplinks) > 2 {
		p.errf(lineAt(lines, c.Uplinks[2].Line), 1, errRange, "an IV has two uplinks, fabric a and fabric b")
	}
	if len(c.Uplinks) == 2 && c.Uplinks[0].Fabric == c.Uplinks[1].Fabric {
		p.errf(lineAt(lines, c.Uplinks[1].Line), 1, errDup, "both uplinks are on fabric %v", c.Uplinks[0].Fabric)
	}
	names, taps, macs, uuids := map[string]int{}, map[string]int{}, map[[6]byte]int{}, map[[16]byte]int{}
	for _, n := range c.VNICs {
		at := lineAt(lines, n.Line)
		for _, d := range []struct {
			seen  bool
			first int
			what  string
		}{
			{has(names, n.Name, n.Line), names[n.Name], "vnic " + n.Name},
			{has(taps, n.TAP, n.Line), taps[n.TAP], "tap " + n.TAP},
			{has(macs, n.MAC, n.Line), macs[n.MAC], "mac-address " + FormatMAC(n.MAC)},
			{has(uuids, n.Instance, n.Line), uuids[n.Instance], "instance-uuid " + FormatUUID(n.Instance)},
		} {
			if d.seen {
				p.errf(at, 1, errDup, "%s is already used on line %d", d.what, d.first)
			}
		}
	}
}

// has reports whether k is in m already; if not it records it at line.
func has[K comparable](m map[K]int, k K, line int) bool {
	if _, ok := m[k]; ok {
		return true
	}
	m[k] = line
	return false
}

// VNICText renders a vNIC as a "vnic NAME" block.
func VNICText(n VNIC) string {
	var b strings.Builder
	fmt.Fprintf(&b, "vnic %s\n", n.Name)
	tap := n.TAP
	if n.Existing {
		tap += " existing"
	}
	if n.Netns != "" {
		tap += " netns " + n.Netns
	}
	fmt.Fprintf(&b, "  tap %s\n  mac-address %s\n  port-profile %s\n  instance-uuid %s\n", tap, FormatMAC(n.MAC), n.Profile, FormatUUID(n.Instance))
	if n.Fabric != FabricA {
		fmt.Fprintf(&b, "  fabric %v\n", n.Fabric)
	}
	if n.Shutdown {
		b.WriteString("  shutdown\n")
	}
	return b.String()
}

// linuxInterface reads "linux-interface IFNAME [transmit af-xdp]": the
// Linux interface that carries a link, and whether its frames go out
// through AF_XDP rather than the AF_PACKET socket (faster on a link of a
// real MTU; this host's captures on the interface then do not see them
// leave).
func (p *parser) linuxInterface(l line) (name string, xdp bool, ok bool) {
	w := l.words()
	const usage = "linux-interface IFNAME [transmit af-xdp]"
	switch len(w) {
	case 2:
	case 4:
		if w[2] != "transmit" {
			p.unknown(l, 2, []string{"transmit"})
			return "", false, false
		}
		if w[3] != "af-xdp" {
			p.errf(l, 3, errSyntax, "transmit %q: expected af-xdp", w[3])
			return "", false, false
		}
		xdp = true
	default:
		p.errf(l, min(len(l.toks), 2), errSyntax, "expected %q", usage)
		return "", false, false
	}
	if len(w[1]) > 15 || strings.ContainsAny(w[1], "/:") {
		p.errf(l, 1, errSyntax, "%q is not a Linux interface name (at most 15 characters, no '/' or ':')", w[1])
		return "", false, false
	}
	return w[1], xdp, true
}
