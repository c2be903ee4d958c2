package vdp_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/nivkit/niv/vdp"
	"github.com/nivkit/niv/vdp/ecp"
)

// The model: two hosts (stations), each on its own port of one bridge,
// every frame between them through ECP over a link that drops,
// duplicates or reorders 30% of frames.

var modelTimers = vdp.Timers{R: 3, RTE: 8, RWD: 12, RKA: 14}

type flight struct {
	to    int // 0, 1: host; 2, 3: bridge port 0, 1
	frame []byte
}

type sim struct {
	t      *rapid.T
	now    time.Time
	rnd    *rand.Rand
	impair bool
	st     [2]*vdp.Station
	hecp   [2]*ecp.Machine
	br     *vdp.Bridge
	becp   [2]*ecp.Machine
	air    []flight
	// bound is the binding the bridge's ActState stream describes, as a
	// vEth table would hold it: VSIID → port.
	bound map[vdp.VSIID]int
}

var vsiIDs = []vdp.VSIID{{1, 1}, {2, 2}, {3, 3}}

func modelVSI(k int, mode vdp.TLVType) *vdp.VSI {
	return &vdp.VSI{Mode: mode, TypeID: 7 + uint32(k/2), TypeVersion: 1, IDFormat: vdp.VSIIDUUID, ID: vsiIDs[k],
		FilterFormat: vdp.FilterMACVID, Filters: []vdp.Filter{{MAC: [6]byte{2, 0, 0, 0, 1, byte(k)}, VID: 0}}}
}

func newECP(t *rapid.T, side int) *ecp.Machine {
	cfg := ecp.DefaultConfig([6]byte{2, 0, 0, 0, 0, byte(side)})
	cfg.RTE, cfg.MaxRetries = modelTimers.RTE, modelTimers.R
	m, err := ecp.NewMachine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (s *sim) restartHost(h int) {
	s.st[h] = vdp.NewStation(vdp.StationConfig{Timers: modelTimers})
	s.hecp[h] = newECP(s.t, h)
}

func (s *sim) restartBridge() {
	// VSI 2 (Type ID 8) is decided later, by the "decide" action, or not
	// at all (the resource wait runs out).
	s.br = vdp.NewBridge(vdp.BridgeConfig{Ports: 2, Timers: modelTimers, Decider: vdp.DecideFunc(func(_ int, _ vdp.ManagerID, v *vdp.VSI) vdp.Decision {
		return vdp.Decision{VID: 100, Pending: v.TypeID == 8}
	})})
	s.becp = [2]*ecp.Machine{newECP(s.t, 2), newECP(s.t, 3)}
	s.bound = map[vdp.VSIID]int{}
}

func (s *sim) ecpOf(side int) *ecp.Machine {
	if side < 2 {
		return s.hecp[side]
	}
	return s.becp[side-2]
}

// ecpDo runs an event on side's ECP machine and everything that follows.
func (s *sim) ecpDo(side int, ev ecp.Event) {
	acts := cloneECP(s.ecpOf(side).Handle(ev, s.now))
	for _, a := range acts {
		switch a.Kind {
		case ecp.ActTransmit:
			s.transmit(side, a.Frame)
		case ecp.ActDeliver:
			if a.Subtype == ecp.SubtypeVDP {
				s.vdpDo(side, vdp.Event{Kind: vdp.EvPDU, Port: side - 2, PDU: a.Payload})
			}
		}
	}
}

func cloneECP(acts []ecp.Action) []ecp.Action {
	out := make([]ecp.Action, len(acts))
	for i, a := range acts {
		a.Frame = append([]byte(nil), a.Frame...)
		a.Payload = append([]byte(nil), a.Payload...)
		out[i] = a
	}
	return out
}

func (s *sim) vdpDo(side int, ev vdp.Event) []vdp.Action {
	var raw []vdp.Action
	if side < 2 {
		raw = s.st[side].Handle(ev, s.now)
	} else {
		raw = s.br.Handle(ev, s.now)
	}
	acts := make([]vdp.Action, len(raw))
	for i, a := range raw {
		a.PDU = append([]byte(nil), a.PDU...)
		acts[i] = a
	}
	for _, a := range acts {
		switch {
		case a.Kind == vdp.ActSend && side < 2:
			s.ecpDo(side, ecp.Event{Kind: ecp.EvSend, Subtype: ecp.SubtypeVDP, Payload: a.PDU})
		case a.Kind == vdp.ActSend:
			s.ecpDo(2+a.Port, ecp.Event{Kind: ecp.EvSend, Subtype: ecp.SubtypeVDP, Payload: a.PDU})
		case a.Kind == vdp.ActState && side >= 2:
			s.bind(a)
		}
	}
	return acts
}

// bind keeps the vEth view and checks that a VSIID is never bound twice.
func (s *sim) bind(a vdp.Action) {
	p, ok := s.bound[a.ID]
	switch {
	case a.Mode == vdp.TypeAssociate:
		if ok && p != a.Port {
			s.t.Fatalf("VSI %x bound on port %d and now on port %d", a.ID[:2], p, a.Port)
		}
		s.bound[a.ID] = a.Port
	case ok && p == a.Port:
		delete(s.bound, a.ID)
	}
}

// transmit puts a frame on the link from side; 30% of frames are dropped,
// duplicated or delayed behind later ones.
func (s *sim) transmit(from int, frame []byte) {
	to := from + 2
	if from >= 2 {
		to = from - 2
	}
	f := flight{to: to, frame: frame}
	if !s.impair || s.rnd.IntN(100) >= 30 {
		s.air = append(s.air, f)
		return
	}
	switch s.rnd.IntN(3) {
	case 0: // dropped
	case 1:
		s.air = append(s.air, f, f)
	case 2:
		i := s.rnd.IntN(len(s.air) + 1)
		s.air = append(s.air[:i], append([]flight{f}, s.air[i:]...)...)
	}
}

func (s *sim) deliver(n int) {
	for ; n > 0 && len(s.air) > 0; n-- {
		f := s.air[0]
		s.air = s.air[1:]
		s.ecpDo(f.to, ecp.Event{Kind: ecp.EvFrame, Frame: f.frame})
	}
}

// tick moves time to the earliest deadline of any machine and fires it.
func (s *sim) tick() bool {
	var next time.Time
	ok := false
	consider := func(d time.Time, has bool) {
		if has && (!ok || d.Before(next)) {
			next, ok = d, true
		}
	}
	for h := range 2 {
		consider(s.st[h].Deadline())
		consider(s.hecp[h].Deadline())
		consider(s.becp[h].Deadline())
	}
	consider(s.br.Deadline())
	if !ok {
		return false
	}
	if next.After(s.now) {
		s.now = next
	}
	for side := range 4 {
		s.ecpDo(side, ecp.Event{Kind: ecp.EvTimer})
	}
	for h := range 2 {
		s.vdpDo(h, vdp.Event{Kind: vdp.EvTimer})
	}
	s.vdpDo(2, vdp.Event{Kind: vdp.EvTimer})
	return true
}

func (s *sim) request(h, k int, mode vdp.TLVType, hint vdp.Status) {
	v := modelVSI(k, mode)
	v.Status = hint
	if e, ok := s.st[h].VSI(vdp.VSIIDUUID, vsiIDs[k]); ok {
		v.Filters = append([]vdp.Filter(nil), e.VSI.Filters...)
	}
	s.vdpDo(h, vdp.Event{Kind: vdp.EvRequest, ManagerID: mgrA, VSI: v})
}

// check is the invariant after every step: at the bridge a VSIID is
// associated on one port at most, and the binding view agrees.
func (s *sim) check() {
	assoc := map[vdp.VSIID]int{}
	s.br.Each(func(e *vdp.BridgeVSI) {
		if e.Mode == vdp.TypeAssociate {
			if p, ok := assoc[e.VSI.ID]; ok {
				s.t.Fatalf("VSI %x associated on ports %d and %d", e.VSI.ID[:2], p, e.Port)
			}
			assoc[e.VSI.ID] = e.Port
		}
	})
	if len(assoc) != len(s.bound) {
		s.t.Fatalf("bridge %v, bindings %v", assoc, s.bound)
	}
	for id, p := range assoc {
		if s.bound[id] != p {
			s.t.Fatalf("bridge %v, bindings %v", assoc, s.bound)
		}
	}
}

// settle runs the link without impairment for long enough for every
// keep-alive and timeout to have played out, then checks that station
// and bridge agree: a host holds a VSI associated exactly when the bridge
// has it associated on that host's port.
func (s *sim) settle() {
	s.impair = false
	until := s.now.Add(3 * (modelTimers.BridgeKeepAlive() + modelTimers.StationKeepAlive() + modelTimers.StationResponseWait()))
	for steps := 0; s.now.Before(until); steps++ {
		if steps > 100000 {
			s.t.Fatalf("time does not advance: stuck at %v", s.now)
		}
		for len(s.air) > 0 {
			s.deliver(len(s.air))
		}
		if !s.tick() {
			break
		}
	}
	for len(s.air) > 0 {
		s.deliver(len(s.air))
	}
	s.check()
	for h := range 2 {
		for k := range vsiIDs {
			e, ok := s.st[h].VSI(vdp.VSIIDUUID, vsiIDs[k])
			st := ok && e.Mode == vdp.TypeAssociate && e.Pending == 0
			b, ok := s.br.VSI(h, vdp.VSIIDUUID, vsiIDs[k])
			bt := ok && b.Mode == vdp.TypeAssociate
			if st != bt {
				s.t.Fatalf("not converged: host %d VSI %d station associated %v, bridge %v", h, k, st, bt)
			}
		}
	}
}

// TestModel: associations, de-associations, migrations between the two
// bridge ports (pre-associate with the M hint, associate, then the old
// host de-associates) and restarts of either side, over the lossy link;
// a VSIID is never bound twice, and after the link heals everything
// converges.
func TestModel(t *testing.T) {
	modelTotals = vdp.BridgeCounters{}
	rapid.Check(t, modelProperty)
	c := modelTotals
	t.Logf("over all runs: %+v", c)
	// The runs did what they are meant to test.
	if c.Admitted == 0 || c.Migrations == 0 || c.Expired == 0 || c.KeepAlives == 0 || c.Deferred == 0 || c.ResourceTimeouts == 0 {
		t.Errorf("the model did not exercise associations, migrations, keep-alives, expiry and deferred decisions: %+v", c)
	}
}

// modelTotals sums the bridges' counters over a TestModel run.
var modelTotals vdp.BridgeCounters

func (s *sim) total() {
	c := s.br.Counters()
	modelTotals.Admitted += c.Admitted
	modelTotals.Migrations += c.Migrations
	modelTotals.Expired += c.Expired
	modelTotals.KeepAlives += c.KeepAlives
	modelTotals.Refused += c.Refused
	modelTotals.PDUsIn += c.PDUsIn
	modelTotals.Deferred += c.Deferred
	modelTotals.ResourceTimeouts += c.ResourceTimeouts
}

func modelProperty(t *rapid.T) {
	s := &sim{t: t, now: time.Unix(0, 0), impair: true,
		rnd: rand.New(rand.NewPCG(rapid.Uint64().Draw(t, "link seed"), 1))}
	s.restartHost(0)
	s.restartHost(1)
	s.restartBridge()
	for side := range 4 {
		s.ecpDo(side, ecp.Event{Kind: ecp.EvBegin})
	}
	host := rapid.IntRange(0, 1)
	vsi := rapid.IntRange(0, len(vsiIDs)-1)
	t.Repeat(map[string]func(*rapid.T){
		"associate": func(t *rapid.T) {
			s.request(host.Draw(t, "host"), vsi.Draw(t, "vsi"), vdp.TypeAssociate, 0)
		},
		"preassociate": func(t *rapid.T) {
			s.request(host.Draw(t, "host"), vsi.Draw(t, "vsi"), vdp.TypePreAssociate, 0)
		},
		"deassociate": func(t *rapid.T) {
			s.request(host.Draw(t, "host"), vsi.Draw(t, "vsi"), vdp.TypeDeAssociate, 0)
		},
		"migrate": func(t *rapid.T) {
			to, k := host.Draw(t, "to"), vsi.Draw(t, "vsi")
			s.request(to, k, vdp.TypePreAssociateRR, vdp.StatusMigrateTo)
			s.deliver(rapid.IntRange(0, 8).Draw(t, "frames"))
			s.request(to, k, vdp.TypeAssociate, vdp.StatusMigrateTo)
			s.deliver(rapid.IntRange(0, 8).Draw(t, "frames"))
			s.request(1-to, k, vdp.TypeDeAssociate, vdp.StatusMigrateFrom)
		},
		"deliver": func(t *rapid.T) {
			s.deliver(rapid.IntRange(1, 10).Draw(t, "frames"))
		},
		"tick": func(t *rapid.T) {
			s.tick()
		},
		"decide": func(t *rapid.T) {
			port := host.Draw(t, "port")
			s.vdpDo(2, vdp.Event{Kind: vdp.EvDecision, Port: port, VSI: modelVSI(2, vdp.TypeAssociate), Decision: vdp.Decision{VID: 200}})
		},
		"restart station": func(t *rapid.T) {
			h := host.Draw(t, "host")
			s.restartHost(h)
			s.ecpDo(h, ecp.Event{Kind: ecp.EvBegin})
		},
		"restart bridge": func(t *rapid.T) {
			s.total()
			s.restartBridge()
			s.ecpDo(2, ecp.Event{Kind: ecp.EvBegin})
			s.ecpDo(3, ecp.Event{Kind: ecp.EvBegin})
		},
		"": func(t *rapid.T) { s.check() },
	})
	s.settle()
	s.total()
}
