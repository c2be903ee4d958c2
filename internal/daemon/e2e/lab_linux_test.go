package e2e_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/internal/daemon/netlab"
	"github.com/nivkit/niv/internal/daemon/wire"
	"github.com/nivkit/niv/internal/needs"
	"github.com/nivkit/niv/vic/port"
)

// lab is a netlab.Lab that fails the test on any error and is removed
// when the test ends.
type lab struct {
	*netlab.Lab
	t   *testing.T
	dir string
	pfx string
}

// The niv binary, built once for the package's tests into buildDir,
// which TestMain removes (and nothing else).
var (
	buildOnce sync.Once
	buildDir  string
	built     string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

func newLab(t *testing.T) *lab { return newLabPrefix(t, fmt.Sprintf("dm%d", os.Getpid()%100000)) }

// newLabPrefix is newLab with the lab's names (namespaces, links)
// starting with prefix.
func newLabPrefix(t *testing.T, prefix string) *lab {
	needs.Root(t)
	needs.Tool(t, "ip")
	buildOnce.Do(func() {
		if b := os.Getenv("NIV_E2E_BIN"); b != "" {
			built = b // a niv built otherwise, for example with -race; not removed
			return
		}
		dir, err := os.MkdirTemp("", "niv-e2e")
		if err != nil {
			buildErr = err
			return
		}
		buildDir, built = dir, filepath.Join(dir, "niv")
		buildErr = netlab.Build(built)
	})
	require.NoError(t, buildErr)
	nl, err := netlab.NewWith(prefix, built)
	require.NoError(t, err)
	t.Cleanup(nl.Close)
	return &lab{Lab: nl, t: t, dir: nl.Dir, pfx: nl.Prefix}
}

func (l *lab) ip(args ...string) { l.t.Helper(); require.NoError(l.t, l.IP(args...)) }

func (l *lab) ns(name string) string {
	l.t.Helper()
	n, err := l.NS(name)
	require.NoError(l.t, err)
	return n
}

func (l *lab) link(a, na, b, nb string) { l.t.Helper(); require.NoError(l.t, l.Link(a, na, b, nb)) }

func (l *lab) vm(name, tap, mac, ip string) string {
	l.t.Helper()
	n, err := l.VM(name, tap, mac, ip)
	require.NoError(l.t, err)
	return n
}

func (l *lab) write(name, text string) string {
	l.t.Helper()
	p, err := l.Write(name, text)
	require.NoError(l.t, err)
	return p
}

// daemon is one niv daemon process; its log is printed if the test fails.
type daemon struct {
	*netlab.Daemon
	l    *lab
	kind string
	sock string
}

func (l *lab) daemon(kind, ns, config, sock string) *daemon {
	l.t.Helper()
	l.t.Cleanup(func() {
		b, _ := os.ReadFile(config + ".log")
		if bytes.Contains(b, []byte("WARNING: DATA RACE")) {
			l.t.Errorf("%s: the race detector found a data race", config)
		}
		if l.t.Failed() {
			l.t.Logf("%s log:\n%s", config, b)
		}
	})
	d, err := l.Daemon(kind, ns, config, sock)
	require.NoError(l.t, err)
	return &daemon{Daemon: d, l: l, kind: kind, sock: sock}
}

func (d *daemon) start()             { d.l.t.Helper(); require.NoError(d.l.t, d.Start()) }
func (d *daemon) kill9()             { d.Kill() }
func (d *daemon) signal(s os.Signal) { require.NoError(d.l.t, d.Signal(s)) }
func (d *daemon) logText() string    { return d.LogText() }

func (l *lab) niv(args ...string) (string, error) { return l.Niv(args...) }

func (l *lab) nivIn(stdin string, args ...string) (string, error) { return l.NivIn(stdin, args...) }

func (l *lab) json(v any, args ...string) {
	l.t.Helper()
	out, err := l.niv(append(args, "--json")...)
	require.NoError(l.t, err)
	require.NoError(l.t, json.Unmarshal([]byte(out), v), out)
}

func (l *lab) echo(ns string) { l.t.Helper(); require.NoError(l.t, l.Echo(ns)) }

type prober struct{ *netlab.Pinger }

func (l *lab) prober(ns, dst string) prober {
	l.t.Helper()
	p, err := l.Pinger(ns, dst)
	require.NoError(l.t, err)
	return prober{p}
}

func (p prober) probe(n int, wait time.Duration) int { return p.Probe(n, wait) }
func (p prober) until(d time.Duration) bool          { return p.Until(d) }

func (l *lab) tcp(from, to, addr, msg string) string {
	l.t.Helper()
	got, err := l.TCP(from, to, addr, msg)
	require.NoError(l.t, err)
	return got
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
