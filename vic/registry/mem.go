package registry

import (
	"context"
	"maps"
	"slices"
	"sync"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/vis"
)

// Mem is the in-memory Registry of a VIS that shares its vEths with no
// other: ids count up from 1, and nothing is ever Taken or Orphaned.
type Mem struct {
	mu     sync.Mutex
	name   string
	next   profile.VEthID
	veths  map[vic.UUID]*Record
	closed bool
}

var _ Registry = (*Mem)(nil)

// NewMem returns an empty registry for the VIS called name.
func NewMem(name string) *Mem {
	return &Mem{name: name, veths: map[vic.UUID]*Record{}}
}

// VIS returns the VIS's name.
func (m *Mem) VIS() string { return m.name }

// Allocate creates u's vEth if absent; see Registry.
func (m *Mem) Allocate(_ context.Context, u vic.UUID, c vic.VNIC) (Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return Record{}, ErrClosed
	}
	r := m.veths[u]
	if r == nil {
		m.next++
		c.Instance = u
		r = &Record{ID: m.next, Config: c}
		m.veths[u] = r
	}
	return *r, nil
}

// Get returns u's vEth; see Registry.
func (m *Mem) Get(_ context.Context, u vic.UUID) (Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.find(u)
	if err != nil {
		return Record{}, err
	}
	return *r, nil
}

func (m *Mem) find(u vic.UUID) (*Record, error) {
	if m.closed {
		return nil, ErrClosed
	}
	r := m.veths[u]
	if r == nil {
		return nil, ErrNotFound
	}
	return r, nil
}

// Bind binds u's vEth at b; see Registry.
func (m *Mem) Bind(_ context.Context, u vic.UUID, b Binding) (Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.find(u)
	if err != nil {
		return Record{}, err
	}
	b.VIS = m.name
	r.Binding, r.Held = b, true
	return *r, nil
}

// SetConfig replaces u's configuration; see Registry.
func (m *Mem) SetConfig(_ context.Context, u vic.UUID, c vic.VNIC) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.find(u)
	if err != nil {
		return err
	}
	if !r.Held {
		return ErrNotHeld
	}
	c.Instance = u
	r.Config = c
	return nil
}

// Checkpoint adds delta to u's counters; see Registry.
func (m *Mem) Checkpoint(_ context.Context, u vic.UUID, delta vis.Counters) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.find(u)
	if err != nil {
		return err
	}
	r.Counters = AddCounters(r.Counters, delta)
	return nil
}

// Release unbinds u's vEth; see Registry.
func (m *Mem) Release(_ context.Context, u vic.UUID, delta vis.Counters) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.find(u)
	if err != nil {
		return err
	}
	if !r.Held {
		return ErrNotHeld
	}
	r.Counters = AddCounters(r.Counters, delta)
	r.Binding, r.Held = Binding{}, false
	return nil
}

// Held returns the instances whose vEths are bound, in no order.
func (m *Mem) Held() []vic.UUID {
	m.mu.Lock()
	defer m.mu.Unlock()
	var us []vic.UUID
	for _, u := range slices.Collect(maps.Keys(m.veths)) {
		if m.veths[u].Held {
			us = append(us, u)
		}
	}
	return us
}

// Subscribe never calls fn: no other VIS shares these vEths.
func (m *Mem) Subscribe(func(Event)) func() { return func() {} }

// Close makes every later call fail with ErrClosed.
func (m *Mem) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}
