package profile

import (
	"strconv"
)

// mode is the configuration mode a line is read in: top level, or inside the
// block a non-indented line opened.
type mode uint8

const (
	topMode mode = iota
	profileMode
	ipACLMode
	macACLMode
	qosMode
)

// parser applies configuration text to a Config, line by line, the way a
// switch applies typed commands to its running configuration.
type parser struct {
	cfg  *Config
	mode mode
	name string // the open block's profile, access list or policy-map
}

// Parse reads configuration text in NX-OS running-config style and returns
// the Config it describes. Blocks are opened by non-indented lines
// (port-profile, ip access-list, mac access-list, policy-map type qos) and
// hold the indented lines below them; "!" starts a comment line.
//
//	port-profile webservers
//	  switchport access vlan 10
//	  ip access-group 500 in
//	  inherit port-profile server
//
// Parse checks each line (known command, values in range) and stops at the
// first wrong one with a *ParseError. It does not check references between
// objects (an inherited profile or an access list defined elsewhere); see
// Config.Validate.
func Parse(src string) (*Config, error) {
	cfg := NewConfig()
	if err := cfg.Apply(src); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Apply applies configuration text to c as incremental edits, as typing the
// lines on the switch would: a port-profile line opens (or creates) the
// profile and the lines below change it; "no port-profile NAME" deletes it;
// "no switchport access vlan" removes one setting. On error c may be partly
// changed: apply to a Clone (Txn does) to keep edits all-or-nothing.
func (c *Config) Apply(src string) error {
	lines, err := lexLines(src)
	if err != nil {
		return err
	}
	p := &parser{cfg: c}
	for i := range lines {
		if err := p.line(&lines[i]); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) line(l *srcLine) error {
	if l.indent == 0 {
		p.mode, p.name = topMode, ""
		err := dispatch(p, l, topCommands, "top-level")
		if pe, ok := err.(*ParseError); ok && pe.Err == ErrUnknownCommand && pe.Column == l.toks[0].col {
			if m := subModeOf(l); m != "" {
				pe.Msg = strconv.Quote(joinTokens(l.toks)) + " is a " + m + " command: indent it under the " + m + " it belongs to"
				pe.Suggestion = ""
			}
		}
		return err
	}
	switch p.mode {
	case profileMode:
		return dispatch(p, l, profileCommands, "port-profile")
	case qosMode:
		return dispatch(p, l, qosCommands, "policy-map")
	case ipACLMode:
		return p.ipACLLine(l)
	case macACLMode:
		return p.macACLLine(l)
	}
	return &ParseError{Line: l.num, Column: l.toks[0].col, Err: ErrUnknownCommand,
		Msg: "this line is indented, but no port-profile, access-list or policy-map is open above it"}
}

// subModeOf names the block a top-level line would be valid in, or "".
func subModeOf(l *srcLine) string {
	for _, set := range []struct {
		cmds []command
		name string
	}{{profileCommands, "port-profile"}, {qosCommands, "policy-map"}} {
		for i := range set.cmds {
			if _, ok := set.cmds[i].match(l.toks); ok {
				return set.name
			}
		}
	}
	return ""
}

func parseType(s string) Type {
	if s == "ethernet" {
		return Ethernet
	}
	return Vethernet
}

var topCommands = []command{
	cmd("port-profile type {vethernet|ethernet} <name>", func(p *parser, c *cmdCtx) error {
		return p.openProfile(c, parseType(c.arg(0)), true, 1)
	}),
	cmd("port-profile <name>", func(p *parser, c *cmdCtx) error {
		if c.arg(0) == "type" {
			return c.fail(0, ErrSyntax, "incomplete command: expected {vethernet|ethernet} <name> after \"port-profile type\"")
		}
		return p.openProfile(c, Vethernet, false, 0)
	}),
	cmd("no port-profile type {vethernet|ethernet} <name>", func(p *parser, c *cmdCtx) error {
		return p.deleteProfile(c, 1)
	}),
	cmd("no port-profile <name>", func(p *parser, c *cmdCtx) error {
		return p.deleteProfile(c, 0)
	}),
	cmd("ip access-list <name>", func(p *parser, c *cmdCtx) error {
		openNamed(p.cfg.IPACLs, c.arg(0), IPACL{Name: c.arg(0)})
		p.mode, p.name = ipACLMode, c.arg(0)
		return nil
	}),
	cmd("no ip access-list <name>", func(p *parser, c *cmdCtx) error {
		return deleteNamed(c, p.cfg.IPACLs, "ip access-list")
	}),
	cmd("mac access-list <name>", func(p *parser, c *cmdCtx) error {
		openNamed(p.cfg.MACACLs, c.arg(0), MACACL{Name: c.arg(0)})
		p.mode, p.name = macACLMode, c.arg(0)
		return nil
	}),
	cmd("no mac access-list <name>", func(p *parser, c *cmdCtx) error {
		return deleteNamed(c, p.cfg.MACACLs, "mac access-list")
	}),
	cmd("policy-map type qos <name>", func(p *parser, c *cmdCtx) error {
		openNamed(p.cfg.QoSPolicies, c.arg(0), QoSPolicy{Name: c.arg(0)})
		p.mode, p.name = qosMode, c.arg(0)
		return nil
	}),
	cmd("no policy-map type qos <name>", func(p *parser, c *cmdCtx) error {
		return deleteNamed(c, p.cfg.QoSPolicies, "policy-map")
	}),
}

// openNamed adds v under name to m unless m has it already: entering the
// mode of an access list or policy-map creates it.
func openNamed[T any](m map[string]T, name string, v T) {
	if _, ok := m[name]; !ok {
		m[name] = v
	}
}

// deleteNamed removes the access list or policy-map named by the command's
// first argument, or says it does not exist.
func deleteNamed[T any](c *cmdCtx, m map[string]T, what string) error {
	if _, ok := m[c.arg(0)]; !ok {
		return c.fail(0, ErrNotFound, what+" "+c.arg(0)+" does not exist")
	}
	delete(m, c.arg(0))
	return nil
}

// openProfile enters port-profile mode, creating the profile if needed.
func (p *parser) openProfile(c *cmdCtx, t Type, typed bool, nameArg int) error {
	name := c.arg(nameArg)
	pr, ok := p.cfg.Profiles[name]
	switch {
	case !ok:
		p.cfg.Profiles[name] = Profile{Name: name, Type: t}
	case typed && pr.Type != t:
		return c.fail(0, ErrTypeMismatch, "port-profile "+name+" already exists with type "+pr.Type.String()+
			"; a profile's type cannot change (delete it first)")
	}
	p.mode, p.name = profileMode, name
	return nil
}

func (p *parser) deleteProfile(c *cmdCtx, nameArg int) error {
	name := c.arg(nameArg)
	pr, ok := p.cfg.Profiles[name]
	if !ok {
		return c.fail(nameArg, ErrNotFound, "port-profile "+name+" does not exist")
	}
	if nameArg == 1 && pr.Type != parseType(c.arg(0)) {
		return c.fail(0, ErrTypeMismatch, "port-profile "+name+" has type "+pr.Type.String()+", not "+c.arg(0))
	}
	delete(p.cfg.Profiles, name)
	return nil
}
