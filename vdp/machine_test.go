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

// TestRefusals: the bridge's Decider refuses; without Keep the station
// ends the VSI with the code (what lldpad prints as "Error returned by
// Bridge"), with Keep an existing association stays. Invalid requests
// are answered with code 1 or 5 without asking the Decider.
func TestRefusals(t *testing.T) {
	var asked int
	dec := vdp.Decision{Code: vdp.CodeInsufficientResources}
	br := vdp.NewBridge(vdp.BridgeConfig{Ports: 1, Timers: tm, Decider: vdp.DecideFunc(func(port int, m vdp.ManagerID, v *vdp.VSI) vdp.Decision {
		asked++
		if v.TypeID == 5 && v.Mode == vdp.TypeAssociate && dec.Code == 0 {
			return vdp.Decision{}
		}
		return dec
	})})
	st := vdp.NewStation(vdp.StationConfig{Timers: tm})
	acts := toBridge(t, br, 0, st.Handle(vdp.Event{Kind: vdp.EvRequest, ManagerID: mgrA, VSI: assocReq(vdp.TypeAssociate, 100)}, t0), t0)
	resp := sends(acts)
	require.Len(t, resp, 1)
	var p vdp.PDU
	require.NoError(t, p.Decode(resp[0]))
	assert.Equal(t, vdp.Status(0x42), p.VSIs[0].Status, "L6: response, insufficient resources")
	ss := states(toStation(st, acts, 0, t0))
	require.Len(t, ss, 1)
	assert.Zero(t, ss[0].Mode)
	assert.Equal(t, vdp.CodeInsufficientResources, ss[0].Code)
	assert.Zero(t, st.Len())

	// Associate admitted, then a Pre-Associate-RR refused with Keep:
	// the association stays on both sides.
	dec = vdp.Decision{}
	acts = toBridge(t, br, 0, st.Handle(vdp.Event{Kind: vdp.EvRequest, ManagerID: mgrA, VSI: assocReq(vdp.TypeAssociate, 100)}, t0), t0)
	toStation(st, acts, 0, t0)
	dec = vdp.Decision{Code: vdp.CodeOtherFailure, Keep: true, Hard: true}
	// A station may not go down from Associate: refused locally.
	acts = st.Handle(vdp.Event{Kind: vdp.EvRequest, ManagerID: mgrA, VSI: assocReq(vdp.TypePreAssociateRR, 100)}, t0)
	require.Len(t, acts, 1)
	assert.ErrorIs(t, acts[0].Err, vdp.ErrDowngrade)
	// Send it by hand, as another implementation might.
	raw := vdp.PDU{ManagerID: mgrA, VSIs: []vdp.VSI{*assocReq(vdp.TypePreAssociateRR, 100)}}
	b, _ := raw.AppendBinary(nil)
	acts = br.Handle(vdp.Event{Kind: vdp.EvPDU, PDU: b}, t0)
	require.NoError(t, p.Decode(sends(acts)[0]))
	assert.Equal(t, vdp.Status(0x74), p.VSIs[0].Status, "response, Keep, Hard error, code 4")
	e, ok := br.VSI(0, vdp.VSIIDUUID, uuidL1)
	require.True(t, ok, "Keep: the association stays")
	assert.Equal(t, vdp.TypeAssociate, e.Mode)

	// Invalid filter (group MAC): code 5, Decider not asked.
	n := asked
	bad := assocReq(vdp.TypeAssociate, 100)
	bad.ID[0] ^= 1
	bad.Filters[0].MAC[0] = 1
	raw = vdp.PDU{ManagerID: mgrA, VSIs: []vdp.VSI{*bad}}
	b, _ = raw.AppendBinary(nil)
	require.NoError(t, p.Decode(sends(br.Handle(vdp.Event{Kind: vdp.EvPDU, PDU: b}, t0))[0]))
	assert.Equal(t, vdp.CodeInvalidFilter, p.VSIs[0].Status.Code())
	assert.Equal(t, n, asked)
	assert.EqualValues(t, 3, br.Counters().Refused)
}

// TestWildcard: VID 0 is filled in by the Decider's VID and PCP; the
// station adopts them (lldpad's RETURN_VID) and its keep-alives carry
// them, which the bridge takes as keep-alives.
func TestWildcard(t *testing.T) {
	br := vdp.NewBridge(vdp.BridgeConfig{Ports: 1, Timers: tm, Decider: vdp.DecideFunc(func(int, vdp.ManagerID, *vdp.VSI) vdp.Decision {
		return vdp.Decision{VID: 200, PCP: 3}
	})})
	st := vdp.NewStation(vdp.StationConfig{Timers: tm})
	acts := toBridge(t, br, 0, st.Handle(vdp.Event{Kind: vdp.EvRequest, ManagerID: mgrA, VSI: assocReq(vdp.TypeAssociate, 0)}, t0), t0)
	var p vdp.PDU
	require.NoError(t, p.Decode(sends(acts)[0]))
	assert.Equal(t, uint16(0x30c8), p.VSIs[0].Filters[0].Word(), "S2: VID 200, PCP 3")
	ss := states(toStation(st, acts, 0, t0))
	require.Len(t, ss, 1)
	assert.Equal(t, vdp.Filter{MAC: [6]byte{0x52, 0x54, 0, 0x8e, 0xaa, 0x11}, PCP: 3, VID: 200}, ss[0].Filters[0])
	now, _ := st.Deadline()
	ka := st.Handle(vdp.Event{Kind: vdp.EvTimer}, now)
	require.NoError(t, p.Decode(sends(ka)[0]))
	assert.EqualValues(t, 200, p.VSIs[0].Filters[0].VID)
	toBridge(t, br, 0, ka, now)
	assert.EqualValues(t, 1, br.Counters().KeepAlives)
}

// TestKeepAliveExpiry: a bridge that hears nothing for
// 1.5×((2R+1)·10·2^RTE + 10·2^RKA) µs de-associates and sends an
// unsolicited De-Associate (status 0, lldpad-peer.md); the station ends
// the VSI on it.
func TestKeepAliveExpiry(t *testing.T) {
	br := vdp.NewBridge(vdp.BridgeConfig{Ports: 1, Timers: tm})
	st := vdp.NewStation(vdp.StationConfig{Timers: tm})
	acts := toBridge(t, br, 0, st.Handle(vdp.Event{Kind: vdp.EvRequest, ManagerID: mgrA, VSI: assocReq(vdp.TypeAssociate, 100)}, t0), t0)
	toStation(st, acts, 0, t0)
	d, _ := br.Deadline()
	assert.Empty(t, br.Handle(vdp.Event{Kind: vdp.EvTimer}, d.Add(-time.Nanosecond)))
	acts = br.Handle(vdp.Event{Kind: vdp.EvTimer}, d)
	out := sends(acts)
	require.Len(t, out, 1)
	var p vdp.PDU
	require.NoError(t, p.Decode(out[0]))
	assert.Equal(t, vdp.TypeDeAssociate, p.VSIs[0].Mode)
	assert.Zero(t, p.VSIs[0].Status)
	bs := states(acts)
	require.Len(t, bs, 1)
	assert.Equal(t, vdp.ReasonKeepAlive, bs[0].Reason)
	ss := states(toStation(st, acts, 0, d))
	require.Len(t, ss, 1)
	assert.Equal(t, vdp.ReasonUnsolicited, ss[0].Reason)
	assert.Zero(t, st.Len())
}

// TestResponseTimeout: no response within the wait ends the VSI.
func TestResponseTimeout(t *testing.T) {
	st := vdp.NewStation(vdp.StationConfig{Timers: tm})
	st.Handle(vdp.Event{Kind: vdp.EvRequest, ManagerID: mgrA, VSI: assocReq(vdp.TypeAssociate, 100)}, t0)
	acts := st.Handle(vdp.Event{Kind: vdp.EvRequest, ManagerID: mgrA, VSI: assocReq(vdp.TypeAssociate, 100)}, t0)
	assert.ErrorIs(t, acts[0].Err, vdp.ErrBusy)
	d, _ := st.Deadline()
	ss := states(st.Handle(vdp.Event{Kind: vdp.EvTimer}, d))
	require.Len(t, ss, 1)
	assert.Equal(t, vdp.ReasonTimeout, ss[0].Reason)
	assert.Zero(t, st.Len())
	acts = st.Handle(vdp.Event{Kind: vdp.EvRequest, ManagerID: mgrA, VSI: assocReq(vdp.TypeDeAssociate, 100)}, d)
	assert.ErrorIs(t, acts[0].Err, vdp.ErrUnknownVSI)
}

// TestMigration: pre-associate (with the M hint) on the destination port
// while associated on the source, then associate there: the bridge moves
// the binding, tells the source station with an unsolicited
// De-Associate, and the VSI's counters follow it.
func TestMigration(t *testing.T) {
	br := vdp.NewBridge(vdp.BridgeConfig{Ports: 2, Timers: tm})
	src := vdp.NewStation(vdp.StationConfig{Timers: tm})
	dst := vdp.NewStation(vdp.StationConfig{Timers: tm})
	toStation(src, toBridge(t, br, 0, src.Handle(vdp.Event{Kind: vdp.EvRequest, ManagerID: mgrA, VSI: assocReq(vdp.TypeAssociate, 100)}, t0), t0), 0, t0)
	pre := assocReq(vdp.TypePreAssociateRR, 100)
	pre.Status = vdp.StatusMigrateTo
	toStation(dst, toBridge(t, br, 1, dst.Handle(vdp.Event{Kind: vdp.EvRequest, ManagerID: mgrA, VSI: pre}, t0), t0), 1, t0)
	e, _ := br.VSI(1, vdp.VSIIDUUID, uuidL1)
	assert.Equal(t, vdp.TypePreAssociateRR, e.Mode)
	e, _ = br.VSI(0, vdp.VSIIDUUID, uuidL1)
	assert.Equal(t, vdp.TypeAssociate, e.Mode, "pre-association elsewhere does not move the binding")

	acts := toBridge(t, br, 1, dst.Handle(vdp.Event{Kind: vdp.EvRequest, ManagerID: mgrA, VSI: assocReq(vdp.TypeAssociate, 100)}, t0), t0)
	bs := states(acts)
	require.Len(t, bs, 2)
	assert.Equal(t, [2]int{0, 1}, [2]int{bs[0].Port, bs[1].Port})
	assert.Equal(t, vdp.ReasonMigrated, bs[0].Reason)
	assert.Equal(t, vdp.TypeAssociate, bs[1].Mode)
	ss := states(toStation(src, acts, 0, t0))
	require.Len(t, ss, 1)
	assert.Equal(t, vdp.ReasonUnsolicited, ss[0].Reason)
	toStation(dst, acts, 1, t0)
	_, ok := br.VSI(0, vdp.VSIIDUUID, uuidL1)
	assert.False(t, ok)
	e, ok = br.VSI(1, vdp.VSIIDUUID, uuidL1)
	require.True(t, ok)
	assert.EqualValues(t, 1, e.Counters.Migrations)
	assert.EqualValues(t, 3, e.Counters.Requests, "the source's request and the destination's two")
	v, ok := dst.VSI(vdp.VSIIDUUID, uuidL1)
	require.True(t, ok)
	assert.Equal(t, vdp.TypeAssociate, v.Mode)
	// The source's late De-Associate does not touch the new binding.
	raw := vdp.PDU{ManagerID: mgrA, VSIs: []vdp.VSI{*assocReq(vdp.TypeDeAssociate, 100)}}
	b, _ := raw.AppendBinary(nil)
	br.Handle(vdp.Event{Kind: vdp.EvPDU, Port: 0, PDU: b}, t0)
	_, ok = br.VSI(1, vdp.VSIIDUUID, uuidL1)
	assert.True(t, ok)
}

// TestMachinesNoAllocs: associate and de-associate through both machines
// without allocating once their tables have grown.
func TestMachinesNoAllocs(t *testing.T) {
	br := vdp.NewBridge(vdp.BridgeConfig{Ports: 1, Timers: tm})
	st := vdp.NewStation(vdp.StationConfig{Timers: tm})
	a, d := assocReq(vdp.TypeAssociate, 100), assocReq(vdp.TypeDeAssociate, 100)
	buf := make([]byte, 0, 256)
	cycle := func(v *vdp.VSI) {
		for _, x := range st.Handle(vdp.Event{Kind: vdp.EvRequest, ManagerID: mgrA, VSI: v}, t0) {
			buf = append(buf[:0], x.PDU...)
			for _, y := range br.Handle(vdp.Event{Kind: vdp.EvPDU, PDU: buf}, t0) {
				if y.Kind == vdp.ActSend {
					buf = append(buf[:0], y.PDU...)
					st.Handle(vdp.Event{Kind: vdp.EvPDU, PDU: buf}, t0)
				}
			}
		}
	}
	cycle(a)
	cycle(d)
	assert.Zero(t, testing.AllocsPerRun(1000, func() { cycle(a); cycle(d) }))
	assert.Zero(t, st.Len())
}

// TestPendingDecision: a Decider that defers; the bridge answers when
// EvDecision comes, ignores the station's requests meanwhile, and when
// the resource wait delay (10·2^RWD µs) passes first answers code 3
// ("unable to contact VSI manager"), with Keep for a VSI that had been
// granted a state.
func TestPendingDecision(t *testing.T) {
	br := vdp.NewBridge(vdp.BridgeConfig{Ports: 1, Timers: tm, Decider: vdp.DecideFunc(func(int, vdp.ManagerID, *vdp.VSI) vdp.Decision {
		return vdp.Decision{Pending: true}
	})})
	st := vdp.NewStation(vdp.StationConfig{Timers: tm})
	acts := toBridge(t, br, 0, st.Handle(vdp.Event{Kind: vdp.EvRequest, ManagerID: mgrA, VSI: assocReq(vdp.TypeAssociate, 0)}, t0), t0)
	assert.Empty(t, acts, "nothing sent until the decision")
	d, ok := br.Deadline()
	require.True(t, ok)
	assert.Equal(t, tm.BridgeResourceWait(), d.Sub(t0))
	e, _ := br.VSI(0, vdp.VSIIDUUID, uuidL1)
	assert.True(t, e.Pending)
	assert.Zero(t, e.Mode)

	acts = br.Handle(vdp.Event{Kind: vdp.EvDecision, Port: 0, VSI: assocReq(vdp.TypeAssociate, 0), Decision: vdp.Decision{VID: 300}}, t0.Add(time.Second))
	ss := states(toStation(st, acts, 0, t0.Add(time.Second)))
	require.Len(t, ss, 1)
	assert.Equal(t, vdp.TypeAssociate, ss[0].Mode)
	assert.EqualValues(t, 300, ss[0].Filters[0].VID)

	// A Pre-Associate-RR for the associated VSI, deferred and never
	// answered: Keep, code 3; the association stays.
	raw := vdp.PDU{ManagerID: mgrA, VSIs: []vdp.VSI{*assocReq(vdp.TypePreAssociateRR, 300)}}
	b, _ := raw.AppendBinary(nil)
	assert.Empty(t, br.Handle(vdp.Event{Kind: vdp.EvPDU, PDU: b}, t0.Add(2*time.Second)))
	assert.Empty(t, br.Handle(vdp.Event{Kind: vdp.EvPDU, PDU: b}, t0.Add(2*time.Second)), "a retry while pending is ignored")
	acts = br.Handle(vdp.Event{Kind: vdp.EvTimer}, t0.Add(2*time.Second+tm.BridgeResourceWait()))
	var p vdp.PDU
	require.NoError(t, p.Decode(sends(acts)[0]))
	assert.Equal(t, vdp.ResponseStatus(vdp.CodeNoVSIManager, true, false), p.VSIs[0].Status)
	e, ok = br.VSI(0, vdp.VSIIDUUID, uuidL1)
	require.True(t, ok)
	assert.Equal(t, vdp.TypeAssociate, e.Mode)
	assert.EqualValues(t, 1, br.Counters().ResourceTimeouts)
	assert.EqualValues(t, 1, br.Counters().BusyIgnored)

	// A new VSI never answered: code 3 without Keep, gone.
	other := assocReq(vdp.TypeAssociate, 100)
	other.ID[0]++
	raw = vdp.PDU{ManagerID: mgrA, VSIs: []vdp.VSI{*other}}
	b, _ = raw.AppendBinary(nil)
	now := t0.Add(3 * time.Second) // the association's keep-alive timeout is at 18.4 s
	br.Handle(vdp.Event{Kind: vdp.EvPDU, PDU: b}, now)
	acts = br.Handle(vdp.Event{Kind: vdp.EvTimer}, now.Add(tm.BridgeResourceWait()))
	require.NoError(t, p.Decode(sends(acts)[0]))
	assert.Equal(t, vdp.ResponseStatus(vdp.CodeNoVSIManager, false, false), p.VSIs[0].Status)
	assert.Empty(t, states(acts), "it was never granted: no state change to report")
	_, ok = br.VSI(0, vdp.VSIIDUUID, other.ID)
	assert.False(t, ok)
}

// TestTaken: a bridge told that another bridge took a VSI (EvTaken) ends
// it with an unsolicited De-Associate, reason ReasonTaken, which the
// station takes as the bridge's own De-Associate; a VSI it does not have
// on that port is left alone.
func TestTaken(t *testing.T) {
	br := vdp.NewBridge(vdp.BridgeConfig{Ports: 2, Timers: tm})
	st := vdp.NewStation(vdp.StationConfig{Timers: tm})
	toStation(st, toBridge(t, br, 0, st.Handle(vdp.Event{Kind: vdp.EvRequest, ManagerID: mgrA, VSI: assocReq(vdp.TypeAssociate, 100)}, t0), t0), 0, t0)
	_, ok := st.VSI(vdp.VSIIDUUID, uuidL1)
	require.True(t, ok)

	assert.Empty(t, br.Handle(vdp.Event{Kind: vdp.EvTaken, Port: 1, VSI: &vdp.VSI{IDFormat: vdp.VSIIDUUID, ID: uuidL1}}, t0), "not on port 1")
	assert.Empty(t, br.Handle(vdp.Event{Kind: vdp.EvTaken, Port: 0}, t0), "no VSI named")
	acts := br.Handle(vdp.Event{Kind: vdp.EvTaken, Port: 0, VSI: &vdp.VSI{IDFormat: vdp.VSIIDUUID, ID: uuidL1}}, t0)
	acts = append([]vdp.Action(nil), acts...)
	for i := range acts {
		acts[i].PDU = append([]byte(nil), acts[i].PDU...)
	}
	bs := states(acts)
	require.Len(t, bs, 1)
	assert.Zero(t, bs[0].Mode)
	assert.Equal(t, vdp.ReasonTaken, bs[0].Reason)
	assert.Equal(t, "taken by another bridge", bs[0].Reason.String())
	require.Len(t, sends(acts), 1)
	var pdu vdp.PDU
	require.NoError(t, pdu.Decode(sends(acts)[0]))
	require.Len(t, pdu.VSIs, 1)
	assert.Equal(t, vdp.TypeDeAssociate, pdu.VSIs[0].Mode)
	assert.EqualValues(t, 0, pdu.VSIs[0].Status, "DEASSOCIATED: the bridge's own")
	_, ok = br.VSI(0, vdp.VSIIDUUID, uuidL1)
	assert.False(t, ok)
	assert.EqualValues(t, 1, br.Counters().Taken)
	ss := states(toStation(st, acts, 0, t0))
	require.Len(t, ss, 1)
	assert.Equal(t, vdp.ReasonUnsolicited, ss[0].Reason)
	_, ok = st.VSI(vdp.VSIIDUUID, uuidL1)
	assert.False(t, ok)
}
