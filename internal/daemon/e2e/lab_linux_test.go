package e2e_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/internal/daemon/wire"
	"github.com/nivkit/niv/internal/needs"
	"github.com/nivkit/niv/vic/port"
)

// lab is a set of namespaces, links and daemons that the test removes
// when it ends. Every name carries pfx, unique to this process.
type lab struct {
	t   *testing.T
	dir string
	bin string
	pfx string
	mu  sync.Mutex
}

func newLab(t *testing.T) *lab {
	needs.Root(t)
	needs.Tool(t, "ip")
	l := &lab{t: t, dir: t.TempDir(), pfx: fmt.Sprintf("dm%d", os.Getpid()%100000)}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "niv-e2e")
		if err != nil {
			buildErr = err
			return
		}
		built = filepath.Join(dir, "niv")
		out, err := exec.Command("go", "build", "-o", built, "github.com/nivkit/niv/cmd/niv").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	require.NoError(t, buildErr)
	l.bin = built
	return l
}

// The niv binary, built once for the package's tests.
var (
	buildOnce sync.Once
	built     string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if built != "" {
		os.RemoveAll(filepath.Dir(built))
	}
	os.Exit(code)
}

func (l *lab) ip(args ...string) {
	l.t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	require.NoError(l.t, err, "ip %s: %s", strings.Join(args, " "), out)
}

// ns makes namespace pfx-name and returns its name.
func (l *lab) ns(name string) string {
	n := l.pfx + "-" + name
	l.ip("netns", "add", n)
	l.t.Cleanup(func() { exec.Command("ip", "netns", "del", n).Run() })
	l.ip("-n", n, "link", "set", "lo", "up")
	return n
}

// link makes a veth pair, end a in namespace na and end b in nb, up.
func (l *lab) link(a, na, b, nb string) {
	l.ip("link", "add", a, "mtu", "1600", "type", "veth", "peer", "name", b, "mtu", "1600")
	l.ip("link", "set", a, "netns", na)
	l.ip("link", "set", b, "netns", nb)
	l.ip("-n", na, "link", "set", a, "up")
	l.ip("-n", nb, "link", "set", b, "up")
}

// vm makes a VM: a namespace whose interface is a persistent TAP (as a
// hypervisor's), with mac and ip; the IV opens it as an existing TAP.
func (l *lab) vm(name, tap, mac, ip string) string {
	n := l.ns(name)
	l.ip("-n", n, "tuntap", "add", "dev", tap, "mode", "tap")
	l.ip("-n", n, "link", "set", tap, "address", mac, "mtu", "1500", "up")
	l.ip("-n", n, "addr", "add", ip+"/24", "dev", tap)
	return n
}

func (l *lab) write(name, text string) string {
	p := filepath.Join(l.dir, name)
	require.NoError(l.t, os.WriteFile(p, []byte(text), 0o600))
	return p
}

// daemon is one niv daemon process.
type daemon struct {
	l      *lab
	kind   string
	ns     string
	config string
	sock   string
	log    string
	cmd    *exec.Cmd
	done   chan error
}

func (l *lab) daemon(kind, ns, config, sock string) *daemon {
	d := &daemon{l: l, kind: kind, ns: ns, config: config, sock: sock, log: config + ".log"}
	l.t.Cleanup(func() {
		if d.cmd != nil && d.cmd.Process != nil && d.cmd.ProcessState == nil {
			d.cmd.Process.Kill()
			<-d.done
		}
		if l.t.Failed() {
			b, _ := os.ReadFile(d.log)
			l.t.Logf("%s log:\n%s", d.config, b)
		}
	})
	d.start()
	return d
}

func (d *daemon) start() {
	f, err := os.OpenFile(d.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	require.NoError(d.l.t, err)
	d.cmd = exec.Command("ip", "netns", "exec", d.ns, d.l.bin, d.kind, "--config", d.config, "--log-level", "debug")
	d.cmd.Stdout, d.cmd.Stderr = f, f
	require.NoError(d.l.t, d.cmd.Start())
	f.Close()
	d.done = make(chan error, 1)
	go func() { d.done <- d.cmd.Wait() }()
	require.Eventually(d.l.t, func() bool {
		_, err := d.l.niv("show", "running-config", "-s", d.sock)
		if d.kind == "iv" {
			_, err = d.l.niv("show", "vnic", "-s", d.sock)
		}
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, "%s did not start", d.config)
}

// kill9 kills the daemon with SIGKILL.
func (d *daemon) kill9() {
	require.NoError(d.l.t, d.cmd.Process.Signal(syscall.SIGKILL))
	<-d.done
}

func (d *daemon) signal(s os.Signal) { require.NoError(d.l.t, d.cmd.Process.Signal(s)) }

func (d *daemon) logText() string {
	b, _ := os.ReadFile(d.log)
	return string(b)
}

// niv runs the niv command line.
func (l *lab) niv(args ...string) (string, error) {
	return l.nivIn("", args...)
}

func (l *lab) nivIn(stdin string, args ...string) (string, error) {
	cmd := exec.Command(l.bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("niv %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

func (l *lab) json(v any, args ...string) {
	l.t.Helper()
	out, err := l.niv(append(args, "--json")...)
	require.NoError(l.t, err)
	require.NoError(l.t, json.Unmarshal([]byte(out), v), out)
}

// echo serves UDP echo on port 7 inside namespace ns until the test ends.
func (l *lab) echo(ns string) {
	var c net.PacketConn
	require.NoError(l.t, wire.InNetns(ns, func() (err error) {
		c, err = net.ListenPacket("udp4", ":7")
		return err
	}))
	l.t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			c.WriteTo(buf[:n], from)
		}
	}()
}

// prober sends numbered UDP datagrams from namespace ns to dst's echo
// port and counts the answers.
type prober struct {
	c   net.PacketConn
	dst *net.UDPAddr
	seq uint32
}

func (l *lab) prober(ns, dst string) *prober {
	var c net.PacketConn
	require.NoError(l.t, wire.InNetns(ns, func() (err error) {
		c, err = net.ListenPacket("udp4", ":0")
		return err
	}))
	l.t.Cleanup(func() { c.Close() })
	return &prober{c: c, dst: &net.UDPAddr{IP: net.ParseIP(dst), Port: 7}}
}

// probe sends n datagrams, waiting up to wait for each answer, and
// returns how many were answered.
func (p *prober) probe(n int, wait time.Duration) int {
	got := 0
	buf := make([]byte, 64)
	for i := 0; i < n; i++ {
		p.seq++
		msg := binary.BigEndian.AppendUint32(nil, p.seq)
		p.c.WriteTo(msg, p.dst)
		p.c.SetReadDeadline(time.Now().Add(wait))
		for {
			k, _, err := p.c.ReadFrom(buf)
			if err != nil {
				break
			}
			if k == 4 && binary.BigEndian.Uint32(buf) == p.seq {
				got++
				break
			}
		}
	}
	return got
}

// until probes until an answer comes, for at most d.
func (p *prober) until(d time.Duration) bool {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if p.probe(1, 100*time.Millisecond) == 1 {
			return true
		}
	}
	return false
}

// tcp sends msg over a TCP connection from namespace from to a listener in
// namespace to (at addr) and returns what the listener read.
func (l *lab) tcp(from, to, addr, msg string) string {
	var ln net.Listener
	require.NoError(l.t, wire.InNetns(to, func() (err error) {
		ln, err = net.Listen("tcp4", addr+":5001")
		return err
	}))
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		var b bytes.Buffer
		b.ReadFrom(c)
		got <- b.String()
	}()
	var c net.Conn
	require.NoError(l.t, wire.InNetns(from, func() (err error) {
		d := net.Dialer{Timeout: 5 * time.Second}
		c, err = d.Dial("tcp4", addr+":5001")
		return err
	}))
	_, err := c.Write([]byte(msg))
	require.NoError(l.t, err)
	c.Close()
	return <-got
}

// capture reads the frames arriving on ifname in namespace ns.
type capture struct {
	frames chan []byte
}

func (l *lab) capture(ns, ifname string) *capture {
	var p port.Port
	require.NoError(l.t, wire.InNetns(ns, func() (err error) {
		p, err = port.OpenPacket(ifname, nil)
		return err
	}))
	c := &capture{frames: make(chan []byte, 4096)}
	go func() {
		b := port.NewBatch(64)
		for p.Read(b) == nil {
			for _, f := range b.Valid() {
				select {
				case c.frames <- append([]byte(nil), f.Bytes()...):
				default:
				}
			}
		}
	}()
	l.t.Cleanup(func() { p.Close() })
	return c
}

// vlanOf calls send until an ARP request from src for target arrives and
// returns its 802.1Q VLAN id, 0 for untagged.
func (c *capture) vlanOf(t *testing.T, src net.HardwareAddr, send func() net.IP) uint16 {
	t.Helper()
	end := time.Now().Add(5 * time.Second)
	for time.Now().Before(end) {
		target := send().To4()
		timeout := time.After(300 * time.Millisecond)
	drain:
		for {
			select {
			case f := <-c.frames:
				if len(f) < 14 || !bytes.Equal(f[6:12], src) {
					continue
				}
				vlan, et, arp := uint16(0), binary.BigEndian.Uint16(f[12:]), f[14:]
				if et == 0x8100 && len(f) >= 18 {
					vlan, et, arp = binary.BigEndian.Uint16(f[14:])&0xfff, binary.BigEndian.Uint16(f[16:]), f[18:]
				}
				if et == 0x0806 && len(arp) >= 28 && bytes.Equal(arp[24:28], target) {
					return vlan
				}
			case <-timeout:
				break drain
			}
		}
	}
	t.Fatalf("no ARP request from %v", src)
	return 0
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
