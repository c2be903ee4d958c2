package vdp

import (
	"strconv"
	"time"
)

// EventKind says what happened, for Station.Handle and Bridge.Handle.
type EventKind uint8

const (
	// EvRequest: a local command for a VSI (station only): Event.VSI with
	// its Mode, and Event.ManagerID — what vdptool or libvirt asks.
	EvRequest EventKind = iota
	// EvPDU: a VDPDU arrived from ECP (Event.PDU, on Event.Port).
	EvPDU
	// EvTimer: time passed; drivers send it at or after Deadline.
	EvTimer
	// EvTimers: the EVB exchange produced new Event.Timers (for
	// Event.Port at a bridge). Running timers keep their deadlines.
	EvTimers
	// EvPortDown: the port went down (bridge: Event.Port): every VSI on
	// it is de-associated without a message.
	EvPortDown
	// EvDecision: the Decider's answer (Event.Decision) to the pending
	// request of the VSI Event.VSI names (IDFormat and ID) on
	// Event.Port (bridge).
	EvDecision
	// EvTaken: another bridge took the VSI Event.VSI names (IDFormat and
	// ID) on Event.Port (bridge): its station associated it there, as
	// when its VM moved to a host behind another switch of a fleet that
	// shares its VSIs. The bridge ends it with an unsolicited
	// De-Associate (802.1Qbg 41.2: the bridge may de-associate a VSI at
	// any time), reason ReasonTaken.
	EvTaken
)

// ActionKind says what the driver has to do.
type ActionKind uint8

const (
	// ActSend: send Action.PDU, a VDPDU, over ECP subtype 1 on
	// Action.Port.
	ActSend ActionKind = iota
	// ActState: the VSI Action.ID (format Action.IDFormat) on
	// Action.Port is now in Action.Mode (0 when it ended), for
	// Action.Reason, with the bridge's Action.Code when it answered.
	// Action.Filters are its filters as the bridge resolved them. A
	// bridge's driver binds and unbinds vEths on these.
	ActState
	// ActRefused: a local request was refused before anything was sent
	// (station): Action.Err says why.
	ActRefused
)

// Reason says why a VSI changed state.
type Reason uint8

const (
	// ReasonResponse: the bridge answered a request (station), or the
	// bridge admitted or refused one (bridge).
	ReasonResponse Reason = iota
	// ReasonTimeout: no response within the response wait (station).
	ReasonTimeout
	// ReasonUnsolicited: the bridge sent a De-Associate of its own
	// (station).
	ReasonUnsolicited
	// ReasonKeepAlive: the bridge heard no keep-alive within its
	// timeout and de-associated (bridge).
	ReasonKeepAlive
	// ReasonMigrated: the VSI was associated on another port (bridge).
	ReasonMigrated
	// ReasonPortDown: the port went down (bridge).
	ReasonPortDown
	// ReasonDeAssociate: the station de-associated it (bridge).
	ReasonDeAssociate
	// ReasonTaken: another bridge took the VSI (bridge, EvTaken).
	ReasonTaken
)

func (r Reason) String() string {
	switch r {
	case ReasonResponse:
		return "response"
	case ReasonTimeout:
		return "timeout"
	case ReasonUnsolicited:
		return "unsolicited de-associate"
	case ReasonKeepAlive:
		return "keep-alive timeout"
	case ReasonMigrated:
		return "migrated"
	case ReasonPortDown:
		return "port down"
	case ReasonDeAssociate:
		return "de-associated"
	case ReasonTaken:
		return "taken by another bridge"
	}
	return "reason(" + strconv.Itoa(int(r)) + ")"
}

// Event is an input of Station.Handle and Bridge.Handle.
type Event struct {
	Kind      EventKind
	Port      int
	ManagerID ManagerID
	VSI       *VSI
	PDU       []byte
	Timers    Timers
	Decision  Decision
}

// Action is an output of Handle. PDU and Filters alias the machine's
// buffers and stay valid until the next call to Handle.
type Action struct {
	Kind     ActionKind
	Port     int
	PDU      []byte
	IDFormat VSIIDFormat
	ID       VSIID
	Mode     TLVType
	Code     ErrorCode
	Reason   Reason
	Filters  []Filter
	Err      error
}

// VSICounters are one VSI's statistics.
type VSICounters struct {
	// Requests counts requests sent (station) or received (bridge),
	// keep-alives included.
	Requests uint64
	// KeepAlives counts the keep-alives among them.
	KeepAlives uint64
	// Responses counts responses received (station) or sent (bridge).
	Responses uint64
	// Errors counts responses with a non-zero error code.
	Errors uint64
	// Timeouts counts response waits that expired (station).
	Timeouts uint64
	// Migrations counts moves of the VSI between ports (bridge).
	Migrations uint64
}

type vsiKey struct {
	port int
	f    VSIIDFormat
	id   VSIID
}

// table holds a machine's VSIs: entries in a slice reused through a free
// list, so that associating and de-associating does not allocate once it
// has grown.
type table[E any] struct {
	idx  map[vsiKey]int32
	ents []E
	used []bool
	free []int32
}

func newTable[E any](n int) table[E] {
	return table[E]{idx: make(map[vsiKey]int32, n)}
}

func (t *table[E]) get(k vsiKey) *E {
	if i, ok := t.idx[k]; ok {
		return &t.ents[i]
	}
	return nil
}

// add returns the entry for k, new (reusing a freed one, whose slices
// keep their storage) or existing, and whether it is new.
func (t *table[E]) add(k vsiKey) (*E, bool) {
	if i, ok := t.idx[k]; ok {
		return &t.ents[i], false
	}
	var i int32
	if n := len(t.free); n > 0 {
		i, t.free = t.free[n-1], t.free[:n-1]
	} else {
		var e E
		t.ents = append(t.ents, e)
		t.used = append(t.used, false)
		i = int32(len(t.ents) - 1)
	}
	t.idx[k] = i
	t.used[i] = true
	return &t.ents[i], true
}

func (t *table[E]) del(k vsiKey) {
	if i, ok := t.idx[k]; ok {
		delete(t.idx, k)
		t.used[i] = false
		t.free = append(t.free, i)
	}
}

func (t *table[E]) len() int { return len(t.idx) }

// pending sends: PDUs encoded into one buffer, sliced out at the end of
// Handle so that a growing buffer cannot leave stale slices.
type outbox struct {
	buf  []byte
	ends []int
	acts []Action
	// sendAt[i] is the index in acts of the i-th ActSend.
	sendAt []int
}

func (o *outbox) reset() {
	o.buf, o.ends, o.acts, o.sendAt = o.buf[:0], o.ends[:0], o.acts[:0], o.sendAt[:0]
}

func (o *outbox) send(port int, p *PDU) {
	start := len(o.buf)
	var err error
	o.buf, err = p.AppendBinary(o.buf)
	if err != nil {
		o.buf = o.buf[:start]
		return
	}
	o.ends = append(o.ends, len(o.buf))
	o.sendAt = append(o.sendAt, len(o.acts))
	o.acts = append(o.acts, Action{Kind: ActSend, Port: port})
}

func (o *outbox) finish() []Action {
	start := 0
	for i, a := range o.sendAt {
		o.acts[a].PDU = o.buf[start:o.ends[i]:o.ends[i]]
		start = o.ends[i]
	}
	return o.acts
}

func earlier(d time.Time, ok bool, t time.Time) (time.Time, bool) {
	if !ok || t.Before(d) {
		return t, true
	}
	return d, ok
}
