//go:build linux

// Package netlab builds small networks of niv daemons on one Linux
// machine: network namespaces as switches, hosts and VMs, veth pairs as
// links, persistent TAPs as vNICs, `niv vis` and `niv iv` as processes,
// and UDP and TCP traffic between the VMs. examples/fabric runs on it.
// Everything it makes carries its prefix and is removed by Close.
package netlab

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nivkit/niv/internal/daemon/wire"
)

// Lab is one network under construction.
type Lab struct {
	Dir    string // configuration files, stores, sockets, logs
	Bin    string // the niv binary
	Prefix string

	mu       sync.Mutex
	cleanups []func()
}

// New builds the niv binary (go build, into a temporary directory) and
// returns an empty lab whose names start with prefix.
func New(prefix string) (*Lab, error) { return NewWith(prefix, "") }

// NewWith is New with the niv binary at bin, if not "".
func NewWith(prefix, bin string) (*Lab, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("netlab needs root (network namespaces, TAP devices, AF_PACKET)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return nil, fmt.Errorf("netlab needs iproute2: %w", err)
	}
	dir, err := os.MkdirTemp("", "niv-"+prefix)
	if err != nil {
		return nil, err
	}
	l := &Lab{Dir: dir, Bin: bin, Prefix: prefix}
	l.defer_(func() { os.RemoveAll(dir) })
	if bin == "" {
		l.Bin = filepath.Join(dir, "niv")
		if err := Build(l.Bin); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

// Build builds the niv command into path.
func Build(path string) error {
	out, err := exec.Command("go", "build", "-o", path, "github.com/nivkit/niv/cmd/niv").CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build ./cmd/niv: %v: %s", err, out)
	}
	return nil
}

func (l *Lab) defer_(f func()) {
	l.mu.Lock()
	l.cleanups = append(l.cleanups, f)
	l.mu.Unlock()
}

// Close stops the daemons and removes everything the lab made, last made
// first.
func (l *Lab) Close() {
	l.mu.Lock()
	fs := l.cleanups
	l.cleanups = nil
	l.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

// IP runs ip(8).
func (l *Lab) IP(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// NS makes namespace PREFIX-name, with lo up, and returns its name.
func (l *Lab) NS(name string) (string, error) {
	n := l.Prefix + "-" + name
	if err := l.IP("netns", "add", n); err != nil {
		return "", err
	}
	l.defer_(func() { exec.Command("ip", "netns", "del", n).Run() })
	return n, l.IP("-n", n, "link", "set", "lo", "up")
}

// Link makes a veth pair, a in namespace na and b in nb, both up, with
// room for a tag on full-size frames.
func (l *Lab) Link(a, na, b, nb string) error {
	for _, args := range [][]string{
		{"link", "add", a, "mtu", "1600", "type", "veth", "peer", "name", b, "mtu", "1600"},
		{"link", "set", a, "netns", na}, {"link", "set", b, "netns", nb},
		{"-n", na, "link", "set", a, "up"}, {"-n", nb, "link", "set", b, "up"},
	} {
		if err := l.IP(args...); err != nil {
			return err
		}
	}
	return nil
}

// LinkHere makes a veth pair, a in namespace na and b in the lab
// process's own namespace, both up, b with IPv6 off (so that the kernel
// sends nothing on it by itself). Both go when the lab closes.
func (l *Lab) LinkHere(a, na, b string) error {
	l.defer_(func() { exec.Command("ip", "link", "del", b).Run() })
	for _, args := range [][]string{
		{"link", "add", a, "mtu", "1600", "type", "veth", "peer", "name", b, "mtu", "1600"},
		{"link", "set", a, "netns", na}, {"-n", na, "link", "set", a, "up"},
	} {
		if err := l.IP(args...); err != nil {
			return err
		}
	}
	if err := os.WriteFile("/proc/sys/net/ipv6/conf/"+b+"/disable_ipv6", []byte("1"), 0o644); err != nil {
		return err
	}
	return l.IP("link", "set", b, "up")
}

// VM makes a VM: namespace PREFIX-name whose one interface is a
// persistent TAP (as a hypervisor makes), with mac and ip/24.
func (l *Lab) VM(name, tap, mac, ip string) (string, error) {
	n, err := l.NS(name)
	if err != nil {
		return "", err
	}
	for _, args := range [][]string{
		{"-n", n, "tuntap", "add", "dev", tap, "mode", "tap"},
		{"-n", n, "link", "set", tap, "address", mac, "mtu", "1500", "up"},
		{"-n", n, "addr", "add", ip + "/24", "dev", tap},
	} {
		if err := l.IP(args...); err != nil {
			return "", err
		}
	}
	return n, nil
}

// Write writes a file in the lab's directory and returns its path.
func (l *Lab) Write(name, text string) (string, error) {
	p := filepath.Join(l.Dir, name)
	return p, os.WriteFile(p, []byte(text), 0o600)
}

// Niv runs the niv command line and returns its standard output.
func (l *Lab) Niv(args ...string) (string, error) { return l.NivIn("", args...) }

// NivIn is Niv with stdin as the command's standard input.
func (l *Lab) NivIn(stdin string, args ...string) (string, error) {
	cmd := exec.Command(l.Bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("niv %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// Daemon is a niv daemon process in a namespace.
type Daemon struct {
	l                      *Lab
	Kind, NS, Config, Sock string
	// Args are more command-line arguments (for example --store).
	Args []string
	Log  string
	cmd  *exec.Cmd
	Done chan error
}

// Daemon starts `niv KIND --config CONFIG` in namespace ns and waits until
// its management socket sock answers.
func (l *Lab) Daemon(kind, ns, config, sock string) (*Daemon, error) {
	return l.DaemonArgs(kind, ns, config, sock)
}

// DaemonArgs is Daemon with more command-line arguments; ns "" runs it
// in the lab process's own namespace (where a test's loopback servers,
// such as etcd, are).
func (l *Lab) DaemonArgs(kind, ns, config, sock string, args ...string) (*Daemon, error) {
	d := &Daemon{l: l, Kind: kind, NS: ns, Config: config, Sock: sock, Args: args, Log: config + ".log"}
	l.defer_(func() { d.Kill() })
	return d, d.Start()
}

// Start starts the daemon (again).
func (d *Daemon) Start() error {
	f, err := os.OpenFile(d.Log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	argv := append([]string{d.l.Bin, d.Kind, "--config", d.Config, "--log-level", "debug"}, d.Args...)
	if d.NS != "" {
		argv = append([]string{"ip", "netns", "exec", d.NS}, argv...)
	}
	d.cmd = exec.Command(argv[0], argv[1:]...)
	d.cmd.Stdout, d.cmd.Stderr = f, f
	// If the lab's process dies without Close, its daemons die with it.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err = d.cmd.Start()
	f.Close()
	if err != nil {
		return err
	}
	d.Done = make(chan error, 1)
	go func() { d.Done <- d.cmd.Wait() }()
	what := "running-config"
	if d.Kind == "iv" {
		what = "vnic"
	}
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if _, err := d.l.Niv("show", what, "-s", d.Sock); err == nil {
			return nil
		}
		select {
		case err := <-d.Done:
			d.Done <- err
			b, _ := os.ReadFile(d.Log)
			return fmt.Errorf("niv %s exited: %v\n%s", d.Kind, err, b)
		default:
		}
	}
	return fmt.Errorf("niv %s --config %s did not answer on %s", d.Kind, d.Config, d.Sock)
}

// Signal sends the daemon signal s.
func (d *Daemon) Signal(s os.Signal) error { return d.cmd.Process.Signal(s) }

// LogText returns what the daemon logged so far, over all its starts.
func (d *Daemon) LogText() string {
	b, _ := os.ReadFile(d.Log)
	return string(b)
}

// Kill kills the daemon with SIGKILL, if it runs.
func (d *Daemon) Kill() {
	if d.cmd != nil && d.cmd.Process != nil && d.cmd.ProcessState == nil {
		d.cmd.Process.Signal(syscall.SIGKILL)
		<-d.Done
	}
}

// Stop stops the daemon with SIGTERM and returns its exit error.
func (d *Daemon) Stop() error {
	if d.cmd == nil || d.cmd.ProcessState != nil {
		return nil
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.Done:
		return err
	case <-time.After(10 * time.Second):
		d.Kill()
		return fmt.Errorf("niv %s did not stop on SIGTERM", d.Kind)
	}
}

// Echo serves UDP echo on port 7 inside namespace ns until the lab closes.
func (l *Lab) Echo(ns string) error {
	var c net.PacketConn
	if err := wire.InNetns(ns, func() (err error) {
		c, err = net.ListenPacket("udp4", ":7")
		return err
	}); err != nil {
		return err
	}
	l.defer_(func() { c.Close() })
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
	return nil
}

// Pinger sends numbered UDP datagrams from a namespace to an echo server
// and counts the answers: a ping that needs no raw sockets.
type Pinger struct {
	c   net.PacketConn
	dst *net.UDPAddr
	seq uint32
}

// Pinger returns a pinger from namespace ns to dst.
func (l *Lab) Pinger(ns, dst string) (*Pinger, error) {
	var c net.PacketConn
	if err := wire.InNetns(ns, func() (err error) {
		c, err = net.ListenPacket("udp4", ":0")
		return err
	}); err != nil {
		return nil, err
	}
	l.defer_(func() { c.Close() })
	return &Pinger{c: c, dst: &net.UDPAddr{IP: net.ParseIP(dst), Port: 7}}, nil
}

// Ping sends one datagram and waits up to wait for its echo; it returns
// the round trip, or 0 if none came.
func (p *Pinger) Ping(wait time.Duration) time.Duration {
	p.seq++
	start := time.Now()
	p.c.WriteTo(binary.BigEndian.AppendUint32(nil, p.seq), p.dst)
	p.c.SetReadDeadline(start.Add(wait))
	buf := make([]byte, 64)
	for {
		n, _, err := p.c.ReadFrom(buf)
		if err != nil {
			return 0
		}
		if n == 4 && binary.BigEndian.Uint32(buf) == p.seq {
			return max(time.Since(start), time.Nanosecond)
		}
	}
}

// Probe pings n times and returns how many were answered.
func (p *Pinger) Probe(n int, wait time.Duration) int {
	got := 0
	for i := 0; i < n; i++ {
		if p.Ping(wait) > 0 {
			got++
		}
	}
	return got
}

// Until pings until an answer comes, for at most d.
func (p *Pinger) Until(d time.Duration) bool {
	for end := time.Now().Add(d); time.Now().Before(end); {
		if p.Ping(100*time.Millisecond) > 0 {
			return true
		}
	}
	return false
}

// TCP sends msg over a TCP connection from namespace from to a listener
// in namespace to at addr:5001 and returns what the listener read.
func (l *Lab) TCP(from, to, addr, msg string) (string, error) {
	var ln net.Listener
	if err := wire.InNetns(to, func() (err error) {
		ln, err = net.Listen("tcp4", addr+":5001")
		return err
	}); err != nil {
		return "", err
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- ""
			return
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		var b bytes.Buffer
		b.ReadFrom(c)
		got <- b.String()
	}()
	var c net.Conn
	if err := wire.InNetns(from, func() (err error) {
		d := net.Dialer{Timeout: 5 * time.Second}
		c, err = d.Dial("tcp4", addr+":5001")
		return err
	}); err != nil {
		return "", err
	}
	_, err := c.Write([]byte(msg))
	c.Close()
	if err != nil {
		return "", err
	}
	return <-got, nil
}
