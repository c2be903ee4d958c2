package visd

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vdp"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/registry"
)

// Fleet is the store a fleet of VISes shares (niv vis --store
// SCHEME://...): the port-profile configuration every VIS follows and this
// VIS's view of the fleet-wide vEth registry. etcdstore/cmd/niv registers
// the etcd one (etcdstore.Fleet).
type Fleet struct {
	// Profiles is the shared configuration; ConfigRevision is 0 while it
	// was never written (the file's profiles then seed it).
	Profiles interface {
		profile.Store
		ConfigRevision() int64
	}
	Registry registry.Registry
	// Conflict is the error (errors.Is) of an edit that lost every retry
	// to concurrent edits.
	Conflict error
	// Revoke releases every binding at once (a clean stop); Close stops
	// without it (the bindings expire as after a crash).
	Revoke func(context.Context) error
	Close  func() error
}

// A FleetOpener opens the fleet store at spec as the VIS named vis.
type FleetOpener func(ctx context.Context, spec, vis string, log *slog.Logger) (*Fleet, error)

var (
	fleetsMu sync.Mutex
	fleets   = map[string]FleetOpener{}
)

// RegisterFleet makes `niv vis --store SCHEME://...` open a shared fleet
// store through open; a binary that links such a store calls it from
// main (or init).
func RegisterFleet(scheme string, open FleetOpener) {
	fleetsMu.Lock()
	defer fleetsMu.Unlock()
	fleets[scheme] = open
}

// fleetOpener returns the opener of spec's scheme, or nil.
func fleetOpener(spec string) FleetOpener {
	scheme, _, ok := strings.Cut(spec, "://")
	if !ok {
		return nil
	}
	fleetsMu.Lock()
	defer fleetsMu.Unlock()
	return fleets[scheme]
}

// fleetTimeout bounds each registry call made while the daemon waits
// for it (start-up, show, stop).
const fleetTimeout = 5 * time.Second

// allocator gives the vic machine its vEth ids from the fleet's registry
// without making it wait: NewVEthID queues the instance and answers
// vic.ErrIDPending; a goroutine allocates what is queued in batches
// (registry.AllocateAll: a shared registry's few transactions) and tells
// the machine (VISAgent.IDReady), which asks again and gets the id, or
// the error that refuses the VIF-alloc.
type allocator struct {
	reg   registry.Registry
	ready func(vic.UUID)
	log   *slog.Logger

	mu      sync.Mutex
	queue   []registry.Claim
	results map[vic.UUID]*allocResult
	wake    chan struct{}
	ctx     context.Context // ends at close: so does an allocation under way
	stop    context.CancelFunc
	done    chan struct{}
}

type allocResult struct {
	done bool
	id   uint32
	err  error
}

func newAllocator(reg registry.Registry, log *slog.Logger) *allocator {
	a := &allocator{reg: reg, log: log, results: map[vic.UUID]*allocResult{},
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	a.ctx, a.stop = context.WithCancel(context.Background())
	return a
}

func (a *allocator) start(ready func(vic.UUID)) {
	a.ready = ready
	go a.run()
}

// newVEthID is vic.VISConfig.NewVEthID.
func (a *allocator) newVEthID(n vic.VNIC) (uint32, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r, ok := a.results[n.Instance]; ok {
		if !r.done {
			return 0, vic.ErrIDPending
		}
		delete(a.results, n.Instance)
		return r.id, r.err
	}
	a.results[n.Instance] = &allocResult{}
	a.queue = append(a.queue, registry.Claim{Instance: n.Instance, Config: n})
	select {
	case a.wake <- struct{}{}:
	default:
	}
	return 0, vic.ErrIDPending
}

func (a *allocator) run() {
	defer close(a.done)
	for {
		select {
		case <-a.ctx.Done():
			return
		case <-a.wake:
		}
		for {
			a.mu.Lock()
			claims := a.queue
			a.queue = nil
			a.mu.Unlock()
			if len(claims) == 0 {
				break
			}
			ctx, cancel := context.WithTimeout(a.ctx, 30*time.Second)
			recs, errs := registry.AllocateAll(ctx, a.reg, claims)
			cancel()
			a.mu.Lock()
			for i, c := range claims {
				if errs[i] != nil {
					a.log.Error("vEth registry: allocating an id; VIF-alloc refused", "instance", uuidString(c.Instance), "err", errs[i])
				}
				if r := a.results[c.Instance]; r != nil {
					r.done, r.id, r.err = true, uint32(recs[i].ID), errs[i]
				}
			}
			a.mu.Unlock()
			for _, c := range claims {
				a.ready(c.Instance)
			}
		}
	}
}

func (a *allocator) close() {
	a.stop()
	<-a.done
}

// onRegistry acts on the fleet's events: a vEth taken by another VIS (its
// VM moved) gets its last counts checkpointed and is unbound in the vic
// machine, which tells its IV (VIF-remove), or, a VSI's, ended by the EVB
// plane, which tells its station (De-Associate); a vEth orphaned (its VIS
// died or let go of it) that this VIS serves already (its IV failed over
// here while the dead VIS's lease still held it) is bound to this VIS.
func (d *Daemon) onRegistry(ev registry.Event) {
	id, ok := d.rec.byInstance(ev.Instance)
	if !ok {
		return
	}
	switch ev.Kind {
	case registry.Taken:
		d.log.Info("vEth taken by another VIS (its VM moved)", "veth", id, "vis", ev.Binding.VIS, "interface", ev.Binding.Port)
		if v, ok := d.rec.get(id); ok && v.VSI != nil {
			// A VSI's: the EVB plane ends it with an unsolicited
			// De-Associate to its station here, and its Unbound
			// checkpoints its last counts.
			if d.evb != nil {
				d.evb.Taken(vdp.VSIIDFormat(v.VSI.IDFormat), vdp.VSIID(v.Instance))
			}
			return
		}
		d.rec.checkpointFleet(d.core, id)
		d.plane.Agent().TakeAway(ev.Instance, ev.Binding.Epoch)
	case registry.Orphaned:
		if d.rec.claim(id) {
			d.log.Info("vEth taken over from a VIS that let go of it or died", "veth", id, "vis", ev.Binding.VIS)
		}
	}
}
