package vis_test

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

// An IV core in the same process is its own list programmer.
var _ vis.ListProgrammer = (*iv.IV)(nil)

// MACs of the test VMs.
var (
	macA  = mac(0x0a)
	macB  = mac(0x0b)
	macC  = mac(0x0c)
	macD  = mac(0x0d)
	macX  = mac(0xee) // behind the uplink
	bcast = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
)

func mac(b byte) [6]byte { return [6]byte{0x02, 0, 0, 0, 0, b} }

// frame builds an untagged IPv4/UDP frame of 60 bytes from src to dst.
func frame(dst, src [6]byte, dport uint16) []byte {
	b := make([]byte, 60)
	copy(b, dst[:])
	copy(b[6:], src[:])
	binary.BigEndian.PutUint16(b[12:], 0x0800)
	ip := b[14:]
	ip[0], ip[8], ip[9] = 0x45, 64, 17
	binary.BigEndian.PutUint16(ip[2:], 28)
	copy(ip[12:], []byte{10, 0, 0, src[5]})
	copy(ip[16:], []byte{10, 0, 0, dst[5]})
	binary.BigEndian.PutUint16(ip[10:], ipChecksum(ip[:20]))
	binary.BigEndian.PutUint16(ip[20:], 40000)
	binary.BigEndian.PutUint16(ip[22:], dport)
	binary.BigEndian.PutUint16(ip[24:], 8)
	return b
}

func ipChecksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i < len(h); i += 2 {
		if i == 10 {
			continue
		}
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// dot1q inserts an 802.1Q tag with vid after the MAC addresses.
func dot1q(b []byte, vid uint16) []byte {
	out := append([]byte(nil), b[:12]...)
	out = binary.BigEndian.AppendUint16(out, 0x8100)
	out = binary.BigEndian.AppendUint16(out, vid)
	return append(out, b[12:]...)
}

// upVNTag pushes the upstream VNTag of svif.
func upVNTag(t testing.TB, b []byte, svif uint16) []byte {
	tag, err := vntag.Upstream(svif)
	require.NoError(t, err)
	f := port.FrameFrom(b)
	out, err := vntag.Push(f.Buf, f.Off, tag)
	require.NoError(t, err)
	return append([]byte(nil), out...)
}

func upETag(t testing.TB, b []byte, ecid uint32) []byte {
	e, err := vntag.ETagForECID(ecid)
	require.NoError(t, err)
	f := port.FrameFrom(b)
	out, err := vntag.PushETag(f.Buf, f.Off, e)
	require.NoError(t, err)
	return append([]byte(nil), out...)
}

const baseConfig = `
ip access-list no-dns
  10 deny udp any any eq 53
  20 permit ip any any
policy-map type qos gold
  set cos 5
  set dscp 46
port-profile web
  switchport mode access
  switchport access vlan 10
  state enabled
port-profile db
  switchport mode access
  switchport access vlan 20
  state enabled
port-profile trunk
  switchport mode trunk
  switchport trunk allowed vlan 10,20
  switchport trunk native vlan 20
  state enabled
`

// lab is a VIS with two IV ports (real IVs behind them, in mode) and one
// plain uplink, and five vEths:
//
//	vEth 1: port 0, VIF 5, web (VLAN 10)      MAC A
//	vEth 2: port 0, VIF 6, web (VLAN 10)      MAC B
//	vEth 3: port 0, VIF 7, db  (VLAN 20)      MAC C
//	vEth 4: port 1, VIF 5, web (VLAN 10)      MAC D
//	(port 2 is the uplink, MAC X)
type lab struct {
	t      *testing.T
	store  *profile.MemStore
	vis    *vis.VIS
	ivs    [2]*iv.IV
	mode   vntag.Mode
	uplink int
	now    int64
}

func newLab(t *testing.T, mode vntag.Mode, cfg vis.Config) *lab {
	t.Helper()
	l := &lab{t: t, store: profile.NewMemStore(), mode: mode, now: 1e9}
	_, err := l.store.Update(func(tx *profile.Txn) error {
		if err := tx.Configure(baseConfig); err != nil {
			return err
		}
		tx.Bind(1, "web")
		tx.Bind(2, "web")
		tx.Bind(3, "db")
		tx.Bind(4, "web")
		return nil
	})
	require.NoError(t, err)
	cfg.Store = l.store
	l.vis, err = vis.New(cfg)
	require.NoError(t, err)
	t.Cleanup(l.vis.Close)
	for i := range l.ivs {
		l.ivs[i] = iv.New(iv.Config{Mode: mode})
		p, err := l.vis.AddIVPort([]string{"iv0", "iv1"}[i], mode, l.ivs[i])
		require.NoError(t, err)
		require.Equal(t, i, p)
	}
	l.uplink = l.vis.AddUplink("eth1")
	for _, v := range []struct {
		id   profile.VEthID
		port int
		vif  vntag.VIF
	}{{1, 0, 5}, {2, 0, 6}, {3, 0, 7}, {4, 1, 5}} {
		require.NoError(t, l.vis.AddVEth(v.id, v.port, v.vif))
		_, err := l.ivs[v.port].AddVNIC(iv.VNICConfig{VIF: v.vif})
		require.NoError(t, err)
	}
	return l
}

// tag pushes the upstream tag of vif in the lab's mode.
func (l *lab) tag(b []byte, vif vntag.VIF) []byte {
	if l.mode == vntag.ModeETag {
		return upETag(l.t, b, uint32(vif))
	}
	return upVNTag(l.t, b, uint16(vif))
}

// out is one frame the VIS sent.
type out struct {
	port  int
	bytes []byte
}

// send runs frames through the VIS as arriving on port in.
func (l *lab) send(in int, frames ...[]byte) []out {
	l.t.Helper()
	fs := make([]port.Frame, len(frames))
	for i, b := range frames {
		fs[i] = port.FrameFrom(b)
	}
	tx := port.NewTx(1024, 1<<20)
	require.Equal(l.t, len(frames), l.vis.Process(in, fs, l.now, tx))
	var outs []out
	for i, f := range tx.Frames {
		outs = append(outs, out{tx.Ports[i], append([]byte(nil), f.Bytes()...)})
	}
	return outs
}

// from sends an untagged frame from the VM on (port, vif).
func (l *lab) from(p int, vif vntag.VIF, b []byte) []out {
	l.t.Helper()
	return l.send(p, l.tag(b, vif))
}

// deliver passes the VIS's frames for IV port p through that IV and
// returns what each vNIC (by VIF) receives.
func (l *lab) deliver(outs []out, p int) map[vntag.VIF][][]byte {
	l.t.Helper()
	got := map[vntag.VIF][][]byte{}
	for _, o := range outs {
		if o.port != p {
			continue
		}
		tx := port.NewTx(64, 1<<18)
		fs := []port.Frame{port.FrameFrom(o.bytes)}
		require.Equal(l.t, 1, l.ivs[p].Process(iv.UplinkA, fs, 0, tx))
		for i, f := range tx.Frames {
			for _, vif := range []vntag.VIF{5, 6, 7, 8} {
				if pp, ok := l.ivs[p].PortOf(vif); ok && pp == tx.Ports[i] {
					got[vif] = append(got[vif], append([]byte(nil), f.Bytes()...))
				}
			}
		}
	}
	return got
}

func (l *lab) counters(id profile.VEthID) vis.Counters {
	c, ok := l.vis.Counters(id)
	require.True(l.t, ok)
	return c
}

func (l *lab) portCounters(p int) vis.PortCounters {
	c, ok := l.vis.PortCounters(p)
	require.True(l.t, ok)
	return c
}

func (l *lab) configure(text string) {
	l.t.Helper()
	_, err := l.store.Update(func(tx *profile.Txn) error { return tx.Configure(text) })
	require.NoError(l.t, err)
}

// vntagOf decodes the VNTag of a frame the VIS sent.
func vntagOf(t testing.TB, b []byte) vntag.Tag {
	tag, err := vntag.ParseTag(b[12:])
	require.NoError(t, err)
	return tag
}

func etagOf(t testing.TB, b []byte) vntag.ETag {
	e, err := vntag.ParseETag(b[12:])
	require.NoError(t, err)
	return e
}
