package e2e_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/internal/daemon/wire"
)

type vethJSON struct {
	ID        uint32 `json:"id"`
	Profile   string `json:"profile"`
	Interface string `json:"interface"`
	Channel   uint16 `json:"channel"`
	Bound     bool   `json:"bound"`
	MAC       string `json:"mac"`
	Counters  struct {
		RxFrames, RxBytes, TxFrames, TxBytes, Drops uint64
	} `json:"counters"`
}

type vnicJSON struct {
	Name  string `json:"name"`
	State string `json:"state"`
	VIF   int    `json:"vif"`
	VEth  uint32 `json:"veth"`
	Epoch uint32 `json:"epoch"`
}

// checkpoint is the counter checkpoint interval the VIS is configured with.
const checkpoint = time.Second

func visConfig(l *lab, v1, v2, trunk string) string {
	return fmt.Sprintf(`hostname vis1
niv store %[1]s/vis1.db
niv socket %[1]s/vis1.sock
niv checkpoint-interval %[5]d
niv metrics 127.0.0.1:9310
niv vic keepalive 200
niv vic request-timeout 300
niv vic resync-hold 3000
!
interface ethernet1/1
  description host1
  switchport mode vntag
  linux-interface %[2]s
!
interface ethernet1/2
  description host2
  switchport mode vntag
  linux-interface %[3]s transmit af-xdp
!
interface ethernet1/48
  switchport mode trunk
  linux-interface %[4]s
!
port-profile type vethernet web
  switchport mode access
  switchport access vlan 10
  state enabled
`, l.dir, v1, v2, trunk, int(checkpoint.Seconds()))
}

// ivConfig is host's configuration. host2's link to the VIS carries its
// frames through AF_XDP both ways ("transmit af-xdp" on its uplink and on
// the VIS's ethernet1/2), host1's through AF_PACKET.
func ivConfig(l *lab, host, up string, vnics string) string {
	if host == "host2" {
		up += " transmit af-xdp"
	}
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
!
%[4]s`, l.dir, host, up, vnics)
}

func vnicBlock(name, tap, ns, mac string, n int) string {
	return fmt.Sprintf("vnic %s\n  tap %s existing netns %s\n  mac-address %s\n  port-profile web\n  instance-uuid a1412857-60f7-4ce1-e95a-2164943f53%02d\n", name, tap, ns, mac, n)
}

// fabric is one VIS, two hosts and three VMs (vm1, vm2 on host 1; vm3 is
// powered on on host 2 by the test).
type fabric struct {
	*lab
	vis, h1, h2       *daemon
	vm1, vm2, vm3, up string
}

var macs = []string{"", "02:52:54:00:00:01", "02:52:54:00:00:02", "02:52:54:00:00:03"}

func newFabric(t *testing.T) *fabric {
	l := newLab(t)
	f := &fabric{lab: l}
	visNS, h1NS, h2NS := l.ns("vis"), l.ns("h1"), l.ns("h2")
	f.up = l.ns("up")
	p := l.pfx
	l.link(p+"h1", h1NS, p+"v1", visNS)
	l.link(p+"h2", h2NS, p+"v2", visNS)
	l.link(p+"t0", visNS, p+"t1", f.up)
	f.vm1 = l.vm("vm1", p+"a", macs[1], "10.9.0.1")
	f.vm2 = l.vm("vm2", p+"b", macs[2], "10.9.0.2")
	f.vm3 = l.vm("vm3", p+"c", macs[3], "10.9.0.3")
	f.vis = l.daemon("vis", visNS, l.write("vis1.conf", visConfig(l, p+"v1", p+"v2", p+"t0")), l.dir+"/vis1.sock")
	f.h1 = l.daemon("iv", h1NS, l.write("host1.conf", ivConfig(l, "host1", p+"h1",
		vnicBlock("vm1", p+"a", f.vm1, "0252.5400.0001", 1)+vnicBlock("vm2", p+"b", f.vm2, "0252.5400.0002", 2))), l.dir+"/host1.sock")
	f.h2 = l.daemon("iv", h2NS, l.write("host2.conf", ivConfig(l, "host2", p+"h2", "")), l.dir+"/host2.sock")
	for _, ns := range []string{f.vm1, f.vm2, f.vm3} {
		l.echo(ns)
	}
	f.bound(f.h1, "vm1", "vm2")
	return f
}

// bound waits until the IV at d has the vNICs bound, and returns them.
func (f *fabric) bound(d *daemon, names ...string) map[string]vnicJSON {
	f.t.Helper()
	var got map[string]vnicJSON
	require.Eventually(f.t, func() bool {
		var list []vnicJSON
		out, err := f.niv("show", "vnic", "-s", d.sock, "--json")
		if err != nil || jsonUnmarshal(out, &list) != nil {
			return false
		}
		got = map[string]vnicJSON{}
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

func (f *fabric) veths() map[uint32]vethJSON {
	f.t.Helper()
	var all struct {
		VEthernet []vethJSON `json:"vethernet"`
	}
	f.json(&all, "show", "interface", "-s", f.vis.sock)
	out := map[uint32]vethJSON{}
	for _, v := range all.VEthernet {
		require.NotContains(f.t, out, v.ID, "vEth %d listed twice", v.ID)
		out[v.ID] = v
	}
	return out
}

func (f *fabric) veth(id uint32) vethJSON {
	f.t.Helper()
	var v vethJSON
	f.json(&v, "show", "interface", "vethernet", fmt.Sprint(id), "-s", f.vis.sock)
	return v
}

// arp makes VM ns send an ARP request (for an address nobody has) and
// returns the VLAN it carries on the VIS's trunk uplink.
func (f *fabric) arpVLAN(c *capture, ns string, mac string) uint16 {
	f.t.Helper()
	hw, _ := net.ParseMAC(mac)
	return c.vlanOf(f.t, hw, func() net.IP {
		arpTarget++
		ip := net.IPv4(10, 9, byte(arpTarget>>8), byte(arpTarget))
		wire.InNetns(ns, func() error {
			c, err := net.Dial("udp4", ip.String()+":9")
			if err == nil {
				c.Write([]byte("who"))
				c.Close()
			}
			return nil
		})
		return ip
	})
}

// arpTarget numbers the addresses arpVLAN asks for: each once.
var arpTarget = 100

func TestDaemons(t *testing.T) {
	f := newFabric(t)
	p12 := f.prober(f.vm1, "10.9.0.2")

	t.Run("traffic within a host", func(t *testing.T) {
		require.True(t, p12.until(5*time.Second))
		assert.Equal(t, 20, p12.probe(20, time.Second))
		assert.Equal(t, "hello from vm1", f.tcp(f.vm1, f.vm2, "10.9.0.2", "hello from vm1"))
	})

	var vm3 vnicJSON
	t.Run("power-on across hosts", func(t *testing.T) {
		out, err := f.niv("vnic", "add", "vm3", "-s", f.h2.sock, "--tap", f.pfx+"c", "--existing", "--netns", f.vm3,
			"--mac", "0252.5400.0003", "--profile", "web", "--uuid", "a1412857-60f7-4ce1-e95a-2164943f5303")
		require.NoError(t, err)
		assert.Equal(t, "vnic vm3 added, epoch 1\n", out)
		vm3 = f.bound(f.h2, "vm3")["vm3"]
		v := f.veth(vm3.VEth)
		assert.Equal(t, "Ethernet1/2", v.Interface)
		assert.Equal(t, "web", v.Profile)
		p13 := f.prober(f.vm1, "10.9.0.3")
		require.True(t, p13.until(5*time.Second))
		assert.Equal(t, 20, p13.probe(20, time.Second))
		assert.Equal(t, "hello host2", f.tcp(f.vm1, f.vm3, "10.9.0.3", "hello host2"))
		out, err = f.niv("show", "interface", "ethernet1/2", "-s", f.vis.sock)
		require.NoError(t, err)
		assert.Contains(t, out, "Linux interface "+f.pfx+"v2 (transmit af-xdp), control plane vic (session open)")
	})

	t.Run("configure reaches every bound vEth", func(t *testing.T) {
		c := f.capture(f.up, f.pfx+"t1")
		assert.Equal(t, uint16(10), f.arpVLAN(c, f.vm1, macs[1]))
		assert.Equal(t, uint16(10), f.arpVLAN(c, f.vm3, macs[3]))

		// An edit with an error changes nothing.
		_, err := f.nivIn("port-profile web\n  switchport access vlan 20\n  switchport acess vlan 30\n", "configure", "-s", f.vis.sock)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "line 3, column 14")
		assert.Equal(t, uint16(10), f.arpVLAN(c, f.vm1, macs[1]))

		out, err := f.nivIn("port-profile web\n  switchport access vlan 20\n", "configure", "-s", f.vis.sock)
		require.NoError(t, err)
		assert.Regexp(t, `^committed revision \d+: 3 vEth\(s\) updated\n$`, out)
		assert.Equal(t, uint16(20), f.arpVLAN(c, f.vm1, macs[1]), "vm1, host 1")
		assert.Equal(t, uint16(20), f.arpVLAN(c, f.vm3, macs[3]), "vm3, host 2")
		require.True(t, p12.until(5*time.Second), "vm1 and vm2 still talk, on VLAN 20")
		out, err = f.niv("show", "port-profile", "web", "-s", f.vis.sock)
		require.NoError(t, err)
		assert.Contains(t, out, "switchport access vlan 20")
		out, err = f.niv("show", "running-config", "-s", f.vis.sock)
		require.NoError(t, err)
		assert.Contains(t, out, fmt.Sprintf("interface Vethernet%d\n  inherit port-profile web\n  bind interface Ethernet1/2 channel %d\n", vm3.VEth, vm3.VIF))
	})

	t.Run("kill -9 of the VIS during traffic", func(t *testing.T) {
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() { // 100 datagrams a second, vm1 → vm2
			defer close(done)
			for {
				select {
				case <-stop:
					return
				case <-time.After(10 * time.Millisecond):
					p12.probe(1, time.Millisecond)
				}
			}
		}()
		time.Sleep(2 * checkpoint)
		t0 := time.Now()
		before := f.veths()
		f.vis.kill9()
		// Frames counted between the show and the kill may be in the
		// last checkpoint too: 100 a second.
		slack := uint64(time.Since(t0).Seconds()*150) + 10
		close(stop)
		<-done
		f.vis.start()
		after := f.veths()
		require.Equal(t, len(before), len(after), "no vEth lost or duplicated")
		for id, b := range before {
			a, ok := after[id]
			require.True(t, ok, "vEth %d is back", id)
			assert.Equal(t, b.Profile, a.Profile)
			assert.Equal(t, b.MAC, a.MAC)
			assert.Equal(t, b.Interface, a.Interface)
			assert.Equal(t, b.Channel, a.Channel)
			// At most one checkpoint interval of counts is lost: 100
			// frames a second each way, with room for the time the show
			// took.
			assert.LessOrEqual(t, a.Counters.RxFrames, b.Counters.RxFrames+slack, "vEth %d", id)
			assert.GreaterOrEqual(t, a.Counters.RxFrames+uint64(150*checkpoint/time.Second), b.Counters.RxFrames, "vEth %d", id)
			assert.NotZero(t, a.Counters.RxFrames)
		}
		assert.Contains(t, f.vis.logText(), "vEth restored")
		out, err := f.niv("show", "port-profile", "web", "-s", f.vis.sock)
		require.NoError(t, err)
		assert.Contains(t, out, "switchport access vlan 20", "the live edit survives the kill")
		// The IVs resync and traffic resumes.
		require.Eventually(t, func() bool { return strings.Count(f.vis.logText(), "IV session up") >= 4 }, 10*time.Second, 50*time.Millisecond)
		require.True(t, p12.until(5*time.Second))
		assert.Equal(t, 20, p12.probe(20, time.Second))
		vs := f.bound(f.h1, "vm1", "vm2")
		for _, n := range vs {
			assert.Equal(t, before[n.VEth].Channel, uint16(n.VIF), "%s keeps its VIF", n.Name)
		}
		assert.Len(t, f.veths(), len(before), "no vEth duplicated by the resync")
	})

	t.Run("kill -9 of an IV", func(t *testing.T) {
		before := f.bound(f.h1, "vm1", "vm2")
		f.h1.kill9()
		f.h1.start()
		after := f.bound(f.h1, "vm1", "vm2")
		for name, b := range before {
			assert.Equal(t, b.VIF, after[name].VIF, "%s: same VIF", name)
			assert.Equal(t, b.VEth, after[name].VEth, "%s: same vEth", name)
		}
		require.True(t, p12.until(5*time.Second))
		assert.Equal(t, 20, p12.probe(20, time.Second))
		assert.Len(t, f.veths(), 3)
	})

	t.Run("migration host 1 to host 2 during traffic", func(t *testing.T) {
		vm1 := f.bound(f.h1, "vm1")["vm1"]
		require.Equal(t, 10, p12.probe(10, time.Second))
		before := f.veth(vm1.VEth)
		require.Equal(t, "Ethernet1/1", before.Interface)
		// A ping runs through the move: vm2 → vm1, 50 a second.
		p21 := f.prober(f.vm2, "10.9.0.1")
		stop, answered := make(chan struct{}), make(chan [2]int)
		go func() {
			var sent, got int
			for {
				select {
				case <-stop:
					answered <- [2]int{sent, got}
					return
				case <-time.After(20 * time.Millisecond):
					sent++
					got += p21.probe(1, 50*time.Millisecond)
				}
			}
		}()
		time.Sleep(200 * time.Millisecond)
		out, err := f.niv("vnic", "move", "vm1", "-s", f.h1.sock, "--to", f.h2.sock)
		require.NoError(t, err)
		time.Sleep(500 * time.Millisecond)
		close(stop)
		n := <-answered
		t.Logf("ping during the move: %d of %d answered", n[1], n[0])
		assert.Greater(t, n[1], n[0]/2, "the ping went on through the move")
		require.True(t, p21.until(5*time.Second))
		assert.Contains(t, out, fmt.Sprintf("Vethernet%d now behind", vm1.VEth))
		moved := f.bound(f.h2, "vm1", "vm3")["vm1"]
		assert.Equal(t, vm1.VEth, moved.VEth, "same vEth")
		assert.Greater(t, moved.Epoch, vm1.Epoch)
		require.True(t, p12.until(5*time.Second), "vm1, now on host 2, reaches vm2 on host 1")
		assert.Equal(t, 20, p12.probe(20, time.Second))
		after := f.veth(vm1.VEth)
		assert.Equal(t, "Ethernet1/2", after.Interface, "bound behind host 2's IV")
		assert.Equal(t, before.Profile, after.Profile)
		assert.GreaterOrEqual(t, after.Counters.RxFrames, before.Counters.RxFrames+20, "counters kept and counting")
		var h1 []vnicJSON
		f.json(&h1, "show", "vnic", "-s", f.h1.sock)
		assert.Len(t, h1, 1, "host 1 has only vm2 left")
		assert.Len(t, f.veths(), 3)
	})

	t.Run("metrics", func(t *testing.T) {
		var body []byte
		require.NoError(t, wire.InNetns(f.vis.NS, func() error {
			c, err := net.Dial("tcp4", "127.0.0.1:9310")
			if err != nil {
				return err
			}
			defer c.Close()
			fmt.Fprintf(c, "GET /metrics HTTP/1.0\r\nHost: vis\r\n\r\n")
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			body, err = io.ReadAll(c)
			return err
		}))
		text := string(body)
		assert.Contains(t, text, "200 OK")
		assert.Contains(t, text, "# TYPE niv_veth_rx_packets_total counter")
		assert.Regexp(t, `niv_veth_rx_packets_total\{interface="Ethernet1/2",profile="web",veth="1"\} [1-9]`, text)
		assert.Regexp(t, `niv_port_rx_packets_total\{interface="Ethernet1/48",mode="trunk"\} [0-9]`, text)
	})

	t.Run("bad management requests change nothing", func(t *testing.T) {
		before, err := f.niv("show", "running-config", "-s", f.vis.sock)
		require.NoError(t, err)
		for _, req := range []string{
			"{\"cmd\": \"configure\", \"input\": \"no port-profile web\"", // cut short
			"{\"cmd\": \"configure\", \"input\": \"" + strings.Repeat("port-profile x\\n", 100000) + "\"}",
			"{\"cmd\": \"reboot\"}",
		} {
			var out []byte
			require.NoError(t, wire.InNetns(f.vis.NS, func() error {
				c, err := net.Dial("unix", f.vis.sock)
				if err != nil {
					return err
				}
				defer c.Close()
				go c.Write([]byte(req + "\n"))
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				line, _ := bufio.NewReader(c).ReadString('\n')
				out = []byte(line)
				return nil
			}))
			assert.Regexp(t, `"ok":false,"error":"mgmt: (malformed request|request too large|unknown command)`, string(out))
		}
		after, err := f.niv("show", "running-config", "-s", f.vis.sock)
		require.NoError(t, err)
		assert.Equal(t, before, after)
	})

	t.Run("power-off", func(t *testing.T) {
		_, err := f.niv("vnic", "delete", "vm3", "-s", f.h2.sock)
		require.NoError(t, err)
		require.Eventually(t, func() bool { _, ok := f.veths()[vm3.VEth]; return !ok }, 5*time.Second, 20*time.Millisecond)
		assert.Zero(t, f.prober(f.vm1, "10.9.0.3").probe(3, 200*time.Millisecond))
	})

	t.Run("SIGHUP reloads the file as a diff", func(t *testing.T) {
		good := visConfig(f.lab, f.pfx+"v1", f.pfx+"v2", f.pfx+"t0") + "port-profile type vethernet db\n  switchport mode access\n  switchport access vlan 30\n  state enabled\n"
		require.NoError(t, os.WriteFile(f.vis.Config, []byte(strings.Replace(good, "vlan 30", "vlan 4095", 1)), 0o600))
		f.vis.signal(syscall.SIGHUP)
		require.Eventually(t, func() bool { return strings.Contains(f.vis.logText(), "reload refused") }, 5*time.Second, 20*time.Millisecond)
		_, err := f.niv("show", "port-profile", "db", "-s", f.vis.sock)
		require.Error(t, err, "a file with errors changes nothing")
		require.NoError(t, os.WriteFile(f.vis.Config, []byte(good), 0o600))
		f.vis.signal(syscall.SIGHUP)
		require.Eventually(t, func() bool {
			_, err := f.niv("show", "port-profile", "db", "-s", f.vis.sock)
			return err == nil
		}, 5*time.Second, 20*time.Millisecond)
		// The file says vlan 10 for web: the reload puts it back, a diff
		// that reaches the two bound vEths.
		out, err := f.niv("show", "port-profile", "web", "-s", f.vis.sock)
		require.NoError(t, err)
		assert.Contains(t, out, "switchport access vlan 10")
		assert.Eventually(t, func() bool {
			return regexp.MustCompile(`configuration reloaded".*veths_updated=2`).MatchString(f.vis.logText())
		}, 5*time.Second, 20*time.Millisecond)
	})

	t.Run("SIGHUP on an IV adds the vNICs added to its file", func(t *testing.T) {
		text := ivConfig(f.lab, "host2", f.pfx+"h2", vnicBlock("vm3", f.pfx+"c", f.vm3, "0252.5400.0003", 3))
		require.NoError(t, os.WriteFile(f.h2.Config, []byte(text), 0o600))
		f.h2.signal(syscall.SIGHUP)
		n := f.bound(f.h2, "vm3")["vm3"]
		assert.Equal(t, uint32(2), n.Epoch, "powered on again: a newer placement")
		require.True(t, f.prober(f.vm1, "10.9.0.3").until(5*time.Second))
	})

	t.Run("SIGTERM stops cleanly", func(t *testing.T) {
		for _, d := range []*daemon{f.h2, f.h1, f.vis} {
			d.signal(syscall.SIGTERM)
			select {
			case err := <-d.Done:
				assert.NoError(t, err, "%s exit status", d.Config)
			case <-time.After(10 * time.Second):
				t.Fatalf("%s did not stop", d.Config)
			}
			assert.Contains(t, d.logText(), "msg=stopped")
		}
	})
}

func TestConfigRefused(t *testing.T) {
	l := newLab(t)
	bad := l.write("bad.conf", "interface ethernet1/1\n  switchport mode vntga\n  linux-interface x\nport-profile type vethernet web\n  switchport access vlan 0\n")
	_, err := l.niv("vis", "--config", bad)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "config: line 2, column 19: switchport mode \"vntga\"")
	assert.Contains(t, err.Error(), "config: line 5, column 26: ")
}
