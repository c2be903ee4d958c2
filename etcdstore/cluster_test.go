package etcdstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/profile"
)

// TestClusterLosesAMember: three etcd members, two VISes and a manager,
// each client knowing every member. The leader is stopped; the two
// remaining members elect another. A profile edit committed after that
// reaches both VISes' vEths, a new vEth is created and bound, and a VIS
// killed then has its vEths taken over by the other: the fleet converges
// on two members.
func TestClusterLosesAMember(t *testing.T) {
	c := startEtcd(t, 3)
	eps := c.Endpoints()
	a := newMember(t, "vis-a", eps, 5*time.Second)
	b := newMember(t, "vis-b", eps, 5*time.Second)
	mgr := openProfiles(t, client(t, eps...), 16)
	configure(t, a, twoProfiles)
	ra := a.attach(uuid(1), vnic(1, "web", 1), 10)
	a.attach(uuid(2), vnic(2, "web", 1), 11)
	rb := b.attach(uuid(3), vnic(3, "web", 1), 20)
	b.attach(uuid(4), vnic(4, "web", 1), 21)
	require.Equal(t, 1, a.broadcast(10, 1, 1))
	require.Equal(t, 1, b.broadcast(20, 3, 1))

	leader := -1
	cli := client(t, eps...)
	for i, ep := range eps {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st, err := cli.Status(ctx, ep)
		cancel()
		require.NoError(t, err)
		if st.Leader == st.Header.MemberId {
			leader = i
		}
	}
	require.GreaterOrEqual(t, leader, 0, "no leader")
	t.Logf("stopping the leader, member %d", leader)
	start := time.Now()
	c.Stop(leader)
	t.Logf("leader stopped in %v", time.Since(start).Round(time.Millisecond))

	_, err := mgr.Update(func(tx *profile.Txn) error { return tx.Configure("port-profile web\n  switchport access vlan 30\n") })
	require.NoError(t, err)
	for _, x := range []struct {
		m  *member
		id profile.VEthID
	}{{a, ra.ID}, {b, rb.ID}} {
		eventually(t, x.m.name+" follows the edit", func() bool {
			p := x.m.profiles.Snapshot().Policy(x.id)
			return p != nil && p.Settings().AccessVLAN == 30
		})
	}
	assert.Equal(t, 1, a.broadcast(10, 1, 1), "vEths 1 and 2 are both in VLAN 30")

	t.Logf("edit reached both VISes %v after the stop", time.Since(start).Round(time.Millisecond))
	r5 := a.attach(uuid(5), vnic(5, "db", 1), 12)
	assert.NotEqual(t, ra.ID, r5.ID)

	b.mu.Lock()
	b.takeOver = true
	b.mu.Unlock()
	a.kill()
	for _, u := range []byte{1, 2, 5} {
		eventually(t, "B takes over A's vEths", func() bool { _, ok := b.serving(uuid(u)); return ok })
	}
	t.Logf("takeover done %v after the stop", time.Since(start).Round(time.Millisecond))
	l, _ := b.serving(uuid(5))
	assert.Equal(t, r5.ID, l.rec.ID)
	assert.Equal(t, "db", l.rec.Config.Profile)
}
