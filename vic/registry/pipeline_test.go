package registry_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/registry"
	"github.com/nivkit/niv/vic/vis"
)

// TestPipeline: calls queued on a Pipeline are applied in order per
// instance, each result goes to its done function, Flush waits for what
// was queued before it, and after Close calls fail with ErrClosed.
func TestPipeline(t *testing.T) {
	m := registry.NewMem("vis-a")
	ctx := context.Background()
	var us []vic.UUID
	for i := range byte(50) {
		u := vic.UUID{i}
		_, err := m.Allocate(ctx, u, vic.VNIC{Profile: "web"})
		require.NoError(t, err)
		us = append(us, u)
	}
	p := registry.NewPipeline(m, registry.PipelineOptions{Max: 7})
	var mu sync.Mutex
	errs := map[vic.UUID][]error{}
	done := func(u vic.UUID) func(error) {
		return func(err error) { mu.Lock(); errs[u] = append(errs[u], err); mu.Unlock() }
	}
	for _, u := range us {
		c := vic.VNIC{Profile: "web", VLAN: 7}
		p.Queue(registry.Op{Kind: registry.OpBind, Instance: u, Binding: registry.Binding{Port: "eth1/1", VIF: 5}, Config: &c}, done(u))
		p.Queue(registry.Op{Kind: registry.OpCheckpoint, Instance: u, Delta: vis.Counters{RxFrames: 2}}, done(u))
		p.Queue(registry.Op{Kind: registry.OpRelease, Instance: u, Delta: vis.Counters{RxFrames: 3}}, done(u))
		p.Queue(registry.Op{Kind: registry.OpRelease, Instance: u}, done(u))
	}
	p.Flush()
	for _, u := range us {
		r, err := m.Get(ctx, u)
		require.NoError(t, err)
		assert.False(t, r.Held)
		assert.Equal(t, uint16(7), r.Config.VLAN)
		assert.Equal(t, uint64(5), r.Counters.RxFrames)
		mu.Lock()
		got := errs[u]
		mu.Unlock()
		require.Len(t, got, 4)
		assert.NoError(t, got[0])
		assert.NoError(t, got[1])
		assert.NoError(t, got[2])
		assert.ErrorIs(t, got[3], registry.ErrNotHeld, "released already")
	}
	batches, ops := p.Stats()
	assert.Equal(t, 200, ops)
	assert.GreaterOrEqual(t, batches, 200/7)
	p.Close()
	var after error
	p.Queue(registry.Op{Kind: registry.OpCheckpoint, Instance: us[0]}, func(err error) { after = err })
	assert.ErrorIs(t, after, registry.ErrClosed)
}

// stuck is a registry that cannot be reached: every Checkpoint waits
// until its context ends.
type stuck struct{ *registry.Mem }

func (stuck) Checkpoint(ctx context.Context, _ vic.UUID, _ vis.Counters) error {
	<-ctx.Done()
	return ctx.Err()
}

// TestPipelineCloseUnreachable: Close on a registry that cannot be
// reached gives what is queued one Apply timeout in all, not one per
// batch: every op left fails with the deadline and Close returns.
func TestPipelineCloseUnreachable(t *testing.T) {
	p := registry.NewPipeline(stuck{registry.NewMem("vis-a")}, registry.PipelineOptions{Max: 1, Timeout: 300 * time.Millisecond})
	var mu sync.Mutex
	var errs []error
	for i := range byte(40) {
		p.Queue(registry.Op{Kind: registry.OpCheckpoint, Instance: vic.UUID{i}}, func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() })
	}
	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second): // 40 batches × 300 ms would be 12 s; one bound is 300 ms
		t.Fatal("Close did not return")
	}
	require.Len(t, errs, 40)
	for _, err := range errs {
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	}
}
