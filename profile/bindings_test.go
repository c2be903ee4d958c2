package profile_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/nivkit/niv/profile"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestBindingsOnlyTxnMatchesFullPath runs random bind/unbind transactions
// twice: as they come (bindings only, the incremental path) and with the
// configuration touched (Txn.Config, which takes the full path of a
// configuration edit). Both must accept or refuse alike, with the same
// error kind, the same bindings, per-profile counts and Batch vEths.
func TestBindingsOnlyTxnMatchesFullPath(t *testing.T) {
	const cfg = `port-profile type vethernet a
  max-ports 3
  state enabled
port-profile type vethernet b
  switchport access vlan 20
  state enabled
port-profile type ethernet up
  state enabled
`
	kinds := []error{profile.ErrUndefined, profile.ErrTypeMismatch, profile.ErrMaxPorts, profile.ErrNotFound}
	rapid.Check(t, func(rt *rapid.T) {
		fast, full := profile.NewMemStore(), profile.NewMemStore()
		for _, s := range []*profile.MemStore{fast, full} {
			_, err := s.Update(func(tx *profile.Txn) error { return tx.Configure(cfg) })
			require.NoError(rt, err)
		}
		var fastB, fullB profile.Batch
		fast.Subscribe(func(b profile.Batch) { fastB = b })
		full.Subscribe(func(b profile.Batch) { fullB = b })
		for range rapid.IntRange(1, 30).Draw(rt, "txns") {
			type op struct {
				v    profile.VEthID
				name string // "" unbinds
			}
			var ops []op
			for range rapid.IntRange(1, 4).Draw(rt, "ops") {
				ops = append(ops, op{profile.VEthID(rapid.IntRange(1, 8).Draw(rt, "veth")), rapid.SampledFrom([]string{"", "a", "b", "up", "none"}).Draw(rt, "profile")})
			}
			edit := func(touch bool) func(*profile.Txn) error {
				return func(tx *profile.Txn) error {
					if touch {
						tx.Config()
					}
					for _, o := range ops {
						if o.name == "" {
							if err := tx.Unbind(o.v); err != nil {
								return err
							}
							continue
						}
						tx.Bind(o.v, o.name)
					}
					return nil
				}
			}
			fastB, fullB = profile.Batch{}, profile.Batch{}
			_, errFast := fast.Update(edit(false))
			_, errFull := full.Update(edit(true))
			require.Equal(rt, errFull == nil, errFast == nil, "fast %v, full %v", errFast, errFull)
			for _, k := range kinds {
				require.Equal(rt, errors.Is(errFull, k), errors.Is(errFast, k), "fast %v, full %v", errFast, errFull)
			}
			sf, sl := fast.Snapshot(), full.Snapshot()
			require.Equal(rt, sl.Bindings, sf.Bindings)
			for _, name := range []string{"a", "b", "up", "none"} {
				n := 0
				for _, b := range sf.Bindings {
					if b == name {
						n++
					}
				}
				require.Equal(rt, n, sf.Bound(name), "profile %s", name)
				require.Equal(rt, sl.Bound(name), sf.Bound(name), "profile %s", name)
			}
			for v, name := range sf.Bindings {
				require.Equal(rt, name, sf.Policy(v).Profile(), "%s", v)
			}
			require.Equal(rt, vethsOf(fullB), vethsOf(fastB))
			for _, u := range fastB.Updates {
				require.Equal(rt, sf.Policy(u.VEth), u.Policy, "%s", u.VEth)
			}
		}
	})
}

func vethsOf(b profile.Batch) []string {
	var out []string
	for _, u := range b.Updates {
		p := "unbound"
		if u.Policy != nil {
			p = u.Policy.Profile()
		}
		out = append(out, fmt.Sprint(u.VEth, "=", p))
	}
	return out
}

// TestRebase commits a bindings-only transaction at a revision other than
// the one it was prepared for, as a store on etcd does: the result and its
// Batch are those of Follow at that revision, and newly compiled policies
// carry it.
func TestRebase(t *testing.T) {
	s := profile.NewMemStore()
	_, err := s.Update(func(tx *profile.Txn) error {
		if err := tx.Configure("port-profile type vethernet a\n  state enabled\nport-profile type vethernet b\n  state enabled\n"); err != nil {
			return err
		}
		tx.Bind(1, "a")
		return nil
	})
	require.NoError(t, err)
	base := s.Snapshot()
	tx := profile.NewTxn(base)
	tx.Bind(2, "b")
	require.NoError(t, tx.Unbind(1))
	next, _, err := tx.Prepare()
	require.NoError(t, err)

	got, gb := profile.Rebase(base, 40, base.Config, next)
	want, wb := profile.Follow(base, 40, base.Config, next.Bindings)
	require.Equal(t, want.Bindings, got.Bindings)
	require.Equal(t, uint64(40), got.Revision)
	require.Equal(t, vethsOf(wb), vethsOf(gb))
	require.Equal(t, uint64(40), got.Policy(2).Revision())
	require.Equal(t, 0, got.Bound("a"))
	require.Equal(t, 1, got.Bound("b"))

	// On another base, or another configuration, it is Follow.
	other, ob := profile.Rebase(profile.EmptyState(), 41, base.Config, next)
	require.Equal(t, next.Bindings, other.Bindings)
	require.Equal(t, []string{"Vethernet2=b"}, vethsOf(ob))
}
