package etcdstore_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nivkit/niv/etcdstore"
)

func TestParseAddr(t *testing.T) {
	eps, err := etcdstore.ParseAddr("etcd://10.0.0.1:2379,etcd-b.example:2379,[::1]:2379")
	assert.NoError(t, err)
	assert.Equal(t, []string{"http://10.0.0.1:2379", "http://etcd-b.example:2379", "http://[::1]:2379"}, eps)
	for _, bad := range []string{"", "etcd://", "http://10.0.0.1:2379", "etcd://10.0.0.1", "etcd://10.0.0.1:", "etcd://a:1,,b:2", "etcd://u@h:1", "etcd://h:1/path"} {
		_, err := etcdstore.ParseAddr(bad)
		assert.ErrorIs(t, err, etcdstore.ErrAddr, "%q", bad)
	}
}
