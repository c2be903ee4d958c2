package conformance_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The EVB TLV over LLDP (IEEE 802.1AB; 802.1Qbg D.2.13), built here from
// the field table of ../shared/spec/vdp-ecp.md §5 with this file's own
// encoder — not package vdp/evb's; TestEVBEncoder checks it against §5's
// live lldpad bytes.

// evbTLV is the ratified EVB TLV's five octets after OUI 00-80-C2 and
// subtype 0x0D.
type evbTLV struct {
	bridge, station byte  // the bridge and station status octets
	r, rte          uint8 // ECP: max retries (3 bits), retransmission exponent (5 bits)
	mode            uint8 // 1 EVB Bridge, 2 EVB Station
	rolRWD, rolRKA  bool  // the value came from the peer
	rwd, rka        uint8
}

func (t evbTLV) bytes() []byte {
	m := t.mode<<6 | t.rwd&31
	if t.rolRWD {
		m |= 0x20
	}
	k := t.rka & 31
	if t.rolRKA {
		k |= 0x20
	}
	return tlv(127, 0x00, 0x80, 0xc2, 0x0d, t.bridge, t.station, t.r<<5|t.rte&31, m, k)
}

// lldpDU is an LLDPDU: Chassis ID and Port ID of MAC subtypes (4, 3),
// TTL, the EVB TLV, End.
type lldpDU struct {
	chassis, port mac
	ttl           uint16
	evb           evbTLV
}

func (l lldpDU) bytes() []byte {
	b := tlv(1, append([]byte{4}, l.chassis[:]...)...)
	b = append(b, tlv(2, append([]byte{3}, l.port[:]...)...)...)
	b = append(b, tlv(3, be16(l.ttl)...)...)
	b = append(b, l.evb.bytes()...)
	return append(b, 0, 0)
}

// lldpFrame is the LLDP frame of l from src to the nearest customer
// bridge group address, padded to 60 bytes.
func lldpFrame(src mac, l lldpDU) *fb {
	return &fb{dst: nearestCustomerBridge, src: src, etype: 0x88cc, raw: l.bytes(), pad: true, lldp: &l}
}

// expect renders the fields tshark 4.0.17 decodes of l: the TLV types,
// the MAC IDs, the TTL and the 802.1 subtype of the org TLV. tshark names
// the ratified EVB TLV but does not decode its five octets (vdp-ecp.md
// §5; its lldp.ieee.802_1qbg.* fields are the draft TLV's): they are
// stated in the case's prose and compared byte for byte.
func (l lldpDU) expect() []string {
	return []string{"lldp.tlv.type=1,2,3,127,0",
		fmt.Sprintf("lldp.chassis.id.mac=%v lldp.port.id.mac=%v lldp.time_to_live=%d lldp.orgtlv.oui=%d lldp.ieee.802_1.subtype=13",
			l.chassis, l.port, l.ttl, 0x0080c2)}
}

func (l lldpDU) describe() string {
	e := l.evb
	return fmt.Sprintf("LLDP chassis %v port %v TTL %d, EVB TLV % x (bridge status 0x%02x, station status 0x%02x, R %d, RTE %d, mode %d, RWD %d%s, RKA %d%s)",
		l.chassis, l.port, l.ttl, e.bytes(), e.bridge, e.station, e.r, e.rte, e.mode, e.rwd, rol(e.rolRWD), e.rka, rol(e.rolRKA))
}

func rol(b bool) string {
	if b {
		return " (ROL: the station's)"
	}
	return ""
}

// TestEVBEncoder checks evbTLV against the live lldpad bytes of
// vdp-ecp.md §5 (RTE 14, R 3, RWD 20, RKA 20).
func TestEVBEncoder(t *testing.T) {
	for _, c := range []struct {
		name string
		t    evbTLV
		want string
	}{
		{"bridge before hearing the station", evbTLV{bridge: 0x02, r: 3, rte: 14, mode: 1, rwd: 20, rka: 20}, "fe 09 00 80 c2 0d 02 00 6e 54 14"},
		{"bridge after", evbTLV{bridge: 0x03, station: 0x05, r: 3, rte: 14, mode: 1, rolRWD: true, rwd: 20, rolRKA: true, rka: 20}, "fe 09 00 80 c2 0d 03 05 6e 74 34"},
		{"station", evbTLV{bridge: 0x03, station: 0x05, r: 3, rte: 14, mode: 2, rolRWD: true, rwd: 20, rolRKA: true, rka: 20}, "fe 09 00 80 c2 0d 03 05 6e b4 34"},
	} {
		assert.Equal(t, mustHex(c.want), c.t.bytes(), c.name)
	}
}

// The station's EVB TLV in the LLDP case: RRREQ, RRSTAT 3 (it has heard
// no bridge yet, as lldpad sends it), R 3, RTE 20, mode station, RWD 21
// — one more than the VIS's 20 — and RKA 20; TTL 121 s.
var (
	stEVB  = evbTLV{station: 0x07, r: 3, rte: 20, mode: 2, rwd: 21, rka: 20}
	stLLDP = lldpDU{chassis: macSt1, port: macSt1, ttl: 121, evb: stEVB}
	// TTL 3601: the VIS's agent sends every hour in a case
	// (cores.VDPLLDPInterval), TxHold 1.
	visLLDP = lldpDU{chassis: macVIS, port: macVIS, ttl: 3601,
		// The bridge's reply (lldpad's rule, vdp-ecp.md §5): RRCAP and
		// RRCTR (= RRCAP ∧ the station's RRREQ), the station's octet
		// echoed, R 3 and RTE 20 (the larger of both), mode bridge, RWD
		// 21 from the station (ROL), RKA 20 (equal: ROL, as lldpad).
		evb: evbTLV{bridge: 0x03, station: 0x07, r: 3, rte: 20, mode: 1, rolRWD: true, rwd: 21, rolRKA: true, rka: 20}}
)

func lldpCases() []genCase {
	waitB := vsiReq(vdpAssoc, 7, 1, uuidB, macB, 10)
	return []genCase{{
		name:  "vis-evb-vdp-lldp-evb",
		title: "EVB over LLDP: the VIS answers a station's EVB TLV with the negotiated one, and the negotiated RWD then times VDP's resource wait",
		desc: "The VIS runs an LLDP agent on its evb ports with the bridge's EVB TLV (setup: control-plane vdp ... lldp; " +
			"RRCAP, R 3, RTE 20, RWD 20, RKA 20). The station on evb1 sends its LLDPDU: chassis and port ID its MAC, TTL " +
			"121, EVB TLV 00 07 74 95 14 (RRREQ, RRSTAT 3: no bridge heard yet; R 3, RTE 20; mode station, RWD 21; RKA " +
			"20). The VIS answers at once (802.1AB: what it sends changed) with its LLDPDU — chassis and port ID " +
			"02:00:00:00:00:f0, TTL 3601 (the case's agent sends hourly) — carrying the negotiated EVB TLV 03 07 74 75 34: " +
			"RRCAP and RRCTR (RRCAP ∧ the station's RRREQ), the station's status octet echoed, R 3 and RTE 20 (the " +
			"larger of each), mode bridge, RWD 21 with ROL (the station's, larger), RKA 20 with ROL (equal: taken " +
			"from the station, as lldpad does) (vdp-ecp.md §5; vdp/evb.Negotiate). The station then associates VM B " +
			"with VSI type 7, whose VSI manager the VIS cannot reach (vsi-manager unreachable): the VIS acknowledges " +
			"and has the resource wait delay, now 10 µs × 2^21 = 20.97 s by the negotiated RWD (it would be 10.49 s " +
			"at its own 20), to answer. 11 s later (advance 11s) it has not answered; 22 s after the request " +
			"(advance 11s) it answers 0x43 (code 3, unable to contact VSI manager; no Keep, B had no state). tshark " +
			"names the EVB TLV but does not decode its octets (vdp-ecp.md §5): the expected LLDPDU states the TLV " +
			"types, IDs, TTL, OUI and 802.1 subtype; the EVB octets are as described and compared byte for byte " +
			"(TestVDPLLDPNegotiated checks the agent's state)." + vdpDesc,
		behaviours: []string{"evb", "vdp", "ecp"},
		setup: "device vis\nport evb1 evb\nport evb2 evb\nport up1 uplink\ncontrol-plane vdp mac 02:00:00:00:00:f0 lldp\n" +
			"vsi-manager unreachable vsi-type 7 version 1\nafter 3 advance 11s\nafter 3 advance 11s\n",
		profile: vdpProfiles,
		in: []gf{on("evb1", lldpFrame(macSt1, stLLDP).say("the station's LLDPDU with its EVB TLV")),
			on("evb1", stReq(macSt1, 1, waitB, "Associate VSI b2522f3c-… type 7 version 1 (its VSI manager unreachable), MAC "+macB.String()+" VID 10")),
			on("evb1", stAck(macSt1, 1))},
		want: []gf{on("evb1", lldpFrame(macVIS, visLLDP)), on("evb1", visVDPAck(1)),
			on("evb1", visVDP(1, waitB.response(3, false, false)))},
	}}
}
