package profile

import (
	"slices"
	"sync"
)

// MemStore is the in-memory Store. It is safe for concurrent use; commits
// are serialised, and batches are delivered in revision order.
type MemStore struct {
	mu     sync.Mutex
	state  *State
	subs   map[int]func(Batch)
	nextID int
}

var _ Store = (*MemStore)(nil)

// NewMemStore returns an empty store at revision 0.
func NewMemStore() *MemStore {
	return &MemStore{state: EmptyState(), subs: map[int]func(Batch){}}
}

// Snapshot returns the committed state; it must not be modified.
func (s *MemStore) Snapshot() *State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Update runs edit in a transaction and commits it; see Store.
func (s *MemStore) Update(edit func(*Txn) error) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := NewTxn(s.state)
	if err := edit(t); err != nil {
		return 0, err
	}
	next, batch, err := t.Prepare()
	if err != nil {
		return 0, err
	}
	s.state = next
	for _, id := range s.subIDs() {
		s.subs[id](batch)
	}
	return next.Revision, nil
}

// Subscribe registers fn; see Store.
func (s *MemStore) Subscribe(fn func(Batch)) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextID
	s.nextID++
	s.subs[id] = fn
	b := Batch{Revision: s.state.Revision}
	for v := range s.state.Bindings {
		b.Updates = append(b.Updates, Update{VEth: v, Policy: s.state.Policy(v)})
	}
	slices.SortFunc(b.Updates, func(x, y Update) int { return cmpU32(uint32(x.VEth), uint32(y.VEth)) })
	fn(b)
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.subs, id)
	}
}

func (s *MemStore) subIDs() []int {
	ids := make([]int, 0, len(s.subs))
	for id := range s.subs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
