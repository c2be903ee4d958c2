//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"

	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vntag"
)

// lab is the real-links version of the demo: VMs A and B are network
// namespaces whose only interface is a TAP device (their vNIC), the IV
// reads and writes those TAPs, and the IV and the VIS are joined by a veth
// pair that each reads and writes through AF_PACKET. Everything it creates
// carries the process id in its name, and close deletes it.
type lab struct {
	mode       vntag.Mode
	pair       *pair
	ns         []string // namespace per VM
	taps       []string
	linkIV     string // veth end of the IV
	linkVIS    string // veth end of the VIS
	stop       context.CancelFunc
	wg         sync.WaitGroup
	closeOnce  sync.Once
	runErrs    []error
	runErrsMu  sync.Mutex
	createdNS  []string
	createdVet bool
}

// labVMs is how many of vms the lab builds (A and B).
const labVMs = 2

func ipCmd(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// newLab builds the namespaces, TAP vNICs and veth link and starts the IV
// and the VIS on them. On error everything made so far is removed.
func newLab(ctx context.Context, mode vntag.Mode) (l *lab, err error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("-lab needs root (network namespaces, TAP devices, AF_PACKET)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return nil, fmt.Errorf("-lab needs iproute2: %w", err)
	}
	pid := os.Getpid()
	l = &lab{mode: mode, linkIV: fmt.Sprintf("nivl%di", pid), linkVIS: fmt.Sprintf("nivl%ds", pid)}
	defer func() {
		if err != nil {
			l.close()
			l = nil
		}
	}()
	if l.pair, err = newPair(mode, labVMs); err != nil {
		return l, err
	}
	// The link. Its MTU leaves room for the tag on full-size frames.
	if err = ipCmd(ctx, "link", "add", l.linkIV, "mtu", "1600", "type", "veth", "peer", "name", l.linkVIS, "mtu", "1600"); err != nil {
		return l, err
	}
	l.createdVet = true
	for _, dev := range []string{l.linkIV, l.linkVIS} {
		_ = os.WriteFile("/proc/sys/net/ipv6/conf/"+dev+"/disable_ipv6", []byte("1"), 0)
		if err = ipCmd(ctx, "link", "set", dev, "up"); err != nil {
			return l, err
		}
	}
	ivUp, err := port.OpenPacket(l.linkIV, port.NIVFilter())
	if err != nil {
		return l, err
	}
	visDown, err := port.OpenPacket(l.linkVIS, port.NIVFilter())
	if err != nil {
		ivUp.Close()
		return l, err
	}
	ivPorts := []port.Port{ivUp, nil}
	visPorts := []port.Port{visDown}
	// The VMs: a namespace each, with a TAP vNIC the IV holds open.
	for i, v := range vms[:labVMs] {
		ns := fmt.Sprintf("niv%d%s", pid, strings.ToLower(v.name))
		tapName := fmt.Sprintf("nivt%d%s", pid, strings.ToLower(v.name))
		tap, err := port.OpenTAP(tapName)
		if err != nil {
			closeAll(ivPorts, visPorts)
			return l, err
		}
		ivPorts = append(ivPorts, tap)
		l.taps = append(l.taps, tap.Name())
		if err = ipCmd(ctx, "netns", "add", ns); err != nil {
			closeAll(ivPorts, visPorts)
			return l, err
		}
		l.createdNS = append(l.createdNS, ns)
		l.ns = append(l.ns, ns)
		steps := [][]string{
			{"link", "set", tap.Name(), "netns", ns},
			{"-n", ns, "link", "set", "lo", "up"},
			{"-n", ns, "link", "set", tap.Name(), "address", v.mac.String(), "mtu", "1500", "up"},
			{"-n", ns, "addr", "add", v.ip.String() + "/24", "dev", tap.Name()},
		}
		for _, s := range steps {
			if err = ipCmd(ctx, s...); err != nil {
				closeAll(ivPorts, visPorts)
				return l, err
			}
		}
		if pn := iv.FirstVNIC + i; len(ivPorts) != pn+1 {
			closeAll(ivPorts, visPorts)
			return l, fmt.Errorf("vNIC %s is port %d of %d", v.name, pn, len(ivPorts))
		}
	}
	runCtx, stop := context.WithCancel(context.Background())
	l.stop = stop
	l.wg.Add(2)
	for _, r := range []struct {
		core  port.Core
		ports []port.Port
	}{{l.pair.iv, ivPorts}, {l.pair.vis, visPorts}} {
		go func() {
			defer l.wg.Done()
			if err := port.Run(runCtx, r.core, r.ports, port.RunConfig{}); err != nil {
				l.runErrsMu.Lock()
				l.runErrs = append(l.runErrs, err)
				l.runErrsMu.Unlock()
			}
		}()
	}
	return l, nil
}

func closeAll(lists ...[]port.Port) {
	for _, ps := range lists {
		for _, p := range ps {
			if p != nil {
				p.Close()
			}
		}
	}
}

// ping sends count ICMP echo requests from VM i to VM j through the
// kernel of VM i's namespace (an ICMP socket opened inside it) and waits
// for each reply; VM j's kernel answers. It returns one line per reply.
func (l *lab) ping(ctx context.Context, i, j, count int) (string, error) {
	conn, err := listenICMPIn(l.ns[i])
	if err != nil {
		return "", err
	}
	defer conn.Close()
	dst := &net.IPAddr{IP: vms[j].ip.AsSlice()}
	var b strings.Builder
	buf := make([]byte, 1500)
	for seq := 1; seq <= count; seq++ {
		msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: os.Getpid() & 0xffff, Seq: seq, Data: []byte("niv ivvis lab")}}
		wb, err := msg.Marshal(nil)
		if err != nil {
			return b.String(), err
		}
		start := time.Now()
		if _, err := conn.WriteTo(wb, dst); err != nil {
			return b.String(), fmt.Errorf("ping %v from VM %s: %w", dst, vms[i].name, err)
		}
		deadline := time.Now().Add(3 * time.Second)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		conn.SetReadDeadline(deadline)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return b.String(), fmt.Errorf("ping %v from VM %s, seq %d: %w", dst, vms[i].name, seq, err)
			}
			rm, err := icmp.ParseMessage(1, buf[:n])
			if err != nil || rm.Type != ipv4.ICMPTypeEchoReply {
				continue
			}
			if e, ok := rm.Body.(*icmp.Echo); ok && e.Seq == seq {
				fmt.Fprintf(&b, "%d bytes from %v: icmp_seq=%d time=%v\n", n, from, seq, time.Since(start).Round(time.Microsecond))
				break
			}
		}
	}
	return b.String(), nil
}

// listenICMPIn opens a raw ICMP socket inside network namespace ns: the
// calling thread enters the namespace, makes the socket (which stays bound
// to that namespace) and returns to its own.
func listenICMPIn(ns string) (net.PacketConn, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return nil, err
	}
	defer self.Close()
	target, err := os.Open("/var/run/netns/" + ns)
	if err != nil {
		return nil, err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return nil, fmt.Errorf("enter namespace %s: %w", ns, err)
	}
	conn, lerr := net.ListenPacket("ip4:icmp", "0.0.0.0")
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread is stuck in the wrong namespace: do not let it run
		// anything else (LockOSThread without Unlock ends the thread).
		runtime.LockOSThread()
		if conn != nil {
			conn.Close()
		}
		return nil, fmt.Errorf("leave namespace %s: %w", ns, err)
	}
	if lerr != nil {
		return nil, fmt.Errorf("icmp socket in %s: %w", ns, lerr)
	}
	return conn, nil
}

// close stops the cores (closing every port, which deletes the TAPs) and
// removes the namespaces and the veth pair. It is safe to call twice.
func (l *lab) close() error {
	var errs []error
	l.closeOnce.Do(func() {
		if l.stop != nil {
			l.stop()
			l.wg.Wait()
		}
		ctx := context.Background()
		for _, ns := range l.createdNS {
			if err := ipCmd(ctx, "netns", "del", ns); err != nil {
				errs = append(errs, err)
			}
		}
		if l.createdVet {
			if err := ipCmd(ctx, "link", "del", l.linkIV); err != nil {
				errs = append(errs, err)
			}
		}
		if l.pair != nil {
			l.pair.vis.Close()
		}
		l.runErrsMu.Lock()
		errs = append(errs, l.runErrs...)
		l.runErrsMu.Unlock()
	})
	return errors.Join(errs...)
}

// runLab builds the lab, pings from A to B and prints what happened.
func runLab(ctx context.Context, w io.Writer, mode vntag.Mode) (err error) {
	l, err := newLab(ctx, mode)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, l.close()) }()
	fmt.Fprintf(w, "niv lab (%v): VM A = namespace %s (TAP %s), VM B = namespace %s (TAP %s)\n",
		mode, l.ns[0], l.taps[0], l.ns[1], l.taps[1])
	fmt.Fprintf(w, "IV <-> VIS link: veth %s <-> %s (AF_PACKET); capture it with: tshark -i %s\n\n", l.linkIV, l.linkVIS, l.linkIV)
	out, err := l.ping(ctx, 0, 1, 3)
	fmt.Fprint(w, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s", l.pair.counters(labVMs))
	return nil
}
