package vdp

import (
	"sync"
	"time"

	"github.com/nivkit/niv/vdp/ecp"
)

// Sender is what a runner needs from ECP: queue a ULPDU of a subtype
// (ecp.Speaker does this).
type Sender interface {
	Send(st ecp.Subtype, payload []byte) error
}

// ECPTimers is what a runner uses, when its Sender has it (ecp.Speaker
// does), to give ECP the R and RTE of new EVB timers: both ends retransmit
// 10 µs × 2^RTE apart, at most R times, at the values the EVB TLV exchange
// settled on (802.1Qbg 41.5.5.7, 43.3.6.1).
type ECPTimers interface {
	SetTimers(rte, maxRetries uint8) error
}

// setECPTimers hands tx t's R and RTE, in the EVB TLV fields' ranges as
// the VDP timers read them, if tx takes them.
func setECPTimers(tx Sender, t Timers) {
	if e, ok := tx.(ECPTimers); ok {
		_ = e.SetTimers(t.RTE&ecp.MaxRTE, t.R&ecp.MaxMaxRetries) // in range: cannot fail
	}
}

// StationRunner runs a Station on an ECP Sender: it is the ecp.Upper of
// subtype 1 (register it with Speaker.Register), arms the machine's
// deadline with a time.Timer (so testing/synctest controls it), and
// reports every ActState and ActRefused to onState, outside its lock. All
// methods are safe for concurrent use.
type StationRunner struct {
	mu      sync.Mutex
	st      *Station
	tx      Sender
	timer   *time.Timer
	onState func(Action)
	closed  bool
	pend    []Action
	sendErr uint64
}

// NewStationRunner returns a runner for st sending through tx; onState
// may be nil.
func NewStationRunner(st *Station, tx Sender, onState func(Action)) *StationRunner {
	r := &StationRunner{st: st, tx: tx, onState: onState}
	r.timer = time.AfterFunc(time.Hour, r.fire)
	r.timer.Stop()
	return r
}

// Request asks for a VSI state (EvRequest); a local refusal is returned
// and also reported to onState.
func (r *StationRunner) Request(mgr ManagerID, v *VSI) error {
	var err error
	r.run(Event{Kind: EvRequest, ManagerID: mgr, VSI: v}, func(a Action) {
		if a.Kind == ActRefused {
			err = a.Err
		}
	})
	return err
}

// SetTimers hands the machine new EVB timers (from an lldp.Agent), and
// their R and RTE to the Sender if it is an ECPTimers.
func (r *StationRunner) SetTimers(t Timers) {
	setECPTimers(r.tx, t)
	r.run(Event{Kind: EvTimers, Timers: t}, nil)
}

// Deliver implements ecp.Upper: a VDPDU from the bridge.
func (r *StationRunner) Deliver(p []byte) { r.run(Event{Kind: EvPDU, PDU: p}, nil) }

// Failed implements ecp.Upper; VDP notices lost PDUs by its own timers.
func (r *StationRunner) Failed([]byte, error) {}

// Do runs fn on the machine under the runner's lock (to read its VSIs).
func (r *StationRunner) Do(fn func(*Station)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn(r.st)
}

// Close stops the timer; later events are ignored.
func (r *StationRunner) Close() {
	r.mu.Lock()
	r.closed = true
	r.timer.Stop()
	r.mu.Unlock()
}

func (r *StationRunner) fire() { r.run(Event{Kind: EvTimer}, nil) }

func (r *StationRunner) run(ev Event, see func(Action)) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.pend = r.pend[:0]
	for _, a := range r.st.Handle(ev, time.Now()) {
		switch a.Kind {
		case ActSend:
			if r.tx.Send(ecp.SubtypeVDP, a.PDU) != nil {
				r.sendErr++
			}
		default:
			a.Filters = append([]Filter(nil), a.Filters...)
			r.pend = append(r.pend, a)
		}
	}
	if d, ok := r.st.Deadline(); ok {
		r.timer.Reset(time.Until(d))
	} else {
		r.timer.Stop()
	}
	pend := append([]Action(nil), r.pend...)
	r.mu.Unlock()
	for _, a := range pend {
		if see != nil {
			see(a)
		}
		if r.onState != nil {
			r.onState(a)
		}
	}
}

// BridgeRunner runs a Bridge on one ECP Sender per port; Port(i) is the
// ecp.Upper of port i. ActState actions go to onState, outside the lock.
type BridgeRunner struct {
	mu      sync.Mutex
	br      *Bridge
	tx      []Sender
	timer   *time.Timer
	onState func(Action)
	closed  bool
	pend    []Action
	now     func() time.Time
}

// NewBridgeRunner returns a runner for br; tx[i] sends on port i.
func NewBridgeRunner(br *Bridge, tx []Sender, onState func(Action)) *BridgeRunner {
	r := &BridgeRunner{br: br, tx: tx, onState: onState, now: time.Now}
	r.timer = time.AfterFunc(time.Hour, r.fire)
	r.timer.Stop()
	return r
}

type bridgePort struct {
	r    *BridgeRunner
	port int
}

func (p bridgePort) Deliver(b []byte)     { p.r.run(Event{Kind: EvPDU, Port: p.port, PDU: b}) }
func (p bridgePort) Failed([]byte, error) {}

// Port returns the ecp.Upper of port i.
func (r *BridgeRunner) Port(i int) ecp.Upper { return bridgePort{r, i} }

// SetTimers hands port i new EVB timers, and their R and RTE to the
// port's Sender if it is an ECPTimers.
func (r *BridgeRunner) SetTimers(port int, t Timers) {
	if port >= 0 && port < len(r.tx) {
		setECPTimers(r.tx[port], t)
	}
	r.run(Event{Kind: EvTimers, Port: port, Timers: t})
}

// Decide hands the bridge the Decider's answer to a deferred request
// (Decision.Pending) of the VSI (f, id) on port.
func (r *BridgeRunner) Decide(port int, f VSIIDFormat, id VSIID, d Decision) {
	r.run(Event{Kind: EvDecision, Port: port, VSI: &VSI{IDFormat: f, ID: id}, Decision: d})
}

// Taken ends the VSI (f, id) on port, which another bridge took, with an
// unsolicited De-Associate (EvTaken).
func (r *BridgeRunner) Taken(port int, f VSIIDFormat, id VSIID) {
	r.run(Event{Kind: EvTaken, Port: port, VSI: &VSI{IDFormat: f, ID: id}})
}

// PortDown de-associates every VSI of port i.
func (r *BridgeRunner) PortDown(port int) { r.run(Event{Kind: EvPortDown, Port: port}) }

// Do runs fn on the machine under the runner's lock.
func (r *BridgeRunner) Do(fn func(*Bridge)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn(r.br)
}

// SetClock makes the runner read the time from now instead of time.Now,
// such as a conformance case's clock that moves in steps. The timer still
// waits in real time for what now says is left; Tick runs what is due
// when the clock jumps. Call it before the first PDU.
func (r *BridgeRunner) SetClock(now func() time.Time) {
	r.mu.Lock()
	r.now = now
	r.mu.Unlock()
}

// Tick runs the bridge's timers if one is due by the runner's clock
// (keep-alive timeout, resource wait delay). Early calls do nothing.
func (r *BridgeRunner) Tick() {
	r.mu.Lock()
	d, ok := r.br.Deadline()
	due := ok && !r.now().Before(d)
	r.mu.Unlock()
	if due {
		r.fire()
	}
}

// Close stops the timer; later events are ignored.
func (r *BridgeRunner) Close() {
	r.mu.Lock()
	r.closed = true
	r.timer.Stop()
	r.mu.Unlock()
}

func (r *BridgeRunner) fire() { r.run(Event{Kind: EvTimer}) }

func (r *BridgeRunner) run(ev Event) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.pend = r.pend[:0]
	for _, a := range r.br.Handle(ev, r.now()) {
		if a.Kind == ActSend {
			if a.Port < len(r.tx) {
				_ = r.tx[a.Port].Send(ecp.SubtypeVDP, a.PDU)
			}
			continue
		}
		a.Filters = append([]Filter(nil), a.Filters...)
		r.pend = append(r.pend, a)
	}
	if d, ok := r.br.Deadline(); ok {
		r.timer.Reset(d.Sub(r.now()))
	} else {
		r.timer.Stop()
	}
	pend := append([]Action(nil), r.pend...)
	r.mu.Unlock()
	if r.onState != nil {
		for _, a := range pend {
			r.onState(a)
		}
	}
}
