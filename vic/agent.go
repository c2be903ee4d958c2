package vic

import (
	"sync"
	"time"

	"github.com/nivkit/niv/vdp/ecp"
	"github.com/nivkit/niv/vntag"
)

// Sender is what an agent needs from ECP: queue a ULPDU of a subtype.
// *ecp.Speaker has it.
type Sender interface {
	Send(st ecp.Subtype, payload []byte) error
}

// IVAgent is the thin driver of an IV machine: it feeds the machine the
// vic messages an ECP speaker delivers (it is the speaker's subtype-2
// Upper), sends what the machine sends, programs the IV data path and
// runs the machine's timer with the time package, so testing/synctest
// controls it. Its methods are safe for concurrent use. The frame port
// under the speaker must not deliver synchronously into the peer (a
// goroutine per direction, as real ports have).
type IVAgent struct {
	mu     sync.Mutex
	iv     *IVMachine
	tx     Sender
	prog   IVProgrammer
	status func(Action)
	timer  *time.Timer
	msg    Message
	closed bool

	decodeErrors  uint64
	sendErrors    uint64
	programErrors uint64
}

// NewIVAgent starts an IV machine: it registers with sp for ECP subtype
// 2 and sends Open. status, if not nil, receives every ActStatus,
// ActPeerUp and ActPeerDown action (with the agent locked: it must not
// call the agent).
func NewIVAgent(cfg IVConfig, sp *ecp.Speaker, prog IVProgrammer, status func(Action)) *IVAgent {
	a := &IVAgent{iv: NewIVMachine(cfg), tx: sp, prog: prog, status: status}
	a.timer = time.AfterFunc(time.Hour, a.fire)
	sp.Register(ecp.SubtypePECSP, a)
	a.handle(IVEvent{Kind: IVTimer})
	return a
}

func (a *IVAgent) handle(ev IVEvent) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.handleLocked(ev)
}

func (a *IVAgent) handleLocked(ev IVEvent) {
	if a.closed {
		return
	}
	for i := range a.iv.Handle(ev, time.Now()) {
		act := &a.iv.o.acts[i]
		switch act.Kind {
		case ActSend:
			if err := a.tx.Send(ecp.SubtypePECSP, act.Payload); err != nil {
				a.sendErrors++ // the request's timer sends it again
			}
		case ActStatus, ActPeerUp, ActPeerDown:
			if a.status != nil {
				a.status(*act)
			}
		default:
			if err := act.ApplyIV(a.prog); err != nil {
				a.programErrors++
			}
		}
	}
	if d := a.iv.Deadline(); !d.IsZero() {
		a.timer.Reset(time.Until(d))
	}
}

func (a *IVAgent) fire() { a.handle(IVEvent{Kind: IVTimer}) }

// Deliver implements ecp.Upper: a ULPDU from the VIS. Messages that do
// not decode are dropped (counted by DecodeErrors).
func (a *IVAgent) Deliver(payload []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := Decode(payload, &a.msg); err != nil {
		a.decodeErrors++
		return
	}
	a.handleLocked(IVEvent{Kind: IVReceive, Msg: &a.msg})
}

// Failed implements ecp.Upper. Nothing to do: every request has its own
// timer and is sent again.
func (a *IVAgent) Failed([]byte, error) {}

// Request asks for a vNIC (or changes it).
func (a *IVAgent) Request(n VNIC) { a.handle(IVEvent{Kind: IVRequest, VNIC: n}) }

// SetLink enables or disables a vNIC.
func (a *IVAgent) SetLink(u UUID, up bool) {
	a.handle(IVEvent{Kind: IVSetLink, VNIC: VNIC{Instance: u, Up: up}})
}

// Delete deletes a vNIC and its vEth.
func (a *IVAgent) Delete(u UUID) { a.handle(IVEvent{Kind: IVDelete, VNIC: VNIC{Instance: u}}) }

// Release lets go of a vNIC that migrated away; its vEth stays.
func (a *IVAgent) Release(u UUID) { a.handle(IVEvent{Kind: IVRelease, VNIC: VNIC{Instance: u}}) }

// VNIC returns the IV's view of a vNIC.
func (a *IVAgent) VNIC(u UUID) (IVVNIC, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.iv.VNIC(u)
}

// Session returns the session state and the VIS's session number.
func (a *IVAgent) Session() (SessionState, uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.iv.Session()
}

// Errors returns how many messages failed to decode, to be queued, and
// to be programmed.
func (a *IVAgent) Errors() (decode, send, program uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.decodeErrors, a.sendErrors, a.programErrors
}

// Close stops the agent's timer; later events are ignored.
func (a *IVAgent) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	a.timer.Stop()
}

// VISAgent is the thin driver of a VIS machine over one ECP speaker per
// IV port. Safe for concurrent use; the same port rules as IVAgent.
type VISAgent struct {
	mu            sync.Mutex
	vis           *VISMachine
	ports         map[PortID]Sender
	prog          VISProgrammer
	status        func(Action)
	timer         *time.Timer
	now           func() time.Time
	msg           Message
	closed        bool
	decodeErrors  uint64
	sendErrors    uint64
	programErrors uint64
}

// NewVISAgent starts a VIS machine over tab (nil: a new Table).
func NewVISAgent(cfg VISConfig, tab *Table, prog VISProgrammer, status func(Action)) *VISAgent {
	a := &VISAgent{vis: NewVISMachine(cfg, tab, time.Now()), ports: map[PortID]Sender{}, prog: prog, status: status, now: time.Now}
	a.timer = time.AfterFunc(time.Hour, a.fire)
	a.handle(VISEvent{Kind: VISTimer})
	return a
}

type visPortUpper struct {
	a    *VISAgent
	port PortID
}

func (u visPortUpper) Deliver(payload []byte) { u.a.deliver(u.port, payload) }
func (u visPortUpper) Failed([]byte, error)   {}

// AddPort attaches the ECP speaker of IV port p.
func (a *VISAgent) AddPort(p PortID, sp *ecp.Speaker) {
	a.mu.Lock()
	a.ports[p] = sp
	a.mu.Unlock()
	sp.Register(ecp.SubtypePECSP, visPortUpper{a, p})
}

func (a *VISAgent) deliver(p PortID, payload []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := Decode(payload, &a.msg); err != nil {
		a.decodeErrors++
		return
	}
	a.handleLocked(VISEvent{Kind: VISReceive, Port: p, Msg: &a.msg})
}

func (a *VISAgent) handle(ev VISEvent) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.handleLocked(ev)
}

func (a *VISAgent) handleLocked(ev VISEvent) {
	if a.closed {
		return
	}
	for i := range a.vis.Handle(ev, a.now()) {
		act := &a.vis.o.acts[i]
		switch act.Kind {
		case ActSend:
			if tx := a.ports[act.Port]; tx == nil || tx.Send(ecp.SubtypePECSP, act.Payload) != nil {
				a.sendErrors++
			}
		case ActPeerUp, ActPeerDown:
			if a.status != nil {
				a.status(*act)
			}
		default:
			if err := act.ApplyVIS(a.prog); err != nil {
				a.programErrors++
			}
		}
	}
	a.rearm()
}

func (a *VISAgent) rearm() {
	if d := a.vis.Deadline(); !d.IsZero() {
		a.timer.Reset(d.Sub(a.now()))
	} else {
		a.timer.Stop()
	}
}

func (a *VISAgent) fire() { a.handle(VISEvent{Kind: VISTimer}) }

// SetClock makes the agent read the time from now instead of time.Now,
// such as a conformance case's clock that moves in steps. The timer still
// waits in real time for what now says is left; Tick runs what is due
// when the clock jumps. Call it before the first port is added.
func (a *VISAgent) SetClock(now func() time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.now = now
	a.rearm()
}

// Tick runs the VIS machine's timers if one is due by the agent's clock:
// dead peers, the resync hold, retransmitted requests, retention. Early
// calls do nothing.
func (a *VISAgent) Tick() {
	a.mu.Lock()
	d := a.vis.Deadline()
	due := !d.IsZero() && !a.now().Before(d)
	a.mu.Unlock()
	if due {
		a.fire()
	}
}

// SetVIFList sets the members of VIF list id on IV port p.
func (a *VISAgent) SetVIFList(p PortID, id uint32, members []vntag.VIF) {
	a.handle(VISEvent{Kind: VISSetVIFList, Port: p, ListID: id, Members: members})
}

// TakeAway unbinds the vEth of instance u, which another VIS bound at
// placement epoch epoch (VISTakeAway).
func (a *VISAgent) TakeAway(u UUID, epoch uint32) {
	a.handle(VISEvent{Kind: VISTakeAway, Instance: u, Epoch: epoch})
}

// IDReady says that the vEth id of instance u, which NewVEthID said was
// pending, is ready (VISIDReady).
func (a *VISAgent) IDReady(u UUID) {
	a.handle(VISEvent{Kind: VISIDReady, Instance: u})
}

// VEth returns the VIS's record of instance u.
func (a *VISAgent) VEth(u UUID) (VEthRecord, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.vis.tab.Get(u)
}

// Session returns the session state of port p.
func (a *VISAgent) Session(p PortID) (SessionState, uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.vis.Session(p)
}

// Errors returns how many messages failed to decode, to be queued, and
// to be programmed.
func (a *VISAgent) Errors() (decode, send, program uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.decodeErrors, a.sendErrors, a.programErrors
}

// Close stops the agent's timer; later events are ignored.
func (a *VISAgent) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	a.timer.Stop()
}

// VEths returns the VIS's record of every vEth, in creation order.
func (a *VISAgent) VEths() []VEthRecord {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []VEthRecord
	a.vis.tab.Range(func(v VEthRecord) { out = append(out, v) })
	return out
}
