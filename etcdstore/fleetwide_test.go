package etcdstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/etcdstore"
	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/registry"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

const limitedProfile = "port-profile web\n  switchport access vlan 10\n  max-ports 5\n  state enabled\n"

// TestMaxPortsAcrossTheFleet: a profile with max-ports 5 has 3 vEths on
// VIS A; then A and B race, 10 new vEths each at once, for the last 2
// ports. Exactly 2 win, across both; the others get ErrProfileFull and no
// record. A vEth already counted is not refused again; a release frees
// its port, and so does a VIS's death when its lease expires.
func TestMaxPortsAcrossTheFleet(t *testing.T) {
	c := startEtcd(t, 1)
	a := newMember(t, "vis-a", c.Endpoints(), 2*time.Second)
	b := newMember(t, "vis-b", c.Endpoints(), 2*time.Second)
	configure(t, a, limitedProfile)
	eventually(t, "B sees max-ports 5", func() bool { return b.profiles.MaxPorts("web") == 5 })
	for i := range byte(3) {
		a.attach(uuid(1+i), vnic(1+i, "web", 1), vntag.VIF(10+i))
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := map[vic.UUID]bool{}
	full := 0
	for k, m := range []*member{a, b} {
		for i := range byte(10) {
			u := uuid(100 + byte(k)*20 + i)
			wg.Go(func() {
				_, err := m.reg.Allocate(ctx, u, vnic(u[3], "web", 1))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won[u] = true
				case errors.Is(err, registry.ErrProfileFull):
					full++
				default:
					t.Errorf("%v: %v", u, err)
				}
			})
		}
	}
	wg.Wait()
	assert.Len(t, won, 2, "the last 2 ports, across the fleet")
	assert.Equal(t, 18, full)
	for k := range 2 {
		for i := range byte(10) {
			u := uuid(100 + byte(k)*20 + i)
			if !won[u] {
				_, err := a.reg.Get(ctx, u)
				assert.ErrorIs(t, err, registry.ErrNotFound, "a refused vEth gets no record")
			}
		}
	}
	_, err := b.reg.Allocate(ctx, uuid(1), vnic(1, "web", 2))
	assert.NoError(t, err, "a vEth counted already (bound on A) is not refused")
	_, err = b.reg.Allocate(ctx, uuid(90), vnic(90, "web", 1))
	assert.ErrorIs(t, err, registry.ErrProfileFull)

	// A releases one: B gets its port.
	require.NoError(t, a.reg.Release(ctx, uuid(1), vis.Counters{}))
	_, err = b.reg.Allocate(ctx, uuid(90), vnic(90, "web", 1))
	assert.NoError(t, err)
	_, err = b.reg.Allocate(ctx, uuid(91), vnic(91, "web", 1))
	assert.ErrorIs(t, err, registry.ErrProfileFull)

	// A dies: its 2 bound vEths' ports are free once its lease expires
	// (and its allocated-but-unbound winners', on the same lease).
	a.kill()
	eventually(t, "A's ports freed by its lease", func() bool {
		_, err := b.reg.Allocate(ctx, uuid(91), vnic(91, "web", 1))
		return err == nil
	})
}

// TestProfileInUseAcrossTheFleet: a manager on VIS B, which has no vEth
// of its own, may not delete or disable a profile that a vEth on VIS A is
// bound to; it may once A let the vEth go. An unused profile may be
// disabled at any time.
func TestProfileInUseAcrossTheFleet(t *testing.T) {
	c := startEtcd(t, 1)
	a := newMember(t, "vis-a", c.Endpoints(), 5*time.Second)
	b := newMember(t, "vis-b", c.Endpoints(), 5*time.Second)
	configure(t, a, twoProfiles)
	a.attach(uuid(1), vnic(1, "web", 1), 10)
	eventually(t, "B has the profiles", func() bool { return b.profiles.MaxPorts("db") != 0 })
	before := b.profiles.Snapshot().Config.Text()
	for _, edit := range []string{"no port-profile web\n", "port-profile web\n  no state enabled\n"} {
		_, err := b.profiles.Update(func(tx *profile.Txn) error { return tx.Configure(edit) })
		require.ErrorIs(t, err, profile.ErrInUse, "%q", edit)
		assert.Contains(t, err.Error(), "1 vEths of the fleet are bound to it")
		assert.Equal(t, before, b.profiles.Snapshot().Config.Text(), "nothing committed")
	}
	configure(t, b, "port-profile db\n  no state enabled\n")

	require.NoError(t, a.reg.Release(context.Background(), uuid(1), vis.Counters{}))
	configure(t, b, "no port-profile web\n")
	eventually(t, "A has the edit", func() bool { _, ok := a.profiles.Snapshot().Config.Profiles["web"]; return !ok })
}

// TestApplyBatches: one Apply of 300 ops on 100 vEths (a configuration,
// a checkpoint and, for half of them, a release each) does what the 300
// calls would, in order per vEth; a release of a vEth not held is
// ErrNotHeld and counts nothing.
func TestApplyBatches(t *testing.T) {
	c := startEtcd(t, 1)
	a := newMember(t, "vis-a", c.Endpoints(), 5*time.Second)
	configure(t, a, twoProfiles+"port-profile many\n  switchport access vlan 30\n  max-ports 1024\n  state enabled\n")
	ctx := context.Background()
	var claims []etcdstore.Claim
	for i := range byte(100) {
		claims = append(claims, etcdstore.Claim{Instance: uuid(i), Config: vnic(i, "many", 1), Binding: registry.Binding{Port: "iv0", VIF: vntag.VIF(i) + 1, Epoch: 1}})
	}
	_, err := a.reg.BindAll(ctx, claims)
	require.NoError(t, err)
	var ops []registry.Op
	for i := range byte(100) {
		cfg := vnic(i, "many", 1)
		cfg.VLAN = 7
		ops = append(ops, registry.Op{Kind: registry.OpSetConfig, Instance: uuid(i), Config: &cfg},
			registry.Op{Kind: registry.OpCheckpoint, Instance: uuid(i), Delta: vis.Counters{RxFrames: uint64(i)}})
		if i%2 == 0 {
			ops = append(ops, registry.Op{Kind: registry.OpRelease, Instance: uuid(i), Delta: vis.Counters{RxFrames: 1000}})
		}
	}
	for i, err := range a.reg.Apply(ctx, ops) {
		require.NoError(t, err, "op %d", i)
	}
	for i := range byte(100) {
		r := getRec(t, a, uuid(i))
		assert.Equal(t, uint16(7), r.Config.VLAN)
		want := uint64(i)
		if i%2 == 0 {
			want += 1000
		}
		assert.Equal(t, want, r.Counters.RxFrames)
		assert.Equal(t, i%2 == 1, r.Held)
	}
	assert.Len(t, a.reg.Held(), 50)
	errs := a.reg.Apply(ctx, []registry.Op{{Kind: registry.OpRelease, Instance: uuid(0), Delta: vis.Counters{RxFrames: 1}}})
	assert.ErrorIs(t, errs[0], registry.ErrNotHeld)
	assert.Equal(t, uint64(1000), getRec(t, a, uuid(0)).Counters.RxFrames)

	// A checkpoint of nothing writes nothing.
	key := "/niv/veth/count/" + uuid(1).String()
	before, err := a.cli.Get(ctx, key)
	require.NoError(t, err)
	require.NoError(t, a.reg.Apply(ctx, []registry.Op{{Kind: registry.OpCheckpoint, Instance: uuid(1)}})[0])
	after, err := a.cli.Get(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, before.Kvs[0].ModRevision, after.Kvs[0].ModRevision)
}
