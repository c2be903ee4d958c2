// Command niv is github.com/nivkit/niv/cmd/niv with the fleet's shared
// store on etcd linked in: `niv vis --config FILE --store
// etcd://HOST:PORT[,HOST:PORT...]` keeps the port-profiles and the vEth
// registry in etcd (package etcdstore), shared by every VIS of the fleet.
// Every other command is the same as cmd/niv's.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/nivkit/niv/etcdstore"
	"github.com/nivkit/niv/internal/cli"
	"github.com/nivkit/niv/internal/daemon/visd"
)

// ttl is the lease of a VIS's bindings: how long after a VIS dies its
// vEths can be taken over. NIV_ETCD_TTL (a Go duration) sets another.
const ttl = 10 * time.Second

func main() {
	visd.RegisterFleet("etcd", openFleet)
	os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func openFleet(ctx context.Context, spec, vis string, log *slog.Logger) (*visd.Fleet, error) {
	o := etcdstore.Options{TTL: ttl, Logger: log}
	if s := os.Getenv("NIV_ETCD_TTL"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, err
		}
		o.TTL = d
	}
	f, err := etcdstore.Open(ctx, spec, vis, o)
	if err != nil {
		return nil, err
	}
	return &visd.Fleet{
		Profiles: f.Profiles,
		Registry: f.Registry,
		Conflict: etcdstore.ErrConflict,
		Revoke:   f.Registry.Revoke,
		Close:    f.Close,
	}, nil
}
