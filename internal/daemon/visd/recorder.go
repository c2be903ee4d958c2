package visd

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/nivkit/niv/internal/daemon/conf"
	"github.com/nivkit/niv/internal/daemon/state"
	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/bind"
	"github.com/nivkit/niv/vic/registry"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

// recorder is the VIS machine's programmer: it programs the core through
// bind.VIS and writes each change of a vEth to the store before the
// machine's answer goes out (the machine applies its actions in order and
// sends after programming), so an IV never holds a vEth id the store does
// not have.
type recorder struct {
	inner *bind.VISProgrammer
	st    state.Store
	log   *slog.Logger

	mu    sync.Mutex
	veths map[uint32]*state.VEth
	// restoring is set while Start replays the store into the core.
	restoring bool
	base      map[uint32]state.Counters // checkpointed before this start
	names     map[vic.PortID]string
	next      uint32
	// reg is the fleet's vEth registry (nil: a VIS on its own). last is
	// what the core had counted on each vEth at its last checkpoint to the
	// registry, whose Checkpoint takes deltas.
	reg  registry.Registry
	core *vis.VIS
	last map[uint32]vis.Counters
	// pipe applies the registry calls in batches, off the vic machine.
	pipe *registry.Pipeline
}

func newRecorder(inner *bind.VISProgrammer, st state.Store, snap *state.Snapshot, log *slog.Logger) *recorder {
	r := &recorder{inner: inner, st: st, log: log, veths: map[uint32]*state.VEth{}, base: snap.Counters,
		names: map[vic.PortID]string{}, next: snap.Next, last: map[uint32]vis.Counters{}}
	return r
}

func (r *recorder) addPort(p vic.PortID, name string) {
	r.mu.Lock()
	r.names[p] = name
	r.mu.Unlock()
}

func (r *recorder) portName(p vic.PortID) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.names[p]
}

func (r *recorder) save(v *state.VEth) {
	if r.restoring {
		return // it is the store's record being replayed
	}
	if err := r.st.PutVEth(*v); err != nil {
		r.log.Error("store: writing vEth", "veth", v.ID, "err", err)
	}
	if v.ID > r.next {
		r.next = v.ID
		if err := r.st.PutNext(v.ID); err != nil {
			r.log.Error("store: writing next vEth id", "err", err)
		}
	}
}

// SetVEth implements vic.VISProgrammer.
func (r *recorder) SetVEth(id uint32, n vic.VNIC) error {
	err := r.inner.SetVEth(id, n)
	r.mu.Lock()
	defer r.mu.Unlock()
	v := r.veths[id]
	if v == nil {
		v = &state.VEth{ID: id}
		r.veths[id] = v
		what := "vEth created"
		if r.restoring {
			what = "vEth restored"
		}
		r.log.Info(what, "veth", id, "profile", n.Profile, "mac", macString(n.MAC), "instance", uuidString(n.Instance))
	}
	v.Instance, v.MAC, v.Profile, v.VLAN, v.Epoch, v.Up = n.Instance, n.MAC, n.Profile, n.VLAN, n.Epoch, n.Up
	r.save(v)
	if r.reg != nil && v.Bound && !r.restoring {
		n := vnicOf(*v)
		r.fleet(registry.Op{Kind: registry.OpSetConfig, Instance: v.Instance, Config: &n}, "set-config", id, nil)
	}
	return err
}

// fleet queues one registry call and logs its failure (unless onErr,
// if set, takes the error and returns nil): the local state and the core
// are already changed, the registry catches up at the next bind.
func (r *recorder) fleet(op registry.Op, what string, id uint32, onErr func(error) error) {
	r.pipe.Queue(op, func(err error) {
		if err != nil && onErr != nil {
			err = onErr(err)
		}
		if err != nil {
			r.log.Error("vEth registry: "+what, "veth", id, "err", err)
		}
	})
}

// delta returns what the core counted on vEth id since its last
// checkpoint to the registry, and makes now the last checkpoint. r.mu
// is held.
func (r *recorder) delta(core *vis.VIS, id uint32) vis.Counters {
	c, _ := core.Counters(profile.VEthID(id))
	d := registry.SubCounters(c, r.last[id])
	r.last[id] = c
	return d
}

// release gives up vEth v in the registry with its last counts (or, if
// another VIS took it meanwhile, checkpoints them). r.mu is held.
func (r *recorder) release(v *state.VEth) {
	if r.reg == nil || r.core == nil {
		return
	}
	r.releaseFleet(regKey(v), v.ID, r.delta(r.core, v.ID))
}

// releaseFleet queues the release of vEth id (registry key u) with d,
// its counts since its last checkpoint; if another VIS took it
// meanwhile, the counts still go in, as a checkpoint.
func (r *recorder) releaseFleet(u vic.UUID, id uint32, d vis.Counters) {
	r.fleet(registry.Op{Kind: registry.OpRelease, Instance: u, Delta: d}, "release", id, func(err error) error {
		if errors.Is(err, registry.ErrNotHeld) {
			r.fleet(registry.Op{Kind: registry.OpCheckpoint, Instance: u, Delta: d}, "checkpoint", id, nil)
			return nil
		}
		return err
	})
}

// checkpointFleet adds vEth id's counts since its last checkpoint to the
// registry.
func (r *recorder) checkpointFleet(core *vis.VIS, id uint32) {
	r.mu.Lock()
	v := r.veths[id]
	if v == nil {
		r.mu.Unlock()
		return
	}
	u := regKey(v)
	d := r.delta(core, id)
	r.mu.Unlock()
	if d == (vis.Counters{}) {
		return // nothing counted since the last one: no write
	}
	r.fleet(registry.Op{Kind: registry.OpCheckpoint, Instance: u, Delta: d}, "checkpoint", id, nil)
}

// claim binds vEth id in the registry if this VIS has it bound, and
// reports whether it did.
func (r *recorder) claim(id uint32) bool {
	r.mu.Lock()
	v := r.veths[id]
	if v == nil || !v.Bound {
		r.mu.Unlock()
		return false
	}
	n, b := vnicOf(*v), registry.Binding{Port: v.Port, VIF: vntag.VIF(v.VIF), Epoch: v.Epoch}
	n.Instance = regKey(v)
	r.mu.Unlock()
	r.fleet(registry.Op{Kind: registry.OpBind, Instance: n.Instance, Binding: b, Config: &n}, "claim", id, nil)
	return true
}

// byInstance returns the id of the vEth whose registry key is u.
func (r *recorder) byInstance(u vic.UUID) (uint32, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, v := range r.veths {
		if regKey(v) == u {
			return id, true
		}
	}
	return 0, false
}

// DeleteVEth implements vic.VISProgrammer.
func (r *recorder) DeleteVEth(id uint32) error {
	r.mu.Lock()
	if v := r.veths[id]; v != nil && v.Bound {
		r.release(v)
	}
	r.mu.Unlock()
	err := r.inner.DeleteVEth(id)
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.veths, id)
	delete(r.last, id)
	delete(r.base, id)
	if serr := r.st.DeleteVEth(id); serr != nil {
		r.log.Error("store: deleting vEth", "veth", id, "err", serr)
	}
	r.log.Info("vEth deleted", "veth", id)
	return err
}

// BindVIF implements vic.VISProgrammer.
func (r *recorder) BindVIF(p vic.PortID, vif vntag.VIF, id uint32) error {
	err := r.inner.BindVIF(p, vif, id)
	r.mu.Lock()
	defer r.mu.Unlock()
	if v := r.veths[id]; v != nil {
		moved := v.Bound && v.Port != r.names[p]
		v.Port, v.VIF, v.Bound = r.names[p], uint32(vif), true
		r.save(v)
		if r.reg != nil {
			b := registry.Binding{Port: v.Port, VIF: vif, Epoch: v.Epoch}
			n := vnicOf(*v)
			r.fleet(registry.Op{Kind: registry.OpBind, Instance: n.Instance, Binding: b, Config: &n}, "bind", id, func(err error) error {
				if errors.Is(err, registry.ErrHeld) {
					// Its VIS died and its lease has not expired yet: the
					// vEth forwards here, and is bound in the registry
					// when it is orphaned (onRegistry).
					r.log.Warn("vEth registry: held by another VIS; bound here when its lease expires", "veth", id)
					return nil
				}
				return err
			})
		}
		if !r.restoring {
			r.log.Info("vEth bound", "veth", id, "interface", v.Port, "channel", vif, "moved", moved)
		}
	}
	return err
}

// UnbindVIF implements vic.VISProgrammer.
func (r *recorder) UnbindVIF(p vic.PortID, vif vntag.VIF) error {
	err := r.inner.UnbindVIF(p, vif)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range r.veths {
		if v.Bound && v.Port == r.names[p] && v.VIF == uint32(vif) {
			r.release(v)
			v.Bound = false
			r.save(v)
			r.log.Info("vEth unbound", "veth", v.ID, "interface", v.Port, "channel", vif)
		}
	}
	return err
}

// SetVEthLink implements vic.VISProgrammer.
func (r *recorder) SetVEthLink(id uint32, up bool) error {
	err := r.inner.SetVEthLink(id, up)
	r.mu.Lock()
	defer r.mu.Unlock()
	if v := r.veths[id]; v != nil && v.Up != up {
		v.Up = up
		r.save(v)
	}
	return err
}

// list returns the vEth records, by id.
func (r *recorder) list() []state.VEth {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]state.VEth, 0, len(r.veths))
	for _, id := range sortedIDs(r.veths) {
		out = append(out, *r.veths[id])
	}
	return out
}

func (r *recorder) get(id uint32) (state.VEth, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.veths[id]
	if !ok {
		return state.VEth{}, false
	}
	return *v, true
}

// counters returns vEth id's counters since it was created: those
// checkpointed before this start plus the core's since.
func (r *recorder) counters(core *vis.VIS, id uint32) state.Counters {
	if r.reg != nil {
		return r.fleetCounters(core, id)
	}
	r.mu.Lock()
	b := r.base[id]
	r.mu.Unlock()
	c, _ := core.Counters(profile.VEthID(id))
	return b.Add(state.Counters{RxFrames: c.RxFrames, RxBytes: c.RxBytes, TxFrames: c.TxFrames, TxBytes: c.TxBytes, Drops: c.Dropped()})
}

// fleetCounters returns vEth id's counters in a fleet: the sum of every
// checkpoint of every VIS that held it (the registry's) plus what this
// VIS counted since its last one.
func (r *recorder) fleetCounters(core *vis.VIS, id uint32) state.Counters {
	r.mu.Lock()
	v, last := r.veths[id], r.last[id]
	r.mu.Unlock()
	c, _ := core.Counters(profile.VEthID(id))
	c = registry.SubCounters(c, last)
	if v != nil {
		r.pipe.Flush() // the checkpoints queued so far are in the registry's sum
		ctx, cancel := context.WithTimeout(context.Background(), fleetTimeout)
		rec, err := r.reg.Get(ctx, regKey(v))
		cancel()
		if err == nil {
			c = registry.AddCounters(c, rec.Counters)
		}
	}
	return state.Counters{RxFrames: c.RxFrames, RxBytes: c.RxBytes, TxFrames: c.TxFrames, TxBytes: c.TxBytes, Drops: c.Dropped()}
}

func (r *recorder) totals(core *vis.VIS) map[uint32]state.Counters {
	return r.countersOf(core, r.list())
}

// countersOf returns counters for each of vs, reading the fleet's
// registry, if any, in one batch (registry.GetAll) rather than a round
// trip per vEth.
func (r *recorder) countersOf(core *vis.VIS, vs []state.VEth) map[uint32]state.Counters {
	out := map[uint32]state.Counters{}
	if r.reg == nil {
		for _, v := range vs {
			out[v.ID] = r.counters(core, v.ID)
		}
		return out
	}
	r.pipe.Flush() // the checkpoints queued so far are in the registry's sums
	us := make([]vic.UUID, len(vs))
	for i := range vs {
		us[i] = regKey(&vs[i])
	}
	ctx, cancel := context.WithTimeout(context.Background(), fleetTimeout)
	recs, errs := registry.GetAll(ctx, r.reg, us)
	cancel()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, v := range vs {
		c, _ := core.Counters(profile.VEthID(v.ID))
		c = registry.SubCounters(c, r.last[v.ID])
		if errs[i] == nil {
			c = registry.AddCounters(c, recs[i].Counters)
		}
		out[v.ID] = state.Counters{RxFrames: c.RxFrames, RxBytes: c.RxBytes, TxFrames: c.TxFrames, TxBytes: c.TxBytes, Drops: c.Dropped()}
	}
	return out
}

var _ vic.VISProgrammer = (*recorder)(nil)

func macString(m [6]byte) string   { return conf.FormatMAC(m) }
func uuidString(u [16]byte) string { return conf.FormatUUID(u) }
