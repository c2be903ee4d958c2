package etcdstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/etcdstore"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/registry"
)

// BenchmarkAllocateBind: one vEth created and bound, against an embedded
// etcd on this machine (three round trips: a Get, the create-if-absent
// Txn, the bind Txn).
func BenchmarkAllocateBind(b *testing.B) {
	c, err := startBench(b)
	require.NoError(b, err)
	cli, err := etcdstore.DialEndpoints(c.Endpoints())
	require.NoError(b, err)
	defer cli.Close()
	ctx := context.Background()
	r, err := etcdstore.OpenRegistry(ctx, cli, etcdstore.RegistryOptions{VIS: "bench", TTL: 10 * time.Second})
	require.NoError(b, err)
	defer r.Close()
	i := 0
	for b.Loop() {
		i++
		u := vic.UUID{byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)}
		if _, err := r.Allocate(ctx, u, vic.VNIC{Profile: "web", Epoch: 1}); err != nil {
			b.Fatal(err)
		}
		if _, err := r.Bind(ctx, u, registry.Binding{Port: "iv0", VIF: 1, Epoch: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
