package visd

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nivkit/niv/profile"
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

// fleetTimeout bounds each registry call made while the VIS machine
// waits for it.
const fleetTimeout = 5 * time.Second

// allocID is vic.VISConfig.NewVEthID with a fleet: the instance's
// fleet-wide id, created if absent.
func (d *Daemon) allocID(n vic.VNIC) (uint32, error) {
	ctx, cancel := context.WithTimeout(context.Background(), fleetTimeout)
	defer cancel()
	rec, err := d.fleet.Registry.Allocate(ctx, n.Instance, n)
	if err != nil {
		d.log.Error("vEth registry: allocating an id; VIF-alloc refused", "instance", uuidString(n.Instance), "err", err)
		return 0, err
	}
	return uint32(rec.ID), nil
}

// onRegistry acts on the fleet's events: a vEth taken by another VIS (its
// VM moved) gets its last counts checkpointed and is unbound in the vic
// machine, which tells its IV (VIF-remove); a vEth orphaned (its VIS
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
		d.rec.checkpointFleet(d.core, id)
		d.plane.Agent().TakeAway(ev.Instance, ev.Binding.Epoch)
	case registry.Orphaned:
		if d.rec.claim(id) {
			d.log.Info("vEth taken over from a VIS that let go of it or died", "veth", id, "vis", ev.Binding.VIS)
		}
	}
}
