package conformance_test

// The case table. Every expected frame is written here from the spec's
// rules, field by field (see gen_test.go).

// Port-profiles most VIS cases use.
const profiles = `
port-profile type vethernet vm10
  switchport mode access
  switchport access vlan 10
  state enabled
port-profile type vethernet vm10b
  switchport mode access
  switchport access vlan 10
  state enabled
port-profile type vethernet vm20
  switchport mode access
  switchport access vlan 20
  state enabled
port-profile type vethernet trunk
  switchport mode trunk
  switchport trunk allowed vlan 10,20
  switchport trunk native vlan 10
  state enabled
`

// The VNTag topology: iv1 with VMs A (vif 5) and B (vif 6), iv2 with VM C
// (vif 7), all in VLAN 10, and an uplink up1. Lists 101 and 102 are the
// VLAN 10 flood lists of iv1 and iv2.
const vntagSetup = `
device vis
port iv1 iv vntag
port iv2 iv vntag
port up1 uplink
veth 1 port iv1 vif 5 profile vm10
veth 2 port iv1 vif 6 profile vm10
veth 3 port iv2 vif 7 profile vm10b
vif-list 101 port iv1 vifs 5 6
vif-list 102 port iv2 vifs 7
`

// The same in E-Tag mode: E-CIDs 197, 198 (iv1) and 300 (iv2); the flood
// lists are E-channels with GRP 1.
const etagSetup = `
device vis
port iv1 iv etag
port iv2 iv etag
port up1 uplink
veth 1 port iv1 vif 197 profile vm10
veth 2 port iv1 vif 198 profile vm10
veth 3 port iv2 vif 300 profile vm10
vif-list 1:257 port iv1 vifs 197 198
vif-list 1:258 port iv2 vifs 300
`

// An IV in VNTag mode with three vNICs and a vif list 9 of all three.
const ivSetup = `
device iv
port fab-a uplink a vntag
port fab-b uplink b vntag
port vm1 vnic vif 5
port vm2 vnic vif 6
port vm3 vnic vif 7
vif-list 9 vifs 5 6 7
`

const ivETagSetup = `
device iv
port fab-a uplink a etag
port fab-b uplink b etag
port vm1 vnic vif 197
port vm2 vnic vif 198
port vm3 vnic vif 300
vif-list 1:77 vifs 197 198 300
`

// vntagFlood is what a VLAN 10 frame f from VM A (vif 5) that the VIS
// floods becomes: one copy per IV port by its vif list, looped back to
// iv1 with svif 5 so that iv1 prunes A, and once out of the uplink tagged
// with VLAN 10 (the uplink's native VLAN is 1).
func vntagFloodFromA(f *fb) []gf {
	return []gf{
		on("iv1", f.list(101, 5)),
		on("iv2", f.list(102, 0)),
		on("up1", f.vlan(10)),
	}
}

// vntagFloodFromUplink: a frame from the uplink goes to every IV port by
// its list, not looped, and to no other uplink.
func vntagFloodFromUplink(f *fb) []gf {
	return []gf{
		on("iv1", f.list(101, 0)),
		on("iv2", f.list(102, 0)),
	}
}

func etagFloodFromA(f *fb) []gf {
	return []gf{
		on("iv1", f.elist(1, 257, 197)),
		on("iv2", f.elist(1, 258, 0)),
		on("up1", f.vlan(10)),
	}
}

func etagFloodFromUplink(f *fb) []gf {
	return []gf{
		on("iv1", f.elist(1, 257, 0)),
		on("iv2", f.elist(1, 258, 0)),
	}
}

func cat(xs ...[]gf) []gf {
	var out []gf
	for _, x := range xs {
		out = append(out, x...)
	}
	return out
}

// Frames used throughout.
var (
	xAnnounce = frame(bcast, macX).say("X, behind the uplink, broadcasts")
	aBcast    = frame(bcast, macA).say("A broadcasts")
	bBcast    = frame(bcast, macB).say("B broadcasts")
	cBcast    = frame(bcast, macC).say("C broadcasts")
	macA2     = mac{0x02, 0, 0, 0, 1, 0x0a}
	arp       = make([]byte, 28) // an ARP-sized payload: the frame is 42 bytes
)

func init() {
	copy(arp, []byte{0, 1, 8, 0, 6, 4, 0, 1})
	copy(arp[8:], macA[:])
	copy(arp[14:], []byte{10, 0, 0, 0x0a})
	copy(arp[24:], []byte{10, 0, 0, 0x99})
}

func cases() []genCase {
	var cs []genCase
	cs = append(cs, vntagCases()...)
	cs = append(cs, etagCases()...)
	cs = append(cs, learningCases()...)
	cs = append(cs, vlanCases()...)
	cs = append(cs, policyCases()...)
	cs = append(cs, malformedCases()...)
	cs = append(cs, changeCases()...)
	cs = append(cs, ivCases()...)
	cs = append(cs, vicCases()...)
	cs = append(cs, rulesCases()...)
	cs = append(cs, evbCases()...)
	cs = append(cs, vdpCases()...)
	return cs
}

func vntagCases() []genCase {
	return []genCase{{
		name:  "vis-vntag-upstream",
		title: "VNTag upstream: a VM's frame leaves by the uplink",
		desc: "VM A (svif 5 on iv1) sends to host X, which the VIS learned on the uplink. The VIS maps (iv1, svif 5) " +
			"to vEth 1, removes the VNTag and sends the frame out of up1 with an 802.1Q tag for VLAN 10, " +
			"the vEth's access VLAN (the uplink's native VLAN is 1).",
		behaviours: []string{"vntag", "upstream", "learning", "flooding"},
		setup:      vntagSetup, profile: profiles,
		in: []gf{on("up1", xAnnounce.vlan(10)), on("iv1", frame(macX, macA).up(5))},
		want: cat(vntagFloodFromUplink(xAnnounce),
			[]gf{on("up1", frame(macX, macA).vlan(10))}),
	}, {
		name:  "vis-vntag-downstream",
		title: "VNTag downstream: a frame for a VM goes to its IV with d=1 and its dvif",
		desc: "A broadcasts (so the VIS learns A on vEth 1, behind iv1 svif 5), then X on the uplink sends to A. " +
			"The VIS sends it to iv1 with a VNTag d=1, p=0, dvif_id=5, l=0, svif_id=0, untagged (access port).",
		behaviours: []string{"vntag", "downstream", "learning", "flooding", "source-pruning"},
		setup:      vntagSetup, profile: profiles,
		in: []gf{on("iv1", aBcast.up(5)), on("up1", frame(macA, macX).vlan(10))},
		want: cat(vntagFloodFromA(aBcast),
			[]gf{on("iv1", frame(macA, macX).down(5))}),
	}, {
		name:  "vis-vntag-downstream-repeat",
		title: "VNTag downstream, again and again: the same frame for a VM the same way each time",
		desc: "A broadcasts, then X on the uplink sends to A three times, 802.1Q VLAN 10. The first teaches the " +
			"VIS that X is on up1; all three go to iv1 with d=1, dvif_id=5, the 802.1Q tag taken off (access " +
			"port): a VIS that forwards known sources by another path must give the same bytes.",
		behaviours: []string{"vntag", "downstream", "learning", "flooding", "source-pruning"},
		setup:      vntagSetup, profile: profiles,
		in: []gf{on("iv1", aBcast.up(5)), on("up1", frame(macA, macX).vlan(10)),
			on("up1", frame(macA, macX).vlan(10)), on("up1", frame(macA, macX).vlan(10))},
		want: cat(vntagFloodFromA(aBcast), []gf{
			on("iv1", frame(macA, macX).down(5)), on("iv1", frame(macA, macX).down(5)),
			on("iv1", frame(macA, macX).down(5)),
		}),
	}, {
		name:  "vis-vntag-hairpin",
		title: "VNTag hairpin: VM to VM behind the same IV goes back out of the port it came in on",
		desc: "B (svif 6) broadcasts, then A (svif 5), behind the same IV, sends to B. The VIS sends the frame back " +
			"out of iv1, the port it arrived on, with d=1 and dvif_id=6: the exception to IEEE 802.1D that NIV needs.",
		behaviours: []string{"vntag", "hairpin", "learning", "flooding", "source-pruning"},
		setup:      vntagSetup, profile: profiles,
		in: []gf{on("iv1", bBcast.up(6)), on("iv1", frame(macB, macA).up(5))},
		want: []gf{
			on("iv1", bBcast.list(101, 6)), on("iv2", bBcast.list(102, 0)), on("up1", bBcast.vlan(10)),
			on("iv1", frame(macB, macA).down(6)),
		},
	}, {
		name:  "vis-vntag-cross-iv",
		title: "VNTag between two IVs",
		desc: "C (svif 7 on iv2) broadcasts; iv2's list would hold only C, the source, so iv2 gets no copy. " +
			"Then A on iv1 sends to C: the frame goes to iv2 with d=1, dvif_id=7.",
		behaviours: []string{"vntag", "downstream", "learning", "flooding"},
		setup:      vntagSetup, profile: profiles,
		in: []gf{on("iv2", cBcast.up(7)), on("iv1", frame(macC, macA).up(5))},
		want: []gf{
			on("iv1", cBcast.list(101, 0)), on("up1", cBcast.vlan(10)),
			on("iv2", frame(macC, macA).down(7)),
		},
	}, {
		name:  "vis-vntag-unknown-unicast",
		title: "VNTag unknown unicast: flooded by vif list, the source pruned",
		desc: "A sends to Y, which nobody has learned. The VIS floods: one frame per IV port addressed to that " +
			"port's VLAN 10 vif list (p=1); the copy to iv1, A's own IV, has l=1 and svif_id=5 so that the IV " +
			"prunes A; the copy to iv2 has l=0, svif_id=0; one copy leaves by the uplink.",
		behaviours: []string{"vntag", "flooding", "source-pruning"},
		setup:      vntagSetup, profile: profiles,
		in:   []gf{on("iv1", frame(macY, macA).up(5))},
		want: vntagFloodFromA(frame(macY, macA)),
	}, {
		name:       "vis-vntag-broadcast",
		title:      "VNTag broadcast from a VM",
		desc:       "A broadcasts: one copy per IV port by vif list, looped with svif_id=5 to iv1, and one copy out of the uplink.",
		behaviours: []string{"vntag", "flooding", "source-pruning"},
		setup:      vntagSetup, profile: profiles,
		in:   []gf{on("iv1", aBcast.up(5))},
		want: vntagFloodFromA(aBcast),
	}, {
		name:       "vis-vntag-multicast",
		title:      "VNTag multicast from a VM",
		desc:       "A sends to the IPv4 multicast MAC 01:00:5e:00:00:01, flooded like a broadcast (no IGMP snooping).",
		behaviours: []string{"vntag", "flooding", "multicast", "source-pruning"},
		setup:      vntagSetup, profile: profiles,
		in:   []gf{on("iv1", frame(mcast, macA).up(5))},
		want: vntagFloodFromA(frame(mcast, macA)),
	}, {
		name:       "vis-vntag-broadcast-from-uplink",
		title:      "VNTag broadcast from the uplink",
		desc:       "X broadcasts on the uplink in VLAN 10: each IV port gets one copy by its list, l=0 (the source is not behind any IV).",
		behaviours: []string{"vntag", "flooding", "downstream"},
		setup:      vntagSetup, profile: profiles,
		in:   []gf{on("up1", xAnnounce.vlan(10))},
		want: vntagFloodFromUplink(xAnnounce),
	}, {
		name:       "vis-vntag-multicast-from-uplink",
		title:      "VNTag multicast from the uplink",
		desc:       "X sends to 01:00:5e:00:00:01 on the uplink in VLAN 10: one copy per IV port by its list, not looped.",
		behaviours: []string{"vntag", "flooding", "multicast", "downstream"},
		setup:      vntagSetup, profile: profiles,
		in:   []gf{on("up1", frame(mcast, macX).vlan(10))},
		want: vntagFloodFromUplink(frame(mcast, macX)),
	}}
}

func etagCases() []genCase {
	return []genCase{{
		name:  "vis-etag-upstream",
		title: "E-Tag upstream: a VM's frame leaves by the uplink",
		desc: "A (E-CID 197 on iv1) sends to X, learned on the uplink: the VIS removes the E-Tag and sends the " +
			"frame out of up1 tagged with VLAN 10.",
		behaviours: []string{"etag", "upstream", "learning", "flooding"},
		setup:      etagSetup, profile: profiles,
		in: []gf{on("up1", xAnnounce.vlan(10)), on("iv1", frame(macX, macA).eup(197))},
		want: cat(etagFloodFromUplink(xAnnounce),
			[]gf{on("up1", frame(macX, macA).vlan(10))}),
	}, {
		name:  "vis-etag-downstream",
		title: "E-Tag downstream: a frame for a VM goes to its PE with its E-CID",
		desc: "A broadcasts, then X sends to A: the frame goes to iv1 with an E-Tag E-CID=197, GRP=0, " +
			"Ingress_E-CID=0.",
		behaviours: []string{"etag", "downstream", "learning", "flooding", "source-pruning"},
		setup:      etagSetup, profile: profiles,
		in: []gf{on("iv1", aBcast.eup(197)), on("up1", frame(macA, macX).vlan(10))},
		want: cat(etagFloodFromA(aBcast),
			[]gf{on("iv1", frame(macA, macX).edown(197))}),
	}, {
		name:  "vis-etag-downstream-repeat",
		title: "E-Tag downstream, again and again: the same frame for a VM the same way each time",
		desc: "A broadcasts, then X on the uplink sends to A three times, 802.1Q VLAN 10. The first teaches the " +
			"VIS that X is on up1; all three go to iv1 with an E-Tag E-CID=197, GRP=0, the 802.1Q tag taken " +
			"off: a VIS that forwards known sources by another path must give the same bytes.",
		behaviours: []string{"etag", "downstream", "learning", "flooding", "source-pruning"},
		setup:      etagSetup, profile: profiles,
		in: []gf{on("iv1", aBcast.eup(197)), on("up1", frame(macA, macX).vlan(10)),
			on("up1", frame(macA, macX).vlan(10)), on("up1", frame(macA, macX).vlan(10))},
		want: cat(etagFloodFromA(aBcast), []gf{
			on("iv1", frame(macA, macX).edown(197)), on("iv1", frame(macA, macX).edown(197)),
			on("iv1", frame(macA, macX).edown(197)),
		}),
	}, {
		name:  "vis-etag-hairpin",
		title: "E-Tag hairpin between two extended ports of one PE",
		desc: "B (E-CID 198) broadcasts, then A (E-CID 197) sends to B: the frame goes back out of iv1 with " +
			"E-CID=198.",
		behaviours: []string{"etag", "hairpin", "learning", "flooding", "source-pruning"},
		setup:      etagSetup, profile: profiles,
		in: []gf{on("iv1", bBcast.eup(198)), on("iv1", frame(macB, macA).eup(197))},
		want: []gf{
			on("iv1", bBcast.elist(1, 257, 198)), on("iv2", bBcast.elist(1, 258, 0)), on("up1", bBcast.vlan(10)),
			on("iv1", frame(macB, macA).edown(197+1)),
		},
	}, {
		name:  "vis-etag-unknown-unicast",
		title: "E-Tag unknown unicast: flooded on a point-to-multipoint E-channel, the source pruned",
		desc: "A sends to unknown Y: each PE gets one copy on its VLAN 10 E-channel (GRP=1); the copy to iv1 " +
			"carries Ingress_E-CID=197 so that the PE prunes A.",
		behaviours: []string{"etag", "flooding", "source-pruning"},
		setup:      etagSetup, profile: profiles,
		in:   []gf{on("iv1", frame(macY, macA).eup(197))},
		want: etagFloodFromA(frame(macY, macA)),
	}, {
		name:       "vis-etag-broadcast",
		title:      "E-Tag broadcast from a VM",
		desc:       "A broadcasts: one copy per PE on its E-channel, Ingress_E-CID=197 on A's own PE.",
		behaviours: []string{"etag", "flooding", "source-pruning"},
		setup:      etagSetup, profile: profiles,
		in:   []gf{on("iv1", aBcast.eup(197))},
		want: etagFloodFromA(aBcast),
	}, {
		name:       "vis-etag-multicast",
		title:      "E-Tag multicast from the uplink",
		desc:       "X sends to 01:00:5e:00:00:01: each PE gets one copy on its E-channel, Ingress_E-CID=0.",
		behaviours: []string{"etag", "flooding", "multicast", "downstream"},
		setup:      etagSetup, profile: profiles,
		in:   []gf{on("up1", frame(mcast, macX).vlan(10))},
		want: etagFloodFromUplink(frame(mcast, macX)),
	}, {
		name:  "vis-etag-ecid-spoofing",
		title: "E-Tag E-CID spoofing is dropped",
		desc: "A frame arrives on iv1 with E-CID 300, which is bound on iv2 only, then one with E-CID 999, bound " +
			"nowhere: both are dropped. A legitimate broadcast from A follows and is flooded.",
		behaviours: []string{"etag", "spoofing", "flooding", "source-pruning"},
		setup:      etagSetup, profile: profiles,
		in: []gf{
			on("iv1", frame(bcast, macC).eup(300).say("E-CID 300 on the wrong port")),
			on("iv1", frame(bcast, macC).eup(999).say("E-CID 999, bound nowhere")),
			on("iv1", aBcast.eup(197)),
		},
		want: etagFloodFromA(aBcast),
	}}
}

func learningCases() []genCase {
	agingSetup := vntagSetup + "aging-time 10s\n"
	return []genCase{{
		name:  "vis-mac-learning",
		title: "MAC learning: flood while unknown, unicast once learned",
		desc: "A sends to B before B has sent anything: flooded. B answers A, whom the VIS learned from the first " +
			"frame: unicast hairpin to svif 5. A sends to B again: now unicast to svif 6.",
		behaviours: []string{"learning", "flooding", "hairpin", "source-pruning"},
		setup:      vntagSetup, profile: profiles,
		in: []gf{on("iv1", frame(macB, macA).up(5)), on("iv1", frame(macA, macB).up(6)), on("iv1", frame(macB, macA).up(5))},
		want: cat(vntagFloodFromA(frame(macB, macA)), []gf{
			on("iv1", frame(macA, macB).down(5)),
			on("iv1", frame(macB, macA).down(6)),
		}),
	}, {
		name:  "vis-mac-move",
		title: "MAC move: an address learned on one vEth moves to another",
		desc: "A's address is first seen from svif 5, then from svif 6 (the VM moved). X then sends to A: the " +
			"frame goes to svif 6.",
		behaviours: []string{"learning", "flooding", "source-pruning"},
		setup:      vntagSetup, profile: profiles,
		in: []gf{on("iv1", aBcast.up(5)), on("iv1", aBcast.up(6)), on("up1", frame(macA, macX).vlan(10))},
		want: []gf{
			on("iv1", aBcast.list(101, 5)), on("iv2", aBcast.list(102, 0)), on("up1", aBcast.vlan(10)),
			on("iv1", aBcast.list(101, 6)), on("iv2", aBcast.list(102, 0)), on("up1", aBcast.vlan(10)),
			on("iv1", frame(macA, macX).down(6)),
		},
	}, {
		name:  "vis-mac-move-to-uplink",
		title: "MAC move from a vEth to the uplink",
		desc: "A is learned on svif 5, then the same address appears on the uplink. A frame from C to A then " +
			"leaves by the uplink.",
		behaviours: []string{"learning", "flooding", "source-pruning"},
		setup:      vntagSetup, profile: profiles,
		in: []gf{on("iv1", aBcast.up(5)), on("up1", aBcast.vlan(10)), on("iv2", frame(macA, macC).up(7))},
		want: []gf{
			on("iv1", aBcast.list(101, 5)), on("iv2", aBcast.list(102, 0)), on("up1", aBcast.vlan(10)),
			on("iv1", aBcast.list(101, 0)), on("iv2", aBcast.list(102, 0)),
			on("up1", frame(macA, macC).vlan(10)),
		},
	}, {
		name:  "vis-mac-aging",
		title: "MAC aging: an address not seen for the aging time is forgotten",
		desc: "With aging-time 10s, A broadcasts; 11 s pass; X sends to A, which is flooded again (l=0: the " +
			"source is the uplink).",
		behaviours: []string{"learning", "aging", "flooding", "source-pruning"},
		setup:      agingSetup + "after 1 advance 11s\n", profile: profiles,
		in:   []gf{on("iv1", aBcast.up(5)), on("up1", frame(macA, macX).vlan(10))},
		want: cat(vntagFloodFromA(aBcast), vntagFloodFromUplink(frame(macA, macX))),
	}, {
		name:  "vis-mac-aging-refresh",
		title: "MAC aging: traffic from the address keeps it",
		desc: "With aging-time 10s, A broadcasts at t=0 and again at t=6 s; at t=12 s X sends to A, last seen " +
			"6 s before and so still known: unicast to svif 5.",
		behaviours: []string{"learning", "aging", "flooding", "source-pruning"},
		setup:      agingSetup + "after 1 advance 6s\nafter 2 advance 6s\n", profile: profiles,
		in: []gf{on("iv1", aBcast.up(5)), on("iv1", aBcast.up(5)), on("up1", frame(macA, macX).vlan(10))},
		want: cat(vntagFloodFromA(aBcast), vntagFloodFromA(aBcast), []gf{
			on("iv1", frame(macA, macX).down(5)),
		}),
	}, {
		name:  "vis-mac-limit",
		title: "MAC limit: addresses beyond a vEth's limit are not learned, but forwarded",
		desc: "With mac-limit 1, A (svif 5) sends from its address and then from a second one, A2: both frames " +
			"go out (to X), but only A is learned. X's frame to A2 is flooded, its frame to A is unicast.",
		behaviours: []string{"learning", "mac-limit", "flooding"},
		setup:      vntagSetup + "mac-limit 1\n", profile: profiles,
		in: []gf{
			on("up1", xAnnounce.vlan(10)),
			on("iv1", frame(macX, macA).up(5)), on("iv1", frame(macX, macA2).up(5)),
			on("up1", frame(macA2, macX).vlan(10)), on("up1", frame(macA, macX).vlan(10)),
		},
		want: cat(vntagFloodFromUplink(xAnnounce), []gf{
			on("up1", frame(macX, macA).vlan(10)), on("up1", frame(macX, macA2).vlan(10)),
		}, vntagFloodFromUplink(frame(macA2, macX)), []gf{
			on("iv1", frame(macA, macX).down(5)),
		}),
	}, {
		name:  "vis-uplink-end-host",
		title: "End-host mode: nothing goes from one uplink to another",
		desc: "Z broadcasts on up2: the IVs get it, up1 does not. X on up1 then sends to Z, learned on up2: " +
			"dropped.",
		behaviours: []string{"uplink", "flooding", "learning"},
		setup:      vntagSetup + "port up2 uplink\n", profile: profiles,
		in:   []gf{on("up2", frame(bcast, macZ).vlan(10)), on("up1", frame(macZ, macX).vlan(10))},
		want: vntagFloodFromUplink(frame(bcast, macZ)),
	}}
}

const trunkSetup = `
device vis
port iv1 iv vntag
port up1 uplink
veth 1 port iv1 vif 5 profile vm10
veth 4 port iv1 vif 8 profile trunk
vif-list 110 port iv1 vifs 5 8
vif-list 120 port iv1 vifs 8
`

func vlanCases() []genCase {
	twoVLANs := vntagSetup + "veth 4 port iv2 vif 8 profile vm20\n"
	dBcast := frame(bcast, macD).say("D broadcasts")
	return []genCase{{
		name:  "vis-vlan-access-isolation",
		title: "Access VLANs: a broadcast stays in its VLAN",
		desc: "vEth 4 (svif 8 on iv2) is in VLAN 20, the others in VLAN 10. A's broadcast reaches iv2 only by " +
			"the VLAN 10 list (vif 7); D's broadcast in VLAN 20 reaches no IV (D is the only member) and leaves " +
			"by the uplink tagged 20.",
		behaviours: []string{"vlan", "access", "flooding", "source-pruning"},
		setup:      twoVLANs, profile: profiles,
		in:   []gf{on("iv1", aBcast.up(5)), on("iv2", dBcast.up(8))},
		want: cat(vntagFloodFromA(aBcast), []gf{on("up1", dBcast.vlan(20))}),
	}, {
		name:  "vis-vlan-access-tagged",
		title: "Access port: frames tagged with another VLAN are dropped",
		desc: "A sends a frame tagged VLAN 20 on its VLAN 10 access vEth: dropped. A frame tagged with the access " +
			"VLAN 10 is taken into VLAN 10 and leaves by the uplink tagged 10.",
		behaviours: []string{"vlan", "access"},
		setup:      vntagSetup, profile: profiles,
		in: []gf{
			on("up1", xAnnounce.vlan(10)),
			on("iv1", frame(macX, macA).vlan(20).up(5)), on("iv1", frame(macX, macA).vlan(10).up(5)),
		},
		want: cat(vntagFloodFromUplink(xAnnounce), []gf{on("up1", frame(macX, macA).vlan(10))}),
	}, {
		name:  "vis-vlan-trunk-allowed",
		title: "Trunk vEth: an allowed VLAN passes tagged",
		desc: "vEth 4 (svif 8) is a trunk allowing VLANs 10 and 20, native 10. Its VM sends a frame tagged " +
			"VLAN 20 to X: it leaves by the uplink tagged 20. X's answer comes back to svif 8 still tagged 20.",
		behaviours: []string{"vlan", "trunk"},
		setup:      trunkSetup, profile: profiles,
		in: []gf{
			on("up1", frame(bcast, macX).vlan(20).say("X broadcasts in VLAN 20")),
			on("iv1", frame(macX, macD).vlan(20).up(8)), on("up1", frame(macD, macX).vlan(20)),
		},
		want: []gf{
			on("iv1", frame(bcast, macX).vlan(20).list(120, 0)),
			on("up1", frame(macX, macD).vlan(20)),
			on("iv1", frame(macD, macX).vlan(20).down(8)),
		},
	}, {
		name:  "vis-vlan-trunk-denied",
		title: "Trunk vEth: a VLAN the profile does not allow is dropped",
		desc: "The trunk vEth's VM sends broadcasts tagged VLAN 30 (not allowed) and VLAN 20 (allowed): only the " +
			"VLAN 20 frame is flooded, out of the uplink only (the trunk itself is iv1's only member of VLAN 20).",
		behaviours: []string{"vlan", "trunk", "flooding"},
		setup:      trunkSetup, profile: profiles,
		in:   []gf{on("iv1", frame(bcast, macD).vlan(30).up(8)), on("iv1", frame(bcast, macD).vlan(20).up(8))},
		want: []gf{on("up1", frame(bcast, macD).vlan(20))},
	}, {
		name:  "vis-vlan-trunk-native",
		title: "Trunk vEth: untagged frames are in the native VLAN",
		desc: "The trunk vEth (native VLAN 10) sends an untagged broadcast: it is in VLAN 10, so iv1's VLAN 10 " +
			"list (A and the trunk, both untagged in VLAN 10) gets it looped with svif 8, and the uplink gets it " +
			"tagged 10.",
		behaviours: []string{"vlan", "trunk", "native", "flooding", "source-pruning"},
		setup:      trunkSetup, profile: profiles,
		in:   []gf{on("iv1", dBcast.up(8))},
		want: []gf{on("iv1", dBcast.list(110, 8)), on("up1", dBcast.vlan(10))},
	}, {
		name:  "vis-vlan-trunk-native-out",
		title: "Trunk vEth: native-VLAN frames leave toward it untagged",
		desc: "The trunk's VM broadcasts (learned in VLAN 10 by native VLAN), then X sends to it in VLAN 10 from " +
			"the uplink: the frame goes to svif 8 without an 802.1Q tag.",
		behaviours: []string{"vlan", "trunk", "native", "flooding", "source-pruning"},
		setup:      trunkSetup, profile: profiles,
		in: []gf{on("iv1", dBcast.up(8)), on("up1", frame(macD, macX).vlan(10))},
		want: []gf{
			on("iv1", dBcast.list(110, 8)), on("up1", dBcast.vlan(10)),
			on("iv1", frame(macD, macX).down(8)),
		},
	}, {
		name:  "vis-stacked-8021q",
		title: "Stacked 802.1Q: the inner tag is payload",
		desc: "The trunk vEth's VM sends a frame with two 802.1Q tags, outer VLAN 20, inner VLAN 100. The outer " +
			"tag selects VLAN 20; the inner tag is carried untouched: the uplink copy has VLAN 20 then VLAN 100.",
		behaviours: []string{"vlan", "trunk", "stacked", "flooding"},
		setup:      trunkSetup, profile: profiles,
		in:   []gf{on("iv1", frame(bcast, macD).vlan(20).vlan(100).up(8))},
		want: []gf{on("up1", frame(bcast, macD).vlan(20).vlan(100))},
	}}
}

func policyCases() []genCase {
	acl := profiles + `
ip access-list udp7
  10 permit udp any any eq 7
port-profile type vethernet vm10-acl
  inherit port-profile vm10
  ip port access-group udp7 in
  state enabled
mac access-list nobcast
  10 deny any host ffff.ffff.ffff
  20 permit any any
port-profile type vethernet vm10-mac
  inherit port-profile vm10
  mac port access-group nobcast in
  state enabled
policy-map type qos gold
  set cos 5
  set dscp 46
port-profile type vethernet vm10-gold
  inherit port-profile vm10
  service-policy type qos input gold
  state enabled
policy-map type qos slow
  police cir 8 kbps bc 1518 bytes
port-profile type vethernet vm10-slow
  inherit port-profile vm10
  service-policy type qos input slow
  state enabled
port-profile type vethernet vm10-secure
  inherit port-profile vm10
  switchport port-security
  switchport port-security maximum 1
  switchport port-security violation restrict
  state enabled
port-profile type vethernet vm10-secure-shut
  inherit port-profile vm10
  switchport port-security
  switchport port-security maximum 1
  switchport port-security violation shutdown
  state enabled
`
	with := func(p string) string {
		return "\ndevice vis\nport iv1 iv vntag\nport up1 uplink\nveth 1 port iv1 vif 5 profile " + p + "\nvif-list 1 port iv1 vifs 5\n"
	}
	toX := frame(macX, macA)
	big := func(f *fb) *fb { // a 700-byte frame
		c := f.payload(0x88b5, make([]byte, 700-14))
		return c
	}
	return []genCase{{
		name:  "vis-acl-ip-permit",
		title: "ip access-group: a permitted frame passes",
		desc: "vEth 1's profile permits UDP to port 7 only (implicit deny after): A's UDP frame to port 7 " +
			"leaves by the uplink.",
		behaviours: []string{"acl"},
		setup:      with("vm10-acl"), profile: acl,
		in:   []gf{on("up1", xAnnounce.vlan(10)), on("iv1", toX.udp(7).up(5))},
		want: []gf{on("iv1", xAnnounce.list(1, 0)), on("up1", toX.udp(7).vlan(10))},
	}, {
		name:       "vis-acl-ip-deny",
		title:      "ip access-group: a denied frame is dropped",
		desc:       "Same profile: A's UDP frame to port 9 and TCP frame to port 7 hit the implicit deny; its UDP frame to port 7 passes.",
		behaviours: []string{"acl"},
		setup:      with("vm10-acl"), profile: acl,
		in: []gf{
			on("up1", xAnnounce.vlan(10)),
			on("iv1", toX.udp(9).up(5)), on("iv1", toX.tcp(7).up(5)), on("iv1", toX.udp(7).up(5)),
		},
		want: []gf{on("iv1", xAnnounce.list(1, 0)), on("up1", toX.udp(7).vlan(10))},
	}, {
		name:       "vis-acl-mac-deny",
		title:      "mac access-group: broadcasts denied, unicast permitted",
		desc:       "vEth 1's mac access-list denies frames to ff:ff:ff:ff:ff:ff: A's broadcast is dropped, its unicast to X passes.",
		behaviours: []string{"acl"},
		setup:      with("vm10-mac"), profile: acl,
		in:   []gf{on("up1", xAnnounce.vlan(10)), on("iv1", aBcast.up(5)), on("iv1", toX.up(5))},
		want: []gf{on("iv1", xAnnounce.list(1, 0)), on("up1", toX.vlan(10))},
	}, {
		name:  "vis-qos-marking",
		title: "QoS marking: CoS 5 and DSCP 46 on the way in",
		desc: "vEth 1's input policy sets CoS 5 and DSCP 46: A's frame to X leaves by the uplink with 802.1Q " +
			"priority 5 and IPv4 DSCP 46 (header checksum updated).",
		behaviours: []string{"qos"},
		setup:      with("vm10-gold"), profile: acl,
		in:   []gf{on("up1", xAnnounce.vlan(10)), on("iv1", toX.up(5))},
		want: []gf{on("iv1", xAnnounce.list(1, 0)), on("up1", toX.dscp(46).vlanp(5, 10))},
	}, {
		name:  "vis-policing",
		title: "Policing: frames beyond the rate are dropped",
		desc: "vEth 1's input policy polices at 8 kbps with a 1518-byte burst. A sends three 700-byte frames at " +
			"once: the first two fit the burst, the third is dropped. After 2 s the bucket is full again and a " +
			"fourth frame passes.",
		behaviours: []string{"policing"},
		setup:      with("vm10-slow") + "after 4 advance 2s\n", profile: acl,
		in: []gf{
			on("up1", xAnnounce.vlan(10)),
			on("iv1", big(toX).up(5)), on("iv1", big(toX).up(5)), on("iv1", big(toX).up(5)), on("iv1", big(toX).up(5)),
		},
		want: []gf{
			on("iv1", xAnnounce.list(1, 0)),
			on("up1", big(toX).vlan(10)), on("up1", big(toX).vlan(10)), on("up1", big(toX).vlan(10)),
		},
	}, {
		name:  "vis-port-security-restrict",
		title: "Port security (maximum 1, restrict): a second source MAC is dropped",
		desc: "A sends from its address (learned as secure), then from A2: dropped (restrict); then from A " +
			"again: passes.",
		behaviours: []string{"port-security"},
		setup:      with("vm10-secure"), profile: acl,
		in: []gf{
			on("up1", xAnnounce.vlan(10)),
			on("iv1", toX.up(5)), on("iv1", frame(macX, macA2).up(5)), on("iv1", toX.up(5)),
		},
		want: []gf{on("iv1", xAnnounce.list(1, 0)), on("up1", toX.vlan(10)), on("up1", toX.vlan(10))},
	}, {
		name:       "vis-port-security-shutdown",
		title:      "Port security (maximum 1, shutdown): a violation err-disables the vEth",
		desc:       "A sends from its address, then from A2: the vEth is err-disabled, and A's next frame is dropped too.",
		behaviours: []string{"port-security"},
		setup:      with("vm10-secure-shut"), profile: acl,
		in: []gf{
			on("up1", xAnnounce.vlan(10)),
			on("iv1", toX.up(5)), on("iv1", frame(macX, macA2).up(5)), on("iv1", toX.up(5)),
		},
		want: []gf{on("iv1", xAnnounce.list(1, 0)), on("up1", toX.vlan(10))},
	}, {
		name:  "vis-vntag-svif-spoofing",
		title: "VNTag svif spoofing is dropped",
		desc: "Frames arrive on iv1 with svif 7 (bound on iv2 only) and svif 9 (bound nowhere): both dropped. " +
			"A's broadcast follows and is flooded.",
		behaviours: []string{"vntag", "spoofing", "flooding", "source-pruning"},
		setup:      vntagSetup, profile: profiles,
		in: []gf{
			on("iv1", cBcast.up(7).say("svif 7 on the wrong port")),
			on("iv1", cBcast.up(9).say("svif 9, bound nowhere")),
			on("iv1", aBcast.up(5)),
		},
		want: vntagFloodFromA(aBcast),
	}}
}

func malformedCases() []genCase {
	// control is a legitimate frame after the bad ones, showing the device
	// still works.
	control := []gf{on("iv1", aBcast.up(5))}
	flood := vntagFloodFromA(aBcast)
	bad := func(name, title, desc string, frames ...gf) genCase {
		return genCase{name: name, title: title, desc: desc + " A legitimate broadcast from A follows and is flooded.",
			behaviours: []string{"malformed", "flooding", "source-pruning"},
			setup:      vntagSetup, profile: profiles,
			in: append(frames, control...), want: flood}
	}
	return []genCase{
		bad("vis-malformed-no-tag", "Untagged frame on an IV port is dropped",
			"A frame without a VNTag arrives on iv1: dropped (the IV must tag everything).",
			on("iv1", aBcast)),
		bad("vis-malformed-direction", "Upstream VNTag with d=1 is dropped",
			"A frame arrives on iv1 with d=1 (a downstream tag): dropped.",
			on("iv1", aBcast.vn(vnt{dir: true, src: 5}))),
		bad("vis-malformed-looped", "Upstream VNTag with l=1 or p=1 is dropped",
			"Frames arrive on iv1 with l=1, and with p=1: dropped.",
			on("iv1", aBcast.vn(vnt{looped: true, src: 5})), on("iv1", aBcast.vn(vnt{ptr: true, src: 5}))),
		bad("vis-malformed-version", "VNTag with a version other than 0 is dropped",
			"A frame arrives on iv1 with ver=1: dropped.",
			on("iv1", aBcast.vn(vnt{version: 1, src: 5}))),
		bad("vis-malformed-truncated-vntag", "Frame cut inside its VNTag is dropped",
			"A 16-byte frame ending inside the VNTag, and one of 18 bytes ending before the next EtherType: dropped.",
			on("iv1", aBcast.up(5).cut(16)), on("iv1", aBcast.up(5).cut(18))),
		bad("vis-malformed-etag-on-vntag-port", "An E-Tag on a VNTag port is dropped",
			"A frame with an E-Tag (E-CID 5) arrives on iv1, a VNTag port: dropped.",
			on("iv1", aBcast.eup(5))),
		bad("vis-runt-headers", "Runt shorter than its headers is dropped",
			"A 14-byte frame (addresses and type 0x8926 only) arrives on iv1: dropped.",
			on("iv1", aBcast.up(5).cut(14))),
		{
			name:  "vis-malformed-tag-on-uplink",
			title: "A VNTag from the uplink is dropped",
			desc: "A VNTag'd frame arrives on the plain uplink: dropped (tags live only on IV links). X's untagged " +
				"broadcast follows and is flooded.",
			behaviours: []string{"malformed", "uplink", "flooding"},
			setup:      vntagSetup, profile: profiles,
			in:   []gf{on("up1", xAnnounce.vlan(10).up(5)), on("up1", xAnnounce.vlan(10))},
			want: vntagFloodFromUplink(xAnnounce),
		}, {
			name:  "vis-malformed-etag-upstream",
			title: "Upstream E-Tag with GRP or Ingress_E-CID set is dropped",
			desc: "Frames arrive on iv1 with GRP=1, and with Ingress_E-CID=5; and one cut inside the E-Tag: dropped. " +
				"A's legitimate broadcast follows.",
			behaviours: []string{"malformed", "etag", "flooding", "source-pruning"},
			setup:      etagSetup, profile: profiles,
			in: []gf{
				on("iv1", aBcast.etag(ett{grp: 1, ecid: 197})), on("iv1", aBcast.etag(ett{iecid: 5, ecid: 197})),
				on("iv1", aBcast.eup(197).cut(18)), on("iv1", aBcast.eup(197)),
			},
			want: etagFloodFromA(aBcast),
		}, {
			name:  "vis-runt-padded",
			title: "Runt: a short frame is padded to 60 bytes",
			desc: "A sends a 42-byte ARP-sized frame (48 with its VNTag). Every copy the VIS sends is padded so that " +
				"the frame without its NIV tag is 60 bytes: 66 with a VNTag, 60 with the uplink's 802.1Q tag.",
			behaviours: []string{"runt", "flooding", "source-pruning"},
			setup:      vntagSetup, profile: profiles,
			in: []gf{on("iv1", frame(bcast, macA).payload(0x0806, arp).up(5))},
			want: []gf{
				on("iv1", frame(bcast, macA).payload(0x0806, arp).padded().list(101, 5)),
				on("iv2", frame(bcast, macA).payload(0x0806, arp).padded().list(102, 0)),
				on("up1", frame(bcast, macA).payload(0x0806, arp).vlan(10).padded()),
			},
		},
	}
}

func changeCases() []genCase {
	return []genCase{{
		name:  "vis-profile-edit-vlan",
		title: "Profile edit mid-case: a VLAN change reaches the bound vEth at once",
		desc: "C's vEth is bound to profile vm10b (VLAN 10). A broadcasts: iv2 gets a copy. Then vm10b is edited " +
			"to VLAN 20; A broadcasts again: iv2 gets none, C is no longer in VLAN 10.",
		behaviours: []string{"profile-edit", "vlan", "flooding", "source-pruning"},
		setup:      vntagSetup + "after 1 configure edit.conf\n", profile: profiles,
		files: map[string]string{"edit.conf": "port-profile vm10b\n  switchport access vlan 20\n"},
		in:    []gf{on("iv1", aBcast.up(5)), on("iv1", aBcast.up(5))},
		want: cat(vntagFloodFromA(aBcast), []gf{
			on("iv1", aBcast.list(101, 5)), on("up1", aBcast.vlan(10)),
		}),
	}, {
		name:  "vis-profile-edit-acl",
		title: "Profile edit mid-case: an access list added to a profile applies to the next frame",
		desc: "A sends to X and passes. Then profile vm10 gets an ip access-group that denies UDP: A's next " +
			"frame is dropped.",
		behaviours: []string{"profile-edit", "acl", "flooding"},
		setup:      vntagSetup + "after 2 configure edit.conf\n", profile: profiles,
		files: map[string]string{"edit.conf": "ip access-list noudp\n  10 deny udp any any\n  20 permit ip any any\n" +
			"port-profile vm10\n  ip port access-group noudp in\n"},
		in:   []gf{on("up1", xAnnounce.vlan(10)), on("iv1", frame(macX, macA).up(5)), on("iv1", frame(macX, macA).up(5))},
		want: cat(vntagFloodFromUplink(xAnnounce), []gf{on("up1", frame(macX, macA).vlan(10))}),
	}, {
		name:  "vis-profile-disable",
		title: "Profile disabled mid-case: its vEths stop forwarding",
		desc: "C (profile vm10b) broadcasts and is flooded. vm10b is disabled (no state enabled): C's next " +
			"broadcast is dropped, and A's broadcast no longer reaches iv2.",
		behaviours: []string{"profile-edit", "flooding", "source-pruning"},
		setup:      vntagSetup + "after 1 configure edit.conf\n", profile: profiles,
		files: map[string]string{"edit.conf": "port-profile vm10b\n  no state enabled\n"},
		in:    []gf{on("iv2", cBcast.up(7)), on("iv2", cBcast.up(7)), on("iv1", aBcast.up(5))},
		want: []gf{
			on("iv1", cBcast.list(101, 0)), on("up1", cBcast.vlan(10)),
			on("iv1", aBcast.list(101, 5)), on("up1", aBcast.vlan(10)),
		},
	}, {
		name:  "vis-veth-admin-down",
		title: "vEth administratively down: no frame from or to it",
		desc: "vEth 2 (B, svif 6) is shut before the first frame. B's broadcast is dropped. A's broadcast reaches " +
			"iv2 and the uplink but not iv1: with B down, A is the only member of iv1's VLAN 10 list. After no " +
			"shutdown, A's broadcast reaches iv1 again by the list of A and B, looped with svif 5.",
		behaviours: []string{"admin-down", "flooding", "source-pruning"},
		setup:      vntagSetup + "after 0 shutdown veth 2\nafter 2 no shutdown veth 2\n", profile: profiles,
		in: []gf{on("iv1", bBcast.up(6)), on("iv1", aBcast.up(5)), on("iv1", aBcast.up(5))},
		want: cat([]gf{
			on("iv2", aBcast.list(102, 0)), on("up1", aBcast.vlan(10)),
		}, vntagFloodFromA(aBcast)),
	}}
}

func ivCases() []genCase {
	a := frame(macX, macA).say("VM1 sends to X")
	return []genCase{{
		name:  "iv-vntag-upstream",
		title: "IV upstream: push a VNTag with d=0 and the vNIC's svif",
		desc: "VM1 (vif 5) sends a frame: the IV pushes a VNTag d=0, p=0, dvif_id=0, l=0, svif_id=5 and sends it " +
			"up its active uplink, fabric A.",
		behaviours: []string{"iv", "vntag", "upstream"},
		setup:      ivSetup,
		in:         []gf{on("vm1", a)},
		want:       []gf{on("fab-a", a.up(5))},
	}, {
		name:       "iv-no-local-switching",
		title:      "IV never switches locally",
		desc:       "VM1 sends to VM2's address, behind the same IV: the frame still goes up, tagged svif 5; VM2 gets nothing from the IV directly.",
		behaviours: []string{"iv", "vntag", "upstream"},
		setup:      ivSetup,
		in:         []gf{on("vm1", frame(macB, macA))},
		want:       []gf{on("fab-a", frame(macB, macA).up(5))},
	}, {
		name:       "iv-vntag-downstream",
		title:      "IV downstream: pop the VNTag and deliver to the dvif",
		desc:       "A frame comes down fabric A with d=1, dvif_id=6: VM2 gets it without the tag.",
		behaviours: []string{"iv", "vntag", "downstream"},
		setup:      ivSetup,
		in:         []gf{on("fab-a", frame(macB, macX).down(6))},
		want:       []gf{on("vm2", frame(macB, macX))},
	}, {
		name:       "iv-downstream-fabric-b",
		title:      "IV downstream from fabric B",
		desc:       "Downstream frames are accepted from either uplink: d=1, dvif_id=7 on fabric B reaches VM3.",
		behaviours: []string{"iv", "vntag", "downstream", "failover"},
		setup:      ivSetup,
		in:         []gf{on("fab-b", frame(macC, macX).down(7))},
		want:       []gf{on("vm3", frame(macC, macX))},
	}, {
		name:       "iv-vif-list",
		title:      "IV vif list: replicate to every member",
		desc:       "A frame comes down with p=1, dvif_id=9 (vif list 9 = 5, 6, 7), l=0: every vNIC gets a copy.",
		behaviours: []string{"iv", "vntag", "flooding"},
		setup:      ivSetup,
		in:         []gf{on("fab-a", xAnnounce.list(9, 0))},
		want:       []gf{on("vm1", xAnnounce), on("vm2", xAnnounce), on("vm3", xAnnounce)},
	}, {
		name:       "iv-vif-list-pruning",
		title:      "IV vif list with the looped bit: the source is pruned",
		desc:       "A broadcast from VM1 comes back down with p=1, dvif_id=9, l=1, svif_id=5: VM2 and VM3 get it, VM1 does not.",
		behaviours: []string{"iv", "vntag", "flooding", "source-pruning"},
		setup:      ivSetup,
		in:         []gf{on("fab-a", aBcast.list(9, 5))},
		want:       []gf{on("vm2", aBcast), on("vm3", aBcast)},
	}, {
		name:  "iv-tag-injection",
		title: "IV drops tag injection from a vNIC",
		desc: "VM1 sends frames that already carry a VNTag (claiming svif 7) and an E-Tag: both dropped, a VM " +
			"must not choose its own VIF. Its plain frame that follows goes up.",
		behaviours: []string{"iv", "tag-injection"},
		setup:      ivSetup,
		in:         []gf{on("vm1", a.up(7)), on("vm1", a.eup(7)), on("vm1", a)},
		want:       []gf{on("fab-a", a.up(5))},
	}, {
		name:  "iv-pad-on-pop",
		title: "IV re-pads a frame that became shorter than 60 bytes",
		desc: "A 64-byte tagged frame comes down for VM2 (58 bytes once the VNTag is removed): VM2 gets it padded " +
			"with zeros to 60 bytes.",
		behaviours: []string{"iv", "vntag", "downstream", "runt"},
		setup:      ivSetup,
		in:         []gf{on("fab-a", frame(macB, macX).payload(0x0806, append(arp[:28:28], make([]byte, 16)...)).down(6))},
		want:       []gf{on("vm2", frame(macB, macX).payload(0x0806, arp).padded())},
	}, {
		name:       "iv-failover",
		title:      "IV fabric failover: with uplink A down, vNICs send up B",
		desc:       "VM1 sends up fabric A; then fabric A goes down and VM1's next frame goes up fabric B; A comes back and the next goes up A.",
		behaviours: []string{"iv", "failover"},
		setup:      ivSetup + "after 1 uplink fab-a down\nafter 2 uplink fab-a up\n",
		in:         []gf{on("vm1", a), on("vm1", a), on("vm1", a)},
		want:       []gf{on("fab-a", a.up(5)), on("fab-b", a.up(5)), on("fab-a", a.up(5))},
	}, {
		name:  "iv-malformed-downstream",
		title: "IV drops bad downstream frames",
		desc: "Down fabric A come: a frame with d=0, one with version 1, one for dvif 99 (not attached), one for " +
			"an unprogrammed vif list, one cut inside its tag, one without a tag. All dropped; a good frame for VM2 " +
			"follows.",
		behaviours: []string{"iv", "malformed"},
		setup:      ivSetup,
		in: []gf{
			on("fab-a", frame(macB, macX).vn(vnt{dst: 6})),
			on("fab-a", frame(macB, macX).vn(vnt{dir: true, dst: 6, version: 1})),
			on("fab-a", frame(macB, macX).down(99)),
			on("fab-a", frame(macB, macX).list(1000, 0)),
			on("fab-a", frame(macB, macX).down(6).cut(16)),
			on("fab-a", frame(macB, macX)),
			on("fab-a", frame(macB, macX).down(6)),
		},
		want: []gf{on("vm2", frame(macB, macX))},
	}, {
		name:       "iv-looped-unicast-to-source",
		title:      "IV drops a looped unicast frame addressed to its own source",
		desc:       "A frame comes down with p=0, dvif_id=5, l=1, svif_id=5: VM1 would get its own frame; dropped.",
		behaviours: []string{"iv", "source-pruning"},
		setup:      ivSetup,
		in:         []gf{on("fab-a", aBcast.vn(vnt{dir: true, dst: 5, looped: true, src: 5}))},
		want:       nil,
	}, {
		name:       "iv-etag-upstream",
		title:      "IV (PE) upstream: push an E-Tag with the vNIC's E-CID",
		desc:       "VM1 (E-CID 197) sends a frame: the IV pushes an E-Tag with E-CID=197, GRP=0, Ingress_E-CID=0.",
		behaviours: []string{"iv", "etag", "upstream"},
		setup:      ivETagSetup,
		in:         []gf{on("vm1", a)},
		want:       []gf{on("fab-a", a.eup(197))},
	}, {
		name:       "iv-etag-downstream",
		title:      "IV (PE) downstream: pop the E-Tag and deliver to the E-CID",
		desc:       "A frame comes down with E-CID 300: VM3 gets it untagged.",
		behaviours: []string{"iv", "etag", "downstream"},
		setup:      ivETagSetup,
		in:         []gf{on("fab-a", frame(macC, macX).edown(300))},
		want:       []gf{on("vm3", frame(macC, macX))},
	}, {
		name:  "iv-etag-multicast-pruning",
		title: "IV (PE) multicast E-channel with Ingress_E-CID: the source is pruned",
		desc: "A broadcast from VM1 comes down on E-channel GRP=1, E-CID 77 (members 197, 198, 300) with " +
			"Ingress_E-CID=197: VM2 and VM3 get it, VM1 does not. Then one with Ingress_E-CID=0 reaches all three.",
		behaviours: []string{"iv", "etag", "flooding", "source-pruning"},
		setup:      ivETagSetup,
		in:         []gf{on("fab-a", aBcast.elist(1, 77, 197)), on("fab-a", xAnnounce.elist(1, 77, 0))},
		want: []gf{
			on("vm2", aBcast), on("vm3", aBcast),
			on("vm1", xAnnounce), on("vm2", xAnnounce), on("vm3", xAnnounce),
		},
	}}
}
