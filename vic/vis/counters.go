package vis

import (
	"fmt"
	"strings"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vntag"
)

// Drop says why the VIS dropped a frame. The first values are the
// profile's drop reasons (profile.DropReason), so a policy verdict indexes
// the same counters.
type Drop uint8

// Drop reasons decided by a vEth's policy.
const (
	DropNone                = Drop(profile.DropNone)
	DropNoPolicy            = Drop(profile.DropNoPolicy)
	DropProfileDisabled     = Drop(profile.DropProfileDisabled)
	DropShutdown            = Drop(profile.DropShutdown)
	DropErrDisabled         = Drop(profile.DropErrDisabled)
	DropVLAN                = Drop(profile.DropVLAN)
	DropPortSecurity        = Drop(profile.DropPortSecurity)
	DropPortSecurityProtect = Drop(profile.DropPortSecurityProtect)
	DropMACACL              = Drop(profile.DropMACACL)
	DropIPACL               = Drop(profile.DropIPACL)
	DropPolicer             = Drop(profile.DropPolicer)
)

// Drop reasons decided by the VIS itself.
const (
	// DropMalformed: shorter than its headers, or a tag stack cut short.
	DropMalformed Drop = Drop(profile.NumDropReasons) + iota
	// DropNoTag: a frame on an IV port without the port's VNTag or E-Tag
	// right after the MAC addresses.
	DropNoTag
	// DropBadTag: an upstream VNTag with d=1, p=1, l=1 or a version other
	// than 0; an upstream E-Tag with GRP or Ingress_E-CID set.
	DropBadTag
	// DropUnknownVIF: the svif_id or E-CID is not bound on the port the
	// frame arrived on (spoofing, or a vEth not yet created).
	DropUnknownVIF
	// DropAdminDown: the vEth is shut.
	DropAdminDown
	// DropSelf: the destination MAC was learned on the frame's own vEth
	// or uplink.
	DropSelf
	// DropUplinkToUplink: a frame from a plain uplink for another uplink
	// (end-host mode).
	DropUplinkToUplink
	// DropNoRoom: a flooded copy did not fit in an empty Tx.
	DropNoRoom
	// DropLinkLocal: a frame to a reserved address 01:80:C2:00:00:00-0F,
	// which a C-VLAN bridge never relays (IEEE 802.1Q 8.6.3, Table 8-1).
	// What the VIS's own control plane consumes (ECP, LLDP) is taken out
	// in front of the core (vic/bind.Control) and never reaches it.
	DropLinkLocal
	// DropGroupSource: a frame whose source MAC is a group address (IEEE
	// 802.3 3.2.3: the source is always an individual address); the
	// address is not learned.
	DropGroupSource
	// DropNIVTag: a NIV tag where none may be: behind the IV port's tag
	// (after any VLAN tags), or on a plain uplink. A NIV tag never
	// travels beyond its own link.
	DropNIVTag
	// DropNoPadRoom: a frame on its way out whose buffer is too small for
	// the frame padded to 60 bytes with the 802.1Q tag and NIV tag it must
	// carry (a frame moves within its buffer to make room when the room
	// is there), counted on the vEth or port it was going to. It is never
	// sent short, or without a tag it needs.
	DropNoPadRoom
	// DropUnknownVSI: a frame on an evb port whose source MAC and VID on
	// the link match no VSI associated there (anti-spoof: a VM sending as
	// another, or before its station associated it over VDP).
	DropUnknownVSI
	// NumDrops is the number of drop reasons, for counter arrays.
	NumDrops
)

var visDropNames = [...]string{
	"malformed", "no NIV tag", "bad tag", "VIF not bound on this port", "administratively down",
	"destination is the source", "uplink to uplink", "no room in Tx",
	"reserved link-local destination", "group source address", "NIV tag behind the tag",
	"no room to pad", "no VSI associated for source MAC and VID",
}

// String describes the reason.
func (d Drop) String() string {
	switch {
	case d < Drop(profile.NumDropReasons):
		return profile.DropReason(d).String()
	case d < NumDrops:
		return visDropNames[d-Drop(profile.NumDropReasons)]
	}
	return fmt.Sprintf("Drop(%d)", uint8(d))
}

// Counters are a vEth's counters, as "show interface vethernet" shows
// them: Rx is what the VM sent (input), Tx what it was sent (output),
// bytes as the VM sees the frame (no NIV tag).
type Counters struct {
	RxFrames, RxBytes uint64
	TxFrames, TxBytes uint64
	// Drops counts dropped frames by reason: input drops (the frame came
	// from this vEth) and output drops (it was going to it).
	Drops [NumDrops]uint64
	// LearnRefused counts source MACs not learned because the vEth or the
	// table was at its limit.
	LearnRefused uint64
}

// Dropped returns the total of Drops.
func (c *Counters) Dropped() uint64 {
	var n uint64
	for _, d := range c.Drops {
		n += d
	}
	return n
}

// PortCounters are a port's counters: frames and bytes as on the wire
// (with the NIV tag on an IV port), and drops that no vEth can be charged
// with.
type PortCounters struct {
	RxFrames, RxBytes uint64
	TxFrames, TxBytes uint64
	Drops             [NumDrops]uint64
	// ListErrors counts profile changes whose vif lists the IV refused.
	ListErrors uint64
	// ListFallbacks counts floods sent to this port as one copy per
	// admitted VIF instead of one frame to a vif list, because outbound
	// policies admitted only some members and the IV could not hold a
	// list of those (no free list id, or the IV refused it).
	ListFallbacks uint64
}

func dropText(drops []uint64) string {
	var parts []string
	for d, n := range drops {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", Drop(d), n))
		}
	}
	return strings.Join(parts, ", ")
}

// Counters returns vEth id's counters.
func (s *VIS) Counters(id profile.VEthID) (Counters, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.byID[id]
	if !ok {
		return Counters{}, false
	}
	return s.countersOf(i), true
}

// PortCounters returns port p's counters.
func (s *VIS) PortCounters(p int) (PortCounters, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p < 0 || p >= len(s.ports) {
		return PortCounters{}, false
	}
	return s.ports[p].c, true
}

// ShowInterface renders vEth id like NX-OS "show interface vethernet N":
// state, binding, profile, learned MACs, input and output counters, drops
// by reason.
func (s *VIS) ShowInterface(id profile.VEthID) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.byID[id]
	if !ok {
		return "", fmt.Errorf("%w: %v", ErrNotFound, id)
	}
	v := s.veths[i]
	vp := s.ports[v.port]
	c := s.countersOf(i)
	state := "up"
	switch {
	case !v.adminUp:
		state = "down (Administratively down)"
	case v.errDis:
		state = "down (err-disabled by port security)"
	case v.pv.Policy() == nil:
		state = "down (no port-profile bound)"
	case !v.up:
		state = "down (" + v.pv.Policy().Down().String() + ")"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%v is %s\n", v.id, state)
	what := "svif"
	if vp.mode == vntag.ModeETag {
		what = "E-CID"
	}
	if v.evb {
		fmt.Fprintf(&b, "  Bound to VSI %s VID %d on port %d (%s, evb)\n", macList(v.vsiMACs), v.vsiVID, v.port, vp.name)
	} else {
		fmt.Fprintf(&b, "  Bound to %s %d on port %d (%s, %v)\n", what, v.vif, v.port, vp.name, vp.mode)
	}
	if v.profile != "" {
		mode := "trunk, native VLAN " + fmt.Sprint(v.native)
		if v.access {
			mode = "access VLAN " + fmt.Sprint(v.vlan)
		}
		fmt.Fprintf(&b, "  Port-profile %s, %s\n", v.profile, mode)
	}
	fmt.Fprintf(&b, "  Learned MACs: %d\n", v.macs)
	fmt.Fprintf(&b, "  Input:  %d frames, %d bytes\n", c.RxFrames, c.RxBytes)
	fmt.Fprintf(&b, "  Output: %d frames, %d bytes\n", c.TxFrames, c.TxBytes)
	if n := c.Dropped(); n > 0 {
		fmt.Fprintf(&b, "  Drops:  %d (%s)\n", n, dropText(c.Drops[:]))
	} else {
		b.WriteString("  Drops:  0\n")
	}
	if c.LearnRefused > 0 {
		fmt.Fprintf(&b, "  MACs not learned (limit): %d\n", c.LearnRefused)
	}
	return b.String(), nil
}

// macList renders MACs as aa:bb:cc:dd:ee:ff, comma-separated.
func macList(macs [][6]byte) string {
	parts := make([]string, len(macs))
	for i, m := range macs {
		parts[i] = fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
	}
	return strings.Join(parts, ",")
}

// segments returns what frame f counts as, its length as counted being n
// (f.Len() less a tag not counted, or more one it is yet to get): one
// frame of n bytes, or,
// for a super-frame (port.Offload), the segments it stands for, each with
// its own copy of the headers — what the frame is on a wire with a real
// MTU, as the input policer counts it. The general path's per-frame
// counting tests superFrame itself and calls segments only for a
// super-frame, as segments is too large to be inlined.
func segments(f *port.Frame, n int) (frames, bytes uint64) {
	if !superFrame(f) {
		return 1, uint64(n)
	}
	o := f.Offload()
	l := f.Len()
	k := o.Segments(l)
	return uint64(k), uint64(o.SegmentBytes(l) - k*(l-n))
}

// superFrame reports whether f may be a super-frame (its Offload has a
// GSO type: a frame whose checksum alone is left to do is not one), which
// the fast passes leave to the general path (it counts its segments).
func superFrame(f *port.Frame) bool {
	return f.Off >= port.VNetHdrLen && f.Buf[1] != 0
}
