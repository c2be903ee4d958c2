package vic_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vic"
)

// TestNewVEthID (and VISTakeAway): with VISConfig.NewVEthID (a fleet's vEth registry) a new
// vEth takes the id it gives, not the table's next; when it fails, the
// VIF-alloc is refused (insufficient resources, max-ports), the VIF id
// goes back to the port, and the IV's next request gets a vEth.
func TestNewVEthID(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ids := map[vic.UUID]uint32{{1}: 1000, {2}: 77}
	var down bool
	cfg := vic.VISConfig{Session: 2, NewVEthID: func(n vic.VNIC) (uint32, error) {
		if down {
			return 0, errors.New("registry unreachable")
		}
		return ids[n.Instance], nil
	}}
	iv := vic.NewIVMachine(vic.IVConfig{Session: 1, MaxVIFs: 2})
	vis := vic.NewVISMachine(cfg, nil, now)
	l := newLockstep(t, iv, vis, now)
	ask := func(k byte) vic.Action {
		return l.ask(vic.VNIC{Instance: vic.UUID{k}, Profile: "web", Epoch: 1})
	}
	a := ask(1)
	assert.Equal(t, vic.ResultSuccess, a.Result)
	assert.Equal(t, uint32(1000), a.VEth)

	down = true
	a = ask(2)
	assert.Equal(t, vic.ResultInsufficientResources, a.Result)
	assert.Equal(t, vic.ReasonMaxPorts, a.Reason)
	assert.Equal(t, 1, vis.Table().Len())

	down = false
	a = ask(2) // the refused request's VIF was freed: MaxVIFs 2 still fits it
	assert.Equal(t, vic.ResultSuccess, a.Result)
	assert.Equal(t, uint32(77), a.VEth)
	assert.Equal(t, uint32(1000), vis.Table().Next(), "Next is the highest id given")

	// Another VIS of the fleet took vNIC 1's vEth (its VM moved there):
	// it is unbound here and the IV told (VIF-remove), the vEth record
	// kept.
	acts := vis.Handle(vic.VISEvent{Kind: vic.VISTakeAway, Instance: vic.UUID{1}, Epoch: 2}, now)
	var unbound []uint32
	for _, a := range acts {
		if a.Kind == vic.ActVISUnbind {
			unbound = append(unbound, a.VEth)
		}
	}
	assert.Equal(t, []uint32{1000}, unbound)
	l.pump(acts, false)
	x, ok := iv.VNIC(vic.UUID{1})
	require.True(t, ok)
	assert.Equal(t, vic.VIFMoved, x.State, "the IV let go of it")
	r, ok := vis.Table().Get(vic.UUID{1})
	require.True(t, ok)
	assert.False(t, r.Bound)
	assert.Equal(t, uint32(1000), r.ID)
	// An instance this VIS does not have, or has unbound: nothing.
	assert.Empty(t, vis.Handle(vic.VISEvent{Kind: vic.VISTakeAway, Instance: vic.UUID{9}}, now))
	for _, a := range vis.Handle(vic.VISEvent{Kind: vic.VISTakeAway, Instance: vic.UUID{1}}, now) {
		assert.NotEqual(t, vic.ActVISUnbind, a.Kind)
	}
}

// TestNewVEthIDPending: a NewVEthID that answers ErrIDPending (its
// registry's round trip under way) leaves the VIF-alloc unanswered and
// the machine free: other instances get their vEths meanwhile, and a
// retransmission of the waiting request waits too. At VISIDReady the
// waiting VIF-alloc is handled again and answered with the id; an
// instance with nothing waiting, or a second VISIDReady, does nothing.
func TestNewVEthIDPending(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ready := map[vic.UUID]uint32{{2}: 77}
	asked := map[vic.UUID]int{}
	cfg := vic.VISConfig{Session: 2, NewVEthID: func(n vic.VNIC) (uint32, error) {
		asked[n.Instance]++
		if id, ok := ready[n.Instance]; ok {
			return id, nil
		}
		return 0, vic.ErrIDPending
	}}
	iv := vic.NewIVMachine(vic.IVConfig{Session: 1, MaxVIFs: 2})
	vis := vic.NewVISMachine(cfg, nil, now)
	l := newLockstep(t, iv, vis, now)
	l.status = nil
	l.pump(iv.Handle(vic.IVEvent{Kind: vic.IVRequest, VNIC: vic.VNIC{Instance: vic.UUID{1}, Profile: "web", Epoch: 1}}, now), true)
	assert.Empty(t, l.status, "no answer while the id is pending")
	assert.Equal(t, 0, vis.Table().Len())

	a := l.ask(vic.VNIC{Instance: vic.UUID{2}, Profile: "web", Epoch: 1})
	assert.Equal(t, vic.ResultSuccess, a.Result)
	assert.Equal(t, uint32(77), a.VEth, "another instance is served meanwhile")

	// The IV retransmits the waiting request after its timeout.
	of1 := func() []vic.Action {
		var out []vic.Action
		for _, a := range l.status {
			if a.VNIC.Instance == (vic.UUID{1}) {
				out = append(out, a)
			}
		}
		l.status = nil
		return out
	}
	l.now = now.Add(time.Second)
	l.pump(iv.Handle(vic.IVEvent{Kind: vic.IVTimer}, l.now), true)
	assert.Empty(t, of1())
	assert.Equal(t, 2, asked[vic.UUID{1}])

	ready[vic.UUID{1}] = 1000
	l.pump(vis.Handle(vic.VISEvent{Kind: vic.VISIDReady, Instance: vic.UUID{1}}, l.now), false)
	got := of1()
	require.Len(t, got, 1)
	assert.Equal(t, vic.ResultSuccess, got[0].Result)
	assert.Equal(t, uint32(1000), got[0].VEth)
	r, ok := vis.Table().Get(vic.UUID{1})
	require.True(t, ok)
	assert.True(t, r.Bound)
	assert.Equal(t, 2, vis.Table().Len())

	l.pump(vis.Handle(vic.VISEvent{Kind: vic.VISIDReady, Instance: vic.UUID{1}}, l.now), false)
	l.pump(vis.Handle(vic.VISEvent{Kind: vic.VISIDReady, Instance: vic.UUID{9}}, l.now), false)
	assert.Empty(t, of1())
	assert.Equal(t, 3, asked[vic.UUID{1}])
}
