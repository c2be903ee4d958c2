package fuzz

import (
	"math/rand/v2"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/nivkit/niv/vdp"
)

var machineIDs = []vdp.VSIID{{1}, {2}, {3}}

func drawVSI(t *rapid.T) vdp.VSI {
	ff := vdp.FilterFormat(rapid.IntRange(1, 4).Draw(t, "filter format"))
	v := vdp.VSI{
		Mode:         vdp.TLVType(rapid.IntRange(1, 4).Draw(t, "mode")),
		Status:       vdp.Status(rapid.IntRange(0, 255).Draw(t, "status")),
		TypeID:       uint32(rapid.IntRange(1, 3).Draw(t, "type")),
		IDFormat:     vdp.VSIIDUUID,
		ID:           machineIDs[rapid.IntRange(0, len(machineIDs)-1).Draw(t, "id")],
		FilterFormat: ff,
	}
	for range rapid.IntRange(1, 3).Draw(t, "entries") {
		f := vdp.Filter{VID: uint16(rapid.IntRange(0, 4095).Draw(t, "vid")), PCP: uint8(rapid.IntRange(0, 7).Draw(t, "pcp"))}
		if ff.HasMAC() {
			f.MAC = [6]byte{byte(rapid.IntRange(0, 3).Draw(t, "mac")), 0, 0, 0, 0, 1}
		}
		if ff.HasGroup() {
			f.GroupID = uint32(rapid.IntRange(0, 2).Draw(t, "group"))
		}
		v.Filters = append(v.Filters, f)
	}
	return v
}

func drawPDU(t *rapid.T) []byte {
	p := vdp.PDU{ManagerID: vdp.ManagerIDFromString("m"), VSIs: []vdp.VSI{drawVSI(t)}}
	b, err := p.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	if rapid.Bool().Draw(t, "corrupt") {
		i := rapid.IntRange(0, len(b)-1).Draw(t, "at")
		b[i] ^= byte(rapid.IntRange(1, 255).Draw(t, "xor"))
		b = b[:rapid.IntRange(0, len(b)).Draw(t, "cut")]
	}
	return b
}

// bridgeProperty: a two-port Bridge fed drawn requests (valid, invalid,
// corrupted), timer steps, decisions and EvTaken never panics, never holds a VSIID associated
// on two ports, answers only with VDPDUs that decode, and every TLV it
// sends is a response or an unsolicited De-Associate.
func bridgeProperty(t *rapid.T) {
	refuse := rapid.IntRange(0, 5).Draw(t, "refuse code")
	br := vdp.NewBridge(vdp.BridgeConfig{Ports: 2, Timers: vdp.Timers{R: 1, RTE: 4, RWD: 8, RKA: 8}, MaxVSIs: 4,
		Decider: vdp.DecideFunc(func(port int, _ vdp.ManagerID, v *vdp.VSI) vdp.Decision {
			switch v.TypeID {
			case 3:
				return vdp.Decision{Code: vdp.ErrorCode(refuse), Keep: port == 1}
			case 2:
				return vdp.Decision{Pending: true}
			}
			return vdp.Decision{VID: 7}
		})})
	now := time.Unix(0, 0)
	var p vdp.PDU
	for range rapid.IntRange(1, 60).Draw(t, "steps") {
		var acts []vdp.Action
		switch rapid.IntRange(0, 6).Draw(t, "op") {
		case 0:
			now = now.Add(time.Duration(rapid.IntRange(0, 20000).Draw(t, "µs")) * time.Microsecond)
			acts = br.Handle(vdp.Event{Kind: vdp.EvTimer}, now)
		case 1:
			v := drawVSI(t)
			acts = br.Handle(vdp.Event{Kind: vdp.EvDecision, Port: rapid.IntRange(0, 1).Draw(t, "port"), VSI: &v,
				Decision: vdp.Decision{Code: vdp.ErrorCode(rapid.IntRange(0, 5).Draw(t, "code")), Keep: rapid.Bool().Draw(t, "keep"), VID: 9}}, now)
		case 2:
			// Another bridge took a VSI (EvTaken): it is gone from that port.
			v := drawVSI(t)
			port := rapid.IntRange(0, 1).Draw(t, "port")
			acts = br.Handle(vdp.Event{Kind: vdp.EvTaken, Port: port, VSI: &v}, now)
			if _, ok := br.VSI(port, v.IDFormat, v.ID); ok {
				t.Fatalf("VSI %x still on port %d after EvTaken", v.ID[:1], port)
			}
		default:
			acts = br.Handle(vdp.Event{Kind: vdp.EvPDU, Port: rapid.IntRange(0, 1).Draw(t, "port"), PDU: drawPDU(t)}, now)
		}
		for _, a := range acts {
			if a.Kind != vdp.ActSend {
				continue
			}
			if err := p.Decode(a.PDU); err != nil {
				t.Fatalf("bridge sent a VDPDU that does not decode: %v", err)
			}
			for _, v := range p.VSIs {
				if !v.Status.Response() && !(v.Mode == vdp.TypeDeAssociate && v.Status == 0) {
					t.Fatalf("bridge sent %v with status %#x", v.Mode, v.Status)
				}
			}
		}
		seen := map[vdp.VSIID]int{}
		br.Each(func(e *vdp.BridgeVSI) {
			if e.Mode == vdp.TypeAssociate {
				seen[e.VSI.ID]++
				if seen[e.VSI.ID] > 1 {
					t.Fatalf("VSI %x associated on two ports", e.VSI.ID[:1])
				}
			}
		})
		if br.Len() > 4 {
			t.Fatalf("table holds %d VSIs, limit 4", br.Len())
		}
	}
}

// stationProperty: a Station fed drawn local requests, drawn bridge
// VDPDUs and timer steps never panics, sends only requests (response bit
// clear) that decode, and never holds more VSIs than its limit.
func stationProperty(t *rapid.T) {
	st := vdp.NewStation(vdp.StationConfig{Timers: vdp.Timers{R: 1, RTE: 4, RWD: 8, RKA: 8}, MaxVSIs: 2})
	now := time.Unix(0, 0)
	var p vdp.PDU
	for range rapid.IntRange(1, 60).Draw(t, "steps") {
		var acts []vdp.Action
		switch rapid.IntRange(0, 2).Draw(t, "op") {
		case 0:
			now = now.Add(time.Duration(rapid.IntRange(0, 20000).Draw(t, "µs")) * time.Microsecond)
			acts = st.Handle(vdp.Event{Kind: vdp.EvTimer}, now)
		case 1:
			v := drawVSI(t)
			acts = st.Handle(vdp.Event{Kind: vdp.EvRequest, ManagerID: vdp.ManagerIDFromString("m"), VSI: &v}, now)
		case 2:
			acts = st.Handle(vdp.Event{Kind: vdp.EvPDU, PDU: drawPDU(t)}, now)
		}
		for _, a := range acts {
			if a.Kind != vdp.ActSend {
				continue
			}
			if err := p.Decode(a.PDU); err != nil {
				t.Fatalf("station sent a VDPDU that does not decode: %v", err)
			}
			if p.VSIs[0].Status.Response() || p.VSIs[0].Check() != nil {
				t.Fatalf("station sent %+v", p.VSIs[0])
			}
		}
		if st.Len() > 2 {
			t.Fatalf("station holds %d VSIs", st.Len())
		}
	}
}

// TestVDPMachineProperties runs both properties with rapid (100 cases
// each); the Fuzz targets below run them under the fuzzer.
func TestVDPMachineProperties(t *testing.T) {
	rapid.Check(t, bridgeProperty)
	rapid.Check(t, stationProperty)
}

// rapidStreams are seeds for rapid.MakeFuzz targets: pseudo-random bit
// streams long enough that a property draws all it wants from them (an
// input that runs out is skipped by rapid).
func rapidStreams(f *testing.F, n int) {
	for i := range n {
		r := rand.New(rand.NewPCG(uint64(i), 0x766470))
		b := make([]byte, 64<<10)
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		f.Add(b)
	}
}

func FuzzVDPBridge(f *testing.F) {
	rapidStreams(f, 4)
	f.Fuzz(rapid.MakeFuzz(bridgeProperty))
}

func FuzzVDPStation(f *testing.F) {
	rapidStreams(f, 4)
	f.Fuzz(rapid.MakeFuzz(stationProperty))
}
