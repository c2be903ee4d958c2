package ecp

import (
	"encoding/binary"
	"time"
)

// Default timer and queue parameters: lldpad's defaults (ecprte 8,
// ecpretries 3), which it also uses before the EVB TLV exchange.
const (
	DefaultRTE        = 8
	DefaultMaxRetries = 3
	DefaultQueueLen   = 64
	// MaxRTE is the largest retransmission exponent the 5-bit EVB TLV
	// field carries.
	MaxRTE = 31
	// MaxMaxRetries is the largest retry count the 3-bit EVB TLV field R
	// carries.
	MaxMaxRetries = 7
)

// AckTimeout returns ECP's acknowledgement timer for a retransmission
// exponent: 10 µs × 2^rte (802.1Qbg 43.3.6.1; lldptool-evb22(8): RTE 8 is
// 2.56 ms, RTE 14 is 163.84 ms).
func AckTimeout(rte uint8) time.Duration {
	return 10 * time.Microsecond << (rte & MaxRTE)
}

// Config parameterises a Machine. Use DefaultConfig for lldpad's values.
type Config struct {
	// Addr is the port's MAC address, the source of every frame sent.
	Addr [6]byte
	// Dst is the destination of every frame sent; the zero value means
	// NearestCustomerBridge.
	Dst [6]byte
	// RTE is the retransmission exponent (0..31) from the EVB TLV: the
	// acknowledgement timer is 10 µs × 2^RTE.
	RTE uint8
	// MaxRetries is R from the EVB TLV (0..7): a ULPDU is sent at most
	// MaxRetries+1 times, then dropped and reported with ErrNoAck.
	MaxRetries uint8
	// QueueLen is how many ULPDUs wait behind the outstanding one (0 means
	// DefaultQueueLen). A ULPDU offered to a full queue is refused with
	// ErrQueueFull.
	QueueLen int
	// Subtypes lists the subtypes the receive machine accepts (nil means
	// VDP and PE-CSP, as lldpad). Requests of other subtypes are dropped
	// unacknowledged and counted in DroppedSubtype.
	Subtypes []Subtype
	// NoPad sends acknowledgements unpadded, 18 bytes long, as lldpad
	// does; by default they are padded to 60 bytes like requests.
	NoPad bool
}

// DefaultConfig returns lldpad's defaults for the port with MAC address
// addr: RTE 8 (2.56 ms), 3 retries, queue of 64.
func DefaultConfig(addr [6]byte) Config {
	return Config{Addr: addr, RTE: DefaultRTE, MaxRetries: DefaultMaxRetries}
}

// TxState is a state of the ECP transmit machine, named as lldpad names
// the standard's states.
type TxState uint8

const (
	// TxWaitForRequest: no ULPDU is outstanding (WAIT_FORREQ /
	// WAIT_ONDATA); the next queued ULPDU is sent at once.
	TxWaitForRequest TxState = iota
	// TxWaitForAck: one ULPDU is outstanding (after TXMIT_ECPDU), waiting
	// for its acknowledgement or the acknowledgement timer.
	TxWaitForAck
)

func (s TxState) String() string {
	if s == TxWaitForAck {
		return "TX_WAIT_FOR_ACK"
	}
	return "TX_WAIT_FOR_REQUEST"
}

// RxState is a state of the ECP receive machine.
type RxState uint8

const (
	// RxFirst: nothing received since BEGIN; the next request is new
	// whatever its sequence number (FIRST: last = seq − 1).
	RxFirst RxState = iota
	// RxWait: a request was received; a request with the same sequence
	// number is a duplicate (WAIT2).
	RxWait
)

func (s RxState) String() string {
	if s == RxWait {
		return "RX_WAIT"
	}
	return "RX_FIRST"
}

// EventKind says what happened.
type EventKind uint8

const (
	// EvFrame: a frame arrived from the port (Event.Frame, starting at the
	// destination address).
	EvFrame EventKind = iota
	// EvSend: the upper layer offers a ULPDU (Event.Subtype,
	// Event.Payload, which the machine copies).
	EvSend
	// EvTimer: time passed; the driver sends it at or after Deadline.
	EvTimer
	// EvBegin: the port (re)started: both machines go through BEGIN. The
	// outstanding and queued ULPDUs are kept and sent again with new
	// sequence numbers.
	EvBegin
)

// Event is an input of Machine.Handle.
type Event struct {
	Kind    EventKind
	Frame   []byte
	Subtype Subtype
	Payload []byte
}

// ActionKind says what the driver has to do.
type ActionKind uint8

const (
	// ActTransmit: write Action.Frame to the port.
	ActTransmit ActionKind = iota
	// ActDeliver: give Action.Payload (sequence Seq) to the upper layer of
	// Action.Subtype. It is delivered once per sequence number.
	ActDeliver
	// ActConfirmed: the peer acknowledged the ULPDU with Seq.
	ActConfirmed
	// ActFailed: the ULPDU in Action.Payload was not sent or not
	// acknowledged; Action.Err is ErrNoAck, ErrQueueFull, ErrTooLong or
	// a *FieldError for a subtype out of range.
	ActFailed
	// ActDropped: a received frame was dropped; Action.Err says why.
	ActDropped
)

// Action is an output of Machine.Handle. Frame and Payload alias the
// machine's buffers or the event's frame and stay valid until the next
// call to Handle.
type Action struct {
	Kind    ActionKind
	Frame   []byte
	Subtype Subtype
	Seq     uint16
	Payload []byte
	Err     error
}

// Counters are a port's ECP statistics, the set switch vendors show per
// port (Dell: ECP Tx, ECP Rx, ECP Tx Ack, ECP Rx Ack, ECP Dropped) plus
// the details behind them.
type Counters struct {
	// TxPDUs counts requests sent, retransmissions included.
	TxPDUs uint64
	// TxAcks counts acknowledgements sent.
	TxAcks uint64
	// RxPDUs counts valid requests received, duplicates included.
	RxPDUs uint64
	// RxAcks counts valid acknowledgements received.
	RxAcks uint64
	// Retransmits counts requests sent again after the timer expired.
	Retransmits uint64
	// TxFailures counts ULPDUs dropped after MaxRetries retransmissions.
	TxFailures uint64
	// TxRefused counts ULPDUs refused on offer (queue full, too long).
	TxRefused uint64
	// Delivered counts ULPDUs given to upper layers.
	Delivered uint64
	// RxDuplicates counts requests acknowledged again but not delivered.
	RxDuplicates uint64
	// UnexpectedAcks counts acknowledgements that matched no outstanding
	// request (late, duplicated or stray); they are otherwise ignored.
	UnexpectedAcks uint64
	// Dropped counts received frames dropped, the sum of the four below.
	Dropped uint64
	// DroppedMalformed: shorter than an ECP header or not EtherType 0x8940.
	DroppedMalformed uint64
	// DroppedVersion: version other than 1.
	DroppedVersion uint64
	// DroppedOperation: operation 2 or 3.
	DroppedOperation uint64
	// DroppedSubtype: a subtype the port does not serve.
	DroppedSubtype uint64
}

type slot struct {
	sub   Subtype
	plen  int
	frame []byte
}

// Machine is one port's ECP: the transmit and receive state machines of
// 802.1Qbg 43.3 as a pure transition function. It does no I/O and reads
// no clock; the time of each event is passed in. It is not safe for
// concurrent use; Speaker serialises access to it.
type Machine struct {
	cfg     Config
	ack     time.Duration
	served  [(MaxSubtype + 1) / 64]uint64
	acts    []Action
	ackBuf  []byte
	ring    []slot
	head, n int

	tx       TxState
	seq      uint16 // sequence number of the outstanding ULPDU
	tries    int    // transmissions of the outstanding ULPDU
	deadline time.Time

	rx   RxState
	last uint16

	c Counters
}

// NewMachine returns a port's ECP machines after BEGIN: nothing
// outstanding, sequence 0 (the first ULPDU gets 1), receive state RxFirst.
func NewMachine(cfg Config) (*Machine, error) {
	if cfg.RTE > MaxRTE {
		return nil, &FieldError{Field: "RTE", Value: uint64(cfg.RTE), Err: ErrRange}
	}
	if cfg.MaxRetries > MaxMaxRetries {
		return nil, &FieldError{Field: "MaxRetries", Value: uint64(cfg.MaxRetries), Err: ErrRange}
	}
	if cfg.QueueLen < 0 {
		return nil, &FieldError{Field: "QueueLen", Value: uint64(cfg.QueueLen), Err: ErrRange}
	}
	if cfg.QueueLen == 0 {
		cfg.QueueLen = DefaultQueueLen
	}
	if cfg.Dst == ([6]byte{}) {
		cfg.Dst = NearestCustomerBridge
	}
	m := &Machine{cfg: cfg, ack: AckTimeout(cfg.RTE), acts: make([]Action, 0, 4),
		ackBuf: make([]byte, 0, MinFrameLen), ring: make([]slot, cfg.QueueLen+2)}
	subs := cfg.Subtypes
	if subs == nil {
		subs = []Subtype{SubtypeVDP, SubtypePECSP}
	}
	for _, s := range subs {
		if s > MaxSubtype {
			return nil, &FieldError{Field: "subtype", Value: uint64(s), Err: ErrRange}
		}
		m.served[s/64] |= 1 << (s % 64)
	}
	return m, nil
}

// Config returns the machine's configuration, defaults filled in.
func (m *Machine) Config() Config { return m.cfg }

// SetTimers changes the retransmission exponent and the retry count, as
// when the EVB TLV exchange (802.1Qbg 41.5.5.7: each side uses the larger
// of its own and the peer's R and RTE) settles on new ones. A running
// acknowledgement timer keeps its deadline; every transmission after the
// call, a retransmission of the outstanding ULPDU included, is timed at
// 10 µs × 2^rte, and the outstanding ULPDU's retries are counted against
// the new maxRetries. Values outside the EVB TLV's fields (RTE 0..31, R
// 0..7) are refused with a *FieldError wrapping ErrRange and change
// nothing.
func (m *Machine) SetTimers(rte, maxRetries uint8) error {
	if rte > MaxRTE {
		return &FieldError{Field: "RTE", Value: uint64(rte), Err: ErrRange}
	}
	if maxRetries > MaxMaxRetries {
		return &FieldError{Field: "MaxRetries", Value: uint64(maxRetries), Err: ErrRange}
	}
	m.cfg.RTE, m.cfg.MaxRetries, m.ack = rte, maxRetries, AckTimeout(rte)
	return nil
}

// TxState returns the transmit machine's state.
func (m *Machine) TxState() TxState { return m.tx }

// RxState returns the receive machine's state.
func (m *Machine) RxState() RxState { return m.rx }

// Counters returns the port's statistics.
func (m *Machine) Counters() Counters { return m.c }

// Queued returns the number of ULPDUs not yet acknowledged, the
// outstanding one included.
func (m *Machine) Queued() int { return m.n }

// Deadline returns when the acknowledgement timer expires, and false when
// it is not running. The driver sends EvTimer at or after that time.
func (m *Machine) Deadline() (time.Time, bool) {
	return m.deadline, m.tx == TxWaitForAck
}

// Handle runs the machines on one event at time now and returns what the
// driver must do, in order. The returned slice and the buffers it points
// to are reused by the next call.
func (m *Machine) Handle(ev Event, now time.Time) []Action {
	m.acts = m.acts[:0]
	switch ev.Kind {
	case EvFrame:
		m.receive(ev.Frame, now)
	case EvSend:
		m.enqueue(ev.Subtype, ev.Payload)
		m.kick(now)
	case EvTimer:
		m.expire(now)
	case EvBegin:
		m.tx, m.seq, m.tries, m.rx = TxWaitForRequest, 0, 0, RxFirst
		m.kick(now)
	}
	return m.acts
}

func (m *Machine) enqueue(sub Subtype, payload []byte) {
	var err error
	switch {
	case sub > MaxSubtype:
		err = &FieldError{Field: "subtype", Value: uint64(sub), Err: ErrRange}
	case len(payload) > MaxULPDU:
		err = ErrTooLong
	case m.n == len(m.ring)-1:
		err = ErrQueueFull
	}
	if err != nil {
		m.c.TxRefused++
		m.acts = append(m.acts, Action{Kind: ActFailed, Subtype: sub, Payload: payload, Err: err})
		return
	}
	s := &m.ring[(m.head+m.n)%len(m.ring)]
	s.sub, s.plen = sub, len(payload)
	s.frame, _ = AppendFrame(s.frame[:0], m.cfg.Dst, m.cfg.Addr,
		Header{Version: Version1, Op: OpRequest, Subtype: sub}, payload, true)
	m.n++
}

// kick is WAIT_FOR_REQUEST → TXMIT_ECPDU: send the next queued ULPDU with
// the next sequence number (0 is skipped on wrap).
func (m *Machine) kick(now time.Time) {
	if m.tx != TxWaitForRequest || m.n == 0 {
		return
	}
	m.seq++
	if m.seq == 0 {
		m.seq = 1
	}
	s := &m.ring[m.head]
	binary.BigEndian.PutUint16(s.frame[16:], m.seq)
	m.tx, m.tries = TxWaitForAck, 0
	m.transmit(now)
}

func (m *Machine) transmit(now time.Time) {
	m.tries++
	m.c.TxPDUs++
	m.deadline = now.Add(m.ack)
	m.acts = append(m.acts, Action{Kind: ActTransmit, Frame: m.ring[m.head].frame})
}

func (m *Machine) pop() *slot {
	s := &m.ring[m.head]
	m.head = (m.head + 1) % len(m.ring)
	m.n--
	m.tx = TxWaitForRequest
	return s
}

// expire handles the acknowledgement timer: retransmit, or after
// MaxRetries retransmissions drop the ULPDU and report ErrNoAck (ERROR).
func (m *Machine) expire(now time.Time) {
	if m.tx != TxWaitForAck || now.Before(m.deadline) {
		return
	}
	if m.tries <= int(m.cfg.MaxRetries) {
		m.c.Retransmits++
		m.transmit(now)
		return
	}
	m.c.TxFailures++
	s := m.pop()
	m.acts = append(m.acts, Action{Kind: ActFailed, Subtype: s.sub, Seq: m.seq,
		Payload: s.frame[FrameHeaderLen : FrameHeaderLen+s.plen], Err: ErrNoAck})
	m.kick(now)
}

func (m *Machine) drop(err error, n *uint64) {
	*n++
	m.c.Dropped++
	m.acts = append(m.acts, Action{Kind: ActDropped, Err: err})
}

func (m *Machine) receive(frame []byte, now time.Time) {
	if len(frame) < FrameHeaderLen || binary.BigEndian.Uint16(frame[12:]) != EtherType {
		m.drop(ErrShortBuffer, &m.c.DroppedMalformed)
		return
	}
	h, _ := ParseHeader(frame[14:])
	switch err := h.Check(); err {
	case nil:
	case ErrVersion:
		m.drop(err, &m.c.DroppedVersion)
		return
	default:
		m.drop(err, &m.c.DroppedOperation)
		return
	}
	if m.served[h.Subtype/64]&(1<<(h.Subtype%64)) == 0 {
		m.drop(ErrSubtype, &m.c.DroppedSubtype)
		return
	}
	if h.Op == OpAck {
		m.c.RxAcks++
		// An acknowledgement counts only when a ULPDU is outstanding and
		// it carries that ULPDU's sequence number (and subtype).
		if m.tx != TxWaitForAck || h.Seq != m.seq || h.Subtype != m.ring[m.head].sub {
			m.c.UnexpectedAcks++
			return
		}
		s := m.pop()
		m.acts = append(m.acts, Action{Kind: ActConfirmed, Subtype: s.sub, Seq: h.Seq})
		m.kick(now)
		return
	}
	// REC_ECPDU: acknowledge every request; deliver only a new one.
	m.c.RxPDUs++
	m.c.TxAcks++
	ack := h
	ack.Op = OpAck
	m.ackBuf, _ = AppendFrame(m.ackBuf[:0], m.cfg.Dst, m.cfg.Addr, ack, nil, !m.cfg.NoPad)
	m.acts = append(m.acts, Action{Kind: ActTransmit, Frame: m.ackBuf})
	if m.rx == RxWait && h.Seq == m.last {
		m.c.RxDuplicates++
		return
	}
	m.rx, m.last = RxWait, h.Seq
	m.c.Delivered++
	m.acts = append(m.acts, Action{Kind: ActDeliver, Subtype: h.Subtype, Seq: h.Seq, Payload: frame[FrameHeaderLen:]})
}
