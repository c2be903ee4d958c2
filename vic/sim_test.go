package vic_test

import (
	"fmt"
	"sort"
	"time"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vdp/ecp"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/bind"
	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

// This file is a simulated network for the vic machines: IVs and one VIS,
// each vic machine on a real ecp.Machine, joined by links that can drop,
// duplicate and delay (hence reorder) frames, on a virtual clock. The
// data paths check the data-path invariants as they are programmed, and
// pass every call on to the real cores (vic/iv, vic/vis, through
// vic/bind), so that they refuse exactly what the real ones refuse: a VIF
// out of the mode's range, a list id the core cannot hold.

// ivCore is the IV data path: a real iv core behind bind.IVProgrammer, and a record
// of what was programmed. It fails the run when a VIF is bound twice on
// its port.
type ivCore struct {
	vifs  map[vntag.VIF]vic.UUID
	link  map[vntag.VIF]bool
	lists map[uint32][]vntag.VIF
	real  *bind.IVProgrammer
	fail  func(string, ...any)
}

func newIVCore(mode vntag.Mode, fail func(string, ...any)) *ivCore {
	return &ivCore{vifs: map[vntag.VIF]vic.UUID{}, link: map[vntag.VIF]bool{}, lists: map[uint32][]vntag.VIF{},
		real: bind.NewIVProgrammer(iv.New(iv.Config{Mode: mode}), iv.FabricA, nil), fail: fail}
}

func (c *ivCore) BindVIF(vif vntag.VIF, n vic.VNIC, veth uint32) error {
	if u, ok := c.vifs[vif]; ok && u != n.Instance {
		c.fail("IV core: VIF %d bound to %v and %v at once", vif, u, n.Instance)
	}
	for v, u := range c.vifs {
		if u == n.Instance && v != vif {
			c.fail("IV core: %v bound to VIFs %d and %d", u, v, vif)
		}
	}
	if err := c.real.BindVIF(vif, n, veth); err != nil {
		return err
	}
	c.vifs[vif] = n.Instance
	c.link[vif] = n.Up
	return nil
}

func (c *ivCore) UnbindVIF(vif vntag.VIF) error {
	if _, ok := c.vifs[vif]; !ok {
		c.fail("IV core: unbind of unbound VIF %d", vif)
	}
	delete(c.vifs, vif)
	delete(c.link, vif)
	return c.real.UnbindVIF(vif)
}

func (c *ivCore) SetVIFLink(vif vntag.VIF, up bool) error {
	if _, ok := c.vifs[vif]; !ok {
		c.fail("IV core: link of unbound VIF %d", vif)
	}
	c.link[vif] = up
	return c.real.SetVIFLink(vif, up)
}

func (c *ivCore) SetVIFList(list uint32, members []vntag.VIF) error {
	c.lists[list] = append([]vntag.VIF(nil), members...)
	return c.real.SetVIFList(list, members)
}

type visVEth struct {
	cfg      vic.VNIC
	up       bool
	counters uint64
}

type binding struct {
	port vic.PortID
	vif  vntag.VIF
}

// simProfiles is the port-profile of every vNIC of the simulation.
const simProfiles = `
port-profile web
  switchport mode access
  switchport access vlan 10
  state enabled
`

// visCore is the VIS data path: a real vis core behind bind.VISProgrammer, with one
// IV port of mode per vic port, and the vEths with counters and the VIF
// bindings per port. It fails the run when a VIF is bound twice on a port
// or a vEth twice.
type visCore struct {
	veths   map[uint32]*visVEth
	binds   map[binding]uint32
	deleted map[uint32]bool
	real    *bind.VISProgrammer
	fail    func(string, ...any)
}

func newVISCore(nPorts int, mode vntag.Mode, fail func(string, ...any)) *visCore {
	c := &visCore{veths: map[uint32]*visVEth{}, binds: map[binding]uint32{}, deleted: map[uint32]bool{}, fail: fail}
	store := profile.NewMemStore()
	core, err := vis.New(vis.Config{Store: store, MACTableSize: 64})
	if err == nil {
		_, err = store.Update(func(tx *profile.Txn) error { return tx.Configure(simProfiles) })
	}
	if err == nil {
		c.real, err = bind.NewVISProgrammer(core, store)
	}
	for i := 0; err == nil && i < nPorts; i++ {
		var cp int
		if cp, err = core.AddIVPort(fmt.Sprintf("iv%d", i), mode, bind.NewLists()); err == nil {
			c.real.AddPort(vic.PortID(i), cp)
		}
	}
	if err != nil {
		fail("VIS core: %v", err)
	}
	return c
}

func (c *visCore) SetVEth(id uint32, n vic.VNIC) error {
	if c.deleted[id] {
		c.fail("VIS core: vEth id %d reused after delete", id)
	}
	v := c.veths[id]
	if v == nil {
		v = &visVEth{}
		c.veths[id] = v
	}
	v.cfg = n
	return c.real.SetVEth(id, n)
}

func (c *visCore) DeleteVEth(id uint32) error {
	for b, v := range c.binds {
		if v == id {
			c.fail("VIS core: delete of vEth %d still bound at %v", id, b)
		}
	}
	delete(c.veths, id)
	c.deleted[id] = true
	return c.real.DeleteVEth(id)
}

func (c *visCore) BindVIF(port vic.PortID, vif vntag.VIF, id uint32) error {
	if v, ok := c.binds[binding{port, vif}]; ok && v != id {
		c.fail("VIS core: VIF %d on port %d bound to vEths %d and %d", vif, port, v, id)
	}
	for b, v := range c.binds {
		if v == id && b != (binding{port, vif}) {
			c.fail("VIS core: vEth %d bound at %v and %v", id, b, binding{port, vif})
		}
	}
	if c.veths[id] == nil {
		c.fail("VIS core: bind of unknown vEth %d", id)
	}
	if err := c.real.BindVIF(port, vif, id); err != nil {
		return err
	}
	c.binds[binding{port, vif}] = id
	return nil
}

func (c *visCore) UnbindVIF(port vic.PortID, vif vntag.VIF) error {
	if _, ok := c.binds[binding{port, vif}]; !ok {
		c.fail("VIS core: unbind of unbound VIF %d on port %d", vif, port)
	}
	delete(c.binds, binding{port, vif})
	return c.real.UnbindVIF(port, vif)
}

func (c *visCore) SetVEthLink(id uint32, up bool) error {
	if v := c.veths[id]; v != nil {
		v.up = up
	} else {
		c.fail("VIS core: link of unknown vEth %d", id)
	}
	return c.real.SetVEthLink(id, up)
}

type inflight struct {
	at    time.Time
	seq   int
	to    int // endpoint index
	frame []byte
}

// fate decides what the link does with a frame: copies (0 drops it) and
// the delay of each copy.
type fate func() (copies int, delays [2]time.Duration)

// endpoint is one end of an ECP link: the ECP machine and where the
// ULPDUs it delivers go.
type endpoint struct {
	m     *ecp.Machine
	peer  int
	iv    int        // IV index, or -1 for the VIS side
	port  vic.PortID // VIS port (== IV index)
	label string
}

type sim struct {
	now    time.Time
	timing vic.Timing
	ecpCfg ecp.Config
	fate   fate
	fail   func(string, ...any)

	ivs     []*vic.IVMachine
	ivCores []*ivCore
	vis     *vic.VISMachine
	visCore *visCore
	table   *vic.Table
	profile vic.Profiles
	eps     []*endpoint // 2i: IV i's side, 2i+1: the VIS's port i
	flight  []inflight
	seq     int
	msg     vic.Message
	session uint64
	status  []vic.Action
	trace   func(string, ...any)
}

func newSim(nIV int, timing vic.Timing, f fate, profiles vic.Profiles, fail func(string, ...any)) *sim {
	s := &sim{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), timing: timing, fate: f, fail: fail, profile: profiles}
	s.ecpCfg = ecp.Config{RTE: 10, MaxRetries: 3, QueueLen: 1024}
	s.table = vic.NewTable()
	s.visCore = newVISCore(nIV, vntag.ModeVNTag, fail)
	s.vis = vic.NewVISMachine(vic.VISConfig{Session: s.nextSession(), Timing: timing, Profiles: profiles}, s.table, s.now)
	for i := 0; i < nIV; i++ {
		s.ivs = append(s.ivs, nil)
		s.ivCores = append(s.ivCores, nil)
		s.eps = append(s.eps, &endpoint{peer: 2*i + 1, iv: i, port: vic.PortID(i), label: fmt.Sprintf("iv%d", i)},
			&endpoint{peer: 2 * i, iv: -1, port: vic.PortID(i), label: fmt.Sprintf("vis%d", i)})
		s.eps[2*i].m = s.newECP(2 * i)
		s.eps[2*i+1].m = s.newECP(2*i + 1)
		s.startIV(i)
	}
	return s
}

func (s *sim) nextSession() uint64 {
	s.session++
	return s.session<<32 | 0x9E3779B9
}

func (s *sim) newECP(i int) *ecp.Machine {
	cfg := s.ecpCfg
	cfg.Addr = [6]byte{2, 0, 0, 0, byte(i / 2), byte(i % 2)}
	m, err := ecp.NewMachine(cfg)
	if err != nil {
		s.fail("ecp: %v", err)
	}
	return m
}

// startIV (re)starts IV i with a new session, a new ECP machine and an
// empty data path, as after a process restart.
func (s *sim) startIV(i int) {
	s.ivs[i] = vic.NewIVMachine(vic.IVConfig{Session: s.nextSession(), Mode: vntag.ModeVNTag, MaxVIFs: 64, Timing: s.timing})
	s.ivCores[i] = newIVCore(vntag.ModeVNTag, s.fail)
	s.eps[2*i].m = s.newECP(2 * i)
	s.ivHandle(i, vic.IVEvent{Kind: vic.IVTimer})
}

// restartVIS restarts the VIS control plane: new session and ECP
// machines, the same Table and data path.
func (s *sim) restartVIS() {
	s.vis = vic.NewVISMachine(vic.VISConfig{Session: s.nextSession(), Timing: s.timing, Profiles: s.profile}, s.table, s.now)
	for i := range s.ivs {
		s.eps[2*i+1].m = s.newECP(2*i + 1)
	}
}

func copyActs(acts []vic.Action) []vic.Action {
	out := make([]vic.Action, len(acts))
	for i, a := range acts {
		a.Payload = append([]byte(nil), a.Payload...)
		a.Members = append([]vntag.VIF(nil), a.Members...)
		out[i] = a
	}
	return out
}

func (s *sim) ivHandle(i int, ev vic.IVEvent) {
	for _, a := range copyActs(s.ivs[i].Handle(ev, s.now)) {
		switch a.Kind {
		case vic.ActSend:
			s.ecpHandle(2*i, ecp.Event{Kind: ecp.EvSend, Subtype: ecp.SubtypePECSP, Payload: a.Payload})
		case vic.ActStatus:
			s.status = append(s.status, a)
		default:
			if err := a.ApplyIV(s.ivCores[i]); err != nil {
				s.fail("apply IV: %v", err)
			}
		}
	}
}

func (s *sim) visHandle(ev vic.VISEvent) {
	for _, a := range copyActs(s.vis.Handle(ev, s.now)) {
		if a.Kind == vic.ActSend {
			s.ecpHandle(2*int(a.Port)+1, ecp.Event{Kind: ecp.EvSend, Subtype: ecp.SubtypePECSP, Payload: a.Payload})
			continue
		}
		if err := a.ApplyVIS(s.visCore); err != nil {
			s.fail("apply VIS: %v", err)
		}
	}
}

func (s *sim) ecpHandle(i int, ev ecp.Event) {
	ep := s.eps[i]
	acts := ep.m.Handle(ev, s.now)
	type act struct {
		kind ecp.ActionKind
		b    []byte
	}
	var todo []act
	for _, a := range acts {
		switch a.Kind {
		case ecp.ActTransmit:
			todo = append(todo, act{a.Kind, append([]byte(nil), a.Frame...)})
		case ecp.ActDeliver:
			todo = append(todo, act{a.Kind, append([]byte(nil), a.Payload...)})
		}
	}
	for _, a := range todo {
		if a.kind == ecp.ActTransmit {
			s.transmit(i, a.b)
			continue
		}
		if err := vic.Decode(a.b, &s.msg); err != nil {
			s.fail("%s: decoding a delivered ULPDU: %v", ep.label, err)
			continue
		}
		if s.trace != nil {
			s.trace("%v %s got %v resp=%v tx=%d %v %v vif=%d sess=%x peer=%x", s.now.Format("05.000000"), ep.label, s.msg.Command, s.msg.Response, s.msg.TxID, s.msg.Result, s.msg.Reason, s.msg.VIF, s.msg.Session%0x10000, s.msg.PeerSession%0x10000)
		}
		m := s.msg
		m.Profile = append([]byte(nil), s.msg.Profile...)
		m.Members = append([]vntag.VIF(nil), s.msg.Members...)
		if ep.iv >= 0 {
			s.ivHandle(ep.iv, vic.IVEvent{Kind: vic.IVReceive, Msg: &m})
		} else {
			s.visHandle(vic.VISEvent{Kind: vic.VISReceive, Port: ep.port, Msg: &m})
		}
	}
}

func (s *sim) transmit(from int, frame []byte) {
	n, delays := 1, [2]time.Duration{}
	if s.fate != nil {
		n, delays = s.fate()
	}
	for c := 0; c < n; c++ {
		s.seq++
		s.flight = append(s.flight, inflight{at: s.now.Add(delays[c]), seq: s.seq, to: s.eps[from].peer, frame: frame})
	}
}

// next returns the earliest pending event time.
func (s *sim) next() (time.Time, bool) {
	var t time.Time
	ok := false
	take := func(d time.Time) {
		if !ok || d.Before(t) {
			t, ok = d, true
		}
	}
	for _, f := range s.flight {
		take(f.at)
	}
	for _, ep := range s.eps {
		if d, on := ep.m.Deadline(); on {
			take(d)
		}
	}
	for _, iv := range s.ivs {
		take(iv.Deadline())
	}
	if d := s.vis.Deadline(); !d.IsZero() {
		take(d)
	}
	return t, ok
}

// run processes every event up to time to, in time order.
func (s *sim) run(to time.Time) {
	for steps := 0; ; steps++ {
		if steps > 1_000_000 {
			s.fail("simulation does not settle")
			return
		}
		t, ok := s.next()
		if !ok || t.After(to) {
			break
		}
		if t.After(s.now) {
			s.now = t
		}
		// Frames due, in (time, send order).
		sort.SliceStable(s.flight, func(a, b int) bool {
			if !s.flight[a].at.Equal(s.flight[b].at) {
				return s.flight[a].at.Before(s.flight[b].at)
			}
			return s.flight[a].seq < s.flight[b].seq
		})
		if len(s.flight) > 0 && !s.flight[0].at.After(s.now) {
			f := s.flight[0]
			s.flight = s.flight[1:]
			s.ecpHandle(f.to, ecp.Event{Kind: ecp.EvFrame, Frame: f.frame})
			continue
		}
		for i, ep := range s.eps {
			if d, on := ep.m.Deadline(); on && !d.After(s.now) {
				s.ecpHandle(i, ecp.Event{Kind: ecp.EvTimer})
			}
		}
		for i, iv := range s.ivs {
			if !iv.Deadline().After(s.now) {
				s.ivHandle(i, vic.IVEvent{Kind: vic.IVTimer})
			}
		}
		if d := s.vis.Deadline(); !d.IsZero() && !d.After(s.now) {
			s.visHandle(vic.VISEvent{Kind: vic.VISTimer})
		}
	}
	if to.After(s.now) {
		s.now = to
	}
}
