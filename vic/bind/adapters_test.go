package bind_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/bind"
	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

func TestProfiles(t *testing.T) {
	store := profile.NewMemStore()
	_, err := store.Update(func(tx *profile.Txn) error { return tx.Configure(profiles) })
	require.NoError(t, err)
	p := bind.Profiles{Store: store}
	assert.Equal(t, vic.ProfileEnabled, p.ProfileState("web"))
	assert.Equal(t, vic.ProfileDisabled, p.ProfileState("off"))
	assert.Equal(t, vic.ProfileUnknown, p.ProfileState("nope"))
}

// TestListIDs: vic list ids are the cores' (version 2): a VNTag
// vif_list_id, or an E-channel GRP<<20 | E-CID with GRP 1-3, the same on
// both sides; a list vic cannot carry in one message is refused.
func TestListIDs(t *testing.T) {
	l := bind.NewLists()
	defer l.Close()
	assert.NoError(t, l.SetVIFList(42, []vntag.VIF{1, 2}))
	assert.NoError(t, l.SetVIFList(vntag.Channel(1, 300), []vntag.VIF{1}))
	assert.NoError(t, l.SetVIFList(vntag.Channel(2, 300), []vntag.VIF{1}), "GRP 2 goes in the wide list")
	assert.NoError(t, l.SetVIFList(vntag.Channel(3, 0x12345), []vntag.VIF{1 << 12}), "20-bit E-CIDs")
	assert.ErrorIs(t, l.SetVIFList(4<<20|300, []vntag.VIF{1}), vis.ErrVIF, "no GRP 4")
	assert.ErrorIs(t, l.SetVIFList(1, make([]vntag.VIF, vic.MaxListMembers+1)), vis.ErrVIF)
	assert.ErrorIs(t, l.SetVIFList(vntag.Channel(2, 1), make([]vntag.VIF, vic.MaxWideListMembers+1)), vis.ErrVIF)
	assert.NoError(t, l.DeleteVIFList(42))

	core := iv.New(iv.Config{Mode: vntag.ModeETag})
	p := bind.NewIVProgrammer(core, iv.FabricA, nil)
	require.NoError(t, p.BindVIF(7, vnic(1, "web", 1), 1))
	for grp := uint8(1); grp <= vntag.MaxGRP; grp++ {
		list := vntag.Channel(grp, 300)
		require.NoError(t, p.SetVIFList(list, []vntag.VIF{7}))
		got, ok := core.VIFList(list)
		require.True(t, ok)
		assert.Equal(t, []vntag.VIF{7}, got)
		require.NoError(t, p.SetVIFList(list, nil))
		_, ok = core.VIFList(list)
		assert.False(t, ok, "no members deletes the list")
	}
}

// TestIVRebind: a VIF bound again to its vNIC is a no-op; a vNIC given
// another VIF moves to a new core port.
func TestIVRebind(t *testing.T) {
	core := iv.New(iv.Config{})
	var ports []int
	p := bind.NewIVProgrammer(core, iv.FabricA, func(_ vic.VNIC, _ vntag.VIF, pn int) { ports = append(ports, pn) })
	n := vnic(1, "web", 1)
	require.NoError(t, p.BindVIF(5, n, 1))
	require.NoError(t, p.BindVIF(5, n, 1))
	assert.Equal(t, []int{iv.FirstVNIC}, ports)
	require.NoError(t, p.BindVIF(6, n, 1))
	_, ok := core.PortOf(5)
	assert.False(t, ok)
	pn, vif, ok := p.Port(n.Instance)
	require.True(t, ok)
	assert.Equal(t, vntag.VIF(6), vif)
	assert.Equal(t, iv.FirstVNIC+1, pn)
	require.NoError(t, p.SetVIFLink(6, false))
	up, _ := p.Link(6)
	assert.False(t, up)
	assert.ErrorIs(t, p.SetVIFLink(9, true), iv.ErrNotFound)
	require.NoError(t, p.UnbindVIF(6))
	require.NoError(t, p.UnbindVIF(6), "unbinding twice is fine")
	_, _, ok = p.Port(n.Instance)
	assert.False(t, ok)
}

// TestVISPark: a vEth unbound is parked, shut, with its counters; bound
// again it comes back up with them; deleted, it leaves the core and the
// store.
func TestVISPark(t *testing.T) {
	store := profile.NewMemStore()
	_, err := store.Update(func(tx *profile.Txn) error { return tx.Configure(profiles) })
	require.NoError(t, err)
	core, err := vis.New(vis.Config{Store: store})
	require.NoError(t, err)
	defer core.Close()
	p, err := bind.NewVISProgrammer(core, store)
	require.NoError(t, err)
	cp, err := core.AddIVPort("iv0", vntag.ModeVNTag, iv.New(iv.Config{}))
	require.NoError(t, err)
	p.AddPort(0, cp)

	require.NoError(t, p.SetVEth(1, vnic(1, "web", 1)))
	parked, ok := p.Parked(1)
	assert.True(t, ok && parked, "a new vEth waits parked for its VIF")
	assert.Equal(t, "web", store.Snapshot().Bindings[1])
	require.NoError(t, p.BindVIF(0, 5, 1))
	parked, _ = p.Parked(1)
	assert.False(t, parked)

	up := func(svif uint16) {
		t.Helper()
		b := frame([6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, mac(1), 1)
		tag, _ := vntagUp(svif)
		f := port.FrameFrom(b)
		out, err := pushTag(f, tag)
		require.NoError(t, err)
		core.Process(cp, []port.Frame{out}, 0, port.NewTx(16, 1<<16))
	}
	up(5)
	c, _ := core.Counters(1)
	require.Equal(t, uint64(1), c.RxFrames)

	require.NoError(t, p.UnbindVIF(0, 5))
	require.NoError(t, p.UnbindVIF(0, 5), "nothing bound there any more")
	parked, _ = p.Parked(1)
	assert.True(t, parked)
	up(5) // VIF 5 is free: unknown
	c2, _ := core.Counters(1)
	assert.Equal(t, c, c2, "a parked vEth keeps its counters and gets nothing")
	show, err := core.ShowInterface(1)
	require.NoError(t, err)
	assert.Contains(t, show, bind.ParkingPort)

	require.NoError(t, p.SetVEthLink(1, false))
	require.NoError(t, p.BindVIF(0, 9, 1))
	up(9)
	c3, _ := core.Counters(1)
	assert.Equal(t, uint64(1), c3.Drops[vis.DropAdminDown], "bound again but its link is down: shut")
	require.NoError(t, p.SetVEthLink(1, true))
	up(9)
	c4, _ := core.Counters(1)
	assert.Equal(t, c.RxFrames+2, c4.RxFrames, "counters kept across the park")
	assert.Equal(t, uint64(1), c4.Drops[vis.DropAdminDown], "up again: admitted")

	require.NoError(t, p.DeleteVEth(1))
	_, ok = core.Counters(1)
	assert.False(t, ok)
	_, ok = store.Snapshot().Bindings[1]
	assert.False(t, ok)
	assert.ErrorIs(t, p.BindVIF(0, 5, 1), vis.ErrNotFound)
	assert.ErrorIs(t, p.SetVEthLink(1, true), vis.ErrNotFound)
}

func vntagUp(svif uint16) (vntag.Tag, error) { return vntag.Upstream(svif) }

func pushTag(f port.Frame, t vntag.Tag) (port.Frame, error) {
	out, err := vntag.Push(f.Buf, f.Off, t)
	if err != nil {
		return f, err
	}
	return port.FrameFrom(out), nil
}

// A profile with max-ports vEths bound is full: the VIS machine must
// refuse a new vEth there (max-ports) instead of allocating one whose
// binding the store then refuses. It failed before ProfileFull: Profiles
// said "enabled" and the 33rd vEth of a default profile was allocated,
// bound to no profile.
func TestProfilesFull(t *testing.T) {
	store := profile.NewMemStore()
	_, err := store.Update(func(tx *profile.Txn) error {
		if err := tx.Configure("port-profile type vethernet two\n  max-ports 2\n  state enabled\n"); err != nil {
			return err
		}
		tx.Bind(1, "two")
		return nil
	})
	require.NoError(t, err)
	p := bind.Profiles{Store: store}
	assert.Equal(t, vic.ProfileEnabled, p.ProfileState("two"))
	_, err = store.Update(func(tx *profile.Txn) error { tx.Bind(2, "two"); return nil })
	require.NoError(t, err)
	assert.Equal(t, vic.ProfileFull, p.ProfileState("two"))
}
