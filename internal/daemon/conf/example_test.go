package conf_test

import (
	"fmt"

	"github.com/nivkit/niv/internal/daemon/conf"
)

func ExampleParseVIS() {
	c, err := conf.ParseVIS(`hostname vis1
interface ethernet1/1
  switchport mode vntag
  linux-interface eth1
port-profile type vethernet web
  switchport mode access
  switchport access vlan 10
  state enabled
`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Ports[0].Name, c.Ports[0].Kind, c.Ports[0].Control, c.Profiles.Profiles["web"].Settings.AccessVLAN)

	// A wrong file is refused whole, each error at its line and column.
	_, err = conf.ParseVIS("interface ethernet1/1\n  switchport mode vntga\n  linux-interface eth1\n")
	fmt.Println(err)
	// Output:
	// Ethernet1/1 vntag vic 10
	// config: line 2, column 19: switchport mode "vntga": expected vntag, etag, evb or trunk; did you mean "switchport mode vntag"?
}
