package bind

import (
	"errors"
	"slices"
	"time"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vdp/ecp"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

// VISPlane is the control plane of a vis core, put together: the core's
// VISProgrammer, a vic.VISAgent, one ECP speaker per IV port sharing the
// port's link with the data frames through a Control, and the vif lists
// sent to each IV (Lists). The example, the conformance device and the
// daemons all wire a VIS this way. Safe for concurrent use.
type VISPlane struct {
	core  *vis.VIS
	prog  *VISProgrammer
	agent *vic.VISAgent
	ctl   *Control
	sps   map[vic.PortID]*ecp.Speaker
	clock func() time.Time
	lists []*Lists
}

// NewVISPlane starts the control plane of core, whose vEths it binds to
// the port-profiles of store (the core's store). cfg.Profiles defaults to
// Profiles{Store: store}.
func NewVISPlane(core *vis.VIS, store profile.Store, cfg vic.VISConfig) (*VISPlane, error) {
	return NewVISPlaneWith(core, store, cfg, VISPlaneOptions{})
}

// VISPlaneOptions are what a daemon adds to a VISPlane.
type VISPlaneOptions struct {
	// Table is the vic table to start from (nil: a new one), such as one
	// restored from a store after a restart (vic.Table.Restore).
	Table *vic.Table
	// Program, if set, returns the programmer the agent drives in place
	// of the core's: one that wraps it, to record each change, say.
	Program func(*VISProgrammer) vic.VISProgrammer
	// Status, if set, receives the agent's ActPeerUp and ActPeerDown
	// actions (see vic.NewVISAgent).
	Status func(vic.Action)
	// Clock, if set, is the clock of the agent and the speakers in place
	// of time.Now (vic.VISAgent.SetClock, ecp.Speaker.SetClock): a clock
	// that jumps, such as a conformance case's, with Tick called after
	// each jump.
	Clock func() time.Time
}

// NewVISPlaneWith is NewVISPlane with o.
func NewVISPlaneWith(core *vis.VIS, store profile.Store, cfg vic.VISConfig, o VISPlaneOptions) (*VISPlane, error) {
	prog, err := NewVISProgrammer(core, store)
	if err != nil {
		return nil, err
	}
	if cfg.Profiles == nil {
		cfg.Profiles = Profiles{Store: store}
	}
	var driven vic.VISProgrammer = prog
	if o.Program != nil {
		driven = o.Program(prog)
	}
	p := &VISPlane{core: core, prog: prog, agent: vic.NewVISAgent(cfg, o.Table, driven, o.Status),
		ctl: NewControl(core), sps: map[vic.PortID]*ecp.Speaker{}, clock: o.Clock}
	if o.Clock != nil {
		p.agent.SetClock(o.Clock)
	}
	return p, nil
}

// AddIVPort adds an IV port in mode to the core, with vic port id id, and
// runs vic on it: ECP frames go out through w (the port's link; see
// Writer) with the ECP configuration ecpCfg, and arrive through Core. The
// core's vif lists for the port are sent to the IV over vic; with lists
// set, they go to lists instead and not over vic. It returns the core's
// port number.
func (p *VISPlane) AddIVPort(name string, mode vntag.Mode, id vic.PortID, w ecp.FrameWriter, ecpCfg ecp.Config, lists vis.ListProgrammer) (int, error) {
	sp, err := ecp.NewSpeaker(w, ecpCfg)
	if err != nil {
		return 0, err
	}
	if p.clock != nil {
		sp.SetClock(p.clock)
	}
	var l *Lists
	if lists == nil {
		l = NewLists()
		lists = l
	}
	cp, err := p.core.AddIVPort(name, mode, lists)
	if err != nil {
		sp.Close()
		if l != nil {
			l.Close()
		}
		return 0, err
	}
	p.prog.AddPort(id, cp)
	p.agent.AddPort(id, sp)
	if l != nil {
		l.Attach(p.agent, id)
		p.lists = append(p.lists, l)
	}
	p.ctl.Attach(cp, sp)
	p.sps[id] = sp
	return cp, nil
}

// Core returns the port.Core to run in place of the vis core: the core
// behind a Control that hands the IV ports' ECP frames to their speakers.
// Add every IV port before the first Process.
func (p *VISPlane) Core() *Control { return p.ctl }

// Tick runs the timers that are due by the plane's clock
// (VISPlaneOptions.Clock): the agent's first, then each IV port's ECP
// acknowledgement timer, in vic port order.
func (p *VISPlane) Tick() {
	p.agent.Tick()
	ids := make([]vic.PortID, 0, len(p.sps))
	for id := range p.sps {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		p.sps[id].Tick()
	}
}

// Agent returns the vic agent.
func (p *VISPlane) Agent() *vic.VISAgent { return p.agent }

// Programmer returns the programmer of the core.
func (p *VISPlane) Programmer() *VISProgrammer { return p.prog }

// Speaker returns the ECP speaker of vic port id, or nil.
func (p *VISPlane) Speaker(id vic.PortID) *ecp.Speaker { return p.sps[id] }

// Close stops the agent, the speakers and the list senders. The core is
// the caller's.
func (p *VISPlane) Close() {
	p.agent.Close()
	for _, sp := range p.sps {
		sp.Close()
	}
	for _, l := range p.lists {
		l.Close()
	}
}

// IVPlane is the control plane of an iv core, put together: the core's
// IVProgrammer and a vic.IVAgent on an ECP speaker that shares the
// uplink of one fabric with the data frames through a Control. The IV
// machine opens its session at once. Safe for concurrent use.
type IVPlane struct {
	prog  *IVProgrammer
	agent *vic.IVAgent
	ctl   *Control
	sp    *ecp.Speaker
}

// NewIVPlane starts the control plane of core over the uplink of fabric:
// ECP frames go out through w (that uplink's link) with the ECP
// configuration ecpCfg, and arrive through Core. onBind is
// NewIVProgrammer's. cfg.Mode defaults to the core's mode.
func NewIVPlane(core *iv.IV, cfg vic.IVConfig, fabric iv.Fabric, w ecp.FrameWriter, ecpCfg ecp.Config, onBind func(n vic.VNIC, vif vntag.VIF, port int)) (*IVPlane, error) {
	return NewIVPlaneWith(core, cfg, fabric, w, ecpCfg, onBind, nil)
}

// NewIVPlaneWith is NewIVPlane with a status function, which receives the
// agent's ActStatus, ActPeerUp and ActPeerDown actions (see
// vic.NewIVAgent).
func NewIVPlaneWith(core *iv.IV, cfg vic.IVConfig, fabric iv.Fabric, w ecp.FrameWriter, ecpCfg ecp.Config, onBind func(n vic.VNIC, vif vntag.VIF, port int), status func(vic.Action)) (*IVPlane, error) {
	if cfg.Mode == 0 {
		cfg.Mode = core.Mode()
	}
	if cfg.Mode != core.Mode() {
		return nil, errors.New("bind: the IV machine's mode is not the core's")
	}
	sp, err := ecp.NewSpeaker(w, ecpCfg)
	if err != nil {
		return nil, err
	}
	prog := NewIVProgrammer(core, fabric, onBind)
	ctl := NewControl(core)
	ctl.Attach(int(fabric), sp) // the uplink's port number is its fabric's
	return &IVPlane{prog: prog, agent: vic.NewIVAgent(cfg, sp, prog, status), ctl: ctl, sp: sp}, nil
}

// Core returns the port.Core to run in place of the iv core.
func (p *IVPlane) Core() *Control { return p.ctl }

// Agent returns the vic agent.
func (p *IVPlane) Agent() *vic.IVAgent { return p.agent }

// Programmer returns the programmer of the core, which knows the core
// port of each bound vNIC.
func (p *IVPlane) Programmer() *IVProgrammer { return p.prog }

// Speaker returns the ECP speaker.
func (p *IVPlane) Speaker() *ecp.Speaker { return p.sp }

// Close stops the agent and the speaker.
func (p *IVPlane) Close() {
	p.agent.Close()
	p.sp.Close()
}
