package profile

import (
	"strings"
)

// Resolved is what a vEth bound to a profile actually gets: the profile's
// settings with every attribute it does not set itself taken from the
// nearest ancestor that does, and the defaults for the rest.
type Resolved struct {
	// Profile is the profile itself (its own, non-inherited properties).
	Profile Profile
	// Settings are the effective settings. Settings.Set holds every
	// attribute some profile in the chain configures.
	Settings Settings
	// Chain is the profile, its parent, its grandparent..., up to the root.
	Chain []string
	from  [attrCount]string
}

// Source names the profile the effective value of attribute a comes from,
// or "" when it is the default.
func (r *Resolved) Source(a Attrs) string {
	for i := range attrCount {
		if a == 1<<i {
			return r.from[i]
		}
	}
	return ""
}

// chain returns name and its ancestors, checking that each exists, has the
// same type, and that there is no cycle and no more than MaxInheritDepth
// links.
func (c *Config) chain(name string) ([]string, error) {
	p, ok := c.Profiles[name]
	if !ok {
		return nil, configErr(ErrUndefined, "port-profile "+name, "no such port-profile")
	}
	chain := []string{name}
	for p.Inherit != "" {
		parent, ok := c.Profiles[p.Inherit]
		if !ok {
			return nil, configErr(ErrUndefined, p.object(), "inherit port-profile %s: no such port-profile", p.Inherit)
		}
		for _, seen := range chain {
			if seen == parent.Name {
				return nil, configErr(ErrInheritCycle, "port-profile "+name,
					"inheritance loops back on itself: %s -> %s", strings.Join(chain, " -> "), parent.Name)
			}
		}
		if parent.Type != p.Type {
			return nil, configErr(ErrTypeMismatch, p.object(), "a %s profile cannot inherit %s profile %s", p.Type, parent.Type, parent.Name)
		}
		chain = append(chain, parent.Name)
		p = parent
	}
	// Depth is checked after the walk so that a long chain that loops is
	// reported as the loop it is.
	if len(chain)-1 > MaxInheritDepth {
		return nil, configErr(ErrInheritDepth, "port-profile "+name,
			"inheritance is %d levels deep (%s); at most %d are supported",
			len(chain)-1, strings.Join(chain, " -> "), MaxInheritDepth)
	}
	return chain, nil
}

// Resolve computes what a vEth bound to profile name gets. It fails with
// ErrUndefined, ErrInheritCycle, ErrInheritDepth or ErrTypeMismatch if the
// inheritance chain is broken.
func (c *Config) Resolve(name string) (*Resolved, error) {
	chain, err := c.chain(name)
	if err != nil {
		return nil, err
	}
	r := &Resolved{Profile: c.Profiles[name], Chain: chain}
	// Apply from the root down, so nearer profiles overwrite farther ones.
	for i := len(chain) - 1; i >= 0; i-- {
		p := c.Profiles[chain[i]]
		for bit := range attrCount {
			a := Attrs(1) << bit
			if p.Set&a != 0 {
				copyAttr(&r.Settings, &p.Settings, a)
				r.from[bit] = p.Name
			}
		}
		r.Settings.Set |= p.Set
	}
	r.Settings.applyDefaults()
	return r, nil
}

// applyDefaults fills every attribute not in s.Set with its default.
func (s *Settings) applyDefaults() {
	if s.Set&AttrAccessVLAN == 0 {
		s.AccessVLAN = DefaultAccessVLAN
	}
	if s.Set&AttrAllowedVLANs == 0 {
		s.AllowedVLANs = AllVLANs()
	}
	if s.Set&AttrNativeVLAN == 0 {
		s.NativeVLAN = DefaultNativeVLAN
	}
	if s.Set&AttrSecureMax == 0 {
		s.SecureMax = DefaultSecureMax
	}
}

// copyAttr copies the value of attribute a from src to dst.
func copyAttr(dst, src *Settings, a Attrs) {
	switch a {
	case AttrMode:
		dst.Mode = src.Mode
	case AttrAccessVLAN:
		dst.AccessVLAN = src.AccessVLAN
	case AttrAllowedVLANs:
		dst.AllowedVLANs = src.AllowedVLANs
	case AttrNativeVLAN:
		dst.NativeVLAN = src.NativeVLAN
	case AttrSystemVLANs:
		dst.SystemVLANs = src.SystemVLANs
	case AttrIPACLIn:
		dst.IPAccessGroup[In] = src.IPAccessGroup[In]
	case AttrIPACLOut:
		dst.IPAccessGroup[Out] = src.IPAccessGroup[Out]
	case AttrMACACLIn:
		dst.MACAccessGroup[In] = src.MACAccessGroup[In]
	case AttrMACACLOut:
		dst.MACAccessGroup[Out] = src.MACAccessGroup[Out]
	case AttrQoSIn:
		dst.ServicePolicy[In] = src.ServicePolicy[In]
	case AttrQoSOut:
		dst.ServicePolicy[Out] = src.ServicePolicy[Out]
	case AttrPortSecurity:
		dst.PortSecurity = src.PortSecurity
	case AttrSecureMax:
		dst.SecureMax = src.SecureMax
	case AttrViolation:
		dst.Violation = src.Violation
	case AttrShutdown:
		dst.Shutdown = src.Shutdown
	}
}

// sameAttr reports whether s and o hold the same value for attribute a.
func (s *Settings) sameAttr(o *Settings, a Attrs) bool {
	var x, y Settings
	copyAttr(&x, s, a)
	copyAttr(&y, o, a)
	return x == y
}

// Text renders the resolved view, like "show port-profile name NAME": the
// profile's own state, its inheritance chain, and the evaluated
// configuration with the origin of each inherited line.
func (r *Resolved) Text() string {
	var b strings.Builder
	p := &r.Profile
	b.WriteString("port-profile " + p.Name + "\n")
	b.WriteString(" type: " + p.Type.String() + "\n")
	if p.Description != "" {
		b.WriteString(" description: " + p.Description + "\n")
	}
	b.WriteString(" status: " + map[bool]string{true: "enabled", false: "disabled"}[p.Enabled] + "\n")
	b.WriteString(" inherit: " + strings.Join(r.Chain[1:], " -> ") + "\n")
	b.WriteString(" evaluated config:\n")
	var lines strings.Builder
	for bit := range attrCount {
		a := Attrs(1) << bit
		if r.Settings.Set&a == 0 {
			continue
		}
		lines.Reset()
		writeSettings(&lines, &r.Settings, a)
		text := strings.TrimSuffix(lines.String(), "\n")
		if text == "" {
			continue
		}
		if src := r.from[bit]; src != p.Name {
			text += "  ! from " + src
		}
		b.WriteString(text + "\n")
	}
	return b.String()
}
