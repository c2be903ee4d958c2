package registry_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/registry"
	"github.com/nivkit/niv/vic/vis"
)

// TestMem: create if absent keeps the first id and config; counters add
// up over checkpoints and the release; a released vEth binds again with
// its id and counters.
func TestMem(t *testing.T) {
	ctx := context.Background()
	m := registry.NewMem("vis-a")
	u1, u2 := vic.UUID{1}, vic.UUID{2}
	r1, err := m.Allocate(ctx, u1, vic.VNIC{Profile: "web", Epoch: 1})
	require.NoError(t, err)
	r2, err := m.Allocate(ctx, u2, vic.VNIC{Profile: "db", Epoch: 1})
	require.NoError(t, err)
	again, err := m.Allocate(ctx, u1, vic.VNIC{Profile: "other"})
	require.NoError(t, err)
	assert.NotEqual(t, r1.ID, r2.ID)
	assert.Equal(t, r1.ID, again.ID)
	assert.Equal(t, "web", again.Config.Profile)
	assert.Equal(t, u1, again.Config.Instance)

	assert.ErrorIs(t, m.SetConfig(ctx, u1, vic.VNIC{}), registry.ErrNotHeld)
	b, err := m.Bind(ctx, u1, registry.Binding{Port: "iv0", VIF: 5, Epoch: 1})
	require.NoError(t, err)
	assert.True(t, b.Held)
	assert.Equal(t, "vis-a", b.Binding.VIS)
	assert.Equal(t, []vic.UUID{u1}, m.Held())

	require.NoError(t, m.Checkpoint(ctx, u1, vis.Counters{RxFrames: 10, RxBytes: 600}))
	require.NoError(t, m.Release(ctx, u1, vis.Counters{RxFrames: 2, RxBytes: 120}))
	assert.ErrorIs(t, m.Release(ctx, u1, vis.Counters{}), registry.ErrNotHeld)
	r, err := m.Bind(ctx, u1, registry.Binding{Port: "iv1", VIF: 9, Epoch: 2})
	require.NoError(t, err)
	assert.Equal(t, r1.ID, r.ID)
	assert.Equal(t, uint64(12), r.Counters.RxFrames)
	assert.Equal(t, uint64(720), r.Counters.RxBytes)

	_, err = m.Get(ctx, vic.UUID{3})
	assert.ErrorIs(t, err, registry.ErrNotFound)
	require.NoError(t, m.Close())
	_, err = m.Get(ctx, u1)
	assert.ErrorIs(t, err, registry.ErrClosed)
}

func TestCounterArithmetic(t *testing.T) {
	a := vis.Counters{RxFrames: 5, TxBytes: 9}
	a.Drops[vis.DropVLAN] = 3
	b := vis.Counters{RxFrames: 2, TxBytes: 4}
	b.Drops[vis.DropVLAN] = 1
	assert.Equal(t, a, registry.AddCounters(registry.SubCounters(a, b), b))
}
