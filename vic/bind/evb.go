package bind

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vdp"
	"github.com/nivkit/niv/vdp/ecp"
	"github.com/nivkit/niv/vdp/evb"
	"github.com/nivkit/niv/vdp/lldp"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/vis"
)

// EVBPlane is the control plane of a vis core's evb ports, put together:
// VDP's bridge machine over all of them (vdp.Bridge on a vdp.BridgeRunner,
// one ECP speaker per port sharing the port's link with the data frames
// through a Control), with the plane as its Decider, and the core's VSI
// bindings kept in step with the machine's VSIs; on the ports that ask
// for it (EVBPort.LLDP), an LLDP agent sending the bridge's EVB TLV,
// whose negotiation sets the port's VDP timers. Safe for concurrent use.
//
// A request is admitted when its VSI gets a vethernet port-profile that is
// enabled: the one its niv port-profile TLV names (vdp.NivOUI), else the
// one whose "vdp vsi-type ID version V" line maps its VSI Type ID and
// version. Its filters must carry MACs (formats MAC/VID or GroupID/MAC/VID),
// all in one VID, which the profile must admit: its access VLAN, or one of
// its trunk's allowed VLANs; a wildcard VID (0) is filled with the access
// VLAN (trunk: the native VLAN), and the VSI's frames then carry it on the
// link — untagged when it is the port's PVID (EVBPort.PVID). Refusals, as the station sees them (802.1Qbg 41.2.3, Table 41-3):
//
//   - no such profile, or not a vethernet one: CodeOtherFailure (lldpad
//     prints "Other failure");
//   - a VID-only or GroupID-only filter, or entries in several VIDs:
//     CodeInvalidFormat;
//   - a VID the profile does not carry, or a MAC/VID another VSI has on
//     the port: CodeInvalidFilter;
//   - the profile disabled, its max-ports reached, or EVBConfig.MaxVSIs
//     VSIs associated already: CodeInsufficientResources.
//
// A refusal of a VSI already granted keeps it as it was (Keep).
//
// An Associate becomes a vEth bound to (port, MACs, VID) in the core
// (vis.AddVSI), bound to its profile in the store; an Associate of the
// same VSIID on another port (a migration: the machine de-associates it
// from the first) moves that vEth (vis.MoveVSI), which keeps its id, admin
// state and counters. A pre-associated VSI has no vEth. A Pre-Associate
// with resource reservation (802.1Qbg 41.2: the resources the Associate
// will need are held) binds the VSI's vEth id to its profile in the store
// — taking one of the profile's max-ports — but puts nothing in the core
// until the Associate. When the VSI ends — De-Associate, keep-alive
// timeout, port down — its vEth is removed and its profile binding with
// it.
type EVBPlane struct {
	core   *vis.VIS
	store  profile.Store
	cfg    EVBConfig
	ctl    *Control
	sps    []*ecp.Speaker
	lldps  []*lldp.Runner // nil where the port runs no LLDP agent
	ports  []int          // VDP port → core port
	pvids  []uint16
	runner *vdp.BridgeRunner

	mu   sync.Mutex
	vsis map[evbKey]*evbVSI
	next profile.VEthID
	// pending are the requests deferred for their vEth id (VEthID's
	// vic.ErrIDPending), by VSI.
	pending map[evbKey]evbPending
}

// evbPending is a request deferred until IDReady: the plane's own copy.
type evbPending struct {
	port int
	mgr  vdp.ManagerID
	req  vdp.VSI
}

// EVBConfig configures an EVBPlane.
type EVBConfig struct {
	// Timers are each port's VDP timers (zero: vdp.DefaultTimers).
	Timers vdp.Timers
	// MaxVSIs is the most VSIs associated at once over all ports (0: no
	// limit but the machine's table).
	MaxVSIs int
	// FirstVEth is the id of the first vEth the plane creates (0: 1<<24,
	// above the vic machine's); each VSI associated anew gets the next.
	FirstVEth profile.VEthID
	// Control, if set, is the Control in front of the core that the evb
	// ports' speakers attach to (a VISPlane's Core, say); otherwise the
	// plane puts its own in front of the core.
	Control *Control
	// Manager, if set, is the VSI manager the plane asks about each
	// request before its own admission (802.1Qbg 41.1: the bridge gets a
	// VSI type's definition from the VSI Manager). A refusal it returns is
	// the answer. Pending defers the request: the machine ignores the
	// VSI's requests meanwhile, and when the resource wait delay
	// (10·2^RWD µs) has passed it answers code 3, unable to contact VSI
	// manager, with Keep if the VSI had a state (vdp.Decision.Pending).
	// The plane takes no late answer yet: Pending is a manager that
	// cannot be reached.
	Manager vdp.Decider
	// Clock, if set, is the clock of the machine, the speakers and the
	// LLDP agents in place of time.Now (ecp.Speaker.SetClock,
	// vdp.BridgeRunner.SetClock, lldp.Runner.SetClock):
	// a clock that jumps, such as a conformance case's, with Tick called
	// after each jump.
	Clock func() time.Time
	// VEthID, if set, gives the vEth id of a VSI the plane has no vEth
	// for: v is the VSI as it is about to be bound (v.VEth 0; its port,
	// profile, VID and MACs as admitted). A daemon keeps a VSIID's vEth
	// id in its store, so that the station's keep-alive after a restart
	// re-associates it onto the same vEth; a VIS of a fleet takes it from
	// the fleet's registry, so that a VSI associated on another VIS (its
	// VM moved) keeps its id. It is called with the plane's lock held,
	// from the bridge machine, which must not wait: an id that takes a
	// round trip is answered vic.ErrIDPending, as vic.VISConfig.NewVEthID
	// does, and the plane defers the request (vdp.Decision.Pending: the
	// machine ignores the VSI's requests meanwhile) until IDReady says the
	// id is there, when it decides again and asks VEthID again; if that
	// does not come within the resource wait delay (10·2^RWD µs) the
	// station is answered code 3, unable to contact the VSI manager. Any
	// other error, or id 0, refuses the VSI (Insufficient Resources).
	// nil: FirstVEth and up.
	VEthID func(v EVBVEth) (profile.VEthID, error)
	// Bound, if set, hears every vEth bound in the core (created, moved,
	// or its profile changed), and Unbound every one removed. Both are
	// called with the plane's lock held, Bound before the station's
	// answer goes out: a daemon records the vEth there.
	Bound, Unbound func(EVBVEth)
}

// EVBVEth is a VSI the plane made a vEth for.
type EVBVEth struct {
	VEth profile.VEthID
	// Port is the machine's port it is bound on.
	Port        int
	Manager     vdp.ManagerID
	IDFormat    vdp.VSIIDFormat
	ID          vdp.VSIID
	TypeID      uint32
	TypeVersion uint8
	Profile     string
	// VID is the VSI's VID as granted (a wildcard filled); its frames
	// carry it on the link unless it is the port's PVID.
	VID  uint16
	MACs [][6]byte
	// Timers are the port's EVB timers when the VSI was bound: the LLDP
	// agent's negotiated ones, or the plane's where the port runs no
	// agent. A daemon that restores the VSI after a restart waits for the
	// station's keep-alive by them (their BridgeKeepAlive).
	Timers vdp.Timers
	// Reason says why the VSI ended (Unbound only): a De-Associate, a
	// keep-alive timeout, the port going down, another bridge taking it
	// (Taken).
	Reason vdp.Reason
	// Counters are what the core counted on the vEth up to its removal
	// (Unbound only): a daemon that keeps counters beyond the core (a
	// fleet's registry) adds the last of them.
	Counters vis.Counters
}

// EVBVSI is one VSI of the bridge machine, with its vEth if it has one.
type EVBVSI struct {
	vdp.BridgeVSI
	// VEth is the VSI's vEth (VEth.VEth 0: none, as for a pre-associated
	// VSI).
	VEth EVBVEth
}

// EVBPort is one evb port of an EVBPlane: its name in the core, the writer
// of its link (see Writer) and its ECP configuration.
type EVBPort struct {
	Name string
	W    ecp.FrameWriter
	ECP  ecp.Config
	// PVID is the port's VLAN ID (IEEE 802.1Q 6.9): a VSI in this VID
	// sends and receives its frames untagged on the link, as a VM on a
	// Linux macvlan or macvtap without a VLAN device does. 0: none, every
	// VSI's frames carry their VID.
	PVID uint16
	// LLDP, if set, runs an LLDP agent on the port with this
	// configuration (its EVB TLV a bridge's, mode evb.ModeBridge; Addr 0:
	// the ECP address): a station such as lldpad uses VDP only once it has
	// heard the bridge's EVB TLV (802.1Qbg 41.5.4), and the EVB exchange
	// gives the port's VDP timers (R, RTE, RWD, RKA: the larger of the two
	// sides', 41.5.5.7) and its ECP speaker's R and RTE (the speaker starts
	// at ECP's).
	// Its frames are split off in front of the core (Control.AttachLLDP).
	LLDP *lldp.Config
}

type evbKey struct {
	f  vdp.VSIIDFormat
	id vdp.VSIID
}

type evbVSI struct {
	EVBVEth
	// inCore: the vEth is in the core (associated); false: only its
	// profile binding is held (Pre-Associate with resource reservation).
	inCore bool
}

// NewEVBPlane adds ports to core as evb ports and runs VDP's bridge
// machine on them; the vEths it creates are bound to profiles of store
// (the core's store). ports[i] is the machine's port i.
func NewEVBPlane(core *vis.VIS, store profile.Store, cfg EVBConfig, ports ...EVBPort) (*EVBPlane, error) {
	if cfg.FirstVEth == 0 {
		cfg.FirstVEth = 1 << 24
	}
	if cfg.Timers == (vdp.Timers{}) {
		cfg.Timers = vdp.DefaultTimers
	}
	p := &EVBPlane{core: core, store: store, cfg: cfg, ctl: cfg.Control, vsis: map[evbKey]*evbVSI{}, next: cfg.FirstVEth,
		pending: map[evbKey]evbPending{}}
	if p.ctl == nil {
		p.ctl = NewControl(core)
	}
	tx := make([]vdp.Sender, len(ports))
	agents := make([]*lldp.Agent, len(ports))
	p.lldps = make([]*lldp.Runner, len(ports))
	for i, pc := range ports {
		if pc.LLDP != nil {
			lc := *pc.LLDP
			if lc.Addr == ([6]byte{}) {
				lc.Addr = pc.ECP.Addr
			}
			if lc.EVB.Mode == 0 {
				lc.EVB.Mode = evb.ModeBridge
			}
			a, err := lldp.NewAgent(lc)
			if err != nil {
				return nil, fmt.Errorf("bind: evb port %s: LLDP: %w", pc.Name, err)
			}
			agents[i] = a
		}
	}
	for i, pc := range ports {
		sp, err := ecp.NewSpeaker(pc.W, pc.ECP)
		if err != nil {
			p.closeSpeakers()
			return nil, fmt.Errorf("bind: evb port %s: %w", pc.Name, err)
		}
		p.sps = append(p.sps, sp)
		tx[i] = sp
		cp := core.AddEVBPort(pc.Name)
		p.ports = append(p.ports, cp)
		p.pvids = append(p.pvids, pc.PVID)
		p.ctl.Attach(cp, sp)
	}
	br := vdp.NewBridge(vdp.BridgeConfig{Ports: len(ports), Timers: cfg.Timers, Decider: p})
	p.runner = vdp.NewBridgeRunner(br, tx, p.onState)
	if cfg.Clock != nil {
		p.runner.SetClock(cfg.Clock)
		for _, sp := range p.sps {
			sp.SetClock(cfg.Clock)
		}
	}
	for i, sp := range p.sps {
		sp.Register(ecp.SubtypeVDP, p.runner.Port(i))
	}
	for i, a := range agents {
		if a == nil {
			continue
		}
		i := i
		r := lldp.NewRunner(a, ports[i].W, func(t evb.TLV, _ bool) { p.runner.SetTimers(i, vdp.TimersFrom(t)) })
		p.lldps[i] = r
		p.ctl.AttachLLDP(p.ports[i], r)
		if cfg.Clock != nil {
			r.SetClock(cfg.Clock)
		}
		r.Begin()
	}
	return p, nil
}

func (p *EVBPlane) closeSpeakers() {
	for _, sp := range p.sps {
		sp.Close()
	}
}

// LLDP returns the LLDP runner of the machine's port i (nil if the port
// runs none).
func (p *EVBPlane) LLDP(i int) *lldp.Runner { return p.lldps[i] }

// Ports returns the number of the plane's ports.
func (p *EVBPlane) Ports() int { return len(p.ports) }

// VSIs returns the bridge machine's VSIs on every port, each with its
// vEth if it has one.
func (p *EVBPlane) VSIs() []EVBVSI {
	var out []EVBVSI
	p.runner.Do(func(b *vdp.Bridge) {
		p.mu.Lock()
		defer p.mu.Unlock()
		b.Each(func(e *vdp.BridgeVSI) {
			x := EVBVSI{BridgeVSI: *e}
			x.VSI.Filters = append([]vdp.Filter(nil), e.VSI.Filters...)
			x.VSI.Org = nil
			if v, ok := p.vsis[evbKey{e.VSI.IDFormat, e.VSI.ID}]; ok && v.Port == e.Port && v.inCore {
				x.VEth = v.EVBVEth
				x.VEth.MACs = append([][6]byte(nil), v.MACs...)
			}
			out = append(out, x)
		})
	})
	return out
}

// BridgeCounters returns the bridge machine's totals.
func (p *EVBPlane) BridgeCounters() vdp.BridgeCounters {
	var c vdp.BridgeCounters
	p.runner.Do(func(b *vdp.Bridge) { c = b.Counters() })
	return c
}

// Core returns the port.Core to run in place of the vis core (the Control
// the speakers are attached to).
func (p *EVBPlane) Core() *Control { return p.ctl }

// Runner returns the bridge machine's runner.
func (p *EVBPlane) Runner() *vdp.BridgeRunner { return p.runner }

// Port returns the core port of the machine's port i.
func (p *EVBPlane) Port(i int) int { return p.ports[i] }

// Speaker returns the ECP speaker of the machine's port i.
func (p *EVBPlane) Speaker(i int) *ecp.Speaker { return p.sps[i] }

// VEth returns the vEth of VSI (f, id), while it is associated or holds
// its profile by a Pre-Associate with resource reservation.
func (p *EVBPlane) VEth(f vdp.VSIIDFormat, id vdp.VSIID) (profile.VEthID, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok := p.vsis[evbKey{f, id}]
	if !ok {
		return 0, false
	}
	return v.VEth, true
}

// Tick runs the timers that are due by the plane's clock (EVBConfig.Clock):
// the machine's first (keep-alive timeouts, resource waits), then each
// port's ECP acknowledgement timer, then each port's LLDP agent, in port
// order.
func (p *EVBPlane) Tick() {
	p.runner.Tick()
	for _, sp := range p.sps {
		sp.Tick()
	}
	for _, r := range p.lldps {
		if r != nil {
			r.Tick()
		}
	}
}

// Close stops the machine, the LLDP agents (each sends its TTL-0 LLDPDU,
// 802.1AB 9.2.7.7.1) and the speakers. The core is the caller's.
func (p *EVBPlane) Close() {
	for _, r := range p.lldps {
		if r != nil {
			r.Shutdown()
			r.Close()
		}
	}
	p.runner.Close()
	p.closeSpeakers()
}

// errRefused carries the code of a refusal out of admit.
type errRefused struct {
	code vdp.ErrorCode
	msg  string
}

func (e *errRefused) Error() string { return "bind: VSI refused: " + e.msg }

func refused(code vdp.ErrorCode, format string, args ...any) error {
	return &errRefused{code: code, msg: fmt.Sprintf(format, args...)}
}

// Decide implements vdp.Decider: it is the machine's resource decision,
// and for an Associate it binds the VSI in the core before admitting it.
func (p *EVBPlane) Decide(port int, mgr vdp.ManagerID, req *vdp.VSI) vdp.Decision {
	if p.cfg.Manager != nil {
		if d := p.cfg.Manager.Decide(port, mgr, req); d.Pending || d.Code != vdp.CodeSuccess {
			return d
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	k := evbKey{req.IDFormat, req.ID}
	_, known := p.vsis[k]
	vid, err := p.admit(port, mgr, req)
	if errors.Is(err, vic.ErrIDPending) {
		p.pending[k] = evbPending{port: port, mgr: mgr, req: copyRequest(req)}
		return vdp.Decision{Pending: true}
	}
	if err != nil {
		code := vdp.CodeOtherFailure
		var r *errRefused
		if errors.As(err, &r) {
			code = r.code
		}
		return vdp.Decision{Code: code, Keep: known}
	}
	return vdp.Decision{VID: vid}
}

// admit checks req on VDP port port and, for an Associate, binds it; it
// returns the VID that fills wildcards.
func (p *EVBPlane) admit(port int, mgr vdp.ManagerID, req *vdp.VSI) (uint16, error) {
	snap := p.store.Snapshot()
	var name string
	if b, ok := req.Profile(); ok {
		name = string(b)
	} else if n, ok := snap.Config.ProfileForVSIType(profile.VSIType{ID: req.TypeID, Version: req.TypeVersion}); ok {
		name = n
	} else {
		return 0, refused(vdp.CodeOtherFailure, "no port-profile maps VSI type %d version %d", req.TypeID, req.TypeVersion)
	}
	pr, ok := snap.Config.Profiles[name]
	if !ok || pr.Type != profile.Vethernet {
		return 0, refused(vdp.CodeOtherFailure, "no vethernet port-profile %q", name)
	}
	if !pr.Enabled {
		return 0, refused(vdp.CodeInsufficientResources, "port-profile %s is disabled", name)
	}
	res, err := snap.Config.Resolve(name)
	if err != nil {
		return 0, refused(vdp.CodeOtherFailure, "port-profile %s: %v", name, err)
	}
	st := res.Settings
	fill := st.AccessVLAN
	if st.Mode == profile.Trunk {
		fill = st.NativeVLAN
	}
	if !req.FilterFormat.HasMAC() {
		return 0, refused(vdp.CodeInvalidFormat, "filter format %d carries no MAC", req.FilterFormat)
	}
	var vid uint16
	macs := make([][6]byte, 0, len(req.Filters))
	for i, f := range req.Filters {
		v := f.VID
		if v == 0 {
			v = fill
		}
		if i > 0 && v != vid {
			return 0, refused(vdp.CodeInvalidFormat, "filters in VIDs %d and %d", vid, v)
		}
		vid = v
		macs = append(macs, f.MAC)
	}
	carried := vid != 0 && vid == st.AccessVLAN
	if st.Mode == profile.Trunk {
		carried = vid != 0 && st.AllowedVLANs.Contains(vid)
	}
	if !carried {
		return 0, refused(vdp.CodeInvalidFilter, "port-profile %s does not carry VID %d", name, vid)
	}
	granted := vid
	if vid == p.pvids[port] {
		// Untagged on the link: the profile must classify untagged frames
		// to this VLAN.
		if vid != fill {
			return 0, refused(vdp.CodeInvalidFilter, "VID %d is the port's PVID but port-profile %s takes untagged frames into VLAN %d", vid, name, fill)
		}
		vid = 0
	}
	if req.Mode == vdp.TypeAssociate || req.Mode == vdp.TypePreAssociateRR {
		if err := p.bind(port, mgr, req, name, granted, vid, macs); err != nil {
			return 0, err
		}
	}
	return fill, nil
}

// bind makes the core's vEth of req (new, or the one it has on any port)
// bound on port to macs in vid (granted: the VSI's VID, vid its VID on
// the link), with profile name; for a Pre-Associate with resource
// reservation it only holds the profile binding.
func (p *EVBPlane) bind(port int, mgr vdp.ManagerID, req *vdp.VSI, name string, granted, vid uint16, macs [][6]byte) error {
	k := evbKey{req.IDFormat, req.ID}
	v, known := p.vsis[k]
	reserve := req.Mode == vdp.TypePreAssociateRR
	if reserve && known && v.Port != port {
		return nil // held for its association elsewhere already
	}
	if !known {
		if p.cfg.MaxVSIs > 0 && len(p.vsis) >= p.cfg.MaxVSIs {
			return refused(vdp.CodeInsufficientResources, "%d VSIs associated", len(p.vsis))
		}
		id := p.next
		if p.cfg.VEthID != nil {
			c := EVBVEth{Port: port, Manager: mgr, IDFormat: req.IDFormat, ID: req.ID, TypeID: req.TypeID, TypeVersion: req.TypeVersion,
				Profile: name, VID: granted, MACs: macs, Timers: p.portTimers(port)}
			var err error
			id, err = p.cfg.VEthID(c)
			if errors.Is(err, vic.ErrIDPending) {
				return err
			}
			if err != nil || id == 0 {
				return refused(vdp.CodeInsufficientResources, "no vEth id for the VSI: %v", err)
			}
		}
		v = &evbVSI{EVBVEth: EVBVEth{VEth: id}}
	}
	if !known || v.Profile != name {
		if _, err := p.store.Update(func(tx *profile.Txn) error { tx.Bind(v.VEth, name); return nil }); err != nil {
			if errors.Is(err, profile.ErrMaxPorts) {
				return refused(vdp.CodeInsufficientResources, "%v", err)
			}
			return refused(vdp.CodeOtherFailure, "%v", err)
		}
	}
	var err error
	var last vis.Counters
	switch {
	case reserve && v.inCore:
		last, _ = p.core.Counters(v.VEth)
		err = p.core.RemoveVEth(v.VEth) // back from associated to reserved
	case reserve:
	case v.inCore:
		err = p.core.MoveVSI(v.VEth, p.ports[port], vid, macs...)
	default:
		err = p.core.AddVSI(v.VEth, p.ports[port], vid, macs...)
	}
	if err != nil {
		if !known {
			_, _ = p.store.Update(func(tx *profile.Txn) error { return tx.Unbind(v.VEth) })
		} else if v.Profile != name {
			_, _ = p.store.Update(func(tx *profile.Txn) error { tx.Bind(v.VEth, v.Profile); return nil })
		}
		if errors.Is(err, vis.ErrVSI) {
			return refused(vdp.CodeInvalidFilter, "%v", err)
		}
		return err
	}
	if !known {
		if p.cfg.VEthID == nil {
			p.next++
		}
		p.vsis[k] = v
	}
	wasInCore := v.inCore
	v.inCore = !reserve
	tm := p.portTimers(port)
	changed := !wasInCore || v.Port != port || v.Profile != name || v.VID != granted || v.Manager != mgr ||
		v.TypeID != req.TypeID || v.TypeVersion != req.TypeVersion || !slices.Equal(v.MACs, macs) || v.Timers != tm
	v.Port, v.Profile, v.Manager, v.IDFormat, v.ID, v.Timers = port, name, mgr, req.IDFormat, req.ID, tm
	v.TypeID, v.TypeVersion, v.VID, v.MACs = req.TypeID, req.TypeVersion, granted, macs
	switch {
	case reserve && wasInCore && p.cfg.Unbound != nil:
		e := v.EVBVEth
		e.Counters = last
		p.cfg.Unbound(e)
	case !reserve && changed && p.cfg.Bound != nil:
		p.cfg.Bound(v.EVBVEth)
	}
	return nil
}

// portTimers are port's EVB timers: its LLDP agent's in use (negotiated
// once a station was heard), else the plane's. It takes only the LLDP
// runner's lock, so the bridge machine's callbacks may call it.
func (p *EVBPlane) portTimers(port int) vdp.Timers {
	if r := p.lldps[port]; r != nil {
		t, _ := r.EVB()
		return vdp.TimersFrom(t)
	}
	return p.cfg.Timers
}

// onState follows the machine's VSIs: one that is neither associated nor
// pre-associated with reservation on the port it was bound on (ended, or
// pre-associated) loses its vEth, unless it migrated (Decide has moved it
// already).
func (p *EVBPlane) onState(a vdp.Action) {
	if a.Mode == vdp.TypeAssociate || a.Mode == vdp.TypePreAssociateRR || a.Reason == vdp.ReasonMigrated {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	k := evbKey{a.IDFormat, a.ID}
	v, ok := p.vsis[k]
	if !ok || v.Port != a.Port {
		return
	}
	delete(p.vsis, k)
	var last vis.Counters
	if v.inCore {
		last, _ = p.core.Counters(v.VEth)
		_ = p.core.RemoveVEth(v.VEth)
	}
	_, _ = p.store.Update(func(tx *profile.Txn) error { return tx.Unbind(v.VEth) })
	if v.inCore && p.cfg.Unbound != nil {
		e := v.EVBVEth
		e.Reason, e.Counters = a.Reason, last
		p.cfg.Unbound(e)
	}
}

// IDReady says that the vEth id of VSI (f, id), which VEthID said was
// pending, is there: the plane decides its deferred request again (VEthID
// now answers) and hands the machine the decision. A request the machine
// no longer waits for (its resource wait delay passed, or the VSI
// ended) is undone: its vEth does not stay bound without its VSI.
func (p *EVBPlane) IDReady(f vdp.VSIIDFormat, id vdp.VSIID) {
	k := evbKey{f, id}
	p.mu.Lock()
	pr, ok := p.pending[k]
	delete(p.pending, k)
	p.mu.Unlock()
	if !ok {
		return
	}
	d := p.Decide(pr.port, pr.mgr, &pr.req)
	if d.Pending {
		return // deferred again: a later IDReady
	}
	p.runner.Decide(pr.port, f, id, d)
	if d.Code != vdp.CodeSuccess {
		return
	}
	granted := false
	p.runner.Do(func(b *vdp.Bridge) {
		e, ok := b.VSI(pr.port, f, id)
		granted = ok && !e.Pending && e.Mode == pr.req.Mode
	})
	if !granted {
		p.onState(vdp.Action{Kind: vdp.ActState, Port: pr.port, IDFormat: f, ID: id, Reason: vdp.ReasonResponse})
	}
}

// copyRequest returns a copy of req that shares no memory with it (its
// filters and org TLVs point into the received PDU).
func copyRequest(req *vdp.VSI) vdp.VSI {
	c := *req
	c.Filters = append([]vdp.Filter(nil), req.Filters...)
	c.Org = nil
	for _, o := range req.Org {
		c.Org = append(c.Org, vdp.Org{OUI: o.OUI, Data: append([]byte(nil), o.Data...)})
	}
	return c
}

// Taken ends VSI (f, id), which another bridge took (its station
// associated it there: a VM moved to a host behind another VIS of the
// fleet): the machine sends the station here an unsolicited
// De-Associate (vdp.EvTaken), and the VSI's vEth is removed as for any
// VSI that ends, Unbound hearing it with reason vdp.ReasonTaken and its
// last counters. It reports whether the plane had the VSI.
func (p *EVBPlane) Taken(f vdp.VSIIDFormat, id vdp.VSIID) bool {
	p.mu.Lock()
	v, ok := p.vsis[evbKey{f, id}]
	var port int
	if ok {
		port = v.Port
	}
	p.mu.Unlock()
	if ok {
		p.runner.Taken(port, f, id) // not under p.mu: the runner's callbacks take it
	}
	return ok
}
