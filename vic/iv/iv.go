// Package iv is the data plane of an interface virtualizer (IV): the
// adapter, FEX or port extender that joins each of a host's vNICs to its
// own virtual port (vEth) on an upstream virtual interface switch (VIS,
// package vis) by tagging every frame with the vNIC's VIF.
//
// Upstream (vNIC → VIS) the IV drops any frame that already carries a VNTag
// (0x8926) or an E-Tag (0x893F) — a VM must not choose its own VIF — then
// pushes a VNTag with d=0 and svif_id = the vNIC's VIF, or an E-Tag whose
// E-CID is the vNIC's (and whose E-PCP and E-DEI are the PCP and DEI of
// the frame's 802.1Q tag, 0 without one), and sends it up its active
// uplink. It never
// switches locally, not even between two of its own vNICs: every frame goes
// up, and the VIS sends it back down if it must (hairpin).
//
// Downstream (VIS → vNIC) it pops the tag, pads the frame back to 60 bytes
// if it became shorter, and delivers it to the vNIC named by dvif_id
// (VNTag, p=0) or E-CID (E-Tag, GRP=0), or to every member of a vif list
// (p=1; GRP>0), leaving out the source of a looped frame: svif_id when l=1,
// Ingress_E-CID when not 0. The VIS programs the vif lists through
// SetVIFList and DeleteVIFList, the methods of vis.ListProgrammer, which a
// control-plane speaker can call as well.
//
// An IV has two uplinks, fabric A and B. Each vNIC prefers one; when its
// uplink is down its frames go up the other (fabric failover), and
// downstream frames are accepted from either.
//
// The IV processes frames synchronously, a batch at a time (Process); it
// implements port.Core, so port.Run can drive it on TAP and AF_PACKET
// ports, and a test or a pcap harness can call it directly. Processing
// does not allocate. Counters are kept per VIF and per uplink, with drops
// by reason.
package iv

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/nivkit/niv/vntag"
)

// Port numbers of an IV: the two uplinks come first, the vNICs follow in
// the order they were added.
const (
	UplinkA = 0
	UplinkB = 1
	// FirstVNIC is the port number of the first vNIC added.
	FirstVNIC = 2
)

// Fabric names the uplink a vNIC prefers.
type Fabric uint8

// Fabrics.
const (
	FabricA Fabric = UplinkA
	FabricB Fabric = UplinkB
)

// String returns "A" or "B".
func (f Fabric) String() string {
	if f == FabricB {
		return "B"
	}
	return "A"
}

// Errors of the configuration methods.
var (
	// ErrVIF is returned for a VIF outside the mode's range (VNTag 1-4095,
	// E-Tag 1-0xFFFFF; 0 is reserved), or for a vif list whose id is out of
	// range (VNTag 0-16383; E-Tag a channel with GRP 1-3).
	ErrVIF = errors.New("iv: VIF out of range")
	// ErrExists is returned when a VIF is added twice.
	ErrExists = errors.New("iv: VIF already attached")
	// ErrNotFound is returned for a VIF, port or list the IV does not have.
	ErrNotFound = errors.New("iv: not found")
)

// Config configures an IV.
type Config struct {
	// Mode is the tag on the uplinks: vntag.ModeVNTag (the default, also
	// for the zero Mode) or vntag.ModeETag.
	Mode vntag.Mode
}

// VNICConfig describes a vNIC.
type VNICConfig struct {
	// VIF is the vNIC's VIF: its svif_id (VNTag, 1-4095) or E-CID
	// (E-Tag, 1-0xFFFFF).
	VIF vntag.VIF
	// Fabric is the uplink the vNIC uses while it is up.
	Fabric Fabric
}

// IV is an interface virtualizer's forwarding core. Its methods are safe
// for concurrent use; Process holds the IV's lock for one batch.
type IV struct {
	mu      sync.Mutex
	mode    vntag.Mode
	want    vntag.Kind
	uplinks [2]uplink
	vnics   []vnic              // port FirstVNIC+i
	byVIF   map[vntag.VIF]int32 // VIF → port
	low     []int32             // byVIF for the VIFs below 4096 (every svif_id), as a table; -1 for none
	lists   map[uint32]*vlist   // list id → members
	noFast  bool                // tests: every frame takes the general path
}

type uplink struct {
	up bool
	c  Counters
}

type vnic struct {
	cfg      VNICConfig
	attached bool
	tag      vntag.Tag
	etag     vntag.ETag
	c        Counters
}

type vlist struct {
	vifs  []vntag.VIF
	ports []int32 // attached members, resolved
}

// New returns an IV with both uplinks up and no vNIC.
func New(cfg Config) *IV {
	if cfg.Mode != vntag.ModeETag {
		cfg.Mode = vntag.ModeVNTag
	}
	v := &IV{mode: cfg.Mode, want: vntag.KindVNTag, byVIF: map[vntag.VIF]int32{}, lists: map[uint32]*vlist{}}
	if cfg.Mode == vntag.ModeETag {
		v.want = vntag.KindETag
	}
	v.uplinks[0].up, v.uplinks[1].up = true, true
	v.low = slices.Repeat([]int32{-1}, vntag.MaxSVIF+1)
	return v
}

// lookup returns the port of the vNIC with VIF vif.
func (v *IV) lookup(vif vntag.VIF) (int32, bool) {
	if vif < vntag.VIF(len(v.low)) {
		p := v.low[vif]
		return p, p >= 0
	}
	p, ok := v.byVIF[vif]
	return p, ok
}

// Mode returns the IV's tag mode.
func (v *IV) Mode() vntag.Mode { return v.mode }

func (v *IV) checkVIF(vif vntag.VIF) error {
	max := vntag.VIF(vntag.MaxSVIF)
	if v.mode == vntag.ModeETag {
		max = vntag.MaxECID
	}
	if vif == 0 || vif > max {
		return fmt.Errorf("%w: %d (mode %v allows 1-%d)", ErrVIF, vif, v.mode, max)
	}
	return nil
}

// AddVNIC attaches a vNIC and returns its port number.
func (v *IV) AddVNIC(cfg VNICConfig) (int, error) {
	if err := v.checkVIF(cfg.VIF); err != nil {
		return 0, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.byVIF[cfg.VIF]; ok {
		return 0, fmt.Errorf("%w: %d", ErrExists, cfg.VIF)
	}
	n := vnic{cfg: cfg, attached: true}
	if v.mode == vntag.ModeETag {
		n.etag, _ = vntag.ETagForECID(uint32(cfg.VIF))
	} else {
		n.tag, _ = vntag.Upstream(uint16(cfg.VIF))
	}
	p := FirstVNIC + len(v.vnics)
	v.vnics = append(v.vnics, n)
	v.byVIF[cfg.VIF] = int32(p)
	if cfg.VIF < vntag.VIF(len(v.low)) {
		v.low[cfg.VIF] = int32(p)
	}
	v.resolveLists()
	return p, nil
}

// RemoveVNIC detaches the vNIC with VIF vif. Its port number is not
// reused.
func (v *IV) RemoveVNIC(vif vntag.VIF) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	p, ok := v.byVIF[vif]
	if !ok {
		return fmt.Errorf("%w: VIF %d", ErrNotFound, vif)
	}
	delete(v.byVIF, vif)
	if vif < vntag.VIF(len(v.low)) {
		v.low[vif] = -1
	}
	v.vnics[int(p)-FirstVNIC].attached = false
	v.resolveLists()
	return nil
}

// PortOf returns the port number of the vNIC with VIF vif.
func (v *IV) PortOf(vif vntag.VIF) (int, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	p, ok := v.byVIF[vif]
	return int(p), ok
}

// SetUplinkUp marks uplink u (UplinkA or UplinkB) up or down. The vNICs of
// a fabric whose uplink is down send up the other one.
func (v *IV) SetUplinkUp(u int, up bool) error {
	if u != UplinkA && u != UplinkB {
		return fmt.Errorf("%w: uplink %d", ErrNotFound, u)
	}
	v.mu.Lock()
	v.uplinks[u].up = up
	v.mu.Unlock()
	return nil
}

// ActiveUplink returns the uplink the vNIC with VIF vif sends on now, or
// -1 when both are down.
func (v *IV) ActiveUplink(vif vntag.VIF) (int, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	p, ok := v.byVIF[vif]
	if !ok {
		return -1, fmt.Errorf("%w: VIF %d", ErrNotFound, vif)
	}
	return v.active(v.vnics[int(p)-FirstVNIC].cfg.Fabric), nil
}

func (v *IV) active(f Fabric) int {
	switch {
	case v.uplinks[f].up:
		return int(f)
	case v.uplinks[1-f].up:
		return int(1 - f)
	}
	return -1
}

// SetVIFList makes list replicate to vifs (vis.ListProgrammer). It replaces
// the list if it exists.
func (v *IV) SetVIFList(list uint32, vifs []vntag.VIF) error {
	if err := v.checkList(list); err != nil {
		return err
	}
	for _, vif := range vifs {
		if err := v.checkVIF(vif); err != nil {
			return err
		}
	}
	l := &vlist{vifs: slices.Clone(vifs)}
	slices.Sort(l.vifs)
	l.vifs = slices.Compact(l.vifs)
	v.mu.Lock()
	defer v.mu.Unlock()
	v.resolve(l)
	v.lists[list] = l
	return nil
}

// DeleteVIFList removes list (vis.ListProgrammer).
func (v *IV) DeleteVIFList(list uint32) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.lists[list]; !ok {
		return fmt.Errorf("%w: vif list %d", ErrNotFound, list)
	}
	delete(v.lists, list)
	return nil
}

// VIFList returns the members of list, or false.
func (v *IV) VIFList(list uint32) ([]vntag.VIF, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	l, ok := v.lists[list]
	if !ok {
		return nil, false
	}
	return slices.Clone(l.vifs), true
}

func (v *IV) checkList(list uint32) error {
	if v.mode == vntag.ModeETag {
		if list>>20 == 0 || list>>20 > vntag.MaxGRP {
			return fmt.Errorf("%w: E-Tag list %#x needs GRP 1-3", ErrVIF, list)
		}
		return nil
	}
	if list > vntag.MaxDVIF {
		return fmt.Errorf("%w: vif_list_id %d (0-%d)", ErrVIF, list, vntag.MaxDVIF)
	}
	return nil
}

func (v *IV) resolve(l *vlist) {
	l.ports = l.ports[:0]
	for _, vif := range l.vifs {
		if p, ok := v.byVIF[vif]; ok {
			l.ports = append(l.ports, p)
		}
	}
}

func (v *IV) resolveLists() {
	for _, l := range v.lists {
		v.resolve(l)
	}
}

// Counters returns the counters of the vNIC with VIF vif: Rx is what it
// sent (upstream), Tx what it was given.
func (v *IV) Counters(vif vntag.VIF) (Counters, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	p, ok := v.byVIF[vif]
	if !ok {
		return Counters{}, false
	}
	return v.vnics[int(p)-FirstVNIC].c, true
}

// UplinkCounters returns the counters of uplink u: Rx is what came down
// it, Tx what went up it. Downstream frames that name no attached VIF are
// counted here.
func (v *IV) UplinkCounters(u int) Counters {
	v.mu.Lock()
	defer v.mu.Unlock()
	if u != UplinkA && u != UplinkB {
		return Counters{}
	}
	return v.uplinks[u].c
}
