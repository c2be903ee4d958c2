package vic

import (
	"errors"
	"time"

	"github.com/nivkit/niv/vntag"
)

// ProfileState says whether a port profile can take vEths.
type ProfileState uint8

const (
	// ProfileUnknown: no profile of that name.
	ProfileUnknown ProfileState = iota
	// ProfileDisabled: the profile exists but is not enabled ("state
	// enabled" missing, in NX-OS terms).
	ProfileDisabled
	// ProfileEnabled: vEths may bind to the profile.
	ProfileEnabled
	// ProfileFull: the profile is enabled and has as many vEths bound as
	// it may take (NX-OS max-ports): a vEth bound to it stays, no other
	// may bind.
	ProfileFull
)

// Profiles is the narrow read-only view of the port-profile database the
// VIS needs: whether a profile exists and is enabled.
type Profiles interface {
	ProfileState(name string) ProfileState
}

// VISConfig parameterises a VIS machine.
type VISConfig struct {
	// Session is this incarnation's number; a new random non-zero value
	// at every start.
	Session uint64
	// Profiles answers profile look-ups; nil accepts every profile.
	Profiles Profiles
	// MaxVEths caps the number of vEths (0: no cap).
	MaxVEths int
	Timing   Timing
	// NewVEthID, if set, gives the id of a vEth the table does not have:
	// a fleet's vEth registry, where an instance keeps its id across
	// VISes (vic/registry). nil numbers vEths locally (Table.Next). An
	// error refuses the VIF-alloc with ReasonMaxPorts
	// (ResultInsufficientResources), which the IV retries; ErrIDPending
	// keeps the VIF-alloc unanswered until a VISIDReady event for its
	// instance, when the machine handles it again (and calls NewVEthID
	// again), so that a registry's round trip need not hold up the
	// machine.
	NewVEthID func(VNIC) (uint32, error)
}

// VEthRecord is the VIS machine's record of one vEth, keyed by the VM
// instance UUID.
type VEthRecord struct {
	ID uint32
	// VNIC is the configuration the IV last asked for.
	VNIC VNIC
	// Port and VIF say where the vEth is bound; Bound is false once it
	// was unbound (its IV went away without announcing it again), and
	// Port then names the last port.
	Port  PortID
	VIF   vntag.VIF
	Bound bool
	// Stale is set while the vEth waits to be announced again after its
	// IV's session restarted or died.
	Stale bool
	// Unbound is when it was unbound (for Timing.Retention).
	Unbound time.Time
	lastTx  uint32
	session uint64 // IV session of lastTx
	listed  bool   // in Table.unbound
}

// pendingRemove is a VIF on an IV port that the VIS took away
// (migration) and that stays reserved until that IV confirms.
type pendingRemove struct {
	Port     PortID
	VIF      vntag.VIF
	Instance UUID
	Epoch    uint32
}

// Table is the VIS's persistent state: every vEth keyed by instance
// UUID, the next vEth id and the VIFs awaiting removal. It outlives a VIS
// machine: a restarted VIS given the same Table keeps every vEth's id
// and configuration (their counters live in the data path, which
// VISProgrammer only loses through DeleteVEth).
type Table struct {
	next      uint32
	veths     map[UUID]*VEthRecord
	order     []UUID
	removes   []pendingRemove
	sessions  map[PortID]uint64 // last IV session per port
	lists     map[PortID]*portLists
	unbound   []UUID             // vEths unbound at some point, for Retention
	tombTx    map[tombKey]uint32 // last delete per instance and IV session
	tombEpoch map[UUID]uint32    // newest epoch deleted per instance
	tombRing  [tombs]tombKey
	tombPos   int
}

// tombs is how many recent deletes the VIS remembers, to refuse a stale
// copy of an older VIF-alloc that ECP delivers after the delete.
const tombs = 256

// portLists are the VIF lists the VIS core wants on one IV port.
type portLists struct {
	members map[uint32][]vntag.VIF
	order   []uint32
}

type tombKey struct {
	u       UUID
	session uint64
}

// NewTable returns an empty table; vEth ids start at 1.
func NewTable() *Table {
	return &Table{veths: map[UUID]*VEthRecord{}, sessions: map[PortID]uint64{},
		tombTx: map[tombKey]uint32{}, tombEpoch: map[UUID]uint32{}, lists: map[PortID]*portLists{}}
}

func (t *Table) bury(u UUID, session uint64, tx, epoch uint32) {
	k := tombKey{u, session}
	if _, ok := t.tombTx[k]; !ok {
		if old := t.tombRing[t.tombPos]; old != (tombKey{}) {
			delete(t.tombTx, old)
			delete(t.tombEpoch, old.u)
		}
		t.tombRing[t.tombPos] = k
		t.tombPos = (t.tombPos + 1) % tombs
	}
	t.tombTx[k] = max(t.tombTx[k], tx)
	t.tombEpoch[u] = max(t.tombEpoch[u], epoch)
}

// buried reports whether a VIF-alloc is older than a delete of its
// instance: an older epoch, or an older request of the same IV session.
func (t *Table) buried(m *Message) bool {
	if e, ok := t.tombEpoch[m.Instance]; ok && m.Epoch < e {
		return true
	}
	tx, ok := t.tombTx[tombKey{m.Instance, m.Session}]
	return ok && m.TxID < tx
}

// Len returns the number of vEths.
func (t *Table) Len() int { return len(t.veths) }

// Get returns the vEth of instance u.
func (t *Table) Get(u UUID) (VEthRecord, bool) {
	v, ok := t.veths[u]
	if !ok {
		return VEthRecord{}, false
	}
	return *v, true
}

// Range calls f for every vEth in creation order.
func (t *Table) Range(f func(VEthRecord)) {
	for _, u := range t.order {
		f(*t.veths[u])
	}
}

func (t *Table) remove(u UUID) {
	delete(t.veths, u)
	for i, w := range t.order {
		if w == u {
			t.order = append(t.order[:i], t.order[i+1:]...)
			return
		}
	}
}

type visPort struct {
	id        PortID
	open      bool
	session   uint64
	caps      Capabilities
	version   uint8 // the IV's vic version (1 when its open had no version TLV)
	hold      time.Duration
	lastHeard time.Time
	resync    time.Time // when stale VIFs get unbound; zero for none
	used      []uint64  // VIF ids in use or reserved
	nused     int
	hint      vntag.VIF
	txid      uint32
	out       []outReq
	lists     *portLists
}

// outReq is a VIS→IV request waiting for its answer.
type outReq struct {
	cmd      Command
	tx       uint32
	deadline time.Time
	list     uint32
	rm       pendingRemove
}

// VISEventKind names an input of the VIS machine.
type VISEventKind uint8

const (
	// VISReceive: VISEvent.Msg arrived on port VISEvent.Port.
	VISReceive VISEventKind = iota + 1
	// VISSetVIFList: the VIS core wants VIF list VISEvent.ListID on port
	// VISEvent.Port to hold VISEvent.Members.
	VISSetVIFList
	// VISTimer: time passed; send at or after VIS.Deadline.
	VISTimer
	// VISTakeAway: another VIS of the fleet bound the vEth of
	// VISEvent.Instance at placement epoch VISEvent.Epoch (its VM moved
	// behind that VIS; 0 if not known): unbind it here and tell its IV
	// (VIF-remove), as a migration between two of this VIS's ports does.
	VISTakeAway
	// VISIDReady: the id of VISEvent.Instance, which NewVEthID said was
	// pending (ErrIDPending), is ready: the VIF-alloc that waited for it is
	// handled again.
	VISIDReady
)

// VISEvent is an input of VIS.Handle.
type VISEvent struct {
	Kind    VISEventKind
	Port    PortID
	Msg     *Message
	ListID  uint32
	Members []vntag.VIF
	// Instance and Epoch: VISTakeAway's vEth and its new epoch;
	// Instance: VISIDReady's.
	Instance UUID
	Epoch    uint32
}

// VISMachine is the virtual interface switch's side of the vic protocol: one
// session per port (IV), the per-VIF machines of every vEth, VIF-id
// allocation per port, migration between ports. A pure transition
// function like IVMachine. Not safe for concurrent use.
type VISMachine struct {
	cfg   VISConfig
	t     Timing
	tab   *Table
	ports map[PortID]*visPort
	plist []*visPort
	o     out
	msg   Message
	// refusedLists counts lists a version-1 IV could not be sent.
	refusedLists int
	// waiting holds the last VIF-alloc of each instance whose id is
	// pending (ErrIDPending), until VISIDReady.
	waiting map[UUID]waitingAlloc
}

// waitingAlloc is a VIF-alloc waiting for its vEth id.
type waitingAlloc struct {
	port PortID
	msg  Message
}

// NewVISMachine returns a VIS machine over tab (nil: a new Table). A
// restarted VIS given the old Table treats every bound vEth as stale until its IV
// announces it again, or ResyncHold passes.
func NewVISMachine(cfg VISConfig, tab *Table, now time.Time) *VISMachine {
	if tab == nil {
		tab = NewTable()
	}
	s := &VISMachine{cfg: cfg, t: cfg.Timing.withDefaults(), tab: tab, ports: map[PortID]*visPort{}}
	for _, u := range tab.order {
		v := tab.veths[u]
		if !v.Bound {
			s.listUnbound(v)
		}
		if v.Bound {
			p := s.port(v.Port)
			p.reserve(v.VIF)
			v.Stale = true
			p.resync = now.Add(s.t.ResyncHold)
		}
	}
	for _, r := range tab.removes {
		s.port(r.Port).reserve(r.VIF)
	}
	return s
}

// Table returns the VIS's table.
func (s *VISMachine) Table() *Table { return s.tab }

// Session returns the state of port p's session and the IV's session
// number.
func (s *VISMachine) Session(p PortID) (SessionState, uint64) {
	if pt := s.ports[p]; pt != nil && pt.open {
		return SessionOpen, pt.session
	}
	return SessionOpening, 0
}

func (s *VISMachine) port(id PortID) *visPort {
	p := s.ports[id]
	if p == nil {
		l := s.tab.lists[id]
		if l == nil {
			l = &portLists{members: map[uint32][]vntag.VIF{}}
			s.tab.lists[id] = l
		}
		p = &visPort{id: id, used: make([]uint64, (MaxVIF+1)/64), lists: l, hold: s.t.Hold, session: s.tab.sessions[id]}
		s.ports[id] = p
		s.plist = append(s.plist, p)
	}
	return p
}

func (p *visPort) reserve(vif vntag.VIF) {
	if int(vif/64) >= len(p.used) {
		// E-CIDs with an ext part (version 2): room for all 20 bits.
		p.used = append(p.used, make([]uint64, (vntag.MaxECID+1)/64-len(p.used))...)
	}
	if p.used[vif/64]&(1<<(vif%64)) == 0 {
		p.used[vif/64] |= 1 << (vif % 64)
		p.nused++
	}
}

func (p *visPort) free(vif vntag.VIF) {
	if int(vif/64) < len(p.used) && p.used[vif/64]&(1<<(vif%64)) != 0 {
		p.used[vif/64] &^= 1 << (vif % 64)
		p.nused--
	}
}

// alloc returns a free VIF id, going round from the last one given out so
// that a freed id is reused as late as possible.
func (p *visPort) alloc() vntag.VIF {
	top := vifTop(p.caps.Mode, p.version, p.caps.MaxVIFs)
	max := min(vntag.VIF(p.caps.MaxVIFs), top)
	if max == 0 {
		max = top
	}
	if p.nused >= int(max) {
		return 0
	}
	for i := 0; i < int(top); i++ {
		p.hint++
		if p.hint == 0 || p.hint > top {
			p.hint = 1
		}
		if int(p.hint/64) >= len(p.used) || p.used[p.hint/64]&(1<<(p.hint%64)) == 0 {
			p.reserve(p.hint)
			return p.hint
		}
	}
	return 0
}

// Deadline returns the next time the VIS needs a VISTimer event.
func (s *VISMachine) Deadline() time.Time {
	var d time.Time
	for _, p := range s.plist {
		if p.open {
			d = minTime(d, p.lastHeard.Add(p.hold))
			for i := range p.out {
				d = minTime(d, p.out[i].deadline)
			}
		}
		d = minTime(d, p.resync)
	}
	for _, u := range s.tab.unbound {
		if v := s.tab.veths[u]; v != nil && !v.Bound {
			d = minTime(d, v.Unbound.Add(s.t.Retention))
		}
	}
	return d
}

// Handle runs the VIS machine on one event at time now and returns the
// actions, in order. The slice and what it refers to are reused by the
// next call.
func (s *VISMachine) Handle(ev VISEvent, now time.Time) []Action {
	s.o.reset()
	switch ev.Kind {
	case VISReceive:
		if ev.Msg != nil {
			s.receive(s.port(ev.Port), ev.Msg, now)
		}
	case VISSetVIFList:
		p := s.port(ev.Port)
		if _, ok := p.lists.members[ev.ListID]; !ok {
			p.lists.order = append(p.lists.order, ev.ListID)
		}
		p.lists.members[ev.ListID] = append(p.lists.members[ev.ListID][:0:0], ev.Members...)
		if p.open {
			s.sendList(p, ev.ListID, now)
		}
	case VISTakeAway:
		if v := s.tab.veths[ev.Instance]; v != nil && v.Bound {
			s.takeAway(v, max(ev.Epoch, v.VNIC.Epoch), now)
		}
	case VISIDReady:
		if w, ok := s.waiting[ev.Instance]; ok {
			delete(s.waiting, ev.Instance)
			if p := s.ports[w.port]; p != nil && p.open && w.msg.Session == p.session {
				s.alloc(p, &w.msg, now)
			}
		}
	}
	s.timers(now)
	return s.o.acts
}

func (s *VISMachine) header(cmd Command) *Message {
	m := &s.msg
	profile, members := m.Profile[:0], m.Members[:0]
	*m = Message{Command: cmd, Session: s.cfg.Session, Profile: profile, Members: members}
	return m
}

func (s *VISMachine) reply(p *visPort, req *Message, r Result, why Reason) *Message {
	m := s.header(req.Command)
	m.Response, m.TxID, m.Result, m.Reason = true, req.TxID, r, why
	m.Present = required[req.Command][1] | FieldPeerSession
	m.PeerSession = req.Session
	m.Instance = req.Instance
	m.ListID = req.ListID
	return m
}

func (s *VISMachine) refuse(p *visPort, req *Message, why Reason) {
	s.o.send(p.id, s.reply(p, req, why.Result(), why))
}

func (s *VISMachine) timers(now time.Time) {
	for _, p := range s.plist {
		if p.open && !now.Before(p.lastHeard.Add(p.hold)) {
			// Dead peer: close the session; its vEths wait ResyncHold for
			// the IV to come back and announce them.
			p.open = false
			s.staleAll(p, now)
			s.o.add(Action{Kind: ActPeerDown, Port: p.id})
		}
		if !p.resync.IsZero() && !now.Before(p.resync) {
			s.unbindStale(p, now)
		}
		if p.open {
			for i := range p.out {
				if r := &p.out[i]; !now.Before(r.deadline) {
					s.transmit(p, r, now)
				}
			}
		}
	}
	keep := s.tab.unbound[:0]
	for _, u := range s.tab.unbound {
		v := s.tab.veths[u]
		switch {
		case v == nil:
		case v.Bound:
			v.listed = false
		case !now.Before(v.Unbound.Add(s.t.Retention)):
			s.o.add(Action{Kind: ActVISDeleteVEth, VEth: v.ID, VNIC: v.VNIC})
			s.tab.remove(u)
		default:
			keep = append(keep, u)
		}
	}
	s.tab.unbound = keep
}

func (s *VISMachine) staleAll(p *visPort, now time.Time) {
	for _, u := range s.tab.order {
		if v := s.tab.veths[u]; v.Bound && v.Port == p.id {
			v.Stale = true
			p.resync = now.Add(s.t.ResyncHold)
		}
	}
}

// unbindStale unbinds the vEths of p not announced again; they keep their
// id, configuration and counters for Retention.
func (s *VISMachine) unbindStale(p *visPort, now time.Time) {
	p.resync = time.Time{}
	for _, u := range s.tab.order {
		if v := s.tab.veths[u]; v.Bound && v.Stale && v.Port == p.id {
			s.unbind(v, now)
		}
	}
}

func (s *VISMachine) unbind(v *VEthRecord, now time.Time) {
	s.o.add(Action{Kind: ActVISUnbind, Port: v.Port, VIF: v.VIF, VEth: v.ID})
	s.ports[v.Port].free(v.VIF)
	v.Bound, v.Stale, v.Unbound = false, false, now
	s.listUnbound(v)
}

func (s *VISMachine) listUnbound(v *VEthRecord) {
	if !v.listed {
		v.listed = true
		s.tab.unbound = append(s.tab.unbound, v.VNIC.Instance)
	}
}

func (s *VISMachine) transmit(p *visPort, r *outReq, now time.Time) {
	p.txid++
	r.tx, r.deadline = p.txid, now.Add(s.t.RequestTimeout)
	m := s.header(r.cmd)
	m.TxID = r.tx
	switch r.cmd {
	case CmdVIFRemove:
		m.Present = FieldInstance | FieldVIF | FieldEpoch
		m.Instance, m.VIF, m.Epoch = r.rm.Instance, r.rm.VIF, r.rm.Epoch
	case CmdVIFList:
		m.Present = FieldVIFList
		m.ListID = r.list
		m.Members = append(m.Members, p.lists.members[r.list]...)
	}
	s.o.send(p.id, m)
}

// listFits reports whether p's IV can take list as it stands: a list
// that needs the wide TLV goes only to an IV of version 2. A list that
// does not fit is counted (RefusedLists) and not sent.
func (s *VISMachine) listFits(p *visPort, list uint32) bool {
	if p.version >= 2 || !WideList(list, p.lists.members[list]) {
		return true
	}
	s.refusedLists++
	return false
}

// RefusedLists counts the VIF lists not sent because the IV speaks
// version 1 and the list needs version 2 (a GRP 2 or 3 E-channel, or ids
// above MaxVIF).
func (s *VISMachine) RefusedLists() int { return s.refusedLists }

func (s *VISMachine) sendList(p *visPort, list uint32, now time.Time) {
	if !s.listFits(p, list) {
		for i := range p.out {
			if p.out[i].cmd == CmdVIFList && p.out[i].list == list {
				p.out = append(p.out[:i], p.out[i+1:]...)
				break
			}
		}
		return
	}
	for i := range p.out {
		if r := &p.out[i]; r.cmd == CmdVIFList && r.list == list {
			s.transmit(p, r, now)
			return
		}
	}
	p.out = append(p.out, outReq{cmd: CmdVIFList, list: list})
	s.transmit(p, &p.out[len(p.out)-1], now)
}

func (s *VISMachine) receive(p *visPort, m *Message, now time.Time) {
	if m.Command == CmdOpen && !m.Response {
		s.open(p, m, now)
		return
	}
	if !p.open || m.Session != p.session {
		if !m.Response {
			s.refuse(p, m, ReasonNoSession)
		}
		return
	}
	p.lastHeard = now
	if m.Response {
		if !m.Has(FieldPeerSession) || m.PeerSession == s.cfg.Session {
			s.answered(p, m)
		}
		return
	}
	switch m.Command {
	case CmdKeepalive:
		s.o.send(p.id, s.reply(p, m, ResultSuccess, ReasonNone))
	case CmdVIFAlloc:
		s.alloc(p, m, now)
	case CmdVIFLink:
		v := s.tab.veths[m.Instance]
		if v == nil || !v.Bound || v.Port != p.id || v.VIF != m.VIF {
			s.refuse(p, m, ReasonNotBound)
			return
		}
		if s.fresh(v, m) && v.VNIC.Up != m.Up {
			v.VNIC.Up = m.Up
			s.o.add(Action{Kind: ActVISLink, VEth: v.ID, Up: v.VNIC.Up})
		}
		s.o.send(p.id, s.reply(p, m, ResultSuccess, ReasonNone))
	case CmdVIFDelete:
		v := s.tab.veths[m.Instance]
		here := v != nil && v.Port == p.id && m.Epoch >= v.VNIC.Epoch && (!m.Has(FieldVIF) || !v.Bound || v.VIF == m.VIF)
		// A delete for a newer placement than the vEth's (the vNIC was
		// placed here and deleted before its VIF-alloc arrived) deletes
		// it too, taking it from the IV that still has it.
		newer := v != nil && v.Port != p.id && m.Epoch > v.VNIC.Epoch
		if (here || newer) && s.fresh(v, m) {
			if v.Bound && newer {
				s.takeAway(v, m.Epoch, now)
			} else if v.Bound {
				s.unbind(v, now)
			}
			s.o.add(Action{Kind: ActVISDeleteVEth, VEth: v.ID, VNIC: v.VNIC})
			s.tab.remove(m.Instance)
		}
		if s.tab.veths[m.Instance] == nil {
			// Remember the delete, so that an older VIF-alloc arriving
			// later (from this IV, reordered, or from an IV the vNIC left)
			// does not bring the vEth back.
			s.tab.bury(m.Instance, m.Session, m.TxID, m.Epoch)
		}
		// Deleting what is not (or no longer) here succeeds: the IV's
		// goal, no vEth behind it for the instance, holds.
		s.o.send(p.id, s.reply(p, m, ResultSuccess, ReasonNone))
	case CmdVIFDetach:
		v := s.tab.veths[m.Instance]
		if v != nil && v.Bound && v.Port == p.id && m.Epoch >= v.VNIC.Epoch && (!m.Has(FieldVIF) || v.VIF == m.VIF) && s.fresh(v, m) {
			s.unbind(v, now)
		}
		s.o.send(p.id, s.reply(p, m, ResultSuccess, ReasonNone))
	case CmdResyncDone:
		s.unbindStale(p, now)
		s.o.send(p.id, s.reply(p, m, ResultSuccess, ReasonNone))
	default:
		s.refuse(p, m, ReasonBadRequest)
	}
}

// fresh reports whether request m is newer than the last one applied to
// v from the same IV session, and records it. ECP can deliver an old
// ULPDU again after a newer one when frames are reordered; those must
// not undo newer changes.
func (s *VISMachine) fresh(v *VEthRecord, m *Message) bool {
	if v.session == m.Session && m.TxID < v.lastTx {
		return false
	}
	v.session, v.lastTx = m.Session, m.TxID
	return true
}

func (s *VISMachine) open(p *visPort, m *Message, now time.Time) {
	if !m.Has(FieldCaps) || m.Caps.Mode == 0 {
		s.refuse(p, m, ReasonBadRequest)
		return
	}
	if p.open && m.Session < p.session {
		// An Open of an earlier incarnation of the IV, delayed on the
		// link: the session that is open is newer.
		s.refuse(p, m, ReasonStaleEpoch)
		return
	}
	restarted := p.session != m.Session
	if restarted || !p.open {
		s.staleAll(p, now)
	}
	if restarted {
		// A new IV incarnation forgot every VIF the VIS took away from
		// it: they are free now.
		keep := s.tab.removes[:0]
		for _, r := range s.tab.removes {
			if r.Port == p.id {
				p.free(r.VIF)
			} else {
				keep = append(keep, r)
			}
		}
		s.tab.removes = keep
	}
	p.open, p.session, p.caps, p.lastHeard = true, m.Session, m.Caps, now
	p.version = 1
	if m.Has(FieldVersion) {
		p.version = m.Version
	}
	s.tab.sessions[p.id] = m.Session
	p.hold = 3 * time.Duration(m.Caps.KeepaliveMS) * time.Millisecond
	r := s.reply(p, m, ResultSuccess, ReasonNone)
	if p.version >= 2 {
		// A version-1 IV gets version 1's answer, byte for byte.
		r.Present |= FieldVersion
		r.Version = Version
	}
	s.o.send(p.id, r)
	s.o.add(Action{Kind: ActPeerUp, Port: p.id})
	// Send again what the IV must hear from us: removals and VIF lists.
	p.out = p.out[:0]
	for _, rm := range s.tab.removes {
		if rm.Port == p.id {
			p.out = append(p.out, outReq{cmd: CmdVIFRemove, rm: rm})
		}
	}
	for _, l := range p.lists.order {
		if s.listFits(p, l) {
			p.out = append(p.out, outReq{cmd: CmdVIFList, list: l})
		}
	}
	for i := range p.out {
		s.transmit(p, &p.out[i], now)
	}
}

func (s *VISMachine) answered(p *visPort, m *Message) {
	for i := range p.out {
		r := &p.out[i]
		if r.tx != m.TxID || r.cmd != m.Command {
			continue
		}
		if m.Result != ResultSuccess {
			return // the IV could not take it yet: sent again at the deadline
		}
		if r.cmd == CmdVIFRemove {
			for j, rm := range s.tab.removes {
				if rm == r.rm {
					s.tab.removes = append(s.tab.removes[:j], s.tab.removes[j+1:]...)
					p.free(rm.VIF)
					break
				}
			}
		}
		p.out = append(p.out[:i], p.out[i+1:]...)
		return
	}
}

func (s *VISMachine) allocReply(p *visPort, req *Message, v *VEthRecord) {
	m := s.reply(p, req, ResultSuccess, ReasonNone)
	m.Present |= FieldVIF | FieldVEth | FieldEpoch
	m.VIF, m.VEth, m.Epoch = v.VIF, v.ID, v.VNIC.Epoch
	if v.VNIC.VLAN != 0 {
		m.Present |= FieldVLAN
		m.VLAN = v.VNIC.VLAN
	}
	s.o.send(p.id, m)
}

func (s *VISMachine) alloc(p *visPort, m *Message, now time.Time) {
	n := VNIC{Instance: m.Instance, MAC: m.MAC, VLAN: m.VLAN, Epoch: m.Epoch, Up: m.Up}
	v := s.tab.veths[m.Instance]
	if v != nil && v.Bound && v.Port == p.id && !s.fresh(v, m) {
		s.allocReply(p, m, v) // an old request again: answer, change nothing
		return
	}
	if v == nil || v.VNIC.Profile != string(m.Profile) {
		n.Profile = string(m.Profile)
	} else {
		n.Profile = v.VNIC.Profile
	}
	if s.cfg.Profiles != nil {
		switch s.cfg.Profiles.ProfileState(n.Profile) {
		case ProfileUnknown:
			s.refuse(p, m, ReasonUnknownProfile)
			return
		case ProfileDisabled:
			s.refuse(p, m, ReasonProfileDisabled)
			return
		case ProfileFull:
			if v == nil || v.VNIC.Profile != n.Profile {
				s.refuse(p, m, ReasonMaxPorts)
				return
			}
		}
	}
	switch {
	case v == nil:
		if s.tab.buried(m) {
			s.refuse(p, m, ReasonStaleEpoch) // older than a delete
			return
		}
		if s.cfg.MaxVEths > 0 && s.tab.Len() >= s.cfg.MaxVEths {
			s.refuse(p, m, ReasonMaxPorts)
			return
		}
		vif := p.alloc()
		if vif == 0 {
			s.refuse(p, m, ReasonVIFExhausted)
			return
		}
		id := s.tab.next + 1
		if s.cfg.NewVEthID != nil {
			var err error
			if id, err = s.cfg.NewVEthID(n); errors.Is(err, ErrIDPending) {
				p.free(vif)
				s.wait(p, m)
				return
			} else if err != nil || id == 0 {
				p.free(vif)
				s.refuse(p, m, ReasonMaxPorts)
				return
			}
		}
		s.tab.next = max(s.tab.next, id)
		v = &VEthRecord{ID: id, VNIC: n, Port: p.id, VIF: vif, Bound: true, session: m.Session, lastTx: m.TxID}
		s.tab.veths[n.Instance] = v
		s.tab.order = append(s.tab.order, n.Instance)
		s.o.add(Action{Kind: ActVISVEth, VEth: v.ID, VNIC: v.VNIC})
		s.o.add(Action{Kind: ActVISBind, Port: p.id, VIF: vif, VEth: v.ID})
		s.o.add(Action{Kind: ActVISLink, VEth: v.ID, Up: n.Up})
	case v.Bound && v.Port == p.id:
		// Announced again (resync, retry) or changed: same vEth, same VIF.
		if n.Epoch < v.VNIC.Epoch {
			n.Epoch = v.VNIC.Epoch
		}
		s.update(v, n)
		v.Stale = false
	case n.Epoch < v.VNIC.Epoch || (v.Bound && n.Epoch == v.VNIC.Epoch):
		// Placed behind another IV since (or concurrently claimed there
		// with the same epoch): this request is stale.
		s.refuse(p, m, ReasonStaleEpoch)
		return
	default:
		// Migration (bound elsewhere, newer epoch) or a vEth unbound
		// earlier coming back: same vEth id, config and counters, a VIF
		// on this port.
		vif := p.alloc()
		if vif == 0 {
			s.refuse(p, m, ReasonVIFExhausted)
			return
		}
		if v.Bound {
			s.takeAway(v, n.Epoch, now)
		}
		v.Port, v.VIF, v.Bound, v.Stale = p.id, vif, true, false
		s.o.add(Action{Kind: ActVISBind, Port: p.id, VIF: vif, VEth: v.ID})
		s.update(v, n)
	}
	v.session, v.lastTx = m.Session, m.TxID
	s.allocReply(p, m, v)
}

// wait keeps VIF-alloc m of port p, unanswered, until its id is ready.
func (s *VISMachine) wait(p *visPort, m *Message) {
	if s.waiting == nil {
		s.waiting = map[UUID]waitingAlloc{}
	}
	w := waitingAlloc{port: p.id, msg: *m}
	w.msg.Profile = append([]byte(nil), m.Profile...)
	w.msg.Members = append([]vntag.VIF(nil), m.Members...)
	s.waiting[m.Instance] = w
}

// takeAway unbinds v from its IV's port and tells that IV (VIF-remove);
// the VIF id stays reserved there until the IV confirms or restarts.
func (s *VISMachine) takeAway(v *VEthRecord, epoch uint32, now time.Time) {
	old := s.ports[v.Port]
	s.o.add(Action{Kind: ActVISUnbind, Port: old.id, VIF: v.VIF, VEth: v.ID})
	rm := pendingRemove{Port: old.id, VIF: v.VIF, Instance: v.VNIC.Instance, Epoch: epoch}
	s.tab.removes = append(s.tab.removes, rm)
	v.Bound, v.Unbound = false, now
	s.listUnbound(v)
	if old.open {
		old.out = append(old.out, outReq{cmd: CmdVIFRemove, rm: rm})
		s.transmit(old, &old.out[len(old.out)-1], now)
	}
}

func (s *VISMachine) update(v *VEthRecord, n VNIC) {
	old := v.VNIC
	v.VNIC = n
	if old.MAC != n.MAC || old.Profile != n.Profile || old.VLAN != n.VLAN || old.Epoch != n.Epoch {
		s.o.add(Action{Kind: ActVISVEth, VEth: v.ID, VNIC: n})
	}
	if old.Up != n.Up {
		s.o.add(Action{Kind: ActVISLink, VEth: v.ID, Up: n.Up})
	}
}

// EncodeFailures counts messages the machine built but could not encode.
// It is always zero unless the machine has a bug; tests assert it.
func (s *VISMachine) EncodeFailures() int { return s.o.fails }
