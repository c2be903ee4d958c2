package bind_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/internal/needs"
	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vdp"
	"github.com/nivkit/niv/vdp/ecp"
	"github.com/nivkit/niv/vic/bind"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vic/vis"
)

// evbLab is the macvlan-VEPA lab: a veth pair whose one end (host) plays
// a KVM host's NIC and the other (sw) is a VIS evb port whose PVID is 10;
// on the host NIC, two macvlan interfaces in VEPA mode, each in a
// namespace of its own (the VMs), untagged. A VEPA sends every frame of its VMs to
// the adjacent bridge, even one to a VM on the same host: the VMs reach
// each other only if the bridge relays the frame back (reflective relay).
type evbLab struct {
	t         *testing.T
	ip        string
	tag       string
	host, sw  string
	vmNS      [2]string
	vmMAC     [2][6]byte
	vmIP      [2]string
	core      *vis.VIS
	plane     *bind.EVBPlane
	st        *vdp.StationRunner
	events    chan vdp.Action
	cancelRun context.CancelFunc
}

func (l *evbLab) run(name string, args ...string) string {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	require.NoError(l.t, err, "%s %v: %s", name, args, out)
	return string(out)
}

func (l *evbLab) inVM(i int, args ...string) *exec.Cmd {
	return exec.Command(l.ip, append([]string{"netns", "exec", l.vmNS[i]}, args...)...)
}

func newEVBLab(t *testing.T) *evbLab {
	needs.Root(t)
	l := &evbLab{t: t, ip: needs.Tool(t, "ip")}
	var rnd [2]byte
	_, _ = rand.Read(rnd[:])
	l.tag = hex.EncodeToString(rnd[:])
	l.host, l.sw = "nevbh"+l.tag, "nevbs"+l.tag
	l.run(l.ip, "link", "add", l.sw, "type", "veth", "peer", "name", l.host)
	t.Cleanup(func() { _ = exec.Command(l.ip, "link", "del", l.sw).Run() })
	for _, dev := range []string{l.sw, l.host} {
		// No IPv6 on the links: no router solicitations or DAD in the
		// captures, only what the VMs send.
		_ = exec.Command("sysctl", "-qw", "net.ipv6.conf."+strings.ReplaceAll(dev, ".", "/")+".disable_ipv6=1").Run()
		l.run(l.ip, "link", "set", dev, "up")
	}
	for i := range 2 {
		l.vmNS[i] = "nevb" + string(rune('1'+i)) + "-" + l.tag
		l.vmMAC[i] = [6]byte{0x02, 0xe5, 0, 0, 0x10, byte(i + 1)}
		l.vmIP[i] = "10.77.0." + string(rune('1'+i))
		ns, dev := l.vmNS[i], "nevbv"+string(rune('1'+i))+l.tag
		l.run(l.ip, "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command(l.ip, "netns", "del", ns).Run() })
		l.run(l.ip, "link", "add", "link", l.host, "name", dev, "address", macString(l.vmMAC[i]), "type", "macvlan", "mode", "vepa")
		l.run(l.ip, "link", "set", dev, "netns", ns)
		l.run(l.ip, "-n", ns, "link", "set", dev, "name", "eth0")
		_ = exec.Command(l.ip, "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1").Run()
		l.run(l.ip, "-n", ns, "addr", "add", l.vmIP[i]+"/24", "dev", "eth0")
		l.run(l.ip, "-n", ns, "link", "set", "eth0", "up")
		l.run(l.ip, "-n", ns, "link", "set", "lo", "up")
	}

	// The VIS: one evb port on sw, VDP's bridge on it.
	store := profile.NewMemStore()
	_, err := store.Update(func(tx *profile.Txn) error { return tx.Configure(evbProfiles) })
	require.NoError(t, err)
	l.core, err = vis.New(vis.Config{Store: store})
	require.NoError(t, err)
	t.Cleanup(l.core.Close)
	// With Offload, the VMs' TCP super-frames and partial checksums cross
	// the VIS as they are, and leave as the veth expects them.
	sw, err := port.OpenPacketWith(l.sw, port.PacketConfig{Offload: true})
	require.NoError(t, err)
	l.plane, err = bind.NewEVBPlane(l.core, store, bind.EVBConfig{},
		bind.EVBPort{Name: l.sw, W: bind.Writer{Port: sw}, ECP: ecp.DefaultConfig([6]byte{0x02, 0xe5, 0, 0, 0, 0xb}), PVID: 10})
	require.NoError(t, err)
	ports := make([]port.Port, l.plane.Port(0)+1)
	ports[l.plane.Port(0)] = sw
	ctx, cancel := context.WithCancel(context.Background())
	l.cancelRun = cancel
	done := make(chan error, 1)
	go func() { done <- port.Run(ctx, l.plane.Core(), ports, port.RunConfig{}) }()
	t.Cleanup(func() {
		cancel()
		<-done
		l.plane.Close()
	})

	// The host's VDP station on its NIC: ECP frames only.
	hp, err := port.OpenPacket(l.host, port.EtherTypeFilter(0x8940))
	require.NoError(t, err)
	sp, err := ecp.NewSpeaker(bind.Writer{Port: hp}, ecp.DefaultConfig([6]byte{0x02, 0xe5, 0, 0, 0, 0xa}))
	require.NoError(t, err)
	l.events = make(chan vdp.Action, 64)
	l.st = vdp.NewStationRunner(vdp.NewStation(vdp.StationConfig{Timers: vdp.DefaultTimers}), sp, func(a vdp.Action) { l.events <- a })
	sp.Register(ecp.SubtypeVDP, l.st)
	go func() {
		b := port.NewBatch(16)
		for {
			if err := hp.Read(b); err != nil {
				if errors.Is(err, port.ErrClosed) {
					return
				}
				continue
			}
			for _, f := range b.Valid() {
				sp.Receive(f.Bytes())
			}
		}
	}()
	t.Cleanup(func() { l.st.Close(); sp.Close(); _ = hp.Close() })
	return l
}

func macString(m [6]byte) string {
	var b strings.Builder
	for i, x := range m {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(hex.EncodeToString([]byte{x}))
	}
	return b.String()
}

// vsi is VM i's VSI: type 5 version 1 (profile web, VLAN 10), its MAC
// with the wildcard VID, which the VIS fills with 10: the port's PVID, so
// untagged on the link.
func (l *evbLab) vsi(mode vdp.TLVType, i int) *vdp.VSI {
	return &vdp.VSI{Mode: mode, TypeID: 5, TypeVersion: 1, IDFormat: vdp.VSIIDUUID, ID: vsiID(byte(0x40 + i)),
		FilterFormat: vdp.FilterMACVID, Filters: []vdp.Filter{{MAC: l.vmMAC[i]}}}
}

func (l *evbLab) ask(v *vdp.VSI) vdp.Action {
	l.t.Helper()
	require.NoError(l.t, l.st.Request(mgr, v))
	select {
	case a := <-l.events:
		return a
	case <-time.After(20 * time.Second):
		l.t.Fatal("no VDP answer from the VIS")
	}
	return vdp.Action{}
}

func (l *evbLab) ping(from, to int) error {
	out, err := l.inVM(from, "ping", "-c", "3", "-i", "0.2", "-W", "1", l.vmIP[to]).CombinedOutput()
	if err != nil {
		return errors.New(string(out))
	}
	return nil
}

// TestEVBLabMacvlanVEPA: two VMs on macvlan VEPA interfaces of one host
// reach each other through the VIS's reflective relay once niv's station
// associated their VSIs, by ping and TCP; the link shows each frame going
// up and coming back; once VM 1's VSI is de-associated, its frames are
// dropped at the VIS.
func TestEVBLabMacvlanVEPA(t *testing.T) {
	l := newEVBLab(t)
	tcpdump := needs.Tool(t, "tcpdump")
	tshark := needs.Tool(t, "tshark")
	needs.Tool(t, "ping")
	iperf := needs.Tool(t, "iperf3")

	// Before any association the VIS drops the VMs' frames.
	assert.Error(t, l.ping(0, 1), "no VSI associated: no relay")
	pc, _ := l.core.PortCounters(l.plane.Port(0))
	assert.NotZero(t, pc.Drops[vis.DropUnknownVSI])

	for i := range 2 {
		a := l.ask(l.vsi(vdp.TypeAssociate, i))
		require.Equal(t, vdp.TypeAssociate, a.Mode)
		require.Equal(t, vdp.CodeSuccess, a.Code)
		require.Len(t, a.Filters, 1)
		assert.EqualValues(t, 10, a.Filters[0].VID, "the wildcard filled")
	}

	// Capture both directions of the VIS's side of the link apart: what
	// goes up (in) and what comes back (out).
	dir := t.TempDir()
	upPcap, downPcap := filepath.Join(dir, "up.pcap"), filepath.Join(dir, "down.pcap")
	var caps []*exec.Cmd
	for _, c := range []struct{ q, file string }{{"in", upPcap}, {"out", downPcap}} {
		cmd := exec.Command(tcpdump, "-i", l.sw, "-Q", c.q, "-U", "-w", c.file, "icmp or tcp port 5201")
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		caps = append(caps, cmd)
	}
	time.Sleep(time.Second) // tcpdump attaches
	require.NoError(t, l.ping(0, 1), "VM 1 → VM 2 through the relay")
	require.NoError(t, l.ping(1, 0), "VM 2 → VM 1")

	// TCP: iperf3 server in VM 2, client in VM 1.
	srv := l.inVM(1, iperf, "-s", "-1", "-B", l.vmIP[1])
	require.NoError(t, srv.Start())
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	time.Sleep(500 * time.Millisecond)
	out, err := l.inVM(0, iperf, "-c", l.vmIP[1], "-n", "2M", "--connect-timeout", "3000", "-J").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), `"bits_per_second"`)

	time.Sleep(500 * time.Millisecond)
	for _, c := range caps {
		_ = c.Process.Signal(interruptSignal)
		_ = c.Wait()
	}
	fields := func(file string, filter string, f ...string) []string {
		args := []string{"-r", file, "-Y", filter, "-T", "fields"}
		for _, x := range f {
			args = append(args, "-e", x)
		}
		out, err := exec.Command(tshark, args...).Output()
		require.NoError(t, err, "%s", out)
		return strings.Split(strings.TrimSpace(string(out)), "\n")
	}
	icmp := func(file string) []string {
		lines := fields(file, "icmp", "eth.src", "eth.dst", "vlan.id", "ip.src", "ip.dst", "icmp.type", "icmp.seq")
		slices.Sort(lines)
		return slices.Compact(lines)
	}
	up, down := icmp(upPcap), icmp(downPcap)
	t.Logf("ICMP up:\n%s\nback:\n%s", strings.Join(up, "\n"), strings.Join(down, "\n"))
	assert.Len(t, up, 12, "3 requests and 3 replies each way")
	assert.Equal(t, up, down, "every ICMP frame that went up came back, the same frame")
	for _, line := range up {
		assert.Contains(t, line, "\t\t10.77.0.", "untagged on the link: %s", line)
	}
	// The TCP handshake went up and came back, frame for frame; the data
	// did too (its segmentation on each side of the VIS is the kernel's:
	// the bytes are counted by iperf3, and the capture may miss some).
	syn := func(file string) []string {
		lines := fields(file, "tcp.port == 5201 && tcp.flags.syn == 1", "eth.src", "eth.dst", "tcp.srcport", "tcp.dstport", "tcp.seq_raw", "tcp.flags")
		slices.Sort(lines)
		return slices.Compact(lines)
	}
	synUp, synDown := syn(upPcap), syn(downPcap)
	assert.Len(t, synUp, 4, "SYN and SYN-ACK of iperf3's control and data connections: %v", synUp)
	assert.Equal(t, synUp, synDown)
	n := func(file string) int { return len(fields(file, "tcp.port == 5201 && tcp.len > 0", "frame.number")) }
	assert.NotZero(t, n(upPcap))
	assert.NotZero(t, n(downPcap))
	assert.Contains(t, string(out), `"bytes":	2097152`, "iperf3 moved its 2 MiB")

	v0, ok := l.plane.VEth(vdp.VSIIDUUID, vsiID(0x40))
	require.True(t, ok)
	c, _ := l.core.Counters(v0)
	assert.NotZero(t, c.RxFrames)
	assert.NotZero(t, c.TxFrames)

	// De-associate VM 1: its frames are dropped at the VIS.
	a := l.ask(l.vsi(vdp.TypeDeAssociate, 0))
	assert.Zero(t, a.Mode)
	require.Eventually(t, func() bool { _, ok := l.plane.VEth(vdp.VSIIDUUID, vsiID(0x40)); return !ok }, 5*time.Second, 10*time.Millisecond)
	before, _ := l.core.PortCounters(l.plane.Port(0))
	assert.Error(t, l.ping(0, 1), "VM 1 de-associated: no relay")
	after, _ := l.core.PortCounters(l.plane.Port(0))
	assert.Greater(t, after.Drops[vis.DropUnknownVSI], before.Drops[vis.DropUnknownVSI])
	// VM 2 is still associated, but its frames to VM 1 get no answer.
	assert.Error(t, l.ping(1, 0))
}
