package lldp

import (
	"time"

	"github.com/nivkit/niv/vdp/evb"
)

// Default timing (802.1AB-2016 9.2.5: msgTxInterval 30 s, msgTxHold 4,
// msgFastTx 1 s, txFastInit 4).
const (
	DefaultTxInterval = 30 * time.Second
	DefaultTxHold     = 4
	DefaultFastTx     = time.Second
	DefaultTxFastInit = 4
)

// Config parameterises an Agent.
type Config struct {
	// Addr is the port's MAC address, the frames' source.
	Addr [6]byte
	// ChassisID and PortID are the TLV values (subtype byte first); nil
	// means the MAC-address subtypes with Addr.
	ChassisID, PortID []byte
	// TxInterval is msgTxInterval (0: 30 s).
	TxInterval time.Duration
	// TxHold is msgTxHold; the TTL sent is TxInterval × TxHold + 1 s
	// (0: 4).
	TxHold int
	// FastTx is msgFastTx, the interval of the fast transmissions that
	// follow BEGIN and every change of what is sent (0: 1 s).
	FastTx time.Duration
	// TxFastInit is how many fast transmissions follow a change (0: 4).
	TxFastInit int
	// EVB is the local EVB configuration: its Mode says bridge or
	// station, its R, RTE, RWD and RKA are the local values the
	// negotiation starts from (vdp/evb.Negotiate).
	EVB evb.TLV
}

// EventKind says what happened.
type EventKind uint8

const (
	// EvBegin: the port came up; send at once, fast.
	EvBegin EventKind = iota
	// EvFrame: an LLDP frame arrived (Event.Frame).
	EvFrame
	// EvTimer: time passed (at or after Deadline).
	EvTimer
	// EvShutdown: the port goes down: send a TTL-0 LLDPDU and stop.
	EvShutdown
)

// Event is an input of Agent.Handle.
type Event struct {
	Kind  EventKind
	Frame []byte
}

// ActionKind says what the driver has to do.
type ActionKind uint8

const (
	// ActTransmit: write Action.Frame to the port.
	ActTransmit ActionKind = iota
	// ActEVB: the EVB parameters in use changed to Action.EVB (a peer was
	// heard, changed, or was lost: Action.Peer says whether one is known).
	// ECP takes R and RTE from it, VDP RWD and RKA.
	ActEVB
)

// Action is an output of Agent.Handle; Frame is valid until the next call.
type Action struct {
	Kind  ActionKind
	Frame []byte
	EVB   evb.TLV
	Peer  bool
}

// Counters are the agent's statistics (802.1AB 9.2.6 names).
type Counters struct {
	FramesOutTotal   uint64
	FramesInTotal    uint64
	FramesDiscarded  uint64 // malformed LLDPDUs
	TLVsDiscarded    uint64 // malformed EVB TLVs
	AgeoutsTotal     uint64
	PeerEVBChanges   uint64
	ShutdownReceived uint64
}

// Neighbor is what the last LLDPDU from the port's peer said: the part of
// 802.1AB's remote systems MIB (9.2.7) an EVB port shows — who the
// station is. ChassisID and PortID hold the subtype byte and the ID
// (8.5.2, 8.5.3); TTL is the one it sent (8.5.4); SystemName is empty when
// the LLDPDU had no System Name TLV (8.5.6). Heard is when it arrived.
type Neighbor struct {
	Src        [6]byte
	ChassisID  []byte
	PortID     []byte
	TTL        uint16
	SystemName []byte
	Heard      time.Time
}

// clone returns n with its own copies of the byte slices.
func (n Neighbor) clone() Neighbor {
	n.ChassisID = append([]byte(nil), n.ChassisID...)
	n.PortID = append([]byte(nil), n.PortID...)
	n.SystemName = append([]byte(nil), n.SystemName...)
	return n
}

// Agent is one port's LLDP agent for EVB, a pure transition: no I/O, no
// clock inside.
type Agent struct {
	cfg      Config
	buf      []byte
	acts     []Action
	pdu      PDU
	peer     evb.TLV
	havePeer bool
	peerExp  time.Time
	nb       Neighbor
	haveNb   bool
	nbExp    time.Time
	sent     evb.TLV
	fast     int
	nextTx   time.Time
	running  bool
	c        Counters
}

// NewAgent returns an agent that has not begun (send EvBegin).
func NewAgent(cfg Config) (*Agent, error) {
	if err := cfg.EVB.Check(); err != nil {
		return nil, err
	}
	if cfg.TxInterval <= 0 {
		cfg.TxInterval = DefaultTxInterval
	}
	if cfg.TxHold <= 0 {
		cfg.TxHold = DefaultTxHold
	}
	if cfg.FastTx <= 0 {
		cfg.FastTx = DefaultFastTx
	}
	if cfg.TxFastInit <= 0 {
		cfg.TxFastInit = DefaultTxFastInit
	}
	if cfg.ChassisID == nil {
		cfg.ChassisID = append([]byte{ChassisMAC}, cfg.Addr[:]...)
	}
	if cfg.PortID == nil {
		cfg.PortID = append([]byte{PortMAC}, cfg.Addr[:]...)
	}
	if len(cfg.ChassisID) < 2 || len(cfg.ChassisID) > 256 || len(cfg.PortID) < 2 || len(cfg.PortID) > 256 {
		return nil, ErrRange
	}
	return &Agent{cfg: cfg, buf: make([]byte, 0, 128), acts: make([]Action, 0, 2)}, nil
}

// TTL returns the TTL the agent sends, in seconds.
func (a *Agent) TTL() uint16 {
	s := (a.cfg.TxInterval*time.Duration(a.cfg.TxHold) + time.Second) / time.Second
	return uint16(min(s, 65535))
}

// EVB returns the EVB parameters in use and whether a peer's TLV is
// known.
func (a *Agent) EVB() (evb.TLV, bool) { return a.current(), a.havePeer }

// Neighbor returns what the peer's last LLDPDU said, and false if no peer
// is known (none heard since EvBegin, its TTL ran out, or it shut down).
// The slices are the agent's, valid until its next Handle.
func (a *Agent) Neighbor() (Neighbor, bool) { return a.nb, a.haveNb }

// Counters returns the statistics.
func (a *Agent) Counters() Counters { return a.c }

// Deadline returns when the agent next needs EvTimer.
func (a *Agent) Deadline() (time.Time, bool) {
	if !a.running {
		return time.Time{}, false
	}
	d := a.nextTx
	if a.havePeer && a.peerExp.Before(d) {
		d = a.peerExp
	}
	if a.haveNb && a.nbExp.Before(d) {
		d = a.nbExp
	}
	return d, true
}

// current is what the agent sends: the negotiated TLV once a peer is
// known; before that the local one, a station saying RRSTAT 3 as lldpad
// does until it has heard a bridge.
func (a *Agent) current() evb.TLV {
	if a.havePeer {
		return evb.Negotiate(a.cfg.EVB, a.peer)
	}
	t := a.cfg.EVB
	if t.Mode == evb.ModeStation {
		t.RRSTAT = evb.RRStatUnknown
	}
	return t
}

// Handle runs the agent on one event at time now.
func (a *Agent) Handle(ev Event, now time.Time) []Action {
	a.acts = a.acts[:0]
	switch ev.Kind {
	case EvBegin:
		a.running, a.havePeer, a.haveNb = true, false, false
		a.sent = a.current()
		a.fast = a.cfg.TxFastInit
		a.transmit(now, a.TTL())
	case EvShutdown:
		if a.running {
			a.transmit(now, 0)
		}
		a.running = false
	case EvFrame:
		if a.running {
			a.receive(ev.Frame, now)
		}
	case EvTimer:
		if !a.running {
			break
		}
		// One remote system: its neighbor record and EVB TLV age out
		// together (the same TTL) and count once.
		aged := false
		if a.haveNb && !now.Before(a.nbExp) {
			a.haveNb, aged = false, true
		}
		if a.havePeer && !now.Before(a.peerExp) {
			aged = true
			a.lose()
			a.changed(now)
		}
		if aged {
			a.c.AgeoutsTotal++
		}
		if !now.Before(a.nextTx) {
			a.transmit(now, a.TTL())
		}
	}
	return a.acts
}

func (a *Agent) lose() {
	a.havePeer = false
	a.acts = append(a.acts, Action{Kind: ActEVB, EVB: a.current()})
}

// changed sends at once and fast when what is sent changed.
func (a *Agent) changed(now time.Time) {
	if cur := a.current(); cur != a.sent {
		a.sent = cur
		a.fast = a.cfg.TxFastInit
		a.transmit(now, a.TTL())
	}
}

func (a *Agent) transmit(now time.Time, ttl uint16) {
	var tlv [11]byte
	a.buf, _ = AppendFrame(a.buf[:0], NearestCustomerBridge, a.cfg.Addr, a.cfg.ChassisID, a.cfg.PortID, ttl, a.sent.AppendTLV(tlv[:0]))
	a.c.FramesOutTotal++
	a.acts = append(a.acts, Action{Kind: ActTransmit, Frame: a.buf})
	if a.fast > 0 {
		a.fast--
		a.nextTx = now.Add(a.cfg.FastTx)
	} else {
		a.nextTx = now.Add(a.cfg.TxInterval)
	}
}

func (a *Agent) receive(frame []byte, now time.Time) {
	if err := a.pdu.Decode(frame); err != nil {
		a.c.FramesDiscarded++
		return
	}
	a.c.FramesInTotal++
	if a.pdu.TTL == 0 {
		a.haveNb = false
		a.c.ShutdownReceived++
		if a.havePeer {
			a.lose()
			a.changed(now)
		}
		return
	}
	a.heard(now)
	for _, v := range a.pdu.Org {
		if len(v) < 4 || [3]byte(v) != evb.OUI8021 || v[3] != evb.Subtype {
			continue
		}
		t, err := evb.Parse(v)
		if err != nil {
			a.c.TLVsDiscarded++
			continue
		}
		a.peerExp = now.Add(time.Duration(a.pdu.TTL) * time.Second)
		if a.havePeer && t == a.peer {
			return
		}
		a.c.PeerEVBChanges++
		a.peer, a.havePeer = t, true
		a.acts = append(a.acts, Action{Kind: ActEVB, EVB: a.current(), Peer: true})
		a.changed(now)
		return
	}
}

// heard records the LLDPDU just decoded as the neighbor, in the agent's
// own buffers.
func (a *Agent) heard(now time.Time) {
	p := &a.pdu
	a.nb.Src, a.nb.TTL, a.nb.Heard = p.Src, p.TTL, now
	a.nb.ChassisID = append(a.nb.ChassisID[:0], p.ChassisID...)
	a.nb.PortID = append(a.nb.PortID[:0], p.PortID...)
	a.nb.SystemName = append(a.nb.SystemName[:0], p.SysName...)
	a.haveNb, a.nbExp = true, now.Add(time.Duration(p.TTL)*time.Second)
}
