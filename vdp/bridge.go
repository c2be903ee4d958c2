package vdp

import "time"

// Decision is a bridge's answer to a VSI request.
type Decision struct {
	// Code is CodeSuccess to admit the request, else the error code the
	// response carries.
	Code ErrorCode
	// Keep and Hard are the response's Keep and Hard error bits for a
	// refusal: Keep leaves the VSI as it was before the request.
	Keep, Hard bool
	// VID and PCP fill every wildcard (VID 0) filter entry of an admitted
	// request; PS sets its PS bit.
	VID uint16
	PCP uint8
	PS  bool
	// Pending defers the decision: the Decider answers later with an
	// EvDecision event. Until then the bridge ignores the VSI's requests;
	// when the resource wait delay (10·2^RWD µs) passes first, the bridge
	// answers "unable to contact VSI manager" (code 3), with Keep when the
	// VSI had been granted a state before (lldpad's PROCESS → KEEP or
	// DEASSOCIATED on the resource timeout).
	Pending bool
}

// Decider is the bridge's resource decision: it is asked about every
// request that is not a keep-alive of the state already granted, and
// about nothing else. It runs inside Bridge.Handle and must not call back
// into the Bridge.
type Decider interface {
	Decide(port int, mgr ManagerID, req *VSI) Decision
}

// DecideFunc adapts a function to a Decider.
type DecideFunc func(port int, mgr ManagerID, req *VSI) Decision

// Decide calls f.
func (f DecideFunc) Decide(port int, mgr ManagerID, req *VSI) Decision { return f(port, mgr, req) }

// AdmitAll admits every request, as lldpad's bridge does; wildcards get
// VID vid.
func AdmitAll(vid uint16) Decider {
	return DecideFunc(func(int, ManagerID, *VSI) Decision { return Decision{VID: vid} })
}

// BridgeConfig parameterises a Bridge.
type BridgeConfig struct {
	// Ports is the number of EVB ports, numbered 0..Ports-1.
	Ports int
	// Timers are each port's EVB values until EvTimers changes them
	// (zero: DefaultTimers).
	Timers Timers
	// Decider decides requests (nil: AdmitAll(0)).
	Decider Decider
	// MaxVSIs bounds the VSI table over all ports (0: 65536).
	MaxVSIs int
}

// BridgeVSI is the bridge's view of one VSI on one port.
type BridgeVSI struct {
	Port      int
	ManagerID ManagerID
	// VSI is the VSI as granted: the request's fields, wildcard VIDs
	// resolved.
	VSI VSI
	// Mode is the mode granted (1–3).
	// Mode is 0 while the VSI's first request waits for a pending
	// decision.
	Mode     TLVType
	Counters VSICounters
	// Pending says a decision is awaited (Decision.Pending).
	Pending  bool
	deadline time.Time
	pendMgr  ManagerID
	pendVSI  VSI
	pendDue  time.Time
	// orgBuf and pendOrgBuf hold the bytes of VSI.Org and pendVSI.Org:
	// the received PDU's buffer is reused, and they go out again later
	// (an unsolicited De-Associate, a deferred answer).
	orgBuf, pendOrgBuf []byte
}

// BridgeCounters are the bridge's totals.
type BridgeCounters struct {
	PDUsIn, PDUsOut uint64
	Malformed       uint64
	// Ignored counts received TLVs with the response bit set.
	Ignored    uint64
	Admitted   uint64
	Refused    uint64
	KeepAlives uint64
	// Expired counts VSIs de-associated for want of keep-alives.
	Expired    uint64
	Migrations uint64
	// Taken counts VSIs ended because another bridge took them (EvTaken).
	Taken uint64
	// TableFull counts requests refused for want of room.
	TableFull uint64
	// Deferred counts decisions the Decider deferred; ResourceTimeouts
	// those that did not come within the resource wait delay;
	// BusyIgnored the requests ignored while one was awaited.
	Deferred, ResourceTimeouts, BusyIgnored uint64
}

// Bridge is the bridge side of VDP over all of a bridge's EVB ports
// (lldpad's vdp22br_* machine, 802.1Qbg 41.5.5) as a pure transition
// function. Keeping every port in one machine is what lets it hold the
// invariant that a VSIID is associated on at most one port: an Associate
// on a second port is a migration, and the first port gets an unsolicited
// De-Associate. Each granted VSI has one deadline, its keep-alive
// timeout; expiry de-associates it and tells the station. Not safe for
// concurrent use.
type Bridge struct {
	cfg    BridgeConfig
	timers []Timers
	t      table[BridgeVSI]
	out    outbox
	pdu    PDU
	one    [1]VSI
	msg    PDU
	c      BridgeCounters
}

// NewBridge returns a bridge with no VSIs.
func NewBridge(cfg BridgeConfig) *Bridge {
	if cfg.Ports <= 0 {
		cfg.Ports = 1
	}
	if cfg.Timers == (Timers{}) {
		cfg.Timers = DefaultTimers
	}
	if cfg.Decider == nil {
		cfg.Decider = AdmitAll(0)
	}
	if cfg.MaxVSIs <= 0 {
		cfg.MaxVSIs = 65536
	}
	b := &Bridge{cfg: cfg, timers: make([]Timers, cfg.Ports), t: newTable[BridgeVSI](64)}
	for i := range b.timers {
		b.timers[i] = cfg.Timers
	}
	return b
}

// Counters returns the bridge's totals.
func (b *Bridge) Counters() BridgeCounters { return b.c }

// Len returns the number of VSIs held over all ports.
func (b *Bridge) Len() int { return b.t.len() }

// VSI returns the bridge's view of a VSI on a port; the pointer is valid
// until the next Handle.
func (b *Bridge) VSI(port int, f VSIIDFormat, id VSIID) (*BridgeVSI, bool) {
	e := b.t.get(vsiKey{port: port, f: f, id: id})
	return e, e != nil
}

// Each calls fn for every VSI held.
func (b *Bridge) Each(fn func(*BridgeVSI)) {
	for i := range b.t.ents {
		if b.t.used[i] {
			fn(&b.t.ents[i])
		}
	}
}

// Deadline returns the earliest keep-alive timeout.
func (b *Bridge) Deadline() (time.Time, bool) {
	var d time.Time
	ok := false
	for i := range b.t.ents {
		if !b.t.used[i] {
			continue
		}
		e := &b.t.ents[i]
		if e.Pending {
			d, ok = earlier(d, ok, e.pendDue)
		}
		if e.Mode != 0 {
			d, ok = earlier(d, ok, e.deadline)
		}
	}
	return d, ok
}

// Handle runs the machine on one event at time now.
func (b *Bridge) Handle(ev Event, now time.Time) []Action {
	b.out.reset()
	if ev.Port < 0 || ev.Port >= b.cfg.Ports {
		return b.out.finish()
	}
	switch ev.Kind {
	case EvPDU:
		b.receive(ev.Port, ev.PDU, now)
	case EvTimer:
		b.expire(now)
	case EvTimers:
		b.timers[ev.Port] = ev.Timers
	case EvDecision:
		if ev.VSI == nil {
			break
		}
		e := b.t.get(vsiKey{port: ev.Port, f: ev.VSI.IDFormat, id: ev.VSI.ID})
		if e == nil || !e.Pending {
			break
		}
		e.Pending = false
		b.apply(ev.Port, e.pendMgr, &e.pendVSI, e, ev.Decision, now)
	case EvTaken:
		if ev.VSI == nil {
			break
		}
		if e := b.t.get(vsiKey{port: ev.Port, f: ev.VSI.IDFormat, id: ev.VSI.ID}); e != nil {
			b.c.Taken++
			b.remove(e, ReasonTaken, e.Mode != 0)
		}
	case EvPortDown:
		for i := range b.t.ents {
			if b.t.used[i] && b.t.ents[i].Port == ev.Port {
				b.remove(&b.t.ents[i], ReasonPortDown, false)
			}
		}
	}
	return b.out.finish()
}

func (b *Bridge) receive(port int, p []byte, now time.Time) {
	b.c.PDUsIn++
	if err := b.pdu.Decode(p); err != nil {
		b.c.Malformed++
		return
	}
	for i := range b.pdu.VSIs {
		v := &b.pdu.VSIs[i]
		if v.Status.Response() {
			b.c.Ignored++
			continue
		}
		b.process(port, v, now)
	}
}

func (b *Bridge) reply(port int, mgr ManagerID, v *VSI) {
	b.one[0] = *v
	b.msg.ManagerID, b.msg.Org, b.msg.VSIs = mgr, nil, b.one[:]
	b.out.send(port, &b.msg)
	b.one[0] = VSI{}
	b.c.PDUsOut++
}

func (b *Bridge) state(e *BridgeVSI, mode TLVType, code ErrorCode, r Reason) {
	if e.Mode == 0 {
		return // never granted: nothing to report
	}
	b.out.acts = append(b.out.acts, Action{Kind: ActState, Port: e.Port, IDFormat: e.VSI.IDFormat, ID: e.VSI.ID,
		Mode: mode, Code: code, Reason: r, Filters: e.VSI.Filters})
}

// remove ends a VSI; tell sends the station an unsolicited De-Associate
// (DEASSOCIATED: status 0).
func (b *Bridge) remove(e *BridgeVSI, r Reason, tell bool) {
	if tell {
		e.VSI.Mode, e.VSI.Status = TypeDeAssociate, 0
		b.reply(e.Port, e.ManagerID, &e.VSI)
	}
	b.state(e, 0, 0, r)
	b.t.del(vsiKey{port: e.Port, f: e.VSI.IDFormat, id: e.VSI.ID})
}

// process is PROCESS → SEND / KEEP / DEASSOC, and WAITCMD_2 → ALIVE for a
// keep-alive.
func (b *Bridge) process(port int, v *VSI, now time.Time) {
	mgr := b.pdu.ManagerID
	k := vsiKey{port: port, f: v.IDFormat, id: v.ID}
	e := b.t.get(k)
	if e != nil {
		e.Counters.Requests++
	}
	if v.Mode == TypeDeAssociate {
		if e != nil {
			e.Counters.Responses++
			b.remove(e, ReasonDeAssociate, false)
		}
		v.Status = StatusResponse
		b.reply(port, mgr, v)
		return
	}
	if e != nil && e.Pending {
		b.c.BusyIgnored++
		return
	}
	// ALIVE: the same mode and filters as granted.
	if e != nil && e.Mode == v.Mode && e.ManagerID == mgr && v.Same(&e.VSI) {
		b.c.KeepAlives++
		e.Counters.KeepAlives++
		e.Counters.Responses++
		e.deadline = now.Add(b.timers[port].BridgeKeepAlive())
		e.VSI.Status = StatusResponse
		e.VSI.Org = append(e.VSI.Org[:0], v.Org...)
		e.orgBuf = ownOrg(e.VSI.Org, e.orgBuf)
		b.reply(port, mgr, &e.VSI)
		return
	}
	if err := v.Check(); err != nil {
		b.refuse(port, mgr, v, e, Decision{Code: codeOf(err)})
		return
	}
	if e == nil && b.t.len() >= b.cfg.MaxVSIs {
		b.c.TableFull++
		b.refuse(port, mgr, v, e, Decision{Code: CodeInsufficientResources})
		return
	}
	d := b.cfg.Decider.Decide(port, mgr, v)
	if d.Pending {
		b.c.Deferred++
		if e == nil {
			e, _ = b.t.add(k)
			e.Port, e.Mode, e.Counters = port, 0, VSICounters{Requests: 1}
			e.ManagerID = mgr
			copyVSI(&e.VSI, v)
			e.orgBuf = ownOrg(e.VSI.Org, e.orgBuf)
		}
		e.Pending, e.pendMgr, e.pendDue = true, mgr, now.Add(b.timers[port].BridgeResourceWait())
		copyVSI(&e.pendVSI, v)
		e.pendOrgBuf = ownOrg(e.pendVSI.Org, e.pendOrgBuf)
		return
	}
	b.apply(port, mgr, v, e, d, now)
}

// apply carries out decision d on request v for entry e (nil when the
// VSI is new on the port).
func (b *Bridge) apply(port int, mgr ManagerID, v *VSI, e *BridgeVSI, d Decision, now time.Time) {
	k := vsiKey{port: port, f: v.IDFormat, id: v.ID}
	if d.Code != CodeSuccess {
		b.refuse(port, mgr, v, e, d)
		return
	}
	b.c.Admitted++
	for i := range v.Filters {
		if v.Filters[i].VID == 0 {
			v.Filters[i].VID, v.Filters[i].PCP, v.Filters[i].PS = d.VID, d.PCP&7, d.PS
		}
	}
	var carried VSICounters
	if v.Mode == TypeAssociate {
		// A VSIID is associated on one port at most: elsewhere it moved.
		for q := 0; q < b.cfg.Ports; q++ {
			if q == port {
				continue
			}
			if o := b.t.get(vsiKey{port: q, f: v.IDFormat, id: v.ID}); o != nil && o.Mode == TypeAssociate {
				b.c.Migrations++
				carried = o.Counters
				carried.Migrations++
				b.remove(o, ReasonMigrated, true)
			}
		}
	}
	isNew := e == nil
	if isNew {
		e, _ = b.t.add(k)
		e.Port, e.Counters = port, carried
		e.Counters.Requests++
	} else if carried.Migrations > 0 {
		carried.Requests += e.Counters.Requests
		e.Counters = carried
	}
	e.ManagerID, e.Mode = mgr, v.Mode
	copyVSI(&e.VSI, v)
	e.orgBuf = ownOrg(e.VSI.Org, e.orgBuf)
	e.VSI.Status = StatusResponse
	e.deadline = now.Add(b.timers[port].BridgeKeepAlive())
	e.Counters.Responses++
	b.reply(port, mgr, &e.VSI)
	b.state(e, e.Mode, 0, ReasonResponse)
}

func codeOf(err error) ErrorCode {
	switch err {
	case ErrFilter, ErrVSIID:
		return CodeInvalidFilter
	}
	return CodeInvalidFormat
}

// refuse answers with the error; without Keep the VSI (if any) ends, with
// Keep it stays as it was.
func (b *Bridge) refuse(port int, mgr ManagerID, v *VSI, e *BridgeVSI, d Decision) {
	b.c.Refused++
	v.Status = ResponseStatus(d.Code, d.Keep, d.Hard)
	b.reply(port, mgr, v)
	if e == nil {
		return
	}
	e.Counters.Responses++
	e.Counters.Errors++
	if !d.Keep || e.Mode == 0 {
		b.remove(e, ReasonResponse, false)
	}
}

func (b *Bridge) expire(now time.Time) {
	for i := range b.t.ents {
		if !b.t.used[i] {
			continue
		}
		e := &b.t.ents[i]
		if e.Pending && !now.Before(e.pendDue) {
			// The resource wait delay passed without a decision.
			b.c.ResourceTimeouts++
			e.Pending = false
			b.apply(e.Port, e.pendMgr, &e.pendVSI, e, Decision{Code: CodeNoVSIManager, Keep: e.Mode != 0}, now)
			continue
		}
		if e.Mode != 0 && !now.Before(e.deadline) {
			b.c.Expired++
			b.remove(e, ReasonKeepAlive, true)
		}
	}
}

// ownOrg copies the Data of orgs into buf (grown when too small, else
// reused) and points each org's Data at its copy; it returns buf. The
// Data must not lie in buf: the callers copy from a received PDU, or from
// the other buffer of the entry.
func ownOrg(orgs []Org, buf []byte) []byte {
	n := 0
	for _, o := range orgs {
		n += len(o.Data)
	}
	if cap(buf) < n {
		buf = make([]byte, 0, n)
	}
	buf = buf[:0]
	for i := range orgs {
		start := len(buf)
		buf = append(buf, orgs[i].Data...)
		orgs[i].Data = buf[start:len(buf):len(buf)]
	}
	return buf
}
