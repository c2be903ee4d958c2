package profile

// DropReason says why a frame was dropped; DropNone means it was admitted.
// The values are small and dense so that a counter array can be indexed by
// them: var drops [NumDropReasons]uint64.
type DropReason uint8

// Drop reasons, in the order a policy checks them.
const (
	DropNone                DropReason = iota // admitted
	DropNoPolicy                              // the vEth is not bound to a profile
	DropProfileDisabled                       // the profile is not "state enabled"
	DropShutdown                              // the profile says shutdown
	DropErrDisabled                           // port security shut the vEth down (violation shutdown)
	DropVLAN                                  // the frame's VLAN is not carried by the port
	DropPortSecurity                          // new source MAC over the maximum, violation restrict
	DropPortSecurityProtect                   // new source MAC over the maximum, violation protect
	DropMACACL                                // denied by the mac access-group
	DropIPACL                                 // denied by the ip access-group
	DropPolicer                               // over the service-policy's police rate
	NumDropReasons                            // number of values, for counter arrays
)

var dropNames = [NumDropReasons]string{
	"admitted", "no policy", "profile disabled", "shutdown", "err-disabled (port security)",
	"VLAN not allowed", "port-security violation", "port-security violation (protect)",
	"denied by mac access-group", "denied by ip access-group", "over police rate",
}

// String describes the reason for counters and logs ("denied by ip
// access-group").
func (r DropReason) String() string {
	if r < NumDropReasons {
		return dropNames[r]
	}
	return "unknown"
}

// Verdict is a policy's decision on one frame.
type Verdict struct {
	// Drop is DropNone for an admitted frame, else why it was dropped.
	Drop DropReason
	// VLAN is the VLAN the frame belongs to: for In frames the VLAN the
	// switch forwards it in (the access VLAN, the native VLAN for untagged
	// trunk frames, or the frame's tag); for Out frames the VLAN it leaves in.
	VLAN uint16
	// Untagged is true when an Out frame must leave without an 802.1Q tag
	// (access port, or the trunk's native VLAN).
	Untagged bool
	// Mark is the CoS/DSCP marking to write into an admitted frame.
	Mark Marking
}

// Admitted reports whether the frame may pass.
func (v Verdict) Admitted() bool { return v.Drop == DropNone }
