package profile

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error the package returns wraps exactly one of these,
// so callers can branch with errors.Is; the wrapping error (*ParseError or
// *ConfigError) carries the position and the wording meant for a network
// admin.
var (
	// ErrUnknownCommand is returned when a configuration line is not a command
	// of the mode it appears in:
	//   - a misspelled keyword ("switchprot access vlan 10")
	//   - a profile command outside a port-profile, or an indented line with no
	//     enclosing block
	//   - a command of another mode (an ACL entry inside a port-profile)
	ErrUnknownCommand = errors.New("profile: unknown command")

	// ErrSyntax is returned when a known command is malformed:
	//   - a missing or extra argument
	//   - a keyword where another was expected ("switchport mode acess")
	//   - an address, MAC, prefix, port or number that does not parse
	//   - a name with characters outside [A-Za-z0-9_.:/-] or longer than MaxNameLen
	ErrSyntax = errors.New("profile: syntax error")

	// ErrVLANRange is returned for a VLAN ID outside 1-4094 (0 and 4095 are
	// reserved by IEEE 802.1Q) or a VLAN range whose start exceeds its end.
	ErrVLANRange = errors.New("profile: VLAN out of range")

	// ErrValueRange is returned for a number outside its command's range:
	//   - max-ports outside 1-MaxPortsLimit
	//   - port-security maximum outside 1-MaxSecureMACs
	//   - CoS outside 0-7, DSCP outside 0-63
	//   - police cir or bc outside their limits
	//   - an ACL sequence number of 0, an empty port range
	ErrValueRange = errors.New("profile: value out of range")

	// ErrDuplicate is returned when an ACL sequence number is used twice in
	// the same access list.
	ErrDuplicate = errors.New("profile: duplicate entry")

	// ErrTooLarge is returned when an access list would hold more than
	// MaxACLEntries entries.
	ErrTooLarge = errors.New("profile: access list too large")

	// ErrInheritCycle is returned when inherit port-profile would make a
	// profile its own ancestor.
	ErrInheritCycle = errors.New("profile: inheritance cycle")

	// ErrInheritDepth is returned when a profile would sit more than
	// MaxInheritDepth inherit links below its root.
	ErrInheritDepth = errors.New("profile: inheritance too deep")

	// ErrUndefined is returned when a name refers to nothing:
	//   - inherit port-profile of a profile that does not exist
	//   - ip/mac access-group naming an undefined access list
	//   - service-policy naming an undefined policy-map
	//   - binding a vEth to an undefined profile
	ErrUndefined = errors.New("profile: undefined name")

	// ErrModeConflict is returned when a profile's resolved switchport mode
	// contradicts its commands: trunk commands (allowed or native VLAN) in
	// access mode, or an access VLAN in trunk mode; or a system VLAN the
	// port would not carry.
	ErrModeConflict = errors.New("profile: command conflicts with switchport mode")

	// ErrTypeMismatch is returned when a vethernet profile inherits an
	// ethernet one (or the reverse), or a vEth is bound to an ethernet
	// (uplink) profile.
	ErrTypeMismatch = errors.New("profile: port-profile type mismatch")

	// ErrInUse is returned when deleting something still referenced:
	//   - a port-profile bound to vEths or inherited by other profiles
	//   - an access list or policy-map used by a profile
	// The error lists the users.
	ErrInUse = errors.New("profile: in use")

	// ErrMaxPorts is returned when binding would attach more vEths to a
	// profile than its max-ports, or lowering max-ports below the number of
	// vEths already bound.
	ErrMaxPorts = errors.New("profile: max-ports exceeded")

	// ErrNotFound is returned when an edit names something that does not
	// exist: deleting an undefined profile, unbinding an unbound vEth.
	ErrNotFound = errors.New("profile: not found")
)

// ParseError reports a configuration line that could not be understood.
// Line and Column are 1-based and point at the offending word.
type ParseError struct {
	Line, Column int
	// Msg says what is wrong, in a network admin's words.
	Msg string
	// Suggestion is the closest valid command or keyword, or "".
	Suggestion string
	// Err is one of the package's sentinel errors.
	Err error
}

// Error renders "profile: line L, column C: MSG; did you mean \"FIX\"?".
func (e *ParseError) Error() string {
	s := fmt.Sprintf("profile: line %d, column %d: %s", e.Line, e.Column, e.Msg)
	if e.Suggestion != "" {
		s += fmt.Sprintf("; did you mean %q?", e.Suggestion)
	}
	return s
}

// Unwrap returns the sentinel error.
func (e *ParseError) Unwrap() error { return e.Err }

// ConfigError reports a configuration that parses but cannot be committed:
// an inheritance cycle, an undefined access list, a deletion of something in
// use.
type ConfigError struct {
	// Object names what is wrong, as the running-config names it, for
	// example "port-profile webservers" or "Vethernet12".
	Object string
	// Msg says what is wrong, in a network admin's words.
	Msg string
	// Err is one of the package's sentinel errors.
	Err error
}

// Error renders "profile: OBJECT: MSG".
func (e *ConfigError) Error() string {
	return fmt.Sprintf("profile: %s: %s", e.Object, e.Msg)
}

// Unwrap returns the sentinel error.
func (e *ConfigError) Unwrap() error { return e.Err }

func configErr(sentinel error, object, format string, args ...any) *ConfigError {
	return &ConfigError{Object: object, Msg: fmt.Sprintf(format, args...), Err: sentinel}
}
