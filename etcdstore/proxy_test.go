package etcdstore_test

import (
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/nivkit/niv/etcdstore/internal/etcdtest"
)

func newProxy(target string) (*etcdtest.Proxy, error) { return etcdtest.NewProxy(hostPort(target)) }

func clientCompactPhysical() clientv3.CompactOption { return clientv3.WithCompactPhysical() }
