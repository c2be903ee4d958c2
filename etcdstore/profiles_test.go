package etcdstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/etcdstore"
	"github.com/nivkit/niv/profile"
)

const webProfile = "port-profile web\n  switchport access vlan 10\n  state enabled\n"

// TestConcurrentManagers: two managers, each with its own client, commit
// 25 edits each at the same time. Every edit of both is in the final
// configuration (none lost), each manager retried when it lost a race,
// and a VIS following the store ends with both managers' last word.
func TestConcurrentManagers(t *testing.T) {
	c := startEtcd(t, 1)
	a := openProfiles(t, client(t, c.Endpoints()...), 1000)
	b := openProfiles(t, client(t, c.Endpoints()...), 1000)
	visStore := openProfiles(t, client(t, c.Endpoints()...), 8)
	_, err := visStore.Update(func(tx *profile.Txn) error {
		tx.Bind(1, "web")
		return tx.Configure(webProfile)
	})
	require.NoError(t, err)
	var policy sync.Map
	visStore.Subscribe(func(b profile.Batch) {
		for _, u := range b.Updates {
			if u.Policy != nil {
				policy.Store(u.VEth, u.Policy.Settings().AccessVLAN)
			}
		}
	})

	const edits = 25
	runs := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, m := range []struct {
		name  string
		store *etcdstore.Profiles
	}{{"a", a}, {"b", b}} {
		wg.Go(func() {
			for i := range edits {
				_, err := m.store.Update(func(tx *profile.Txn) error {
					mu.Lock()
					runs[m.name]++
					mu.Unlock()
					// Each manager adds its own profile and moves web's
					// VLAN: the edits overlap on one profile.
					return tx.Configure(fmt.Sprintf("port-profile %s%d\n  switchport access vlan %d\n  state enabled\nport-profile web\n  switchport access vlan %d\n",
						m.name, i, 100+i, 200+i))
				})
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	ctx := context.Background()
	fresh := openProfiles(t, client(t, c.Endpoints()...), 0)
	cfg := fresh.Snapshot().Config
	for _, name := range []string{"a", "b"} {
		for i := range edits {
			p, ok := cfg.Profiles[fmt.Sprintf("%s%d", name, i)]
			if assert.True(t, ok, "edit %s%d lost", name, i) {
				assert.Equal(t, uint16(100+i), p.AccessVLAN)
			}
		}
	}
	t.Logf("edit runs: a %d, b %d for %d commits each", runs["a"], runs["b"], edits)
	assert.Greater(t, runs["a"]+runs["b"], 2*edits, "the managers never raced; the test proves nothing")
	web := cfg.Profiles["web"].AccessVLAN
	assert.Equal(t, uint16(200+edits-1), web)
	eventually(t, "the VIS follows the last edit", func() bool {
		v, _ := policy.Load(profile.VEthID(1))
		return v == web
	})
	_ = ctx
}

// TestConflictReported: with no retries, an edit whose configuration
// another manager replaced while it ran fails with ErrConflict and commits
// nothing; with one retry it runs again on the newer configuration and
// both edits stand.
func TestConflictReported(t *testing.T) {
	c := startEtcd(t, 1)
	a := openProfiles(t, client(t, c.Endpoints()...), 0)
	b := openProfiles(t, client(t, c.Endpoints()...), 0)
	_, err := a.Update(func(tx *profile.Txn) error { return tx.Configure(webProfile) })
	require.NoError(t, err)
	eventually(t, "b sees web", func() bool { _, ok := b.Snapshot().Config.Profiles["web"]; return ok })

	// b's edit starts, a commits, then b tries to commit.
	racing := func(tx *profile.Txn) error {
		if _, ok := tx.Config().Profiles["db"]; !ok {
			_, err := a.Update(func(tx *profile.Txn) error {
				return tx.Configure("port-profile db\n  switchport access vlan 30\n  state enabled\n")
			})
			require.NoError(t, err)
		}
		return tx.Configure("port-profile web\n  switchport access vlan 11\n")
	}
	_, err = b.Update(racing)
	require.ErrorIs(t, err, etcdstore.ErrConflict)
	// b now holds a's configuration, and its own edit is not in it.
	assert.Contains(t, b.Snapshot().Config.Profiles, "db")
	assert.Equal(t, uint16(10), b.Snapshot().Config.Profiles["web"].AccessVLAN)

	retrying := openProfiles(t, client(t, c.Endpoints()...), 1)
	eventually(t, "the third manager sees db", func() bool { _, ok := retrying.Snapshot().Config.Profiles["db"]; return ok })
	n := 0
	_, err = retrying.Update(func(tx *profile.Txn) error {
		n++
		if n == 1 {
			_, err := a.Update(func(tx *profile.Txn) error {
				return tx.Configure("port-profile app\n  switchport access vlan 40\n  state enabled\n")
			})
			require.NoError(t, err)
		}
		return tx.Configure("port-profile web\n  switchport access vlan 12\n")
	})
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	final := openProfiles(t, client(t, c.Endpoints()...), 0).Snapshot().Config
	assert.Contains(t, final.Profiles, "app")
	assert.Contains(t, final.Profiles, "db")
	assert.Equal(t, uint16(12), final.Profiles["web"].AccessVLAN)
}

// TestWatchCompaction: a VIS's store is cut off from etcd (a TCP proxy
// between them is cut); meanwhile a manager edits the bound profile three
// times and etcd compacts its history past the VIS's revision. When the
// link returns, the VIS's watch resumes at a revision etcd no longer has:
// the store lists the configuration again and its vEth gets the last
// policy. While cut off it kept the last policy it had.
func TestWatchCompaction(t *testing.T) {
	c := startEtcd(t, 1)
	mgr := openProfiles(t, client(t, c.Endpoints()...), 8)
	_, err := mgr.Update(func(tx *profile.Txn) error { return tx.Configure(webProfile) })
	require.NoError(t, err)

	proxy, err := newProxy(c.Endpoints()[0])
	require.NoError(t, err)
	t.Cleanup(proxy.Close)
	vis := openProfiles(t, client(t, proxy.URL()), 8)
	_, err = vis.Update(func(tx *profile.Txn) error { tx.Bind(7, "web"); return nil })
	require.NoError(t, err)
	var ve profile.VEth
	vis.Subscribe(func(b profile.Batch) {
		for _, u := range b.Updates {
			if u.VEth == 7 {
				ve.SetPolicy(u.Policy)
			}
		}
	})
	require.Equal(t, uint16(10), ve.Policy().Settings().AccessVLAN)

	proxy.Cut()
	for _, vlan := range []int{20, 30, 40} {
		_, err := mgr.Update(func(tx *profile.Txn) error {
			return tx.Configure(fmt.Sprintf("port-profile web\n  switchport access vlan %d\n", vlan))
		})
		require.NoError(t, err)
	}
	cli := client(t, c.Endpoints()...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// More writes, so that the compaction is past the configuration's
	// last change too.
	for i := range 5 {
		_, err := cli.Put(ctx, fmt.Sprintf("/other/%d", i), "x")
		require.NoError(t, err)
	}
	st, err := cli.Get(ctx, "/other/0")
	require.NoError(t, err)
	_, err = cli.Compact(ctx, st.Header.Revision, clientCompactPhysical())
	require.NoError(t, err)
	time.Sleep(300 * time.Millisecond)
	assert.Equal(t, uint16(10), ve.Policy().Settings().AccessVLAN, "cut off, the vEth keeps its last policy")
	assert.Equal(t, 0, vis.Relists())

	require.NoError(t, proxy.Restore())
	eventually(t, "the VIS's vEth gets the last edit", func() bool {
		return ve.Policy().Settings().AccessVLAN == 40
	})
	assert.Equal(t, 1, vis.Relists(), "the store listed the configuration again after the compaction")
	assert.Equal(t, mgr.ConfigRevision(), vis.ConfigRevision())
}
