package vic

import (
	"strconv"
	"time"

	"github.com/nivkit/niv/vntag"
)

// SessionState is the state of a vic session as one side sees it.
type SessionState uint8

const (
	// SessionOpening: the IV has sent Open (again) and waits for the
	// answer; on the VIS, no session is open on the port.
	SessionOpening SessionState = iota
	// SessionOpen: the session is open and the peer alive.
	SessionOpen
)

func (s SessionState) String() string {
	if s == SessionOpen {
		return "open"
	}
	return "opening"
}

// VIFState is the state of one vNIC's VIF in the IV's per-VIF machine.
type VIFState uint8

const (
	// VIFPending: the vNIC needs a VIF; a VIF-alloc goes out as soon as
	// the session is open.
	VIFPending VIFState = iota
	// VIFAllocating: a VIF-alloc is outstanding.
	VIFAllocating
	// VIFBound: the VIS allocated the VIF and vEth; the IV core has it.
	VIFBound
	// VIFDeleting: the vNIC was deleted; a VIF-delete is outstanding.
	VIFDeleting
	// VIFRefused: the VIS refused the vNIC (Reason says why). A new
	// Request tries again.
	VIFRefused
	// VIFMoved: the vNIC now lives behind another IV (the VIS removed it
	// here, or refused it as stale-epoch).
	VIFMoved
)

var vifStateNames = [...]string{"pending", "allocating", "bound", "deleting", "refused", "moved"}

func (s VIFState) String() string {
	if int(s) < len(vifStateNames) {
		return vifStateNames[s]
	}
	return "state(" + strconv.FormatUint(uint64(s), 10) + ")"
}

// IVEventKind names an input of the IV machine.
type IVEventKind uint8

const (
	// IVRequest: the hypervisor wants IVEvent.VNIC (new, or changed).
	IVRequest IVEventKind = iota + 1
	// IVSetLink: enable or disable the vNIC IVEvent.VNIC.Instance
	// (IVEvent.VNIC.Up).
	IVSetLink
	// IVDelete: the vNIC IVEvent.VNIC.Instance is gone.
	IVDelete
	// IVRelease: the vNIC IVEvent.VNIC.Instance left this IV by
	// migration: its VIF goes, its vEth stays on the VIS for the new IV.
	IVRelease
	// IVReceive: IVEvent.Msg arrived from the VIS.
	IVReceive
	// IVTimer: time passed; send at or after IV.Deadline.
	IVTimer
)

// IVEvent is an input of IV.Handle.
type IVEvent struct {
	Kind IVEventKind
	VNIC VNIC
	Msg  *Message
}

// IVConfig parameterises an IV machine.
type IVConfig struct {
	// Session is this incarnation's number: non-zero and larger at
	// every start (the start time in nanoseconds will do), so the VIS
	// notices restarts and tells a delayed Open of an earlier incarnation
	// from a new one.
	Session uint64
	// Mode and MaxVIFs go into the Open capabilities. MaxVIFs is at most
	// 4095 in VNTag mode (0 means 4095); in E-Tag mode more than 4095
	// asks a version-2 VIS for E-CIDs with an ext part, and a version-1
	// VIS refuses it.
	Mode    vntag.Mode
	MaxVIFs uint16
	// Window is how many requests may be outstanding at once (default
	// DefaultWindow).
	Window int
	Timing Timing
}

// DefaultWindow is the default IVConfig.Window.
const DefaultWindow = 64

type ivVIF struct {
	n        VNIC
	profile  []byte
	state    VIFState
	vif      vntag.VIF
	veth     uint32
	linkSent bool // link state of the outstanding alloc or link request
	linkSet  bool // link state the VIS confirmed
	reason   Reason
	tx       uint32 // outstanding request, 0 for none
	txCmd    Command
	deadline time.Time
	resync   bool // announced since the session opened, answer not yet in
	detach   bool // VIFDeleting sends VIF-detach, not VIF-delete
	queued   bool // in IVMachine.waiting
	pend     int  // index in IVMachine.pending, -1 when not there
}

// IVMachine is the interface virtualizer's side of the vic protocol: one
// session to the VIS over the uplink, and one per-VIF machine per vNIC. It is a
// pure transition function: Handle(event, now) → actions; no I/O, no
// goroutine, no clock. Not safe for concurrent use.
type IVMachine struct {
	cfg   IVConfig
	t     Timing
	state SessionState
	peer  uint64 // the VIS's session

	txid          uint32
	openTx        uint32
	openDeadline  time.Time
	lastHeard     time.Time
	nextKeepalive time.Time
	resyncPending bool

	vnics   map[UUID]*ivVIF
	order   []*ivVIF // vNICs in creation order, for deterministic resync
	pending []*ivVIF // vNICs with an outstanding request
	waiting []*ivVIF // vNICs waiting for room in the window
	byVIF   map[vntag.VIF]*ivVIF
	listTx  map[uint32]uint32
	lists   map[uint32][]vntag.VIF

	o   out
	msg Message
}

// NewIVMachine returns an IV machine in SessionOpening; its first Handle
// (any event, IVTimer will do) sends Open.
func NewIVMachine(cfg IVConfig) *IVMachine {
	if cfg.Mode == 0 {
		cfg.Mode = vntag.ModeVNTag
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	// At most one VIF per svif_id in VNTag mode; in E-Tag mode as many as
	// version 2 carries (E-CIDs with an ext part beyond 4095). 0 means
	// 4095 in both.
	top := uint16(vntag.MaxSVIF)
	if cfg.Mode == vntag.ModeETag {
		top = MaxVIFsETag
	}
	if cfg.MaxVIFs == 0 {
		cfg.MaxVIFs = uint16(vifTop(cfg.Mode, 1, 0))
	}
	cfg.MaxVIFs = min(cfg.MaxVIFs, top)
	return &IVMachine{cfg: cfg, t: cfg.Timing.withDefaults(), vnics: map[UUID]*ivVIF{},
		byVIF: map[vntag.VIF]*ivVIF{}, listTx: map[uint32]uint32{}, lists: map[uint32][]vntag.VIF{}}
}

// Session returns the IV's session state and the VIS's session number.
func (iv *IVMachine) Session() (SessionState, uint64) { return iv.state, iv.peer }

// IVVNIC is the IV's view of one vNIC.
type IVVNIC struct {
	VNIC
	State  VIFState
	VIF    vntag.VIF
	VEth   uint32
	Reason Reason
	// LinkUp is the link state the VIS has confirmed.
	LinkUp bool
}

// VNIC returns the IV's view of the vNIC with instance u.
func (iv *IVMachine) VNIC(u UUID) (IVVNIC, bool) {
	v, ok := iv.vnics[u]
	if !ok {
		return IVVNIC{}, false
	}
	return IVVNIC{VNIC: v.n, State: v.state, VIF: v.vif, VEth: v.veth, Reason: v.reason, LinkUp: v.linkSet}, true
}

// VNICs calls f for every vNIC the IV knows, in creation order.
func (iv *IVMachine) VNICs(f func(IVVNIC)) {
	for _, v := range iv.order {
		f(IVVNIC{VNIC: v.n, State: v.state, VIF: v.vif, VEth: v.veth, Reason: v.reason, LinkUp: v.linkSet})
	}
}

// Deadline returns the next time the IV needs an IVTimer event.
func (iv *IVMachine) Deadline() time.Time {
	if iv.state == SessionOpening {
		return iv.openDeadline
	}
	d := minTime(iv.nextKeepalive, iv.lastHeard.Add(iv.t.Hold))
	for _, v := range iv.pending {
		d = minTime(d, v.deadline)
	}
	return d
}

// Handle runs the IV machine on one event at time now and returns the
// actions, in order. The slice and the bytes it refers to are reused by
// the next call.
func (iv *IVMachine) Handle(ev IVEvent, now time.Time) []Action {
	iv.o.reset()
	switch ev.Kind {
	case IVRequest:
		iv.request(ev.VNIC, now)
	case IVSetLink:
		if v := iv.vnics[ev.VNIC.Instance]; v != nil && v.n.Up != ev.VNIC.Up {
			v.n.Up = ev.VNIC.Up
			if v.state == VIFBound && v.tx == 0 {
				iv.sendLink(v, now)
			}
		}
	case IVDelete:
		iv.delete(ev.VNIC.Instance, false, now)
	case IVRelease:
		iv.delete(ev.VNIC.Instance, true, now)
	case IVReceive:
		if ev.Msg != nil {
			iv.receive(ev.Msg, now)
		}
	}
	iv.timers(now)
	iv.drain(now)
	return iv.o.acts
}

func (iv *IVMachine) nextTx() uint32 {
	iv.txid++
	if iv.txid == 0 {
		iv.txid = 1
	}
	return iv.txid
}

func (iv *IVMachine) header(cmd Command) *Message {
	m := &iv.msg
	profile, members := m.Profile[:0], m.Members[:0]
	*m = Message{Command: cmd, Session: iv.cfg.Session, Profile: profile, Members: members}
	return m
}

func (iv *IVMachine) sendOpen(now time.Time) {
	iv.state = SessionOpening
	iv.openTx = iv.nextTx()
	m := iv.header(CmdOpen)
	m.TxID = iv.openTx
	m.Present = FieldCaps | FieldPeerSession | FieldVersion
	m.Version = Version
	m.Caps = Capabilities{Mode: iv.cfg.Mode, MaxVIFs: iv.cfg.MaxVIFs, KeepaliveMS: uint16(min(iv.t.Keepalive.Milliseconds(), 65535))}
	if m.Caps.KeepaliveMS == 0 {
		m.Caps.KeepaliveMS = 1
	}
	m.PeerSession = iv.peer
	iv.o.send(0, m)
	iv.openDeadline = now.Add(iv.t.RequestTimeout)
}

func (iv *IVMachine) timers(now time.Time) {
	if iv.state == SessionOpening {
		if !now.Before(iv.openDeadline) {
			iv.sendOpen(now)
		}
		return
	}
	if !now.Before(iv.lastHeard.Add(iv.t.Hold)) {
		// Dead peer: keep the data path as it is and open again; the
		// resync that follows confirms or corrects every VIF.
		iv.o.add(Action{Kind: ActPeerDown})
		iv.sendOpen(now)
		return
	}
	if !now.Before(iv.nextKeepalive) {
		m := iv.header(CmdKeepalive)
		m.TxID = iv.nextTx()
		m.Present = FieldPeerSession
		m.PeerSession = iv.peer
		iv.o.send(0, m)
		iv.nextKeepalive = now.Add(iv.t.Keepalive)
	}
	for i := 0; i < len(iv.pending); i++ {
		v := iv.pending[i]
		if now.Before(v.deadline) {
			continue
		}
		n := len(iv.pending)
		iv.resend(v, now)
		if len(iv.pending) < n {
			i--
		}
	}
}

// resend sends v's request for its state again, with a new transaction id.
func (iv *IVMachine) resend(v *ivVIF, now time.Time) {
	switch v.state {
	case VIFPending, VIFAllocating:
		iv.sendAlloc(v, now)
	case VIFDeleting:
		iv.sendDelete(v, now)
	case VIFBound:
		iv.sendLink(v, now)
	default:
		iv.settle(v)
	}
}

func (iv *IVMachine) track(v *ivVIF, cmd Command, now time.Time) *Message {
	v.tx, v.txCmd, v.deadline = iv.nextTx(), cmd, now.Add(iv.t.RequestTimeout)
	if v.pend < 0 {
		v.pend = len(iv.pending)
		iv.pending = append(iv.pending, v)
	}
	m := iv.header(cmd)
	m.TxID = v.tx
	m.Instance = v.n.Instance
	m.Epoch = v.n.Epoch
	m.Present = FieldInstance | FieldEpoch
	return m
}

// settle forgets v's outstanding request.
func (iv *IVMachine) settle(v *ivVIF) {
	v.tx = 0
	if v.pend >= 0 {
		last := iv.pending[len(iv.pending)-1]
		iv.pending[v.pend] = last
		last.pend = v.pend
		iv.pending = iv.pending[:len(iv.pending)-1]
		v.pend = -1
	}
}

// slot reports whether v may send a request now: it has one
// outstanding already (the new one replaces it), or fewer than Window
// requests are outstanding. Otherwise v waits its turn: requests beyond
// what ECP can carry in a request timeout would only time out and be
// sent again.
func (iv *IVMachine) slot(v *ivVIF) bool {
	if v.pend >= 0 || len(iv.pending) < iv.cfg.Window {
		return true
	}
	if !v.queued {
		v.queued = true
		iv.waiting = append(iv.waiting, v)
	}
	return false
}

// drain sends waiting requests while the window has room.
func (iv *IVMachine) drain(now time.Time) {
	for len(iv.waiting) > 0 && len(iv.pending) < iv.cfg.Window && iv.state == SessionOpen {
		v := iv.waiting[0]
		iv.waiting[0] = nil
		iv.waiting = iv.waiting[1:]
		v.queued = false
		if iv.vnics[v.n.Instance] == v && v.pend < 0 {
			iv.resend(v, now)
		}
	}
	if len(iv.waiting) == 0 {
		iv.waiting = iv.waiting[:0:0]
	}
}

func (iv *IVMachine) sendAlloc(v *ivVIF, now time.Time) {
	if v.state == VIFPending || v.state == VIFAllocating {
		v.state = VIFAllocating
	}
	if iv.state != SessionOpen {
		// Sent when the session opens.
		iv.settle(v)
		if v.state == VIFAllocating {
			v.state = VIFPending
		}
		return
	}
	if !iv.slot(v) {
		return
	}
	m := iv.track(v, CmdVIFAlloc, now)
	m.Present |= FieldMAC | FieldProfile | FieldLink
	m.MAC, m.Profile, m.Up = v.n.MAC, v.profile, v.n.Up
	if v.n.VLAN != 0 {
		m.Present |= FieldVLAN
		m.VLAN = v.n.VLAN
	}
	v.linkSent = v.n.Up
	iv.o.send(0, m)
}

func (iv *IVMachine) sendLink(v *ivVIF, now time.Time) {
	if iv.state != SessionOpen {
		iv.settle(v)
		return
	}
	if !iv.slot(v) {
		return
	}
	m := iv.track(v, CmdVIFLink, now)
	m.Present |= FieldVIF | FieldLink
	m.VIF, m.Up = v.vif, v.n.Up
	v.linkSent = v.n.Up
	iv.o.send(0, m)
}

func (iv *IVMachine) sendDelete(v *ivVIF, now time.Time) {
	if iv.state != SessionOpen {
		iv.settle(v)
		return
	}
	if !iv.slot(v) {
		return
	}
	cmd := CmdVIFDelete
	if v.detach {
		cmd = CmdVIFDetach
	}
	m := iv.track(v, cmd, now)
	if v.vif != 0 {
		m.Present |= FieldVIF
		m.VIF = v.vif
	}
	iv.o.send(0, m)
}

func (iv *IVMachine) request(n VNIC, now time.Time) {
	if !validProfile([]byte(n.Profile)) || n.VLAN > MaxVLAN {
		iv.o.add(Action{Kind: ActStatus, VNIC: n, Result: ResultInvalid, Reason: ReasonBadRequest})
		return
	}
	v := iv.vnics[n.Instance]
	if v == nil {
		v = &ivVIF{n: n, profile: []byte(n.Profile), pend: -1}
		iv.vnics[n.Instance] = v
		iv.order = append(iv.order, v)
		iv.sendAlloc(v, now)
		return
	}
	old := v.n
	v.n = n
	if old.Profile != n.Profile {
		v.profile = []byte(n.Profile)
	}
	switch v.state {
	case VIFBound:
		if old.MAC != n.MAC || old.Profile != n.Profile || old.VLAN != n.VLAN || old.Epoch != n.Epoch {
			iv.sendAlloc(v, now) // VIS updates the vEth and keeps the VIF
		} else if old.Up != n.Up && v.tx == 0 {
			iv.sendLink(v, now)
		}
	case VIFAllocating:
		if old != n {
			iv.sendAlloc(v, now)
		}
	default: // pending, deleting, refused, moved: ask again
		v.state, v.detach = VIFPending, false
		iv.sendAlloc(v, now)
	}
}

func (iv *IVMachine) unbind(v *ivVIF) {
	if v.vif != 0 && iv.byVIF[v.vif] == v {
		delete(iv.byVIF, v.vif)
		iv.o.add(Action{Kind: ActIVUnbind, VIF: v.vif, VNIC: v.n, VEth: v.veth})
	}
}

func (iv *IVMachine) forget(v *ivVIF) {
	iv.settle(v)
	iv.unbind(v)
	delete(iv.vnics, v.n.Instance)
	for i, w := range iv.order {
		if w == v {
			iv.order = append(iv.order[:i], iv.order[i+1:]...)
			break
		}
	}
}

func (iv *IVMachine) delete(u UUID, detach bool, now time.Time) {
	v := iv.vnics[u]
	if v == nil {
		return
	}
	switch v.state {
	case VIFRefused, VIFMoved:
		iv.forget(v)
		return
	case VIFPending:
		if v.tx == 0 && v.vif == 0 && iv.state == SessionOpen {
			// Never announced in this session and never bound.
			iv.forget(v)
			return
		}
	}
	iv.unbind(v)
	v.state, v.detach = VIFDeleting, detach
	v.resync = false
	iv.sendDelete(v, now)
}

// status reports v's outcome to the IV's owner.
func (iv *IVMachine) status(v *ivVIF, r Result, why Reason) {
	iv.o.add(Action{Kind: ActStatus, VNIC: v.n, VIF: v.vif, VEth: v.veth, Result: r, Reason: why})
}

func (iv *IVMachine) reply(req *Message, r Result, why Reason) {
	m := iv.header(req.Command)
	m.Response, m.TxID, m.Result, m.Reason = true, req.TxID, r, why
	m.Present = required[req.Command][1] | FieldPeerSession
	m.PeerSession = req.Session
	m.Instance = req.Instance
	if m.Present&FieldVIFList != 0 {
		m.ListID = req.ListID
	}
	iv.o.send(0, m)
}

func (iv *IVMachine) receive(m *Message, now time.Time) {
	if !m.Response {
		iv.serve(m, now)
		return
	}
	if m.Has(FieldPeerSession) && m.PeerSession != iv.cfg.Session {
		return // an answer to an earlier incarnation of this IV
	}
	if m.Command == CmdOpen {
		if iv.state == SessionOpening && m.TxID == iv.openTx && m.Result == ResultSuccess {
			iv.opened(m, now)
		}
		return
	}
	if iv.state != SessionOpen {
		return
	}
	if m.Command == CmdVIFAlloc && m.Result == ResultSuccess && m.Has(FieldEpoch) && m.Session == iv.peer {
		// The VIS bound a VIF for a vNIC this IV does not have there: an
		// old VIF-alloc that arrived late. Let go of it, keeping the vEth
		// (a vNIC that left by migration keeps its vEth).
		v := iv.vnics[m.Instance]
		if (v == nil || m.TxID != v.tx) && (v == nil || v.state == VIFDeleting || v.state == VIFMoved || v.state == VIFRefused ||
			(v.state == VIFBound && v.vif != m.VIF)) {
			d := iv.header(CmdVIFDetach)
			d.TxID = iv.nextTx()
			d.Present = FieldInstance | FieldEpoch | FieldVIF
			d.Instance, d.Epoch, d.VIF = m.Instance, m.Epoch, m.VIF
			iv.o.send(0, d)
		}
	}
	if m.TxID < iv.openTx {
		return // an answer to a request sent before the session opened
	}
	if m.Reason == ReasonNoSession {
		// The VIS restarted, or declared us dead: open again and resync.
		iv.o.add(Action{Kind: ActPeerDown})
		iv.sendOpen(now)
		return
	}
	if m.Session != iv.peer {
		return
	}
	iv.lastHeard = now
	if m.Command == CmdKeepalive || m.Command == CmdResyncDone {
		return
	}
	v := iv.vnics[m.Instance]
	if v == nil || v.tx == 0 || m.TxID != v.tx || m.Command != v.txCmd {
		return // stale or duplicated answer
	}
	iv.settle(v)
	switch m.Command {
	case CmdVIFAlloc:
		iv.allocated(v, m, now)
	case CmdVIFLink:
		switch {
		case m.Result == ResultSuccess:
			v.linkSet = v.linkSent
			iv.o.add(Action{Kind: ActIVLink, VIF: v.vif, Up: v.linkSet})
			if v.n.Up != v.linkSet {
				iv.sendLink(v, now)
			}
		case m.Reason == ReasonNotBound || m.Reason == ReasonStaleEpoch:
			v.state = VIFPending
			iv.sendAlloc(v, now)
		default:
			iv.sendLink(v, now)
		}
	case CmdVIFDelete, CmdVIFDetach:
		iv.forget(v)
	}
	iv.resyncDone(now)
}

func (iv *IVMachine) allocated(v *ivVIF, m *Message, now time.Time) {
	v.resync = false
	if m.Result != ResultSuccess {
		iv.unbind(v)
		v.vif, v.veth, v.reason = 0, 0, m.Reason
		v.state = VIFRefused
		if m.Reason == ReasonStaleEpoch {
			v.state = VIFMoved
		}
		iv.status(v, m.Result, m.Reason)
		return
	}
	if v.vif != m.VIF || iv.byVIF[m.VIF] != v {
		iv.unbind(v)
		// The VIS allocates VIF ids on this port; if another vNIC still
		// holds this one, its claim is stale: take it away and ask again.
		if w := iv.byVIF[m.VIF]; w != nil && w != v {
			iv.unbind(w)
			w.vif, w.state = 0, VIFPending
			iv.sendAlloc(w, now)
		}
		v.vif = m.VIF
		iv.byVIF[m.VIF] = v
		v.veth = m.VEth
		v.linkSet = v.linkSent
		n := v.n
		n.Up = v.linkSet
		iv.o.add(Action{Kind: ActIVBind, VIF: v.vif, VEth: v.veth, VNIC: n, Up: v.linkSet})
	} else {
		v.veth = m.VEth
		if v.linkSet != v.linkSent {
			v.linkSet = v.linkSent
			iv.o.add(Action{Kind: ActIVLink, VIF: v.vif, Up: v.linkSet})
		}
	}
	v.state, v.reason = VIFBound, ReasonNone
	iv.status(v, ResultSuccess, ReasonNone)
	if v.n.Up != v.linkSet {
		iv.sendLink(v, now)
	}
}

func (iv *IVMachine) opened(m *Message, now time.Time) {
	iv.state, iv.peer = SessionOpen, m.Session
	iv.lastHeard, iv.nextKeepalive = now, now.Add(iv.t.Keepalive)
	clear(iv.listTx)
	for _, v := range iv.waiting {
		v.queued = false
	}
	iv.waiting = iv.waiting[:0]
	iv.o.add(Action{Kind: ActPeerUp})
	// Resync: announce every vNIC again; finish deletes.
	for _, v := range iv.order {
		iv.settle(v)
		switch v.state {
		case VIFPending, VIFAllocating, VIFBound:
			v.resync = true
			if v.state == VIFBound {
				v.state = VIFAllocating
			}
			iv.sendAlloc(v, now)
		case VIFDeleting:
			iv.sendDelete(v, now)
		}
	}
	iv.resyncPending = true
	iv.resyncDone(now)
}

// resyncDone sends ResyncDone once every vNIC announced since the
// session opened has its answer.
func (iv *IVMachine) resyncDone(now time.Time) {
	if !iv.resyncPending || iv.state != SessionOpen {
		return
	}
	for _, v := range iv.order {
		if v.resync {
			return
		}
	}
	iv.resyncPending = false
	m := iv.header(CmdResyncDone)
	m.TxID = iv.nextTx()
	iv.o.send(0, m)
}

// serve answers a request from the VIS.
func (iv *IVMachine) serve(m *Message, now time.Time) {
	switch m.Command {
	case CmdKeepalive, CmdVIFRemove, CmdVIFList:
	default:
		iv.reply(m, ResultInvalid, ReasonBadRequest)
		return
	}
	if iv.state != SessionOpen || m.Session != iv.peer {
		iv.reply(m, ResultBadState, ReasonNoSession)
		return
	}
	iv.lastHeard = now
	switch m.Command {
	case CmdVIFRemove:
		// The vNIC moved behind another IV. Stale removes (for an older
		// epoch or another VIF) change nothing.
		if v := iv.vnics[m.Instance]; v != nil && v.n.Epoch <= m.Epoch && (v.vif == m.VIF || v.vif == 0) &&
			v.state != VIFDeleting && v.state != VIFMoved {
			iv.settle(v)
			v.resync = false
			iv.unbind(v)
			v.vif, v.veth, v.state, v.reason = 0, 0, VIFMoved, ReasonStaleEpoch
			iv.status(v, ResultBadState, ReasonStaleEpoch)
			iv.resyncDone(now)
		}
	case CmdVIFList:
		m.ListID = listOf(iv.cfg.Mode, m.ListID)
		if m.TxID > iv.listTx[m.ListID] {
			iv.listTx[m.ListID] = m.TxID
			members := append(iv.lists[m.ListID][:0], m.Members...)
			iv.lists[m.ListID] = members
			iv.o.add(Action{Kind: ActIVVIFList, ListID: m.ListID, Members: members})
		}
	}
	iv.reply(m, ResultSuccess, ReasonNone)
}

// EncodeFailures counts messages the machine built but could not encode.
// It is always zero unless the machine has a bug; tests assert it.
func (iv *IVMachine) EncodeFailures() int { return iv.o.fails }
