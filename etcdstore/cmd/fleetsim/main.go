// Command fleetsim simulates a fleet of VISes sharing one etcd: N VIS
// cores (vis.VIS), each with its own etcd client, Profiles and Registry,
// × M vEths each, in this process, against an embedded etcd (or the
// members given with -endpoints). It measures how long a profile edit
// takes to reach every vEth (from the manager's Update until each VIS has
// applied the new policy to its vEths: p50/p99/max over vEths), etcd's
// load in each phase from its /metrics (requests, bytes in and out,
// database size, keys, watchers), and how long after a VIS dies its vEths
// are bound again by a standby (lease TTL included):
//
//	go run ./cmd/fleetsim -vis 16 -veths 10000
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"math"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/nivkit/niv/etcdstore"
	"github.com/nivkit/niv/etcdstore/internal/etcdtest"
	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vic/registry"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

var (
	nVIS      = flag.Int("vis", 16, "VIS instances")
	nVEth     = flag.Int("veths", 10000, "vEths per VIS")
	nEdits    = flag.Int("edits", 40, "profile edits to time")
	leaves    = flag.Int("profiles", 0, "leaf port-profiles the vEths are spread over, all inheriting one base (default: enough for max-ports 1024 each, which is fleet-wide)")
	perPort   = flag.Int("per-port", 250, "vEths per IV port")
	workers   = flag.Int("workers", 4, "concurrent registry calls per VIS")
	ttl       = flag.Duration("ttl", 5*time.Second, "lease TTL of each VIS")
	endpoints = flag.String("endpoints", "", "etcd client URLs, comma-separated (default: start an embedded etcd)")
	dataDir   = flag.String("dir", "", "data directory of the embedded etcd (default: a temporary one)")
	macTable  = flag.Int("mac-table", 1024, "MAC table size of each VIS core (vis.Config.MACTableSize)")
	cpuProf   = flag.String("cpuprofile", "", "write a CPU profile of the whole run to `FILE`")
	learn     = flag.Bool("learn", true, "before each edit (untimed), every vEth learns one MAC, so that the edit must forget them")
)

func main() {
	flag.Parse()
	if *leaves == 0 {
		*leaves = max(1, (*nVIS**nVEth+999)/1000)
	}
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	eps := strings.Split(*endpoints, ",")
	if *endpoints == "" {
		dir := *dataDir
		if dir == "" {
			var err error
			if dir, err = os.MkdirTemp("", "fleetsim"); err != nil {
				log.Fatal(err)
			}
			defer os.RemoveAll(dir)
		}
		c, err := etcdtest.Start(dir, etcdtest.Options{QuotaBytes: 8 << 30})
		if err != nil {
			log.Fatal(err)
		}
		defer c.Close()
		eps = c.Endpoints()
	}
	if err := run(eps); err != nil {
		log.Fatal(err)
	}
}

// node is one VIS of the fleet.
type node struct {
	name  string
	cli   *clientv3.Client
	prof  *etcdstore.Profiles
	reg   *etcdstore.Registry
	core  *vis.VIS
	ports map[string]int
	// frames are one upstream frame from each vEth's MAC, by core port
	frames map[int][][]byte

	mu sync.Mutex
	// access VLAN of base → when the store delivered it, when the core
	// had applied it to every vEth
	received, applied map[uint16]time.Time
	held              atomic.Int64
}

func uuidOf(n, i int) vic.UUID {
	var u vic.UUID
	copy(u[:], "nivsim")
	u[8], u[9] = byte(n>>8), byte(n)
	u[12], u[13], u[14], u[15] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
	return u
}

// leaf names the profile of a VIS's i-th vEth: VIS k's vEths go to
// leaves k, k+nVIS, …, so that each leaf's vEths across the fleet stay
// under its max-ports.
func leaf(k, i int) string { return "leaf" + strconv.Itoa((k+i**nVIS)%*leaves) }

func openNode(ctx context.Context, eps []string, name string) (*node, error) {
	cli, err := etcdstore.DialEndpoints(eps)
	if err != nil {
		return nil, err
	}
	n := &node{name: name, cli: cli, ports: map[string]int{}, frames: map[int][][]byte{}, received: map[uint16]time.Time{}, applied: map[uint16]time.Time{}}
	if n.prof, err = etcdstore.OpenProfiles(ctx, cli, etcdstore.ProfilesOptions{Retries: 64}); err != nil {
		return nil, err
	}
	if n.reg, err = etcdstore.OpenRegistry(ctx, cli, etcdstore.RegistryOptions{VIS: name, TTL: *ttl}); err != nil {
		return nil, err
	}
	// Subscribers are called in the order they subscribed: before the
	// core's, a batch is timed as the store delivers it; after, once the
	// core has applied it to every vEth.
	n.prof.Subscribe(n.timer(n.received))
	if n.core, err = vis.New(vis.Config{Store: n.prof, MACTableSize: *macTable}); err != nil {
		return nil, err
	}
	n.prof.Subscribe(n.timer(n.applied))
	return n, nil
}

// timer records in at when a batch moving base to a VLAN first arrives.
func (n *node) timer(at map[uint16]time.Time) func(profile.Batch) {
	return func(b profile.Batch) {
		if len(b.Updates) == 0 || b.Updates[0].Policy == nil {
			return
		}
		vlan := b.Updates[0].Policy.Settings().AccessVLAN
		now := time.Now()
		n.mu.Lock()
		if _, ok := at[vlan]; !ok {
			at[vlan] = now
		}
		n.mu.Unlock()
	}
}

func (n *node) port(name string) int {
	if p, ok := n.ports[name]; ok {
		return p
	}
	p, err := n.core.AddIVPort(name, vntag.ModeVNTag, iv.New(iv.Config{}))
	if err != nil {
		log.Fatal(err)
	}
	n.ports[name] = p
	return p
}

type placed struct {
	u   vic.UUID
	id  profile.VEthID
	cfg vic.VNIC
	b   registry.Binding
}

// claim allocates and binds the given vEths through Registry.BindAll,
// -workers calls at a time of 400 vEths each.
func (n *node) claim(ctx context.Context, todo []placed) error {
	const chunk = 400
	var wg sync.WaitGroup
	var next atomic.Int64
	errs := make(chan error, *workers)
	for range *workers {
		wg.Go(func() {
			for {
				from := int(next.Add(chunk) - chunk)
				if from >= len(todo) {
					return
				}
				part := todo[from:min(from+chunk, len(todo))]
				claims := make([]etcdstore.Claim, len(part))
				for i, p := range part {
					claims[i] = etcdstore.Claim{Instance: p.u, Config: p.cfg, Binding: p.b}
				}
				recs, err := n.reg.BindAll(ctx, claims)
				if err != nil {
					errs <- fmt.Errorf("%s: %w", n.name, err)
					return
				}
				for i, r := range recs {
					part[i].id, part[i].cfg = r.ID, r.Config
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// bindAll allocates and binds the given vEths, then binds them to their
// profiles in one transaction and puts them in the core.
func (n *node) bindAll(ctx context.Context, todo []placed) error {
	t0 := time.Now()
	if err := n.claim(ctx, todo); err != nil {
		return err
	}
	t1 := time.Now()
	if _, err := n.prof.Update(func(tx *profile.Txn) error {
		for _, p := range todo {
			tx.Bind(p.id, p.cfg.Profile)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, p := range todo {
		if err := n.core.AddVEth(p.id, n.port(p.b.Port), p.b.VIF); err != nil {
			return err
		}
	}
	for _, p := range todo {
		cp := n.port(p.b.Port)
		n.frames[cp] = append(n.frames[cp], upstream(p.cfg.MAC, p.b.VIF))
	}
	n.held.Add(int64(len(todo)))
	log.Printf("%s: %d vEths: registry %v, profile bindings %v", n.name, len(todo), t1.Sub(t0).Round(time.Millisecond), time.Since(t1).Round(time.Millisecond))
	return nil
}

// upstream returns a broadcast frame from mac with the upstream VNTag of
// vif, as the IV sends it.
func upstream(mac [6]byte, vif vntag.VIF) []byte {
	const room = 8 // for the tag
	buf := make([]byte, room+60)
	b := buf[room:]
	copy(b, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(b[6:], mac[:])
	b[12], b[13] = 0x08, 0x06 // ARP
	tag, err := vntag.Upstream(uint16(vif))
	if err != nil {
		log.Fatal(err)
	}
	out, err := vntag.Push(buf, room, tag)
	if err != nil {
		log.Fatal(err)
	}
	return out
}

// learnAll has the core learn every vEth's MAC (one frame each) and
// returns how many MACs it holds.
func (n *node) learnAll() int {
	bt := port.NewBatch(1)
	tx := port.NewTx(64, 1<<20)
	for cp, frames := range n.frames {
		for _, f := range frames {
			bt.Put(0, f)
			n.core.Process(cp, bt.Frames, 0, tx)
			tx.Reset()
		}
	}
	return len(n.core.MACs(0))
}

func (n *node) close(kill bool) {
	if !kill {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		n.reg.Revoke(ctx)
		cancel()
	}
	n.reg.Close()
	n.prof.Close()
	n.core.Close()
	n.cli.Close()
}

func run(eps []string) error {
	ctx := context.Background()
	metricsURL := strings.TrimSuffix(eps[0], "/") + "/metrics"
	fmt.Printf("fleetsim: %d VISes × %d vEths on etcd %s (%d CPUs, GOMAXPROCS %d)\n", *nVIS, *nVEth, strings.Join(eps, ","), runtime.NumCPU(), runtime.GOMAXPROCS(0))

	mgr, err := etcdstore.DialEndpoints(eps)
	if err != nil {
		return err
	}
	defer mgr.Close()
	mprof, err := etcdstore.OpenProfiles(ctx, mgr, etcdstore.ProfilesOptions{Retries: 64})
	if err != nil {
		return err
	}
	defer mprof.Close()
	var conf strings.Builder
	conf.WriteString("port-profile base\n  switchport mode access\n  switchport access vlan 100\n  state enabled\n")
	for i := range *leaves {
		fmt.Fprintf(&conf, "port-profile %s\n  inherit port-profile base\n  max-ports 1024\n  state enabled\n", "leaf"+strconv.Itoa(i))
	}
	if _, err := mprof.Update(func(tx *profile.Txn) error { return tx.Configure(conf.String()) }); err != nil {
		return err
	}

	// Phase 1: the fleet comes up and binds its vEths.
	m0, err := scrape(metricsURL)
	if err != nil {
		return fmt.Errorf("etcd metrics: %w", err)
	}
	t0 := time.Now()
	nodes := make([]*node, *nVIS)
	var wg sync.WaitGroup
	errs := make([]error, *nVIS)
	for k := range nodes {
		wg.Go(func() {
			n, err := openNode(ctx, eps, fmt.Sprintf("vis-%02d", k))
			if err != nil {
				errs[k] = err
				return
			}
			nodes[k] = n
			todo := make([]placed, *nVEth)
			for i := range todo {
				u := uuidOf(k, i)
				todo[i] = placed{u: u,
					cfg: vic.VNIC{Instance: u, MAC: [6]byte{0x02, byte(k), byte(i >> 16), byte(i >> 8), byte(i)}, Profile: leaf(k, i), Epoch: 1, Up: true},
					b:   registry.Binding{Port: fmt.Sprintf("fabA-%d", i / *perPort), VIF: vntag.VIF(i%*perPort + 1), Epoch: 1}}
			}
			errs[k] = n.bindAll(ctx, todo)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	m1, _ := scrape(metricsURL)
	setup := time.Since(t0)
	fmt.Printf("\nsetup: %d vEths allocated and bound in %v (%.0f vEths/s)\n", *nVIS**nVEth, setup.Round(time.Millisecond), float64(*nVIS**nVEth)/setup.Seconds())
	report(m0, m1, setup)

	// Phase 2: profile edits. Each moves base to another access VLAN,
	// which every leaf inherits: every vEth of the fleet gets a new policy.
	var lat, recv []time.Duration // one per VIS per edit, each standing for its vEths
	t1 := time.Now()
	macs := 0
	for e := range *nEdits {
		vlan := uint16(200 + e)
		if *learn {
			t := time.Now()
			var wg sync.WaitGroup
			var total atomic.Int64
			for _, n := range nodes {
				wg.Go(func() { total.Add(int64(n.learnAll())) })
			}
			wg.Wait()
			macs = int(total.Load())
			t1 = t1.Add(time.Since(t)) // untimed
		}
		start := time.Now()
		if _, err := mprof.Update(func(tx *profile.Txn) error {
			return tx.Configure(fmt.Sprintf("port-profile base\n  switchport access vlan %d\n", vlan))
		}); err != nil {
			return err
		}
		for _, n := range nodes {
			for {
				n.mu.Lock()
				at, ok := n.applied[vlan]
				rat := n.received[vlan]
				n.mu.Unlock()
				if ok {
					lat = append(lat, at.Sub(start))
					recv = append(recv, rat.Sub(start))
					break
				}
				time.Sleep(time.Millisecond)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	edits := time.Since(t1)
	m2, _ := scrape(metricsURL)
	slices.Sort(lat)
	slices.Sort(recv)
	fmt.Printf("\nprofile edit → every vEth of %d VISes × %d (%d edits; each VIS's time counts for each of its vEths; MAC table %d, %d MACs learned before each edit):\n", *nVIS, *nVEth, *nEdits, *macTable, macs)
	fmt.Printf("  delivered by the store (watch, recompiled): p50 %v  p99 %v  max %v\n", pct(recv, 50), pct(recv, 99), pct(recv, 100))
	fmt.Printf("  applied to every vEth in the VIS core:       p50 %v  p99 %v  max %v\n", pct(lat, 50), pct(lat, 99), pct(lat, 100))
	// Check that the data paths hold the last edit.
	for _, n := range nodes {
		s := n.prof.Snapshot()
		for id := range s.Bindings {
			if p := s.Policy(id); p == nil || p.Settings().AccessVLAN != uint16(200+*nEdits-1) {
				return fmt.Errorf("%s: %v has not the last edit", n.name, id)
			}
			break
		}
	}
	report(m1, m2, edits)

	// Phase 3: vis-00 dies (its client closed, its lease not revoked);
	// vis-01, on links to the same IVs (fabric B), binds its vEths again.
	dead, standby := nodes[0], nodes[1]
	var orphans sync.Map
	var got atomic.Int64
	firstOrphan := atomic.Pointer[time.Time]{}
	queue := make(chan registry.Event, *nVEth)
	standby.reg.Subscribe(func(ev registry.Event) {
		if ev.Kind != registry.Orphaned || ev.Binding.VIS != dead.name {
			return
		}
		if _, dup := orphans.LoadOrStore(ev.Instance, true); !dup {
			now := time.Now()
			firstOrphan.CompareAndSwap(nil, &now)
			queue <- ev
		}
	})
	m3, _ := scrape(metricsURL)
	died := time.Now()
	dead.close(true)
	// Orphans arrive as the lease's keys are deleted (all at once, in one
	// revision): take them 400 at a time as they come.
	var taken []placed
	for got.Load() < int64(*nVEth) {
		batch := []placed{}
		for len(batch) < 400 {
			select {
			case ev := <-queue:
				b := ev.Binding
				b.Port = strings.Replace(b.Port, "fabA", "fabB", 1)
				batch = append(batch, placed{u: ev.Instance, b: b})
				continue
			case <-time.After(20 * time.Millisecond):
			}
			if len(batch) > 0 {
				break
			}
		}
		if err := standby.claim(ctx, batch); err != nil {
			return err
		}
		taken = append(taken, batch...)
		got.Add(int64(len(batch)))
	}
	bound := time.Since(died)
	if _, err := standby.prof.Update(func(tx *profile.Txn) error {
		for _, p := range taken {
			tx.Bind(p.id, p.cfg.Profile)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, p := range taken {
		if err := standby.core.AddVEth(p.id, standby.port(p.b.Port), p.b.VIF); err != nil {
			return err
		}
	}
	forwarding := time.Since(died)
	m4, _ := scrape(metricsURL)
	fmt.Printf("\ntakeover of %d vEths of a killed VIS (lease TTL %v):\n", *nVEth, *ttl)
	fmt.Printf("  first orphan seen %v after the kill; all re-bound in etcd %v after; in the standby's data path %v after\n",
		firstOrphan.Load().Sub(died).Round(time.Millisecond), bound.Round(time.Millisecond), forwarding.Round(time.Millisecond))
	report(m3, m4, forwarding)

	for _, n := range nodes[1:] {
		n.close(false)
	}
	return nil
}

func pct(d []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(float64(len(d))*p/100)) - 1
	return d[max(i, 0)].Round(10 * time.Microsecond)
}

// metrics holds the sum of every series of each metric family.
type metrics map[string]float64

func scrape(url string) (metrics, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	m := metrics{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, _ := strings.Cut(line, " ")
		if i := strings.IndexByte(line, '{'); i >= 0 && i < len(name) {
			name = line[:i]
			j := strings.LastIndexByte(line, '}')
			rest = strings.TrimSpace(line[j+1:])
		}
		v, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
		if err == nil {
			m[name] += v
		}
		if strings.HasPrefix(line, "grpc_server_handled_total{") {
			method := between(line, `grpc_method="`, `"`)
			m["method:"+method] += v
		}
	}
	return m, sc.Err()
}

func between(s, a, b string) string {
	_, rest, _ := strings.Cut(s, a)
	v, _, _ := strings.Cut(rest, b)
	return v
}

func report(a, b metrics, d time.Duration) {
	diff := func(k string) float64 { return b[k] - a[k] }
	reqs := diff("grpc_server_handled_total")
	fmt.Printf("  etcd: %.0f requests (%.0f/s), %.1f MB in (%.1f MB/s), %.1f MB out (%.1f MB/s)\n",
		reqs, reqs/d.Seconds(),
		diff("etcd_network_client_grpc_received_bytes_total")/1e6, diff("etcd_network_client_grpc_received_bytes_total")/1e6/d.Seconds(),
		diff("etcd_network_client_grpc_sent_bytes_total")/1e6, diff("etcd_network_client_grpc_sent_bytes_total")/1e6/d.Seconds())
	var methods []string
	for k := range b {
		if m, ok := strings.CutPrefix(k, "method:"); ok && diff(k) > 0 {
			methods = append(methods, fmt.Sprintf("%s %.0f", m, diff(k)))
		}
	}
	slices.Sort(methods)
	fmt.Printf("  by method: %s\n", strings.Join(methods, ", "))
	fmt.Printf("  db %.1f MB (in use %.1f MB), %.0f keys, %.0f watchers, %.0f puts, %.0f txns, %.0f ranges, %.0f deletes\n",
		b["etcd_mvcc_db_total_size_in_bytes"]/1e6, b["etcd_mvcc_db_total_size_in_use_in_bytes"]/1e6, b["etcd_debugging_mvcc_keys_total"],
		b["etcd_debugging_mvcc_watcher_total"], diff("etcd_mvcc_put_total"), diff("etcd_mvcc_txn_total"), diff("etcd_mvcc_range_total"), diff("etcd_mvcc_delete_total"))
}
