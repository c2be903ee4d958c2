// Package etcdtest starts real etcd servers, embedded in the calling
// process (go.etcd.io/etcd/server/v3/embed), for etcdstore's tests and
// simulation, and a TCP proxy on loopback that a test can cut to
// partition one client from etcd.
package etcdtest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/nivkit/niv/etcdstore"
)

// Cluster is a set of embedded etcd members that form one cluster.
type Cluster struct {
	Members []*Member
}

// Member is one running (or stopped) member.
type Member struct {
	Name string
	// Client is the client URL, "http://127.0.0.1:PORT".
	Client string
	etcd   *embed.Etcd
}

// Options tune Start.
type Options struct {
	// Size is the number of members (default 1).
	Size int
	// QuotaBytes is the backend quota (default etcd's, 2 GiB).
	QuotaBytes int64
	// MaxTxnOps raises etcd's limit of operations in one transaction.
	MaxTxnOps uint
}

// Start starts a cluster of o.Size members keeping their data under dir,
// and returns once every member is ready.
func Start(dir string, o Options) (*Cluster, error) {
	if o.Size == 0 {
		o.Size = 1
	}
	ports, err := freePorts(2 * o.Size)
	if err != nil {
		return nil, err
	}
	var initial []string
	cfgs := make([]*embed.Config, o.Size)
	c := &Cluster{}
	for i := range o.Size {
		name := fmt.Sprintf("m%d", i)
		cu := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", ports[2*i])}
		pu := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", ports[2*i+1])}
		cfg := embed.NewConfig()
		cfg.Name = name
		cfg.Dir = filepath.Join(dir, name)
		cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
		cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
		cfg.InitialClusterToken = "niv-etcdtest"
		// Closing a member logs its listeners' errors; the tests report
		// what matters.
		cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
		cfg.UnsafeNoFsync = true // test data: speed over durability
		if o.QuotaBytes > 0 {
			cfg.QuotaBackendBytes = o.QuotaBytes
		}
		if o.MaxTxnOps > 0 {
			cfg.MaxTxnOps = o.MaxTxnOps
		}
		cfgs[i] = cfg
		initial = append(initial, name+"="+pu.String())
		c.Members = append(c.Members, &Member{Name: name, Client: cu.String()})
	}
	errs := make([]error, o.Size)
	var wg sync.WaitGroup
	for i, cfg := range cfgs {
		cfg.InitialCluster = strings.Join(initial, ",")
		wg.Go(func() {
			e, err := embed.StartEtcd(cfg)
			if err != nil {
				errs[i] = err
				return
			}
			c.Members[i].etcd = e
			select {
			case <-e.Server.ReadyNotify():
			case <-time.After(60 * time.Second):
				errs[i] = fmt.Errorf("etcd member %s not ready after 60 s", cfg.Name)
			case err := <-e.Err():
				errs[i] = err
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Endpoints returns the client URLs of the running members.
func (c *Cluster) Endpoints() []string {
	var eps []string
	for _, m := range c.Members {
		if m.etcd != nil {
			eps = append(eps, m.Client)
		}
	}
	return eps
}

// Stop stops member i (its data stays on disk).
func (c *Cluster) Stop(i int) {
	if m := c.Members[i]; m.etcd != nil {
		m.etcd.Close()
		m.etcd = nil
	}
}

// Close stops every member.
func (c *Cluster) Close() {
	for i := range c.Members {
		c.Stop(i)
	}
}

// Client returns a client of endpoints (default: every running member).
func (c *Cluster) Client(endpoints ...string) (*clientv3.Client, error) {
	if len(endpoints) == 0 {
		endpoints = c.Endpoints()
	}
	return etcdstore.DialEndpoints(endpoints)
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Proxy relays TCP connections from a loopback address to a target. Cut
// drops every connection and refuses new ones; Restore listens again on
// the same address.
type Proxy struct {
	addr   string
	target string
	mu     sync.Mutex
	l      net.Listener
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// NewProxy starts a proxy to target ("host:port").
func NewProxy(target string) (*Proxy, error) {
	p := &Proxy{target: target, conns: map[net.Conn]struct{}{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p.addr = l.Addr().String()
	p.serve(l)
	return p, nil
}

// URL returns the proxy's address as a client URL.
func (p *Proxy) URL() string { return "http://" + p.addr }

func (p *Proxy) serve(l net.Listener) {
	p.l = l
	p.wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			if p.l != l { // cut meanwhile
				p.mu.Unlock()
				c.Close()
				t.Close()
				continue
			}
			p.conns[c], p.conns[t] = struct{}{}, struct{}{}
			p.mu.Unlock()
			relay := func(dst, src net.Conn) {
				io.Copy(dst, src)
				dst.Close()
				src.Close()
			}
			go relay(t, c)
			go relay(c, t)
		}
	})
}

// Cut closes the listener and every relayed connection.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.l != nil {
		p.l.Close()
		p.l = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Restore listens again on the proxy's address.
func (p *Proxy) Restore() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.l != nil {
		return nil
	}
	l, err := net.Listen("tcp", p.addr)
	if err != nil {
		return err
	}
	p.serve(l)
	return nil
}

// Close stops the proxy.
func (p *Proxy) Close() {
	p.Cut()
	p.wg.Wait()
}
