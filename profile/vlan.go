package profile

import (
	"math/bits"
	"strconv"
	"strings"
)

// VLAN limits from IEEE 802.1Q: VID 0 means "no VLAN" (priority tag) and
// 4095 is reserved, so a port can be configured with 1-4094 only.
const (
	MinVLAN = 1
	MaxVLAN = 4094
)

// VLANSet is a set of VLAN IDs, one bit per VID, as used by
// switchport trunk allowed vlan and system vlan. The zero value is the empty
// set. It is a plain array: copying it copies the set, and == compares sets.
type VLANSet [4096 / 64]uint64

// AllVLANs returns the set 1-4094, the default of switchport trunk allowed
// vlan.
func AllVLANs() VLANSet {
	var s VLANSet
	s.AddRange(MinVLAN, MaxVLAN)
	return s
}

// Contains reports whether vid is in the set.
func (s *VLANSet) Contains(vid uint16) bool {
	return vid < 4096 && s[vid>>6]&(1<<(vid&63)) != 0
}

// Add puts vid in the set; IDs outside 0-4095 are ignored.
func (s *VLANSet) Add(vid uint16) {
	if vid < 4096 {
		s[vid>>6] |= 1 << (vid & 63)
	}
}

// AddRange puts every VID from lo to hi inclusive in the set.
func (s *VLANSet) AddRange(lo, hi uint16) {
	for v := int(lo); v <= int(hi) && v < 4096; v++ {
		s.Add(uint16(v))
	}
}

// Union adds every member of o to s.
func (s *VLANSet) Union(o *VLANSet) {
	for i := range s {
		s[i] |= o[i]
	}
}

// Subtract removes every member of o from s.
func (s *VLANSet) Subtract(o *VLANSet) {
	for i := range s {
		s[i] &^= o[i]
	}
}

// Len returns the number of VLANs in the set.
func (s *VLANSet) Len() int {
	n := 0
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	return n
}

// IsSubsetOf reports whether every member of s is in o.
func (s *VLANSet) IsSubsetOf(o *VLANSet) bool {
	for i := range s {
		if s[i]&^o[i] != 0 {
			return false
		}
	}
	return true
}

// String renders the set as NX-OS does: ascending, ranges joined with "-",
// items separated by ","; "none" for the empty set.
func (s VLANSet) String() string {
	var b strings.Builder
	for v := 0; v < 4096; v++ {
		if !s.Contains(uint16(v)) {
			continue
		}
		end := v
		for end+1 < 4096 && s.Contains(uint16(end+1)) {
			end++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(v))
		if end > v {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(end))
		}
		v = end
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

// parseVLAN parses one VLAN ID in 1-4094.
func parseVLAN(s string) (uint16, string, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, "VLAN " + strconv.Quote(s) + " is not a number; VLAN IDs are 1-4094", ErrSyntax
	}
	if n < MinVLAN || n > MaxVLAN {
		why := "VLAN IDs are 1-4094"
		switch {
		case n == 0:
			why = "VLAN 0 means untagged (priority tag) and cannot be configured; " + why
		case n == 4095:
			why = "VLAN 4095 is reserved by IEEE 802.1Q; " + why
		}
		return 0, "VLAN " + s + " is out of range: " + why, ErrVLANRange
	}
	return uint16(n), "", nil
}

// parseVLANList parses an NX-OS VLAN list such as "1-10,20,30-32". It
// returns a message and a sentinel on error.
func parseVLANList(s string) (VLANSet, string, error) {
	var set VLANSet
	for item := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(item, "-")
		a, msg, err := parseVLAN(lo)
		if err != nil {
			return set, msg, err
		}
		b := a
		if isRange {
			if b, msg, err = parseVLAN(hi); err != nil {
				return set, msg, err
			}
			if b < a {
				return set, "VLAN range " + item + " runs backwards; write it low-high", ErrVLANRange
			}
		}
		set.AddRange(a, b)
	}
	return set, "", nil
}
