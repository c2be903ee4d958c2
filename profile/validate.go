package profile

// Validate checks what Parse cannot check line by line, for every profile in
// name order, and returns the first problem as a *ConfigError:
//   - inheritance: parent defined, same type, no cycle, depth at most
//     MaxInheritDepth (ErrUndefined, ErrTypeMismatch, ErrInheritCycle,
//     ErrInheritDepth)
//   - references: every access-group names a defined access list of its
//     kind, every service-policy a defined policy-map (ErrUndefined)
//   - mode: trunk allowed/native VLANs only in trunk mode, an access VLAN
//     only in access mode, system VLANs carried by the port, after
//     inheritance (ErrModeConflict)
func (c *Config) Validate() error {
	for _, name := range sortedKeys(c.Profiles) {
		if err := c.validateProfile(name); err != nil {
			return err
		}
	}
	return nil
}

func (c *Config) validateProfile(name string) error {
	r, err := c.Resolve(name)
	if err != nil {
		return err
	}
	p := c.Profiles[name]
	obj := p.object()
	// References are checked where they are written, so each is reported
	// once, on the profile that names it.
	for d := In; d <= Out; d++ {
		if n := p.IPAccessGroup[d]; p.Set&aclAttr(false, d) != 0 {
			if _, ok := c.IPACLs[n]; !ok {
				return configErr(ErrUndefined, obj, "ip access-group %s %s: ip access-list %s is not defined", n, d, n)
			}
		}
		if n := p.MACAccessGroup[d]; p.Set&aclAttr(true, d) != 0 {
			if _, ok := c.MACACLs[n]; !ok {
				return configErr(ErrUndefined, obj, "mac access-group %s %s: mac access-list %s is not defined", n, d, n)
			}
		}
		if n := p.ServicePolicy[d]; p.Set&qosAttr(d) != 0 {
			if _, ok := c.QoSPolicies[n]; !ok {
				return configErr(ErrUndefined, obj, "service-policy type qos %s %s: policy-map %s is not defined",
					map[Direction]string{In: "input", Out: "output"}[d], n, n)
			}
		}
	}
	s := &r.Settings
	from := func(a Attrs) string {
		if src := r.Source(a); src != name {
			return " (inherited from port-profile " + src + ")"
		}
		return ""
	}
	modeFrom := "by default"
	if s.Set&AttrMode != 0 {
		modeFrom = "set" + from(AttrMode)
		if r.Source(AttrMode) == name {
			modeFrom = "set here"
		}
	}
	switch s.Mode {
	case Access:
		for _, a := range []Attrs{AttrAllowedVLANs, AttrNativeVLAN} {
			if s.Set&a != 0 {
				cmd := map[Attrs]string{AttrAllowedVLANs: "switchport trunk allowed vlan", AttrNativeVLAN: "switchport trunk native vlan"}[a]
				return configErr(ErrModeConflict, obj, "%s%s is a trunk command, but the port is in access mode (%s); add switchport mode trunk",
					cmd, from(a), modeFrom)
			}
		}
		if s.Set&AttrSystemVLANs != 0 && !(s.SystemVLANs.Len() == 1 && s.SystemVLANs.Contains(s.AccessVLAN)) {
			return configErr(ErrModeConflict, obj, "system vlan %s%s: an access port carries only its access VLAN %d",
				s.SystemVLANs, from(AttrSystemVLANs), s.AccessVLAN)
		}
	case Trunk:
		if s.Set&AttrAccessVLAN != 0 {
			return configErr(ErrModeConflict, obj, "switchport access vlan%s is an access command, but the port is in trunk mode (%s); use switchport trunk native vlan",
				from(AttrAccessVLAN), modeFrom)
		}
		if s.Set&AttrSystemVLANs != 0 && !s.SystemVLANs.IsSubsetOf(&s.AllowedVLANs) {
			return configErr(ErrModeConflict, obj, "system vlan %s%s includes VLANs the trunk does not allow (allowed: %s)",
				s.SystemVLANs, from(AttrSystemVLANs), s.AllowedVLANs)
		}
	}
	return nil
}
