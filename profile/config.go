package profile

import (
	"maps"
	"slices"
)

// Config is a whole port-profile configuration: profiles, access lists and
// QoS policy-maps, keyed by name. It is what Parse returns and what Text
// prints. A Config held by a committed State must not be modified; Clone it
// first.
type Config struct {
	Profiles    map[string]Profile
	IPACLs      map[string]IPACL
	MACACLs     map[string]MACACL
	QoSPolicies map[string]QoSPolicy
}

// NewConfig returns an empty Config.
func NewConfig() *Config {
	return &Config{
		Profiles:    map[string]Profile{},
		IPACLs:      map[string]IPACL{},
		MACACLs:     map[string]MACACL{},
		QoSPolicies: map[string]QoSPolicy{},
	}
}

// Clone returns a copy that can be edited without touching c. Access-list
// entry slices are shared: edits replace them, never write into them.
func (c *Config) Clone() *Config {
	return &Config{
		Profiles:    maps.Clone(c.Profiles),
		IPACLs:      maps.Clone(c.IPACLs),
		MACACLs:     maps.Clone(c.MACACLs),
		QoSPolicies: maps.Clone(c.QoSPolicies),
	}
}

// Equal reports whether c and o hold the same configuration.
func (c *Config) Equal(o *Config) bool {
	if c == o {
		return true
	}
	return maps.Equal(c.Profiles, o.Profiles) &&
		maps.EqualFunc(c.IPACLs, o.IPACLs, func(a, b IPACL) bool {
			return a.Name == b.Name && slices.Equal(a.Entries, b.Entries)
		}) &&
		maps.EqualFunc(c.MACACLs, o.MACACLs, func(a, b MACACL) bool {
			return a.Name == b.Name && slices.Equal(a.Entries, b.Entries)
		}) &&
		maps.Equal(c.QoSPolicies, o.QoSPolicies)
}
