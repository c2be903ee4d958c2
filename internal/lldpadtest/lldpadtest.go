//go:build linux

// Package lldpadtest runs lldpad as a live VDP22 peer for niv's tests, by
// the recipe of ../shared/spec/lldpad-peer.md: a veth pair whose far end
// is in a network namespace of its own, lldpad there with a private
// /dev/shm (its "already running" check lives in POSIX shared memory) and
// a fresh configuration file, every process stopped by PID and the
// namespace deleted at cleanup. It also gives the near end as a raw frame
// port. Tests using it need root, lldpad, lldptool, vdptool, unshare and
// ip (through internal/needs).
package lldpadtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nivkit/niv/internal/needs"
)

// Link is a veth pair: Ours in the test's namespace, Theirs in NS.
type Link struct {
	NS, Ours, Theirs string
	OurMAC, TheirMAC [6]byte
	ip               string
}

// NewLink makes the namespace and the veth pair, both ends up, names
// prefixed with prefix (keep it ≤ 5 characters); ours gets MAC
// 02:00:00:00:00:02, theirs 02:00:00:00:00:01 (the spec's examples).
func NewLink(t *testing.T, prefix string) *Link {
	t.Helper()
	needs.Root(t)
	ip := needs.Tool(t, "ip")
	var rnd [3]byte
	_, _ = rand.Read(rnd[:])
	tag := hex.EncodeToString(rnd[:])
	l := &Link{NS: prefix + "-" + tag, Ours: prefix + "n" + tag, Theirs: prefix + "l" + tag,
		OurMAC: [6]byte{2, 0, 0, 0, 0, 2}, TheirMAC: [6]byte{2, 0, 0, 0, 0, 1}, ip: ip}
	run(t, ip, "netns", "add", l.NS)
	t.Cleanup(func() { _ = exec.Command(ip, "netns", "del", l.NS).Run() })
	run(t, ip, "link", "add", l.Ours, "address", "02:00:00:00:00:02", "type", "veth", "peer", "name", l.Theirs, "address", "02:00:00:00:00:01")
	t.Cleanup(func() { _ = exec.Command(ip, "link", "del", l.Ours).Run() })
	run(t, ip, "link", "set", l.Theirs, "netns", l.NS)
	run(t, ip, "-n", l.NS, "link", "set", l.Theirs, "up")
	run(t, ip, "link", "set", l.Ours, "up")
	return l
}

// Attach returns the Link of an interface the test made itself: lldpad
// will run on theirs, in namespace ns (a macvlan host's NIC, say). Ours
// is "": the test knows its end.
func Attach(t *testing.T, ns, theirs string) *Link {
	t.Helper()
	needs.Root(t)
	return &Link{NS: ns, Theirs: theirs, ip: needs.Tool(t, "ip")}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v: %s", name, args, err, out)
	}
	return string(out)
}

// Conf is the EVB part of lldpad's configuration (lldptool-evb22(8)
// keys under tlvid0080c20d).
type Conf struct {
	Bridge           bool
	RRCap, RRReq     bool
	R, RTE, RWD, RKA uint8
}

// LLDPad is one lldpad process on the far end of a Link.
type LLDPad struct {
	Link *Link
	Conf Conf
	cmd  *exec.Cmd
	log  string
	dir  string
	bin  string
}

// Start runs lldpad on l.Theirs with conf; it is stopped at cleanup (or
// by Stop), and its log is shown when the test failed.
func Start(t *testing.T, l *Link, conf Conf) *LLDPad {
	t.Helper()
	p := &LLDPad{Link: l, Conf: conf, bin: needs.Tool(t, "lldpad"), dir: t.TempDir()}
	needs.Tool(t, "lldptool")
	needs.Tool(t, "vdptool")
	needs.Tool(t, "unshare")
	p.start(t)
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			t.Logf("lldpad log (tail):\n%s", b)
		}
	})
	return p
}

func (p *LLDPad) start(t *testing.T) {
	t.Helper()
	mode := "station"
	if p.Conf.Bridge {
		mode = "bridge"
	}
	conf := filepath.Join(p.dir, mode+".conf")
	c := p.Conf
	text := fmt.Sprintf(`dcbx : { version = "1.0"; dcbx_version = 2; };
nearest_customer_bridge :
{
  %s :
  {
    adminStatus = 3;
    tlvid0080c20d :
    {
      enableTx = true; evbmode = "%s"; evbrrcap = %v;
      evbrrreq = %v; evbgpid = false; ecpretries = %d; ecprte = %d; vdprwd = %d; vdprka = %d;
    };
  };
};
`, p.Link.Theirs, mode, c.RRCap, c.RRReq, c.R, c.RTE, c.RWD, c.RKA)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	p.log = filepath.Join(p.dir, fmt.Sprintf("lldpad-%d.log", time.Now().UnixNano()))
	logf, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	// ip netns exec → unshare → sh -c exec → lldpad: every layer execs,
	// so the PID is lldpad's.
	p.cmd = exec.Command(p.Link.ip, "netns", "exec", p.Link.NS, "unshare", "-m", "sh", "-c",
		"mount -t tmpfs tmpfs /dev/shm && exec stdbuf -oL "+p.bin+" -p -V7 -f "+conf)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logf.Close()
}

// Stop ends lldpad (SIGTERM, then SIGKILL after 3 s) and waits for it.
func (p *LLDPad) Stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(unix.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
	p.cmd = nil
}

// Kill ends lldpad with SIGKILL, as a crash would: it tells its peer
// nothing (no De-Associate, no TTL-0 LLDPDU).
func (p *LLDPad) Kill() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	p.cmd = nil
}

// Restart stops lldpad and starts it again from a fresh configuration.
func (p *LLDPad) Restart(t *testing.T) {
	p.Stop()
	p.start(t)
}

// Log returns lldpad's output so far.
func (p *LLDPad) Log() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// Exec runs a command in lldpad's namespace (lldptool and vdptool reach
// the lldpad of their namespace) and returns its combined output.
func (p *LLDPad) Exec(timeout time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, p.Link.ip, append([]string{"netns", "exec", p.Link.NS, name}, args...)...).CombinedOutput()
	return string(out), err
}

// EVB returns `lldptool -t -i IF -g ncb -V evb`: the EVB TLV as lldpad
// negotiated it.
func (p *LLDPad) EVB() (string, error) {
	return p.Exec(10*time.Second, "lldptool", "-t", "-i", p.Link.Theirs, "-g", "ncb", "-V", "evb")
}

// WaitUp waits (bounded) until lldpad answers lldptool on its port.
func (p *LLDPad) WaitUp(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		out, err := p.EVB()
		if err == nil && strings.Contains(out, "EVB Configuration TLV") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lldpad did not come up: %v: %s", err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// VDPTool runs vdptool on lldpad's port with the given arguments.
func (p *LLDPad) VDPTool(args ...string) (string, error) {
	return p.Exec(15*time.Second, "vdptool", append([]string{"-i", p.Link.Theirs}, args...)...)
}

// Port is an AF_PACKET socket on one interface that reads every frame
// arriving (not those the host sends) and writes whole frames.
type Port struct {
	fd int
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// OpenPort opens ifname promiscuously with a 50 ms read timeout; it is
// closed at cleanup.
func OpenPort(t *testing.T, ifname string) *Port {
	t.Helper()
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
		t.Fatal(err)
	}
	mreq := unix.PacketMreq{Ifindex: int32(ifi.Index), Type: unix.PACKET_MR_PROMISC}
	if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
		t.Fatal(err)
	}
	tv := unix.Timeval{Usec: 50_000}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	p := &Port{fd: fd}
	t.Cleanup(func() { unix.Close(fd) })
	return p
}

// WriteFrame sends one frame.
func (p *Port) WriteFrame(b []byte) error {
	_, err := unix.Write(p.fd, b)
	return err
}

// ReadFrame reads the next incoming frame into buf; it returns an error
// after the read timeout with nothing read.
func (p *Port) ReadFrame(buf []byte) (int, error) {
	for {
		n, from, err := unix.Recvfrom(p.fd, buf, 0)
		if err != nil {
			return 0, err
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		return n, nil
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Capture runs tcpdump on ifname (in the test's namespace) writing the
// ECP and LLDP frames to path, until the returned stop is called.
func Capture(t *testing.T, ifname, path string) (stop func()) {
	t.Helper()
	return CaptureIn(t, "", ifname, path, "ether proto 0x8940 or ether proto 0x88cc")
}

// CaptureIn runs tcpdump on ifname in network namespace ns ("" for the
// test's own) with the further arguments args (a filter, -Q in|out),
// writing path, until the returned stop is called; it returns once
// tcpdump captures.
func CaptureIn(t *testing.T, ns, ifname, path string, args ...string) (stop func()) {
	t.Helper()
	bin := needs.Tool(t, "tcpdump")
	argv := append([]string{bin, "-i", ifname, "--immediate-mode", "-U", "-w", path}, args...)
	if ns != "" {
		argv = append([]string{needs.Tool(t, "ip"), "netns", "exec", ns}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	errb := &lockedBuffer{}
	cmd.Stderr = errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// tcpdump says "listening on" once it captures.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(errb.String(), "listening on") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		time.Sleep(200 * time.Millisecond)
		_ = cmd.Process.Signal(unix.SIGINT)
		_ = cmd.Wait()
	}
	t.Cleanup(stop)
	return stop
}
