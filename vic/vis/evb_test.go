package vis_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

// MACs of VMs behind the evb ports' edge relays.
var (
	macE1 = mac(0x21)
	macE2 = mac(0x22)
	macE3 = mac(0x23)
	macE4 = mac(0x24)
)

// evbLab is the lab with two evb ports more and four VSIs on them:
//
//	vEth 10: evb0 (port 3), MAC E1, untagged, web (VLAN 10)
//	vEth 11: evb0, MAC E2, untagged, web
//	vEth 12: evb0, MAC E3, VID 10, web
//	vEth 13: evb1 (port 4), MAC E4, untagged, web
type evbLab struct {
	*lab
	evb0, evb1 int
}

func newEVBLab(t *testing.T) *evbLab {
	l := &evbLab{lab: newLab(t, vntag.ModeVNTag, vis.Config{})}
	_, err := l.store.Update(func(tx *profile.Txn) error {
		for id := profile.VEthID(10); id <= 13; id++ {
			tx.Bind(id, "web")
		}
		return nil
	})
	require.NoError(t, err)
	l.evb0 = l.vis.AddEVBPort("evb0")
	l.evb1 = l.vis.AddEVBPort("evb1")
	require.NoError(t, l.vis.AddVSI(10, l.evb0, 0, macE1))
	require.NoError(t, l.vis.AddVSI(11, l.evb0, 0, macE2))
	require.NoError(t, l.vis.AddVSI(12, l.evb0, 10, macE3))
	require.NoError(t, l.vis.AddVSI(13, l.evb1, 0, macE4))
	return l
}

func TestEVBAddVSIErrors(t *testing.T) {
	l := newEVBLab(t)
	assert.ErrorIs(t, l.vis.AddVSI(10, l.evb0, 0, mac(0x30)), vis.ErrExists)
	assert.ErrorIs(t, l.vis.AddVSI(20, l.evb0, 0, macE1), vis.ErrVSI, "MAC and VID already bound")
	assert.ErrorIs(t, l.vis.AddVSI(20, l.evb0, 0), vis.ErrVSI, "no MAC")
	assert.ErrorIs(t, l.vis.AddVSI(20, l.evb0, 0, bcast), vis.ErrVSI)
	assert.ErrorIs(t, l.vis.AddVSI(20, l.evb0, 4095, mac(0x30)), vis.ErrVSI)
	assert.ErrorIs(t, l.vis.AddVSI(20, 0, 0, mac(0x30)), vis.ErrPortKind, "an IV port")
	assert.ErrorIs(t, l.vis.AddVSI(20, 99, 0, mac(0x30)), vis.ErrNotFound)
	assert.ErrorIs(t, l.vis.AddVEth(20, l.evb0, 9), vis.ErrPortKind, "a VIF on an evb port")
	// The same MAC in another VID is another VSI.
	require.NoError(t, l.vis.AddVSI(20, l.evb0, 20, macE1))
}

// A frame from one VSI to another behind the same evb port goes back out
// of it (reflective relay), as the VM sent it.
func TestEVBReflectiveRelay(t *testing.T) {
	l := newEVBLab(t)
	l.send(l.evb0, frame(bcast, macE2, 1)) // learn E2
	in := frame(macE2, macE1, 7)
	outs := l.send(l.evb0, append([]byte(nil), in...))
	require.Len(t, outs, 1)
	assert.Equal(t, l.evb0, outs[0].port)
	assert.Equal(t, in, outs[0].bytes, "hairpinned unchanged: no tag of any kind")

	c := l.counters(10)
	assert.EqualValues(t, 1, c.RxFrames)
	assert.EqualValues(t, 60, c.RxBytes)
	c = l.counters(11)
	assert.EqualValues(t, 1, c.TxFrames)
	pc := l.portCounters(l.evb0)
	assert.EqualValues(t, 2, pc.RxFrames)
	assert.EqualValues(t, 0, pc.Drops[vis.DropUnknownVSI])

	// The tagged VSI (VID 10) to the untagged one: the tag comes off.
	outs = l.send(l.evb0, dot1q(frame(macE2, macE3, 7), 10))
	require.Len(t, outs, 1)
	assert.Equal(t, frame(macE2, macE3, 7), outs[0].bytes)
	// And back: the tag goes on.
	outs = l.send(l.evb0, frame(macE3, macE2, 7))
	require.Len(t, outs, 1)
	assert.Equal(t, dot1q(frame(macE3, macE2, 7), 10), outs[0].bytes)
}

// Between an evb port and an IV port, the NIV tag comes off and goes on.
func TestEVBToIVPort(t *testing.T) {
	l := newEVBLab(t)
	l.from(0, 5, frame(bcast, macA, 1)) // learn A on vEth 1
	l.send(l.evb0, frame(bcast, macE1, 1))
	outs := l.send(l.evb0, frame(macA, macE1, 9))
	require.Len(t, outs, 1)
	assert.Equal(t, 0, outs[0].port)
	tag := vntagOf(t, outs[0].bytes)
	assert.True(t, tag.Direction() == vntag.FromBridge)
	assert.EqualValues(t, 5, tag.DVIF())
	outs = l.from(0, 5, frame(macE1, macA, 9))
	require.Len(t, outs, 1)
	assert.Equal(t, l.evb0, outs[0].port)
	assert.Equal(t, frame(macE1, macA, 9), outs[0].bytes)
	// From the uplink, in VLAN 10 tagged, to a VSI: untagged.
	l.send(l.evb1, frame(bcast, macE4, 1))
	outs = l.send(l.uplink, dot1q(frame(macE4, macX, 9), 10))
	require.Len(t, outs, 1)
	assert.Equal(t, l.evb1, outs[0].port)
	assert.Equal(t, frame(macE4, macX, 9), outs[0].bytes)
}

// A flood goes out of an evb port once per tagging, and not back to an evb
// port whose only VSI in the VLAN is the source.
func TestEVBFlood(t *testing.T) {
	l := newEVBLab(t)
	outs := l.send(l.evb0, frame(bcast, macE1, 1))
	var evb0 [][]byte
	ports := map[int]int{}
	for _, o := range outs {
		ports[o.port]++
		if o.port == l.evb0 {
			evb0 = append(evb0, o.bytes)
		}
	}
	assert.Equal(t, map[int]int{0: 1, 1: 1, l.uplink: 1, l.evb0: 2, l.evb1: 1}, ports)
	assert.ElementsMatch(t, [][]byte{frame(bcast, macE1, 1), dot1q(frame(bcast, macE1, 1), 10)}, evb0)
	assert.EqualValues(t, 1, l.counters(11).TxFrames)
	assert.EqualValues(t, 1, l.counters(12).TxFrames)
	assert.EqualValues(t, 64, l.counters(12).TxBytes)
	assert.EqualValues(t, 0, l.counters(10).TxFrames, "not to the source")

	// evb1's only VSI floods: nothing goes back out of evb1.
	for _, o := range l.send(l.evb1, frame(bcast, macE4, 1)) {
		assert.NotEqual(t, l.evb1, o.port)
	}
}

// Anti-spoof: a frame whose source MAC and VID match no VSI on the port is
// dropped and counted on the port.
func TestEVBAntiSpoof(t *testing.T) {
	l := newEVBLab(t)
	l.send(l.evb0, frame(bcast, macE2, 1))
	cases := []struct {
		name string
		b    []byte
	}{
		{"unknown MAC", frame(macE2, mac(0x66), 1)},
		{"MAC of a VSI of another port", frame(macE2, macE4, 1)},
		{"MAC in another VLAN", dot1q(frame(macE2, macE1, 1), 20)},
		{"tagged VSI untagged", frame(macE2, macE3, 1)},
		{"untagged VSI tagged", dot1q(frame(macE2, macE1, 1), 10)},
		{"a VM of an IV port", frame(macE2, macA, 1)},
	}
	for i, c := range cases {
		assert.Empty(t, l.send(l.evb0, c.b), c.name)
		assert.EqualValues(t, i+1, l.portCounters(l.evb0).Drops[vis.DropUnknownVSI], c.name)
	}
	assert.EqualValues(t, 0, l.counters(10).RxFrames)
	assert.EqualValues(t, 0, l.counters(11).TxFrames)
	assert.Equal(t, "no VSI associated for source MAC and VID", vis.DropUnknownVSI.String())
	// A priority tag (VID 0) is the untagged VSI's.
	assert.Len(t, l.send(l.evb0, dot1q(frame(macE2, macE1, 1), 0x6000)), 1)
}

// A VSI whose policy does not admit its VID takes no frames either way.
func TestEVBVIDNotInProfile(t *testing.T) {
	l := newEVBLab(t)
	require.NoError(t, l.vis.AddVSI(20, l.evb0, 20, mac(0x30)))
	_, err := l.store.Update(func(tx *profile.Txn) error { tx.Bind(20, "web"); return nil })
	require.NoError(t, err)
	vsi, ok := l.vis.VSIOf(20)
	require.True(t, ok)
	assert.Equal(t, vis.VSI{Port: l.evb0, VID: 20, MACs: [][6]byte{mac(0x30)}}, vsi)
	assert.Empty(t, l.send(l.evb0, dot1q(frame(macE2, mac(0x30), 1), 20)))
	assert.EqualValues(t, 1, l.counters(20).Drops[vis.DropVLAN])
	vsi, _ = l.vis.VSIOf(12)
	assert.EqualValues(t, 10, vsi.VLAN)
}

// De-associating removes the binding: the VM's frames are dropped.
func TestEVBRemove(t *testing.T) {
	l := newEVBLab(t)
	l.send(l.evb0, frame(bcast, macE2, 1))
	require.Len(t, l.send(l.evb0, frame(macE2, macE1, 1)), 1)
	require.NoError(t, l.vis.RemoveVEth(10))
	assert.Empty(t, l.send(l.evb0, frame(macE2, macE1, 1)))
	assert.EqualValues(t, 1, l.portCounters(l.evb0).Drops[vis.DropUnknownVSI])
	// E2 is no longer reached as E1's destination... and E1 is forgotten.
	for _, m := range l.vis.MACs(l.now) {
		assert.NotEqual(t, macE1, m.Addr)
	}
	_, ok := l.vis.VSIOf(10)
	assert.False(t, ok)
	// Re-associated, it takes frames again (a new vEth).
	require.NoError(t, l.vis.AddVSI(10, l.evb0, 0, macE1))
	assert.Len(t, l.send(l.evb0, frame(macE2, macE1, 1)), 1)
}

// A migration — the same VSIID associated on another evb port, or the VIF
// of an IV port — keeps the vEth's id, policy, admin state and counters.
func TestEVBMigration(t *testing.T) {
	l := newEVBLab(t)
	l.send(l.evb0, frame(bcast, macE2, 1))
	l.send(l.evb0, frame(macE2, macE1, 1))
	before := l.counters(10)
	require.EqualValues(t, 1, before.RxFrames)
	require.NoError(t, l.vis.SetAdminUp(10, false))
	require.NoError(t, l.vis.MoveVSI(10, l.evb1, 0, macE1))
	assert.Equal(t, before, l.counters(10))
	require.NoError(t, l.vis.SetAdminUp(10, true))

	// Not on evb0 any more; on evb1, where E4 is reached by relay.
	assert.Empty(t, l.send(l.evb0, frame(macE2, macE1, 1)))
	l.send(l.evb1, frame(bcast, macE4, 1))
	outs := l.send(l.evb1, frame(macE4, macE1, 1))
	require.Len(t, outs, 1)
	assert.Equal(t, l.evb1, outs[0].port)
	assert.EqualValues(t, 2, l.counters(10).RxFrames)
	vsi, _ := l.vis.VSIOf(10)
	assert.Equal(t, l.evb1, vsi.Port)

	// To an IV port's VIF and back to an evb port.
	require.NoError(t, l.vis.MoveVEth(10, 1, 8))
	_, ok := l.vis.VSIOf(10)
	assert.False(t, ok)
	assert.Empty(t, l.send(l.evb1, frame(macE4, macE1, 1)))
	require.NoError(t, l.vis.MoveVSI(10, l.evb0, 10, macE1))
	assert.ErrorIs(t, l.vis.MoveVSI(10, l.evb0, 10, macE3), vis.ErrVSI, "E3 in VID 10 is vEth 12's")
	require.NoError(t, l.vis.MoveVSI(10, l.evb0, 10, macE1), "again, in place")
	assert.Len(t, l.send(l.evb0, dot1q(frame(macE2, macE1, 1), 10)), 1)
	assert.EqualValues(t, 3, l.counters(10).RxFrames)

	s, err := l.vis.ShowInterface(10)
	require.NoError(t, err)
	assert.Contains(t, s, "Bound to VSI 02:00:00:00:00:21 VID 10 on port 3 (evb0, evb)")
}

// Frames on an evb port take the general path without allocating.
func TestEVBZeroAllocs(t *testing.T) {
	l := newEVBLab(t)
	l.send(l.evb0, frame(bcast, macE2, 1))
	l.send(l.evb0, frame(bcast, macE1, 1))
	l.from(0, 5, frame(bcast, macA, 1))
	b := [][]byte{frame(macE2, macE1, 1), frame(macE1, macE2, 1), frame(macA, macE1, 1), frame(macE2, mac(0x66), 1), frame(bcast, macE1, 1)}
	fs := make([]port.Frame, len(b))
	bufs := make([][]byte, len(b))
	for i := range b {
		bufs[i] = make([]byte, 2048)
	}
	tx := port.NewTx(64, 1<<16)
	allocs := testing.AllocsPerRun(200, func() {
		for i := range b {
			off := 64
			n := copy(bufs[i][off:], b[i])
			fs[i] = port.Frame{Buf: bufs[i][:off+n], Off: off}
		}
		tx.Reset()
		l.vis.Process(l.evb0, fs, l.now, tx)
	})
	assert.Zero(t, allocs)
}
