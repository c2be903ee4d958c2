package bind_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vdp/ecp"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/bind"
	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

// An IV and a VIS, each core behind its control-plane agent, negotiate a
// vNIC over ECP on the link that then carries its VNTag frames.
func Example() {
	store := profile.NewMemStore()
	store.Update(func(tx *profile.Txn) error {
		return tx.Configure("port-profile web\n  switchport access vlan 10\n  state enabled\n")
	})
	link, linkVIS := port.Pair("iv-uplink", "vis-iv0", 0)

	// The VIS: its core behind its control plane, one IV port on the link.
	visCore, _ := vis.New(vis.Config{Store: store})
	defer visCore.Close()
	visPlane, _ := bind.NewVISPlane(visCore, store, vic.VISConfig{Session: 1})
	defer visPlane.Close()
	visPlane.AddIVPort("iv0", vntag.ModeVNTag, 0, bind.Writer{Port: linkVIS}, ecp.DefaultConfig([6]byte{2, 0, 0, 0, 0, 0xf0}), nil)

	// The IV: its core behind its control plane on its uplink A.
	ivCore := iv.New(iv.Config{})
	ivCore.SetUplinkUp(iv.UplinkB, false)
	bound := make(chan string, 1)
	ivPlane, _ := bind.NewIVPlane(ivCore, vic.IVConfig{Session: 1}, iv.FabricA, bind.Writer{Port: link},
		ecp.DefaultConfig([6]byte{2, 0, 0, 0, 0, 0xe0}), func(n vic.VNIC, vif vntag.VIF, pn int) {
			bound <- fmt.Sprintf("vNIC %v profile %s → VIF %d on IV port %d", net.HardwareAddr(n.MAC[:]), n.Profile, vif, pn)
		})
	defer ivPlane.Close()

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); port.Run(ctx, ivPlane.Core(), []port.Port{link}, port.RunConfig{}) }()
	go func() { defer wg.Done(); port.Run(ctx, visPlane.Core(), []port.Port{nil, linkVIS}, port.RunConfig{}) }()
	defer func() { cancel(); wg.Wait() }()

	u := vic.UUID{0xa1}
	ivPlane.Agent().Request(vic.VNIC{Instance: u, MAC: [6]byte{2, 0, 0, 0, 0, 0x0a}, Profile: "web", Epoch: 1, Up: true})
	select {
	case s := <-bound:
		fmt.Println(s)
	case <-time.After(5 * time.Second):
		fmt.Println("timed out")
		return
	}
	for {
		if ve, ok := visPlane.Agent().VEth(u); ok && ve.Bound {
			fmt.Printf("VIS: vEth%d bound to profile %s\n", ve.ID, store.Snapshot().Bindings[profile.VEthID(ve.ID)])
			break
		}
		time.Sleep(time.Millisecond)
	}
	// Output:
	// vNIC 02:00:00:00:00:0a profile web → VIF 1 on IV port 2
	// VIS: vEth1 bound to profile web
}
