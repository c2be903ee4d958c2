package profile

import "slices"

// Policy is a profile compiled for the fast path: the resolved settings of
// one profile, its access lists as classifiers, and its marking and
// policing. A Policy is immutable and shared by every vEth bound to the
// profile; the per-vEth state (token buckets, learned MACs) lives in VEth.
type Policy struct {
	profile  string
	revision uint64
	settings Settings
	down     DropReason
	dir      [2]dirPolicy
	secure   secureConfig
}

// dirPolicy is what applies to one direction.
type dirPolicy struct {
	ip, mac *compiledACL // nil when no access-group is applied
	mark    Marking
	police  Police
}

type secureConfig struct {
	on        bool
	max       int
	violation Violation
}

// Profile names the profile the policy was compiled from.
func (p *Policy) Profile() string { return p.profile }

// Revision is the store revision that compiled the policy.
func (p *Policy) Revision() uint64 { return p.revision }

// Settings returns the resolved settings the policy enforces.
func (p *Policy) Settings() Settings { return p.settings }

// Down returns DropNone if the policy lets frames through, or why every
// frame is dropped: DropProfileDisabled or DropShutdown.
func (p *Policy) Down() DropReason { return p.down }

// Compile resolves profile name in cfg and compiles it. It fails as Resolve
// does, or with ErrUndefined for a missing access list or policy-map.
func Compile(cfg *Config, name string) (*Policy, error) {
	return compile(cfg, name, 0, map[string]*compiledACL{})
}

// compile builds the policy of profile name; acls caches compiled access
// lists by kind and name for the duration of one commit.
func compile(cfg *Config, name string, revision uint64, acls map[string]*compiledACL) (*Policy, error) {
	r, err := cfg.Resolve(name)
	if err != nil {
		return nil, err
	}
	s := r.Settings
	p := &Policy{profile: name, revision: revision, settings: s}
	switch {
	case !r.Profile.Enabled:
		p.down = DropProfileDisabled
	case s.Shutdown:
		p.down = DropShutdown
	}
	obj := r.Profile.object()
	for d := In; d <= Out; d++ {
		dp := &p.dir[d]
		if n := s.IPAccessGroup[d]; n != "" {
			a, ok := cfg.IPACLs[n]
			if !ok {
				return nil, configErr(ErrUndefined, obj, "ip access-list %s is not defined", n)
			}
			if dp.ip = acls["ip "+n]; dp.ip == nil {
				dp.ip = compileIPACL(&a)
				acls["ip "+n] = dp.ip
			}
		}
		if n := s.MACAccessGroup[d]; n != "" {
			a, ok := cfg.MACACLs[n]
			if !ok {
				return nil, configErr(ErrUndefined, obj, "mac access-list %s is not defined", n)
			}
			if dp.mac = acls["mac "+n]; dp.mac == nil {
				dp.mac = compileMACACL(&a)
				acls["mac "+n] = dp.mac
			}
		}
		if n := s.ServicePolicy[d]; n != "" {
			q, ok := cfg.QoSPolicies[n]
			if !ok {
				return nil, configErr(ErrUndefined, obj, "policy-map %s is not defined", n)
			}
			dp.mark, dp.police = q.Mark, q.Police
		}
	}
	if s.PortSecurity {
		p.secure = secureConfig{on: true, max: int(s.SecureMax), violation: s.Violation}
	}
	return p, nil
}

// sameInputs reports whether profile name compiles to the same policy in
// both configurations: same resolved settings, state and type, and the same
// content of every access list and policy-map it uses.
func sameInputs(a, b *Config, name string) bool {
	ra, errA := a.Resolve(name)
	rb, errB := b.Resolve(name)
	if errA != nil || errB != nil {
		return false
	}
	if ra.Settings != rb.Settings || ra.Profile.Enabled != rb.Profile.Enabled || ra.Profile.Type != rb.Profile.Type {
		return false
	}
	s := &ra.Settings
	for d := In; d <= Out; d++ {
		if n := s.IPAccessGroup[d]; n != "" && !slices.Equal(a.IPACLs[n].Entries, b.IPACLs[n].Entries) {
			return false
		}
		if n := s.MACAccessGroup[d]; n != "" && !slices.Equal(a.MACACLs[n].Entries, b.MACACLs[n].Entries) {
			return false
		}
		if n := s.ServicePolicy[d]; n != "" && a.QoSPolicies[n] != b.QoSPolicies[n] {
			return false
		}
	}
	return true
}
