package profile

import (
	"strconv"
	"sync/atomic"
)

// VEthID identifies a vEthernet interface. Like the Nexus 1000V's vEth
// numbers it carries no module or host, so it stays the same when the VM
// moves.
type VEthID uint32

// String returns the interface name, "Vethernet12".
func (id VEthID) String() string { return "Vethernet" + strconv.FormatUint(uint64(id), 10) }

// VEth is the per-vEth state a policy needs on the fast path: the current
// Policy, a token bucket per direction and the MACs port security learned.
// The VIS owns one per vEth. The zero value is ready to use and drops every
// frame with DropNoPolicy until SetPolicy is called.
//
// Concurrency: SetPolicy, Policy and Recover may be called from any
// goroutine at any time. Evaluate and LearnedMACs must be called by one
// goroutine at a time per VEth (the one processing that vEth's frames);
// different VEths are independent. A policy swap is a single atomic pointer
// store, so a frame is evaluated entirely under the old policy or entirely
// under the new one.
type VEth struct {
	policy     atomic.Pointer[Policy]
	recoverReq atomic.Bool

	// Owned by the goroutine calling Evaluate.
	applied     *Policy
	errDisabled bool
	bucket      [2]tokenBucket
	secure      secureMACs
}

// SetPolicy makes p the vEth's policy from the next frame on; nil unbinds
// it. Applying a policy that is down (shutdown, disabled) or unbinding also
// clears an err-disabled state, like shut/no shut on a switch port.
func (v *VEth) SetPolicy(p *Policy) {
	if p == nil || p.down != DropNone {
		v.recoverReq.Store(true)
	}
	v.policy.Store(p)
}

// Policy returns the current policy, or nil.
func (v *VEth) Policy() *Policy { return v.policy.Load() }

// Recover clears an err-disabled state (after a port-security violation with
// violation shutdown) and forgets the learned MACs, from the next frame on.
func (v *VEth) Recover() { v.recoverReq.Store(true) }

// LearnedMACs returns how many source MACs port security has learned.
func (v *VEth) LearnedMACs() int { return v.secure.count() }

// apply sets up the per-vEth state for p. Token buckets and learned MACs
// survive an edit that leaves their settings alone, so an unrelated profile
// change neither refills a policer nor forgets secure MACs.
func (v *VEth) apply(p *Policy) {
	old := v.applied
	v.applied = p
	if v.recoverReq.Swap(false) {
		v.errDisabled = false
		v.secure.reset(0)
		old = nil
	}
	if p == nil {
		return
	}
	for d := range p.dir {
		if old == nil || old.dir[d].police != p.dir[d].police {
			v.bucket[d].configure(p.dir[d].police)
		}
	}
	if old == nil || old.secure != p.secure {
		v.errDisabled = false
		v.secure.reset(p.secure.max)
	}
}

// Evaluate decides on one frame: VLAN admission and classification, port
// security (In only), mac and ip access-groups, policing, and the marking to
// apply. now is the caller's clock in nanoseconds (any epoch, but monotonic
// per vEth); the policer measures time only through it. Evaluate does not
// allocate per frame; the first frame after a policy change may allocate
// the port-security table when its settings changed.
func (v *VEth) Evaluate(f *Frame, now int64) Verdict {
	p := v.policy.Load()
	if p != v.applied || v.recoverReq.Load() {
		v.apply(p)
	}
	if p == nil {
		return Verdict{Drop: DropNoPolicy}
	}
	if p.down != DropNone {
		return Verdict{Drop: p.down}
	}
	if v.errDisabled {
		return Verdict{Drop: DropErrDisabled}
	}
	d := In
	if f.Dir != In {
		d = Out
	}
	vd := p.classifyVLAN(f, d)
	if vd.Drop != DropNone {
		return vd
	}
	if d == In && p.secure.on && !v.secure.learn(f.Src) {
		switch p.secure.violation {
		case ViolationRestrict:
			return Verdict{Drop: DropPortSecurity, VLAN: vd.VLAN}
		case ViolationProtect:
			return Verdict{Drop: DropPortSecurityProtect, VLAN: vd.VLAN}
		}
		v.errDisabled = true
		return Verdict{Drop: DropErrDisabled, VLAN: vd.VLAN}
	}
	dp := &p.dir[d]
	var keys keyVector
	if dp.mac != nil {
		macKeys(f, vd.VLAN, &keys)
		if i := dp.mac.cls.lookup(&keys); i < 0 || dp.mac.actions[i] == Deny {
			vd.Drop = DropMACACL
			return vd
		}
	}
	if dp.ip != nil && f.SrcIP.Is4() && f.DstIP.Is4() {
		ipKeys(f, &keys)
		if i := dp.ip.cls.lookup(&keys); i < 0 || dp.ip.actions[i] == Deny {
			vd.Drop = DropIPACL
			return vd
		}
	}
	if dp.police.CIR != 0 && !v.bucket[d].admit(now, f.Len) {
		vd.Drop = DropPolicer
		return vd
	}
	vd.Mark = dp.mark
	return vd
}

// classifyVLAN applies the switchport mode. In: an access port takes
// untagged (or priority-tagged, or access-VLAN-tagged) frames into its access
// VLAN; a trunk takes untagged frames into its native VLAN and tagged frames
// of allowed VLANs. Out: the VLAN must be the access VLAN, or an allowed
// VLAN of the trunk; access frames and native-VLAN frames leave untagged.
func (p *Policy) classifyVLAN(f *Frame, d Direction) Verdict {
	s := &p.settings
	if s.Mode == Access {
		if (d == In && f.VLAN == 0) || f.VLAN == s.AccessVLAN {
			return Verdict{VLAN: s.AccessVLAN, Untagged: d == Out}
		}
		return Verdict{Drop: DropVLAN, VLAN: f.VLAN}
	}
	vlan := f.VLAN
	if vlan == 0 && d == In {
		vlan = s.NativeVLAN
	}
	if !s.AllowedVLANs.Contains(vlan) || vlan == 0 {
		return Verdict{Drop: DropVLAN, VLAN: vlan}
	}
	return Verdict{VLAN: vlan, Untagged: d == Out && vlan == s.NativeVLAN}
}
