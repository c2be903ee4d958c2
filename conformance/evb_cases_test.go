package conformance_test

// The evb topology: two evb ports toward edge relays (hypervisors' VEPAs,
// IEEE 802.1Qbg), no NIV tag. Behind evb1, VM A's VSI is untagged and VM
// B's carries VID 10 on the link; behind evb2, VM C's is untagged; all
// three in VLAN 10 (profile vm10). up1 is a plain uplink.
const evbSetup = `
device vis
port evb1 evb
port evb2 evb
port up1 uplink
vsi 11 port evb1 mac 02:00:00:00:00:0a vid 0 profile vm10
vsi 12 port evb1 mac 02:00:00:00:00:0b vid 10 profile vm10
vsi 13 port evb2 mac 02:00:00:00:00:0c vid 0 profile vm10
`

// evbFloodFromA is what a VLAN 10 frame from A, untagged on evb1, becomes
// when flooded: back out of evb1 once, tagged with VID 10, for B (the
// edge relay delivers it to its VSIs but the source; A takes untagged
// frames, B tagged ones, so only B's tagging goes); out of evb2 untagged
// for C; out of the uplink tagged with VLAN 10.
func evbFloodFromA(f *fb) []gf {
	return []gf{on("evb1", f.vlan(10)), on("evb2", f), on("up1", f.vlan(10))}
}

func evbCases() []genCase {
	bBcastTagged := frame(bcast, macB).vlan(10).say("B broadcasts, VID 10 on the link")
	return []genCase{{
		name:  "vis-evb-reflective-relay",
		title: "EVB reflective relay: VM to VM behind the same edge relay goes back out of the port it came in on",
		desc: "B (VID 10 on evb1) broadcasts: the flood goes back out of evb1 once, untagged, for A (B is the " +
			"source), out of evb2 untagged for C and out of up1 tagged VLAN 10. Then A, untagged on evb1, sends to B: " +
			"the VIS sends the frame back out of evb1 (reflective relay, IEEE 802.1Qbg 40.3), with no NIV tag and " +
			"B's VID 10 in an 802.1Q tag.",
		behaviours: []string{"evb", "hairpin", "learning", "flooding"},
		setup:      evbSetup, profile: profiles,
		in: []gf{on("evb1", bBcastTagged), on("evb1", frame(macB, macA))},
		want: []gf{
			on("evb1", frame(bcast, macB)), on("evb2", frame(bcast, macB)), on("up1", frame(bcast, macB).vlan(10)),
			on("evb1", frame(macB, macA).vlan(10)),
		},
	}, {
		name:  "vis-evb-relay-untag",
		title: "EVB reflective relay between VSIs of different taggings, and to another edge relay",
		desc: "A and C broadcast. B (VID 10) sends to A: back out of evb1 with its 802.1Q tag taken off, as A " +
			"takes frames untagged. A sends to C behind evb2: out of evb2, untagged.",
		behaviours: []string{"evb", "hairpin", "learning", "flooding"},
		setup:      evbSetup, profile: profiles,
		in: []gf{on("evb1", aBcast), on("evb2", cBcast), on("evb1", frame(macA, macB).vlan(10)), on("evb1", frame(macC, macA))},
		want: cat(evbFloodFromA(aBcast), []gf{
			on("evb1", cBcast), on("evb1", cBcast.vlan(10)), on("up1", cBcast.vlan(10)),
			on("evb1", frame(macA, macB)), on("evb2", frame(macC, macA)),
		}),
	}, {
		name:  "vis-evb-antispoof-mac",
		title: "EVB anti-spoof by MAC: a source MAC with no VSI on the port is dropped",
		desc: "On evb1, a VM sends as D, whose MAC no VSI has, and as C, whose VSI is behind evb2; both are " +
			"dropped (vis.DropUnknownVSI) and never learned. Then A broadcasts, flooded as usual.",
		behaviours: []string{"evb", "anti-spoof", "flooding"},
		setup:      evbSetup, profile: profiles,
		in:   []gf{on("evb1", frame(bcast, macD)), on("evb1", frame(bcast, macC)), on("evb1", aBcast)},
		want: evbFloodFromA(aBcast),
	}, {
		name:  "vis-evb-antispoof-vlan",
		title: "EVB anti-spoof by VLAN: a VSI's MAC in another VID is dropped",
		desc: "On evb1, A's MAC with VID 20 on the link, A's MAC tagged VID 10 (A's VSI is untagged) and B's " +
			"MAC untagged (B's VSI carries VID 10): none matches a VSI, all are dropped. B then broadcasts " +
			"with VID 10 and is flooded.",
		behaviours: []string{"evb", "anti-spoof", "flooding"},
		setup:      evbSetup, profile: profiles,
		in: []gf{on("evb1", frame(bcast, macA).vlan(20)), on("evb1", frame(bcast, macA).vlan(10)),
			on("evb1", frame(bcast, macB)), on("evb1", bBcastTagged)},
		want: []gf{on("evb1", frame(bcast, macB)), on("evb2", frame(bcast, macB)), on("up1", frame(bcast, macB).vlan(10))},
	}}
}
