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

	// The VIS: core, programmer, one IV port, agent, speaker, Control.
	visCore, _ := vis.New(vis.Config{Store: store})
	defer visCore.Close()
	visProg, _ := bind.NewVISProgrammer(visCore, store)
	lists := bind.NewLists()
	defer lists.Close()
	p, _ := visCore.AddIVPort("iv0", vntag.ModeVNTag, lists)
	visProg.AddPort(0, p)
	visAgent := vic.NewVISAgent(vic.VISConfig{Session: 1, Profiles: bind.Profiles{Store: store}}, nil, visProg, nil)
	defer visAgent.Close()
	lists.Attach(visAgent, 0)
	visSp, _ := ecp.NewSpeaker(bind.Writer{Port: linkVIS}, ecp.DefaultConfig([6]byte{2, 0, 0, 0, 0, 0xf0}))
	visAgent.AddPort(0, visSp)
	visCtl := bind.NewControl(visCore)
	visCtl.Attach(p, visSp)

	// The IV: core, programmer, agent on a speaker on its uplink A.
	ivCore := iv.New(iv.Config{})
	ivCore.SetUplinkUp(iv.UplinkB, false)
	bound := make(chan string, 1)
	ivProg := bind.NewIVProgrammer(ivCore, iv.FabricA, func(n vic.VNIC, vif vntag.VIF, pn int) {
		bound <- fmt.Sprintf("vNIC %v profile %s → VIF %d on IV port %d", net.HardwareAddr(n.MAC[:]), n.Profile, vif, pn)
	})
	ivSp, _ := ecp.NewSpeaker(bind.Writer{Port: link}, ecp.DefaultConfig([6]byte{2, 0, 0, 0, 0, 0xe0}))
	ivAgent := vic.NewIVAgent(vic.IVConfig{Session: 1, Mode: vntag.ModeVNTag, MaxVIFs: 4095}, ivSp, ivProg, nil)
	defer ivAgent.Close()
	ivCtl := bind.NewControl(ivCore)
	ivCtl.Attach(iv.UplinkA, ivSp)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); port.Run(ctx, ivCtl, []port.Port{link}, port.RunConfig{}) }()
	go func() { defer wg.Done(); port.Run(ctx, visCtl, []port.Port{nil, linkVIS}, port.RunConfig{}) }()
	defer func() { cancel(); wg.Wait() }()

	u := vic.UUID{0xa1}
	ivAgent.Request(vic.VNIC{Instance: u, MAC: [6]byte{2, 0, 0, 0, 0, 0x0a}, Profile: "web", Epoch: 1, Up: true})
	select {
	case s := <-bound:
		fmt.Println(s)
	case <-time.After(5 * time.Second):
		fmt.Println("timed out")
		return
	}
	for {
		if ve, ok := visAgent.VEth(u); ok && ve.Bound {
			fmt.Printf("VIS: vEth%d bound to profile %s\n", ve.ID, store.Snapshot().Bindings[profile.VEthID(ve.ID)])
			break
		}
		time.Sleep(time.Millisecond)
	}
	// Output:
	// vNIC 02:00:00:00:00:0a profile web → VIF 1 on IV port 2
	// VIS: vEth1 bound to profile web
}
