package etcdstore_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/nivkit/niv/etcdstore"
	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/registry"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

const twoProfiles = webProfile + "port-profile db\n  switchport access vlan 20\n  state enabled\n"

func configure(t *testing.T, m *member, text string) {
	t.Helper()
	_, err := m.profiles.Update(func(tx *profile.Txn) error { return tx.Configure(text) })
	require.NoError(t, err)
}

// TestIDsAcrossTheFleet: two VISes allocate vEths at once; every id is
// unique across both, and an instance announced to both gets one vEth.
func TestIDsAcrossTheFleet(t *testing.T) {
	c := startEtcd(t, 1)
	a := newMember(t, "vis-a", c.Endpoints(), 2*time.Second)
	b := newMember(t, "vis-b", c.Endpoints(), 2*time.Second)
	ctx := context.Background()
	ids := map[profile.VEthID]vic.UUID{}
	got := make(chan registry.Record, 400)
	for _, m := range []*member{a, b} {
		go func() {
			for i := range 200 {
				r, err := m.reg.Allocate(ctx, uuid(byte(i%100)+1), vnic(byte(i%100)+1, "web", 1))
				if err != nil {
					t.Error(err)
				}
				got <- r
			}
		}()
	}
	for range 400 {
		r := <-got
		if u, ok := ids[r.ID]; ok {
			assert.Equal(t, u, r.Config.Instance, "id %d given to two instances", r.ID)
		}
		ids[r.ID] = r.Config.Instance
	}
	assert.Len(t, ids, 100, "100 instances, 100 vEths")
}

// TestTakeoverAfterDeath: VIS A serves three vEths and checkpoints their
// counters; it is killed (its client closed, its lease not revoked). When
// the lease expires, VIS B, serving the same IVs, binds them again: same
// ids, same configuration, the counters A checkpointed, and B forwards
// their frames under their profiles.
func TestTakeoverAfterDeath(t *testing.T) {
	c := startEtcd(t, 1)
	a := newMember(t, "vis-a", c.Endpoints(), 2*time.Second)
	b := newMember(t, "vis-b", c.Endpoints(), 2*time.Second)
	configure(t, a, twoProfiles)
	recs := map[vic.UUID]registry.Record{}
	vifs := map[vic.UUID]vntag.VIF{}
	for i, p := range []string{"web", "web", "db"} {
		u := uuid(byte(i + 1))
		vifs[u] = vntag.VIF(10 + i)
		recs[u] = a.attach(u, vnic(byte(i+1), p, 1), vifs[u])
	}
	require.Equal(t, 5, a.broadcast(10, 1, 5)) // each reaches vEth 2 (same VLAN)
	a.broadcast(12, 3, 2)
	a.checkpoint()
	a.broadcast(10, 1, 1) // not checkpointed: lost with A

	b.mu.Lock()
	b.takeOver = true
	b.mu.Unlock()
	died := time.Now()
	a.kill()
	for u := range recs {
		eventually(t, "B takes over "+u.String(), func() bool { _, ok := b.serving(u); return ok })
	}
	t.Logf("takeover of 3 vEths %v after the kill (TTL 2 s)", time.Since(died).Round(time.Millisecond))
	for u, want := range recs {
		l, _ := b.serving(u)
		assert.Equal(t, want.ID, l.rec.ID, "same vEth id")
		assert.Equal(t, want.Config, l.rec.Config, "same configuration")
		assert.Equal(t, vifs[u], l.vif, "same VIF")
		assert.Equal(t, "vis-b", l.rec.Binding.VIS)
	}
	assert.Equal(t, uint64(5), getRec(t, b, uuid(1)).Counters.RxFrames)
	assert.Equal(t, uint64(2), getRec(t, b, uuid(3)).Counters.RxFrames)
	// B forwards under the profiles: 1 and 2 share VLAN 10, 3 is alone
	// in VLAN 20.
	assert.Equal(t, 1, b.broadcast(10, 1, 1))
	assert.Equal(t, 0, b.broadcast(12, 3, 1))
	l, _ := b.serving(uuid(1))
	assert.Equal(t, uint16(10), b.profiles.Snapshot().Policy(l.rec.ID).Settings().AccessVLAN)
}

func getRec(t *testing.T, m *member, u vic.UUID) registry.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := m.reg.Get(ctx, u)
	require.NoError(t, err)
	return r
}

// TestMigrationCarriesCounters: the VM moves from a host behind VIS A to
// one behind VIS B (epoch 2). B's bind takes the vEth; A is told, adds
// what it counted since its last checkpoint and lets it go. The vEth
// keeps its id and configuration, and the registry's counters are A's and
// B's together, none lost, none twice. A bind at an epoch that is not
// newer is refused while A lives.
func TestMigrationCarriesCounters(t *testing.T) {
	c := startEtcd(t, 1)
	a := newMember(t, "vis-a", c.Endpoints(), 5*time.Second)
	b := newMember(t, "vis-b", c.Endpoints(), 5*time.Second)
	configure(t, a, twoProfiles)
	u := uuid(1)
	before := a.attach(u, vnic(1, "web", 1), 10)
	a.broadcast(10, 1, 10)
	a.checkpoint()
	a.broadcast(10, 1, 5) // counted by A, not yet checkpointed

	ctx := context.Background()
	_, err := b.reg.Bind(ctx, u, registry.Binding{Port: "iv0", VIF: 30, Epoch: 1})
	require.ErrorIs(t, err, registry.ErrHeld)

	after := b.attach(u, vnic(1, "web", 2), 30)
	assert.Equal(t, before.ID, after.ID)
	assert.Equal(t, "web", after.Config.Profile)
	assert.Equal(t, before.Config.MAC, after.Config.MAC)
	eventually(t, "A lets the vEth go", func() bool { _, ok := a.serving(u); return !ok })
	_, stillThere := a.vis.Counters(before.ID)
	assert.False(t, stillThere, "A removed the vEth from its data path")
	b.broadcast(30, 1, 7)
	b.checkpoint()
	total := getRec(t, b, u).Counters
	assert.Equal(t, uint64(22), total.RxFrames, "10 + 5 on A, 7 on B")
	assert.Equal(t, uint64(22*60), total.RxBytes)
	assert.Equal(t, []vic.UUID{u}, b.reg.Held())
	assert.Empty(t, a.reg.Held())
	// A clean release: B gives it up with its last counts.
	b.broadcast(30, 1, 1)
	require.NoError(t, b.reg.Release(ctx, u, vis.Counters{RxFrames: 1, RxBytes: 60}))
	r := getRec(t, a, u)
	assert.False(t, r.Held)
	assert.Equal(t, uint64(23), r.Counters.RxFrames)
	assert.True(t, errors.Is(b.reg.Release(ctx, u, vis.Counters{}), registry.ErrNotHeld))
}

// TestPartitionedVIS: VIS P reaches etcd through a TCP proxy, which is
// cut for longer than P's lease. Meanwhile a manager shuts port-profile
// web and the VM of one of P's vEths moves to VIS Q. Cut off, P keeps
// forwarding with the policies it had. When the link returns P
// reconciles: its vEths get the new policy (shut: frames dropped), it
// takes a new lease and binds again what it still holds, and it lets go
// of the vEth Q took.
func TestPartitionedVIS(t *testing.T) {
	c := startEtcd(t, 1)
	proxy, err := newProxy(c.Endpoints()[0])
	require.NoError(t, err)
	t.Cleanup(proxy.Close)
	p := newMember(t, "vis-p", []string{proxy.URL()}, 2*time.Second)
	q := newMember(t, "vis-q", c.Endpoints(), 2*time.Second)
	configure(t, q, twoProfiles)
	eventually(t, "P has the profiles", func() bool { _, ok := p.profiles.Snapshot().Config.Profiles["db"]; return ok })
	stay := p.attach(uuid(1), vnic(1, "web", 1), 10)
	p.attach(uuid(2), vnic(2, "web", 1), 11)
	moving := p.attach(uuid(3), vnic(3, "web", 1), 12)
	require.Equal(t, 1, p.broadcast(10, 1, 1))

	proxy.Cut()
	configure(t, q, "port-profile web\n  shutdown\n")
	q.attach(uuid(3), vnic(3, "web", 2), 40)
	time.Sleep(3500 * time.Millisecond) // past P's 2 s lease
	r := getRec(t, q, uuid(1))
	assert.False(t, r.Held, "P's lease expired: its binding is gone")
	assert.Equal(t, 1, p.broadcast(10, 1, 1), "cut off, P forwards with its last policy")
	assert.Equal(t, uint64(0), p.counters(stay.ID).Drops[vis.DropShutdown])

	require.NoError(t, proxy.Restore())
	eventually(t, "P applies the shutdown", func() bool { return p.broadcast(10, 1, 1) == 0 })
	assert.NotZero(t, p.counters(stay.ID).Drops[vis.DropShutdown])
	eventually(t, "P binds its vEths again on a new lease", func() bool {
		_, n := p.reg.Lease()
		return n == 2 && getRec(t, q, uuid(1)).Held && getRec(t, q, uuid(2)).Held
	})
	assert.Equal(t, "vis-p", getRec(t, q, uuid(1)).Binding.VIS)
	eventually(t, "P lets go of the vEth Q took", func() bool { _, ok := p.serving(uuid(3)); return !ok })
	assert.Equal(t, []vic.UUID{uuid(1), uuid(2)}, p.reg.Held())
	r = getRec(t, q, uuid(3))
	assert.Equal(t, "vis-q", r.Binding.VIS)
	assert.Equal(t, moving.ID, r.ID)
}

// TestBindAll: 100 claims, some for vEths that exist unbound, one held by
// another VIS at an older epoch (migration) and one at the same epoch
// (refused); the rest are created. Ids are unique, existing vEths keep
// theirs, and every binding is this VIS's.
func TestBindAll(t *testing.T) {
	c := startEtcd(t, 1)
	a := newMember(t, "vis-a", c.Endpoints(), 5*time.Second)
	b := newMember(t, "vis-b", c.Endpoints(), 5*time.Second)
	ctx := context.Background()
	old := map[vic.UUID]registry.Record{}
	for i := range 10 {
		r, err := b.reg.Allocate(ctx, uuid(byte(i)), vnic(byte(i), "web", 1))
		require.NoError(t, err)
		old[uuid(byte(i))] = r
	}
	_, err := b.reg.Bind(ctx, uuid(3), registry.Binding{Port: "iv0", VIF: 3, Epoch: 1})
	require.NoError(t, err)
	_, err = b.reg.Bind(ctx, uuid(4), registry.Binding{Port: "iv0", VIF: 4, Epoch: 2})
	require.NoError(t, err)
	var claims []etcdstore.Claim
	for i := range 100 {
		if i == 4 {
			continue
		}
		claims = append(claims, etcdstore.Claim{Instance: uuid(byte(i)), Config: vnic(byte(i), "db", 2),
			Binding: registry.Binding{Port: "iv0", VIF: vntag.VIF(i + 1), Epoch: 2}})
	}
	recs, err := a.reg.BindAll(ctx, claims)
	require.NoError(t, err)
	ids := map[profile.VEthID]bool{}
	for i, r := range recs {
		u := claims[i].Instance
		assert.False(t, ids[r.ID], "id %d twice", r.ID)
		ids[r.ID] = true
		if o, ok := old[u]; ok {
			assert.Equal(t, o.ID, r.ID)
			assert.Equal(t, "web", r.Config.Profile, "an existing vEth keeps its configuration")
		} else {
			assert.Equal(t, "db", r.Config.Profile)
		}
		got := getRec(t, a, u)
		assert.Equal(t, "vis-a", got.Binding.VIS)
		assert.Equal(t, r.ID, got.ID)
	}
	assert.Len(t, a.reg.Held(), 99)
	_, err = a.reg.BindAll(ctx, []etcdstore.Claim{{Instance: uuid(4), Config: vnic(4, "web", 2), Binding: registry.Binding{Port: "iv0", VIF: 5, Epoch: 2}}})
	assert.ErrorIs(t, err, registry.ErrHeld)
	eventually(t, "B lets go of uuid(3)", func() bool { return len(b.reg.Held()) == 1 })
}

// TestLeaseLost: a VIS's lease is revoked under it (as when it was
// starved or cut off past its TTL). Its bindings go; it takes a new lease,
// binds again what it holds, and a Bind made with the lost lease is
// retried on the new one.
func TestLeaseLost(t *testing.T) {
	c := startEtcd(t, 1)
	a := newMember(t, "vis-a", c.Endpoints(), 5*time.Second)
	configure(t, a, twoProfiles)
	a.attach(uuid(1), vnic(1, "web", 1), 10)
	lease, n := a.reg.Lease()
	require.Equal(t, 1, n)
	ctx := context.Background()
	_, err := client(t, c.Endpoints()...).Revoke(ctx, lease)
	require.NoError(t, err)
	r, err := a.reg.Allocate(ctx, uuid(2), vnic(2, "web", 1))
	require.NoError(t, err)
	_, err = a.reg.Bind(ctx, uuid(2), registry.Binding{Port: "iv0", VIF: 11, Epoch: 1})
	require.NoError(t, err)
	now, n := a.reg.Lease()
	assert.Equal(t, 2, n)
	assert.NotEqual(t, lease, now)
	eventually(t, "both bound on the new lease", func() bool {
		return getRec(t, a, uuid(1)).Held && getRec(t, a, uuid(2)).Held
	})
	assert.Equal(t, r.ID, getRec(t, a, uuid(2)).ID)
	resp, err := client(t, c.Endpoints()...).TimeToLive(ctx, now, clientv3.WithAttachedKeys())
	require.NoError(t, err)
	var keys []string
	for _, k := range resp.Keys {
		keys = append(keys, strings.TrimPrefix(string(k), "/niv/veth/")[:4])
	}
	slices.Sort(keys)
	assert.Equal(t, []string{"bind", "bind", "use/", "use/"}, keys, "each vEth's binding and its count against its profile")
}
