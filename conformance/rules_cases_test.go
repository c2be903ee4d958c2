package conformance_test

// Cases for the bridge rules that hold on every port kind (DESIGN,
// "Invariants"), for priority in E-Tag mode, for floods to vEths with
// outbound policies, and for the behaviours conformance/README.md defines
// in "Rules the cases follow".

// Reserved link-local destinations (IEEE 802.1Q 8.6.3, Table 8-1).
var (
	llSTP   = mac{0x01, 0x80, 0xc2, 0, 0, 0x00} // bridge group address (STP BPDUs)
	llEAPOL = mac{0x01, 0x80, 0xc2, 0, 0, 0x03} // port access entity (802.1X)
	llLLDP  = mac{0x01, 0x80, 0xc2, 0, 0, 0x0e} // nearest bridge (LLDP)
	ll0F    = mac{0x01, 0x80, 0xc2, 0, 0, 0x0f} // the last reserved address
	ll10    = mac{0x01, 0x80, 0xc2, 0, 0, 0x10} // not reserved: relayed as any group address
	grpSrc  = mac{0x03, 0, 0, 0, 0, 0x0a}       // a group address (I/G bit set)
)

// bpdu is an 802.3 frame's length and LLC header (DSAP/SSAP 0x42, UI)
// with a few bytes of a configuration BPDU.
var bpdu = []byte{0x42, 0x42, 0x03, 0, 0, 0, 0, 0x80, 0, 2, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0, 0x80, 0, 2, 0, 0, 0, 0, 0x0a, 0x80, 0x01, 0, 0, 0x14, 0, 0x02, 0, 0x0f, 0}

// innerVNTag is what follows a type field of 0x8926 in a frame that
// carries a VNTag behind another tag: an upstream VNTag from svif 9, then
// IPv4.
func innerVNTag(f *fb) []byte {
	return append([]byte{0x00, 0x00, 0x00, 0x09, 0x08, 0x00}, f.ipBytes()...)
}

// innerETag: an E-Tag with E-CID 9 behind the type field 0x893F, then
// IPv4.
func innerETag(f *fb) []byte {
	return append([]byte{0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x08, 0x00}, f.ipBytes()...)
}

func rulesCases() []genCase {
	trunkAllowed20 := profiles + `
port-profile type vethernet trunk20
  switchport mode trunk
  switchport trunk allowed vlan 20
  switchport trunk native vlan 10
  state enabled
`
	outACL := profiles + `
ip access-list no-udp9
  10 deny udp any any eq 9
  20 permit ip any any
port-profile type vethernet vm10-out
  inherit port-profile vm10
  ip port access-group no-udp9 out
  state enabled
`
	gold := profiles + `
policy-map type qos gold
  set cos 5
  set dscp 46
port-profile type vethernet vm10-gold
  inherit port-profile vm10
  service-policy type qos input gold
  state enabled
`
	outSetup := `
device vis
port iv1 iv vntag
port iv2 iv vntag
port up1 uplink
veth 1 port iv1 vif 5 profile vm10
veth 2 port iv1 vif 6 profile vm10-out
veth 4 port iv1 vif 8 profile vm10
veth 3 port iv2 vif 7 profile vm10b
vif-list 101 port iv1 vifs 5 6 8
vif-list 103 port iv1 vifs 5 8
vif-list 102 port iv2 vifs 7
`
	nativeOut := `
device vis
port iv1 iv vntag
port up1 uplink
veth 1 port iv1 vif 5 profile vm10
veth 4 port iv1 vif 8 profile trunk20
vif-list 110 port iv1 vifs 5
vif-list 120 port iv1 vifs 8
`
	goldETag := `
device vis
port iv1 iv etag
port iv2 iv etag
port up1 uplink
veth 1 port iv1 vif 197 profile vm10-gold
veth 2 port iv1 vif 198 profile vm10
veth 3 port iv2 vif 300 profile vm10
vif-list 1:257 port iv1 vifs 197 198
vif-list 1:258 port iv2 vifs 300
`
	dBcast := frame(bcast, macD).say("D broadcasts")
	toX := frame(macX, macA)
	a := frame(macX, macA).say("VM1 sends to X")
	return []genCase{{
		name:  "vis-link-local-from-vm",
		title: "Link-local destinations from a VM are never relayed",
		desc: "A sends an STP BPDU to 01:80:c2:00:00:00, an EAPOL frame to 01:80:c2:00:00:03, an LLDP frame to " +
			"01:80:c2:00:00:0e and a frame to 01:80:c2:00:00:0f tagged VLAN 10: a C-VLAN bridge never relays the " +
			"reserved addresses 01:80:C2:00:00:00-0F (IEEE 802.1Q 8.6.3, Table 8-1), so none goes to another " +
			"vEth, IV or the uplink. A frame to 01:80:c2:00:00:10, which is not reserved, is flooded like any " +
			"group address.",
		behaviours: []string{"link-local", "flooding", "source-pruning"},
		setup:      vntagSetup, profile: profiles,
		in: []gf{
			on("iv1", frame(llSTP, macA).payload(uint16(len(bpdu)), bpdu).up(5).say("STP BPDU")),
			on("iv1", frame(llEAPOL, macA).payload(0x888e, []byte{2, 1, 0, 0}).up(5).say("EAPOL-Start")),
			on("iv1", frame(llLLDP, macA).payload(0x88cc, []byte{2, 7, 4, 2, 0, 0, 0, 0, 0x0a, 4, 2, 7, 0x31, 6, 2, 0, 120, 0, 0}).up(5).say("LLDP")),
			on("iv1", frame(ll0F, macA).vlan(10).up(5).say("to 01:80:c2:00:00:0f, VLAN 10")),
			on("iv1", frame(ll10, macA).up(5).say("to 01:80:c2:00:00:10")),
		},
		want: vntagFloodFromA(frame(ll10, macA)),
	}, {
		name:  "vis-link-local-from-uplink",
		title: "Link-local destinations from the uplink are never relayed",
		desc: "X on the uplink sends an STP BPDU and an LLDP frame tagged VLAN 10: neither goes to an IV " +
			"(IEEE 802.1Q Table 8-1). X's broadcast follows and is flooded.",
		behaviours: []string{"link-local", "uplink", "flooding"},
		setup:      vntagSetup, profile: profiles,
		in: []gf{
			on("up1", frame(llSTP, macX).payload(uint16(len(bpdu)), bpdu).say("STP BPDU")),
			on("up1", frame(llLLDP, macX).vlan(10).payload(0x88cc, []byte{2, 7, 4, 2, 0, 0, 0, 0, 0xee, 4, 2, 7, 0x31, 6, 2, 0, 120, 0, 0}).say("LLDP, VLAN 10")),
			on("up1", xAnnounce.vlan(10)),
		},
		want: vntagFloodFromUplink(xAnnounce),
	}, {
		name:  "iv-link-local",
		title: "IV carries link-local frames between a vNIC and its VIS",
		desc: "The IV is a port extender, not a bridge: the vNIC's port is a port of the VIS (802.1BR), so a " +
			"VM's LLDP frame to 01:80:c2:00:00:0e goes up tagged with svif 5 like any frame (the VIS, the bridge, " +
			"consumes or drops it), padded to 60 bytes before the tag as every frame an IV sends up, and a frame " +
			"the VIS sends down to 01:80:c2:00:00:00 for vif 6 is delivered.",
		behaviours: []string{"iv", "link-local", "upstream", "downstream"},
		setup:      ivSetup,
		in: []gf{
			on("vm1", frame(llLLDP, macA).payload(0x88cc, []byte{2, 7, 4, 2, 0, 0, 0, 0, 0x0a, 4, 2, 7, 0x31, 6, 2, 0, 120, 0, 0}).say("LLDP")),
			on("fab-a", frame(llSTP, macX).payload(uint16(len(bpdu)), bpdu).padded().down(6).say("STP BPDU from the VIS")),
		},
		want: []gf{
			on("fab-a", frame(llLLDP, macA).payload(0x88cc, []byte{2, 7, 4, 2, 0, 0, 0, 0, 0x0a, 4, 2, 7, 0x31, 6, 2, 0, 120, 0, 0}).padded().up(5)),
			on("vm2", frame(llSTP, macX).payload(uint16(len(bpdu)), bpdu).padded()),
		},
	}, {
		name:  "vis-group-source",
		title: "A frame with a group source address is dropped, never learned",
		desc: "A sends to X (learned on the uplink) and broadcasts, both with source 03:00:00:00:00:0a, a group " +
			"address (IEEE 802.3 3.2.3: a source address is always individual): both dropped. X then sends to " +
			"03:00:00:00:00:0a, which is flooded as any group destination (it was not learned). A's own " +
			"broadcast follows.",
		behaviours: []string{"group-source", "learning", "flooding", "source-pruning"},
		setup:      vntagSetup, profile: profiles,
		in: []gf{
			on("up1", xAnnounce.vlan(10)),
			on("iv1", frame(macX, grpSrc).up(5).say("group source, to X")),
			on("iv1", frame(bcast, grpSrc).up(5).say("group source, broadcast")),
			on("up1", frame(grpSrc, macX).vlan(10)),
			on("iv1", aBcast.up(5)),
		},
		want: cat(vntagFloodFromUplink(xAnnounce), vntagFloodFromUplink(frame(grpSrc, macX)), vntagFloodFromA(aBcast)),
	}, {
		name:  "vis-niv-tag-behind-tag",
		title: "A NIV tag behind the IV's tag is dropped",
		desc: "A sends a frame whose EtherType behind its VNTag is again 0x8926 (a VNTag claiming svif 9), one " +
			"with an 802.1Q tag and then an E-Tag (0x893F) behind its VNTag, and one such to X, whom the VIS " +
			"learned: a NIV tag never travels beyond its link (vntag.md), so all three are dropped, as the IV " +
			"drops tag injection. A's plain broadcast follows.",
		behaviours: []string{"nested-tag", "malformed", "flooding", "source-pruning"},
		setup:      vntagSetup, profile: profiles,
		in: []gf{
			on("up1", xAnnounce.vlan(10)),
			on("iv1", frame(bcast, macA).payload(0x8926, innerVNTag(frame(bcast, macA))).up(5).say("VNTag behind the VNTag")),
			on("iv1", frame(bcast, macA).vlan(10).payload(0x893f, innerETag(frame(bcast, macA))).up(5).say("E-Tag behind the VNTag and 802.1Q")),
			on("iv1", frame(macX, macA).payload(0x8926, innerVNTag(frame(macX, macA))).up(5).say("VNTag behind the VNTag, to X")),
			on("iv1", aBcast.up(5)),
		},
		want: cat(vntagFloodFromUplink(xAnnounce), vntagFloodFromA(aBcast)),
	}, {
		name:  "vis-niv-tag-on-uplink-behind-vlan",
		title: "A NIV tag behind an 802.1Q tag on a plain uplink is dropped",
		desc: "X sends frames tagged VLAN 10 whose EtherType behind the 802.1Q tag is 0x8926 (VNTag) and " +
			"0x893F (E-Tag): NIV tags live only on IV links, so both are dropped. X's broadcast follows.",
		behaviours: []string{"nested-tag", "uplink", "flooding"},
		setup:      vntagSetup, profile: profiles,
		in: []gf{
			on("up1", frame(bcast, macX).vlan(10).payload(0x8926, innerVNTag(frame(bcast, macX))).say("VNTag behind 802.1Q")),
			on("up1", frame(bcast, macX).vlan(10).payload(0x893f, innerETag(frame(bcast, macX))).say("E-Tag behind 802.1Q")),
			on("up1", xAnnounce.vlan(10)),
		},
		want: vntagFloodFromUplink(xAnnounce),
	}, {
		name:  "vis-acl-out-flood-list",
		title: "Flood to vEths with an outbound access list: one vif-list frame per IV port",
		desc: "B's profile (svif 6) has an outbound ip access-group that denies UDP port 9. A broadcasts UDP to " +
			"port 7: B's list admits it, and iv1 gets one frame on the list of A, B and D (101), looped with " +
			"svif 5. A broadcasts UDP to port 9: B's policy denies it, and iv1 still gets one frame, on a list " +
			"of the admitted members A and D (103), which the VIS programs like every other list. iv2 and the " +
			"uplink get theirs as always.",
		behaviours: []string{"acl", "flooding", "source-pruning"},
		setup:      outSetup, profile: outACL,
		in: []gf{on("iv1", aBcast.up(5)), on("iv1", aBcast.udp(9).up(5))},
		want: []gf{
			on("iv1", aBcast.list(101, 5)), on("iv2", aBcast.list(102, 0)), on("up1", aBcast.vlan(10)),
			on("iv1", aBcast.udp(9).list(103, 5)), on("iv2", aBcast.udp(9).list(102, 0)), on("up1", aBcast.udp(9).vlan(10)),
		},
	}, {
		name:  "vis-etag-priority",
		title: "E-Tag: E-PCP and E-DEI carry the frame's priority",
		desc: "A (E-CID 197) broadcasts with E-PCP 5 and E-DEI 1: upstream, E-PCP and E-DEI are the frame's " +
			"priority and drop eligibility, like a C-tag's PCP and DEI (vntag.md), so both E-channel copies " +
			"carry E-PCP 5, E-DEI 1 and the uplink copy 802.1Q PCP 5, DEI 1. X answers A with 802.1Q PCP 3: " +
			"the frame goes down with E-PCP 3.",
		behaviours: []string{"etag", "priority", "downstream", "flooding", "source-pruning"},
		setup:      etagSetup, profile: profiles,
		in: []gf{on("iv1", aBcast.eup(197).prio(5, 1)), on("up1", frame(macA, macX).vlanp(3, 10))},
		want: []gf{
			on("iv1", aBcast.elist(1, 257, 197).prio(5, 1)), on("iv2", aBcast.elist(1, 258, 0).prio(5, 1)),
			on("up1", aBcast.vlanpd(5, 10)),
			on("iv1", frame(macA, macX).edown(197).prio(3, 0)),
		},
	}, {
		name:  "vis-etag-qos-marking",
		title: "E-Tag: CoS marking sets E-PCP and the uplink's PCP",
		desc: "vEth 1's input policy sets CoS 5 and DSCP 46. A (E-CID 197) broadcasts with E-PCP 1, E-DEI 1: " +
			"the E-channel copies carry E-PCP 5 (the marked CoS) and E-DEI 1 (marking leaves drop eligibility " +
			"alone), the uplink copy 802.1Q PCP 5, DEI 1, all with DSCP 46.",
		behaviours: []string{"etag", "qos", "priority", "flooding", "source-pruning"},
		setup:      goldETag, profile: gold,
		in: []gf{on("iv1", aBcast.eup(197).prio(1, 1))},
		want: []gf{
			on("iv1", aBcast.dscp(46).elist(1, 257, 197).prio(5, 1)), on("iv2", aBcast.dscp(46).elist(1, 258, 0).prio(5, 1)),
			on("up1", aBcast.dscp(46).vlanpd(5, 10)),
		},
	}, {
		name:  "vis-vlan-access-priority-tagged",
		title: "Access port: a priority-tagged frame is in the access VLAN and keeps its priority",
		desc: "A (access VLAN 10) sends frames with a priority tag (802.1Q VID 0, PCP 3) to X and to B. An access " +
			"vEth admits untagged, priority-tagged and access-VLAN-tagged frames (IEEE 802.1Q 6.9 Admit All " +
			"Frames, with ingress filtering): the priority-tagged frame is classified to VLAN 10, leaves by the " +
			"uplink tagged VLAN 10 with PCP 3, and reaches B untagged (access).",
		behaviours: []string{"vlan", "access", "priority", "hairpin", "flooding", "source-pruning"},
		setup:      vntagSetup, profile: profiles,
		in: []gf{
			on("up1", xAnnounce.vlan(10)), on("iv1", bBcast.up(6)),
			on("iv1", toX.vlanp(3, 0).up(5)), on("iv1", frame(macB, macA).vlanp(3, 0).up(5)),
		},
		want: cat(vntagFloodFromUplink(xAnnounce), []gf{
			on("iv1", bBcast.list(101, 6)), on("iv2", bBcast.list(102, 0)), on("up1", bBcast.vlan(10)),
			on("up1", toX.vlanp(3, 10)), on("iv1", frame(macB, macA).down(6)),
		}),
	}, {
		name:  "vis-vlan-trunk-native-tagged",
		title: "Trunk vEth: a frame tagged with the native VLAN is in the native VLAN",
		desc: "The trunk vEth (native VLAN 10) sends a broadcast tagged VLAN 10: it is admitted in VLAN 10, as an " +
			"untagged frame would be, and leaves as every VLAN 10 frame does: untagged toward iv1's VLAN 10 list " +
			"(A and the trunk, looped with svif 8), tagged 10 out of the uplink.",
		behaviours: []string{"vlan", "trunk", "native", "flooding", "source-pruning"},
		setup:      trunkSetup, profile: profiles,
		in:   []gf{on("iv1", dBcast.vlan(10).up(8))},
		want: []gf{on("iv1", dBcast.list(110, 8)), on("up1", dBcast.vlan(10))},
	}, {
		name:  "vis-vlan-native-not-allowed",
		title: "Trunk vEth whose native VLAN is not allowed: no untagged traffic",
		desc: "The trunk vEth allows VLAN 20 only, with native VLAN 10. Its untagged broadcast is classified to " +
			"VLAN 10, which the vEth is not a member of, and dropped (802.1Q ingress filtering); its broadcast " +
			"tagged 20 leaves by the uplink. X's VLAN 10 broadcast reaches iv1 on the list of A alone: the trunk " +
			"gets no VLAN 10 frame either.",
		behaviours: []string{"vlan", "trunk", "native", "flooding"},
		setup:      nativeOut, profile: trunkAllowed20,
		in:   []gf{on("iv1", dBcast.up(8)), on("iv1", dBcast.vlan(20).up(8)), on("up1", xAnnounce.vlan(10))},
		want: []gf{on("up1", dBcast.vlan(20)), on("iv1", xAnnounce.list(110, 0))},
	}, {
		name:  "vis-vntag-reserved-bit-ignored",
		title: "VNTag r bit: ignored on receive, sent as 0",
		desc: "A broadcasts with the VNTag's reserved bit r set: r is ignored on receive (vntag.md), so the frame " +
			"is flooded as usual, and every tag the VIS sends carries r=0.",
		behaviours: []string{"vntag", "flooding", "source-pruning"},
		setup:      vntagSetup, profile: profiles,
		in:   []gf{on("iv1", aBcast.vn(vnt{src: 5, res: 1}))},
		want: vntagFloodFromA(aBcast),
	}, {
		name:  "iv-failover-revert",
		title: "IV fabric failover reverts to the preferred fabric",
		desc: "VM1 prefers fabric A. It sends up A; A goes down: up B; B goes down too: its frame is dropped; B " +
			"comes back: up B; A comes back: up A again (failover is revertive).",
		behaviours: []string{"iv", "failover"},
		setup: ivSetup + "after 1 uplink fab-a down\nafter 2 uplink fab-b down\nafter 3 uplink fab-b up\n" +
			"after 4 uplink fab-a up\n",
		in:   []gf{on("vm1", a), on("vm1", a), on("vm1", a), on("vm1", a), on("vm1", a)},
		want: []gf{on("fab-a", a.up(5)), on("fab-b", a.up(5)), on("fab-b", a.up(5)), on("fab-a", a.up(5))},
	}}
}
