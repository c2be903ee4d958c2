package conformance_test

import "fmt"

// More VDP cases, on the encoder and topology of vdp_cases_test.go:
// Pre-Associate with resource reservation, the request hints, the ECP
// failure after the last retransmission, and organizationally defined
// TLVs (niv's port-profile TLV and another organization's).

// vdpProfilesOnePort is vdpProfiles with vm10 at max-ports 1: one VSI of
// type 5 version 4 at a time.
const vdpProfilesOnePort = `
port-profile type vethernet vm10
  switchport mode access
  switchport access vlan 10
  vdp vsi-type 5 version 4
  max-ports 1
  state enabled
port-profile type vethernet vm20
  switchport mode access
  switchport access vlan 20
  vdp vsi-type 6 version 1
  state enabled
`

// orgIANA is an organizationally defined TLV's value of an organization
// the VIS knows nothing of: OUI 00-00-5E and four bytes.
var orgIANA = []byte{0x00, 0x00, 0x5e, 0x01, 0x02, 0x03, 0x04}

// orgNivProfile is the value of niv's port-profile TLV naming name
// (vdp/org.go: OUI 0A-6E-76, subtype 1, the name).
func orgNivProfile(name string) []byte { return append([]byte{0x0a, 0x6e, 0x76, 0x01}, name...) }

func vdpMoreCases() []genCase {
	okA := assocA.withVID(10).response(0, false, false)
	sayA := fmt.Sprintf("Associate VSI a1412857-… (type 5 version 4 → vm10), MAC %v VID 0 (wildcard)", macA)
	aBcast10 := frame(bcast, macA).vlan(10).say("A broadcasts, VID 10 on the link")

	hintM := assocA
	hintM.vsi.status = 0x10 // M: the VSI's user is migrating (to this station)
	hintS := assocA.withVID(10)
	hintS.vsi.status = 0x20 // S: the VSI's user is suspended (lldpad: migrating away)

	orgA := vsiReq(vdpAssoc, 99, 1, instA, macA, 0)
	orgA.org = [][]byte{orgNivProfile("vm20"), orgIANA}
	// The station on evb2 sends the other organization's TLV with bytes
	// of its own (05 06 07 08).
	orgA2 := orgA.withVID(20)
	orgA2.org = [][]byte{orgNivProfile("vm20"), {0x00, 0x00, 0x5e, 0x05, 0x06, 0x07, 0x08}}

	waitA := vsiReq(vdpAssoc, 7, 1, instA, macA, 10)
	waitB := vsiReq(vdpAssoc, 7, 1, uuidB, macB, 10)
	return []genCase{{
		name:  "vis-evb-vdp-resource-wait",
		title: "VDP: a request the bridge cannot decide in the resource wait delay is answered \"unable to contact VSI manager\"",
		desc: "The VIS cannot reach the VSI manager of VSI type 7 version 1 (setup: vsi-manager unreachable): it " +
			"must ask it before deciding a request of that type (802.1Qbg 41.1), and it has the resource wait " +
			"delay, 10 µs × 2^RWD = 10.49 s at the case's RWD 20, to answer (41.5.5.7; vdp-ecp.md §4). The " +
			"station associates VM A (type 5 version 4, vm10; VID 10 for the wildcard), and A's broadcast goes out " +
			"of up1. It then asks to associate A as type 7: the VIS acknowledges the ECP request and answers " +
			"nothing until the delay has passed (the step advance 11s), then status 0x63: response, Keep, error " +
			"code 3, unable to contact VSI manager — Keep because A had been granted a state, which stays " +
			"(lldpad's bridge: PROCESS → KEEP on the resource timeout). A's next broadcast still goes out of up1. " +
			"Then the station associates VM B as type 7: acknowledged, and after the delay answered 0x43 (code 3, " +
			"no Keep: B had no state, DEASSOCIATED); B's broadcast is dropped (vis.DropUnknownVSI). " +
			"TestVDPResourceWaitTimesOut checks the counters." + vdpDesc,
		behaviours: []string{"evb", "vdp", "ecp", "anti-spoof", "flooding"},
		setup:      vdpSetup + "vsi-manager unreachable vsi-type 7 version 1\nafter 4 advance 11s\nafter 7 advance 11s\n", profile: vdpProfiles,
		in: cat(vdpAssocIn(1, assocA, sayA, 1), []gf{on("evb1", aBcast10),
			on("evb1", stReq(macSt1, 2, waitA, "Associate VSI a1412857-… as type 7 version 1 (its VSI manager unreachable), MAC "+macA.String()+" VID 10")),
			on("evb1", stAck(macSt1, 2)), on("evb1", aBcast10.say("A broadcasts after the refusal with Keep")),
			on("evb1", stReq(macSt1, 3, waitB, "Associate VSI b2522f3c-… type 7 version 1, MAC "+macB.String()+" VID 10")),
			on("evb1", stAck(macSt1, 3)), on("evb1", frame(bcast, macB).vlan(10).say("B broadcasts, VID 10"))}),
		want: cat(vdpAssocOut(1, okA, 1), []gf{on("up1", frame(bcast, macA).vlan(10)),
			on("evb1", visVDPAck(2)), on("evb1", visVDP(2, waitA.response(3, true, false))),
			on("up1", frame(bcast, macA).vlan(10)),
			on("evb1", visVDPAck(3)), on("evb1", visVDP(3, waitB.response(3, false, false)))}),
	}, {
		name:  "vis-evb-vdp-preassociate-rr",
		title: "VDP: Pre-Associate with resource reservation holds the profile's port for the VSI, which then associates",
		desc: "Profile vm10 (VSI type 5 version 4) has max-ports 1. The station on evb1 pre-associates VM A with " +
			"resource reservation (a Pre-Associate-RR TLV, type 2: the bridge reserves the resources the VSI " +
			"needs so that its Associate will succeed, 802.1Qbg 41.1, 41.2; wildcard VID). The VIS answers " +
			"Pre-Associate-RR with status 0x40 and the VID filled with 10, and holds vm10's one port for A. A's " +
			"broadcast is dropped: a pre-associated VSI is not associated with the port yet (vis.DropUnknownVSI). " +
			"The station then associates VM B with the same VSI type: refused with status 0x42 (error code 2, " +
			"insufficient resources — vm10's port is A's), no Keep bit, as B had no state before. Then it " +
			"associates A with the VID it got: answered Associate, 0x40, and A's next broadcast goes out of up1. " +
			"tshark shows nothing of a Pre-Associate-RR TLV's body (vdp-ecp.md §6, mis-decode 3): its expected " +
			"frame states the TLV types and lengths and the Manager ID only; the body is as described and " +
			"compared byte for byte (TestVDPPreAssociateRRReserves checks the reservation)." + vdpDesc,
		behaviours: []string{"evb", "vdp", "ecp", "anti-spoof", "flooding"},
		setup:      vdpSetup, profile: vdpProfilesOnePort,
		in: cat(vdpAssocIn(1, assocA.mode(vdpPreAssocRR), "Pre-Associate-RR VSI a1412857-… (type 5 version 4 → vm10), MAC "+macA.String()+" VID 0 (wildcard)", 1),
			[]gf{on("evb1", aBcast10.say("A broadcasts while pre-associated"))},
			vdpAssocIn(2, assocB, fmt.Sprintf("Associate VSI b2522f3c-… (type 5 version 4 → vm10), MAC %v VID 10", macB), 2),
			vdpAssocIn(3, assocA.withVID(10), "Associate VSI a1412857-…, MAC "+macA.String()+" VID 10", 3),
			[]gf{on("evb1", aBcast10.say("A broadcasts, associated"))}),
		want: cat(vdpAssocOut(1, okA.mode(vdpPreAssocRR), 1),
			vdpAssocOut(2, assocB.response(2, false, false), 2),
			vdpAssocOut(3, okA, 3),
			[]gf{on("up1", frame(bcast, macA).vlan(10))}),
	}, {
		name:  "vis-evb-vdp-hints",
		title: "VDP: the M and S hints of a request change nothing in the answer, and a hinted keep-alive is a keep-alive",
		desc: "The station on evb1 associates VM A with the M bit set (status 0x10: the VSI's user is migrating to " +
			"this station; vdptool hints=to), as a hypervisor does at the end of a move. The hints are the " +
			"station's guidance to the bridge, not a different request (802.1Qbg 41.2.3; vdp-ecp.md §3): the VIS " +
			"answers as for any Associate, status 0x40 — in a response the same two bits are Keep and Hard " +
			"error, so it echoes neither — with the wildcard filled with 10, and A's broadcast goes out of up1. " +
			"The station then refreshes A with the S bit set (status 0x20: the VSI's user is suspended; vdptool " +
			"hints=from, migrating away) and the VID it was granted: the same VSI in the mode granted, a keep-alive " +
			"(vdp-ecp.md §4), answered 0x40 as before; A stays associated and its next broadcast goes out of up1 " +
			"(TestVDPHintsKeepAlive checks it was counted as a keep-alive)." + vdpDesc,
		behaviours: []string{"evb", "vdp", "ecp", "keepalive", "flooding"},
		setup:      vdpSetup, profile: vdpProfiles,
		in: cat(vdpAssocIn(1, hintM, sayA+", M bit (migrating to this station)", 1), []gf{on("evb1", aBcast10)},
			vdpAssocIn(2, hintS, "the same Associate with the VID granted and the S bit (suspended), a keep-alive", 2),
			[]gf{on("evb1", aBcast10.say("A broadcasts after the hinted keep-alive"))}),
		want: cat(vdpAssocOut(1, okA, 1), []gf{on("up1", frame(bcast, macA).vlan(10))},
			vdpAssocOut(2, okA, 2), []gf{on("up1", frame(bcast, macA).vlan(10))}),
	}, {
		name:  "vis-evb-vdp-ecp-failure",
		title: "VDP over ECP: the VIS gives up on an answer after R retransmissions; the VSI stays, and ECP goes on with the next PDU",
		desc: "The station associates VM A and never acknowledges the VIS's answer (ECP sequence 1). Each time the " +
			"ECP acknowledgement timer, 10 µs × 2^RTE = 10.49 s at the case's RTE 20, expires (the steps advance " +
			"11s), the VIS sends the same PDU again: 3 times, R at the case's R 3, 4 transmissions in all. At the " +
			"fourth expiry it has used its retries and drops the PDU, sending nothing more (802.1Qbg 43.3.6; " +
			"vdp-ecp.md §2: retries > maxRetries → ERROR, the PDU dropped, the error counted). ECP does not tell " +
			"VDP (§2), and the bridge's VSI is not ended by it: A is associated until its keep-alive timeout " +
			"(125.83 s after the request), and its broadcast goes out of up1. The station's keep-alive (ECP " +
			"sequence 2) is acknowledged and answered as the VIS's next PDU, sequence 2, which the station " +
			"acknowledges (TestVDPECPFailureCounted checks the counters)." + vdpDesc,
		behaviours: []string{"evb", "vdp", "ecp", "keepalive", "flooding"},
		setup:      vdpSetup + "after 1 advance 11s\nafter 1 advance 11s\nafter 1 advance 11s\nafter 1 advance 11s\n", profile: vdpProfiles,
		in: cat([]gf{on("evb1", stReq(macSt1, 1, assocA, sayA)), on("evb1", aBcast10.say("A broadcasts, 44 s later"))},
			vdpAssocIn(2, assocA.withVID(10), "the same Associate with the VID granted, a keep-alive", 2)),
		want: []gf{on("evb1", visVDPAck(1)), on("evb1", visVDP(1, okA)), on("evb1", visVDP(1, okA)), on("evb1", visVDP(1, okA)),
			on("evb1", visVDP(1, okA)), on("up1", frame(bcast, macA).vlan(10)),
			on("evb1", visVDPAck(2)), on("evb1", visVDP(2, okA))},
	}, {
		name:  "vis-evb-vdp-org-tlv",
		title: "VDP: niv's port-profile TLV picks the VSI's profile; organizationally defined TLVs come back as they were sent, also in the De-Associate of a migration",
		desc: "The station on evb1 associates VM A with VSI type 99 version 1, which no port-profile maps, and two " +
			"organizationally defined TLVs (type 127, 802.1Qbg 41.2.9) after the VSI TLV: niv's port-profile TLV " +
			"(OUI 0A-6E-76, subtype 1, the name \"vm20\"; go doc github.com/nivkit/niv/vdp.NivOUI) and one of an " +
			"organization the VIS knows nothing of (OUI 00-00-5E, bytes 01 02 03 04). The profile named wins " +
			"over the VSI type: A gets vm20, its wildcard filled with vm20's access VLAN 20, status 0x40. The " +
			"response carries both org TLVs back as they came, in their order (lldpad's bridge echoes them too; " +
			"vdp-ecp.md §3). tshark decodes each org TLV's OUI (vdp21.org_oui, printed as a number). A's " +
			"broadcast then carries VID 20 and goes out of up1 in VLAN 20. A then moves to the host behind evb2, " +
			"whose station associates it with VID 20, niv's TLV and the other organization's TLV with bytes of " +
			"its own (05 06 07 08): the VIS answers on evb2 with evb2's TLVs, and sends evb1's station the " +
			"unsolicited De-Associate (status 0x00) of the VSI as it was granted there, with evb1's org TLVs as " +
			"they were sent (01 02 03 04; TestBridgeKeepsOrgBytes: the bridge keeps its own copy of them)." + vdpDesc,
		behaviours: []string{"evb", "vdp", "ecp", "migration", "flooding"},
		setup:      vdpSetup, profile: vdpProfiles,
		in: cat(vdpAssocIn(1, orgA, "Associate VSI a1412857-… type 99 version 1 with niv's port-profile TLV \"vm20\" and an org TLV of OUI 00-00-5E, MAC "+macA.String()+" VID 0 (wildcard)", 1),
			[]gf{on("evb1", frame(bcast, macA).vlan(20).say("A broadcasts, VID 20 on the link")),
				on("evb2", stReq(macSt2, 1, orgA2, "the station on evb2: the same Associate with VID 20, its own org TLV bytes")),
				on("evb2", stAck(macSt2, 1)), on("evb1", stAck(macSt1, 2))}),
		want: cat(vdpAssocOut(1, orgA.withVID(20).response(0, false, false), 1),
			[]gf{on("up1", frame(bcast, macA).vlan(20)),
				on("evb2", visVDPAck(1)), on("evb1", visVDP(2, orgA.withVID(20).mode(vdpDeAssoc).unsolicited())),
				on("evb2", visVDP(1, orgA2.response(0, false, false)))}),
	}}
}
