package etcdstore_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/etcdstore"
	"github.com/nivkit/niv/internal/daemon/conf"
	"github.com/nivkit/niv/internal/daemon/netlab"
	"github.com/nivkit/niv/internal/needs"
	"github.com/nivkit/niv/vic/registry"
)

// vethShow is `niv show interface vethernet N --json`.
type vethShow struct {
	ID        uint32 `json:"id"`
	State     string `json:"state"`
	Profile   string `json:"profile"`
	Interface string `json:"interface"`
	Channel   uint32 `json:"channel"`
	Bound     bool   `json:"bound"`
	Instance  string `json:"instance"`
	Counters  struct {
		RxFrames, RxBytes, TxFrames, TxBytes, Drops uint64
	} `json:"counters"`
}

type vnicShow struct {
	Name  string `json:"name"`
	State string `json:"state"`
	VEth  uint32 `json:"veth"`
	VIF   int    `json:"vif"`
	Epoch uint32 `json:"epoch"`
}

// TestVISDaemonsShareEtcd runs two `niv vis --store etcd://` daemons
// (etcdstore/cmd/niv) on one embedded etcd: host 1 has an uplink to each
// (fabric a to VIS a, fabric b to VIS b), host 2 one to VIS b. A profile
// edit made with `niv configure` against VIS a reaches the vEths of VIS
// b, the vEth ids are fleet-wide, a VM moved from host 1 (behind VIS a)
// to host 2 (behind VIS b) keeps its vEth id, profile and counters, and
// when VIS a is killed (kill -9, its link down) host 1 fails over to VIS b, which takes
// its vEth over in the registry once VIS a's lease (2 s) expires: same
// id, counters kept; VIS a, started again, restores that vEth unbound.
func TestVISDaemonsShareEtcd(t *testing.T) {
	needs.Root(t)
	needs.Tool(t, "ip")
	etcd := startEtcd(t, 1)
	store := "etcd://" + strings.TrimPrefix(etcd.Endpoints()[0], "http://")
	t.Setenv("NIV_ETCD_TTL", "2s")

	bin := filepath.Join(t.TempDir(), "niv")
	out, err := exec.Command("go", "build", "-o", bin, "./cmd/niv").CombinedOutput()
	require.NoError(t, err, "go build ./cmd/niv: %s", out)
	l, err := netlab.NewWith(fmt.Sprintf("fl%d", os.Getpid()%100000), bin)
	require.NoError(t, err)
	t.Cleanup(l.Close)
	p := l.Prefix
	ns := func(name string) string { n, err := l.NS(name); require.NoError(t, err); return n }
	vm := func(name, tap, mac, ip string) string {
		n, err := l.VM(name, tap, mac, ip)
		require.NoError(t, err)
		return n
	}
	write := func(name, text string) string { f, err := l.Write(name, text); require.NoError(t, err); return f }
	niv := func(stdin string, args ...string) string {
		t.Helper()
		out, err := l.NivIn(stdin, args...)
		require.NoError(t, err)
		return out
	}
	h1, h2 := ns("h1"), ns("h2")
	require.NoError(t, l.LinkHere(p+"h1", h1, p+"v1"))
	require.NoError(t, l.LinkHere(p+"h2", h2, p+"v2"))
	require.NoError(t, l.LinkHere(p+"h1b", h1, p+"v3"))
	vm1 := vm("vm1", p+"a", "02:52:54:00:00:01", "10.9.0.1")
	vm2 := vm("vm2", p+"b", "02:52:54:00:00:02", "10.9.0.2")
	vm3 := vm("vm3", p+"c", "02:52:54:00:00:03", "10.9.0.3")
	require.NoError(t, l.Echo(vm2))

	visConf := func(name, link, more string) string {
		return fmt.Sprintf(`hostname %[2]s
niv store %[1]s/%[2]s.db
niv socket %[1]s/%[2]s.sock
niv checkpoint-interval 1
niv vic keepalive 200
niv vic request-timeout 300
!
interface ethernet1/1
  switchport mode vntag
  linux-interface %[3]s
!
%[4]sport-profile type vethernet web
  switchport mode access
  switchport access vlan 10
  state enabled
`, l.Dir, name, link, more)
	}
	vnic := func(name, tap, ns, mac string, n int) string {
		return fmt.Sprintf("vnic %s\n  tap %s existing netns %s\n  mac-address %s\n  port-profile web\n  instance-uuid a1412857-60f7-4ce1-e95a-2164943f53%02d\n", name, tap, ns, mac, n)
	}
	ivConf := func(name, up, vnics, more string) string {
		return fmt.Sprintf(`hostname %[2]s
niv store %[1]s/%[2]s.db
niv socket %[1]s/%[2]s.sock
niv vic keepalive 200
niv vic request-timeout 300
!
interface uplink1
  fabric a
  switchport mode vntag
  linux-interface %[3]s
%[5]s!
%[4]s`, l.Dir, name, up, vnics, more)
	}
	daemon := func(kind, ns, name, conf string, args ...string) *netlab.Daemon {
		d, err := l.DaemonArgs(kind, ns, write(name+".conf", conf), filepath.Join(l.Dir, name+".sock"), args...)
		require.NoError(t, err)
		return d
	}
	visA := daemon("vis", "", "visa", visConf("visa", p+"v1", ""), "--store", store)
	visB := daemon("vis", "", "visb", visConf("visb", p+"v2", "interface ethernet1/2\n  switchport mode vntag\n  linux-interface "+p+"v3\n!\n"), "--store", store)
	hostA := daemon("iv", h1, "host1", ivConf("host1", p+"h1", vnic("vm1", p+"a", vm1, "0252.5400.0001", 1)+vnic("vm2", p+"b", vm2, "0252.5400.0002", 2),
		"interface uplink2\n  fabric b\n  switchport mode vntag\n  linux-interface "+p+"h1b\n"))
	hostB := daemon("iv", h2, "host2", ivConf("host2", p+"h2", vnic("vm3", p+"c", vm3, "0252.5400.0003", 3), ""))

	t.Cleanup(func() {
		if t.Failed() {
			for _, d := range []*netlab.Daemon{visA, visB, hostA, hostB} {
				t.Logf("%s:\n%s", d.Config, d.LogText())
			}
		}
	})
	bound := func(d *netlab.Daemon, names ...string) map[string]vnicShow {
		t.Helper()
		var got map[string]vnicShow
		require.Eventually(t, func() bool {
			var list []vnicShow
			out, err := l.Niv("show", "vnic", "-s", d.Sock, "--json")
			if err != nil || json.Unmarshal([]byte(out), &list) != nil {
				return false
			}
			got = map[string]vnicShow{}
			for _, n := range list {
				got[n.Name] = n
			}
			for _, n := range names {
				if got[n].State != "bound" {
					return false
				}
			}
			return true
		}, 10*time.Second, 20*time.Millisecond, "vNICs %v never bound on %s", names, d.Config)
		return got
	}
	veth := func(d *netlab.Daemon, id uint32) (v vethShow) {
		t.Helper()
		require.NoError(t, json.Unmarshal([]byte(niv("", "show", "interface", "vethernet", fmt.Sprint(id), "-s", d.Sock, "--json")), &v))
		return v
	}
	onA, onB := bound(hostA, "vm1", "vm2"), bound(hostB, "vm3")
	ids := map[uint32]bool{onA["vm1"].VEth: true, onA["vm2"].VEth: true, onB["vm3"].VEth: true}
	assert.Len(t, ids, 3, "vEth ids are fleet-wide: %v %v", onA, onB)
	vm3ID := onB["vm3"].VEth
	assert.Equal(t, "up", veth(visB, vm3ID).State)

	// A profile edit through VIS a reaches VIS b's vEths.
	edit := niv("port-profile type vethernet web\n  shutdown\n", "configure", "-s", visA.Sock)
	assert.Contains(t, edit, "committed")
	require.Eventually(t, func() bool { return strings.HasPrefix(veth(visB, vm3ID).State, "down") },
		5*time.Second, 20*time.Millisecond, "VIS b applies the edit made on VIS a")
	assert.Contains(t, niv("", "show", "running-config", "-s", visB.Sock), "shutdown")
	niv("port-profile type vethernet web\n  no shutdown\n", "configure", "-s", visB.Sock)
	require.Eventually(t, func() bool { return veth(visA, onA["vm1"].VEth).State == "up" && veth(visB, vm3ID).State == "up" },
		5*time.Second, 20*time.Millisecond, "and back, the other way")

	// Traffic on vm1's vEth behind VIS a, checkpointed to etcd.
	pr, err := l.Pinger(vm1, "10.9.0.2")
	require.NoError(t, err)
	require.True(t, pr.Until(5*time.Second), "vm1 reaches vm2 through VIS a")
	assert.Equal(t, 20, pr.Probe(20, time.Second))
	id1 := onA["vm1"].VEth
	before := veth(visA, id1)
	require.GreaterOrEqual(t, before.Counters.RxFrames, uint64(21))
	time.Sleep(1500 * time.Millisecond) // a checkpoint interval

	// vm1 moves to host 2, behind VIS b: same vEth id, profile, counters.
	niv("", "vnic", "move", "vm1", "-s", hostA.Sock, "--to", hostB.Sock)
	moved := bound(hostB, "vm1", "vm3")["vm1"]
	assert.Equal(t, id1, moved.VEth, "same vEth id behind VIS b")
	var after vethShow
	require.Eventually(t, func() bool {
		after = veth(visB, id1)
		return after.Bound && after.Counters.RxFrames >= before.Counters.RxFrames
	}, 5*time.Second, 50*time.Millisecond, "VIS b has vm1's vEth with the counters VIS a counted")
	assert.Equal(t, before.Profile, after.Profile)
	assert.Equal(t, before.Instance, after.Instance)
	assert.Equal(t, "Ethernet1/1", after.Interface)
	t.Logf("vEth %d: %d frames received behind VIS a, %d in VIS b's show after the move", id1, before.Counters.RxFrames, after.Counters.RxFrames)
	assert.False(t, veth(visA, id1).Bound, "VIS a let go of it")

	// VIS a dies; host 1 fails over to fabric b, and VIS b takes vm2's
	// vEth over when VIS a's lease expires.
	id2 := onA["vm2"].VEth
	time.Sleep(1500 * time.Millisecond) // vm2's counts checkpointed
	before2 := veth(visA, id2)
	require.NotZero(t, before2.Counters.TxFrames+before2.Counters.RxFrames)
	visA.Kill()
	killed := time.Now()
	// The IV fails over when its fabric a uplink loses carrier, as when
	// the fabric interconnect dies with its VIS.
	require.NoError(t, l.IP("link", "set", p+"v1", "down"))
	reg, err := etcdstore.OpenRegistry(t.Context(), client(t, etcd.Endpoints()...), etcdstore.RegistryOptions{VIS: "observer", TTL: 10 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { reg.Close() })
	u, ok := conf.ParseUUID("a1412857-60f7-4ce1-e95a-2164943f5302")
	require.True(t, ok)
	var rec registry.Record
	require.Eventually(t, func() bool {
		rec, err = reg.Get(t.Context(), u)
		return err == nil && rec.Held && rec.Binding.VIS == "visb"
	}, 15*time.Second, 50*time.Millisecond, "VIS b holds vm2's vEth in the registry")
	t.Logf("vm2's vEth held by VIS b %v after VIS a's kill -9", time.Since(killed).Round(10*time.Millisecond))
	assert.Equal(t, id2, uint32(rec.ID))
	assert.Equal(t, "Ethernet1/2", rec.Binding.Port)
	taken := veth(visB, id2)
	assert.True(t, taken.Bound)
	assert.Equal(t, "web", taken.Profile)
	// Kept, but for what VIS a counted after its last checkpoint (up to
	// one interval, 1 s, with no traffic running: a stray frame or two).
	assert.GreaterOrEqual(t, taken.Counters.RxFrames+3, before2.Counters.RxFrames, "counters kept")
	assert.GreaterOrEqual(t, taken.Counters.TxFrames+3, before2.Counters.TxFrames, "counters kept")
	assert.NotZero(t, taken.Counters.RxFrames+taken.Counters.TxFrames, "counters kept")
	assert.Equal(t, id2, bound(hostA, "vm2")["vm2"].VEth)

	// VIS a comes back: it restores vm2's vEth unbound (VIS b holds it),
	// and does not take it back.
	require.NoError(t, l.IP("link", "set", p+"v1", "up"))
	require.NoError(t, visA.Start())
	assert.False(t, veth(visA, id2).Bound)
	assert.Contains(t, visA.LogText(), "another VIS holds it now")
	rec, err = reg.Get(t.Context(), u)
	require.NoError(t, err)
	assert.Equal(t, "visb", rec.Binding.VIS)

	// VIS b is killed and comes back with its local store gone: it
	// restores from the registry (Registry.Restore) the vEths it held,
	// with their ids, interfaces, channels, profiles and counters, and
	// its IVs keep their vEths.
	time.Sleep(1500 * time.Millisecond) // a checkpoint interval
	held := map[uint32]vethShow{}
	for _, id := range []uint32{id1, id2, vm3ID} {
		held[id] = veth(visB, id)
		require.True(t, held[id].Bound, "vEth %d on VIS b", id)
	}
	ivsBefore := bound(hostB, "vm1", "vm3")
	vm2Before := bound(hostA, "vm2")["vm2"]
	visB.Kill()
	require.NoError(t, os.Remove(filepath.Join(l.Dir, "visb.db")))
	require.NoError(t, visB.Start())
	assert.Contains(t, visB.LogText(), "restored from the fleet's registry")
	for id, was := range held {
		v := veth(visB, id)
		assert.True(t, v.Bound, "vEth %d bound again", id)
		assert.Equal(t, was.Interface, v.Interface, "vEth %d", id)
		assert.Equal(t, was.Channel, v.Channel, "vEth %d", id)
		assert.Equal(t, was.Profile, v.Profile, "vEth %d", id)
		assert.Equal(t, was.Instance, v.Instance, "vEth %d", id)
		assert.GreaterOrEqual(t, v.Counters.RxFrames+10, was.Counters.RxFrames, "vEth %d: counters from the registry, within a checkpoint", id)
		assert.NotZero(t, v.Counters.RxFrames+v.Counters.TxFrames, "vEth %d", id)
	}
	onB2 := bound(hostB, "vm1", "vm3")
	for _, n := range []string{"vm1", "vm3"} {
		assert.Equal(t, ivsBefore[n].VEth, onB2[n].VEth, n)
		assert.Equal(t, ivsBefore[n].VIF, onB2[n].VIF, "%s keeps its VIF", n)
	}
	vm2After := bound(hostA, "vm2")["vm2"]
	assert.Equal(t, vm2Before.VEth, vm2After.VEth)
	assert.Equal(t, vm2Before.VIF, vm2After.VIF)
	rec, err = reg.Get(t.Context(), u)
	require.NoError(t, err)
	assert.Equal(t, "visb", rec.Binding.VIS, "bound again on VIS b's new lease")
	pr2, err := l.Pinger(vm1, "10.9.0.2")
	require.NoError(t, err)
	assert.True(t, pr2.Until(5*time.Second), "vm1 (host 2) reaches vm2 (host 1) through the restored VIS b")
}
