package lldp

import (
	"sync"
	"time"

	"github.com/nivkit/niv/vdp/evb"
)

// FrameWriter sends one Ethernet frame; the frame is valid only during
// the call.
type FrameWriter interface {
	WriteFrame(frame []byte) error
}

// Runner runs an Agent on a frame port: Receive takes the LLDP frames read
// from it, a time.Timer (so testing/synctest controls it) fires the
// agent's deadlines, and onEVB hears every change of the EVB parameters
// in use, outside the runner's lock. Safe for concurrent use.
type Runner struct {
	mu     sync.Mutex
	a      *Agent
	w      FrameWriter
	timer  *time.Timer
	onEVB  func(t evb.TLV, peer bool)
	closed bool
	now    func() time.Time
}

// NewRunner returns a runner for a, not yet begun (call Begin).
func NewRunner(a *Agent, w FrameWriter, onEVB func(t evb.TLV, peer bool)) *Runner {
	r := &Runner{a: a, w: w, onEVB: onEVB, now: time.Now}
	r.timer = time.AfterFunc(time.Hour, func() { r.run(Event{Kind: EvTimer}) })
	r.timer.Stop()
	return r
}

// Begin starts the agent (the port came up).
func (r *Runner) Begin() { r.run(Event{Kind: EvBegin}) }

// Receive hands the runner an LLDP frame read from the port.
func (r *Runner) Receive(frame []byte) { r.run(Event{Kind: EvFrame, Frame: frame}) }

// Shutdown sends the TTL-0 LLDPDU and stops the agent.
func (r *Runner) Shutdown() { r.run(Event{Kind: EvShutdown}) }

// EVB returns the EVB parameters in use and whether a peer is known.
func (r *Runner) EVB() (evb.TLV, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.a.EVB()
}

// SetClock makes the runner read the time from now instead of time.Now,
// such as a conformance case's clock that moves in steps. The timer still
// waits in real time for what now says is left; Tick runs what is due
// when the clock jumps. Call it before Begin.
func (r *Runner) SetClock(now func() time.Time) {
	r.mu.Lock()
	r.now = now
	r.mu.Unlock()
}

// Tick runs the agent's timer if it is due by the runner's clock: the
// next transmission, or the peer's TTL running out. Early calls do
// nothing.
func (r *Runner) Tick() {
	r.mu.Lock()
	d, ok := r.a.Deadline()
	due := ok && !r.closed && !r.now().Before(d)
	r.mu.Unlock()
	if due {
		r.run(Event{Kind: EvTimer})
	}
}

// Neighbor returns what the peer's last LLDPDU said (a copy), and false
// if no peer is known.
func (r *Runner) Neighbor() (Neighbor, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, ok := r.a.Neighbor()
	if !ok {
		return Neighbor{}, false
	}
	return n.clone(), true
}

// Close stops the timer; later events are ignored.
func (r *Runner) Close() {
	r.mu.Lock()
	r.closed = true
	r.timer.Stop()
	r.mu.Unlock()
}

func (r *Runner) run(ev Event) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	type change struct {
		t    evb.TLV
		peer bool
	}
	var changes []change
	now := r.now()
	for _, a := range r.a.Handle(ev, now) {
		switch a.Kind {
		case ActTransmit:
			_ = r.w.WriteFrame(a.Frame)
		case ActEVB:
			changes = append(changes, change{a.EVB, a.Peer})
		}
	}
	if d, ok := r.a.Deadline(); ok {
		r.timer.Reset(d.Sub(now))
	} else {
		r.timer.Stop()
	}
	r.mu.Unlock()
	if r.onEVB != nil {
		for _, c := range changes {
			r.onEVB(c.t, c.peer)
		}
	}
}
