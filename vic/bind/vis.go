package bind

import (
	"errors"
	"fmt"
	"sync"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

// ParkingPort is the name of the IV port NewVISProgrammer adds to the
// core for the vEths that are not bound: no frame ever arrives on it.
const ParkingPort = "vic-unbound"

// VISProgrammer is the vic.VISProgrammer of a vis.VIS core and its
// profile.Store: it carries out a VIS machine's actions on them. A vEth's
// port-profile binding is kept in the store (Txn.Bind), its VIF binding
// and link state in the core. Safe for concurrent use.
type VISProgrammer struct {
	core  *vis.VIS
	store profile.Store
	park  int

	mu       sync.Mutex
	ports    map[vic.PortID]int
	veths    map[uint32]*visVEth
	nextPark vntag.VIF              // the parking E-CID given last
	parkHeld map[vntag.VIF]struct{} // the parking E-CIDs vEths hold
}

type visVEth struct {
	parkVIF vntag.VIF // its E-CID on the parking port
	parked  bool
	port    vic.PortID // where it is bound, unless parked
	vif     vntag.VIF
	up      bool // link state the machine asked for
}

// NewVISProgrammer returns the programmer of core, whose vEths it binds to
// port-profiles in store (the core's store). It adds the parking port
// (ParkingPort) to core.
func NewVISProgrammer(core *vis.VIS, store profile.Store) (*VISProgrammer, error) {
	park, err := core.AddIVPort(ParkingPort, vntag.ModeETag, discard{})
	if err != nil {
		return nil, err
	}
	return &VISProgrammer{core: core, store: store, park: park, ports: map[vic.PortID]int{}, veths: map[uint32]*visVEth{}, parkHeld: map[vntag.VIF]struct{}{}}, nil
}

// AddPort says that the vic machine's port p is the core's IV port cp.
func (s *VISProgrammer) AddPort(p vic.PortID, cp int) {
	s.mu.Lock()
	s.ports[p] = cp
	s.mu.Unlock()
}

// SetVEth binds vEth veth to n's port-profile in the store and, for a new
// vEth, creates it in the core, parked until BindVIF. An existing vEth
// keeps its counters. n.VLAN is not applied: the profile decides the VLAN.
func (s *VISProgrammer) SetVEth(veth uint32, n vic.VNIC) error {
	id := profile.VEthID(veth)
	if s.store.Snapshot().Bindings[id] != n.Profile {
		if _, err := s.store.Update(func(tx *profile.Txn) error { tx.Bind(id, n.Profile); return nil }); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.veths[veth]; ok {
		return nil
	}
	pv, err := s.nextParkECID()
	if err != nil {
		return err
	}
	v := &visVEth{parkVIF: pv, parked: true, up: n.Up}
	if err := s.core.AddVEth(id, s.park, v.parkVIF); err != nil {
		return err
	}
	s.veths[veth] = v
	s.parkHeld[pv] = struct{}{}
	return s.core.SetAdminUp(id, false)
}

// nextParkECID returns the parking port's E-CID after the one given last
// that no vEth holds, cycling through the port's range (1-MaxECID) so that
// a freed one comes back as late as possible.
func (s *VISProgrammer) nextParkECID() (vntag.VIF, error) {
	for range vntag.MaxECID {
		s.nextPark = s.nextPark%vntag.MaxECID + 1
		if _, held := s.parkHeld[s.nextPark]; !held {
			return s.nextPark, nil
		}
	}
	return 0, fmt.Errorf("%w: all %d parking E-CIDs held", vis.ErrVIF, vntag.MaxECID)
}

// DeleteVEth deletes vEth veth from the core, with its counters, and its
// binding from the store.
func (s *VISProgrammer) DeleteVEth(veth uint32) error {
	id := profile.VEthID(veth)
	s.mu.Lock()
	v, ok := s.veths[veth]
	if ok {
		delete(s.veths, veth)
		delete(s.parkHeld, v.parkVIF)
	}
	s.mu.Unlock()
	var err error
	if ok {
		err = s.core.RemoveVEth(id)
	}
	if _, bound := s.store.Snapshot().Bindings[id]; bound {
		_, uerr := s.store.Update(func(tx *profile.Txn) error { return tx.Unbind(id) })
		err = errors.Join(err, uerr)
	}
	return err
}

// BindVIF moves vEth veth to VIF vif of the core port of p (vis.MoveVEth:
// its counters stay) and brings it up unless its link is down.
func (s *VISProgrammer) BindVIF(p vic.PortID, vif vntag.VIF, veth uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, cp, err := s.lookup(p, veth)
	if err != nil {
		return err
	}
	if err := s.core.MoveVEth(profile.VEthID(veth), cp, vif); err != nil {
		return err
	}
	v.parked, v.port, v.vif = false, p, vif
	return s.core.SetAdminUp(profile.VEthID(veth), v.up)
}

// UnbindVIF parks the vEth bound to VIF vif of port p: shut, on the
// parking port, its id, configuration and counters kept. A VIF with no
// vEth is not an error.
func (s *VISProgrammer) UnbindVIF(p vic.PortID, vif vntag.VIF) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, v := range s.veths {
		if !v.parked && v.port == p && v.vif == vif {
			return s.parkLocked(id, v)
		}
	}
	return nil
}

func (s *VISProgrammer) parkLocked(id uint32, v *visVEth) error {
	if err := s.core.SetAdminUp(profile.VEthID(id), false); err != nil {
		return err
	}
	if err := s.core.MoveVEth(profile.VEthID(id), s.park, v.parkVIF); err != nil {
		return err
	}
	v.parked = true
	return nil
}

// SetVEthLink sets vEth veth's link state: admin up or shut in the core
// (a parked vEth stays shut until bound).
func (s *VISProgrammer) SetVEthLink(veth uint32, up bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.veths[veth]
	if !ok {
		return fmt.Errorf("%w: vEth %d", vis.ErrNotFound, veth)
	}
	v.up = up
	if v.parked {
		return nil
	}
	return s.core.SetAdminUp(profile.VEthID(veth), up)
}

func (s *VISProgrammer) lookup(p vic.PortID, veth uint32) (*visVEth, int, error) {
	v, ok := s.veths[veth]
	if !ok {
		return nil, 0, fmt.Errorf("%w: vEth %d", vis.ErrNotFound, veth)
	}
	cp, ok := s.ports[p]
	if !ok {
		return nil, 0, fmt.Errorf("%w: vic port %d", vis.ErrNotFound, p)
	}
	return v, cp, nil
}

// Parked reports whether vEth veth exists and is unbound.
func (s *VISProgrammer) Parked(veth uint32) (parked, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.veths[veth]
	if !ok {
		return false, false
	}
	return v.parked, true
}

// discard is the parking port's list programmer: nothing is behind it.
type discard struct{}

func (discard) SetVIFList(uint32, []vntag.VIF) error { return nil }
func (discard) DeleteVIFList(uint32) error           { return nil }

// Profiles is the vic.Profiles view of a profile.Store: a profile is
// enabled when it has "state enabled", full when it has max-ports vEths
// bound (NX-OS's default 32 if it sets none).
type Profiles struct{ Store profile.Store }

// ProfileState implements vic.Profiles.
func (p Profiles) ProfileState(name string) vic.ProfileState {
	st := p.Store.Snapshot()
	pr, ok := st.Config.Profiles[name]
	switch {
	case !ok || pr.Type != profile.Vethernet:
		return vic.ProfileUnknown
	case !pr.Enabled:
		return vic.ProfileDisabled
	}
	max := int(pr.MaxPorts)
	if max == 0 {
		max = profile.DefaultMaxPorts
	}
	if st.Bound(name) >= max {
		return vic.ProfileFull
	}
	return vic.ProfileEnabled
}

var _ vic.VISProgrammer = (*VISProgrammer)(nil)
