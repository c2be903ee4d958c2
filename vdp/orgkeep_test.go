package vdp_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vdp"
)

// TestBridgeKeepsOrgBytes: the org TLVs a bridge holds for a granted VSI
// are its own copy, not the received PDU's buffer: after the buffer is
// reused, the unsolicited De-Associate at the keep-alive timeout still
// carries the org TLV as the station sent it.
func TestBridgeKeepsOrgBytes(t *testing.T) {
	br := vdp.NewBridge(vdp.BridgeConfig{Timers: tm})
	org, err := vdp.ProfileOrg("vm10")
	require.NoError(t, err)
	req := assocReq(vdp.TypeAssociate, 100)
	req.Org = []vdp.Org{org}
	p := vdp.PDU{ManagerID: mgrA, VSIs: []vdp.VSI{*req}}
	buf, err := p.AppendBinary(nil)
	require.NoError(t, err)
	acts := br.Handle(vdp.Event{Kind: vdp.EvPDU, PDU: buf}, t0)
	require.Len(t, sends(acts), 1)
	for i := range buf {
		buf[i] = 0xEE // the receive buffer is reused
	}
	acts = br.Handle(vdp.Event{Kind: vdp.EvTimer}, t0.Add(tm.BridgeKeepAlive()))
	out := sends(acts)
	require.Len(t, out, 1, "the unsolicited De-Associate")
	var got vdp.PDU
	require.NoError(t, got.Decode(out[0]))
	require.Len(t, got.VSIs, 1)
	assert.Equal(t, vdp.TypeDeAssociate, got.VSIs[0].Mode)
	require.Len(t, got.VSIs[0].Org, 1)
	name, ok := got.VSIs[0].Org[0].Profile()
	assert.True(t, ok)
	assert.Equal(t, "vm10", string(name))
}

// TestStationKeepsOrgBytes: the org TLVs a station holds for a VSI are its
// own copy, not the caller's: after the caller reuses the bytes of its
// request, the keep-alive still carries the org TLV as first requested.
func TestStationKeepsOrgBytes(t *testing.T) {
	st := vdp.NewStation(vdp.StationConfig{Timers: tm})
	br := vdp.NewBridge(vdp.BridgeConfig{Timers: tm})
	org, err := vdp.ProfileOrg("vm10")
	require.NoError(t, err)
	org.Data = append([]byte(nil), org.Data...) // the caller's buffer
	req := assocReq(vdp.TypeAssociate, 100)
	req.Org = []vdp.Org{org}
	out := sends(st.Handle(vdp.Event{Kind: vdp.EvRequest, ManagerID: mgrA, VSI: req}, t0))
	require.Len(t, out, 1)
	replies := sends(br.Handle(vdp.Event{Kind: vdp.EvPDU, PDU: out[0]}, t0))
	require.Len(t, replies, 1)
	st.Handle(vdp.Event{Kind: vdp.EvPDU, PDU: replies[0]}, t0)
	v, ok := st.VSI(req.IDFormat, req.ID)
	require.True(t, ok)
	require.Equal(t, vdp.TypeAssociate, v.Mode)
	for i := range org.Data {
		org.Data[i] = 0xEE // the caller reuses its request's bytes
	}
	out = sends(st.Handle(vdp.Event{Kind: vdp.EvTimer}, t0.Add(tm.StationKeepAlive())))
	require.Len(t, out, 1, "the keep-alive")
	var got vdp.PDU
	require.NoError(t, got.Decode(out[0]))
	require.Len(t, got.VSIs, 1)
	require.Len(t, got.VSIs[0].Org, 1)
	name, ok := got.VSIs[0].Org[0].Profile()
	assert.True(t, ok)
	assert.Equal(t, "vm10", string(name))
}
