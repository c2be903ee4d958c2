package bind

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic"
)

// BenchmarkBindVEths binds N vEths one at a time, as a VIS does when its
// IVs bring them up (a cold start): the vic machine asks
// Profiles.ProfileState, then VISProgrammer.SetVEth commits one binding
// per vEth. A subscriber takes every Batch, as the VIS core does. N/1024
// profiles of max-ports 1024 share the vEths.
func BenchmarkBindVEths(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			profiles := (n + 1023) / 1024
			var cfg strings.Builder
			for i := range profiles {
				fmt.Fprintf(&cfg, "port-profile type vethernet p%d\n  max-ports 1024\n  switchport access vlan %d\n  state enabled\n", i, 10+i)
			}
			for b.Loop() {
				store := profile.NewMemStore()
				if _, err := store.Update(func(tx *profile.Txn) error { return tx.Configure(cfg.String()) }); err != nil {
					b.Fatal(err)
				}
				updates := 0
				cancel := store.Subscribe(func(bt profile.Batch) { updates += len(bt.Updates) })
				ps := Profiles{Store: store}
				for v := range n {
					name := fmt.Sprintf("p%d", v%profiles)
					if ps.ProfileState(name) != vic.ProfileEnabled {
						b.Fatalf("vEth %d: profile %s not enabled", v, name)
					}
					if _, err := store.Update(func(tx *profile.Txn) error { tx.Bind(profile.VEthID(v+1), name); return nil }); err != nil {
						b.Fatal(err)
					}
				}
				cancel()
				if updates != n {
					b.Fatalf("%d updates delivered, want %d", updates, n)
				}
			}
		})
	}
}
