package conf_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/internal/daemon/conf"
	"github.com/nivkit/niv/profile"
)

const visFile = `hostname vis1
niv store /tmp/vis1.db
niv socket /tmp/vis1.sock
niv metrics 127.0.0.1:9310
niv checkpoint-interval 2
!
interface ethernet1/1
  description host1
  switchport mode vntag
  linux-interface veth-h1
!
interface Ethernet1/2
  switchport mode etag
  linux-interface veth-h2
!
interface ethernet1/9
  switchport mode trunk
  linux-interface eth9
!
port-profile type vethernet web
  switchport mode access
  switchport access vlan 10
  state enabled
!
interface vethernet 1
  inherit port-profile web
  bind interface ethernet1/1 channel 5
`

func TestParseVIS(t *testing.T) {
	c, err := conf.ParseVIS(visFile)
	require.NoError(t, err)
	assert.Equal(t, "vis1", c.Hostname)
	assert.Equal(t, "/tmp/vis1.db", c.Store)
	require.Len(t, c.Ports, 3)
	assert.Equal(t, conf.Port{Name: "Ethernet1/1", Kind: conf.KindVNTag, Control: conf.ControlVIC, Linux: "veth-h1", Description: "host1", Line: 7}, c.Ports[0])
	assert.Equal(t, conf.KindETag, c.Ports[1].Kind)
	assert.Equal(t, conf.ControlNone, c.Ports[2].Control)
	assert.Equal(t, []conf.VEth{{ID: 1, Profile: "web", Port: "Ethernet1/1", Channel: 5, Line: 25}}, c.VEths)
	assert.Equal(t, uint16(10), c.Profiles.Profiles["web"].Settings.AccessVLAN)

	// What Text prints reads back to the same configuration.
	again, err := conf.ParseVIS(c.Text(nil))
	require.NoError(t, err, c.Text(nil))
	assert.Equal(t, c.Ports[0].Kind, again.Ports[0].Kind)
	assert.True(t, c.Profiles.Equal(again.Profiles))
	assert.Equal(t, len(c.VEths), len(again.VEths))
	assert.Contains(t, c.Text(nil), "interface Vethernet1\n  inherit port-profile web\n  bind interface Ethernet1/1 channel 5\n")
}

// A file with errors is refused whole, each wrong line reported with its
// line and column, the profile parser's errors at the file's own lines.
func TestParseVISErrors(t *testing.T) {
	bad := strings.NewReplacer(
		"switchport mode vntag", "switchport mode vntga",
		"switchport access vlan 10", "switchport access vlan 5000",
		"channel 5", "channel 0",
		"niv checkpoint-interval 2", "niv checkpiont-interval 2",
	).Replace(visFile)
	_, err := conf.ParseVIS(bad)
	require.Error(t, err)
	var es conf.Errors
	require.ErrorAs(t, err, &es)
	var got []string
	for _, e := range es {
		got = append(got, e.Error())
	}
	assert.Equal(t, []string{
		`config: line 5, column 5: "checkpiont-interval 2" is not a command here; did you mean "checkpoint-interval"?`,
		`config: line 9, column 19: switchport mode "vntga": expected vntag, etag, evb or trunk; did you mean "switchport mode vntag"?`,
		`config: line 22, column 26: VLAN 5000 is out of range: VLAN IDs are 1-4094`,
		`config: line 27, column 38: 0 is out of range 1-16383`,
	}, got)
	assert.True(t, errors.Is(err, profile.ErrVLANRange))
	assert.True(t, errors.Is(err, profile.ErrUnknownCommand))
}

// An evb port: VDP runs on it by default, its PVID and the global EVB
// exponents read back from Text.
func TestParseVISEVB(t *testing.T) {
	src := strings.Replace(visFile, "niv checkpoint-interval 2\n", "niv checkpoint-interval 2\nevb keep-alive 17\nevb resource-wait-delay 16\n", 1)
	src = strings.Replace(src, "!\nport-profile", "!\ninterface ethernet1/3\n  switchport mode evb\n  switchport trunk native vlan 10\n  linux-interface kvm1\n!\nport-profile", 1)
	c, err := conf.ParseVIS(src)
	require.NoError(t, err)
	require.Len(t, c.Ports, 4)
	assert.Equal(t, conf.Port{Name: "Ethernet1/3", Kind: conf.KindEVB, Control: conf.ControlVDP, Linux: "kvm1", PVID: 10, Line: 22}, c.Ports[3])
	assert.Equal(t, conf.EVB{RWD: 16, RKA: 17}, c.EVB)
	again, err := conf.ParseVIS(c.Text(nil))
	require.NoError(t, err, c.Text(nil))
	assert.Equal(t, c.EVB, again.EVB)
	again.Ports[3].Line = c.Ports[3].Line
	assert.Equal(t, c.Ports[3], again.Ports[3])
	d, err := conf.ParseVIS(visFile)
	require.NoError(t, err)
	assert.Equal(t, conf.DefaultEVB, d.EVB)
}

func TestParseVISReferences(t *testing.T) {
	for _, tc := range []struct{ name, edit, want string }{
		{"undefined profile", "inherit port-profile web", "inherit port-profile db"},
		{"undefined port", "bind interface ethernet1/1", "bind interface ethernet1/7"},
		{"veth on a trunk", "bind interface ethernet1/1", "bind interface ethernet1/9"},
		{"vdp on an etag port", "switchport mode etag", "switchport mode etag\n  control-plane vdp"},
		{"vic on an evb port", "switchport mode etag", "switchport mode evb\n  control-plane vic"},
		{"PVID on a vntag port", "switchport mode vntag", "switchport mode vntag\n  switchport trunk native vlan 10"},
		{"veth bound to an evb port", "switchport mode vntag", "switchport mode evb"},
		{"keep-alive exponent", "niv checkpoint-interval 2", "evb keep-alive 32"},
		{"same linux interface", "linux-interface veth-h2", "linux-interface veth-h1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := conf.ParseVIS(strings.Replace(visFile, tc.edit, tc.want, 1))
			require.Error(t, err)
			assert.Regexp(t, `^config: line \d+, column \d+: `, err.Error())
		})
	}
	_, err := conf.ParseVIS(strings.Replace(visFile, "niv store /tmp/vis1.db", "niv store etcd://127.0.0.1:2379/niv", 1))
	assert.ErrorIs(t, err, conf.ErrUnsupported, "no etcd store registered in this build")
	assert.ErrorContains(t, err, "line 2, column 11: store etcd://127.0.0.1:2379/niv: no etcd:// store in this build")
}

const ivFile = `hostname host1
niv store /tmp/host1.db
niv socket /tmp/host1.sock
niv vic keepalive 200
!
interface uplink1
  fabric a
  switchport mode vntag
  linux-interface h1-a
interface uplink2
  fabric b
  linux-interface h1-b
!
vnic web1
  tap niv-web1
  mac-address 0252.5400.0001
  port-profile web
  instance-uuid a1412857-60f7-4ce1-e95a-2164943f53aa
vnic db1
  tap niv-db1 existing
  mac-address 02:52:54:00:00:02
  port-profile db
  instance-uuid a1412857-60f7-4ce1-e95a-2164943f53ab
  fabric b
`

func TestParseIV(t *testing.T) {
	c, err := conf.ParseIV(ivFile)
	require.NoError(t, err)
	assert.Equal(t, conf.KindVNTag, c.Kind)
	assert.Equal(t, []conf.Uplink{{Name: "uplink1", Fabric: conf.FabricA, Linux: "h1-a", Line: 6}, {Name: "uplink2", Fabric: conf.FabricB, Linux: "h1-b", Line: 10}}, c.Uplinks)
	require.Len(t, c.VNICs, 2)
	assert.Equal(t, [6]byte{2, 0x52, 0x54, 0, 0, 1}, c.VNICs[0].MAC)
	assert.Equal(t, "a1412857-60f7-4ce1-e95a-2164943f53aa", conf.FormatUUID(c.VNICs[0].Instance))
	assert.True(t, c.VNICs[1].Existing)
	assert.Equal(t, conf.FabricB, c.VNICs[1].Fabric)
	assert.Equal(t, int64(200), c.Keepalive.Milliseconds())

	n, err := conf.ParseVNIC("web1", strings.SplitN(conf.VNICText(c.VNICs[0]), "\n", 2)[1])
	require.NoError(t, err)
	n.Line = c.VNICs[0].Line
	assert.Equal(t, c.VNICs[0], n)
}

func TestParseIVErrors(t *testing.T) {
	bad := strings.NewReplacer(
		"mac-address 02:52:54:00:00:02", "mac-address 0252.5400.0001",
		"fabric b\n  linux", "fabric c\n  linux",
		"instance-uuid a1412857-60f7-4ce1-e95a-2164943f53aa", "instance-uuid nope",
	).Replace(ivFile)
	_, err := conf.ParseIV(bad)
	var es conf.Errors
	require.ErrorAs(t, err, &es)
	var got []string
	for _, e := range es {
		got = append(got, e.Error())
	}
	assert.Equal(t, []string{
		`config: line 11, column 10: fabric "c": expected a or b`,
		`config: line 18, column 17: "nope" is not a UUID (8-4-4-4-12 hex digits)`,
		`config: line 19, column 6: mac-address 0252.5400.0001 is already used on line 14`,
	}, got)
}

// "linux-interface IFNAME transmit af-xdp" sets XDPTx on an IV's uplink
// and on a VIS's vntag, etag and trunk ports, and survives the VIS's Text;
// on an evb port, or misspelt, it is an error at the word that is wrong.
func TestParseTransmitAFXDP(t *testing.T) {
	iv, err := conf.ParseIV(strings.Replace(ivFile, "linux-interface h1-b", "linux-interface h1-b transmit af-xdp", 1))
	require.NoError(t, err)
	assert.False(t, iv.Uplinks[0].XDPTx)
	assert.True(t, iv.Uplinks[1].XDPTx)
	assert.Equal(t, "h1-b", iv.Uplinks[1].Linux)

	src := strings.NewReplacer("linux-interface veth-h2", "linux-interface veth-h2 transmit af-xdp",
		"linux-interface eth9", "linux-interface eth9 transmit af-xdp").Replace(visFile)
	vis, err := conf.ParseVIS(src)
	require.NoError(t, err)
	var xdp []bool
	for _, p := range vis.Ports {
		xdp = append(xdp, p.XDPTx)
	}
	assert.Equal(t, []bool{false, true, true}, xdp)
	again, err := conf.ParseVIS(vis.Text(nil))
	require.NoError(t, err, vis.Text(nil))
	for i := range vis.Ports {
		assert.Equal(t, vis.Ports[i].XDPTx, again.Ports[i].XDPTx, "port %d after Text", i)
	}

	for _, tc := range []struct{ line, want string }{
		{"linux-interface veth-h1 transmit sendmmsg", `config: line 10, column 36: transmit "sendmmsg": expected af-xdp`},
		{"linux-interface veth-h1 tx af-xdp", `config: line 10, column 27: "tx af-xdp" is not a command here`},
		{"linux-interface veth-h1 transmit", `config: line 10, column 27: expected "linux-interface IFNAME [transmit af-xdp]"`},
	} {
		_, err := conf.ParseVIS(strings.Replace(visFile, "linux-interface veth-h1", tc.line, 1))
		require.Error(t, err, tc.line)
		assert.Equal(t, tc.want, strings.Split(err.Error(), "\n")[0], tc.line)
	}
	evb := strings.Replace(visFile, "switchport mode vntag\n  linux-interface veth-h1", "switchport mode evb\n  linux-interface veth-h1 transmit af-xdp", 1)
	_, err = conf.ParseVIS(strings.Replace(evb, "  bind interface ethernet1/1 channel 5\n", "  bind interface ethernet1/2 channel 5\n", 1))
	assert.ErrorContains(t, err, "line 10, column 27: interface Ethernet1/1: transmit af-xdp is for vntag, etag and trunk ports")
}
