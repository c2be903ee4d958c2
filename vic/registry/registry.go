// Package registry is the vEth registry: where a VIS records each vEth it
// serves — its fleet-wide id, its configuration, where it is bound and its
// counter checkpoints — keyed by the VM instance UUID, so that a vEth
// keeps its id, configuration and counters when its VM moves to a host
// behind another VIS, or when its VIS dies and another takes over (the
// Nexus 1000V's vEth, which belongs to the VM, not to a host).
//
// Registry is the interface; Mem is the in-memory one for a single VIS.
// The fleet's shared one, on etcd, is
// github.com/nivkit/niv/etcdstore.Registry (a nested module).
package registry

import (
	"context"
	"errors"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

// Errors of a Registry, for errors.Is.
var (
	// ErrNotFound: no vEth for that instance.
	ErrNotFound = errors.New("registry: no such vEth")
	// ErrHeld: another live VIS holds the vEth at the same or a newer
	// placement epoch.
	ErrHeld = errors.New("registry: vEth held by another VIS")
	// ErrNotHeld: this VIS does not hold the vEth.
	ErrNotHeld = errors.New("registry: vEth not held by this VIS")
	// ErrClosed: the registry was closed.
	ErrClosed = errors.New("registry: closed")
)

// Binding says where a vEth is bound: which VIS, which of its IV ports
// and which VIF (VNTag svif_id or E-Tag E-CID), at which placement epoch
// (vic.VNIC.Epoch).
type Binding struct {
	VIS   string    `json:"vis"`
	Port  string    `json:"port"`
	VIF   vntag.VIF `json:"vif"`
	Epoch uint32    `json:"epoch"`
}

// Record is everything the registry holds about one vEth.
type Record struct {
	ID profile.VEthID `json:"id"`
	// Config is the vNIC as its IV last announced it (MAC, port-profile,
	// VLAN, epoch, link state).
	Config vic.VNIC `json:"config"`
	// Binding is where it is bound; Held is false when no live VIS holds
	// it (never bound, released, or its VIS died), and Binding then is
	// the zero value.
	Binding Binding `json:"-"`
	Held    bool    `json:"-"`
	// Counters is the sum of every checkpoint of every VIS that held it.
	// The frames a VIS counted after its last checkpoint are lost if it
	// dies; nothing is counted twice.
	Counters vis.Counters `json:"-"`
}

// EventKind says what happened to a vEth.
type EventKind uint8

const (
	// Taken: another VIS bound a vEth this VIS holds (the VM moved). This
	// VIS no longer holds it: it should remove the vEth from its data
	// path and Checkpoint what it counted since its last checkpoint.
	Taken EventKind = iota + 1
	// Orphaned: a vEth's holder released it or died (its lease expired).
	// Another VIS serving the same IVs may Bind it.
	Orphaned
)

// Event is one change of a vEth's binding that a VIS must act on.
type Event struct {
	Kind     EventKind
	Instance vic.UUID
	// Binding is the new holder's binding (Taken), or the last one
	// (Orphaned).
	Binding Binding
}

// Registry is the vEth registry of one VIS. Its methods are safe for
// concurrent use.
type Registry interface {
	// VIS returns the name of the VIS this registry binds for.
	VIS() string
	// Allocate returns the vEth of instance u, creating it with a new
	// fleet-wide id and configuration c if there is none (create if
	// absent). An existing vEth keeps its id and configuration.
	Allocate(ctx context.Context, u vic.UUID, c vic.VNIC) (Record, error)
	// Get returns the vEth of instance u, or ErrNotFound.
	Get(ctx context.Context, u vic.UUID) (Record, error)
	// Bind makes this VIS the holder of u's vEth at b (b.VIS is set to
	// VIS()), and returns its record. A vEth held by another VIS is taken
	// only with a newer epoch (migration); else ErrHeld. An unheld vEth
	// (its VIS died) is taken at any epoch.
	Bind(ctx context.Context, u vic.UUID, b Binding) (Record, error)
	// SetConfig replaces the configuration of a vEth this VIS holds.
	SetConfig(ctx context.Context, u vic.UUID, c vic.VNIC) error
	// Checkpoint adds delta, what this VIS counted on u's vEth since its
	// last checkpoint, to the stored counters. It works whether or not
	// this VIS still holds the vEth, so that nothing counted is lost on a
	// migration.
	Checkpoint(ctx context.Context, u vic.UUID, delta vis.Counters) error
	// Release gives up a vEth this VIS holds after adding delta to its
	// counters; ErrNotHeld if it does not hold it.
	Release(ctx context.Context, u vic.UUID, delta vis.Counters) error
	// Held returns the instances this VIS holds.
	Held() []vic.UUID
	// Subscribe calls fn for every Event from now on, one at a time; the
	// returned function stops it.
	Subscribe(fn func(Event)) (cancel func())
	// Close stops the registry. A shared registry's bindings are not
	// released: they expire as if the VIS had died, unless it comes back
	// in time.
	Close() error
}

// AddCounters returns a + b, field by field.
func AddCounters(a, b vis.Counters) vis.Counters {
	a.RxFrames += b.RxFrames
	a.RxBytes += b.RxBytes
	a.TxFrames += b.TxFrames
	a.TxBytes += b.TxBytes
	for i := range a.Drops {
		a.Drops[i] += b.Drops[i]
	}
	a.LearnRefused += b.LearnRefused
	return a
}

// SubCounters returns a - b, field by field: the delta since checkpoint b
// of counters a that only grow.
func SubCounters(a, b vis.Counters) vis.Counters {
	a.RxFrames -= b.RxFrames
	a.RxBytes -= b.RxBytes
	a.TxFrames -= b.TxFrames
	a.TxBytes -= b.TxBytes
	for i := range a.Drops {
		a.Drops[i] -= b.Drops[i]
	}
	a.LearnRefused -= b.LearnRefused
	return a
}
