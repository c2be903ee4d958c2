//go:build linux

package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/port"
)

// benchOpts are the options of `niv bench` that the niv pair's processes
// take too.
type benchOpts struct {
	batch   int
	offload bool
	linkMTU int
	pin     bool
	rxRing  int
	txRing  int
	xdpTx   bool
	queues  int
	streams int
	// cc is the TCP congestion control iperf3 asks for (-C), "" for the
	// system's.
	cc string
}

func (o *benchOpts) flags(fs *flag.FlagSet) {
	fs.IntVar(&o.batch, "batch", 64, "frames read at once per port")
	fs.BoolVar(&o.offload, "offload", true, "TAPs with IFF_VNET_HDR and the link with PACKET_VNET_HDR: super-frames cross the pair as one frame")
	fs.BoolVar(&o.pin, "pin", false, "in one process, keep the IV's goroutines on CPU 0 and the VIS's on CPU 1")
	fs.IntVar(&o.rxRing, "rx-ring", 0, "slots of the link ports' PACKET_RX_RING (0: the default size; -1: no ring, recvmmsg)")
	fs.IntVar(&o.txRing, "tx-ring", 0, "slots of the link ports' PACKET_TX_RING (0: no ring, sendmmsg)")
	fs.BoolVar(&o.xdpTx, "xdp-tx", true, "the link ports write through AF_XDP (PacketConfig.XDPTx) where the link has a real MTU (nivseg, or --link-mtu up to 4000); where AF_XDP is missing, with sendmmsg")
	fs.IntVar(&o.queues, "queues", 1, "queues of the niv pair's TAPs (IFF_MULTI_QUEUE), each served by a goroutine of its own")
	fs.IntVar(&o.streams, "streams", 0, "iperf3 streams (-P) through every setup (0: as many as --queues)")
	fs.StringVar(&o.cc, "cc", "", "TCP congestion control of the iperf3 runs (iperf3 -C: cubic, bbr, ...; empty: the system's, net.ipv4.tcp_congestion_control)")
	fs.IntVar(&o.linkMTU, "link-mtu", 65535, "MTU of the veth between the IV and the VIS (1600: the IV segments super-frames; 65535: they cross as one frame)")
}

func (o *benchOpts) args() []string {
	return []string{"--batch", strconv.Itoa(o.batch), "--offload=" + strconv.FormatBool(o.offload), "--link-mtu", strconv.Itoa(o.linkMTU), "--rx-ring", strconv.Itoa(o.rxRing), "--tx-ring", strconv.Itoa(o.txRing), "--xdp-tx=" + strconv.FormatBool(o.xdpTx), "--queues", strconv.Itoa(o.queues)}
}

// runBench implements `niv bench`: two VM namespaces joined by a Linux
// bridge, by a plain user-space TAP copy loop and by the niv pair (IV and
// VIS on TAPs and a veth, in one process and in two), measured in turn
// with iperf3.
func runBench(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "role" {
		return runBenchRole(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dur := fs.Duration("time", 10*time.Second, "length of each iperf3 run")
	rounds := fs.Int("rounds", 3, "rounds: each runs every test through every setup, in turn")
	setupList := fs.String("setups", "bridge,tapcopy,niv,nivseg,niv2", "setups to measure, in this order: bridge, tapcopy (a TAP copy loop), niv (the pair in one process), nivseg (the same with a link of MTU 1600), niv2 (the pair as two processes)")
	rates := fs.String("udp-rates", "10000,20000", "64-byte UDP rates below capacity to offer, in frames/s (empty: none)")
	noTCP := fs.Bool("no-tcp", false, "skip the TCP runs")
	noUDP := fs.Bool("no-udp", false, "skip the UDP runs")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of this process (the in-process niv pair and the copy loop) to `FILE`")
	traceFile := fs.String("trace", "", "write an execution trace of this process (runtime/trace: goroutine wake-ups, scheduler latency, idle processors) to `FILE`")
	verbose := fs.Bool("v", false, "print each run as it ends")
	var o benchOpts
	o.flags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: niv bench [--time D] [--rounds N] [--setups LIST] [--udp-rates LIST]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		if err == flag.ErrHelp {
			return 0
		}
		if err == nil {
			fs.Usage()
		}
		return 2
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(stderr, "niv bench: needs root (network namespaces, TAP devices, AF_PACKET)")
		return 1
	}
	for _, tool := range []string{"ip", "iperf3"} {
		if _, err := exec.LookPath(tool); err != nil {
			fmt.Fprintf(stderr, "niv bench: needs %s: %v\n", tool, err)
			return 1
		}
	}
	b := &bench{opts: o, dur: *dur, prefix: fmt.Sprintf("nbp%d", os.Getpid()%100000), results: map[string][]result{}}
	if *verbose {
		b.log = stderr
	}
	for _, s := range strings.Split(*rates, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		r, err := strconv.Atoi(s)
		if err != nil || r <= 0 {
			fmt.Fprintf(stderr, "niv bench: --udp-rates: bad rate %q\n", s)
			return 2
		}
		b.rates = append(b.rates, r)
	}
	var setups []benchSetup
	for _, name := range strings.Split(*setupList, ",") {
		s, ok := benchSetups(b)[strings.TrimSpace(name)]
		if !ok {
			fmt.Fprintf(stderr, "niv bench: unknown setup %q (bridge, tapcopy, niv, nivseg, niv2)\n", name)
			return 2
		}
		setups = append(setups, s)
	}
	var tests []string
	if !*noTCP {
		tests = append(tests, "tcp")
	}
	if !*noUDP {
		tests = append(tests, "udp64")
		for _, r := range b.rates {
			tests = append(tests, fmt.Sprintf("udp64@%d", r))
		}
	}
	for _, r := range []struct {
		path  string
		start func(io.Writer) error
		stop  func()
	}{{*cpuprofile, pprof.StartCPUProfile, pprof.StopCPUProfile}, {*traceFile, trace.Start, trace.Stop}} {
		if r.path == "" {
			continue
		}
		end, err := record(r.path, r.start, r.stop)
		if err != nil {
			fmt.Fprintf(stderr, "niv bench: %v\n", err)
			return 1
		}
		defer end()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cc := o.cc
	if cc == "" {
		cc = "the system's"
		if b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_congestion_control"); err == nil {
			cc = strings.TrimSpace(string(b))
		}
	}
	fmt.Fprintf(stdout, "niv bench: %d rounds of %v runs; setups %s; tests %s; tcp %s; niv pair %s\n",
		*rounds, *dur, *setupList, strings.Join(tests, " "), cc, strings.Join(o.args(), " "))
	for r := range *rounds {
		for _, s := range setups {
			for _, t := range tests {
				if ctx.Err() != nil {
					fmt.Fprintln(stderr, "niv bench: interrupted")
					return 1
				}
				res, err := b.measure(ctx, s, t)
				for try := 1; err != nil && try < 3 && ctx.Err() == nil; try++ {
					// Other work on the machine can stall a run (iperf3
					// times out); say so and run it again.
					fmt.Fprintf(stderr, "niv bench: round %d, %s, %s: %v; again\n", r+1, s.name(), t, err)
					res, err = b.measure(ctx, s, t)
				}
				if err != nil {
					fmt.Fprintf(stderr, "niv bench: round %d, %s, %s: %v\n", r+1, s.name(), t, err)
					return 1
				}
				if b.log != nil {
					fmt.Fprintf(b.log, "round %d %-8s %-12s %s\n", r+1, s.name(), t, res)
				}
				key := s.name() + " " + t
				b.results[key] = append(b.results[key], res)
			}
		}
	}
	b.report(stdout, setups, tests)
	return 0
}

// bench holds a run's options and results.
type bench struct {
	opts    benchOpts
	dur     time.Duration
	rates   []int
	prefix  string
	log     io.Writer
	results map[string][]result // "setup test" → one per round
}

// vmNS is a VM namespace's name and address.
func (b *bench) vmNS(i int) (ns, ip string) {
	return fmt.Sprintf("%sv%c", b.prefix, 'a'+i), fmt.Sprintf("10.78.0.%d", i+1)
}

// result is one iperf3 run through one setup.
type result struct {
	gbps    float64 // delivered
	fps     float64 // frames delivered per second
	sent    uint64  // UDP datagrams sent
	lost    uint64  // UDP datagrams lost (sent - received)
	retrans uint64  // TCP retransmits
	bytes   float64 // delivered
	frames  float64 // delivered
	cpu     float64 // seconds: the forwarder and both iperf3 ends
	fwdCPU  float64 // seconds: the forwarder alone
	idle    float64 // the machine's CPUs' idle share during the run, 0-1 (-1: unknown)
	drops   map[string]uint64
}

func (r result) cpuPerGB() float64     { return r.cpu / (r.bytes / 1e9) }
func (r result) cpuPerMFrame() float64 { return r.cpu / (r.frames / 1e6) }

func (r result) String() string {
	s := fmt.Sprintf("%.3f Gbit/s %.0f frames/s cpu %.2fs (forwarder %.2fs)", r.gbps, r.fps, r.cpu, r.fwdCPU)
	if r.sent > 0 {
		s += fmt.Sprintf(" sent %d lost %d (%.2f%%)", r.sent, r.lost, 100*float64(r.lost)/float64(r.sent))
	}
	if r.retrans > 0 {
		s += fmt.Sprintf(" retransmits %d", r.retrans)
	}
	if r.idle >= 0 {
		s += fmt.Sprintf(" machine idle %.1f%%", 100*r.idle)
	}
	if d := dropString(r.drops); d != "" {
		s += " drops: " + d
	}
	return s
}

func dropString(m map[string]uint64) string {
	var parts []string
	for k, v := range m {
		if v > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, v))
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// benchSetup is one way of joining the two VM namespaces.
type benchSetup interface {
	name() string
	// start builds the setup with the VM namespaces (which exist) and
	// returns the name of each VM's interface.
	start(ctx context.Context) (nics [2]string, err error)
	// cpu returns the CPU time the forwarder used so far (0 for the
	// kernel's bridge, whose work the VMs' processes carry).
	cpu() time.Duration
	// stop tears the forwarder down and returns the drops it counted.
	stop() map[string]uint64
}

func benchSetups(b *bench) map[string]benchSetup {
	return map[string]benchSetup{
		"bridge":  &bridgeSetup{b: b},
		"tapcopy": &tapCopySetup{b: b},
		"niv":     &nivSetup{b: b},
		"nivseg":  &nivSetup{b: b, seg: true},
		"niv2":    &niv2Setup{b: b},
	}
}

func benchIP(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// measure builds the VM namespaces and setup s, runs test t and tears it
// all down.
func (b *bench) measure(ctx context.Context, s benchSetup, t string) (res result, err error) {
	env, err := b.build(ctx, s)
	if err != nil {
		return res, err
	}
	defer env.close()
	nss, nics := env.nss, env.nics
	stopSetup := func() map[string]uint64 { return env.stop() }
	before := [2]ifStats{}
	for i := range nss {
		before[i] = readIfStats(nss[i], nics[i])
	}
	snmp0 := readUDPSNMP(nss[1])
	backlog0 := readSoftnetDrops()
	// What the forwarder dropped while the setup was built (a frame for
	// a VM whose NIC was not up yet) is not the run's.
	var fwd0 map[string]uint64
	if c, ok := s.(interface{ dropsSoFar() map[string]uint64 }); ok {
		fwd0 = c.dropsSoFar()
	}
	cpu0 := s.cpu()
	idle0, total0 := readCPUIdle()
	res, err = b.iperf(ctx, nss, t)
	if err != nil {
		return res, err
	}
	res.idle = -1
	if idle1, total1 := readCPUIdle(); total1 > total0 {
		res.idle = float64(idle1-idle0) / float64(total1-total0)
	}
	res.fwdCPU = (s.cpu() - cpu0).Seconds()
	res.cpu += res.fwdCPU
	after := readIfStats(nss[1], nics[1])
	snmp1 := readUDPSNMP(nss[1])
	afterA := readIfStats(nss[0], nics[0])
	if t == "tcp" {
		res.frames = float64(after.rxPackets - before[1].rxPackets)
		res.fps = res.frames / b.dur.Seconds()
	}
	fwdDrops := stopSetup()
	res.drops = map[string]uint64{}
	for k, v := range fwdDrops {
		res.drops[k] = v - min(v, fwd0[k])
	}
	res.drops["VM A nic tx"] = afterA.txDropped - before[0].txDropped
	res.drops["VM B nic rx"] = after.rxDropped - before[1].rxDropped
	res.drops["VM B udp socket"] = snmp1 - snmp0
	res.drops["kernel backlog (machine-wide)"] = readSoftnetDrops() - backlog0
	return res, nil
}

// benchEnv is a setup built between the two VM namespaces.
type benchEnv struct {
	s       benchSetup
	nss     [2]string
	nics    [2]string
	stopped bool
	drops   map[string]uint64
}

// udpSockBuf returns the socket buffer size iperf3 asks for in the UDP
// runs (-w), or 0 for none: 4 MiB, or net.core.rmem_max or wmem_max if
// either is less (iperf3 fails a run whose buffer the kernel capped, and a
// network namespace cannot raise them). With the default of 212,992
// bytes, about 270 datagrams of 64 bytes, the iperf3 server's socket
// overflows whenever the server is not scheduled for 15 ms at 20,000
// frames/s, and the loss the fixed-rate runs measure is the receiving
// VM's, whatever the setup.
func udpSockBuf() int {
	n := 4 << 20
	for _, f := range []string{"/proc/sys/net/core/rmem_max", "/proc/sys/net/core/wmem_max"} {
		b, err := os.ReadFile(f)
		if err != nil {
			return 0
		}
		v, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return 0
		}
		n = min(n, v)
	}
	return n
}

// vmIP6 is VM i's IPv6 address.
func vmIP6(i int) string { return fmt.Sprintf("fd00:78::%d", i+1) }

// build makes the VM namespaces and setup s between them: each VM's NIC
// with an IPv4 and an IPv6 address, and the other VM's in its neighbour
// table (no address resolution in the runs; the first frames each way
// teach the forwarders the MAC addresses).
func (b *bench) build(ctx context.Context, s benchSetup) (env *benchEnv, err error) {
	env = &benchEnv{s: s}
	defer func() {
		if err != nil {
			env.close()
		}
	}()
	for i := range env.nss {
		ns, _ := b.vmNS(i)
		exec.Command("ip", "netns", "del", ns).Run() // left over from a killed run
		if err := benchIP(ctx, "netns", "add", ns); err != nil {
			return env, err
		}
		env.nss[i] = ns
		if err := benchIP(ctx, "-n", ns, "link", "set", "lo", "up"); err != nil {
			return env, err
		}
	}
	env.nics, err = s.start(ctx)
	if err != nil {
		return env, err
	}
	for i, ns := range env.nss {
		_, ip := b.vmNS(i)
		_, peer := b.vmNS(1 - i)
		mac := fmt.Sprintf("02:4e:42:00:00:%02x", i+1)
		peerMAC := fmt.Sprintf("02:4e:42:00:00:%02x", 2-i)
		nic := env.nics[i]
		steps := [][]string{
			{"-n", ns, "link", "set", nic, "address", mac, "mtu", "1500", "up"},
			{"-n", ns, "addr", "add", ip + "/24", "dev", nic},
			{"-n", ns, "addr", "add", vmIP6(i) + "/64", "dev", nic, "nodad"},
			{"-n", ns, "neigh", "replace", peer, "lladdr", peerMAC, "dev", nic, "nud", "permanent"},
			{"-n", ns, "neigh", "replace", vmIP6(1 - i), "lladdr", peerMAC, "dev", nic, "nud", "permanent"},
		}
		for _, st := range steps {
			if err := benchIP(ctx, st...); err != nil {
				return env, err
			}
		}
	}
	return env, nil
}

// stop stops the setup's forwarder (once) and returns the drops it
// counted.
func (e *benchEnv) stop() map[string]uint64 {
	if !e.stopped {
		e.stopped = true
		e.drops = e.s.stop()
	}
	return e.drops
}

// close stops the setup and deletes the VM namespaces.
func (e *benchEnv) close() {
	e.stop()
	for _, ns := range e.nss {
		if ns != "" {
			exec.Command("ip", "netns", "del", ns).Run()
		}
	}
}

type ifStats struct{ rxPackets, rxDropped, txDropped uint64 }

// readIfStats reads an interface's counters in namespace ns.
func readIfStats(ns, dev string) ifStats {
	out, err := exec.Command("ip", "-n", ns, "-s", "-j", "link", "show", "dev", dev).Output()
	if err != nil {
		return ifStats{}
	}
	var v []struct {
		Stats struct {
			RX struct{ Packets, Dropped uint64 } `json:"rx"`
			TX struct{ Packets, Dropped uint64 } `json:"tx"`
		} `json:"stats64"`
	}
	if json.Unmarshal(out, &v) != nil || len(v) == 0 {
		return ifStats{}
	}
	s := v[0].Stats
	return ifStats{rxPackets: s.RX.Packets, rxDropped: s.RX.Dropped, txDropped: s.TX.Dropped}
}

// readSoftnetDrops returns the frames the kernel dropped, on every CPU,
// because the CPU's backlog queue was full (/proc/net/softnet_stat's
// second column): where a veth drops what its peer's side cannot take.
func readSoftnetDrops() uint64 {
	b, err := os.ReadFile("/proc/net/softnet_stat")
	if err != nil {
		return 0
	}
	var n uint64
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 1 {
			v, _ := strconv.ParseUint(f[1], 16, 64)
			n += v
		}
	}
	return n
}

// readCPUIdle returns the machine's idle and total CPU time so far, in
// clock ticks, from the cpu line of /proc/stat (idle and iowait count as
// idle), or zeros.
func readCPUIdle() (idle, total uint64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0, 0
	}
	for i, v := range f[1:] {
		n, _ := strconv.ParseUint(v, 10, 64)
		if i == 3 || i == 4 {
			idle += n
		}
		if i < 8 { // guest time is counted in user time already
			total += n
		}
	}
	return idle, total
}

// readUDPSNMP returns the UDP receive-buffer errors of namespace ns: the
// datagrams its sockets dropped.
func readUDPSNMP(ns string) uint64 {
	out, err := exec.Command("ip", "netns", "exec", ns, "cat", "/proc/net/snmp").Output()
	if err != nil {
		return 0
	}
	var names []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			if n == "RcvbufErrors" && i < len(f) {
				v, _ := strconv.ParseUint(f[i], 10, 64)
				return v
			}
		}
	}
	return 0
}

// iperf runs test t from VM A (client) to VM B (server).
func (b *bench) iperf(ctx context.Context, nss [2]string, t string) (result, error) {
	var res result
	_, ipB := b.vmNS(1)
	srv := exec.CommandContext(ctx, "ip", "netns", "exec", nss[1], "iperf3", "-s", "-1", "-B", ipB, "-J")
	var srvOut strings.Builder
	srv.Stdout = &srvOut
	if err := srv.Start(); err != nil {
		return res, err
	}
	srvDone := false
	defer func() {
		if !srvDone {
			srv.Process.Kill()
			srv.Wait()
		}
	}()
	args := []string{"netns", "exec", nss[0], "iperf3", "-c", ipB, "-t", strconv.FormatFloat(b.dur.Seconds(), 'f', -1, 64), "-J"}
	streams := b.opts.streams
	if streams <= 0 {
		streams = max(b.opts.queues, 1)
	}
	if streams > 1 {
		args = append(args, "-P", strconv.Itoa(streams))
	}
	if b.opts.cc != "" && !strings.HasPrefix(t, "udp") {
		args = append(args, "-C", b.opts.cc)
	}
	udp := strings.HasPrefix(t, "udp64")
	if udp {
		// 22 bytes of payload: 64-byte frames (14 + 20 + 8 + 22).
		rate := "0"
		if _, r, ok := strings.Cut(t, "@"); ok {
			// iperf3's rate is per stream.
			n, _ := strconv.Atoi(r)
			rate = strconv.Itoa(n * 22 * 8 / streams)
		}
		args = append(args, "-u", "-l", "22", "-b", rate)
		if w := udpSockBuf(); w > 0 {
			args = append(args, "-w", strconv.Itoa(w))
		}
	}
	var cliOut []byte
	var cli *exec.Cmd
	var err error
	for try := 0; try < 50; try++ {
		cli = exec.CommandContext(ctx, "ip", args...)
		cliOut, err = cli.Output()
		if !strings.Contains(string(cliOut), "Connection refused") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return res, fmt.Errorf("iperf3 client: %w: %s", err, cliOut)
	}
	// The client's report has the server's figures; how the one-off
	// server ends does not matter, only that it does.
	waited := make(chan struct{})
	go func() { srv.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		srv.Process.Kill()
		<-waited
	}
	srvDone = true
	res.cpu = procCPU(cli.ProcessState) + procCPU(srv.ProcessState)
	var out struct {
		End struct {
			Sum struct {
				Bytes       float64 `json:"bytes"`
				Seconds     float64 `json:"seconds"`
				Packets     uint64  `json:"packets"`
				LostPackets uint64  `json:"lost_packets"`
			} `json:"sum"`
			SumSent struct {
				Retransmits uint64 `json:"retransmits"`
			} `json:"sum_sent"`
			SumReceived struct {
				Bytes   float64 `json:"bytes"`
				Seconds float64 `json:"seconds"`
			} `json:"sum_received"`
		} `json:"end"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(cliOut, &out); err != nil {
		return res, fmt.Errorf("iperf3 output: %w", err)
	}
	if out.Error != "" {
		return res, fmt.Errorf("iperf3: %s", out.Error)
	}
	if udp {
		s := out.End.Sum
		if s.Seconds <= 0 {
			return res, errors.New("iperf3: no UDP summary")
		}
		res.sent, res.lost = s.Packets, s.LostPackets
		res.frames = float64(s.Packets - s.LostPackets)
		res.fps = res.frames / s.Seconds
		res.bytes = res.frames * 64
		res.gbps = res.bytes * 8 / s.Seconds / 1e9
		return res, nil
	}
	s := out.End.SumReceived
	if s.Seconds <= 0 {
		return res, errors.New("iperf3: no TCP summary")
	}
	res.bytes = s.Bytes
	res.gbps = s.Bytes * 8 / s.Seconds / 1e9
	res.retrans = out.End.SumSent.Retransmits
	return res, nil
}

func procCPU(s *os.ProcessState) float64 {
	if s == nil {
		return 0
	}
	return (s.UserTime() + s.SystemTime()).Seconds()
}

// selfCPU returns the CPU time this process used so far.
func selfCPU() time.Duration {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pidCPU returns the CPU time process pid used so far.
func pidCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	// Fields 14 and 15 of stat (utime, stime), in clock ticks of 1/100 s.
	u, _ := strconv.ParseUint(f[11], 10, 64)
	k, _ := strconv.ParseUint(f[12], 10, 64)
	return time.Duration(u+k) * 10 * time.Millisecond
}

// report prints the medians of every setup and test, then the ratios.
func (b *bench) report(w io.Writer, setups []benchSetup, tests []string) {
	fmt.Fprintf(w, "\n%-8s %-13s %-24s %-26s %-16s %-10s %-10s %s\n", "setup", "test", "Gbit/s median (min-max)", "frames/s median (min-max)", "loss", "cpu s/GB", "cpu s/Mfr", "drops counted (all rounds)")
	med := map[string]float64{}
	for _, t := range tests {
		for _, s := range setups {
			rs := b.results[s.name()+" "+t]
			if len(rs) == 0 {
				continue
			}
			g := stat(rs, func(r result) float64 { return r.gbps })
			f := stat(rs, func(r result) float64 { return r.fps })
			med[s.name()+" "+t] = f.med
			if t == "tcp" {
				med[s.name()+" "+t] = g.med
			}
			var sent, lost uint64
			drops := map[string]uint64{}
			for _, r := range rs {
				sent += r.sent
				lost += r.lost
				for k, v := range r.drops {
					drops[k] += v
				}
			}
			loss := "-"
			if sent > 0 {
				loss = fmt.Sprintf("%.2f%%", 100*float64(lost)/float64(sent))
			}
			var counted uint64
			for _, v := range drops {
				counted += v
			}
			dr := dropString(drops)
			if sent > 0 && lost > counted {
				if dr != "" {
					dr += ", "
				}
				dr += fmt.Sprintf("not counted %d", lost-counted)
			}
			if dr == "" {
				dr = "none"
			}
			cg := stat(rs, result.cpuPerGB)
			cf := stat(rs, result.cpuPerMFrame)
			fmt.Fprintf(w, "%-8s %-13s %-24s %-26s %-16s %-10s %-10s %s\n", s.name(), t,
				fmt.Sprintf("%.3f (%.3f-%.3f)", g.med, g.min, g.max),
				fmt.Sprintf("%.0f (%.0f-%.0f)", f.med, f.min, f.max),
				loss, fmt.Sprintf("%.2f", cg.med), fmt.Sprintf("%.2f", cf.med), dr)
		}
	}
	fmt.Fprintln(w)
	ratio := func(t string) string {
		n, br := med["niv "+t], med["bridge "+t]
		if n == 0 || br == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.3f", n/br)
	}
	if t, n := med["tapcopy tcp"], med["nivseg tcp"]; t > 0 && n > 0 {
		fmt.Fprintf(w, "ratio tcp nivseg/tapcopy %.3f\n", n/t)
	}
	if t, n := b.cpuPerMFrame("tapcopy udp64"), b.cpuPerMFrame("niv udp64"); t > 0 && n > 0 {
		fmt.Fprintf(w, "ratio cpu-per-Mframe udp64 niv/tapcopy %.3f\n", n/t)
	}
	// At the highest fixed rate too: under overload the CPU per frame
	// delivered includes the sender's work on the frames lost, and each
	// setup loses a different share.
	if len(b.rates) > 0 {
		r := slices.Max(b.rates)
		key := fmt.Sprintf("udp64@%d", r)
		if t, n := b.cpuPerMFrame("tapcopy "+key), b.cpuPerMFrame("niv "+key); t > 0 && n > 0 {
			fmt.Fprintf(w, "ratio cpu-per-Mframe %s niv/tapcopy %.3f\n", key, n/t)
		}
	}
	fmt.Fprintf(w, "ratio tcp niv/bridge %s\n", ratio("tcp"))
	fmt.Fprintf(w, "ratio udp64 niv/bridge %s\n", ratio("udp64"))
}

func (b *bench) cpuPerMFrame(key string) float64 {
	return stat(b.results[key], result.cpuPerMFrame).med
}

type summary struct{ med, min, max float64 }

func stat(rs []result, f func(result) float64) summary {
	v := make([]float64, 0, len(rs))
	for _, r := range rs {
		if x := f(r); !math.IsNaN(x) && !math.IsInf(x, 0) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return summary{}
	}
	slices.Sort(v)
	m := v[len(v)/2]
	if len(v)%2 == 0 {
		m = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return summary{med: m, min: v[0], max: v[len(v)-1]}
}

// bridgeSetup joins the VMs with veth pairs to a Linux bridge in a third
// namespace.
type bridgeSetup struct {
	b  *bench
	sw string
}

func (s *bridgeSetup) name() string       { return "bridge" }
func (s *bridgeSetup) cpu() time.Duration { return 0 }

func (s *bridgeSetup) start(ctx context.Context) (nics [2]string, err error) {
	s.sw = s.b.prefix + "sw"
	exec.Command("ip", "netns", "del", s.sw).Run()
	if err := benchIP(ctx, "netns", "add", s.sw); err != nil {
		return nics, err
	}
	steps := [][]string{{"-n", s.sw, "link", "add", "br0", "type", "bridge"}, {"-n", s.sw, "link", "set", "br0", "up"}}
	for i := range nics {
		ns, _ := s.b.vmNS(i)
		nics[i] = "eth0"
		port := fmt.Sprintf("p%d", i)
		steps = append(steps,
			[]string{"-n", s.sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns},
			[]string{"-n", s.sw, "link", "set", port, "master", "br0", "up"})
	}
	for _, st := range steps {
		if err := benchIP(ctx, st...); err != nil {
			return nics, err
		}
	}
	return nics, nil
}

func (s *bridgeSetup) stop() map[string]uint64 {
	d := map[string]uint64{}
	for i := range 2 {
		st := readIfStats(s.sw, fmt.Sprintf("p%d", i))
		d["bridge ports"] += st.rxDropped + st.txDropped
	}
	exec.Command("ip", "netns", "del", s.sw).Run()
	return d
}

// tapCopySetup gives each VM a TAP and copies frames between the two in
// user space, a read and a write per frame, with no forwarding decision:
// the floor for any user-space forwarder on TAPs.
type tapCopySetup struct {
	b    *bench
	taps [2]*port.TAP
	wg   sync.WaitGroup
}

func (s *tapCopySetup) name() string       { return "tapcopy" }
func (s *tapCopySetup) cpu() time.Duration { return selfCPU() }

func (s *tapCopySetup) start(ctx context.Context) (nics [2]string, err error) {
	for i := range s.taps {
		if s.taps[i], err = port.OpenTAP(fmt.Sprintf("%sc%d", s.b.prefix, i)); err != nil {
			return nics, err
		}
		ns, _ := s.b.vmNS(i)
		nics[i] = s.taps[i].Name()
		if err := benchIP(ctx, "link", "set", nics[i], "netns", ns); err != nil {
			return nics, err
		}
	}
	for i := range s.taps {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			in, out := s.taps[i], s.taps[1-i]
			b := port.NewBatch(s.b.opts.batch)
			for in.Read(b) == nil {
				out.Write(b.Valid())
			}
		}()
	}
	return nics, nil
}

func (s *tapCopySetup) stop() map[string]uint64 {
	for _, t := range s.taps {
		if t != nil {
			t.Close()
		}
	}
	s.wg.Wait()
	d := s.dropsSoFar()
	s.taps = [2]*port.TAP{}
	return d
}

// dropsSoFar returns the drops the copy loop's TAPs counted so far.
func (s *tapCopySetup) dropsSoFar() map[string]uint64 {
	d := map[string]uint64{}
	for _, t := range s.taps {
		if t != nil {
			addPortDrops(d, "copy loop", t.Stats())
		}
	}
	return d
}

func addPortDrops(d map[string]uint64, who string, st port.Stats) {
	d[who+" ports"] += st.RxDropped + st.TxDropped
}

// nivSetup runs the niv pair in this process: each VM's TAP on the IV,
// the IV's uplink and the VIS's IV port on the two ends of a veth, through
// AF_PACKET. With seg the veth has a real MTU (1600): the IV and the VIS
// segment super-frames before they cross it.
type nivSetup struct {
	b                 *bench
	seg               bool
	cancel            context.CancelFunc
	wg                sync.WaitGroup
	ivPorts, visPorts []port.Port
}

func (s *nivSetup) name() string {
	if s.seg {
		return "nivseg"
	}
	return "niv"
}
func (s *nivSetup) cpu() time.Duration { return selfCPU() }

func (s *nivSetup) start(ctx context.Context) (nics [2]string, err error) {
	link := [2]string{s.b.prefix + "li", s.b.prefix + "ls"}
	mtu := s.b.opts.linkMTU
	if s.seg {
		mtu = 1600
	}
	if err := makeBenchLink(ctx, link, mtu); err != nil {
		return nics, err
	}
	ivCore, err := newBenchIV()
	if err != nil {
		return nics, err
	}
	visCore, err := newBenchVIS(ivCore)
	if err != nil {
		return nics, err
	}
	var taps [2]string
	for i := range taps {
		taps[i] = fmt.Sprintf("%st%d", s.b.prefix, i)
	}
	s.ivPorts, s.visPorts, err = openBenchPorts(s.b.opts, link, taps[:], true, true)
	if err != nil {
		return nics, err
	}
	for i := range nics {
		ns, _ := s.b.vmNS(i)
		nics[i] = taps[i]
		if err := benchIP(ctx, "link", "set", nics[i], "netns", ns); err != nil {
			return nics, err
		}
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	cfg := port.RunConfig{Batch: s.b.opts.batch}
	ivCfg, visCfg := cfg, cfg
	if s.b.opts.pin && runtime.NumCPU() >= 2 {
		ivCfg.Pin, visCfg.Pin = port.PinToCPU(0), port.PinToCPU(1)
	}
	s.wg.Add(2)
	go func() { defer s.wg.Done(); port.Run(runCtx, ivCore, s.ivPorts, ivCfg) }()
	go func() { defer s.wg.Done(); port.Run(runCtx, visCore, s.visPorts, visCfg); visCore.Close() }()
	return nics, nil
}

func (s *nivSetup) stop() map[string]uint64 {
	if s.cancel != nil {
		s.cancel()
		s.wg.Wait()
		s.cancel = nil
	}
	closeBenchPorts(s.ivPorts, s.visPorts)
	for who, ps := range map[string][]port.Port{"IV": s.ivPorts, "VIS": s.visPorts} {
		for _, p := range ps {
			if p != nil && s.b.log != nil {
				fmt.Fprintf(s.b.log, "  %s port %s: %v\n", who, p.Name(), p.Stats())
			}
		}
	}
	d := s.dropsSoFar()
	exec.Command("ip", "link", "del", s.b.prefix+"li").Run()
	return d
}

// dropsSoFar returns the drops the pair's ports counted so far.
func (s *nivSetup) dropsSoFar() map[string]uint64 {
	d := map[string]uint64{}
	for who, ps := range map[string][]port.Port{"IV": s.ivPorts, "VIS": s.visPorts} {
		for _, p := range ps {
			if p != nil {
				addPortDrops(d, who, p.Stats())
			}
		}
	}
	return d
}

func closeBenchPorts(lists ...[]port.Port) {
	for _, ps := range lists {
		for _, p := range ps {
			if p != nil {
				p.Close()
			}
		}
	}
}

// makeBenchLink makes the veth pair between the IV and the VIS, with room
// for a tag on full-size frames.
func makeBenchLink(ctx context.Context, link [2]string, mtu int) error {
	exec.Command("ip", "link", "del", link[0]).Run()
	m := strconv.Itoa(mtu)
	if err := benchIP(ctx, "link", "add", link[0], "mtu", m, "type", "veth", "peer", "name", link[1], "mtu", m); err != nil {
		return err
	}
	for _, dev := range link {
		_ = os.WriteFile("/proc/sys/net/ipv6/conf/"+dev+"/disable_ipv6", []byte("1"), 0)
		if err := benchIP(ctx, "link", "set", dev, "up"); err != nil {
			return err
		}
	}
	return nil
}

// openBenchPorts opens the IV's ports (uplink A on link[0], then a TAP per
// name in taps) if iv is set, and the VIS's (its IV port on link[1]) if
// vs is set.
func openBenchPorts(o benchOpts, link [2]string, taps []string, ivSide, visSide bool) (ivPorts, visPorts []port.Port, err error) {
	fail := func(e error) ([]port.Port, []port.Port, error) {
		closeBenchPorts(ivPorts, visPorts)
		return nil, nil, e
	}
	linkCfg := port.PacketConfig{Filter: port.NIVFilter(), Offload: o.offload, RxRing: o.rxRing, TxRing: o.txRing}
	if ifi, err := net.InterfaceByName(link[0]); err == nil && o.xdpTx && ifi.MTU <= 4000 {
		// AF_XDP takes frames of a real MTU, not super-frames.
		linkCfg.XDPTx = true
	}
	open := func(name string) (*port.Packet, error) {
		p, err := port.OpenPacketWith(name, linkCfg)
		if err != nil && linkCfg.XDPTx {
			fmt.Fprintf(os.Stderr, "niv bench: %v; the link writes with sendmmsg instead\n", err)
			linkCfg.XDPTx = false
			p, err = port.OpenPacketWith(name, linkCfg)
		}
		return p, err
	}
	if ivSide {
		up, err := open(link[0])
		if err != nil {
			return fail(err)
		}
		ivPorts = []port.Port{up, nil}
		for _, name := range taps {
			t, err := port.OpenTAPWith(name, port.TAPConfig{Offload: o.offload, Queues: o.queues})
			if err != nil {
				return fail(err)
			}
			ivPorts = append(ivPorts, t)
		}
		if len(ivPorts) != iv.FirstVNIC+len(taps) {
			return fail(errors.New("bench: IV ports out of order"))
		}
	}
	if visSide {
		down, err := open(link[1])
		if err != nil {
			return fail(err)
		}
		visPorts = []port.Port{down}
	}
	return ivPorts, visPorts, nil
}

// niv2Setup runs the niv pair as two processes, `niv bench role vis` and
// `niv bench role iv`.
type niv2Setup struct {
	b     *bench
	procs []*exec.Cmd
	outs  []*bufio.Reader
}

func (s *niv2Setup) name() string { return "niv2" }

func (s *niv2Setup) cpu() time.Duration {
	var t time.Duration
	for _, p := range s.procs {
		t += pidCPU(p.Process.Pid)
	}
	return t
}

// spawn starts `niv bench role ARGS` and returns its first line of output.
func (s *niv2Setup) spawn(args ...string) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(exe, append([]string{"bench", "role"}, args...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	s.procs = append(s.procs, cmd)
	r := bufio.NewReader(out)
	s.outs = append(s.outs, r)
	line, err := r.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("niv bench role %s: %w", args[0], err)
	}
	return strings.TrimSpace(line), nil
}

func (s *niv2Setup) start(ctx context.Context) (nics [2]string, err error) {
	link := [2]string{s.b.prefix + "li", s.b.prefix + "ls"}
	if err := makeBenchLink(ctx, link, s.b.opts.linkMTU); err != nil {
		return nics, err
	}
	lists, err := s.spawn(append([]string{"vis", "--link", link[1]}, s.b.opts.args()...)...)
	if err != nil {
		return nics, err
	}
	lists, ok := strings.CutPrefix(lists, "lists ")
	if !ok {
		return nics, fmt.Errorf("niv bench role vis: said %q", lists)
	}
	taps := fmt.Sprintf("%st0,%st1", s.b.prefix, s.b.prefix)
	if line, err := s.spawn(append([]string{"iv", "--link", link[0], "--taps", taps, "--lists", lists}, s.b.opts.args()...)...); err != nil || line != "ready" {
		return nics, fmt.Errorf("niv bench role iv: said %q: %v", line, err)
	}
	for i, t := range strings.Split(taps, ",") {
		ns, _ := s.b.vmNS(i)
		nics[i] = t
		if err := benchIP(ctx, "link", "set", t, "netns", ns); err != nil {
			return nics, err
		}
	}
	return nics, nil
}

// dropsSoFar asks each process for the drops its ports counted so far
// (SIGUSR1) and reads its answer.
func (s *niv2Setup) dropsSoFar() map[string]uint64 {
	d := map[string]uint64{}
	for i, p := range s.procs {
		if p.Process.Signal(syscall.SIGUSR1) != nil {
			continue
		}
		line, err := s.outs[i].ReadString('\n')
		if who, n, ok := strings.Cut(strings.TrimSpace(line), " drops "); err == nil && ok {
			v, _ := strconv.ParseUint(n, 10, 64)
			d[who+" ports"] += v
		}
	}
	return d
}

func (s *niv2Setup) stop() map[string]uint64 {
	d := map[string]uint64{}
	for i, p := range s.procs {
		p.Process.Signal(syscall.SIGTERM)
		rest, _ := io.ReadAll(s.outs[i])
		p.Wait()
		for _, line := range strings.Split(string(rest), "\n") {
			if who, n, ok := strings.Cut(line, " drops "); ok {
				v, _ := strconv.ParseUint(strings.TrimSpace(n), 10, 64)
				d[who+" ports"] += v
			}
		}
	}
	s.procs, s.outs = nil, nil
	exec.Command("ip", "link", "del", s.b.prefix+"li").Run()
	return d
}

// runBenchRole implements `niv bench role iv|vis`: one side of the niv
// pair in its own process, for the niv2 setup. It prints one line when it
// is ready (the VIS its vif lists, the IV "ready"), runs until SIGTERM and
// then prints the drops its ports counted.
func runBenchRole(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "iv" && args[0] != "vis") {
		fmt.Fprintln(stderr, "usage: niv bench role iv|vis --link IF [--taps TAP,TAP --lists LISTS]")
		return 2
	}
	role := args[0]
	fs := flag.NewFlagSet("bench role", flag.ContinueOnError)
	fs.SetOutput(stderr)
	link := fs.String("link", "", "the veth end")
	taps := fs.String("taps", "", "TAP devices to create, one per VM (iv)")
	lists := fs.String("lists", "", "vif lists the VIS programmed (iv)")
	var o benchOpts
	o.flags(fs)
	if err := fs.Parse(args[1:]); err != nil || *link == "" {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// SIGUSR1: print the drops so far (niv2Setup.dropsSoFar); before the
	// ready line, so that none is missed.
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	cfg := port.RunConfig{Batch: o.batch}
	var (
		core  port.Core
		ports []port.Port
		err   error
	)
	if role == "vis" {
		rec := &listRecorder{}
		v, err := newBenchVIS(rec)
		if err != nil {
			fmt.Fprintf(stderr, "niv bench role vis: %v\n", err)
			return 1
		}
		defer v.Close()
		if _, ports, err = openBenchPorts(o, [2]string{"", *link}, nil, false, true); err != nil {
			fmt.Fprintf(stderr, "niv bench role vis: %v\n", err)
			return 1
		}
		core = v
		fmt.Fprintf(stdout, "lists %s\n", rec)
	} else {
		v, err := newBenchIV()
		if err == nil {
			err = parseLists(*lists, v)
		}
		if err == nil {
			ports, _, err = openBenchPorts(o, [2]string{*link, ""}, strings.Split(*taps, ","), true, false)
		}
		if err != nil {
			fmt.Fprintf(stderr, "niv bench role iv: %v\n", err)
			return 1
		}
		core = v
		fmt.Fprintln(stdout, "ready")
	}
	drops := func() uint64 {
		var n uint64
		for _, p := range ports {
			if p != nil {
				st := p.Stats()
				n += st.RxDropped + st.TxDropped
			}
		}
		return n
	}
	go func() {
		for range usr1 {
			fmt.Fprintf(stdout, "%s drops %d\n", strings.ToUpper(role), drops())
		}
	}()
	err = port.Run(ctx, core, ports, cfg)
	fmt.Fprintf(stdout, "%s drops %d\n", strings.ToUpper(role), drops())
	if err != nil {
		fmt.Fprintf(stderr, "niv bench role %s: %v\n", role, err)
		return 1
	}
	return 0
}

// record starts a recorder of this process (a CPU profile, an execution
// trace) writing to the file path and returns what stops it.
func record(path string, start func(io.Writer) error, stop func()) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := start(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { stop(); f.Close() }, nil
}
