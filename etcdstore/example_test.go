package etcdstore_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/nivkit/niv/etcdstore"
	"github.com/nivkit/niv/etcdstore/internal/etcdtest"
	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/registry"
)

// A VIS joins the fleet at etcd://HOST:PORT (here an etcd started for
// the example), edits the shared profiles, and creates and binds the
// vEth of a vNIC its IV announced.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "etcdstore-example")
	defer os.RemoveAll(dir)
	etcd, err := etcdtest.Start(dir, etcdtest.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer etcd.Close()
	addr := "etcd://" + strings.TrimPrefix(etcd.Endpoints()[0], "http://")

	ctx := context.Background()
	fleet, err := etcdstore.Open(ctx, addr, "vis-a", etcdstore.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer fleet.Close()
	fleet.Profiles.Update(func(tx *profile.Txn) error {
		return tx.Configure("port-profile web\n  switchport access vlan 10\n  state enabled\n")
	})

	vm := vic.UUID{0x42}
	rec, _ := fleet.Registry.Allocate(ctx, vm, vic.VNIC{Profile: "web", Epoch: 1})
	rec, _ = fleet.Registry.Bind(ctx, vm, registry.Binding{Port: "iv0", VIF: 5, Epoch: 1})
	fleet.Profiles.Update(func(tx *profile.Txn) error { tx.Bind(rec.ID, rec.Config.Profile); return nil })

	p := fleet.Profiles.Snapshot().Policy(rec.ID)
	fmt.Printf("%v on %s %s VIF %d, profile %s, access VLAN %d\n", rec.ID, rec.Binding.VIS, rec.Binding.Port, rec.Binding.VIF, p.Profile(), p.Settings().AccessVLAN)
	// Output:
	// Vethernet1 on vis-a iv0 VIF 5, profile web, access VLAN 10
}
