package vdp

import "time"

// StationConfig parameterises a Station.
type StationConfig struct {
	// Timers are the EVB values in use (DefaultTimers until the EVB
	// exchange; an lldp.Agent reports the negotiated ones).
	Timers Timers
	// MaxVSIs bounds the VSI table (0: 4096).
	MaxVSIs int
}

// StationVSI is a station's view of one VSI.
type StationVSI struct {
	ManagerID ManagerID
	// VSI is the VSI as last requested, with the VIDs and PCPs the
	// bridge returned for wildcard entries.
	VSI VSI
	// Mode is the mode the bridge confirmed; 0 before the first
	// response.
	Mode TLVType
	// Pending is the mode of the request waiting for its response, 0
	// when none is.
	Pending TLVType
	// KeepAlive says the pending request is a keep-alive.
	KeepAlive bool
	// LastCode is the error code of the last response.
	LastCode ErrorCode
	Counters VSICounters
	deadline time.Time // response wait or next keep-alive
	prevMode TLVType
	orgBuf   []byte // the bytes of VSI.Org, the station's own copy
}

// Station is the station side of VDP for one port (lldpad's vdp22st_*
// machine, 802.1Qbg 41.5.5) as a pure transition function: requests go
// out as ActSend VDPDUs, responses come back as EvPDU, and every VSI has
// one deadline — its response wait while a request is outstanding, its
// keep-alive period while it is pre-associated or associated. No clock,
// goroutine or I/O inside; not safe for concurrent use.
type Station struct {
	cfg  StationConfig
	t    table[StationVSI]
	out  outbox
	pdu  PDU
	msg  PDU
	one  [1]VSI
	resp VSI
	c    StationCounters
}

// StationCounters are the station's totals.
type StationCounters struct {
	PDUsIn, PDUsOut uint64
	// Malformed counts VDPDUs that did not decode.
	Malformed uint64
	// Unmatched counts responses that matched no outstanding request.
	Unmatched uint64
	// Unsolicited counts De-Associates the bridge sent of its own.
	Unsolicited uint64
	// Refused counts local requests refused.
	Refused uint64
}

// NewStation returns a station with no VSIs.
func NewStation(cfg StationConfig) *Station {
	if cfg.MaxVSIs <= 0 {
		cfg.MaxVSIs = 4096
	}
	if cfg.Timers == (Timers{}) {
		cfg.Timers = DefaultTimers
	}
	return &Station{cfg: cfg, t: newTable[StationVSI](16)}
}

// Timers returns the timers in use.
func (s *Station) Timers() Timers { return s.cfg.Timers }

// Counters returns the station's totals.
func (s *Station) Counters() StationCounters { return s.c }

// Len returns the number of VSIs the station holds.
func (s *Station) Len() int { return s.t.len() }

// VSI returns the station's view of a VSI; the pointer is valid until the
// next Handle.
func (s *Station) VSI(f VSIIDFormat, id VSIID) (*StationVSI, bool) {
	e := s.t.get(vsiKey{f: f, id: id})
	return e, e != nil
}

// Each calls fn for every VSI the station holds.
func (s *Station) Each(fn func(*StationVSI)) {
	for i := range s.t.ents {
		if s.t.used[i] {
			fn(&s.t.ents[i])
		}
	}
}

// Deadline returns the earliest VSI deadline, and false when there is
// none.
func (s *Station) Deadline() (time.Time, bool) {
	var d time.Time
	ok := false
	for i := range s.t.ents {
		if s.t.used[i] {
			d, ok = earlier(d, ok, s.t.ents[i].deadline)
		}
	}
	return d, ok
}

// Handle runs the machine on one event at time now and returns what the
// driver must do, in order; the slice and what it points to are reused by
// the next call.
func (s *Station) Handle(ev Event, now time.Time) []Action {
	s.out.reset()
	switch ev.Kind {
	case EvRequest:
		if err := s.request(ev.ManagerID, ev.VSI, now); err != nil {
			s.c.Refused++
			a := Action{Kind: ActRefused, Err: err}
			if ev.VSI != nil {
				a.IDFormat, a.ID, a.Mode = ev.VSI.IDFormat, ev.VSI.ID, ev.VSI.Mode
			}
			s.out.acts = append(s.out.acts, a)
		}
	case EvPDU:
		s.receive(ev.PDU, now)
	case EvTimer:
		s.expire(now)
	case EvTimers:
		s.cfg.Timers = ev.Timers
	}
	return s.out.finish()
}

// request is a local command (lldpad's vdp22_request checks, then
// STATION_PROC).
func (s *Station) request(mgr ManagerID, v *VSI, now time.Time) error {
	if v == nil {
		return ErrType
	}
	if err := v.Check(); err != nil {
		return err
	}
	k := vsiKey{f: v.IDFormat, id: v.ID}
	e := s.t.get(k)
	switch {
	case e == nil && v.Mode == TypeDeAssociate:
		return ErrUnknownVSI
	case e == nil && s.t.len() >= s.cfg.MaxVSIs:
		return ErrTableFull
	case e == nil:
		e, _ = s.t.add(k)
		e.ManagerID, e.Mode, e.Counters, e.LastCode = mgr, 0, VSICounters{}, 0
		copyVSI(&e.VSI, v)
		e.orgBuf = ownOrg(e.VSI.Org, e.orgBuf)
	case e.Pending != 0 && !e.KeepAlive:
		return ErrBusy
	case v.Mode != TypeDeAssociate && v.Mode < e.Mode:
		return ErrDowngrade
	case !sameRequest(&e.VSI, v):
		return ErrFilterChange
	}
	e.VSI.Mode, e.VSI.Status = v.Mode, v.Status&(StatusMigrateFrom|StatusMigrateTo)
	s.send(e, false, now)
	return nil
}

// sameRequest: an existing VSI may change its mode and hints only.
func sameRequest(have, v *VSI) bool {
	if have.TypeID != v.TypeID || have.TypeVersion != v.TypeVersion || have.FilterFormat != v.FilterFormat ||
		len(have.Filters) != len(v.Filters) {
		return false
	}
	for i, f := range v.Filters {
		g := have.Filters[i]
		if f.MAC != g.MAC || f.GroupID != g.GroupID || (f.VID != 0 && f.VID != g.VID) {
			return false
		}
	}
	return true
}

func copyVSI(dst, src *VSI) {
	f, o := dst.Filters[:0], dst.Org[:0]
	*dst = *src
	dst.Filters = append(f, src.Filters...)
	dst.Org = append(o, src.Org...)
}

func (s *Station) send(e *StationVSI, keepAlive bool, now time.Time) {
	e.prevMode = e.Mode
	e.Pending, e.KeepAlive = e.VSI.Mode, keepAlive
	e.deadline = now.Add(s.cfg.Timers.StationResponseWait())
	e.Counters.Requests++
	if keepAlive {
		e.Counters.KeepAlives++
		e.VSI.Status = 0
	}
	s.one[0] = e.VSI
	s.msg.ManagerID, s.msg.Org, s.msg.VSIs = e.ManagerID, nil, s.one[:]
	s.out.send(0, &s.msg)
	s.one[0] = VSI{}
	s.c.PDUsOut++
}

func (s *Station) state(e *StationVSI, r Reason) {
	s.out.acts = append(s.out.acts, Action{Kind: ActState, IDFormat: e.VSI.IDFormat, ID: e.VSI.ID,
		Mode: e.Mode, Code: e.LastCode, Reason: r, Filters: e.VSI.Filters})
}

func (s *Station) end(e *StationVSI, r Reason) {
	e.Mode, e.Pending = 0, 0
	s.state(e, r)
	s.t.del(vsiKey{f: e.VSI.IDFormat, id: e.VSI.ID})
}

func (s *Station) receive(b []byte, now time.Time) {
	s.c.PDUsIn++
	if err := s.pdu.Decode(b); err != nil {
		s.c.Malformed++
		return
	}
	for i := range s.pdu.VSIs {
		s.resp = s.pdu.VSIs[i]
		r := &s.resp
		e := s.t.get(vsiKey{f: r.IDFormat, id: r.ID})
		if !r.Status.Response() {
			// Only a De-Associate may come unasked (STATION_PROCWAIT:
			// "unsolicited de-associate").
			if r.Mode == TypeDeAssociate && e != nil && e.ManagerID == s.pdu.ManagerID {
				s.c.Unsolicited++
				e.LastCode = 0
				s.end(e, ReasonUnsolicited)
			} else {
				s.c.Unmatched++
			}
			continue
		}
		if e == nil || e.Pending == 0 || e.ManagerID != s.pdu.ManagerID || !e.VSI.Same(r) {
			s.c.Unmatched++
			continue
		}
		s.response(e, r, now)
	}
}

// response is STATION_PROCWAIT_2 and TXMIT_KAWAIT_2.
func (s *Station) response(e *StationVSI, r *VSI, now time.Time) {
	e.Counters.Responses++
	code := r.Status.Code()
	e.LastCode = code
	pending, ka := e.Pending, e.KeepAlive
	e.Pending, e.KeepAlive = 0, false
	switch {
	case code != 0:
		e.Counters.Errors++
		switch {
		case r.Status.Keep() && ka && pending == TypeAssociate:
			// TXMIT_DEASSOC: a refused keep-alive of an association; the
			// station de-associates it.
			e.VSI.Mode = TypeDeAssociate
			s.send(e, false, now)
			return
		case r.Status.Keep() && e.prevMode != 0 && pending != TypeDeAssociate:
			// The state from before the request stays.
			e.Mode = e.prevMode
			e.VSI.Mode = e.Mode
			e.deadline = now.Add(s.cfg.Timers.StationKeepAlive())
			s.state(e, ReasonResponse)
			return
		}
		s.end(e, ReasonResponse)
	case r.Mode == TypeDeAssociate || pending == TypeDeAssociate:
		s.end(e, ReasonResponse)
	default:
		// RETURN_VID: adopt the bridge's VID and PCP for wildcards.
		for i := range e.VSI.Filters {
			if e.VSI.Filters[i].VID == 0 {
				e.VSI.Filters[i].SetWord(r.Filters[i].Word())
			}
		}
		changed := e.Mode != r.Mode
		e.Mode, e.VSI.Mode = r.Mode, r.Mode
		e.deadline = now.Add(s.cfg.Timers.StationKeepAlive())
		if changed || !ka {
			s.state(e, ReasonResponse)
		}
	}
}

func (s *Station) expire(now time.Time) {
	for i := range s.t.ents {
		if !s.t.used[i] {
			continue
		}
		e := &s.t.ents[i]
		if now.Before(e.deadline) {
			continue
		}
		if e.Pending != 0 {
			e.Counters.Timeouts++
			e.LastCode = 0
			s.end(e, ReasonTimeout)
			continue
		}
		if e.Mode != 0 {
			s.send(e, true, now)
		}
	}
}
