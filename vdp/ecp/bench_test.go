package ecp_test

import (
	"testing"

	"github.com/nivkit/niv/vdp/ecp"
)

var sinkPDU ecp.PDU

// BenchmarkDecode: one 60-byte PE-CSP request frame.
func BenchmarkDecode(b *testing.B) {
	fr, _ := ecp.AppendFrame(nil, ecp.NearestCustomerBridge, station, ecp.Header{Version: 1, Subtype: 2, Seq: 7}, make([]byte, 30), true)
	b.ReportAllocs()
	b.SetBytes(int64(len(fr)))
	for b.Loop() {
		sinkPDU, _ = ecp.Decode(fr)
	}
}

// BenchmarkExchange: one ULPDU through two machines — send, receive
// with its acknowledgement, acknowledgement received.
func BenchmarkExchange(b *testing.B) {
	a, _ := ecp.NewMachine(ecp.DefaultConfig(station))
	c, _ := ecp.NewMachine(ecp.DefaultConfig(bridge))
	payload := make([]byte, 64)
	buf := make([]byte, 0, 1600)
	b.ReportAllocs()
	for b.Loop() {
		tx := a.Handle(ecp.Event{Kind: ecp.EvSend, Subtype: 2, Payload: payload}, t0)
		buf = append(buf[:0], tx[0].Frame...)
		acks := c.Handle(ecp.Event{Kind: ecp.EvFrame, Frame: buf}, t0)
		buf = append(buf[:0], acks[0].Frame...)
		a.Handle(ecp.Event{Kind: ecp.EvFrame, Frame: buf}, t0)
	}
}
