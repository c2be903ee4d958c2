package etcdstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/nivkit/niv/etcdstore"
	"github.com/nivkit/niv/etcdstore/internal/etcdtest"
)

// startEtcd starts an embedded etcd cluster of size members for the test.
func startEtcd(t *testing.T, size int) *etcdtest.Cluster {
	t.Helper()
	c, err := etcdtest.Start(t.TempDir(), etcdtest.Options{Size: size})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func client(t *testing.T, endpoints ...string) *clientv3.Client {
	t.Helper()
	cli, err := etcdstore.DialEndpoints(endpoints)
	require.NoError(t, err)
	t.Cleanup(func() { cli.Close() })
	return cli
}

func openProfiles(t *testing.T, cli *clientv3.Client, retries int) *etcdstore.Profiles {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := etcdstore.OpenProfiles(ctx, cli, etcdstore.ProfilesOptions{Retries: retries})
	require.NoError(t, err)
	t.Cleanup(p.Close)
	return p
}

// hostPort strips the scheme of a client URL.
func hostPort(u string) string { return strings.TrimPrefix(u, "http://") }

// eventually waits up to 30 s for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 30*time.Second, 20*time.Millisecond, what)
}

func startBench(b *testing.B) (*etcdtest.Cluster, error) {
	c, err := etcdtest.Start(b.TempDir(), etcdtest.Options{})
	if err == nil {
		b.Cleanup(c.Close)
	}
	return c, err
}
