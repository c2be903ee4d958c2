package ecp

import (
	"sync"
	"sync/atomic"
	"time"
)

// FrameWriter is the one thing a Speaker needs from a frame port: send
// one Ethernet frame (from the destination address, without FCS). The
// frame is only valid during the call. WriteFrame must not call back into
// the same Speaker synchronously.
type FrameWriter interface {
	WriteFrame(frame []byte) error
}

// Upper is an upper-layer protocol on one ECP subtype.
type Upper interface {
	// Deliver is called once per new ULPDU of the subtype, in the order
	// received, from the goroutine that called Speaker.Receive. The
	// payload may end in Ethernet padding and is only valid during the
	// call.
	Deliver(payload []byte)
	// Failed is called when a ULPDU that Send accepted was dropped after
	// the last retransmission (err wraps ErrNoAck). The peer may or may
	// not have received it. It runs on the timer's goroutine.
	Failed(payload []byte, err error)
}

// Speaker runs a Machine on a frame port. The caller reads frames from
// the port and passes them to Receive; upper layers send with Send. The
// acknowledgement timer is a time.Timer, so under testing/synctest the
// retransmission schedule runs on the bubble's fake clock. All methods
// are safe for concurrent use.
type Speaker struct {
	mu     sync.Mutex
	m      *Machine
	w      FrameWriter
	timer  *time.Timer
	uppers [MaxSubtype + 1]Upper
	closed bool
	now    func() time.Time

	writeErrors atomic.Uint64
}

// NewSpeaker returns a Speaker that sends through w.
func NewSpeaker(w FrameWriter, cfg Config) (*Speaker, error) {
	m, err := NewMachine(cfg)
	if err != nil {
		return nil, err
	}
	s := &Speaker{m: m, w: w, now: time.Now}
	s.timer = time.AfterFunc(time.Hour, s.fire)
	s.timer.Stop()
	return s, nil
}

// Register makes u the upper layer of subtype st; ULPDUs of a subtype
// with no upper layer are acknowledged and discarded (lldpad does the
// same with PE-CSP).
func (s *Speaker) Register(st Subtype, u Upper) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st <= MaxSubtype {
		s.uppers[st] = u
	}
}

// Send queues a ULPDU of subtype st; it goes out when the ones before it
// are acknowledged or failed. The payload is copied. It fails at once
// with ErrQueueFull, ErrTooLong, a *FieldError or ErrClosed.
func (s *Speaker) Send(st Subtype, payload []byte) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	var err error
	for _, a := range s.m.Handle(Event{Kind: EvSend, Subtype: st, Payload: payload}, s.now()) {
		if a.Kind == ActFailed {
			err = a.Err
		} else {
			s.do(a)
		}
	}
	s.rearm()
	s.mu.Unlock()
	return err
}

// Receive hands the Speaker a frame read from the port. Frames that are
// not ECP are counted as dropped. Deliveries to the upper layer happen
// before Receive returns.
func (s *Speaker) Receive(frame []byte) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	var deliver Action
	for _, a := range s.m.Handle(Event{Kind: EvFrame, Frame: frame}, s.now()) {
		if a.Kind == ActDeliver {
			deliver = a
		} else {
			s.do(a)
		}
	}
	s.rearm()
	u := s.uppers[deliver.Subtype]
	s.mu.Unlock()
	if deliver.Kind == ActDeliver && u != nil {
		u.Deliver(deliver.Payload)
	}
}

// Begin restarts both machines, as when the port comes up again.
func (s *Speaker) Begin() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	for _, a := range s.m.Handle(Event{Kind: EvBegin}, s.now()) {
		s.do(a)
	}
	s.rearm()
}

func (s *Speaker) fire() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	var failed Action
	for _, a := range s.m.Handle(Event{Kind: EvTimer}, s.now()) {
		if a.Kind == ActFailed {
			failed = a
			failed.Payload = append([]byte(nil), a.Payload...)
		} else {
			s.do(a)
		}
	}
	s.rearm()
	u := s.uppers[failed.Subtype]
	s.mu.Unlock()
	if failed.Kind == ActFailed && u != nil {
		u.Failed(failed.Payload, failed.Err)
	}
}

// do runs a transmit; the other actions need no driver work.
func (s *Speaker) do(a Action) {
	if a.Kind == ActTransmit {
		if err := s.w.WriteFrame(a.Frame); err != nil {
			s.writeErrors.Add(1)
		}
	}
}

func (s *Speaker) rearm() {
	if d, ok := s.m.Deadline(); ok {
		s.timer.Reset(d.Sub(s.now()))
	} else {
		s.timer.Stop()
	}
}

// SetClock makes the Speaker read the time from now instead of time.Now,
// such as a conformance case's clock that moves in steps. The timer still
// waits in real time for what now says is left; Tick runs what is due
// when the clock jumps. Call it before the first frame.
func (s *Speaker) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
	s.rearm()
}

// Tick runs the acknowledgement timer if it is due by the Speaker's
// clock: a retransmission, or the failure after the last one. Early
// calls do nothing.
func (s *Speaker) Tick() {
	s.mu.Lock()
	d, ok := s.m.Deadline()
	due := ok && !s.now().Before(d)
	s.mu.Unlock()
	if due {
		s.fire()
	}
}

// Counters returns the port's ECP statistics.
func (s *Speaker) Counters() Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m.Counters()
}

// WriteErrors returns how many frames the port failed to write. The
// machine treats such a frame as sent and lost; the acknowledgement timer
// retransmits it.
func (s *Speaker) WriteErrors() uint64 { return s.writeErrors.Load() }

// Queued returns the number of ULPDUs not yet acknowledged or failed.
func (s *Speaker) Queued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m.Queued()
}

// Close stops the timer; later calls do nothing and Send returns
// ErrClosed. Queued ULPDUs are discarded.
func (s *Speaker) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.timer.Stop()
}
