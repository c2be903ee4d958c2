package profile_test

import (
	"fmt"
	"net/netip"

	"github.com/nivkit/niv/profile"
)

// The seed profile of the port-profile issue, bound to a vEth: webservers
// inherits server, puts the VM in VLAN 10 and filters what it sends with
// access list 500.
func Example() {
	store := profile.NewMemStore()
	_, err := store.Update(func(tx *profile.Txn) error {
		if err := tx.Configure(`
ip access-list 500
  10 permit tcp any any eq 80
  20 permit tcp any any eq 443
port-profile server
  switchport mode access
  state enabled
port-profile webservers
  switchport access vlan 10
  ip access-group 500 in
  inherit port-profile server
  state enabled
`); err != nil {
			return err
		}
		tx.Bind(7, "webservers")
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// The VIS keeps one VEth per vEth and feeds it the store's policies.
	var veth profile.VEth
	store.Subscribe(func(b profile.Batch) {
		for _, u := range b.Updates {
			if u.VEth == 7 {
				veth.SetPolicy(u.Policy)
			}
		}
	})

	web := profile.Frame{Dir: profile.In, EtherType: 0x0800, Len: 64,
		SrcIP: netip.MustParseAddr("10.0.0.5"), DstIP: netip.MustParseAddr("192.0.2.1"),
		Protocol: 6, SrcPort: 40000, DstPort: 443}
	ssh := web
	ssh.DstPort = 22
	v := veth.Evaluate(&web, 0)
	fmt.Println("https:", v.Drop, "in VLAN", v.VLAN)
	fmt.Println("ssh:", veth.Evaluate(&ssh, 0).Drop)

	res, _ := store.Snapshot().Config.Resolve("webservers")
	fmt.Print(res.Text())
	// Output:
	// https: admitted in VLAN 10
	// ssh: denied by ip access-group
	// port-profile webservers
	//  type: vethernet
	//  status: enabled
	//  inherit: server
	//  evaluated config:
	//   switchport mode access  ! from server
	//   switchport access vlan 10
	//   ip access-group 500 in
}

// A live edit: the admin changes the parent profile, and the one commit
// delivers new policies to every vEth that inherits it, while the VIS keeps
// forwarding.
func Example_liveEdit() {
	store := profile.NewMemStore()
	_, err := store.Update(func(tx *profile.Txn) error {
		err := tx.Configure(`
port-profile server
  switchport access vlan 10
  state enabled
port-profile webservers
  inherit port-profile server
  state enabled
port-profile databases
  inherit port-profile server
  state enabled
`)
		tx.Bind(1, "webservers")
		tx.Bind(2, "databases")
		return err
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	veths := map[profile.VEthID]*profile.VEth{1: {}, 2: {}}
	store.Subscribe(func(b profile.Batch) {
		fmt.Printf("revision %d: %d vEths updated\n", b.Revision, len(b.Updates))
		for _, u := range b.Updates {
			veths[u.VEth].SetPolicy(u.Policy)
		}
	})
	frame := profile.Frame{Dir: profile.In, EtherType: 0x0806, Len: 60}
	show := func() {
		for _, id := range []profile.VEthID{1, 2} {
			v := veths[id].Evaluate(&frame, 0)
			fmt.Printf("  %v: %s, VLAN %d\n", id, v.Drop, v.VLAN)
		}
	}
	show()

	_, err = store.Update(func(tx *profile.Txn) error {
		return tx.Configure("port-profile server\n  switchport access vlan 20\n")
	})
	fmt.Println("edit:", err)
	show()

	_, err = store.Update(func(tx *profile.Txn) error {
		return tx.Configure("port-profile server\n  switchport access vlan 4095\n")
	})
	fmt.Println("edit:", err)
	show()
	// Output:
	// revision 1: 2 vEths updated
	//   Vethernet1: admitted, VLAN 10
	//   Vethernet2: admitted, VLAN 10
	// revision 2: 2 vEths updated
	// edit: <nil>
	//   Vethernet1: admitted, VLAN 20
	//   Vethernet2: admitted, VLAN 20
	// edit: profile: line 2, column 26: VLAN 4095 is out of range: VLAN 4095 is reserved by IEEE 802.1Q; VLAN IDs are 1-4094
	//   Vethernet1: admitted, VLAN 20
	//   Vethernet2: admitted, VLAN 20
}
