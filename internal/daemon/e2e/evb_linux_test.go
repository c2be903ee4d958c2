package e2e_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	pcapfile "github.com/nivkit/niv/internal/capture"
	"github.com/nivkit/niv/internal/daemon/conf"
	"github.com/nivkit/niv/internal/daemon/state"
	"github.com/nivkit/niv/internal/daemon/wire"
	"github.com/nivkit/niv/internal/dissect"
	"github.com/nivkit/niv/internal/lldpadtest"
	"github.com/nivkit/niv/internal/needs"
	"github.com/nivkit/niv/internal/tshark"
)

type evbVSIJSON struct {
	Interface   string   `json:"interface"`
	VSIID       string   `json:"vsiid"`
	TypeID      uint32   `json:"type_id"`
	TypeVersion uint8    `json:"type_version"`
	Mode        string   `json:"mode"`
	VLAN        uint16   `json:"vlan"`
	MACs        []string `json:"macs"`
	VEth        uint32   `json:"veth"`
	Profile     string   `json:"profile"`
	Counters    struct {
		Requests, KeepAlives, Responses uint64
	} `json:"vdp_counters"`
}

type evbJSON struct {
	Counters struct {
		Admitted, Refused, KeepAlives, Expired, Migrations uint64
	} `json:"counters"`
	Interfaces []struct {
		Interface       string `json:"interface"`
		Station         bool   `json:"station"`
		ReflectiveRelay bool   `json:"reflective_relay"`
		RKA             uint8  `json:"rka"`
		VSIs            int    `json:"vsis"`
		UnknownVSIDrops uint64 `json:"unknown_vsi_drops"`
	} `json:"interfaces"`
}

// evbVISConfig is a VIS with one evb port (PVID 10) and the profile that
// VSI type 5 version 1 maps to. Keep-alives at RKA 18 (2.6 s).
func evbVISConfig(dir, linux string) string {
	return fmt.Sprintf(`hostname evbvis
niv store %[1]s/evbvis.db
niv socket %[1]s/evbvis.sock
niv checkpoint-interval 1
niv metrics 127.0.0.1:9311
evb keep-alive 18
!
interface ethernet1/5
  description kvm host
  switchport mode evb
  switchport trunk native vlan 10
  linux-interface %[2]s
!
port-profile type vethernet web
  switchport mode access
  switchport access vlan 10
  vdp vsi-type 5 version 1
  state enabled
`, dir, linux)
}

var evbVMs = []struct{ mac, ip, uuid string }{
	{"02:e5:00:00:10:01", "10.77.0.1", "a1412857-60f7-4ce1-e95a-2164943f5301"},
	{"02:e5:00:00:10:02", "10.77.0.2", "a1412857-60f7-4ce1-e95a-2164943f5302"},
}

// nxMAC writes a MAC as NX-OS does (0252.5400.0001).
func nxMAC(s string) string {
	m, ok := conf.ParseMAC(s)
	if !ok {
		panic(s)
	}
	return conf.FormatMAC(m)
}

func vdptoolArgs(mode, typeid, uuid, filter string) []string {
	return []string{"-T", "-W", "-V", "assoc", "-c", "mode=" + mode, "-c", "mgrid2=niv", "-c", "typeid=" + typeid, "-c", "typeidver=1",
		"-c", "uuid=" + uuid, "-c", "hints=none", "-c", "filter=" + filter}
}

// TestEVBLLDPadStation is the macvlan-VEPA lab against the daemon: `niv
// vis` with an evb port on one end of a veth; on the other, a KVM host's
// NIC with two macvlan VEPA devices (the VMs, each in a namespace) and
// lldpad as the host's VDP station. lldpad hears the VIS's EVB TLV;
// vdptool associates each VM's MAC (one with the VID wildcard, one in VLAN
// 10), VSI type 5 version 1, which the VIS maps to port-profile web. The
// VMs reach each other by ping and TCP only through the VIS's reflective
// relay: before association the VIS drops their frames. A VSI type the
// VIS does not know is refused, and vdptool prints lldpad's error. After
// kill -9 and a restart of the daemon, lldpad's keep-alives re-associate
// both VSIs onto the same vEths, their counters kept. A De-Associate
// removes VM 1's vEth and its frames are dropped and counted; a killed
// lldpad's VSI expires (unsolicited De-Associate). tshark decodes every
// ECP and VDP field of the capture as niv's decoder does.
func TestEVBLLDPadStation(t *testing.T) {
	needs.Tool(t, "lldpad")
	tsharkBin := needs.Tool(t, "tshark")
	needs.Tool(t, "tcpdump")
	needs.Tool(t, "ping")
	iperf := needs.Tool(t, "iperf3")
	start := time.Now()
	mark := func(what string) { t.Logf("%5.1f s: %s", time.Since(start).Seconds(), what) }
	l := newLabPrefix(t, fmt.Sprintf("evbd%d", os.Getpid()%1000))
	visNS, hostNS := l.ns("vis"), l.ns("kvm")
	p := l.pfx
	e0, e1 := p+"e0", p+"e1"
	sysctl := func(ns, kv string) {
		require.NoError(t, exec.Command("ip", "netns", "exec", ns, "sysctl", "-qw", kv).Run())
	}
	// No IPv6 on the host: nothing but the VMs' frames reaches the VIS.
	sysctl(hostNS, "net.ipv6.conf.all.disable_ipv6=1")
	sysctl(hostNS, "net.ipv6.conf.default.disable_ipv6=1")
	l.link(e0, visNS, e1, hostNS)
	var vmNS [2]string
	for i, vm := range evbVMs {
		vmNS[i] = l.ns(fmt.Sprintf("vm%d", i+1))
		dev := fmt.Sprintf("%sm%d", p, i+1)
		l.ip("-n", hostNS, "link", "add", "link", e1, "name", dev, "address", vm.mac, "mtu", "1500", "type", "macvlan", "mode", "vepa")
		l.ip("-n", hostNS, "link", "set", dev, "netns", vmNS[i])
		sysctl(vmNS[i], "net.ipv6.conf.all.disable_ipv6=1")
		l.ip("-n", vmNS[i], "addr", "add", vm.ip+"/24", "dev", dev)
		l.ip("-n", vmNS[i], "link", "set", dev, "up")
	}
	inVM := func(i int, args ...string) *exec.Cmd {
		return exec.Command("ip", append([]string{"netns", "exec", vmNS[i]}, args...)...)
	}
	ping := func(from, to int) error {
		out, err := inVM(from, "ping", "-c", "3", "-i", "0.2", "-W", "1", evbVMs[to].ip).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	}

	// tcpdump on the VIS's side of the link.
	capture := func(file string, args ...string) (stop func()) {
		return lldpadtest.CaptureIn(t, visNS, e0, file, args...)
	}
	// LLDP and ECP, all along.
	pcap := filepath.Join(l.dir, "evb.pcap")
	stopCapture := capture(pcap, "ether proto 0x8940 or ether proto 0x88cc")

	sock := l.dir + "/evbvis.sock"
	vis := l.daemon("vis", visNS, l.write("evbvis.conf", evbVISConfig(l.dir, e0)), sock)
	mark("niv vis up (niv built, lab made)")
	ll := lldpadtest.Start(t, lldpadtest.Attach(t, hostNS, e1), lldpadtest.Conf{RRReq: true, R: 3, RTE: 14, RWD: 20, RKA: 18})
	ll.WaitUp(t, 15*time.Second)

	// lldpad took the VIS's bridge EVB TLV: reflective relay on.
	var evbOut string
	require.Eventually(t, func() bool {
		evbOut, _ = ll.EVB()
		return strings.Contains(evbOut, "bridge:rrcap,rrctr")
	}, 15*time.Second, 200*time.Millisecond, "lldpad never took the VIS's EVB TLV")
	mark("lldpad took the VIS's EVB TLV")
	t.Logf("lldptool -V evb:\n%s", evbOut)

	// Before any association the VIS relays nothing and counts the drops.
	assert.Error(t, ping(0, 1), "no VSI associated: no relay")
	var e evbJSON
	l.json(&e, "show", "evb", "-s", sock)
	require.Len(t, e.Interfaces, 1)
	assert.True(t, e.Interfaces[0].Station, "the VIS heard lldpad's station TLV")
	assert.True(t, e.Interfaces[0].ReflectiveRelay)
	assert.EqualValues(t, 18, e.Interfaces[0].RKA)
	assert.NotZero(t, e.Interfaces[0].UnknownVSIDrops)

	// Associate both VMs (lldpad enables VDP a few seconds after start).
	filters := []string{"0-" + evbVMs[0].mac, "10-" + evbVMs[1].mac}
	for i, vm := range evbVMs {
		var out string
		require.Eventually(t, func() bool {
			out, _ = ll.VDPTool(vdptoolArgs("assoc", "5", vm.uuid, filters[i])...)
			return strings.Contains(out, "mode = assoc")
		}, 30*time.Second, time.Second, "vdptool assoc VM %d: %s", i+1, out)
		t.Logf("vdptool assoc VM %d:\n%s", i+1, out)
	}
	mark("both VMs associated")
	out, err := ll.VDPTool("-t", "-V", "assoc")
	require.NoError(t, err)
	t.Logf("vdptool -t:\n%s", out)
	assert.Contains(t, out, "filter = 10-"+evbVMs[0].mac, "lldpad adopted the VID the VIS filled in")

	vsis := func() map[string]evbVSIJSON {
		var list []evbVSIJSON
		l.json(&list, "show", "evb", "vsi", "-s", sock)
		m := map[string]evbVSIJSON{}
		for _, v := range list {
			m[v.VSIID] = v
		}
		return m
	}
	before := vsis()
	require.Len(t, before, 2)
	for i, vm := range evbVMs {
		v := before[vm.uuid]
		assert.Equal(t, "Ethernet1/5", v.Interface)
		assert.Equal(t, "assoc", v.Mode)
		assert.EqualValues(t, 10, v.VLAN)
		assert.Equal(t, "web", v.Profile)
		assert.Equal(t, []string{nxMAC(vm.mac)}, v.MACs)
		assert.NotZero(t, v.VEth, "VM %d has a vEth", i+1)
	}
	text, err := l.niv("show", "evb", "vsi", "-s", sock)
	require.NoError(t, err)
	t.Logf("niv show evb vsi:\n%s", text)
	var one []evbVSIJSON
	l.json(&one, "show", "evb", "vsi", "mac", nxMAC(evbVMs[1].mac), "interface", "ethernet1/5", "-s", sock)
	require.Len(t, one, 1, "show evb vsi mac M interface I")
	assert.Equal(t, evbVMs[1].uuid, one[0].VSIID)
	text, err = l.niv("show", "evb", "vsi", "detail", "mac", evbVMs[0].mac, "-s", sock)
	require.NoError(t, err)
	assert.Contains(t, text, "VSI "+evbVMs[0].uuid+" (format UUID) on Ethernet1/5\n  Manager ID: niv\n  VSI type: 5 version 1\n  State: assoc\n")
	assert.Contains(t, text, "Total VSIs: 1")
	_, err = l.niv("show", "evb", "vsi", "colour", "-s", sock)
	assert.Error(t, err, "a bad show evb vsi argument is refused")

	// Through the reflective relay: ping both ways, each frame seen going
	// up to the VIS and coming back, the same frame; then TCP.
	upPcap, downPcap := filepath.Join(l.dir, "up.pcap"), filepath.Join(l.dir, "down.pcap")
	stopUp, stopDown := capture(upPcap, "-Q", "in", "icmp"), capture(downPcap, "-Q", "out", "icmp")
	require.NoError(t, ping(0, 1), "VM 1 → VM 2 through the relay")
	require.NoError(t, ping(1, 0), "VM 2 → VM 1")
	stopUp()
	stopDown()
	icmp := func(file string) []string {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		fs, err := tshark.Fields(ctx, tsharkBin, file, []string{"eth.src", "eth.dst", "vlan.id", "ip.src", "ip.dst", "icmp.type", "icmp.seq"})
		require.NoError(t, err)
		var lines []string
		for _, f := range fs {
			lines = append(lines, fmt.Sprint(f["eth.src"], f["eth.dst"], f["vlan.id"], f["ip.src"], f["ip.dst"], f["icmp.type"], f["icmp.seq"]))
		}
		slices.Sort(lines)
		return slices.Compact(lines)
	}
	up, down := icmp(upPcap), icmp(downPcap)
	assert.Len(t, up, 12, "3 requests and 3 replies each way went up")
	assert.Equal(t, up, down, "and each came back out of the same port")
	for _, line := range up {
		assert.Contains(t, line, " [] [10.77.0.", "untagged on the link (PVID 10): %s", line)
	}
	srv := inVM(1, iperf, "-s", "-1", "-B", evbVMs[1].ip)
	require.NoError(t, srv.Start())
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	time.Sleep(300 * time.Millisecond)
	out2, err := inVM(0, iperf, "-c", evbVMs[1].ip, "-n", "2M", "--connect-timeout", "3000", "-J").CombinedOutput()
	require.NoError(t, err, "%s", out2)
	assert.Contains(t, string(out2), `"bytes":	2097152`, "iperf3 moved its 2 MiB through the VIS")

	v1 := before[evbVMs[0].uuid].VEth
	var veth vethJSON
	l.json(&veth, "show", "interface", "vethernet", fmt.Sprint(v1), "-s", sock)
	assert.Equal(t, "Ethernet1/5", veth.Interface)
	assert.True(t, veth.Bound)
	assert.NotZero(t, veth.Counters.RxFrames)
	assert.NotZero(t, veth.Counters.TxFrames)
	text, _ = l.niv("show", "interface", "vethernet", fmt.Sprint(v1), "-s", sock)
	t.Logf("niv show interface vethernet %d:\n%s", v1, text)
	assert.Contains(t, text, "Bound Interface is Ethernet1/5 (EVB), VSI "+evbVMs[0].uuid)
	text, _ = l.niv("show", "mac", "address-table", "-s", sock)
	assert.Contains(t, text, fmt.Sprintf("Vethernet%d", v1))
	// The running configuration shows the VSIs' vEths, and reads back.
	text, err = l.niv("show", "running-config", "-s", sock)
	require.NoError(t, err)
	assert.Contains(t, text, fmt.Sprintf("interface Vethernet%d\n  description VSI %s on Ethernet1/5\n  inherit port-profile web\n", v1, evbVMs[0].uuid))
	rc, err := conf.ParseVIS(text)
	require.NoError(t, err, text)
	assert.Len(t, rc.VEths, 2)
	text, _ = l.niv("show", "evb", "-s", sock)
	t.Logf("niv show evb:\n%s", text)
	text, _ = l.niv("show", "evb", "hosts", "-s", sock)
	t.Logf("niv show evb hosts:\n%s", text)
	assert.Contains(t, text, "Total hosts: 2")
	// The station is lldpad on the host's NIC: its LLDPDUs come from the
	// NIC's MAC, the Chassis ID a MAC address (subtype 4).
	nicOut, err := exec.Command("ip", "-n", hostNS, "-br", "link", "show", "dev", e1).Output()
	require.NoError(t, err)
	nic := nxMAC(strings.Fields(string(nicOut))[2])
	assert.Regexp(t, `Ethernet1/5 +`+regexp.QuoteMeta(nic)+` `, text, "the station's chassis MAC on Ethernet1/5")
	var hosts []struct {
		MAC     string `json:"mac"`
		Station *struct {
			ChassisID        string `json:"chassis_id"`
			ChassisIDSubtype uint8  `json:"chassis_id_subtype"`
			TTL              uint16 `json:"ttl"`
			MAC              string `json:"source_mac"`
		} `json:"station"`
	}
	l.json(&hosts, "show", "evb", "hosts", "-s", sock)
	require.Len(t, hosts, 2)
	for _, h := range hosts {
		require.NotNil(t, h.Station, "host %s: its station", h.MAC)
		assert.Equal(t, nic, h.Station.MAC)
		assert.Equal(t, nic, h.Station.ChassisID)
		assert.EqualValues(t, 4, h.Station.ChassisIDSubtype)
		assert.NotZero(t, h.Station.TTL)
	}

	// A VSI type the VIS does not map: lldpad prints the bridge's error.
	out, _ = ll.VDPTool(vdptoolArgs("assoc", "9", "a1412857-60f7-4ce1-e95a-2164943f5309", "10-02:e5:00:00:10:09")...)
	t.Logf("vdptool assoc typeid=9:\n%s", out)
	assert.Contains(t, out, "Error returned by Bridge: Other Failures")
	assert.Contains(t, out, "mode = deassoc")

	// kill -9 the VIS right after both VSIs' keep-alives (lldpad gives a
	// keep-alive R+1 = 4 ECP transmissions 164 ms apart and, unanswered,
	// drops the VSI: the VIS must be back before the next keep-alive, 2.6
	// s later), then restart it.
	time.Sleep(1200 * time.Millisecond) // past a counter checkpoint since the traffic
	base := vsis()
	var c0 vethJSON
	l.json(&c0, "show", "interface", "vethernet", fmt.Sprint(v1), "-s", sock)
	require.Eventually(t, func() bool {
		now := vsis()
		for _, vm := range evbVMs {
			if now[vm.uuid].Counters.KeepAlives <= base[vm.uuid].Counters.KeepAlives {
				return false
			}
		}
		return true
	}, 10*time.Second, 30*time.Millisecond)
	mark("kill -9")
	vis.kill9()
	killed := time.Now()
	vis.start()
	t.Logf("VIS answering again %v after kill -9", time.Since(killed).Round(time.Millisecond))
	var after map[string]evbVSIJSON
	require.Eventually(t, func() bool {
		after = vsis()
		return len(after) == 2 && after[evbVMs[0].uuid].VEth != 0 && after[evbVMs[1].uuid].VEth != 0
	}, 10*time.Second, 50*time.Millisecond, "the station's keep-alives re-associated both VSIs")
	t.Logf("both VSIs re-associated %v after kill -9", time.Since(killed).Round(time.Millisecond))
	for _, vm := range evbVMs {
		assert.Equal(t, before[vm.uuid].VEth, after[vm.uuid].VEth, "VSI %s onto the same vEth", vm.uuid)
	}
	var c1 vethJSON
	l.json(&c1, "show", "interface", "vethernet", fmt.Sprint(v1), "-s", sock)
	assert.GreaterOrEqual(t, c1.Counters.RxFrames, c0.Counters.RxFrames, "the counters survived kill -9")
	assert.GreaterOrEqual(t, c1.Counters.TxFrames, c0.Counters.TxFrames)
	assert.Contains(t, vis.logText(), "VSI re-associated onto its vEth")
	require.NoError(t, ping(0, 1), "traffic through the relay again")
	out, err = ll.VDPTool("-t", "-V", "assoc")
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(out, "mode = assoc"), "lldpad's station still has both: %s", out)

	// De-associate VM 1: its vEth goes, its frames are dropped and counted.
	out, err = ll.VDPTool(vdptoolArgs("deassoc", "5", evbVMs[0].uuid, "10-"+evbVMs[0].mac)...)
	require.NoError(t, err, out)
	t.Logf("vdptool deassoc:\n%s", out)
	assert.Contains(t, out, "mode = deassoc")
	require.Eventually(t, func() bool { return len(vsis()) == 1 }, 5*time.Second, 50*time.Millisecond)
	_, err = l.niv("show", "interface", "vethernet", fmt.Sprint(v1), "-s", sock)
	assert.Error(t, err, "VM 1's vEth was removed")
	l.json(&e, "show", "evb", "-s", sock)
	dropsBefore := e.Interfaces[0].UnknownVSIDrops
	assert.Error(t, ping(0, 1), "VM 1 de-associated: no relay")
	l.json(&e, "show", "evb", "-s", sock)
	assert.Greater(t, e.Interfaces[0].UnknownVSIDrops, dropsBefore, "VM 1's frames dropped at the VIS, counted")
	var body []byte
	require.NoError(t, wire.InNetns(visNS, func() error {
		c, err := net.Dial("tcp4", "127.0.0.1:9311")
		if err != nil {
			return err
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /metrics HTTP/1.0\r\nHost: vis\r\n\r\n")
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		body, err = io.ReadAll(c)
		return err
	}))
	assert.Regexp(t, `niv_evb_unknown_vsi_drops_total\{interface="Ethernet1/5"\} [1-9]`, string(body))
	assert.Contains(t, string(body), "\nniv_vdp_taken_total 0\n", "no fleet: nothing taken")
	assert.Regexp(t, fmt.Sprintf(`niv_vdp_vsi_requests_total\{interface="Ethernet1/5",veth="%d",vsiid="%s"\} [1-9]`, before[evbVMs[1].uuid].VEth, evbVMs[1].uuid), string(body))

	// lldpad crashes: VM 2's VSI expires at the VIS (keep-alive timeout,
	// 1.5 × (7 × 164 ms + 2.6 s) = 5.65 s after its last keep-alive), which
	// sends the unsolicited De-Associate and removes the vEth.
	mark("VM 1 de-associated; lldpad killed")
	ll.Kill()
	require.Eventually(t, func() bool { return len(vsis()) == 0 }, 15*time.Second, 100*time.Millisecond)
	l.json(&e, "show", "evb", "-s", sock)
	assert.NotZero(t, e.Counters.Expired)
	assert.Contains(t, vis.logText(), "VSI ended (keep-alive timeout)")

	mark("VM 2's VSI expired")
	// tshark and niv's decoder agree on every ECP/VDP field of the capture.
	stopCapture()
	compareECP(t, tsharkBin, pcap)
	t.Logf("test took %v", time.Since(start).Round(100*time.Millisecond))
}

// compareECP decodes the ECP frames of pcap with tshark and with niv
// (internal/dissect, what `niv decode` prints) and compares every ecp.*
// and vdp21.* field niv decodes; niv's filter fields are vdp.filter.*
// because tshark's vdp21 dissector mis-decodes the filter entries
// (vdp-ecp.md §6), so those are not compared.
func compareECP(t *testing.T, bin, pcap string) {
	f, err := os.Open(pcap)
	require.NoError(t, err)
	pk, err := pcapfile.ReadAll(f)
	f.Close()
	require.NoError(t, err)
	var names []string
	for _, n := range dissect.Names {
		if strings.HasPrefix(n, "ecp.") || strings.HasPrefix(n, "vdp21.") {
			names = append(names, n)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	got, err := tshark.Fields(ctx, bin, pcap, names)
	require.NoError(t, err)
	require.Len(t, got, len(pk))
	nECP, nVDP, nLLDP := 0, 0, 0
	var fr dissect.Frame
	for i, p := range pk {
		if len(p.Data) < 14 {
			continue
		}
		switch binary.BigEndian.Uint16(p.Data[12:]) {
		case 0x88cc:
			nLLDP++
			continue
		case 0x8940:
		default:
			continue
		}
		nECP++
		dissect.Dissect(p.Data, &fr)
		require.NoError(t, fr.Err, "frame %d", i+1)
		if len(fr.Get(dissect.VDPTLVType)) > 0 {
			nVDP++
		}
		for _, n := range names {
			var ours, theirs []string
			for _, x := range fr.Get(n) {
				ours = append(ours, tshark.Canonical(x.Value()))
			}
			for _, v := range got[i][n] {
				theirs = append(theirs, tshark.Canonical(v))
			}
			assert.Equal(t, theirs, ours, "frame %d %s", i+1, n)
		}
	}
	t.Logf("capture: %d LLDP frames, %d ECP frames (%d VDPDUs); tshark agreed with niv on every ecp/vdp21 field", nLLDP, nECP, nVDP)
	assert.Greater(t, nVDP, 10)
	assert.Greater(t, nLLDP, 2)
}

// TestEVBStaleVSIDropped: a VIS restarted with a VSI's vEth in its store
// keeps it, unbound and waiting for its station; when no station
// re-associates it within twice the keep-alive timeout (here, with keep-alive
// exponent 14, 2 × 1.5 × (7 × 164 ms + 164 ms) = 3.9 s), the vEth is
// deleted from the store.
func TestEVBStaleVSIDropped(t *testing.T) {
	l := newLabPrefix(t, fmt.Sprintf("evbs%d", os.Getpid()%1000))
	visNS, hostNS := l.ns("vis"), l.ns("kvm")
	e0, e1 := l.pfx+"e0", l.pfx+"e1"
	l.link(e0, visNS, e1, hostNS)
	src := strings.Replace(evbVISConfig(l.dir, e0), "evb keep-alive 18", "evb keep-alive 14", 1)
	uuid := [16]byte{0xa1, 0x41, 0x28, 0x57, 15: 0x77}
	st, err := state.Open(l.dir + "/evbvis.db")
	require.NoError(t, err)
	require.NoError(t, st.PutVEth(state.VEth{ID: 7, Instance: uuid, MAC: [6]byte{2, 0xe5, 0, 0, 0x10, 7}, Profile: "web", VLAN: 10, Up: true,
		Port: "Ethernet1/5", Bound: true, VSI: &state.VSI{IDFormat: 5, TypeID: 5, TypeVersion: 1, MACs: [][6]byte{{2, 0xe5, 0, 0, 0x10, 7}}}}))
	require.NoError(t, st.PutNext(7))
	require.NoError(t, st.Close())

	sock := l.dir + "/evbvis.sock"
	started := time.Now()
	vis := l.daemon("vis", visNS, l.write("evbvis.conf", src), sock)
	var v vethJSON
	l.json(&v, "show", "interface", "vethernet", "7", "-s", sock)
	assert.False(t, v.Bound, "restored, not bound until its station re-associates it")
	text, _ := l.niv("show", "interface", "vethernet", "7", "-s", sock)
	assert.Contains(t, text, "waiting for its station's keep-alive")
	require.Eventually(t, func() bool {
		_, err := l.niv("show", "interface", "vethernet", "7", "-s", sock)
		return err != nil
	}, 10*time.Second, 50*time.Millisecond, "the stale VSI vEth was never dropped")
	t.Logf("stale VSI vEth dropped %v after the start", time.Since(started).Round(10*time.Millisecond))
	assert.Contains(t, vis.logText(), "VSI not re-associated after the restart: vEth deleted")
	// Gone from the store too: a second restart does not bring it back.
	vis.kill9()
	vis.start()
	_, err = l.niv("show", "interface", "vethernet", "7", "-s", sock)
	assert.Error(t, err)
}

// TestEVBMigration: a VM moves between two KVM hosts on two evb ports of
// one VIS, each host with lldpad as its station. The VM's VSI associated
// on the second host keeps its vEth — id, profile, counters — bound now on
// the second port; the first host's lldpad gets the unsolicited
// De-Associate and drops the VSI; the VM reaches its peer on the second
// host through that port's reflective relay.
func TestEVBMigration(t *testing.T) {
	needs.Tool(t, "lldpad")
	needs.Tool(t, "ping")
	l := newLabPrefix(t, fmt.Sprintf("evbm%d", os.Getpid()%1000))
	visNS := l.ns("vis")
	p := l.pfx
	hosts := [2]string{l.ns("kvma"), l.ns("kvmb")}
	nics := [2]string{p + "a1", p + "b1"}
	sysctl := func(ns, kv string) {
		require.NoError(t, exec.Command("ip", "netns", "exec", ns, "sysctl", "-qw", kv).Run())
	}
	for i, h := range hosts {
		sysctl(h, "net.ipv6.conf.all.disable_ipv6=1")
		sysctl(h, "net.ipv6.conf.default.disable_ipv6=1")
		l.link([2]string{p + "a0", p + "b0"}[i], visNS, nics[i], h)
	}
	src := strings.Replace(evbVISConfig(l.dir, p+"a0"), "!\nport-profile", "!\ninterface ethernet1/6\n  switchport mode evb\n  switchport trunk native vlan 10\n  linux-interface "+p+"b0\n!\nport-profile", 1)
	sock := l.dir + "/evbvis.sock"
	l.daemon("vis", visNS, l.write("evbvis.conf", src), sock)
	// VM 1 starts on host A, VM 2 lives on host B.
	var vmNS [2]string
	plug := func(vm, host int) {
		dev := fmt.Sprintf("%sm%d", p, vm+1)
		l.ip("-n", hosts[host], "link", "add", "link", nics[host], "name", dev, "address", evbVMs[vm].mac, "mtu", "1500", "type", "macvlan", "mode", "vepa")
		l.ip("-n", hosts[host], "link", "set", dev, "netns", vmNS[vm])
		l.ip("-n", vmNS[vm], "addr", "add", evbVMs[vm].ip+"/24", "dev", dev)
		l.ip("-n", vmNS[vm], "link", "set", dev, "up")
	}
	for i := range 2 {
		vmNS[i] = l.ns(fmt.Sprintf("vm%d", i+1))
		sysctl(vmNS[i], "net.ipv6.conf.all.disable_ipv6=1")
		plug(i, i)
	}
	var ll [2]*lldpadtest.LLDPad
	for i, h := range hosts {
		ll[i] = lldpadtest.Start(t, lldpadtest.Attach(t, h, nics[i]), lldpadtest.Conf{RRReq: true, R: 3, RTE: 14, RWD: 20, RKA: 18})
	}
	for i := range ll {
		ll[i].WaitUp(t, 15*time.Second)
	}
	assoc := func(host, vm int) {
		var out string
		require.Eventually(t, func() bool {
			out, _ = ll[host].VDPTool(vdptoolArgs("assoc", "5", evbVMs[vm].uuid, "10-"+evbVMs[vm].mac)...)
			return strings.Contains(out, "mode = assoc")
		}, 30*time.Second, time.Second, "vdptool assoc VM %d on host %d: %s", vm+1, host, out)
	}
	assoc(0, 0)
	assoc(1, 1)
	ping := func() error {
		out, err := exec.Command("ip", "netns", "exec", vmNS[0], "ping", "-c", "3", "-i", "0.2", "-W", "1", evbVMs[1].ip).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	}
	require.NoError(t, ping(), "host A's VM 1 → host B's VM 2, across the VIS")
	vsi := func() evbVSIJSON {
		var list []evbVSIJSON
		l.json(&list, "show", "evb", "vsi", "mac", evbVMs[0].mac, "-s", sock)
		require.Len(t, list, 1)
		return list[0]
	}
	before := vsi()
	assert.Equal(t, "Ethernet1/5", before.Interface)
	var c0 vethJSON
	l.json(&c0, "show", "interface", "vethernet", fmt.Sprint(before.VEth), "-s", sock)
	require.NotZero(t, c0.Counters.RxFrames)

	// The migration: VM 1's vNIC leaves host A and appears on host B,
	// whose station associates the same VSI.
	l.ip("-n", vmNS[0], "link", "del", fmt.Sprintf("%sm1", p))
	plug(0, 1)
	assoc(1, 0)
	after := vsi()
	assert.Equal(t, "Ethernet1/6", after.Interface, "bound on host B's port now")
	assert.Equal(t, before.VEth, after.VEth, "the same vEth")
	var c1 vethJSON
	l.json(&c1, "show", "interface", "vethernet", fmt.Sprint(after.VEth), "-s", sock)
	assert.Equal(t, "Ethernet1/6", c1.Interface)
	assert.Equal(t, "web", c1.Profile)
	assert.GreaterOrEqual(t, c1.Counters.RxFrames, c0.Counters.RxFrames, "its counters came along")
	require.Eventually(t, func() bool {
		out, err := ll[0].VDPTool("-t", "-V", "assoc")
		return err == nil && !strings.Contains(out, evbVMs[0].uuid)
	}, 10*time.Second, 200*time.Millisecond, "host A's lldpad got the unsolicited De-Associate")
	require.NoError(t, ping(), "VM 1 → VM 2, both on host B now: through its port's reflective relay")
	var e evbJSON
	l.json(&e, "show", "evb", "-s", sock)
	assert.EqualValues(t, 1, e.Counters.Migrations)
	require.Len(t, e.Interfaces, 2)
	assert.Equal(t, 0, e.Interfaces[0].VSIs)
	assert.Equal(t, 2, e.Interfaces[1].VSIs)
}
