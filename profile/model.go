package profile

// Direction is the way a frame crosses a vEth. In is from the VM into the
// switch (the vEth's ingress, "ip access-group NAME in"); Out is from the
// switch toward the VM.
type Direction uint8

// Directions, usable as array indexes.
const (
	In Direction = iota
	Out
)

// String returns "in" or "out", as in ip access-group NAME in|out.
func (d Direction) String() string {
	if d == Out {
		return "out"
	}
	return "in"
}

// Type is the port-profile type: vethernet profiles apply to VM vNICs (vEths),
// ethernet profiles to physical uplinks.
type Type uint8

// Profile types; "port-profile NAME" without a type is vethernet.
const (
	Vethernet Type = iota
	Ethernet
)

// String returns "vethernet" or "ethernet", as in port-profile type.
func (t Type) String() string {
	if t == Ethernet {
		return "ethernet"
	}
	return "vethernet"
}

// Mode is the switchport mode: access carries one untagged VLAN, trunk
// carries the allowed VLANs tagged and the native VLAN untagged.
type Mode uint8

// Switchport modes; access is the default.
const (
	Access Mode = iota
	Trunk
)

// String returns "access" or "trunk", as in switchport mode.
func (m Mode) String() string {
	if m == Trunk {
		return "trunk"
	}
	return "access"
}

// Violation is what port security does when a frame arrives from a new source
// MAC after the port already learned its maximum.
type Violation uint8

// Port-security violation actions, as on NX-OS switches.
const (
	// ViolationShutdown err-disables the vEth: every later frame is dropped
	// until the profile is shut and unshut, its port-security settings
	// change, or VEth.Recover is called. The default.
	ViolationShutdown Violation = iota
	// ViolationRestrict drops the frame and reports DropPortSecurity (the
	// switch counts and logs it).
	ViolationRestrict
	// ViolationProtect drops the frame and reports DropPortSecurityProtect
	// (silently dropped on a switch; niv still tells the caller why).
	ViolationProtect
)

// String returns the keyword of switchport port-security violation.
func (v Violation) String() string {
	switch v {
	case ViolationRestrict:
		return "restrict"
	case ViolationProtect:
		return "protect"
	}
	return "shutdown"
}

// PortBinding is how the vCenter DVPort of a vethernet profile is allocated:
// static (default; kept for the life of the adapter), dynamic (only while the
// VM runs), ephemeral (new every power-on). niv stores and prints it; it does
// not change the data path.
type PortBinding uint8

// Port bindings.
const (
	Static PortBinding = iota
	Dynamic
	Ephemeral
)

// String returns the keyword of port-binding.
func (b PortBinding) String() string {
	switch b {
	case Dynamic:
		return "dynamic"
	case Ephemeral:
		return "ephemeral"
	}
	return "static"
}

// Attrs is a set of interface attributes a profile configures itself. Only
// these are inherited: a child profile gets each attribute its parent (or
// grandparent...) sets and it does not.
type Attrs uint32

// Inheritable attributes, one per command family.
const (
	AttrMode         Attrs = 1 << iota // switchport mode
	AttrAccessVLAN                     // switchport access vlan
	AttrAllowedVLANs                   // switchport trunk allowed vlan
	AttrNativeVLAN                     // switchport trunk native vlan
	AttrSystemVLANs                    // system vlan
	AttrIPACLIn                        // ip access-group NAME in
	AttrIPACLOut                       // ip access-group NAME out
	AttrMACACLIn                       // mac access-group NAME in
	AttrMACACLOut                      // mac access-group NAME out
	AttrQoSIn                          // service-policy type qos input
	AttrQoSOut                         // service-policy type qos output
	AttrPortSecurity                   // switchport port-security
	AttrSecureMax                      // switchport port-security maximum
	AttrViolation                      // switchport port-security violation
	AttrShutdown                       // shutdown / no shutdown

	attrCount = iota
)

// Default values of an attribute no profile in the chain sets.
const (
	DefaultAccessVLAN = 1
	DefaultNativeVLAN = 1
	DefaultSecureMax  = 1
	DefaultMaxPorts   = 32
)

// Limits of the configuration language.
const (
	// MaxInheritDepth is the most inherit links from a profile to its root
	// (NX-OS documents four levels of inheritance).
	MaxInheritDepth = 4
	// MaxPortsLimit is the largest max-ports value.
	MaxPortsLimit = 1024
	// MaxSecureMACs is the largest switchport port-security maximum.
	MaxSecureMACs = 1025
	// MaxNameLen is the longest profile, access-list or policy-map name.
	MaxNameLen = 80
	// MaxDescriptionLen is the longest description.
	MaxDescriptionLen = 254
	// MaxACLEntries is the most entries in one access list.
	MaxACLEntries = 4096
)

// Settings are the inheritable interface settings of a profile. Set says
// which fields this profile configures itself; the others hold their zero
// value in a profile and their inherited (or default) value in a resolved
// view.
type Settings struct {
	Set Attrs

	Mode         Mode
	AccessVLAN   uint16
	AllowedVLANs VLANSet
	NativeVLAN   uint16
	SystemVLANs  VLANSet

	// IPAccessGroup and MACAccessGroup name the access list applied per
	// Direction ("" for none); ServicePolicy names the QoS policy-map.
	IPAccessGroup  [2]string
	MACAccessGroup [2]string
	ServicePolicy  [2]string

	PortSecurity bool
	SecureMax    uint16
	Violation    Violation

	Shutdown bool
}

// Profile is one port-profile: its own properties (not inherited) and the
// interface Settings it configures (inherited by its children).
type Profile struct {
	Name        string
	Type        Type
	Description string
	// Inherit names the parent profile, or "".
	Inherit string
	// Enabled is "state enabled"; a disabled profile's settings are not
	// applied: its vEths stay down (DropProfileDisabled).
	Enabled bool
	// MaxPorts is the most vEths that may bind to the profile; 0 means the
	// default, DefaultMaxPorts.
	MaxPorts uint16
	// PortGroup is "vmware port-group [NAME]": HasPortGroup with an empty
	// PortGroup exports the profile under its own name.
	HasPortGroup bool
	PortGroup    string
	Binding      PortBinding
	// VSIType is "vdp vsi-type ID version V": a VSI associated over VDP
	// (package vdp) with this VSI Type ID and version (IEEE 802.1Qbg
	// 41.2.5-6) gets this profile. At most one profile maps a given pair;
	// HasVSIType says the line is there.
	HasVSIType bool
	VSIType    VSIType

	Settings
}

// VSIType is a VSI Type ID (24 bits) and version, which name a VSI's
// network configuration at the bridge in VDP (IEEE 802.1Qbg 41.2.5, 41.2.6).
type VSIType struct {
	ID      uint32
	Version uint8
}

// MaxVSITypeID is the largest VSI Type ID (24 bits).
const MaxVSITypeID = 1<<24 - 1

// ProfileForVSIType returns the profile whose "vdp vsi-type" line maps t.
func (c *Config) ProfileForVSIType(t VSIType) (string, bool) {
	for name, p := range c.Profiles {
		if p.HasVSIType && p.VSIType == t {
			return name, true
		}
	}
	return "", false
}

// maxPorts returns MaxPorts with its default applied.
func (p *Profile) maxPorts() int {
	if p.MaxPorts == 0 {
		return DefaultMaxPorts
	}
	return int(p.MaxPorts)
}

// object names the profile as the running-config does.
func (p *Profile) object() string { return "port-profile " + p.Name }
