package vis

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vntag"
)

// EVB ports. An evb port faces an edge relay — a hypervisor's VEPA, such
// as Linux macvlan or macvtap in vepa mode — over a link that carries no
// NIV tag (IEEE 802.1Q-2018 clause 40, edge virtual bridging). What tells
// one VM's frames from another's is the VSI's filter, associated over VDP
// (package vdp, clause 41): a vEth on an evb port is bound to the VSI's
// MAC addresses in the VID its frames carry on the link (0: untagged),
// instead of to a VIF.
//
// The port is in reflective relay (802.1Q 40.3: the bridge port's
// hairpin): a frame from one VSI to another behind the same port goes back
// out of it, as a frame from one vEth to another behind the same IV does.
// A frame whose source MAC and VID match no associated VSI on the port is
// dropped and counted on the port (DropUnknownVSI): a VM cannot send as
// one it is not, nor before the station has associated it. Frames to a VSI
// leave with its VID in an 802.1Q tag, or untagged when it has none; a
// flood goes out once per tagging, the edge relay replicating it to its
// VSIs but the source. Frames of an evb port always take the general path.

// ErrVSI is returned for a VSI binding that is empty, out of range, or
// already bound to another vEth on the port.
var ErrVSI = errors.New("vis: bad VSI binding")

// AddEVBPort adds a port toward an edge relay in reflective relay mode
// and returns its port number.
func (s *VIS) AddEVBPort(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ports = append(s.ports, &vport{kind: evbPort, name: name, vsis: map[uint64]int32{}})
	s.updateFanout()
	return len(s.ports) - 1
}

// checkVSI returns an ErrVSI error unless macs (individual addresses, at
// least one) in vid are free on evb port p but for vEth self.
func (vp *vport) checkVSI(p int, vid uint16, macs [][6]byte, self int32) error {
	if len(macs) == 0 || vid > profile.MaxVLAN {
		return fmt.Errorf("%w: %d MACs in VID %d", ErrVSI, len(macs), vid)
	}
	for _, m := range macs {
		if m[0]&1 != 0 || m == [6]byte{} {
			return fmt.Errorf("%w: MAC %x is not an individual address", ErrVSI, m)
		}
		if x, ok := vp.vsis[macKey(m[:], vid)]; ok && x != self {
			return fmt.Errorf("%w: MAC %x VID %d already bound on port %d", ErrVSI, m, vid, p)
		}
	}
	return nil
}

// evbPortOf returns evb port p or an error.
func (s *VIS) evbPortOf(p int) (*vport, error) {
	if p < 0 || p >= len(s.ports) {
		return nil, fmt.Errorf("%w: port %d", ErrNotFound, p)
	}
	if vp := s.ports[p]; vp.kind == evbPort {
		return vp, nil
	}
	return nil, fmt.Errorf("%w: port %d (%s) is not an evb port", ErrPortKind, p, s.ports[p].name)
}

// AddVSI creates vEth id bound on evb port p to the VSI whose frames carry
// source MACs macs and VID vid on the link (0: untagged), admin up. Its
// policy is the one the store has for id, as AddVEth's.
func (s *VIS) AddVSI(id profile.VEthID, p int, vid uint16, macs ...[6]byte) error {
	snap := s.cfg.Store.Snapshot()
	s.mu.Lock()
	err := s.addVSI(id, p, vid, macs, snap)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	snap = s.cfg.Store.Snapshot()
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.byID[id]; ok && snap.Revision > s.veths[i].rev {
		s.setPolicy(i, snap.Policy(id), snap.Revision)
	}
	return nil
}

func (s *VIS) addVSI(id profile.VEthID, p int, vid uint16, macs [][6]byte, snap *profile.State) error {
	if _, ok := s.byID[id]; ok {
		return fmt.Errorf("%w: %v", ErrExists, id)
	}
	vp, err := s.evbPortOf(p)
	if err != nil {
		return err
	}
	if err := vp.checkVSI(p, vid, macs, -1); err != nil {
		return err
	}
	v := &veth{id: id, port: p, adminUp: true, evb: true, vsiMACs: slices.Clone(macs), vsiVID: vid}
	idx := s.place(v)
	s.attachVSI(vp, idx, v)
	s.updateFanout()
	s.setPolicy(idx, snap.Policy(id), snap.Revision)
	return nil
}

// attachVSI binds vEth idx's VSI filter on evb port vp.
func (s *VIS) attachVSI(vp *vport, idx int32, v *veth) {
	for _, m := range v.vsiMACs {
		vp.vsis[macKey(m[:], v.vsiVID)] = idx
	}
	vp.veths = append(vp.veths, idx)
}

// detach unbinds vEth i from its port: its VIF, or its VSI filter.
func (s *VIS) detach(i int32, v *veth) {
	vp := s.ports[v.port]
	if v.evb {
		for _, m := range v.vsiMACs {
			if k := macKey(m[:], v.vsiVID); vp.vsis[k] == i {
				delete(vp.vsis, k)
			}
		}
	} else {
		vp.unbind(v.vif)
	}
	vp.veths = slices.DeleteFunc(vp.veths, func(x int32) bool { return x == i })
}

// MoveVSI binds vEth id to the VSI filter (macs in vid) on evb port p
// instead of where it is bound now — an IV port's VIF or another evb
// port's filter — keeping its id, policy, admin state and counters; its
// MACs are forgotten. It is what a VM migration looks like to the VIS: the
// same VSIID associated on another port.
func (s *VIS) MoveVSI(id profile.VEthID, p int, vid uint16, macs ...[6]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, v, err := s.find(id)
	if err != nil {
		return err
	}
	np, err := s.evbPortOf(p)
	if err != nil {
		return err
	}
	self := int32(-1)
	if v.evb && v.port == p {
		if v.vsiVID == vid && slices.Equal(v.vsiMACs, macs) {
			return nil // already bound so
		}
		self = i
	}
	if err := np.checkVSI(p, vid, macs, self); err != nil {
		return err
	}
	from := v.port
	s.detach(i, v)
	v.port, v.vif, v.tag, v.etag, v.down = p, 0, vntag.Tag{}, vntag.ETag{}, 0
	v.evb, v.vsiMACs, v.vsiVID = true, slices.Clone(macs), vid
	s.attachVSI(np, i, v)
	s.refresh(v)
	s.flushVEths(i)
	s.updateFanout()
	return s.rebuild(from)
}

// VSI is a vEth's binding on an evb port.
type VSI struct {
	Port int
	VID  uint16
	MACs [][6]byte
	// VLAN is the VLAN the VSI's frames are classified to by its policy,
	// 0 while the policy does not admit its VID.
	VLAN uint16
}

// VSIOf returns vEth id's binding, if it is bound on an evb port.
func (s *VIS) VSIOf(id profile.VEthID) (VSI, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.byID[id]
	if !ok || !s.veths[i].evb {
		return VSI{}, false
	}
	v := s.veths[i]
	return VSI{Port: v.port, VID: v.vsiVID, MACs: slices.Clone(v.vsiMACs), VLAN: v.evbVLAN}, true
}

// evbSource returns the vEth that frame b from evb port vp comes from, its
// VSI found by the frame's source MAC and its VID on the link
// (anti-spoof), or -1 when none, counted on vp.
func (s *VIS) evbSource(vp *vport, b []byte) int32 {
	if len(b) < 14 {
		vp.c.Drops[DropMalformed]++
		return -1
	}
	var vid uint16
	if len(b) >= 18 && binary.BigEndian.Uint16(b[12:]) == vntag.EtherTypeDot1Q {
		vid = binary.BigEndian.Uint16(b[14:]) & vidMask
	}
	idx, ok := vp.vsis[macKey(b[6:12], vid)]
	if !ok {
		vp.c.Drops[DropUnknownVSI]++
		return -1
	}
	return idx
}

// evbOut adjusts what toVEth decided for evb vEth v and a frame of vlan:
// it carries only the VLAN its VSI is classified to, tagged with the VSI's
// VID on the link when it has one.
func (v *veth) evbOut(vlan uint16, in bool) (bool, bool) {
	return in && vlan != 0 && vlan == v.evbVLAN, v.vsiVID == 0
}

// floodEVB appends to outs the frames flooding b of vlan takes out of evb
// port pi: one per tagging, when a vEth there other than the source takes
// it (its outbound policy, if any, admitting it). Each such vEth counts
// the frame as sent.
func (s *VIS) floodEVB(pi int, p *vport, src int32, f *port.Frame, vlan uint16, now int64, outs []output) []output {
	var sent [2]bool // untagged, tagged
	b := f.Bytes()
	n := len(b)
	if len(b) >= 18 && binary.BigEndian.Uint16(b[12:]) == vntag.EtherTypeDot1Q {
		n -= vntag.VLANTagLen
	}
	for _, m := range p.veths {
		if m == src {
			continue
		}
		v := s.veths[m]
		if !v.member() || v.evbVLAN != vlan {
			continue
		}
		o := &s.out1
		if !s.toVEth(m, b, vlan, now, o) {
			continue
		}
		t := 0
		ln := n
		if !o.untagged {
			t = 1
			ln += vntag.VLANTagLen
		}
		fs, bs := segments(f, max(ln, vntag.MinFrameLen))
		v.c.TxFrames += fs
		v.c.TxBytes += bs
		if !sent[t] {
			sent[t] = true
			outs = append(outs, output{port: pi, kind: outEVB, untagged: t == 0})
		}
	}
	return outs
}
