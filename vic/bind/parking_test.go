package bind_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/bind"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

// A parked vEth holds an E-CID of the parking port, an E-Tag port of the
// real core, whose E-CIDs are 1-MaxECID (20 bits). SetVEth gives each new
// vEth the E-CID after the last one given, cycling through that range and
// skipping those live vEths hold, so that creating and deleting vEths
// never runs out of them. Here the counter starts 100 below the top and
// 3,000 vEths are created and deleted across the wrap, while three vEths
// created first hold E-CIDs 1-3 and one created near the top holds its
// E-CID throughout; every vEth is created, parked, bound and deleted on
// the real core.
func TestParkingECIDsCycle(t *testing.T) {
	store := profile.NewMemStore()
	_, err := store.Update(func(tx *profile.Txn) error { return tx.Configure(profiles) })
	require.NoError(t, err)
	core, err := vis.New(vis.Config{Store: store, MACTableSize: 1024})
	require.NoError(t, err)
	t.Cleanup(core.Close)
	p, err := bind.NewVISProgrammer(core, store)
	require.NoError(t, err)
	cp, err := core.AddIVPort("iv", vntag.ModeETag, bind.NewLists())
	require.NoError(t, err)
	p.AddPort(0, cp)
	web := vic.VNIC{Profile: "web", Up: true}
	for id := uint32(1); id <= 3; id++ {
		require.NoError(t, p.SetVEth(id, web), "vEth %d holds E-CID %d", id, id)
	}
	p.SetNextPark(vntag.MaxECID - 100)
	require.NoError(t, p.SetVEth(4, web))
	for i := range 3000 {
		id := uint32(100 + i)
		require.NoError(t, p.SetVEth(id, web), "cycle %d", i)
		parked, ok := p.Parked(id)
		require.True(t, ok && parked, "cycle %d", i)
		if i%500 == 0 {
			// A vEth can still be bound and parked again.
			require.NoError(t, p.BindVIF(0, 7, id))
			require.NoError(t, p.UnbindVIF(0, 7))
		}
		require.NoError(t, p.DeleteVEth(id), "cycle %d", i)
	}
	for id := uint32(1); id <= 4; id++ {
		parked, ok := p.Parked(id)
		assert.True(t, ok && parked, "vEth %d", id)
		require.NoError(t, p.BindVIF(0, vntag.VIF(10+id), id), "vEth %d", id)
	}
}
