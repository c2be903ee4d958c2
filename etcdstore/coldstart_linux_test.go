package etcdstore_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/internal/daemon/netlab"
	"github.com/nivkit/niv/internal/daemon/wire"
	"github.com/nivkit/niv/internal/needs"
	"github.com/nivkit/niv/vdp/ecp"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/bind"
	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vntag"
)

// BenchmarkColdStart (root) is the cold start of one `niv vis --store
// etcd://` daemon (etcdstore/cmd/niv, a process) with NIV_COLD_VETHS
// vEths (default 10,000): three IVs, in this process on veth pairs to the
// daemon's three vntag ports, announce their vNICs all at once (a window
// of 64 requests each), on an embedded etcd with nothing in it. It
// reports the time from the first VIF-alloc until every vNIC is bound
// (s/op, vEths/s) and how many registry transactions the daemon made.
func BenchmarkColdStart(b *testing.B) {
	needs.Root(b)
	needs.Tool(b, "ip")
	n := 10_000
	if s := os.Getenv("NIV_COLD_VETHS"); s != "" {
		fmt.Sscan(s, &n)
	}
	bin := filepath.Join(b.TempDir(), "niv")
	out, err := exec.Command("go", "build", "-o", bin, "./cmd/niv").CombinedOutput()
	require.NoError(b, err, "go build ./cmd/niv: %s", out)
	for b.Loop() {
		coldStart(b, bin, n)
	}
}

func coldStart(b *testing.B, bin string, n int) {
	b.StopTimer()
	etcd, err := startBench(b)
	require.NoError(b, err)
	store := "etcd://" + strings.TrimPrefix(etcd.Endpoints()[0], "http://")
	l, err := netlab.NewWith(fmt.Sprintf("cs%d", os.Getpid()%100000), bin)
	require.NoError(b, err)
	defer l.Close()
	const ports = 3
	leaves := (n + 1023) / 1024
	var conf strings.Builder
	fmt.Fprintf(&conf, "hostname cold\nniv store %[1]s/cold.db\nniv socket %[1]s/cold.sock\nniv checkpoint-interval 5\n!\n", l.Dir)
	for p := range ports {
		fmt.Fprintf(&conf, "interface ethernet1/%d\n  switchport mode vntag\n  linux-interface %sv%d\n!\n", p+1, l.Prefix, p)
	}
	conf.WriteString("port-profile type vethernet base\n  switchport mode access\n  switchport access vlan 10\n  state enabled\n")
	for i := range leaves {
		fmt.Fprintf(&conf, "port-profile type vethernet leaf%d\n  inherit port-profile base\n  max-ports 1024\n  state enabled\n", i)
	}
	ns, err := l.NS("ivs")
	require.NoError(b, err)
	for p := range ports {
		require.NoError(b, l.LinkHere(fmt.Sprintf("%sh%d", l.Prefix, p), ns, fmt.Sprintf("%sv%d", l.Prefix, p)))
	}
	file, err := l.Write("cold.conf", conf.String())
	require.NoError(b, err)
	d, err := l.DaemonArgs("vis", "", file, filepath.Join(l.Dir, "cold.sock"), "--store", store)
	require.NoError(b, err)
	defer func() {
		if b.Failed() {
			b.Logf("%s", d.LogText())
		}
	}()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var bound atomic.Int64
	all := make(chan struct{})
	var once sync.Once
	var planes []*bind.IVPlane
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for p := range ports {
		var link port.Port
		var mac [6]byte
		require.NoError(b, wire.InNetns(ns, func() (err error) {
			link, mac, err = wire.OpenLink(fmt.Sprintf("%sh%d", l.Prefix, p), false)
			return err
		}))
		core := iv.New(iv.Config{Mode: vntag.ModeVNTag})
		ivp, err := bind.NewIVPlane(core, vic.IVConfig{Session: wire.Session(), MaxVIFs: 4095}, iv.UplinkA,
			bind.Writer{Port: link}, ecp.DefaultConfig(mac), func(vic.VNIC, vntag.VIF, int) {
				if bound.Add(1) == int64(n) {
					once.Do(func() { close(all) })
				}
			})
		require.NoError(b, err)
		planes = append(planes, ivp)
		defer ivp.Close()
		wg.Go(func() { port.Run(ctx, ivp.Core(), []port.Port{link}, port.RunConfig{}) })
		defer link.Close()
	}
	for _, ivp := range planes {
		require.Eventually(b, func() bool { s, _ := ivp.Agent().Session(); return s == vic.SessionOpen }, 10*time.Second, 10*time.Millisecond, "IV sessions open")
	}
	b.StartTimer()
	t0 := time.Now()
	for i := range n {
		var u vic.UUID
		copy(u[:], "cold")
		u[12], u[13], u[14], u[15] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
		planes[i%ports].Agent().Request(vic.VNIC{Instance: u, MAC: [6]byte{0x02, 0xc0, 0, byte(i >> 16), byte(i >> 8), byte(i)},
			Profile: fmt.Sprintf("leaf%d", i%leaves), Epoch: 1, Up: true})
	}
	select {
	case <-all:
	case <-time.After(20 * time.Minute):
		b.Fatalf("%d of %d bound after 20 min", bound.Load(), n)
	}
	took := time.Since(t0)
	b.StopTimer()
	b.ReportMetric(float64(n)/took.Seconds(), "vEths/s")
	m, err := scrapeTxns(etcd.Endpoints()[0])
	require.NoError(b, err)
	b.ReportMetric(m, "etcd-txns")
	b.Logf("%d vEths bound in %v (%.0f/s); etcd: %.0f Txn requests", n, took.Round(time.Millisecond), float64(n)/took.Seconds(), m)
	d.Kill()
	b.StartTimer()
}

// scrapeTxns returns the Txn requests etcd at endpoint has served
// (grpc_server_handled_total of method Txn, every code).
func scrapeTxns(endpoint string) (float64, error) {
	resp, err := http.Get(strings.TrimSuffix(endpoint, "/") + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	var n float64
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "grpc_server_handled_total{") && strings.Contains(line, `grpc_method="Txn"`) {
			var v float64
			if _, err := fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v); err == nil {
				n += v
			}
		}
	}
	return n, nil
}
