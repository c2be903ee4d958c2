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
	"github.com/nivkit/niv/internal/lldpadtest"
	"github.com/nivkit/niv/internal/needs"
	"github.com/nivkit/niv/vdp"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/registry"
)

// evbVSIShow is one VSI of `niv show evb vsi --json`.
type evbVSIShow struct {
	Interface string `json:"interface"`
	VSIID     string `json:"vsiid"`
	Mode      string `json:"mode"`
	VLAN      uint16 `json:"vlan"`
	VEth      uint32 `json:"veth"`
	Profile   string `json:"profile"`
	Counters  struct {
		KeepAlives uint64
	} `json:"vdp_counters"`
}

// TestEVBVISDaemonsShareEtcd: IEEE 802.1Qbg VSIs on a fleet of two `niv
// vis --store etcd://` daemons (etcdstore/cmd/niv) sharing one embedded
// etcd, each with an evb port to a KVM host of its own, lldpad the host's
// VDP station (vdptool associating each VM's VSI as libvirt does: VSIID
// format UUID, the VM's instance UUID), the VMs on macvlan VEPA devices.
// Two VMs on host A (behind VIS a) reach each other through VIS a's
// reflective relay. VM 1 moves to host B (behind VIS b), whose lldpad
// pre-associates (with resource reservation) and then associates the same
// VSIID: VIS b binds it onto the same vEth id, with
// the profile and the counters VIS a counted (the fleet's registry),
// and VIS a, told it was taken, sends host A's lldpad the unsolicited
// De-Associate and lets go of the vEth. A port-profile added through VIS
// a admits a VSI on VIS b, and its max-ports is counted across the fleet.
// VIS a is then killed (kill -9):
// its lease expires (2 s TTL) and VM 2's vEth is no longer held; VM 2,
// restarted on host B, is associated there by host B's lldpad onto its
// vEth, same id and counters; both VMs reach each other through VIS b.
// Last, VIS b killed with -9 and started again gets both VSIs back from
// lldpad's keep-alives onto the same vEths, counters kept.
func TestEVBVISDaemonsShareEtcd(t *testing.T) {
	needs.Root(t)
	needs.Tool(t, "ip")
	needs.Tool(t, "lldpad")
	needs.Tool(t, "ping")
	etcd := startEtcd(t, 1)
	store := "etcd://" + strings.TrimPrefix(etcd.Endpoints()[0], "http://")
	t.Setenv("NIV_ETCD_TTL", "2s")
	start := time.Now()
	mark := func(what string) { t.Logf("%5.1f s: %s", time.Since(start).Seconds(), what) }

	bin := filepath.Join(t.TempDir(), "niv")
	out, err := exec.Command("go", "build", "-o", bin, "./cmd/niv").CombinedOutput()
	require.NoError(t, err, "go build ./cmd/niv: %s", out)
	l, err := netlab.NewWith(fmt.Sprintf("fe%d", os.Getpid()%100000), bin)
	require.NoError(t, err)
	t.Cleanup(l.Close)
	p := l.Prefix
	ns := func(name string) string { n, err := l.NS(name); require.NoError(t, err); return n }
	write := func(name, text string) string { f, err := l.Write(name, text); require.NoError(t, err); return f }
	niv := func(args ...string) string {
		t.Helper()
		out, err := l.Niv(args...)
		require.NoError(t, err)
		return out
	}
	sysctl := func(ns, kv string) {
		require.NoError(t, exec.Command("ip", "netns", "exec", ns, "sysctl", "-qw", kv).Run())
	}
	hosts := [2]string{ns("kvma"), ns("kvmb")}
	nics := [2]string{p + "a1", p + "b1"}
	for i, h := range hosts {
		// No IPv6 on the hosts: nothing but the VMs' frames reaches the VISes.
		sysctl(h, "net.ipv6.conf.all.disable_ipv6=1")
		sysctl(h, "net.ipv6.conf.default.disable_ipv6=1")
		require.NoError(t, l.LinkHere(nics[i], h, []string{p + "a0", p + "b0"}[i]))
	}
	vms := []struct{ mac, ip, uuid string }{
		{"02:e5:00:00:20:01", "10.78.0.1", "b2412857-60f7-4ce1-e95a-2164943f5301"},
		{"02:e5:00:00:20:02", "10.78.0.2", "b2412857-60f7-4ce1-e95a-2164943f5302"},
	}
	var vmNS [2]string
	plug := func(vm, host int) {
		dev := fmt.Sprintf("%sm%d", p, vm+1)
		require.NoError(t, l.IP("-n", hosts[host], "link", "add", "link", nics[host], "name", dev, "address", vms[vm].mac, "mtu", "1500", "type", "macvlan", "mode", "vepa"))
		require.NoError(t, l.IP("-n", hosts[host], "link", "set", dev, "netns", vmNS[vm]))
		require.NoError(t, l.IP("-n", vmNS[vm], "addr", "add", vms[vm].ip+"/24", "dev", dev))
		require.NoError(t, l.IP("-n", vmNS[vm], "link", "set", dev, "up"))
	}
	unplug := func(vm int) { require.NoError(t, l.IP("-n", vmNS[vm], "link", "del", fmt.Sprintf("%sm%d", p, vm+1))) }
	for i := range vms {
		vmNS[i] = ns(fmt.Sprintf("vm%d", i+1))
		sysctl(vmNS[i], "net.ipv6.conf.all.disable_ipv6=1")
		plug(i, 0)
	}
	ping := func(from, to int) error {
		out, err := exec.Command("ip", "netns", "exec", vmNS[from], "ping", "-c", "3", "-i", "0.2", "-W", "1", vms[to].ip).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	}

	visConf := func(name, link string) string {
		return fmt.Sprintf(`hostname %[2]s
niv store %[1]s/%[2]s.db
niv socket %[1]s/%[2]s.sock
niv checkpoint-interval 1
evb keep-alive 18
!
interface ethernet1/5
  switchport mode evb
  switchport trunk native vlan 10
  linux-interface %[3]s
!
port-profile type vethernet web
  switchport mode access
  switchport access vlan 10
  vdp vsi-type 5 version 1
  state enabled
`, l.Dir, name, link)
	}
	daemon := func(name, link string) *netlab.Daemon {
		d, err := l.DaemonArgs("vis", "", write(name+".conf", visConf(name, link)), filepath.Join(l.Dir, name+".sock"), "--store", store)
		require.NoError(t, err)
		return d
	}
	visA, visB := daemon("visa", p+"a0"), daemon("visb", p+"b0")
	t.Cleanup(func() {
		if t.Failed() {
			for _, d := range []*netlab.Daemon{visA, visB} {
				t.Logf("%s:\n%s", d.Config, d.LogText())
			}
		}
	})
	var ll [2]*lldpadtest.LLDPad
	for i, h := range hosts {
		ll[i] = lldpadtest.Start(t, lldpadtest.Attach(t, h, nics[i]), lldpadtest.Conf{RRReq: true, R: 3, RTE: 14, RWD: 20, RKA: 18})
	}
	for i := range ll {
		ll[i].WaitUp(t, 15*time.Second)
	}
	mark("two VISes and two lldpads up")
	request := func(mode string, host, vm int) {
		t.Helper()
		var out string
		require.Eventually(t, func() bool {
			out, _ = ll[host].VDPTool("-T", "-W", "-V", "assoc", "-c", "mode="+mode, "-c", "mgrid2=niv", "-c", "typeid=5", "-c", "typeidver=1",
				"-c", "uuid="+vms[vm].uuid, "-c", "hints=none", "-c", "filter=10-"+vms[vm].mac)
			return strings.Contains(out, "mode = "+mode)
		}, 40*time.Second, time.Second, "vdptool %s VM %d on host %d: %s", mode, vm+1, host, out)
	}
	assoc := func(host, vm int) { t.Helper(); request("assoc", host, vm) }
	vsi := func(d *netlab.Daemon, vm int) (evbVSIShow, bool) {
		t.Helper()
		var list []evbVSIShow
		require.NoError(t, json.Unmarshal([]byte(niv("show", "evb", "vsi", "mac", vms[vm].mac, "-s", d.Sock, "--json")), &list))
		if len(list) == 0 {
			return evbVSIShow{}, false
		}
		return list[0], true
	}
	veth := func(d *netlab.Daemon, id uint32) (v vethShow) {
		t.Helper()
		require.NoError(t, json.Unmarshal([]byte(niv("show", "interface", "vethernet", fmt.Sprint(id), "-s", d.Sock, "--json")), &v))
		return v
	}
	reg, err := etcdstore.OpenRegistry(t.Context(), client(t, etcd.Endpoints()...), etcdstore.RegistryOptions{VIS: "observer", TTL: 10 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { reg.Close() })
	record := func(vm int) registry.Record {
		t.Helper()
		u, ok := conf.ParseUUID(vms[vm].uuid)
		require.True(t, ok)
		assert.Equal(t, vic.UUID(u), registry.VSIInstance(vdp.VSIIDUUID, vdp.VSIID(u)), "a UUID VSIID is its own key")
		rec, err := reg.Get(t.Context(), u)
		require.NoError(t, err)
		return rec
	}

	// Both VMs on host A, associated on VIS a; they reach each other
	// through its reflective relay.
	assoc(0, 0)
	assoc(0, 1)
	mark("both VMs associated on VIS a")
	require.NoError(t, ping(0, 1), "VM 1 → VM 2 through VIS a's relay")
	on := [2]evbVSIShow{}
	for i := range vms {
		var ok bool
		on[i], ok = vsi(visA, i)
		require.True(t, ok, "VM %d's VSI on VIS a", i+1)
		assert.Equal(t, "web", on[i].Profile)
		require.NotZero(t, on[i].VEth)
	}
	assert.NotEqual(t, on[0].VEth, on[1].VEth)
	require.Eventually(t, func() bool { r := record(0); return r.Held && r.Binding.VIS == "visa" }, 10*time.Second, 50*time.Millisecond,
		"VIS a holds VM 1's vEth in the registry")
	rec := record(0)
	assert.Equal(t, on[0].VEth, uint32(rec.ID), "the registry's id is the vEth's")
	assert.Equal(t, "Ethernet1/5", rec.Binding.Port)
	assert.Equal(t, "web", rec.Config.Profile)
	assert.EqualValues(t, 10, rec.Config.VLAN)
	time.Sleep(1500 * time.Millisecond) // a checkpoint interval
	before := veth(visA, on[0].VEth)
	require.NotZero(t, before.Counters.RxFrames, "VM 1's frames counted on VIS a")

	// VM 1 moves to host B: host B's lldpad pre-associates its VSI with
	// resource reservation on VIS b (the migration's first step, which
	// reserves the profile but moves nothing), then associates it.
	request("preassoc-rr", 1, 0)
	pre, ok := vsi(visB, 0)
	require.True(t, ok, "pre-associated on VIS b")
	assert.Equal(t, "preassoc-rr", pre.Mode)
	assert.Zero(t, pre.VEth, "no vEth in the core until the Associate")
	assert.True(t, record(0).Held && record(0).Binding.VIS == "visa", "still VIS a's: a pre-association takes nothing")
	unplug(0)
	plug(0, 1)
	moved := time.Now()
	assoc(1, 0)
	mark("VM 1 associated on VIS b")
	after, ok := vsi(visB, 0)
	require.True(t, ok)
	assert.Equal(t, on[0].VEth, after.VEth, "the same vEth id on VIS b")
	assert.Equal(t, "web", after.Profile)
	var va vethShow
	require.Eventually(t, func() bool {
		va = veth(visB, after.VEth)
		return va.Bound && va.Counters.RxFrames >= before.Counters.RxFrames
	}, 10*time.Second, 50*time.Millisecond, "VIS b shows the counters VIS a counted")
	assert.Equal(t, "web", va.Profile)
	assert.Equal(t, vms[0].uuid, va.Instance)
	t.Logf("vEth %d: %d frames received behind VIS a, %d in VIS b's show after the move", after.VEth, before.Counters.RxFrames, va.Counters.RxFrames)
	require.Eventually(t, func() bool {
		out, err := ll[0].VDPTool("-t", "-V", "assoc")
		return err == nil && !strings.Contains(out, vms[0].uuid)
	}, 10*time.Second, 200*time.Millisecond, "host A's lldpad got VIS a's unsolicited De-Associate")
	require.Eventually(t, func() bool { _, ok := vsi(visA, 0); return !ok }, 10*time.Second, 50*time.Millisecond, "VIS a let go of VM 1's VSI")
	_, err = l.Niv("show", "interface", "vethernet", fmt.Sprint(on[0].VEth), "-s", visA.Sock)
	assert.Error(t, err, "and of its vEth")
	t.Logf("VM 1's VSI off VIS a %v after it was plugged into host B", time.Since(moved).Round(10*time.Millisecond))
	rec = record(0)
	assert.True(t, rec.Held)
	assert.Equal(t, "visb", rec.Binding.VIS)
	assert.Greater(t, rec.Binding.Epoch, uint32(1), "bound one epoch above VIS a's")
	assert.Contains(t, visB.LogText(), "held by another VIS: taking it")
	assert.Contains(t, visA.LogText(), "taken by another bridge")
	var evbA struct {
		Counters struct{ Taken uint64 } `json:"counters"`
	}
	require.NoError(t, json.Unmarshal([]byte(niv("show", "evb", "-s", visA.Sock, "--json")), &evbA))
	assert.EqualValues(t, 1, evbA.Counters.Taken, "show evb counts the VSI VIS b took")
	assert.Regexp(t, `Total VSIs taken by another VIS +: 1\n`, niv("show", "evb", "-s", visA.Sock))

	// The profiles are the fleet's: a port-profile added through VIS a,
	// mapping VSI type 7, admits a VSI on VIS b; its max-ports (1) is
	// fleet-wide: a second VSI of that type, on VIS a, is refused with
	// the error lldpad prints for Insufficient Resources.
	edit, err := l.NivIn("port-profile type vethernet db\n  switchport mode access\n  switchport access vlan 10\n  vdp vsi-type 7 version 1\n  max-ports 1\n  state enabled\n",
		"configure", "-s", visA.Sock)
	require.NoError(t, err)
	assert.Contains(t, edit, "committed")
	typ7 := func(host int, uuid, mac string) string {
		out, _ := ll[host].VDPTool("-T", "-W", "-V", "assoc", "-c", "mode=assoc", "-c", "mgrid2=niv", "-c", "typeid=7", "-c", "typeidver=1",
			"-c", "uuid="+uuid, "-c", "hints=none", "-c", "filter=10-"+mac)
		return out
	}
	var out7 string
	require.Eventually(t, func() bool {
		out7 = typ7(1, "b2412857-60f7-4ce1-e95a-2164943f5307", "02:e5:00:00:20:07")
		return strings.Contains(out7, "mode = assoc")
	}, 10*time.Second, 200*time.Millisecond, "VIS b admits VSI type 7 by the profile added on VIS a: %s", out7)
	var list7 []evbVSIShow
	require.NoError(t, json.Unmarshal([]byte(niv("show", "evb", "vsi", "mac", "02:e5:00:00:20:07", "-s", visB.Sock, "--json")), &list7))
	require.Len(t, list7, 1)
	assert.Equal(t, "db", list7[0].Profile)
	out7 = typ7(0, "b2412857-60f7-4ce1-e95a-2164943f5308", "02:e5:00:00:20:08")
	t.Logf("vdptool assoc typeid=7 on host A (db has max-ports 1, taken on VIS b):\n%s", out7)
	assert.Contains(t, out7, "Error returned by Bridge: Insufficient resources at bridge", "max-ports across the fleet")
	assert.Contains(t, visA.LogText(), "at max-ports across the fleet")

	// VIS a dies: its lease expires and VM 2's vEth is held by no VIS.
	time.Sleep(1500 * time.Millisecond) // VM 2's counts checkpointed
	before2 := veth(visA, on[1].VEth)
	require.NotZero(t, before2.Counters.RxFrames+before2.Counters.TxFrames)
	visA.Kill()
	killed := time.Now()
	require.Eventually(t, func() bool { return !record(1).Held }, 15*time.Second, 50*time.Millisecond, "VIS a's lease expired")
	t.Logf("VM 2's vEth unheld %v after VIS a's kill -9", time.Since(killed).Round(10*time.Millisecond))

	// VM 2 starts again on host B; host B's lldpad associates it on VIS b.
	unplug(1)
	plug(1, 1)
	assoc(1, 1)
	mark("VM 2 associated on VIS b")
	after2, ok := vsi(visB, 1)
	require.True(t, ok)
	assert.Equal(t, on[1].VEth, after2.VEth, "VM 2 keeps its vEth id")
	vb := veth(visB, after2.VEth)
	assert.True(t, vb.Bound)
	assert.Equal(t, "web", vb.Profile)
	// Kept, but for what VIS a counted after its last checkpoint (up to
	// one interval, 1 s, with no traffic running: a stray frame or two).
	assert.GreaterOrEqual(t, vb.Counters.RxFrames+3, before2.Counters.RxFrames, "counters kept")
	assert.GreaterOrEqual(t, vb.Counters.TxFrames+3, before2.Counters.TxFrames, "counters kept")
	assert.NotZero(t, vb.Counters.RxFrames+vb.Counters.TxFrames)
	rec = record(1)
	assert.True(t, rec.Held)
	assert.Equal(t, "visb", rec.Binding.VIS)
	assert.Equal(t, on[1].VEth, uint32(rec.ID))
	require.NoError(t, ping(0, 1), "VM 1 → VM 2, both on host B: through VIS b's relay")
	assert.GreaterOrEqual(t, veth(visB, after.VEth).Counters.RxFrames, va.Counters.RxFrames+3, "VIS b counts on from VIS a's counts")
	text := niv("show", "evb", "vsi", "-s", visB.Sock)
	t.Logf("VIS b: niv show evb vsi:\n%s", text)

	// VIS b is killed with -9 right after both VSIs' keep-alives (lldpad
	// drops a VSI whose keep-alive goes unanswered over R+1 ECP tries, 655
	// ms: VIS b must be back before the next, 2.6 s later) and started
	// again: the keep-alives re-associate both onto their vEths, ids from
	// the registry, bound again on VIS b's new lease, counters kept.
	time.Sleep(1500 * time.Millisecond) // a checkpoint interval
	var held [2]vethShow
	var kas [2]uint64
	for i := range vms {
		held[i] = veth(visB, on[i].VEth)
		v, _ := vsi(visB, i)
		kas[i] = v.Counters.KeepAlives
	}
	require.Eventually(t, func() bool {
		for i := range vms {
			if v, _ := vsi(visB, i); v.Counters.KeepAlives <= kas[i] {
				return false
			}
		}
		return true
	}, 10*time.Second, 30*time.Millisecond, "keep-alives of both VSIs")
	visB.Kill()
	killed = time.Now()
	require.NoError(t, visB.Start())
	require.Eventually(t, func() bool {
		for i := range vms {
			if v, ok := vsi(visB, i); !ok || v.VEth != on[i].VEth {
				return false
			}
		}
		return true
	}, 10*time.Second, 50*time.Millisecond, "the keep-alives re-associated both VSIs onto their vEths")
	t.Logf("both VSIs re-associated on VIS b %v after its kill -9", time.Since(killed).Round(10*time.Millisecond))
	for i := range vms {
		v := veth(visB, on[i].VEth)
		assert.True(t, v.Bound)
		assert.GreaterOrEqual(t, v.Counters.RxFrames+3, held[i].Counters.RxFrames, "VM %d: counters from the registry, within a checkpoint", i+1)
		rec = record(i)
		assert.True(t, rec.Held)
		assert.Equal(t, "visb", rec.Binding.VIS)
	}
	require.NoError(t, ping(0, 1), "through the restarted VIS b")
	mark("done")
}
