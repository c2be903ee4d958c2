package vdp_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vdp"
)

var (
	t0   = time.Unix(1_000_000, 0)
	mgrA = vdp.ManagerIDFromString("niv")
	tm   = vdp.Timers{R: 3, RTE: 14, RWD: 20, RKA: 20}
)

func assocReq(mode vdp.TLVType, vid uint16) *vdp.VSI {
	return &vdp.VSI{Mode: mode, TypeID: 5, TypeVersion: 4, IDFormat: vdp.VSIIDUUID, ID: uuidL1,
		FilterFormat: vdp.FilterMACVID, Filters: []vdp.Filter{{MAC: [6]byte{0x52, 0x54, 0, 0x8e, 0xaa, 0x11}, VID: vid}}}
}

func sends(acts []vdp.Action) [][]byte {
	var out [][]byte
	for _, a := range acts {
		if a.Kind == vdp.ActSend {
			out = append(out, append([]byte(nil), a.PDU...))
		}
	}
	return out
}

func states(acts []vdp.Action) []vdp.Action {
	var out []vdp.Action
	for _, a := range acts {
		if a.Kind == vdp.ActState || a.Kind == vdp.ActRefused {
			a.Filters = append([]vdp.Filter(nil), a.Filters...)
			out = append(out, a)
		}
	}
	return out
}

// pass hands every ActSend of from to the other machine and returns its
// actions.
func toBridge(t *testing.T, br *vdp.Bridge, port int, acts []vdp.Action, now time.Time) []vdp.Action {
	var all []vdp.Action
	for _, p := range sends(acts) {
		for _, a := range br.Handle(vdp.Event{Kind: vdp.EvPDU, Port: port, PDU: p}, now) {
			a.PDU = append([]byte(nil), a.PDU...)
			a.Filters = append([]vdp.Filter(nil), a.Filters...)
			all = append(all, a)
		}
	}
	return all
}

func toStation(st *vdp.Station, acts []vdp.Action, port int, now time.Time) []vdp.Action {
	var all []vdp.Action
	for _, a := range acts {
		if a.Kind != vdp.ActSend || a.Port != port {
			continue
		}
		for _, x := range st.Handle(vdp.Event{Kind: vdp.EvPDU, PDU: a.PDU}, now) {
			x.PDU = append([]byte(nil), x.PDU...)
			x.Filters = append([]vdp.Filter(nil), x.Filters...)
			all = append(all, x)
		}
	}
	return all
}

// TestAssociateKeepAliveDeAssociate: the lldpad recipe's exchange between
// niv's two machines — the station's request is lldpad's L1 bytes, the
// bridge's response L3's; keep-alives every 10·2^RKA µs keep the VSI;
// De-Associate ends it on both sides.
func TestAssociateKeepAliveDeAssociate(t *testing.T) {
	st := vdp.NewStation(vdp.StationConfig{Timers: tm})
	br := vdp.NewBridge(vdp.BridgeConfig{Ports: 1, Timers: tm})
	now := t0
	acts := st.Handle(vdp.Event{Kind: vdp.EvRequest, ManagerID: vdp.ManagerIDFromString("blabla"), VSI: assocReq(vdp.TypeAssociate, 100)}, now)
	req := sends(acts)
	require.Len(t, req, 1)
	assert.Equal(t, unhex(t, specPDUs[0].hex), req[0], "the request is lldpad's L1")
	d, ok := st.Deadline()
	require.True(t, ok)
	assert.Equal(t, 17448960*time.Microsecond, d.Sub(now), "response wait 1.5×(7×10·2^14 + 10·2^20) µs")

	bacts := toBridge(t, br, 0, acts, now)
	resp := sends(bacts)
	require.Len(t, resp, 1)
	assert.Equal(t, unhex(t, specPDUs[1].hex), resp[0], "the response is lldpad's L3")
	bs := states(bacts)
	require.Len(t, bs, 1)
	assert.Equal(t, vdp.TypeAssociate, bs[0].Mode)
	d, _ = br.Deadline()
	assert.Equal(t, 17448960*time.Microsecond, d.Sub(now), "bridge keep-alive timeout")

	ss := states(toStation(st, bacts, 0, now))
	require.Len(t, ss, 1)
	assert.Equal(t, vdp.TypeAssociate, ss[0].Mode)
	d, _ = st.Deadline()
	assert.Equal(t, 10485760*time.Microsecond, d.Sub(now), "keep-alive period 10·2^20 µs")

	for range 5 {
		now, _ = st.Deadline()
		acts = st.Handle(vdp.Event{Kind: vdp.EvTimer}, now)
		ka := sends(acts)
		require.Len(t, ka, 1)
		assert.Equal(t, req[0], ka[0], "a keep-alive is the same request again")
		bacts = toBridge(t, br, 0, acts, now)
		assert.Empty(t, states(bacts), "a keep-alive changes nothing at the bridge")
		assert.Empty(t, states(toStation(st, bacts, 0, now)), "nor at the station")
	}
	e, ok := br.VSI(0, vdp.VSIIDUUID, uuidL1)
	require.True(t, ok)
	assert.EqualValues(t, 6, e.Counters.Requests)
	assert.EqualValues(t, 5, e.Counters.KeepAlives)
	assert.EqualValues(t, 5, br.Counters().KeepAlives)

	acts = st.Handle(vdp.Event{Kind: vdp.EvRequest, ManagerID: vdp.ManagerIDFromString("blabla"), VSI: assocReq(vdp.TypeDeAssociate, 100)}, now)
	bacts = toBridge(t, br, 0, acts, now)
	bs = states(bacts)
	require.Len(t, bs, 1)
	assert.Zero(t, bs[0].Mode)
	assert.Equal(t, vdp.ReasonDeAssociate, bs[0].Reason)
	ss = states(toStation(st, bacts, 0, now))
	require.Len(t, ss, 1)
	assert.Zero(t, ss[0].Mode)
	assert.Zero(t, st.Len())
	assert.Zero(t, br.Len())
	_, ok = br.Deadline()
	assert.False(t, ok)
}
