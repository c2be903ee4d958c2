package etcdstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/nivkit/niv/etcdstore"
	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vic/registry"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

// member is one VIS of the fleet as a daemon would run it: a real
// forwarding core (vis.VIS) with one IV port, following the shared
// profiles through its own Profiles, its vEths in the shared Registry,
// all through its own etcd client.
type member struct {
	t        *testing.T
	name     string
	cli      *clientv3.Client
	profiles *etcdstore.Profiles
	reg      *etcdstore.Registry
	vis      *vis.VIS
	ivPort   int

	mu    sync.Mutex
	veths map[vic.UUID]*local
	// takeOver makes the member bind every orphaned vEth (a standby
	// serving the same IVs, as fabric B for fabric A).
	takeOver bool
}

// local is what the member keeps of a vEth it serves.
type local struct {
	rec registry.Record // as of the bind
	vif vntag.VIF
	// flushed is the vis counters already added to the registry.
	flushed vis.Counters
}

func newMember(t *testing.T, name string, endpoints []string, ttl time.Duration) *member {
	t.Helper()
	cli, err := etcdstore.DialEndpoints(endpoints)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m := &member{t: t, name: name, cli: cli, veths: map[vic.UUID]*local{}}
	m.profiles, err = etcdstore.OpenProfiles(ctx, cli, etcdstore.ProfilesOptions{Retries: 16})
	require.NoError(t, err)
	m.reg, err = etcdstore.OpenRegistry(ctx, cli, etcdstore.RegistryOptions{VIS: name, TTL: ttl, MaxPorts: m.profiles.MaxPorts})
	require.NoError(t, err)
	m.vis, err = vis.New(vis.Config{Store: m.profiles})
	require.NoError(t, err)
	m.ivPort, err = m.vis.AddIVPort("iv0", vntag.ModeVNTag, iv.New(iv.Config{}))
	require.NoError(t, err)
	m.reg.Subscribe(m.onEvent)
	t.Cleanup(m.kill)
	return m
}

// kill stops the member as a crash would: the registry stops without
// revoking its lease and the client is closed.
func (m *member) kill() {
	m.reg.Close()
	m.profiles.Close()
	m.vis.Close()
	m.cli.Close()
}

func (m *member) onEvent(ev registry.Event) {
	switch ev.Kind {
	case registry.Taken:
		m.mu.Lock()
		l := m.veths[ev.Instance]
		m.mu.Unlock()
		if l != nil {
			// Add what was counted since the last checkpoint, then let
			// the vEth go.
			c, _ := m.vis.Counters(l.rec.ID)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := m.reg.Checkpoint(ctx, ev.Instance, registry.SubCounters(c, l.flushed))
			cancel()
			if err != nil {
				m.t.Errorf("%s: checkpoint of a taken vEth: %v", m.name, err)
			}
			m.vis.RemoveVEth(l.rec.ID)
			m.profiles.Update(func(tx *profile.Txn) error { return tx.Unbind(l.rec.ID) })
			m.mu.Lock()
			delete(m.veths, ev.Instance)
			m.mu.Unlock()
		}
	case registry.Orphaned:
		m.mu.Lock()
		take := m.takeOver
		m.mu.Unlock()
		if take {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			rec, err := m.reg.Get(ctx, ev.Instance)
			if err != nil {
				m.t.Errorf("%s: orphan %v: %v", m.name, ev.Instance, err)
				return
			}
			// Same IV, same VIF: fabric B serves the vNIC where fabric A did.
			if _, err := m.tryAttach(ev.Instance, rec.Config, ev.Binding.VIF); err != nil {
				m.t.Errorf("%s: taking over %v: %v", m.name, ev.Instance, err)
			}
		}
	}
}

// attach is what the VIS does when an IV announces vNIC c on VIF vif:
// the vEth is created if absent, bound here, bound to its profile and put
// in the data path.
func (m *member) attach(u vic.UUID, c vic.VNIC, vif vntag.VIF) registry.Record {
	rec, err := m.tryAttach(u, c, vif)
	require.NoError(m.t, err)
	return rec
}

func (m *member) tryAttach(u vic.UUID, c vic.VNIC, vif vntag.VIF) (registry.Record, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rec, err := m.reg.Allocate(ctx, u, c)
	if err != nil {
		return rec, err
	}
	if rec, err = m.reg.Bind(ctx, u, registry.Binding{Port: "iv0", VIF: vif, Epoch: c.Epoch}); err != nil {
		return rec, err
	}
	if c.Epoch > rec.Config.Epoch {
		// Placed here anew (migration): the record keeps the epoch.
		rec.Config.Epoch = c.Epoch
		if err := m.reg.SetConfig(ctx, u, rec.Config); err != nil {
			return rec, err
		}
	}
	if _, err = m.profiles.Update(func(tx *profile.Txn) error { tx.Bind(rec.ID, rec.Config.Profile); return nil }); err != nil {
		return rec, err
	}
	if err = m.vis.AddVEth(rec.ID, m.ivPort, vif); err != nil {
		return rec, err
	}
	m.mu.Lock()
	m.veths[u] = &local{rec: rec, vif: vif}
	m.mu.Unlock()
	return rec, nil
}

// checkpoint adds every vEth's counters since the last checkpoint to the
// registry.
func (m *member) checkpoint() {
	m.mu.Lock()
	defer m.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for u, l := range m.veths {
		c, _ := m.vis.Counters(l.rec.ID)
		require.NoError(m.t, m.reg.Checkpoint(ctx, u, registry.SubCounters(c, l.flushed)))
		l.flushed = c
	}
}

func (m *member) serving(u vic.UUID) (*local, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.veths[u]
	return l, ok
}

// broadcast sends n broadcast frames from VIF vif and returns how many
// frames the VIS sent out for them.
func (m *member) broadcast(vif vntag.VIF, src byte, n int) int {
	out := 0
	for range n {
		frame := make([]byte, 60)
		copy(frame, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, src, 0x88, 0xb5})
		f := port.FrameFrom(frame)
		up, _ := vntag.Upstream(uint16(vif))
		b, _ := vntag.Push(f.Buf, f.Off, up)
		tx := port.NewTx(16, 1<<16)
		m.vis.Process(m.ivPort, []port.Frame{port.FrameFrom(b)}, time.Now().UnixNano(), tx)
		out += len(tx.Frames)
	}
	return out
}

func (m *member) counters(id profile.VEthID) vis.Counters {
	c, ok := m.vis.Counters(id)
	require.True(m.t, ok, "%s has no %v", m.name, id)
	return c
}

func uuid(i byte) vic.UUID { return vic.UUID{0x6e, 0x69, 0x76, i} }

func vnic(i byte, profile string, epoch uint32) vic.VNIC {
	return vic.VNIC{Instance: uuid(i), MAC: [6]byte{0x02, 0, 0, 0, 0, i}, Profile: profile, Epoch: epoch, Up: true}
}
