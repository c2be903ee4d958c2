package vis_test

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

// Two VMs behind the same IV: B announces itself (flood), then A's unicast
// to B goes back out of the port it came in on with d=1 and dvif = B's VIF,
// and the IV hands it to B alone.
func TestHairpinBetweenTwoVMsBehindOneIV(t *testing.T) {
	for _, mode := range []vntag.Mode{vntag.ModeVNTag, vntag.ModeETag} {
		t.Run(mode.String(), func(t *testing.T) {
			l := newLab(t, mode, vis.Config{})
			l.from(0, 6, frame(bcast, macB, 1)) // B is learned on vEth 2
			toB := frame(macB, macA, 2)
			outs := l.from(0, 5, toB)
			require.Len(t, outs, 1, "known unicast: one frame")
			assert.Equal(t, 0, outs[0].port, "hairpin: out of the port it came in on")
			if mode == vntag.ModeETag {
				e := etagOf(t, outs[0].bytes)
				assert.Equal(t, uint32(6), e.ECID())
				assert.Equal(t, uint8(0), e.GRP())
				assert.Equal(t, uint32(0), e.IngressECID())
			} else {
				tag := vntagOf(t, outs[0].bytes)
				assert.Equal(t, vntag.FromBridge, tag.Direction())
				assert.False(t, tag.Pointer())
				assert.False(t, tag.Looped())
				assert.Equal(t, uint16(6), tag.DVIF())
			}
			got := l.deliver(outs, 0)
			require.Len(t, got, 1)
			require.Len(t, got[6], 1)
			assert.Equal(t, toB, got[6][0], "B receives exactly what A sent")

			c := l.counters(2)
			assert.Equal(t, uint64(1), c.TxFrames)
			assert.Equal(t, uint64(60), c.TxBytes)
			assert.Equal(t, uint64(1), c.RxFrames)
			c = l.counters(1)
			assert.Equal(t, uint64(1), c.RxFrames)
			assert.Equal(t, uint64(1), c.TxFrames, "A got B's broadcast")
		})
	}
}

// Unknown unicast from A (VLAN 10) goes once to each IV port with a vif
// list — looped with A's VIF on A's own port — and once to the uplink; the
// IV prunes A, and db (VLAN 20) gets nothing.
func TestUnknownUnicastFloodedWithSourcePruning(t *testing.T) {
	for _, mode := range []vntag.Mode{vntag.ModeVNTag, vntag.ModeETag} {
		t.Run(mode.String(), func(t *testing.T) {
			l := newLab(t, mode, vis.Config{})
			unknown := frame(mac(0x99), macA, 3)
			outs := l.from(0, 5, unknown)
			var ports []int
			for _, o := range outs {
				ports = append(ports, o.port)
			}
			assert.Equal(t, []int{0, 1, l.uplink}, ports, "one frame per IV port, once per uplink")

			list0, vifs0, ok := l.vis.FloodList(0, 10, false)
			require.True(t, ok)
			assert.Equal(t, []vntag.VIF{5, 6}, vifs0, "VLAN 10 on port 0: vEths 1 and 2, not db")
			programmed, ok := l.ivs[0].VIFList(list0)
			require.True(t, ok, "the VIS programmed the list into the IV")
			assert.Equal(t, vifs0, programmed)
			list1, _, ok := l.vis.FloodList(1, 10, false)
			require.True(t, ok)

			if mode == vntag.ModeETag {
				e := etagOf(t, outs[0].bytes)
				assert.NotZero(t, e.GRP())
				assert.Equal(t, list0, e.Channel())
				assert.Equal(t, uint32(5), e.IngressECID(), "source behind this port: prune it")
				e = etagOf(t, outs[1].bytes)
				assert.Equal(t, list1, e.Channel())
				assert.Equal(t, uint32(0), e.IngressECID())
			} else {
				tag := vntagOf(t, outs[0].bytes)
				assert.Equal(t, vntag.FromBridge, tag.Direction())
				assert.True(t, tag.Pointer())
				assert.Equal(t, uint16(list0), tag.DVIF())
				assert.True(t, tag.Looped())
				assert.Equal(t, uint16(5), tag.SVIF())
				tag = vntagOf(t, outs[1].bytes)
				assert.True(t, tag.Pointer())
				assert.Equal(t, uint16(list1), tag.DVIF())
				assert.False(t, tag.Looped(), "source not behind port 1")
			}
			// The uplink copy: VLAN 10 is not the native VLAN, so 802.1Q tagged.
			assert.Equal(t, dot1q(unknown, 10), outs[2].bytes)

			got := l.deliver(outs, 0)
			assert.Equal(t, [][]byte{unknown}, got[6])
			assert.Empty(t, got[5], "the IV pruned the source")
			assert.Empty(t, got[7], "VLAN 20 is not flooded VLAN 10's frames")
			got = l.deliver(outs, 1)
			assert.Equal(t, [][]byte{unknown}, got[5], "vEth 4 behind the other IV")
			c, _ := l.ivs[0].Counters(5)
			assert.Equal(t, uint64(1), c.Pruned)
		})
	}
}

func TestSVIFSpoofingDropped(t *testing.T) {
	for _, mode := range []vntag.Mode{vntag.ModeVNTag, vntag.ModeETag} {
		t.Run(mode.String(), func(t *testing.T) {
			l := newLab(t, mode, vis.Config{})
			// VIF 6 is bound on port 0 only; a VM behind port 1 claims it.
			outs := l.from(1, 6, frame(bcast, macD, 1))
			assert.Empty(t, outs)
			assert.Empty(t, l.from(0, 99, frame(bcast, macA, 1)))
			assert.Equal(t, uint64(1), l.portCounters(1).Drops[vis.DropUnknownVIF])
			assert.Equal(t, uint64(1), l.portCounters(0).Drops[vis.DropUnknownVIF])
			assert.Zero(t, l.counters(2).RxFrames, "nothing charged to the real owner of VIF 6")
			assert.Empty(t, l.vis.MACs(l.now), "nothing learned from a spoofed frame")
		})
	}
}

func TestBadUpstreamTagsDropped(t *testing.T) {
	l := newLab(t, vntag.ModeVNTag, vis.Config{})
	plain := frame(bcast, macA, 1)
	withTag := func(f vntag.TagFields) []byte {
		tag, err := f.Tag()
		require.NoError(t, err)
		fr := port.FrameFrom(plain)
		out, err := vntag.Push(fr.Buf, fr.Off, tag)
		require.NoError(t, err)
		return out
	}
	e, _ := vntag.ETagForECID(5)
	efr := port.FrameFrom(plain)
	etagged, _ := vntag.PushETag(efr.Buf, efr.Off, e)
	outs := l.send(0,
		plain, // no tag
		etagged,
		withTag(vntag.TagFields{Direction: vntag.FromBridge, SVIF: 5}),
		withTag(vntag.TagFields{Pointer: true, SVIF: 5}),
		withTag(vntag.TagFields{Looped: true, SVIF: 5}),
		withTag(vntag.TagFields{Version: 1, SVIF: 5}),
		plain[:16],
	)
	assert.Empty(t, outs)
	c := l.portCounters(0)
	assert.Equal(t, uint64(2), c.Drops[vis.DropNoTag])
	assert.Equal(t, uint64(4), c.Drops[vis.DropBadTag])
	assert.Equal(t, uint64(1), c.Drops[vis.DropMalformed])
	assert.Equal(t, uint64(7), c.RxFrames)
	// A NIV tag arriving on a plain uplink.
	assert.Empty(t, l.send(l.uplink, upVNTag(t, plain, 5)))
	assert.Equal(t, uint64(1), l.portCounters(l.uplink).Drops[vis.DropNIVTag])
}

func TestVLANDeniedByProfileDropped(t *testing.T) {
	l := newLab(t, vntag.ModeVNTag, vis.Config{})
	// web is access VLAN 10; a frame tagged 20 must not get into VLAN 20.
	assert.Empty(t, l.from(0, 5, dot1q(frame(bcast, macA, 1), 20)))
	assert.Equal(t, uint64(1), l.counters(1).Drops[vis.DropVLAN])
	// Tagged with its own access VLAN, or priority-tagged, is admitted.
	assert.NotEmpty(t, l.from(0, 5, dot1q(frame(bcast, macA, 1), 10)))
	assert.NotEmpty(t, l.from(0, 5, dot1q(frame(bcast, macA, 1), 0)))
	// Unicast into another VLAN's MAC does not cross: C (VLAN 20) is
	// learned in VLAN 20 only, so A's frame to C floods in VLAN 10.
	l.from(0, 7, frame(bcast, macC, 1))
	got := l.deliver(l.from(0, 5, frame(macC, macA, 2)), 0)
	assert.Empty(t, got[7])
}

func TestTrunkVEthGetsTaggedFrames(t *testing.T) {
	l := newLab(t, vntag.ModeVNTag, vis.Config{})
	_, err := l.store.Update(func(tx *profile.Txn) error { tx.Bind(2, "trunk"); return nil })
	require.NoError(t, err)
	// The trunk (allowed 10,20; native 20) sends a tagged VLAN 10 frame and
	// an untagged (native VLAN 20) one.
	l.from(0, 6, dot1q(frame(bcast, macB, 1), 10))
	l.from(0, 6, frame(bcast, macB, 1))
	toB10 := frame(macB, macA, 2)
	outs := l.from(0, 5, toB10)
	require.Len(t, outs, 1)
	got := l.deliver(outs, 0)
	assert.Equal(t, [][]byte{dot1q(toB10, 10)}, got[6], "VLAN 10 is not native on the trunk: tagged")
	toB20 := frame(macB, macC, 3)
	got = l.deliver(l.from(0, 7, toB20), 0)
	assert.Equal(t, [][]byte{toB20}, got[6], "native VLAN: untagged")
	// Flooding VLAN 10 from vEth 1: the access member and the trunk member
	// need different tagging, so port 0 gets two lists.
	untaggedList, _, ok := l.vis.FloodList(0, 10, false)
	require.True(t, ok)
	taggedList, vifs, ok := l.vis.FloodList(0, 10, true)
	require.True(t, ok)
	assert.NotEqual(t, untaggedList, taggedList)
	assert.Equal(t, []vntag.VIF{6}, vifs)
	got = l.deliver(l.from(0, 5, frame(bcast, macA, 4)), 0)
	assert.Equal(t, [][]byte{dot1q(frame(bcast, macA, 4), 10)}, got[6])
	assert.Empty(t, got[5])
}

func TestPortSecurityViolationActions(t *testing.T) {
	for _, tc := range []struct {
		violation string
		drop      vis.Drop
	}{
		{"restrict", vis.DropPortSecurity},
		{"protect", vis.DropPortSecurityProtect},
		{"shutdown", vis.DropErrDisabled},
	} {
		t.Run(tc.violation, func(t *testing.T) {
			l := newLab(t, vntag.ModeVNTag, vis.Config{})
			l.configure("port-profile web\n  switchport port-security\n  switchport port-security maximum 1\n  switchport port-security violation " + tc.violation + "\n")
			assert.NotEmpty(t, l.from(0, 5, frame(bcast, macA, 1)), "first MAC admitted")
			assert.Empty(t, l.from(0, 5, frame(bcast, mac(0x42), 1)), "second MAC over the maximum")
			c := l.counters(1)
			assert.Equal(t, uint64(1), c.Drops[tc.drop])
			again := l.from(0, 5, frame(bcast, macA, 1))
			if tc.violation == "shutdown" {
				assert.Empty(t, again, "err-disabled: even the secure MAC is dropped")
				assert.Equal(t, uint64(2), l.counters(1).Drops[vis.DropErrDisabled])
				s, err := l.vis.ShowInterface(1)
				require.NoError(t, err)
				assert.Contains(t, s, "err-disabled")
				// Unicast toward the err-disabled vEth is dropped too.
				l.from(0, 6, frame(bcast, macB, 1))
				assert.Empty(t, l.deliver(l.from(0, 6, frame(macA, macB, 2)), 0)[5])
				require.NoError(t, l.vis.Recover(1))
				assert.NotEmpty(t, l.from(0, 5, frame(bcast, macA, 1)), "recovered")
			} else {
				assert.NotEmpty(t, again, "the secure MAC still passes")
			}
		})
	}
}

func TestMACLimitPerVEth(t *testing.T) {
	l := newLab(t, vntag.ModeVNTag, vis.Config{MACLimit: 2})
	for i := byte(1); i <= 4; i++ {
		assert.NotEmpty(t, l.from(0, 5, frame(bcast, mac(0x30+i), 1)), "frames still forwarded")
	}
	assert.Len(t, l.vis.MACs(l.now), 2)
	assert.Equal(t, uint64(2), l.counters(1).LearnRefused)
	s, err := l.vis.ShowInterface(1)
	require.NoError(t, err)
	assert.Contains(t, s, "Learned MACs: 2")
	// A frame to an address that was not learned is flooded, not lost.
	l.from(0, 6, frame(bcast, macB, 1))
	got := l.deliver(l.from(0, 6, frame(mac(0x33), macB, 2)), 0)
	assert.Len(t, got[5], 1)
}

func TestAging(t *testing.T) {
	l := newLab(t, vntag.ModeVNTag, vis.Config{AgingTime: 10 * time.Second})
	l.from(0, 6, frame(bcast, macB, 1))
	require.Len(t, l.vis.MACs(l.now), 1)
	l.now += int64(5 * time.Second)
	assert.Len(t, l.from(0, 5, frame(macB, macA, 2)), 1, "known: unicast")
	l.now += int64(11 * time.Second)
	assert.Len(t, l.from(0, 5, frame(macB, macA, 2)), 3, "aged out: flooded")
	assert.Equal(t, 1, l.vis.Age(l.now), "B removed, A (just seen) kept")
	macs := l.vis.MACs(l.now)
	require.Len(t, macs, 1)
	assert.Equal(t, macA, macs[0].Addr)
	assert.Equal(t, profile.VEthID(1), macs[0].VEth)
	assert.Equal(t, uint16(10), macs[0].VLAN)
}

func TestMACMove(t *testing.T) {
	l := newLab(t, vntag.ModeVNTag, vis.Config{})
	l.from(0, 5, frame(bcast, macA, 1))
	l.from(0, 6, frame(bcast, macA, 1)) // A moved to vEth 2 (a migrated VM)
	assert.Equal(t, uint64(1), l.vis.Moves())
	got := l.deliver(l.from(1, 5, frame(macA, macD, 2)), 0)
	assert.Len(t, got[6], 1, "unicast follows the move")
	assert.Empty(t, got[5])
}

func TestProfileEditTakesEffectMidStream(t *testing.T) {
	l := newLab(t, vntag.ModeVNTag, vis.Config{})
	l.from(0, 6, frame(bcast, macB, 1))
	dns := frame(macB, macA, 53)
	assert.Len(t, l.from(0, 5, dns), 1)
	// The admin adds an inbound ACL to web: DNS is denied from now on.
	l.configure("port-profile web\n  ip access-group no-dns in\n")
	assert.Empty(t, l.from(0, 5, dns))
	assert.Equal(t, uint64(1), l.counters(1).Drops[vis.DropIPACL])
	assert.Len(t, l.from(0, 5, frame(macB, macA, 80)), 1, "other traffic passes")
	// The admin moves web to VLAN 20: vEths 1, 2 and 4 now flood with db.
	l.configure("port-profile web\n  switchport access vlan 20\n")
	got := l.deliver(l.from(0, 5, frame(bcast, macA, 80)), 0)
	assert.Len(t, got[7], 1, "db (VLAN 20) now gets web's broadcasts")
	assert.Len(t, got[6], 1)
	_, vifs, ok := l.vis.FloodList(0, 20, false)
	require.True(t, ok)
	assert.Equal(t, []vntag.VIF{5, 6, 7}, vifs)
	_, _, ok = l.vis.FloodList(0, 10, false)
	assert.False(t, ok, "VLAN 10 has no member left on port 0")
	// Shutting the profile takes its vEths down.
	l.configure("port-profile web\n  shutdown\n")
	assert.Empty(t, l.from(0, 5, frame(bcast, macA, 80)))
	assert.Equal(t, uint64(1), l.counters(1).Drops[vis.DropShutdown])
}

func TestOutboundPolicyAndMarking(t *testing.T) {
	l := newLab(t, vntag.ModeVNTag, vis.Config{})
	l.configure("port-profile db\n  ip access-group no-dns out\n  service-policy type qos input gold\n")
	l.configure("port-profile web\n  switchport access vlan 20\n")
	l.from(0, 7, frame(bcast, macC, 1))
	// Unicast DNS toward db (vEth 3) is denied by its outbound ACL.
	got := l.deliver(l.from(0, 5, frame(macC, macA, 53)), 0)
	assert.Empty(t, got[7])
	assert.Equal(t, uint64(1), l.counters(3).Drops[vis.DropIPACL])
	// A broadcast DNS frame: the list cannot skip db, so the VIS sends
	// unicast copies to the members that admit it.
	outs := l.from(0, 5, frame(bcast, macA, 53))
	got = l.deliver(outs, 0)
	assert.Len(t, got[6], 1)
	assert.Empty(t, got[7])
	assert.Empty(t, got[5])
	// db's input policy marks DSCP 46 and CoS 5: the frame to B carries
	// DSCP 46 with a valid checksum, and the uplink copy PCP 5.
	l.from(0, 6, frame(bcast, macB, 1))
	got = l.deliver(l.from(0, 7, frame(macB, macC, 80)), 0)
	require.Len(t, got[6], 1)
	ip := got[6][0][14:34]
	assert.Equal(t, byte(46<<2), ip[1])
	assert.Equal(t, binary.BigEndian.Uint16(ip[10:]), ipChecksum(ip))
	outs = l.from(0, 7, frame(mac(0x77), macC, 80))
	up := outs[len(outs)-1]
	require.Equal(t, l.uplink, up.port)
	assert.Equal(t, byte(5), up.bytes[14]>>5)
}

func TestAdminDown(t *testing.T) {
	l := newLab(t, vntag.ModeVNTag, vis.Config{})
	l.from(0, 6, frame(bcast, macB, 1))
	require.NoError(t, l.vis.SetAdminUp(2, false))
	assert.Empty(t, l.from(0, 6, frame(bcast, macB, 1)))
	assert.Equal(t, uint64(1), l.counters(2).Drops[vis.DropAdminDown])
	_, vifs, _ := l.vis.FloodList(0, 10, false)
	assert.Equal(t, []vntag.VIF{5}, vifs, "left the vif list")
	got := l.deliver(l.from(0, 5, frame(macB, macA, 2)), 0)
	assert.Empty(t, got[6], "B's MAC was forgotten and the flood skips B")
	s, err := l.vis.ShowInterface(2)
	require.NoError(t, err)
	assert.Contains(t, s, "Administratively down")
	require.NoError(t, l.vis.SetAdminUp(2, true))
	got = l.deliver(l.from(0, 5, frame(macB, macA, 2)), 0)
	assert.Len(t, got[6], 1)
	assert.ErrorIs(t, l.vis.SetAdminUp(99, true), vis.ErrNotFound)
}

func TestUplink(t *testing.T) {
	l := newLab(t, vntag.ModeVNTag, vis.Config{})
	// X (behind the uplink) broadcasts in VLAN 10: flooded to both IV
	// ports, not looped, and to no other uplink.
	outs := l.send(l.uplink, dot1q(frame(bcast, macX, 1), 10))
	require.Len(t, outs, 2)
	assert.False(t, vntagOf(t, outs[0].bytes).Looped())
	assert.Len(t, l.deliver(outs, 0)[5], 1)
	// A answers X: known unicast out of the uplink, 802.1Q tagged.
	outs = l.from(0, 5, frame(macX, macA, 2))
	require.Len(t, outs, 1)
	assert.Equal(t, l.uplink, outs[0].port)
	assert.Equal(t, dot1q(frame(macX, macA, 2), 10), outs[0].bytes)
	// X to A: d=1 toward vEth 1, untagged inside.
	outs = l.send(l.uplink, dot1q(frame(macA, macX, 3), 10))
	require.Len(t, outs, 1)
	assert.Equal(t, [][]byte{frame(macA, macX, 3)}, l.deliver(outs, 0)[5])
	// Untagged uplink frames are in the native VLAN (1): nobody there.
	outs = l.send(l.uplink, frame(bcast, macX, 4))
	assert.Empty(t, outs)
	// A frame for X that arrives on the uplink is not sent back.
	assert.Empty(t, l.send(l.uplink, dot1q(frame(macX, mac(0x55), 5), 10)))
	assert.Equal(t, uint64(1), l.portCounters(l.uplink).Drops[vis.DropSelf])
}

func TestShowInterface(t *testing.T) {
	l := newLab(t, vntag.ModeVNTag, vis.Config{})
	l.from(0, 5, frame(bcast, macA, 1))
	l.from(0, 5, dot1q(frame(bcast, macA, 1), 30))
	s, err := l.vis.ShowInterface(1)
	require.NoError(t, err)
	for _, want := range []string{
		"Vethernet1 is up",
		"Bound to svif 5 on port 0 (iv0, VNTag)",
		"Port-profile web, access VLAN 10",
		"Learned MACs: 1",
		"Input:  2 frames, 124 bytes",
		"Drops:  1 (VLAN not allowed 1)",
	} {
		assert.Contains(t, s, want)
	}
	_, err = l.vis.ShowInterface(77)
	assert.ErrorIs(t, err, vis.ErrNotFound)
	assert.Equal(t, "VIF not bound on this port", vis.DropUnknownVIF.String())
	assert.Equal(t, "VLAN not allowed", vis.DropVLAN.String())
}

func TestConfigErrors(t *testing.T) {
	_, err := vis.New(vis.Config{})
	assert.ErrorIs(t, err, vis.ErrConfig)
	l := newLab(t, vntag.ModeVNTag, vis.Config{})
	assert.ErrorIs(t, l.vis.AddVEth(1, 0, 9), vis.ErrExists)
	assert.ErrorIs(t, l.vis.AddVEth(9, 0, 5), vis.ErrVIF, "VIF 5 is taken on port 0")
	assert.ErrorIs(t, l.vis.AddVEth(9, 0, 4096), vis.ErrVIF)
	assert.ErrorIs(t, l.vis.AddVEth(9, l.uplink, 9), vis.ErrPortKind)
	assert.ErrorIs(t, l.vis.AddVEth(9, 7, 9), vis.ErrNotFound)
	_, err = l.vis.AddIVPort("x", vntag.ModeVNTag, nil)
	assert.ErrorIs(t, err, vis.ErrConfig)
	require.NoError(t, l.vis.RemoveVEth(2))
	assert.ErrorIs(t, l.vis.RemoveVEth(2), vis.ErrNotFound)
	assert.Empty(t, l.from(0, 6, frame(bcast, macB, 1)), "VIF 6 unbound")
	assert.Equal(t, uint64(1), l.portCounters(0).Drops[vis.DropUnknownVIF])
}

// A vEth created before it is bound drops with DropNoPolicy, and follows
// the binding when it comes.
func TestUnboundVEthFollowsBinding(t *testing.T) {
	l := newLab(t, vntag.ModeVNTag, vis.Config{})
	require.NoError(t, l.vis.AddVEth(9, 0, 9))
	_, err := l.ivs[0].AddVNIC(iv.VNICConfig{VIF: 9})
	require.NoError(t, err)
	assert.Empty(t, l.from(0, 9, frame(bcast, mac(9), 1)))
	assert.Equal(t, uint64(1), l.counters(9).Drops[vis.DropNoPolicy])
	_, err = l.store.Update(func(tx *profile.Txn) error { tx.Bind(9, "web"); return nil })
	require.NoError(t, err)
	got := l.deliver(l.from(0, 9, frame(bcast, mac(9), 1)), 0)
	assert.Len(t, got[5], 1)
	s, _ := l.vis.ShowInterface(9)
	assert.True(t, strings.HasPrefix(s, "Vethernet9 is up"), s)
}

// The VIS refuses nothing it already accepted when Tx is small: it stops
// and the rest of the batch is processed on the next call.
func TestTxFullStopsWithoutLoss(t *testing.T) {
	l := newLab(t, vntag.ModeVNTag, vis.Config{})
	fs := []port.Frame{
		port.FrameFrom(l.tag(frame(bcast, macA, 1), 5)),
		port.FrameFrom(l.tag(frame(bcast, macA, 2), 5)),
	}
	tx := port.NewTx(4, 1<<16)
	n := l.vis.Process(0, fs, l.now, tx)
	assert.Equal(t, 1, n)
	tx.Reset()
	assert.Equal(t, 1, l.vis.Process(0, fs[n:], l.now, tx))
	assert.Equal(t, uint64(2), l.counters(1).RxFrames)
}

func TestNoAllocs(t *testing.T) {
	for _, mode := range []vntag.Mode{vntag.ModeVNTag, vntag.ModeETag} {
		t.Run(mode.String(), func(t *testing.T) {
			l := newLab(t, mode, vis.Config{})
			l.from(0, 6, frame(bcast, macB, 1))
			l.from(0, 5, frame(bcast, macA, 1))
			l.send(l.uplink, dot1q(frame(bcast, macX, 1), 10))
			frames := [][]byte{
				l.tag(frame(macB, macA, 2), 5),   // hairpin
				l.tag(frame(bcast, macA, 2), 5),  // flood
				l.tag(frame(macX, macA, 2), 5),   // to the uplink
				dot1q(frame(macA, macX, 2), 10),  // from the uplink
				l.tag(frame(bcast, macB, 2), 99), // spoofed
			}
			b := port.NewBatch(len(frames))
			tx := port.NewTx(256, 1<<18)
			allocs := testing.AllocsPerRun(1000, func() {
				for i, f := range frames {
					b.Put(i, f)
				}
				l.now++
				l.vis.Process(0, b.Frames[:3], l.now, tx)
				l.vis.Process(l.uplink, b.Frames[3:4], l.now, tx)
				l.vis.Process(0, b.Frames[4:5], l.now, tx)
				tx.Reset()
			})
			assert.Zero(t, allocs)
			assert.Positive(t, l.counters(2).TxFrames)
		})
	}
}

// Flooded frames are counted per list and attributed to the members when
// counters are read; the counts survive the lists being rebuilt.
func TestFloodCountersSurviveRebuild(t *testing.T) {
	l := newLab(t, vntag.ModeVNTag, vis.Config{})
	l.from(0, 5, frame(bcast, macA, 1))
	assert.Equal(t, uint64(1), l.counters(2).TxFrames)
	assert.Equal(t, uint64(0), l.counters(1).TxFrames, "the source is pruned, not counted")
	l.configure("port-profile db\n  switchport access vlan 10\n") // vEth 3 joins VLAN 10: lists rebuilt
	assert.Equal(t, uint64(1), l.counters(2).TxFrames)
	assert.Equal(t, uint64(0), l.counters(1).TxFrames)
	assert.Equal(t, uint64(0), l.counters(3).TxFrames)
	l.from(0, 5, frame(bcast, macA, 2))
	assert.Equal(t, uint64(2), l.counters(2).TxFrames)
	assert.Equal(t, uint64(1), l.counters(3).TxFrames)
	assert.Equal(t, uint64(0), l.counters(1).TxFrames)
	assert.Equal(t, uint64(120), l.counters(2).TxBytes)
}

// An E-Tag port keeps E-CIDs below 4096 in a flat table and those with an
// E-CID_ext in a map: a vEth on either is reached, by unicast both ways,
// and unbinding it frees the E-CID for another vEth.
func TestETagHighECID(t *testing.T) {
	l := newLab(t, vntag.ModeETag, vis.Config{})
	const high = 0x2_0abc // E-CID_ext 0x20, E-CID_base 0xabc
	_, err := l.store.Update(func(tx *profile.Txn) error { tx.Bind(9, "web"); return nil })
	require.NoError(t, err)
	require.NoError(t, l.vis.AddVEth(9, 0, high))
	assert.ErrorIs(t, l.vis.AddVEth(10, 0, high), vis.ErrVIF, "E-CID taken")

	l.from(0, high, frame(bcast, macX, 1)) // learn macX on vEth 9
	outs := l.from(0, 5, frame(macX, macA, 1))
	require.Len(t, outs, 1)
	e := etagOf(t, outs[0].bytes)
	assert.Equal(t, uint32(high), e.ECID(), "to the vEth with the high E-CID")
	assert.Equal(t, uint8(0), e.GRP())
	for range 2 { // the second time both MACs are known
		outs = l.from(0, high, frame(macA, macX, 1))
		require.Len(t, outs, 1)
		assert.Equal(t, uint32(5), etagOf(t, outs[0].bytes).ECID(), "from the high E-CID back to E-CID 5")
	}
	assert.Equal(t, uint64(3), l.counters(9).RxFrames)
	assert.Equal(t, uint64(1), l.counters(9).TxFrames)

	require.NoError(t, l.vis.RemoveVEth(9))
	assert.Empty(t, l.from(0, high, frame(macA, macX, 1)), "E-CID unbound")
	require.NoError(t, l.vis.AddVEth(10, 0, high), "E-CID free again")
}

// Known unicast between vEths behind two IV ports of the same mode keeps
// the frame's bytes but for the tag, and goes out of the other port; the
// fast path and the general path (TestFastPathsMatchGeneralPath) agree on
// it. Here: the usual frame, both ways, once both MACs are known.
func TestKnownUnicastAcrossIVPorts(t *testing.T) {
	for _, mode := range []vntag.Mode{vntag.ModeVNTag, vntag.ModeETag} {
		t.Run(mode.String(), func(t *testing.T) {
			l := newLab(t, mode, vis.Config{})
			l.from(1, 5, frame(bcast, macD, 1)) // vEth 4 behind port 1
			l.from(0, 5, frame(bcast, macA, 1)) // vEth 1 behind port 0
			vethTx, portTx := l.counters(4).TxFrames, l.portCounters(1).TxFrames
			for range 3 {
				in := frame(macD, macA, 1)
				outs := l.from(0, 5, in)
				require.Len(t, outs, 1)
				assert.Equal(t, 1, outs[0].port)
				got := l.deliver(outs, 1)[5]
				require.Len(t, got, 1)
				assert.Equal(t, in, got[0], "vEth 4 gets what vEth 1 sent")
			}
			assert.Equal(t, vethTx+3, l.counters(4).TxFrames)
			assert.Equal(t, portTx+3, l.portCounters(1).TxFrames)
		})
	}
}

// Known unicast from a vEth behind a VNTag IV to one behind an E-Tag IV
// (and back) leaves with the other port's tag: the fast path's in-place
// rewrite is for ports of one mode only, and the general path pops one
// tag and pushes the other.
func TestKnownUnicastAcrossTagModes(t *testing.T) {
	store := profile.NewMemStore()
	_, err := store.Update(func(tx *profile.Txn) error {
		tx.Bind(1, "web")
		tx.Bind(2, "web")
		return tx.Configure(baseConfig)
	})
	require.NoError(t, err)
	v, err := vis.New(vis.Config{Store: store})
	require.NoError(t, err)
	t.Cleanup(v.Close)
	ivV := iv.New(iv.Config{Mode: vntag.ModeVNTag})
	ivE := iv.New(iv.Config{Mode: vntag.ModeETag})
	pv, err := v.AddIVPort("iv-vntag", vntag.ModeVNTag, ivV)
	require.NoError(t, err)
	pe, err := v.AddIVPort("iv-etag", vntag.ModeETag, ivE)
	require.NoError(t, err)
	require.NoError(t, v.AddVEth(1, pv, 5))
	require.NoError(t, v.AddVEth(2, pe, 7))
	send := func(p int, b []byte) (port.Frame, int) {
		t.Helper()
		tx := port.NewTx(16, 1<<16)
		require.Equal(t, 1, v.Process(p, []port.Frame{port.FrameFrom(b)}, 1e9, tx))
		require.Equal(t, 1, tx.Len())
		return tx.Frames[0], tx.Ports[0]
	}
	send(pv, upVNTag(t, frame(bcast, macA, 1), 5)) // learn macA on vEth 1
	send(pe, upETag(t, frame(bcast, macB, 1), 7))  // learn macB on vEth 2
	before1, _ := v.Counters(1)
	before2, _ := v.Counters(2)
	for range 3 {
		in := frame(macB, macA, 2)
		f, p := send(pv, upVNTag(t, in, 5))
		assert.Equal(t, pe, p)
		e := etagOf(t, f.Bytes())
		assert.Equal(t, uint32(7), e.ECID())
		popped, body, err := vntag.PopETag(append([]byte(nil), f.Bytes()...))
		require.NoError(t, err)
		assert.Equal(t, e, popped)
		assert.Equal(t, in, body)

		back := frame(macA, macB, 2)
		f, p = send(pe, upETag(t, back, 7))
		assert.Equal(t, pv, p)
		tag := vntagOf(t, f.Bytes())
		assert.Equal(t, vntag.FromBridge, tag.Direction())
		assert.Equal(t, uint16(5), tag.DVIF())
	}
	c1, _ := v.Counters(1)
	c2, _ := v.Counters(2)
	assert.Equal(t, before1.TxFrames+3, c1.TxFrames)
	assert.Equal(t, before2.TxFrames+3, c2.TxFrames)
}

// Known unicast from the uplink to a vEth, byte for byte against frames
// built with vntag's own Push: the 802.1Q tag comes off for an access
// vEth and stays for a trunk vEth that takes the VLAN tagged; an untagged
// frame is in the uplink's native VLAN. Each frame is sent three times:
// the first teaches the VIS nothing new, the later ones take the fast path
// (TestFastPathsMatchGeneralPath compares it with the general path).
func TestUplinkKnownUnicastBytes(t *testing.T) {
	for _, mode := range []vntag.Mode{vntag.ModeVNTag, vntag.ModeETag} {
		t.Run(mode.String(), func(t *testing.T) {
			l := newLab(t, mode, vis.Config{UplinkNativeVLAN: 10})
			_, err := l.store.Update(func(tx *profile.Txn) error { tx.Bind(2, "trunk"); return nil })
			require.NoError(t, err)
			l.from(0, 5, frame(bcast, macA, 1))                // vEth 1: access VLAN 10
			l.from(0, 6, dot1q(frame(bcast, macB, 1), 10))     // vEth 2: trunk 10,20, native 20
			l.send(l.uplink, dot1q(frame(bcast, macX, 1), 10)) // X behind the uplink
			push := func(inner []byte, vif vntag.VIF) []byte {
				f := port.FrameFrom(inner)
				var out []byte
				if mode == vntag.ModeETag {
					e, err := vntag.ETagForECID(uint32(vif))
					require.NoError(t, err)
					out, err = vntag.PushETag(f.Buf, f.Off, e)
					require.NoError(t, err)
				} else {
					tag, err := vntag.Downstream(uint16(vif))
					require.NoError(t, err)
					out, err = vntag.Push(f.Buf, f.Off, tag)
					require.NoError(t, err)
				}
				return out
			}
			hl := uint64(vntag.TagLen)
			if mode == vntag.ModeETag {
				hl = vntag.ETagLen
			}
			before1, before2, beforePort := l.counters(1), l.counters(2), l.portCounters(0)
			var bytes1, bytes2 uint64
			for _, c := range []struct {
				name     string
				in, want []byte
				vif      vntag.VIF
			}{
				{"tagged to access", dot1q(frame(macA, macX, 2), 10), push(frame(macA, macX, 2), 5), 5},
				{"untagged (native) to access", frame(macA, macX, 3), push(frame(macA, macX, 3), 5), 5},
				{"tagged to trunk", dot1q(frame(macB, macX, 4), 10), push(dot1q(frame(macB, macX, 4), 10), 6), 6},
			} {
				for range 3 {
					outs := l.send(l.uplink, c.in)
					require.Len(t, outs, 1, c.name)
					assert.Equal(t, 0, outs[0].port, c.name)
					assert.Equal(t, c.want, outs[0].bytes, c.name)
					if c.vif == 5 {
						bytes1 += uint64(len(c.want)) - hl
					} else {
						bytes2 += uint64(len(c.want)) - hl
					}
				}
			}
			// Counted without the NIV tag on the vEth, with it on the IV
			// port.
			c1, c2, cp := l.counters(1), l.counters(2), l.portCounters(0)
			assert.Equal(t, before1.TxFrames+6, c1.TxFrames)
			assert.Equal(t, before1.TxBytes+bytes1, c1.TxBytes)
			assert.Equal(t, before2.TxFrames+3, c2.TxFrames)
			assert.Equal(t, before2.TxBytes+bytes2, c2.TxBytes)
			assert.Equal(t, beforePort.TxFrames+9, cp.TxFrames)
			assert.Equal(t, beforePort.TxBytes+bytes1+bytes2+9*hl, cp.TxBytes)
		})
	}
}
