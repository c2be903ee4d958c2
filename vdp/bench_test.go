package vdp_test

import (
	"testing"

	"github.com/nivkit/niv/vdp"
	"github.com/nivkit/niv/vdp/ecp"
)

var sinkPDU vdp.PDU

// BenchmarkDecode: lldpad's Associate request (L1, 53 bytes, one MAC/VID
// entry), decoded into a reused PDU.
func BenchmarkDecode(b *testing.B) {
	buf := unhex(b, specPDUs[0].hex)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if err := sinkPDU.Decode(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeFourEntries: GroupID/MAC/VID with four entries and a
// port-profile org TLV.
func BenchmarkDecodeFourEntries(b *testing.B) {
	v := vdp.VSI{Mode: vdp.TypeAssociate, TypeID: 7, IDFormat: vdp.VSIIDUUID, ID: uuidL1, FilterFormat: vdp.FilterGroupMACVID}
	for i := range 4 {
		v.Filters = append(v.Filters, vdp.Filter{GroupID: uint32(i + 1), MAC: [6]byte{2, 0, 0, 0, 0, byte(i)}, VID: uint16(10 + i)})
	}
	o, _ := vdp.ProfileOrg("web")
	v.Org = []vdp.Org{o}
	p := vdp.PDU{VSIs: []vdp.VSI{v}}
	buf, _ := p.AppendBinary(nil)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if err := sinkPDU.Decode(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncode: the L1 request appended to a reused buffer.
func BenchmarkEncode(b *testing.B) {
	p := specPDUs[0].want
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = p.AppendBinary(buf[:0])
	}
}

// BenchmarkAssociations: VSI associations end to end in memory — station
// machine, ECP machine, ECP machine, bridge machine and back: the
// Associate request, its ECP acknowledgement, the bridge's response and
// its acknowledgement, then the same for the De-Associate. One op is one
// association and its de-association (8 ECP frames, 4 VDPDUs).
func BenchmarkAssociations(b *testing.B) {
	st := vdp.NewStation(vdp.StationConfig{Timers: tm})
	br := vdp.NewBridge(vdp.BridgeConfig{Ports: 1, Timers: tm})
	cs := ecp.DefaultConfig([6]byte{2, 0, 0, 0, 0, 1})
	se, _ := ecp.NewMachine(cs)
	cs.Addr[5] = 2
	be, _ := ecp.NewMachine(cs)
	var frame, pdu []byte
	frame, pdu = make([]byte, 0, 256), make([]byte, 0, 256)
	// through carries one VDPDU from a VDP machine's ECP to the peer's and
	// returns the peer's delivery, with both acknowledgements done.
	through := func(from, to *ecp.Machine, payload []byte) []byte {
		for _, a := range from.Handle(ecp.Event{Kind: ecp.EvSend, Subtype: ecp.SubtypeVDP, Payload: payload}, t0) {
			frame = append(frame[:0], a.Frame...)
		}
		for _, a := range to.Handle(ecp.Event{Kind: ecp.EvFrame, Frame: frame}, t0) {
			switch a.Kind {
			case ecp.ActDeliver:
				pdu = append(pdu[:0], a.Payload...)
			case ecp.ActTransmit:
				from.Handle(ecp.Event{Kind: ecp.EvFrame, Frame: a.Frame}, t0)
			}
		}
		return pdu
	}
	cycle := func(v *vdp.VSI) {
		for _, a := range st.Handle(vdp.Event{Kind: vdp.EvRequest, ManagerID: mgrA, VSI: v}, t0) {
			req := through(se, be, a.PDU)
			for _, r := range br.Handle(vdp.Event{Kind: vdp.EvPDU, PDU: req}, t0) {
				if r.Kind == vdp.ActSend {
					st.Handle(vdp.Event{Kind: vdp.EvPDU, PDU: through(be, se, r.PDU)}, t0)
				}
			}
		}
	}
	a, d := assocReq(vdp.TypeAssociate, 100), assocReq(vdp.TypeDeAssociate, 100)
	cycle(a)
	cycle(d)
	b.ReportAllocs()
	for b.Loop() {
		cycle(a)
		cycle(d)
	}
	if st.Len() != 0 || br.Counters().Admitted < uint64(b.N) {
		b.Fatalf("station %d VSIs, bridge %+v", st.Len(), br.Counters())
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "assoc/s")
}
