package profile_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/profile"
)

// chainConfig is a two-level inheritance chain: four leaf profiles inherit
// mid, which inherits base. 1,000 vEths are spread over the leaves.
const chainConfig = `
ip access-list web
  10 permit tcp any any eq 80
ip access-list ssh
  10 permit tcp any any eq 22
port-profile base
  switchport mode access
  switchport access vlan 10
  state enabled
port-profile mid
  inherit port-profile base
  ip access-group web in
  state enabled
`

const numVEths = 1000

func leafName(i int) string { return fmt.Sprintf("leaf%d", i%4) }

func chainStore(t testing.TB) *profile.MemStore {
	var b strings.Builder
	b.WriteString(chainConfig)
	for i := range 4 {
		fmt.Fprintf(&b, "port-profile %s\n  inherit port-profile mid\n  max-ports 256\n  state enabled\n", leafName(i))
	}
	s := profile.NewMemStore()
	_, err := s.Update(func(tx *profile.Txn) error {
		if err := tx.Configure(b.String()); err != nil {
			return err
		}
		for i := range numVEths {
			tx.Bind(profile.VEthID(i+1), leafName(i))
		}
		return nil
	})
	require.NoError(t, err)
	return s
}

// vis stands in for the VIS: one VEth per vEth, fed by the store.
type vis struct {
	veths   map[profile.VEthID]*profile.VEth
	batches []profile.Batch
}

func newVIS(s profile.Store) *vis {
	v := &vis{veths: map[profile.VEthID]*profile.VEth{}}
	s.Subscribe(func(b profile.Batch) {
		v.batches = append(v.batches, b)
		for _, u := range b.Updates {
			ve := v.veths[u.VEth]
			if ve == nil {
				ve = &profile.VEth{}
				v.veths[u.VEth] = ve
			}
			ve.SetPolicy(u.Policy)
		}
	})
	return v
}

// TestPropagationThroughTwoLevels: one edit of the grandparent, then one of
// the parent, each reach all 1,000 vEths in one batch — none missed, none
// stale — checked by what the delivered policies do with frames.
func TestPropagationThroughTwoLevels(t *testing.T) {
	s := chainStore(t)
	v := newVIS(s)
	require.Len(t, v.batches, 1)
	require.Len(t, v.veths, numVEths)

	web, ssh := tcpFrame(profile.In, 0, 80), tcpFrame(profile.In, 0, 22)
	expect := func(vlan uint16, webDrop, sshDrop profile.DropReason, rev uint64) {
		t.Helper()
		for id, ve := range v.veths {
			p := ve.Policy()
			require.NotNil(t, p, "%v has no policy", id)
			require.Equal(t, rev, p.Revision(), "%v holds a stale policy", id)
			got := ve.Evaluate(&web, 0)
			require.Equal(t, webDrop, got.Drop, "%v web", id)
			if webDrop == profile.DropNone {
				require.Equal(t, vlan, got.VLAN, "%v VLAN", id)
			}
			require.Equal(t, sshDrop, ve.Evaluate(&ssh, 0).Drop, "%v ssh", id)
		}
	}
	expect(10, profile.DropNone, profile.DropIPACL, 1)

	// Grandparent edit: the access VLAN moves for every vEth.
	rev, err := s.Update(func(tx *profile.Txn) error {
		return tx.Configure("port-profile base\n  switchport access vlan 20\n")
	})
	require.NoError(t, err)
	require.Len(t, v.batches, 2)
	assertEveryVEthOnce(t, v.batches[1], rev)
	expect(20, profile.DropNone, profile.DropIPACL, rev)

	// Parent edit: the access list changes for every vEth.
	rev, err = s.Update(func(tx *profile.Txn) error {
		return tx.Configure("port-profile mid\n  ip access-group ssh in\n")
	})
	require.NoError(t, err)
	require.Len(t, v.batches, 3)
	assertEveryVEthOnce(t, v.batches[2], rev)
	expect(20, profile.DropIPACL, profile.DropNone, rev)

	// An edit of one leaf reaches only its quarter of the vEths.
	rev, err = s.Update(func(tx *profile.Txn) error {
		return tx.Configure("port-profile leaf1\n  shutdown\n")
	})
	require.NoError(t, err)
	require.Len(t, v.batches[3].Updates, numVEths/4)
	for _, u := range v.batches[3].Updates {
		assert.Equal(t, "leaf1", u.Policy.Profile())
		assert.Equal(t, profile.DropShutdown, v.veths[u.VEth].Evaluate(&ssh, 0).Drop)
	}
	assert.Equal(t, rev, v.batches[3].Revision)

	// An edit nothing uses delivers an empty batch.
	_, err = s.Update(func(tx *profile.Txn) error {
		return tx.Configure("port-profile unused\n  switchport access vlan 30\n")
	})
	require.NoError(t, err)
	assert.Empty(t, v.batches[4].Updates)
}

// assertEveryVEthOnce checks that a batch holds one update per vEth, each
// with a policy of this revision.
func assertEveryVEthOnce(t *testing.T, b profile.Batch, rev uint64) {
	t.Helper()
	require.Equal(t, rev, b.Revision)
	require.Len(t, b.Updates, numVEths)
	seen := map[profile.VEthID]bool{}
	for _, u := range b.Updates {
		require.False(t, seen[u.VEth], "%v delivered twice", u.VEth)
		seen[u.VEth] = true
		require.NotNil(t, u.Policy)
		require.Equal(t, rev, u.Policy.Revision())
		require.Equal(t, leafName(int(u.VEth)-1), u.Policy.Profile())
	}
}

// TestUnbindDeliversNil: unbinding a vEth delivers a nil policy, which drops
// its frames.
func TestUnbindDeliversNil(t *testing.T) {
	s := chainStore(t)
	v := newVIS(s)
	_, err := s.Update(func(tx *profile.Txn) error { return tx.Unbind(7) })
	require.NoError(t, err)
	last := v.batches[len(v.batches)-1]
	require.Equal(t, []profile.Update{{VEth: 7}}, last.Updates)
	f := tcpFrame(profile.In, 0, 80)
	assert.Equal(t, profile.DropNoPolicy, v.veths[7].Evaluate(&f, 0).Drop)
	_, err = s.Update(func(tx *profile.Txn) error { return tx.Unbind(7) })
	assert.ErrorIs(t, err, profile.ErrNotFound)
}

// TestPolicySwapUnderLoad runs frames on one goroutine while edits swap the
// policy from another (run with -race): every verdict comes from one whole
// policy, the old or the new.
func TestPolicySwapUnderLoad(t *testing.T) {
	s := chainStore(t)
	ve := &profile.VEth{}
	s.Subscribe(func(b profile.Batch) {
		for _, u := range b.Updates {
			if u.VEth == 1 {
				ve.SetPolicy(u.Policy)
			}
		}
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 50 {
			vlan := 10 + i%2
			if _, err := s.Update(func(tx *profile.Txn) error {
				return tx.Configure(fmt.Sprintf("port-profile base\n  switchport access vlan %d\n", vlan))
			}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	f := tcpFrame(profile.In, 0, 80)
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		got := ve.Evaluate(&f, 0)
		if !got.Admitted() || (got.VLAN != 10 && got.VLAN != 11) {
			t.Fatalf("verdict from no whole policy: %+v", got)
		}
	}
}

// TestFollow: a replica applying a configuration committed elsewhere. An
// edit of one profile reaches only its vEths; the policy of the untouched
// profile is reused; a vEth whose profile the new configuration no longer
// has is given no policy instead of the change being refused.
func TestFollow(t *testing.T) {
	base := profile.EmptyState()
	cfg, err := profile.Parse("port-profile a\n  switchport access vlan 10\n  state enabled\nport-profile b\n  switchport access vlan 20\n  state enabled\n")
	require.NoError(t, err)
	bindings := map[profile.VEthID]string{1: "a", 2: "b"}
	s1, b1 := profile.Follow(base, 7, cfg, bindings)
	assert.Equal(t, uint64(7), s1.Revision)
	require.Len(t, b1.Updates, 2)
	assert.Equal(t, uint16(10), s1.Policy(1).Settings().AccessVLAN)
	assert.Equal(t, uint64(7), s1.Policy(1).Revision())

	cfg2 := cfg.Clone()
	require.NoError(t, cfg2.Apply("port-profile a\n  switchport access vlan 11\n"))
	s2, b2 := profile.Follow(s1, 9, cfg2, bindings)
	require.Len(t, b2.Updates, 1)
	assert.Equal(t, profile.VEthID(1), b2.Updates[0].VEth)
	assert.Equal(t, uint16(11), b2.Updates[0].Policy.Settings().AccessVLAN)
	assert.Same(t, s1.Policy(2), s2.Policy(2), "b's policy is reused")

	cfg3 := cfg2.Clone()
	delete(cfg3.Profiles, "b")
	s3, b3 := profile.Follow(s2, 12, cfg3, bindings)
	require.Len(t, b3.Updates, 1)
	assert.Equal(t, profile.Update{VEth: 2}, b3.Updates[0])
	assert.Nil(t, s3.Policy(2))
	assert.Same(t, s2.Policy(1), s3.Policy(1))
}
