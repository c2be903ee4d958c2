// Package vis is the data plane of a virtual interface switch (VIS): the
// controlling bridge that gives every VM vNIC its own virtual Ethernet
// port (vEth), reached through an interface virtualizer (package iv) by a
// VNTag or an IEEE 802.1BR E-Tag on the link between them.
//
// # Ports and vEths
//
// A VIS has IV ports, each toward one IV in VNTag or E-Tag mode, and plain
// Ethernet uplinks, 802.1Q trunks toward the rest of the network. A vEth is
// bound to (IV port, VIF): the VIF is the svif_id (VNTag) or E-CID (E-Tag)
// the IV puts on the vNIC's frames. A frame whose VIF is not bound on the
// port it arrived on is dropped and counted (DropUnknownVIF): a VM behind
// one IV cannot claim a vEth behind another.
//
// An evb port (AddEVBPort) faces a hypervisor's edge relay — a VEPA, such
// as Linux macvlan in vepa mode — over a link with no NIV tag (IEEE
// 802.1Qbg): a vEth there is bound to its VSI's MACs and VID on the link
// (AddVSI, MoveVSI), as VDP associated it, frames whose source MAC and VID
// match no VSI are dropped (DropUnknownVSI), and a frame from one VSI to
// another behind the same port goes back out of it (reflective relay).
//
// Each vEth carries the compiled policy of its port-profile from a
// profile.Store and follows every change of it live: VLAN assignment and
// filtering, mac and ip access-groups, CoS/DSCP marking, policing and port
// security are applied by profile.VEth.Evaluate, in (from the VM) on every
// frame and out (toward the VM) on every frame whose destination vEth has
// an outbound access-group or service-policy. A vEth can be shut (admin
// down) without touching its profile.
//
// # Forwarding
//
// MAC addresses are learned per VLAN (bridge domain) with aging, moves and
// a per-vEth limit. Known unicast goes to the destination's vEth with d=1
// and dvif_id = its VIF (E-Tag: its E-CID) — out of the port the frame came
// in on when the destination sits behind the same IV (hairpin), the
// exception to IEEE 802.1D that NIV exists for — or to the uplink the MAC
// was learned on. Unknown unicast, broadcast and multicast go as one frame
// per IV port, addressed to a vif list (p=1; E-Tag GRP=1) holding the
// port's vEths in that VLAN, with l=1 and svif_id = the source (E-Tag:
// Ingress_E-CID) when the source sits behind that port so that the IV
// prunes it; and once out of every plain uplink. When members have an
// outbound policy, the flood still goes as one frame per IV port: through
// the list of every member when every policy admits the frame, else
// through a list of the admitted members, programmed on first use; only
// when the IV cannot hold another list does it go as one p=0 copy per
// admitted member (PortCounters.ListFallbacks). The VIS allocates the
// lists and programs each IV through its ListProgrammer. Frames from an
// uplink never go out of another uplink (end-host mode: no loops without
// spanning tree).
//
// On every port kind the bridge rules hold: a frame to one of the
// reserved addresses 01:80:C2:00:00:00-0F is never relayed (IEEE 802.1Q
// 8.6.3, Table 8-1; DropLinkLocal), a frame with a group source address
// is dropped and its source never learned (IEEE 802.3 3.2.3;
// DropGroupSource), and a NIV tag never leaves its link: a frame with one
// behind the IV port's tag and any VLAN tags, or with one on a plain
// uplink, is dropped (DropNIVTag). In E-Tag mode E-PCP and E-DEI are the
// frame's priority, as an 802.1Q tag's PCP and DEI are: they come in as
// its ingress priority and go out in every tag that carries one.
//
// # Processing and counters
//
// Process handles a batch of frames from one port synchronously, with the
// time passed in, and appends its output to a port.Tx: a VIS is a
// port.Core. Frames take effect in the order they arrived: what one
// changes (a MAC learned or moved, a vEth err-disabled) applies to the
// next. The usual frame — known unicast between vEths with nothing to
// evaluate, with its tag rewritten in place, or from an uplink to such a
// vEth, with the vEth's tag put in front — is forwarded in passes over the
// batch; the rest take the general path one at a time. Steady-state
// processing does not allocate. Every vEth has counters like "show
// interface vethernet": frames and bytes each way and drops by reason
// (Counters, ShowInterface).
package vis

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vntag"
)

// ListProgrammer is how a VIS tells the IV behind an IV port which VIFs a
// vif list replicates to: an *iv.IV itself when the IV is in the same
// process, or a control-plane speaker that sends the list to it (vic/bind's
// Lists). In VNTag mode a list id is the vif_list_id the VIS puts in
// dvif_id with p=1 (1-16383); in E-Tag mode it is the E-channel
// vntag.Channel(GRP, E-CID) with GRP 1. A member not attached to the IV is
// skipped at delivery. The VIS calls it with its lock held, from AddVEth,
// MoveVEth, RemoveVEth and profile changes, so it must not call back into
// the VIS.
type ListProgrammer interface {
	SetVIFList(list uint32, vifs []vntag.VIF) error
	DeleteVIFList(list uint32) error
}

// Errors of the configuration methods.
var (
	// ErrConfig is returned by New for a configuration without a store or
	// with a value out of range.
	ErrConfig = errors.New("vis: bad configuration")
	// ErrVIF is returned for a VIF outside the port's mode (VNTag 1-4095,
	// E-Tag 1-0xFFFFF), or already bound on that port.
	ErrVIF = errors.New("vis: bad VIF")
	// ErrExists is returned when a vEth is added twice.
	ErrExists = errors.New("vis: vEth already exists")
	// ErrNotFound is returned for a vEth or port the VIS does not have.
	ErrNotFound = errors.New("vis: not found")
	// ErrPortKind is returned when a vEth is put on an uplink.
	ErrPortKind = errors.New("vis: not an IV port")
	// ErrLists is returned when a port runs out of vif list ids, or its IV
	// refuses a list; it wraps the IV's error.
	ErrLists = errors.New("vis: vif list programming failed")
)

// Config configures a VIS.
type Config struct {
	// Store holds the port-profiles and the bindings of vEths to them.
	Store profile.Store
	// MACTableSize is the most MAC addresses learned at once (default
	// 65,536). The table takes 32 bytes per address of this size, rounded
	// up to a power of two (2 MiB by default): it is kept at most half
	// full, where lookups are fastest.
	MACTableSize int
	// AgingTime is how long a learned MAC stays without a frame from it
	// (default 300 s, as mac address-table aging-time).
	AgingTime time.Duration
	// MACLimit is the most MACs one vEth may have learned at once; 0 means
	// no limit but the table's. Beyond it new addresses are not learned
	// (counted in Counters.LearnRefused); their frames are still forwarded.
	MACLimit int
	// UplinkNativeVLAN is the VLAN of untagged frames on plain uplinks,
	// which also leaves them untagged (default 1).
	UplinkNativeVLAN uint16
}

// VIS is a virtual interface switch's forwarding core. Its methods are
// safe for concurrent use; Process holds the VIS's lock for one batch.
type VIS struct {
	mu    sync.Mutex
	cfg   Config
	ports []*vport
	veths []*veth // by index; nil once removed
	// hot holds, by the same index, what the fast passes read of each
	// vEth, 16 bytes apiece in one array: refresh keeps it in step.
	hot    []hotVEth
	byID   map[profile.VEthID]int32
	macs   *macTable
	aging  uint32 // in coarse ticks
	cancel func()

	maxFanout int // most frames one input frame can become
	// flushMark marks, by vEth index, the vEths flushVEths forgets the
	// MACs of; all false between calls.
	flushMark []bool
	moves     uint64
	fastGen   uint64 // changes whenever some vEth's fastOut does

	// Scratch of the data path, kept here so that it does not escape per
	// frame.
	fr   profile.Frame
	outs []output
	out1 output
	pend pending
	fast []fastFrame
	// floodPolicy's and subList's scratch.
	subMembers []int32
	subKey     []byte

	// slowOnly keeps every frame on the general path (pop, Load, Evaluate,
	// forward, emit): tests compare the fast paths with it.
	slowOnly bool
}

// portKind tells IV ports from plain uplinks.
type portKind uint8

const (
	ivPort portKind = iota
	uplinkPort
	evbPort
)

type vport struct {
	kind  portKind
	mode  vntag.Mode
	want  vntag.Kind
	lists ListProgrammer
	name  string

	// The vEths bound here by VIF: low for VIFs 1-4095 (every svif_id;
	// the E-CIDs without an E-CID_ext, what a port extender usually
	// assigns), -1 where none, read by the data path without a hash;
	// high for E-CIDs from 4096 up.
	low  *[vntag.MaxSVIF + 1]int32
	high map[vntag.VIF]int32
	// fastIn is what parse reads for a VIF of low, packed in one word so
	// that it takes one load rather than two dependent ones (low, then
	// hot): the vEth bound there when its frames may take the fast path
	// (hotIn), with its mode and access VLAN; 0 where none. bind, unbind
	// and refresh keep it.
	fastIn *[vntag.MaxSVIF + 1]inEntry
	veths  []int32 // vEths bound here

	// vsis holds, on an evb port, the vEths bound by (MAC, VID on the
	// link) as a MAC table key (macKey).
	vsis map[uint64]int32

	flood    [][]floodSet      // by VLAN
	floodOn  []uint16          // the VLANs whose flood entry is not empty
	listByID map[string]uint32 // membership key → list id
	// spare is the flood table before the last rebuild, with spareOn its
	// VLANs: the next rebuild clears those entries and fills it, rather
	// than allocating and clearing 4,096 entries for every vEth change.
	spare    [][]floodSet
	spareOn  []uint16
	nextList uint32
	// sub holds the lists of the members a flood's outbound policies
	// admitted (subList), by tagging and VIFs in set order, until the next
	// rebuild; subFull: the IV could not take another.
	sub     map[string]*floodSet
	subFull bool

	c PortCounters
}

// floodSet is one vif list of an IV port for one VLAN: the vEths that get
// a flooded frame of that VLAN with the same tagging.
type floodSet struct {
	list    uint32
	tagged  bool
	members []int32
	vifs    []vntag.VIF

	// allFast caches whether every member is fastOut, as of fastGen gen.
	gen     uint64
	allFast bool
	// Frames and bytes sent through the list, counted once here instead
	// of once per member on every flood; Counters adds them to each
	// member (less what was pruned at the source, veth.pruned).
	frames, bytes uint64
}

type veth struct {
	// What the data path reads or writes on every frame comes first, so
	// that it shares a cache line or two with the hot counters (c's
	// frames and bytes).
	idx     int32 // index in VIS.veths and VIS.hot
	adminUp bool
	fastOut bool // up, and nothing to evaluate toward the VM
	// inFast: frames from the VM need nothing but VLAN classification
	// (inTrivial), and the policy's per-vEth state is up to date with it
	// (an Evaluate since the last SetPolicy or Recover admitted a frame or
	// dropped it for its VLAN): Evaluate would only classify the VLAN.
	inFast bool
	access bool
	vlan   uint16 // access VLAN
	native uint16
	port   int
	tag    vntag.Tag  // downstream unicast tag
	etag   vntag.ETag // downstream unicast E-Tag
	// down is the same tag as the 8 bytes from its TPID read as a
	// big-endian word, less the bits its port's rewriteKeep keeps.
	down uint64
	c    Counters

	id      profile.VEthID
	vif     vntag.VIF
	pv      profile.VEth
	rev     uint64 // store revision of the policy applied
	profile string

	// Cached from the policy, refreshed on every change.
	up         bool // bound to a policy that is not down
	outTrivial bool // no out access-group or service-policy
	inTrivial  bool // no in access-group or service-policy, no port security
	errDis     bool // port security err-disabled the vEth
	allowed    profile.VLANSet

	macs int // MACs learned

	// On an evb port: the VSI's MACs and the VID its frames carry on the
	// link (0: untagged), and the VLAN they are classified to (evbVLAN;
	// 0 while the policy does not admit vid).
	evb     bool
	vsiMACs [][6]byte
	vsiVID  uint16
	evbVLAN uint16
	// Flooded frames of this vEth's own that went to a list it is a member
	// of: counted in the list's frames but not delivered to it.
	prunedFrames, prunedBytes uint64
}

// hotVEth is what the fast passes (decideFast, emitFast and their uplink
// counterparts; parse reads vport.fastIn) read of a vEth:
// copied from its veth by refresh, so that they find it with one load
// from a dense array rather than through a pointer to a larger struct.
type hotVEth struct {
	down  uint64 // veth.down
	port  int32  // veth.port
	vlan  uint16 // veth.vlan, the access VLAN
	flags hotFlags
}

type hotFlags uint8

const (
	hotIn     hotFlags = 1 << iota // adminUp and inFast
	hotOut                         // fastOut
	hotAccess                      // access mode (else trunk: see veth.allowed)
	hotETag                        // behind an E-Tag port (else VNTag)
)

// checkVIF returns an ErrVIF error unless vif is in the range of port
// p's mode and not yet bound there.
func (vp *vport) checkVIF(p int, vif vntag.VIF) error {
	if vp.mode == vntag.ModeETag {
		if vif == 0 || vif > vntag.MaxECID {
			return fmt.Errorf("%w: E-CID %d (1-%d)", ErrVIF, vif, vntag.MaxECID)
		}
		if _, ok := vp.lookup(vif); ok {
			return fmt.Errorf("%w: E-CID %d already bound on port %d", ErrVIF, vif, p)
		}
		return nil
	}
	if vif == 0 || vif > vntag.MaxSVIF {
		return fmt.Errorf("%w: svif %d (1-%d)", ErrVIF, vif, vntag.MaxSVIF)
	}
	if _, ok := vp.lookup(vif); ok {
		return fmt.Errorf("%w: svif %d already bound on port %d", ErrVIF, vif, p)
	}
	return nil
}

// tags returns the downstream unicast tag of vif in the port's mode (the
// other one is zero).
func (vp *vport) tags(vif vntag.VIF) (vntag.Tag, vntag.ETag) {
	if vp.mode == vntag.ModeETag {
		e, _ := vntag.ETagForECID(uint32(vif))
		return vntag.Tag{}, e
	}
	t, _ := vntag.Downstream(uint16(vif))
	return t, vntag.ETag{}
}

// rewriteKeep is what a tag rewrite in place keeps of the 8 bytes from
// the TPID of a port's upstream tag, as a big-endian word: the TPID, and
// for a VNTag the EtherType after it, for an E-Tag its E-PCP and E-DEI
// (the frame's priority, which it keeps going down). downBits gives the
// rest.
func (vp *vport) rewriteKeep() uint64 {
	if vp.mode == vntag.ModeETag {
		return tpidMask | ePrioBits
	}
	return 0xffff<<48 | 0xffff
}

// ePrioBits are the E-PCP and E-DEI of an E-Tag, as the 8 bytes from its
// TPID read as a big-endian word; shifted right by ePrioShift, they are a
// prio.
const (
	ePrioBits  = vntag.ETCIPCPMask | vntag.ETCIDEIBit
	ePrioShift = 44
)

// downBits returns the bits of downstream tag t (VNTag port) or e (E-Tag
// port) that a rewrite in place puts beside rewriteKeep's: the tag's 4
// bytes after the TPID, or the E-TCI.
func (vp *vport) downBits(t vntag.Tag, e vntag.ETag) uint64 {
	if vp.mode == vntag.ModeETag {
		return e.TCI()
	}
	return uint64(t.Word()) << 16
}

// lookup returns the index of the vEth bound to vif on the port.
func (vp *vport) lookup(vif vntag.VIF) (int32, bool) {
	if vif < vntag.VIF(len(vp.low)) {
		x := vp.low[vif]
		return x, x >= 0
	}
	x, ok := vp.high[vif]
	return x, ok
}

func (vp *vport) bind(vif vntag.VIF, idx int32, h hotVEth) {
	if vif < vntag.VIF(len(vp.low)) {
		vp.low[vif] = idx
		vp.fastIn[vif] = makeInEntry(idx, h)
	} else {
		vp.high[vif] = idx
	}
}

func (vp *vport) unbind(vif vntag.VIF) {
	if vif < vntag.VIF(len(vp.low)) {
		vp.low[vif] = -1
		vp.fastIn[vif] = 0
	} else {
		delete(vp.high, vif)
	}
}

// carries reports whether the vEth is in vlan, and whether frames of that
// VLAN leave toward it untagged.
func (v *veth) carries(vlan uint16) (in, untagged bool) {
	if v.access {
		return vlan == v.vlan, true
	}
	return vlan != 0 && v.allowed.Contains(vlan), vlan == v.native
}

// classifyIn is what Evaluate decides for a frame from the VM whose
// 802.1Q VID is vid (0: untagged or priority-tagged) when the vEth is
// inFast: its VLAN, or false for DropVLAN.
func (v *veth) classifyIn(vid uint16) (uint16, bool) {
	if v.access {
		return v.vlan, vid == 0 || vid == v.vlan
	}
	if vid == 0 {
		vid = v.native
	}
	return vid, vid != 0 && v.allowed.Contains(vid)
}

// member reports whether flooded frames may go to the vEth through a vif
// list without evaluating its outbound policy.
func (v *veth) member() bool { return v.adminUp && v.up }

// New returns a VIS following the profiles of cfg.Store. Call Close to
// stop following them.
func New(cfg Config) (*VIS, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: no profile store", ErrConfig)
	}
	if cfg.MACTableSize <= 0 {
		cfg.MACTableSize = 65536
	}
	if cfg.AgingTime <= 0 {
		cfg.AgingTime = 300 * time.Second
	}
	if cfg.UplinkNativeVLAN == 0 {
		cfg.UplinkNativeVLAN = 1
	}
	if cfg.UplinkNativeVLAN > profile.MaxVLAN || cfg.MACLimit < 0 {
		return nil, fmt.Errorf("%w: native VLAN %d, MAC limit %d", ErrConfig, cfg.UplinkNativeVLAN, cfg.MACLimit)
	}
	s := &VIS{
		cfg:   cfg,
		byID:  map[profile.VEthID]int32{},
		macs:  newMACTable(cfg.MACTableSize),
		aging: uint32(cfg.AgingTime.Nanoseconds() >> timeShift),
		outs:  make([]output, 0, 64),
		fast:  make([]fastFrame, 0, 256),
		// Flood sets start at generation 0, so they check their members
		// on first use.
		fastGen: 1,
	}
	if s.aging == 0 {
		s.aging = 1
	}
	s.cancel = cfg.Store.Subscribe(s.onBatch)
	return s, nil
}

// Close stops following the profile store.
func (s *VIS) Close() { s.cancel() }

// AddIVPort adds a port toward an IV that speaks mode, programmed through
// lists, and returns its port number.
func (s *VIS) AddIVPort(name string, mode vntag.Mode, lists ListProgrammer) (int, error) {
	if lists == nil {
		return 0, fmt.Errorf("%w: IV port %q without a ListProgrammer", ErrConfig, name)
	}
	if mode != vntag.ModeVNTag && mode != vntag.ModeETag {
		return 0, fmt.Errorf("%w: IV port %q: mode %v", ErrConfig, name, mode)
	}
	p := &vport{kind: ivPort, mode: mode, lists: lists, name: name, want: vntag.KindVNTag,
		flood: make([][]floodSet, 4096), listByID: map[string]uint32{}, nextList: 1}
	if mode == vntag.ModeETag {
		p.want = vntag.KindETag
	}
	p.low = new([vntag.MaxSVIF + 1]int32)
	p.fastIn = new([vntag.MaxSVIF + 1]inEntry)
	for i := range p.low {
		p.low[i] = -1
	}
	p.high = map[vntag.VIF]int32{}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ports = append(s.ports, p)
	s.updateFanout()
	return len(s.ports) - 1, nil
}

// AddUplink adds a plain Ethernet uplink and returns its port number.
func (s *VIS) AddUplink(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ports = append(s.ports, &vport{kind: uplinkPort, name: name})
	s.updateFanout()
	return len(s.ports) - 1
}

// updateFanout recomputes the most frames one input can become: a copy
// for every vEth (when a flood falls back to unicast copies) and uplink.
func (s *VIS) updateFanout() {
	n := 1
	for _, p := range s.ports {
		if p.kind == uplinkPort {
			n++
		} else {
			n += len(p.veths) + 1
		}
	}
	s.maxFanout = n
}

// AddVEth creates vEth id, bound to VIF vif on IV port p, admin up. Its
// policy is the one the store has for id (none yet: every frame is dropped
// with DropNoPolicy until the vEth is bound to a profile).
func (s *VIS) AddVEth(id profile.VEthID, p int, vif vntag.VIF) error {
	snap := s.cfg.Store.Snapshot() // outside s.mu: the store calls onBatch under its own lock
	s.mu.Lock()
	err := s.addVEth(id, p, vif, snap)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	// A commit between the snapshot and the insertion was not delivered
	// to this vEth; one after the insertion was. Catch the first kind.
	snap = s.cfg.Store.Snapshot()
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.byID[id]; ok && snap.Revision > s.veths[i].rev {
		if s.setPolicy(i, snap.Policy(id), snap.Revision) {
			s.flushVEths(i)
		}
		return s.rebuild(s.veths[i].port)
	}
	return nil
}

// place puts a new vEth in the first free slot of s.veths (or a new one,
// with its hot entry) and indexes it by id.
func (s *VIS) place(v *veth) int32 {
	idx := int32(len(s.veths))
	for i, x := range s.veths {
		if x == nil {
			idx = int32(i)
			break
		}
	}
	if int(idx) == len(s.veths) {
		s.veths = append(s.veths, v)
		s.hot = append(s.hot, hotVEth{})
	} else {
		s.veths[idx] = v
	}
	v.idx = idx
	s.byID[v.id] = idx
	return idx
}

func (s *VIS) addVEth(id profile.VEthID, p int, vif vntag.VIF, snap *profile.State) error {
	if _, ok := s.byID[id]; ok {
		return fmt.Errorf("%w: %v", ErrExists, id)
	}
	if p < 0 || p >= len(s.ports) {
		return fmt.Errorf("%w: port %d", ErrNotFound, p)
	}
	vp := s.ports[p]
	if vp.kind != ivPort {
		return fmt.Errorf("%w: port %d (%s)", ErrPortKind, p, vp.name)
	}
	v := &veth{id: id, port: p, vif: vif, adminUp: true}
	if err := vp.checkVIF(p, vif); err != nil {
		return err
	}
	v.tag, v.etag = vp.tags(vif)
	v.down = vp.downBits(v.tag, v.etag)
	idx := s.place(v)
	vp.bind(vif, idx, s.hot[idx])
	vp.veths = append(vp.veths, idx)
	s.updateFanout()
	s.setPolicy(idx, snap.Policy(id), snap.Revision)
	return s.rebuild(p)
}

// find returns the index and state of vEth id.
func (s *VIS) find(id profile.VEthID) (int32, *veth, error) {
	i, ok := s.byID[id]
	if !ok {
		return 0, nil, fmt.Errorf("%w: %v", ErrNotFound, id)
	}
	return i, s.veths[i], nil
}

// RemoveVEth deletes vEth id: its VIF is unbound and its MACs forgotten.
func (s *VIS) RemoveVEth(id profile.VEthID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, v, err := s.find(id)
	if err != nil {
		return err
	}
	s.detach(i, v)
	s.flushVEths(i)
	delete(s.byID, id)
	s.veths[i] = nil
	s.hot[i] = hotVEth{}
	s.updateFanout()
	return s.rebuild(v.port)
}

// MoveVEth binds vEth id to VIF vif on IV port p instead of where it is
// bound now, keeping its id, policy, admin state and counters; its MACs are
// forgotten. The control plane uses it when a vNIC migrates to another IV
// or gets another VIF.
func (s *VIS) MoveVEth(id profile.VEthID, p int, vif vntag.VIF) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, v, err := s.find(id)
	if err != nil {
		return err
	}
	if p == v.port && vif == v.vif && !v.evb {
		return nil
	}
	if p < 0 || p >= len(s.ports) {
		return fmt.Errorf("%w: port %d", ErrNotFound, p)
	}
	np := s.ports[p]
	if np.kind != ivPort {
		return fmt.Errorf("%w: port %d (%s)", ErrPortKind, p, np.name)
	}
	if err := np.checkVIF(p, vif); err != nil {
		return err
	}
	tag, etag := np.tags(vif)
	from := v.port
	s.detach(i, v)
	v.evb, v.vsiMACs, v.vsiVID, v.evbVLAN = false, nil, 0, 0
	v.port, v.vif, v.tag, v.etag, v.down = p, vif, tag, etag, np.downBits(tag, etag)
	np.bind(vif, i, s.hot[i])
	np.veths = append(np.veths, i)
	s.refresh(v)
	s.flushVEths(i)
	s.updateFanout()
	return errors.Join(s.rebuild(from), s.rebuild(p))
}

// SetAdminUp brings vEth id up or shuts it (shutdown / no shutdown on the
// interface): a vEth that is down drops every frame from and to it
// (DropAdminDown) and leaves the vif lists; its MACs are forgotten.
func (s *VIS) SetAdminUp(id profile.VEthID, up bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, v, err := s.find(id)
	if err != nil {
		return err
	}
	if v.adminUp == up {
		return nil
	}
	v.adminUp = up
	if !up {
		s.flushVEths(i)
	}
	s.refresh(v)
	return s.rebuild(v.port)
}

// Recover clears a port-security err-disabled state of vEth id (like
// shut / no shut after violation shutdown).
func (s *VIS) Recover(id profile.VEthID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, v, err := s.find(id)
	if err != nil {
		return err
	}
	v.pv.Recover()
	v.errDis = false
	v.inFast = false
	s.refresh(v)
	return nil
}

// onBatch applies the store's new policies.
func (s *VIS) onBatch(b profile.Batch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dirty := map[int]bool{}
	var flush []int32
	for _, u := range b.Updates {
		i, ok := s.byID[u.VEth]
		if !ok || b.Revision <= s.veths[i].rev {
			continue
		}
		if s.setPolicy(i, u.Policy, b.Revision) {
			dirty[s.veths[i].port] = true
			flush = append(flush, i)
		}
	}
	// One pass over the MAC table for the whole batch: an edit of a
	// profile that 10,000 vEths inherit is one scan, not 10,000.
	s.flushVEths(flush...)
	for p := range dirty {
		// A failure is counted on the port; the lists keep their last
		// programmed state.
		if err := s.rebuild(p); err != nil {
			s.ports[p].c.ListErrors++
		}
	}
}

// setPolicy gives vEth i policy p (nil: unbound) from revision rev and
// reports whether its VLAN membership or state changed: then the caller
// must forget its MACs (flushVEths).
func (s *VIS) setPolicy(i int32, p *profile.Policy, rev uint64) bool {
	v := s.veths[i]
	v.rev = rev
	v.pv.SetPolicy(p)
	oldUp, oldAccess, oldVLAN, oldNative, oldAllowed := v.up, v.access, v.vlan, v.native, v.allowed
	v.profile = ""
	v.up = p != nil && p.Down() == profile.DropNone
	v.errDis = false
	v.outTrivial, v.inTrivial, v.inFast = false, false, false
	if p != nil {
		v.profile = p.Profile()
		st := p.Settings()
		v.access = st.Mode == profile.Access
		v.vlan, v.native, v.allowed = st.AccessVLAN, st.NativeVLAN, st.AllowedVLANs
		v.outTrivial = st.IPAccessGroup[profile.Out] == "" && st.MACAccessGroup[profile.Out] == "" && st.ServicePolicy[profile.Out] == ""
		v.inTrivial = st.IPAccessGroup[profile.In] == "" && st.MACAccessGroup[profile.In] == "" && st.ServicePolicy[profile.In] == "" && !st.PortSecurity
	}
	s.refresh(v)
	return oldUp != v.up || oldAccess != v.access || oldVLAN != v.vlan || oldNative != v.native || oldAllowed != v.allowed
}

// refresh recomputes what the data path reads of v's state: fastOut,
// v's entry in s.hot and its VIF's entry in its port's fastIn. Whatever
// changes a field that hotVEth copies calls it.
func (s *VIS) refresh(v *veth) {
	fast := v.adminUp && v.up && !v.errDis && v.outTrivial
	if fast != v.fastOut {
		v.fastOut = fast
		s.fastGen++ // every flood set re-checks its members
	}
	h := hotVEth{down: v.down, port: int32(v.port), vlan: v.vlan}
	if v.adminUp && v.inFast {
		h.flags |= hotIn
	}
	if v.fastOut {
		h.flags |= hotOut
	}
	if v.access {
		h.flags |= hotAccess
	}
	if s.ports[v.port].mode == vntag.ModeETag {
		h.flags |= hotETag
	}
	if v.evb {
		// A vEth on an evb port is the general path's both ways.
		h.flags = 0
		v.evbVLAN = 0
		if vlan, ok := v.classifyIn(v.vsiVID); ok && v.up {
			v.evbVLAN = vlan
		}
	}
	s.hot[v.idx] = h
	if vp := s.ports[v.port]; vp.kind == ivPort && v.vif < vntag.VIF(len(vp.low)) && vp.low[v.vif] == v.idx {
		vp.fastIn[v.vif] = makeInEntry(v.idx, h)
	}
}

// inEntry is an entry of vport.fastIn: a vEth index in the low 32 bits,
// its access VLAN in bits 32-43, and the flags below.
type inEntry uint64

const (
	inOK     inEntry = 1 << 63 // a vEth whose frames may take the fast path
	inAccess inEntry = 1 << 62 // in access mode (else trunk)
)

// makeInEntry returns the fastIn entry of vEth x, whose hot entry is h.
func makeInEntry(x int32, h hotVEth) inEntry {
	if h.flags&hotIn == 0 {
		return 0
	}
	e := inOK | inEntry(uint32(x)) | inEntry(h.vlan&0xfff)<<32
	if h.flags&hotAccess != 0 {
		e |= inAccess
	}
	return e
}

// flushVEths forgets every MAC learned on the vEths at indices idx, in
// one pass over the MAC table whatever their number, and none when they
// have no MAC learned (veth.macs).
func (s *VIS) flushVEths(idx ...int32) {
	n := 0
	for _, i := range idx {
		n += s.veths[i].macs
	}
	if n == 0 {
		return
	}
	if cap(s.flushMark) < len(s.veths) {
		s.flushMark = make([]bool, len(s.veths))
	}
	mark := s.flushMark[:len(s.veths)]
	for _, i := range idx {
		mark[i] = true
	}
	t := s.macs
	for i := 0; i < len(t.slots) && n > 0; {
		if o := t.slots[i].owner; t.slots[i].key != 0 && o < uint32(len(mark)) && mark[o] {
			t.remove(i) // the next entry may have moved into slot i
			n--
			continue
		}
		i++
	}
	for _, i := range idx {
		mark[i] = false
		s.veths[i].macs = 0
	}
}

// Age forgets the MACs not seen for the aging time before now and returns
// how many. Lookups already ignore expired entries; Age frees their slots.
func (s *VIS) Age(now int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.macs
	tick := coarse(now)
	n := 0
	for i := 0; i < len(t.slots); {
		sl := &t.slots[i]
		if sl.key != 0 && tick-sl.seen > s.aging {
			s.unown(sl.owner)
			t.remove(i)
			n++
			continue
		}
		i++
	}
	return n
}

func (s *VIS) unown(owner uint32) {
	if owner&uplinkBit == 0 {
		if v := s.veths[owner]; v != nil && v.macs > 0 {
			v.macs--
		}
	}
}

// MAC is one entry of the MAC address table.
type MAC struct {
	VLAN uint16
	Addr [6]byte
	// VEth is the vEth the address was learned on, or 0 for an uplink.
	VEth profile.VEthID
	// Port is the port the address is reached through.
	Port int
	// Age is the time since the last frame from the address.
	Age time.Duration
}

// MACs returns the MAC address table at time now, sorted by VLAN and
// address ("show mac address-table").
func (s *VIS) MACs(now int64) []MAC {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []MAC
	tick := coarse(now)
	for _, sl := range s.macs.slots {
		if sl.key == 0 || tick-sl.seen > s.aging {
			continue
		}
		m := MAC{VLAN: keyVLAN(sl.key), Addr: keyMAC(sl.key), Age: time.Duration(int64(tick-sl.seen) << timeShift)}
		if sl.owner&uplinkBit != 0 {
			m.Port = int(sl.owner &^ uplinkBit)
		} else if v := s.veths[sl.owner]; v != nil {
			m.VEth, m.Port = v.id, v.port
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b MAC) int {
		if a.VLAN != b.VLAN {
			return int(a.VLAN) - int(b.VLAN)
		}
		return slices.Compare(a.Addr[:], b.Addr[:])
	})
	return out
}

// Moves returns how many times a learned MAC moved to another vEth or
// uplink.
func (s *VIS) Moves() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.moves
}
