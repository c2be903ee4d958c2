package conformance_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/conformance"
	"github.com/nivkit/niv/conformance/cores"
	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vdp"
	"github.com/nivkit/niv/vic/vis"
)

// runOnCores runs case name on niv's cores and returns the device as it
// is after the last frame.
func runOnCores(t *testing.T, name string) (*cores.Target, *cores.Device) {
	t.Helper()
	c, err := conformance.Load("testdata/" + name)
	require.NoError(t, err)
	lib := &cores.Target{}
	t.Cleanup(lib.Close)
	res := (&conformance.Runner{Target: lib}).Run(c)
	require.NoError(t, res.Err)
	require.True(t, res.Pass, "%v\n%s", res.Diff, res.State)
	return lib, lib.Device()
}

func vsiA() (vdp.VSIIDFormat, vdp.VSIID) { return vdp.VSIIDUUID, vdp.VSIID(instA) }

func portDrops(t *testing.T, d *cores.Device, name string) [vis.NumDrops]uint64 {
	t.Helper()
	p, ok := d.PortNumber(name)
	require.True(t, ok)
	c, ok := d.VIS().PortCounters(p)
	require.True(t, ok)
	return c.Drops
}

// firstVEth is the id of the first vEth bind.EVBPlane creates (its
// EVBConfig.FirstVEth default).
const firstVEth profile.VEthID = 1 << 24

// TestVDPMigrateKeepsVEth checks, after vis-evb-vdp-migrate, what the
// wire cannot show: A's VSI kept its vEth across the move (the first and
// only one the plane made), now bound on evb2, with the counters of both
// ports — the broadcast before the move and the one after — while the
// frame it sent on evb1 after the move was dropped there as an unknown
// VSI.
func TestVDPMigrateKeepsVEth(t *testing.T) {
	_, d := runOnCores(t, "vis-evb-vdp-migrate")
	id, ok := d.EVBPlane().VEth(vsiA())
	require.True(t, ok, "A's VSI has a vEth")
	assert.Equal(t, firstVEth, id, "the vEth made at the first Associate")
	v, ok := d.VIS().VSIOf(id)
	require.True(t, ok)
	evb2, _ := d.PortNumber("evb2")
	assert.Equal(t, evb2, v.Port)
	assert.Equal(t, uint16(10), v.VID)
	c, ok := d.VIS().Counters(id)
	require.True(t, ok)
	assert.Equal(t, uint64(2), c.RxFrames, "one broadcast on evb1 before the move, one on evb2 after")
	assert.Equal(t, uint64(1), portDrops(t, d, "evb1")[vis.DropUnknownVSI], "A's frame on evb1 after the move")
	d.EVBPlane().Runner().Do(func(br *vdp.Bridge) {
		assert.Equal(t, 1, br.Len(), "one VSIID, one VSI")
		f, vid := vsiA()
		e, ok := br.VSI(1, f, vid)
		require.True(t, ok, "held on evb2 (the bridge's port 1)")
		assert.Equal(t, uint64(1), e.Counters.Migrations)
		assert.Equal(t, uint64(1), br.Counters().Migrations)
	})
}

// TestVDPRefusedDrops checks, after vis-evb-vdp-refused, that nothing was
// bound and that A's two frames were counted as unknown VSIs.
func TestVDPRefusedDrops(t *testing.T) {
	_, d := runOnCores(t, "vis-evb-vdp-refused")
	_, ok := d.EVBPlane().VEth(vsiA())
	assert.False(t, ok)
	assert.Equal(t, uint64(2), portDrops(t, d, "evb1")[vis.DropUnknownVSI])
	d.EVBPlane().Runner().Do(func(br *vdp.Bridge) {
		assert.Zero(t, br.Len())
		assert.Equal(t, uint64(2), br.Counters().Refused)
	})
}

// TestVDPDeassociateRemovesVEth checks, after vis-evb-vdp-deassociate,
// that the vEth is gone and A's last frame was counted as an unknown VSI.
func TestVDPDeassociateRemovesVEth(t *testing.T) {
	_, d := runOnCores(t, "vis-evb-vdp-deassociate")
	_, ok := d.EVBPlane().VEth(vsiA())
	assert.False(t, ok)
	_, ok = d.VIS().VSIOf(firstVEth)
	assert.False(t, ok, "the vEth was removed from the core")
	assert.Equal(t, uint64(1), portDrops(t, d, "evb1")[vis.DropUnknownVSI])
}

// TestVDPDuplicateOnce checks, after vis-evb-vdp-ecp-duplicate, that ECP
// counted the duplicate and VDP saw the Associate once and the keep-alive
// once.
func TestVDPDuplicateOnce(t *testing.T) {
	_, d := runOnCores(t, "vis-evb-vdp-ecp-duplicate")
	cn := d.EVBPlane().Speaker(0).Counters()
	assert.Equal(t, uint64(1), cn.RxDuplicates)
	assert.Equal(t, uint64(3), cn.TxAcks, "both copies and the keep-alive acknowledged")
	d.EVBPlane().Runner().Do(func(br *vdp.Bridge) {
		assert.Equal(t, uint64(2), br.Counters().PDUsIn, "the Associate once, the keep-alive once")
		assert.Equal(t, uint64(1), br.Counters().KeepAlives)
		assert.Equal(t, uint64(1), br.Counters().Admitted)
	})
}

// TestVDPKeepAliveExpiryRemovesVEth checks, after
// vis-evb-vdp-keepalive-expiry, that the bridge counted one expiry and
// the vEth is gone.
func TestVDPKeepAliveExpiryRemovesVEth(t *testing.T) {
	_, d := runOnCores(t, "vis-evb-vdp-keepalive-expiry")
	_, ok := d.EVBPlane().VEth(vsiA())
	assert.False(t, ok)
	assert.Equal(t, uint64(1), portDrops(t, d, "evb1")[vis.DropUnknownVSI])
	d.EVBPlane().Runner().Do(func(br *vdp.Bridge) {
		assert.Equal(t, uint64(1), br.Counters().Expired)
		assert.Equal(t, uint64(1), br.Counters().KeepAlives)
	})
	assert.Zero(t, d.EVBPlane().Speaker(0).Counters().Retransmits, "every answer was acknowledged in time")
}

// TestVDPRetransmitOnce checks, after vis-evb-vdp-ecp-retransmit, that
// the VIS retransmitted once and VDP answered once.
func TestVDPRetransmitOnce(t *testing.T) {
	_, d := runOnCores(t, "vis-evb-vdp-ecp-retransmit")
	assert.Equal(t, uint64(1), d.EVBPlane().Speaker(0).Counters().Retransmits)
	d.EVBPlane().Runner().Do(func(br *vdp.Bridge) { assert.Equal(t, uint64(1), br.Counters().PDUsOut) })
}

// TestVDPPreAssociateNoVEth checks, after vis-evb-vdp-preassociate, that
// the VSI got its vEth only with the Associate, and the frame sent while
// pre-associated was dropped as an unknown VSI.
func TestVDPPreAssociateNoVEth(t *testing.T) {
	_, d := runOnCores(t, "vis-evb-vdp-preassociate")
	id, ok := d.EVBPlane().VEth(vsiA())
	require.True(t, ok)
	assert.Equal(t, firstVEth, id)
	c, _ := d.VIS().Counters(id)
	assert.Equal(t, uint64(1), c.RxFrames)
	assert.Equal(t, uint64(1), portDrops(t, d, "evb1")[vis.DropUnknownVSI])
}
