package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
)

// ErrAddr is returned for a store address that is not etcd://HOST:PORT,...
var ErrAddr = errors.New("etcdstore: bad store address")

// ParseAddr reads a store address, etcd://HOST:PORT[,HOST:PORT...] (the
// form of niv vis --store), into client endpoints.
func ParseAddr(addr string) ([]string, error) {
	rest, ok := strings.CutPrefix(addr, "etcd://")
	if !ok || rest == "" {
		return nil, fmt.Errorf("%w: %q: want etcd://HOST:PORT[,HOST:PORT...]", ErrAddr, addr)
	}
	var eps []string
	for _, hp := range strings.Split(rest, ",") {
		i := strings.LastIndexByte(hp, ':')
		if i <= 0 || i == len(hp)-1 || strings.ContainsAny(hp, "/@ ") {
			return nil, fmt.Errorf("%w: %q: %q is not HOST:PORT", ErrAddr, addr, hp)
		}
		eps = append(eps, "http://"+hp)
	}
	return eps, nil
}

// DialEndpoints returns a client of the etcd members at endpoints. It
// reconnects within a second of a member coming back (gRPC's default
// backoff grows to two minutes), so that a VIS cut off from etcd
// reconciles soon after the link returns.
func DialEndpoints(endpoints []string) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{
		Endpoints:            endpoints,
		DialTimeout:          5 * time.Second,
		DialKeepAliveTime:    2 * time.Second,
		DialKeepAliveTimeout: 2 * time.Second,
		Logger:               zap.NewNop(),
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
			MinConnectTimeout: time.Second,
		})},
	})
}

// Fleet is what a VIS daemon needs of the shared store: the client, the
// shared profiles and this VIS's vEth registry.
type Fleet struct {
	Client   *clientv3.Client
	Profiles *Profiles
	Registry *Registry
}

// Options configure Open.
type Options struct {
	// Prefix of every key (default DefaultPrefix).
	Prefix string
	// Retries: see ProfilesOptions.Retries (default 8).
	Retries int
	// TTL, IDBlock, Logger: see RegistryOptions.
	TTL     time.Duration
	IDBlock int
	Logger  *slog.Logger
}

// Open connects to the store at addr (etcd://HOST:PORT,...) as the VIS
// called vis, and opens its Profiles and Registry.
func Open(ctx context.Context, addr, vis string, o Options) (*Fleet, error) {
	eps, err := ParseAddr(addr)
	if err != nil {
		return nil, err
	}
	cli, err := DialEndpoints(eps)
	if err != nil {
		return nil, err
	}
	if o.Retries == 0 {
		o.Retries = 8
	}
	p, err := OpenProfiles(ctx, cli, ProfilesOptions{Prefix: o.Prefix, Retries: o.Retries, Logger: o.Logger})
	if err != nil {
		cli.Close()
		return nil, err
	}
	r, err := OpenRegistry(ctx, cli, RegistryOptions{Prefix: o.Prefix, VIS: vis, TTL: o.TTL, IDBlock: o.IDBlock, Logger: o.Logger,
		MaxPorts: p.MaxPorts})
	if err != nil {
		p.Close()
		cli.Close()
		return nil, err
	}
	return &Fleet{Client: cli, Profiles: p, Registry: r}, nil
}

// Close stops the profiles and the registry (without revoking the lease:
// use Registry.Revoke first for a clean shutdown) and closes the client.
func (f *Fleet) Close() error {
	f.Registry.Close()
	f.Profiles.Close()
	return f.Client.Close()
}
