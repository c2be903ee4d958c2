package e2e_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Two VIS daemons are fabric A and B; a host has an uplink to each. When
// fabric A's link goes down the host's IV moves its vNICs to fabric B and
// traffic resumes there.
func TestFabricFailover(t *testing.T) {
	l := newLab(t)
	p := l.pfx
	visA, visB, h1 := l.ns("visa"), l.ns("visb"), l.ns("h1")
	l.link(p+"ha", h1, p+"va", visA)
	l.link(p+"hb", h1, p+"vb", visB)
	vm1 := l.vm("vm1", p+"a", macs[1], "10.9.0.1")
	vm2 := l.vm("vm2", p+"b", macs[2], "10.9.0.2")
	l.echo(vm2)
	vis := func(name, link string) string {
		return fmt.Sprintf(`hostname %[2]s
niv store %[1]s/%[2]s.db
niv socket %[1]s/%[2]s.sock
niv vic keepalive 200
niv vic request-timeout 300
!
interface ethernet1/1
  switchport mode vntag
  linux-interface %[3]s
!
port-profile type vethernet web
  switchport mode access
  switchport access vlan 10
  state enabled
`, l.dir, name, link)
	}
	a := l.daemon("vis", visA, l.write("visa.conf", vis("visa", p+"va")), l.dir+"/visa.sock")
	b := l.daemon("vis", visB, l.write("visb.conf", vis("visb", p+"vb")), l.dir+"/visb.sock")
	host := l.daemon("iv", h1, l.write("host1.conf", fmt.Sprintf(`hostname host1
niv store %[1]s/host1.db
niv socket %[1]s/host1.sock
niv vic keepalive 200
niv vic request-timeout 300
!
interface uplink1
  fabric a
  linux-interface %[2]s
interface uplink2
  fabric b
  linux-interface %[3]s
!
%[4]s%[5]s`, l.dir, p+"ha", p+"hb", vnicBlock("vm1", p+"a", vm1, "0252.5400.0001", 1), vnicBlock("vm2", p+"b", vm2, "0252.5400.0002", 2))), l.dir+"/host1.sock")
	f := &fabric{lab: l}
	f.bound(host, "vm1", "vm2")
	count := func(d *daemon) int {
		var all struct {
			VEthernet []vethJSON `json:"vethernet"`
		}
		l.json(&all, "show", "interface", "-s", d.sock)
		n := 0
		for _, v := range all.VEthernet {
			if v.Bound {
				n++
			}
		}
		return n
	}
	assert.Equal(t, 2, count(a))
	assert.Equal(t, 0, count(b))
	pr := l.prober(vm1, "10.9.0.2")
	require.True(t, pr.until(5*time.Second))
	out, err := l.niv("show", "vnic", "-s", host.sock)
	require.NoError(t, err)
	assert.Contains(t, out, "on fabric a: open")

	l.ip("-n", visA, "link", "set", p+"va", "down") // fabric A's link fails
	require.Eventually(t, func() bool { return count(b) == 2 }, 10*time.Second, 50*time.Millisecond, "the vNICs get vEths on fabric B")
	f.bound(host, "vm1", "vm2")
	require.True(t, pr.until(5*time.Second), "traffic resumes through fabric B")
	assert.Equal(t, 20, pr.probe(20, time.Second))
	out, err = l.niv("show", "vnic", "-s", host.sock)
	require.NoError(t, err)
	assert.Contains(t, out, "on fabric b: open")
	assert.Equal(t, 2, strings.Count(out, " b      bound"), out)
	assert.Contains(t, host.logText(), "fabric failover")
}
