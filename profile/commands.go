package profile

// The commands of port-profile mode. Each sets or clears one property or
// attribute of the open profile; "no" forms clear, except "no shutdown" and
// "no switchport port-security", which set the attribute to off (so a child
// can override a parent that turns it on).

// edit applies f to the open profile.
func (p *parser) edit(f func(*Profile)) error {
	pr := p.cfg.Profiles[p.name]
	f(&pr)
	p.cfg.Profiles[p.name] = pr
	return nil
}

func dirOf(word string) Direction {
	if word == "out" || word == "output" {
		return Out
	}
	return In
}

// setAttr returns a handler that sets an attribute with f.
func setAttr(a Attrs, f func(*Settings, *cmdCtx)) func(*parser, *cmdCtx) error {
	return func(p *parser, c *cmdCtx) error {
		return p.edit(func(pr *Profile) { f(&pr.Settings, c); pr.Set |= a })
	}
}

// clearAttr returns a handler that removes an attribute and resets its value.
func clearAttr(a Attrs, f func(*Settings)) func(*parser, *cmdCtx) error {
	return func(p *parser, c *cmdCtx) error {
		return p.edit(func(pr *Profile) { pr.Set &^= a; f(&pr.Settings) })
	}
}

// accessGroup handles ip/mac [port] access-group NAME in|out.
func accessGroup(mac bool, nameArg int) func(*parser, *cmdCtx) error {
	return func(p *parser, c *cmdCtx) error {
		d := dirOf(c.arg(nameArg + 1))
		return p.edit(func(pr *Profile) {
			pr.Set |= aclAttr(mac, d)
			pr.aclNames(mac)[d] = c.arg(nameArg)
		})
	}
}

// noAccessGroup handles no ip/mac [port] access-group NAME in|out.
func noAccessGroup(mac bool, nameArg int) func(*parser, *cmdCtx) error {
	return func(p *parser, c *cmdCtx) error {
		d := dirOf(c.arg(nameArg + 1))
		pr := p.cfg.Profiles[p.name]
		if cur := pr.aclNames(mac)[d]; cur != c.arg(nameArg) {
			kind := "ip"
			if mac {
				kind = "mac"
			}
			msg := kind + " access-group " + c.arg(nameArg) + " " + d.String() + " is not configured on port-profile " + p.name
			if cur != "" {
				msg += " (" + cur + " is)"
			}
			return c.fail(nameArg, ErrNotFound, msg)
		}
		return p.edit(func(pr *Profile) {
			pr.Set &^= aclAttr(mac, d)
			pr.aclNames(mac)[d] = ""
		})
	}
}

func aclAttr(mac bool, d Direction) Attrs {
	switch {
	case mac && d == Out:
		return AttrMACACLOut
	case mac:
		return AttrMACACLIn
	case d == Out:
		return AttrIPACLOut
	}
	return AttrIPACLIn
}

func (s *Settings) aclNames(mac bool) *[2]string {
	if mac {
		return &s.MACAccessGroup
	}
	return &s.IPAccessGroup
}

func qosAttr(d Direction) Attrs {
	if d == Out {
		return AttrQoSOut
	}
	return AttrQoSIn
}

var profileCommands = []command{
	cmd("description <text>", func(p *parser, c *cmdCtx) error {
		return p.edit(func(pr *Profile) { pr.Description = c.arg(0) })
	}),
	cmd("no description", func(p *parser, c *cmdCtx) error {
		return p.edit(func(pr *Profile) { pr.Description = "" })
	}),
	cmd("inherit port-profile <name>", func(p *parser, c *cmdCtx) error {
		if c.arg(0) == p.name {
			return c.fail(0, ErrInheritCycle, "port-profile "+p.name+" cannot inherit itself")
		}
		return p.edit(func(pr *Profile) { pr.Inherit = c.arg(0) })
	}),
	cmd("no inherit port-profile <name>", func(p *parser, c *cmdCtx) error {
		if cur := p.cfg.Profiles[p.name].Inherit; cur != c.arg(0) {
			return c.fail(0, ErrNotFound, "port-profile "+p.name+" does not inherit "+c.arg(0))
		}
		return p.edit(func(pr *Profile) { pr.Inherit = "" })
	}),
	cmd("no inherit port-profile", func(p *parser, c *cmdCtx) error {
		return p.edit(func(pr *Profile) { pr.Inherit = "" })
	}),
	cmd("state enabled", func(p *parser, c *cmdCtx) error {
		return p.edit(func(pr *Profile) { pr.Enabled = true })
	}),
	cmd("no state enabled", func(p *parser, c *cmdCtx) error {
		return p.edit(func(pr *Profile) { pr.Enabled = false })
	}),
	cmd("max-ports <1-1024>", func(p *parser, c *cmdCtx) error {
		return p.edit(func(pr *Profile) { pr.MaxPorts = uint16(c.nums[0]) })
	}),
	cmd("no max-ports", func(p *parser, c *cmdCtx) error {
		return p.edit(func(pr *Profile) { pr.MaxPorts = 0 })
	}),
	cmd("vmware port-group <name>", func(p *parser, c *cmdCtx) error {
		return p.edit(func(pr *Profile) { pr.HasPortGroup, pr.PortGroup = true, c.arg(0) })
	}),
	cmd("vmware port-group", func(p *parser, c *cmdCtx) error {
		return p.edit(func(pr *Profile) { pr.HasPortGroup, pr.PortGroup = true, "" })
	}),
	cmd("no vmware port-group", func(p *parser, c *cmdCtx) error {
		return p.edit(func(pr *Profile) { pr.HasPortGroup, pr.PortGroup = false, "" })
	}),
	cmd("port-binding {static|dynamic|ephemeral}", func(p *parser, c *cmdCtx) error {
		b := map[string]PortBinding{"static": Static, "dynamic": Dynamic, "ephemeral": Ephemeral}[c.arg(0)]
		return p.edit(func(pr *Profile) { pr.Binding = b })
	}),
	cmd("vdp vsi-type <0-16777215> version <0-255>", func(p *parser, c *cmdCtx) error {
		t := VSIType{ID: uint32(c.nums[0]), Version: uint8(c.nums[1])}
		if other, ok := p.cfg.ProfileForVSIType(t); ok && other != p.name {
			return c.fail(0, ErrDuplicate, "vdp vsi-type "+c.arg(0)+" version "+c.arg(1)+" is already mapped by port-profile "+other)
		}
		return p.edit(func(pr *Profile) { pr.HasVSIType, pr.VSIType = true, t })
	}),
	cmd("no vdp vsi-type", func(p *parser, c *cmdCtx) error {
		return p.edit(func(pr *Profile) { pr.HasVSIType, pr.VSIType = false, VSIType{} })
	}),
	cmd("no vdp vsi-type <0-16777215> version <0-255>", func(p *parser, c *cmdCtx) error {
		t := VSIType{ID: uint32(c.nums[0]), Version: uint8(c.nums[1])}
		if pr := p.cfg.Profiles[p.name]; !pr.HasVSIType || pr.VSIType != t {
			return c.fail(0, ErrNotFound, "vdp vsi-type "+c.arg(0)+" version "+c.arg(1)+" is not configured on port-profile "+p.name)
		}
		return p.edit(func(pr *Profile) { pr.HasVSIType, pr.VSIType = false, VSIType{} })
	}),
	cmd("no port-binding", func(p *parser, c *cmdCtx) error {
		return p.edit(func(pr *Profile) { pr.Binding = Static })
	}),
	cmd("switchport mode {access|trunk}", setAttr(AttrMode, func(s *Settings, c *cmdCtx) {
		s.Mode = Access
		if c.arg(0) == "trunk" {
			s.Mode = Trunk
		}
	})),
	cmd("no switchport mode", clearAttr(AttrMode, func(s *Settings) { s.Mode = Access })),
	cmd("switchport access vlan <vlan>", setAttr(AttrAccessVLAN, func(s *Settings, c *cmdCtx) {
		s.AccessVLAN = uint16(c.nums[0])
	})),
	cmd("no switchport access vlan", clearAttr(AttrAccessVLAN, func(s *Settings) { s.AccessVLAN = 0 })),
	cmd("switchport trunk allowed vlan {add|remove|except} <vlan-list>", setAttr(AttrAllowedVLANs, func(s *Settings, c *cmdCtx) {
		if s.Set&AttrAllowedVLANs == 0 { // the switch default: all VLANs
			s.AllowedVLANs = AllVLANs()
		}
		list := c.sets[1]
		switch c.arg(0) {
		case "add":
			s.AllowedVLANs.Union(&list)
		case "remove":
			s.AllowedVLANs.Subtract(&list)
		default:
			s.AllowedVLANs = AllVLANs()
			s.AllowedVLANs.Subtract(&list)
		}
	})),
	cmd("switchport trunk allowed vlan {all|none}", setAttr(AttrAllowedVLANs, func(s *Settings, c *cmdCtx) {
		s.AllowedVLANs = VLANSet{}
		if c.arg(0) == "all" {
			s.AllowedVLANs = AllVLANs()
		}
	})),
	cmd("switchport trunk allowed vlan <vlan-list>", setAttr(AttrAllowedVLANs, func(s *Settings, c *cmdCtx) {
		s.AllowedVLANs = c.sets[0]
	})),
	cmd("no switchport trunk allowed vlan", clearAttr(AttrAllowedVLANs, func(s *Settings) { s.AllowedVLANs = VLANSet{} })),
	cmd("switchport trunk native vlan <vlan>", setAttr(AttrNativeVLAN, func(s *Settings, c *cmdCtx) {
		s.NativeVLAN = uint16(c.nums[0])
	})),
	cmd("no switchport trunk native vlan", clearAttr(AttrNativeVLAN, func(s *Settings) { s.NativeVLAN = 0 })),
	cmd("system vlan <vlan-list>", setAttr(AttrSystemVLANs, func(s *Settings, c *cmdCtx) {
		s.SystemVLANs = c.sets[0]
	})),
	cmd("no system vlan", clearAttr(AttrSystemVLANs, func(s *Settings) { s.SystemVLANs = VLANSet{} })),
	cmd("ip access-group <name> {in|out}", accessGroup(false, 0)),
	cmd("ip port access-group <name> {in|out}", accessGroup(false, 0)),
	cmd("no ip access-group <name> {in|out}", noAccessGroup(false, 0)),
	cmd("no ip port access-group <name> {in|out}", noAccessGroup(false, 0)),
	cmd("mac access-group <name> {in|out}", accessGroup(true, 0)),
	cmd("mac port access-group <name> {in|out}", accessGroup(true, 0)),
	cmd("no mac access-group <name> {in|out}", noAccessGroup(true, 0)),
	cmd("no mac port access-group <name> {in|out}", noAccessGroup(true, 0)),
	cmd("service-policy type qos {input|output} <name>", func(p *parser, c *cmdCtx) error {
		d := dirOf(c.arg(0))
		return p.edit(func(pr *Profile) { pr.Set |= qosAttr(d); pr.ServicePolicy[d] = c.arg(1) })
	}),
	cmd("no service-policy type qos {input|output} <name>", func(p *parser, c *cmdCtx) error {
		d := dirOf(c.arg(0))
		if cur := p.cfg.Profiles[p.name].ServicePolicy[d]; cur != c.arg(1) {
			return c.fail(1, ErrNotFound, "service-policy "+c.arg(1)+" is not attached "+c.arg(0)+" on port-profile "+p.name)
		}
		return p.edit(func(pr *Profile) { pr.Set &^= qosAttr(d); pr.ServicePolicy[d] = "" })
	}),
	cmd("switchport port-security", setAttr(AttrPortSecurity, func(s *Settings, c *cmdCtx) { s.PortSecurity = true })),
	cmd("no switchport port-security", setAttr(AttrPortSecurity, func(s *Settings, c *cmdCtx) { s.PortSecurity = false })),
	cmd("switchport port-security maximum <1-1025>", setAttr(AttrSecureMax, func(s *Settings, c *cmdCtx) {
		s.SecureMax = uint16(c.nums[0])
	})),
	cmd("no switchport port-security maximum", clearAttr(AttrSecureMax, func(s *Settings) { s.SecureMax = 0 })),
	cmd("switchport port-security violation {shutdown|restrict|protect}", setAttr(AttrViolation, func(s *Settings, c *cmdCtx) {
		s.Violation = map[string]Violation{"shutdown": ViolationShutdown, "restrict": ViolationRestrict, "protect": ViolationProtect}[c.arg(0)]
	})),
	cmd("no switchport port-security violation", clearAttr(AttrViolation, func(s *Settings) { s.Violation = ViolationShutdown })),
	cmd("shutdown", setAttr(AttrShutdown, func(s *Settings, c *cmdCtx) { s.Shutdown = true })),
	cmd("no shutdown", setAttr(AttrShutdown, func(s *Settings, c *cmdCtx) { s.Shutdown = false })),
}
