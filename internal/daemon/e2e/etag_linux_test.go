package e2e_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An 802.1BR port extender: the IV's uplink and the VIS's port carry
// E-Tags; VMs behind it get vEths and talk, unicast and broadcast (ARP,
// flooded to the E-Tag multicast E-channel).
func TestETagPort(t *testing.T) {
	l := newLab(t)
	p := l.pfx
	visNS, h1 := l.ns("vis"), l.ns("h1")
	l.link(p+"h1", h1, p+"v1", visNS)
	vm1 := l.vm("vm1", p+"a", macs[1], "10.9.0.1")
	vm2 := l.vm("vm2", p+"b", macs[2], "10.9.0.2")
	l.echo(vm2)
	vis := l.daemon("vis", visNS, l.write("vis.conf", fmt.Sprintf(`niv store %[1]s/vis.db
niv socket %[1]s/vis.sock
niv vic keepalive 200
interface ethernet1/1
  switchport mode etag
  linux-interface %[2]s
port-profile type vethernet web
  switchport mode access
  switchport access vlan 10
  state enabled
port-profile type vethernet tiny
  switchport mode access
  switchport access vlan 20
  max-ports 1
  state enabled
`, l.dir, p+"v1")), l.dir+"/vis.sock")
	host := l.daemon("iv", h1, l.write("host1.conf", fmt.Sprintf(`niv store %[1]s/host1.db
niv socket %[1]s/host1.sock
niv vic keepalive 200
interface uplink1
  switchport mode etag
  linux-interface %[2]s
%[3]s%[4]s`, l.dir, p+"h1", vnicBlock("vm1", p+"a", vm1, "0252.5400.0001", 1), vnicBlock("vm2", p+"b", vm2, "0252.5400.0002", 2))), l.dir+"/host1.sock")
	f := &fabric{lab: l, vis: vis}
	f.bound(host, "vm1", "vm2")
	pr := l.prober(vm1, "10.9.0.2")
	require.True(t, pr.until(5*time.Second))
	assert.Equal(t, 20, pr.probe(20, time.Second))
	out, err := l.niv("show", "interface", "ethernet1/1", "-s", vis.sock)
	require.NoError(t, err)
	assert.Contains(t, out, "Mode etag")
	for _, v := range f.veths() {
		assert.Equal(t, "Ethernet1/1", v.Interface)
		assert.NotZero(t, v.Counters.RxFrames)
	}

	// max-ports 1: the second vNIC of profile tiny is refused, and says so.
	for i, name := range []string{"t1", "t2"} {
		_, err := l.niv("vnic", "add", name, "-s", host.sock, "--tap", p+name, "--mac", fmt.Sprintf("0252.5400.00%d0", i+1),
			"--profile", "tiny", "--uuid", fmt.Sprintf("a1412857-60f7-4ce1-e95a-2164943f54%02d", i))
		require.NoError(t, err)
	}
	f.bound(host, "t1")
	require.Eventually(t, func() bool {
		out, _ := l.niv("show", "vnic", "t2", "-s", host.sock)
		return strings.Contains(out, "refused (max-ports)")
	}, 5*time.Second, 20*time.Millisecond)
	out, err = l.niv("show", "port-profile", "tiny", "-s", vis.sock)
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(out, "  Vethernet"), out)
}
