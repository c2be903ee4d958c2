package conformance_test

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The VIF negotiation cases: ECP frames in, ECP frames out. Every ECP
// frame is built here byte by byte: the ECP header from 802.1Qbg 43.3
// (../shared/spec/vdp-ecp.md §1–2: version 4 bits, operation 2 bits,
// subtype 10 bits, sequence number 16 bits), and the vic message from the
// tables of vic/PROTOCOL.md, with this file's own little encoder — not
// vic's. TestVICEncoder checks the encoder against PROTOCOL.md §4's byte
// examples; TestExpectedAgreesWithTshark checks the ECP fields (ecp.ver,
// ecp.op, ecp.subtype, ecp.seqno) and the ULPDU bytes (data.data; tshark
// does not decode vic) of every expected frame.

// ecpHdr is an ECP frame's header fields.
type ecpHdr struct {
	op, subtype int
	seq         uint16
}

// nearestCustomerBridge is the destination of every ECP frame.
var nearestCustomerBridge = mac{0x01, 0x80, 0xc2, 0x00, 0x00, 0x00}

var (
	macIV  = mac{0x02, 0, 0, 0, 0, 0xe1} // the tester's IV on iv1
	macVIS = mac{0x02, 0, 0, 0, 0, 0xf0} // the device's ECP address
)

const (
	sessIV  uint64 = 0x1122334455667788
	sessVIS uint64 = 0x99aabbccddeeff00
)

// instA is VM A's instance UUID (PROTOCOL.md's example P2).
var instA = mustHex("a141285760f74ce1e95a2164943f53aa")

func mustHex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// ecpFrame is an ECP frame from src with operation op (0 request, 1 ack),
// subtype 2 (PE-CSP), sequence seq and ULPDU msg, padded to 60 bytes.
func ecpFrame(src mac, op int, seq uint16, msg []byte) *fb {
	h := []byte{byte(1<<4 | op<<2), 2, byte(seq >> 8), byte(seq)} // version 1, op, subtype 0x002 (its top two bits are 0)
	return &fb{dst: nearestCustomerBridge, src: src, etype: 0x8940, raw: append(h, msg...), pad: true,
		ecp: &ecpHdr{op: op, subtype: 2, seq: seq}}
}

// PROTOCOL.md §2: a TLV header is type (7 bits) and length (9 bits).
func tlv(typ int, val ...byte) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(typ)<<9|uint16(len(val))), val...)
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// vmsg is a vic message: PROTOCOL.md §2.1's command TLV (type 127, 22
// bytes: "niv" 'c', version 1, command, flags, reason, session,
// transaction id, result), then the value TLVs in type order.
type vmsg struct {
	cmd      byte
	response bool
	reason   byte
	session  uint64
	tx       uint32
	result   uint16
	tlvs     [][]byte
}

func (m vmsg) bytes() []byte {
	v := []byte{0x6e, 0x69, 0x76, 0x63, 1, m.cmd, 0, m.reason}
	if m.response {
		v[6] = 0x80
	}
	v = append(v, be64(m.session)...)
	v = append(v, be32(m.tx)...)
	v = append(v, be16(m.result)...)
	out := tlv(127, v...)
	for _, t := range m.tlvs {
		out = append(out, t...)
	}
	return out
}

// PROTOCOL.md §2.2's value TLVs.
func tCaps(mode byte, maxVIFs, keepaliveMS uint16) []byte {
	return tlv(1, append(append([]byte{mode, 0}, be16(maxVIFs)...), be16(keepaliveMS)...)...)
}
func tPeer(s uint64) []byte     { return tlv(2, be64(s)...) }
func tMAC(m mac) []byte         { return tlv(3, m[:]...) }
func tProfile(p string) []byte  { return tlv(4, []byte(p)...) }
func tInstance(u []byte) []byte { return tlv(5, u...) }
func tVLAN(v uint16) []byte     { return tlv(6, be16(v)...) }
func tVIF(v uint16) []byte      { return tlv(7, be16(v)...) }
func tVEth(v uint32) []byte     { return tlv(8, be32(v)...) }
func tLink(up bool) []byte      { return tlv(9, byte(b2i(up))) }
func tEpoch(e uint32) []byte    { return tlv(10, be32(e)...) }
func tList(id uint16, vifs ...uint16) []byte {
	v := be16(id)
	for _, x := range vifs {
		v = append(v, be16(x)...)
	}
	return tlv(11, v...)
}

// Commands (§3), result codes (§3.1, Linux PORT_PROFILE_RESPONSE_*) and
// reasons (§3.2).
const (
	cmdOpen      = 1
	cmdKeepalive = 2
	cmdVIFAlloc  = 3
	cmdVIFDelete = 5

	resultSuccess = 0x0100
	resultInvalid = 0x0102

	reasonUnknownProfile = 1
)

// TestVICEncoder checks this file's encoder against the byte examples of
// vic/PROTOCOL.md §4 (copied here by hand).
func TestVICEncoder(t *testing.T) {
	const ivS, visS = 0x1122334455667788, 0x99aabbccddeeff00
	for _, c := range []struct {
		name string
		got  vmsg
		want string
	}{
		{"P1 open", vmsg{cmd: 1, session: ivS, tx: 1, tlvs: [][]byte{tCaps(1, 1024, 1000), tPeer(0)}},
			"fe 16 6e 69 76 63 01 01 00 00 11 22 33 44 55 66 77 88 00 00 00 01 00 00 02 06 01 00 04 00 03 e8 04 08 00 00 00 00 00 00 00 00"},
		{"P2 vif-alloc", vmsg{cmd: 3, session: ivS, tx: 2, tlvs: [][]byte{tMAC(mac{0x52, 0x54, 0x00, 0x8e, 0xaa, 0x11}), tProfile("web"), tInstance(instA), tVLAN(100), tLink(true), tEpoch(1)}},
			"fe 16 6e 69 76 63 01 03 00 00 11 22 33 44 55 66 77 88 00 00 00 02 00 00 06 06 52 54 00 8e aa 11 08 03 77 65 62" +
				"0a 10 a1 41 28 57 60 f7 4c e1 e9 5a 21 64 94 3f 53 aa 0c 02 00 64 12 01 01 14 04 00 00 00 01"},
		{"P3 answer", vmsg{cmd: 3, response: true, session: visS, tx: 2, result: 0x100, tlvs: [][]byte{tInstance(instA), tVLAN(100), tVIF(5), tVEth(42)}},
			"fe 16 6e 69 76 63 01 03 80 00 99 aa bb cc dd ee ff 00 00 00 00 02 01 00 0a 10 a1 41 28 57 60 f7 4c e1 e9 5a 21 64 94 3f 53 aa" +
				"0c 02 00 64 0e 02 00 05 10 04 00 00 00 2a"},
		{"P4 refusal", vmsg{cmd: 3, response: true, reason: 1, session: visS, tx: 2, result: 0x102, tlvs: [][]byte{tInstance(instA)}},
			"fe 16 6e 69 76 63 01 03 80 01 99 aa bb cc dd ee ff 00 00 00 00 02 01 02 0a 10 a1 41 28 57 60 f7 4c e1 e9 5a 21 64 94 3f 53 aa"},
		{"P5 vif-list", vmsg{cmd: 7, session: visS, tx: 3, tlvs: [][]byte{tList(7, 5, 6, 9)}},
			"fe 16 6e 69 76 63 01 07 00 00 99 aa bb cc dd ee ff 00 00 00 00 03 00 00 16 08 00 07 00 05 00 06 00 09"},
	} {
		assert.Equal(t, mustHex(c.want), c.got.bytes(), c.name)
	}
	// The ECP header of a request and of an acknowledgement (§4: "10 02 SS SS").
	assert.Equal(t, mustHex("8940 1002 0007"), ecpFrame(macIV, 0, 7, nil).bytes()[12:18])
	assert.Equal(t, mustHex("8940 1402 0007"), ecpFrame(macIV, 1, 7, nil).bytes()[12:18])
	require.Len(t, ecpFrame(macIV, 1, 7, nil).bytes(), 60)
}

// The exchange's frames: what the tester (the IV) sends and what the VIS
// must answer.
var (
	// open, transaction 1: VNTag, 1024 VIFs, keepalive 10 s; VIS session
	// not known yet.
	openMsg = vmsg{cmd: cmdOpen, session: sessIV, tx: 1, tlvs: [][]byte{tCaps(1, 1024, 10000), tPeer(0)}}
	// Its answer: the VIS's session, the IV's as peer session.
	openRsp = vmsg{cmd: cmdOpen, response: true, session: sessVIS, tx: 1, result: resultSuccess, tlvs: [][]byte{tPeer(sessIV)}}

	allocMsg = func(profile string) vmsg {
		return vmsg{cmd: cmdVIFAlloc, session: sessIV, tx: 2,
			tlvs: [][]byte{tMAC(macA), tProfile(profile), tInstance(instA), tLink(true), tEpoch(1)}}
	}
	// The first vEth (1) and the port's first VIF (1), epoch as asked.
	allocRsp = vmsg{cmd: cmdVIFAlloc, response: true, session: sessVIS, tx: 2, result: resultSuccess,
		tlvs: [][]byte{tPeer(sessIV), tInstance(instA), tVIF(1), tVEth(1), tEpoch(1)}}
	refuseRsp = vmsg{cmd: cmdVIFAlloc, response: true, reason: reasonUnknownProfile, session: sessVIS, tx: 2, result: resultInvalid,
		tlvs: [][]byte{tPeer(sessIV), tInstance(instA)}}
	deleteMsg = vmsg{cmd: cmdVIFDelete, session: sessIV, tx: 3, tlvs: [][]byte{tInstance(instA), tVIF(1), tEpoch(1)}}
	deleteRsp = vmsg{cmd: cmdVIFDelete, response: true, session: sessVIS, tx: 3, result: resultSuccess,
		tlvs: [][]byte{tPeer(sessIV), tInstance(instA)}}
	kaMsg = vmsg{cmd: cmdKeepalive, session: sessIV, tx: 2, tlvs: [][]byte{tPeer(sessVIS)}}
	kaRsp = vmsg{cmd: cmdKeepalive, response: true, session: sessVIS, tx: 2, result: resultSuccess, tlvs: [][]byte{tPeer(sessIV)}}
)

// ivReq is a request of the tester with ECP sequence seq; ivAck
// acknowledges the VIS's request seq; visReq and visAck likewise.
func ivReq(seq uint16, m vmsg, say string) *fb {
	return ecpFrame(macIV, 0, seq, m.bytes()).say(fmt.Sprintf("ECP request seq %d: %s", seq, say))
}
func ivAck(seq uint16) *fb {
	return ecpFrame(macIV, 1, seq, nil).say(fmt.Sprintf("ECP ack of the VIS's seq %d", seq))
}
func visReq(seq uint16, m vmsg) *fb { return ecpFrame(macVIS, 0, seq, m.bytes()) }
func visAck(seq uint16) *fb         { return ecpFrame(macVIS, 1, seq, nil) }

const vicSetup = `
device vis
port iv1 iv vntag
port up1 uplink
control-plane vic session 0x99aabbccddeeff00 mac 02:00:00:00:00:f0
`

const vicDesc = " The device runs niv's VIF negotiation (vic, vic/PROTOCOL.md) on ECP subtype 2 on iv1; the tester plays " +
	"the IV (ECP address 02:00:00:00:00:e1, vic session 0x1122334455667788). Every ECP frame is padded to 60 bytes " +
	"and sent to 01:80:c2:00:00:00; the vic messages are stated byte by byte (data.data) from PROTOCOL.md's tables."

func vicCases() []genCase {
	open := []gf{on("iv1", ivReq(1, openMsg, "vic open, tx 1 (VNTag, 1024 VIFs, keepalive 10 s)")), on("iv1", ivAck(1))}
	openOut := []gf{on("iv1", visAck(1)), on("iv1", visReq(1, openRsp))}
	alloc := func(profile string) []gf {
		return []gf{on("iv1", ivReq(2, allocMsg(profile), fmt.Sprintf("vic vif-alloc, tx 2: MAC %v, profile %s, instance a1412857-…, link up, epoch 1", macA, profile))),
			on("iv1", ivAck(2))}
	}
	aFrom1 := aBcast.up(1).say("A, now VIF 1, broadcasts")
	return []genCase{{
		name:  "vic-open",
		title: "VIF negotiation: the IV opens a session",
		desc: "The IV sends open; the VIS acknowledges the ECP request (same sequence number, operation 1) and answers " +
			"in an ECP request of its own (its first, sequence 1): command open with the response flag, result SUCCESS " +
			"(0x0100), its session, the IV's transaction id, and the IV's session as peer session. The tester then " +
			"acknowledges it." + vicDesc,
		behaviours: []string{"vif-negotiation", "ecp"},
		setup:      vicSetup, profile: profiles,
		in:   open,
		want: openOut,
	}, {
		name:  "vic-alloc",
		title: "VIF negotiation: a vNIC asks for a vEth and gets VIF 1, vEth 1, bound to its profile",
		desc: "After open, the IV asks for a vEth for VM A (profile vm10, VLAN 10). The VIS acknowledges and answers " +
			"SUCCESS with the instance, VIF 1 (the port's first), vEth 1 (the first) and the epoch. A's next frame, with " +
			"svif 1, is switched on vEth 1: its broadcast leaves by the uplink in VLAN 10, the profile's access VLAN " +
			"(iv1's flood list would hold only A, so no copy goes back)." + vicDesc,
		behaviours: []string{"vif-negotiation", "ecp", "vntag", "upstream", "flooding"},
		setup:      vicSetup, profile: profiles,
		in: cat(open, alloc("vm10"), []gf{on("iv1", aFrom1)}),
		want: cat(openOut, []gf{on("iv1", visAck(2)), on("iv1", visReq(2, allocRsp)),
			on("up1", aBcast.vlan(10))}),
	}, {
		name:  "vic-refuse-unknown-profile",
		title: "VIF negotiation: a vNIC with an unknown port profile is refused with PORT_PROFILE_RESPONSE_INVALID",
		desc: "After open, the IV asks for a vEth with profile nope, which the VIS does not have. The answer carries " +
			"result 0x0102 (Linux's PORT_PROFILE_RESPONSE_INVALID), reason 1 (unknown-profile), and no VIF or vEth. " +
			"A frame with svif 1 is then dropped: nothing was bound." + vicDesc,
		behaviours: []string{"vif-negotiation", "ecp"},
		setup:      vicSetup, profile: profiles,
		in:   cat(open, alloc("nope"), []gf{on("iv1", aFrom1)}),
		want: cat(openOut, []gf{on("iv1", visAck(2)), on("iv1", visReq(2, refuseRsp))}),
	}, {
		name:  "vic-delete",
		title: "VIF negotiation: deleting a vNIC removes its vEth",
		desc: "After open and a successful vif-alloc (VIF 1, vEth 1), the IV deletes the vNIC (vif-delete, tx 3, with its " +
			"instance, VIF 1 and epoch 1). The VIS acknowledges and answers SUCCESS with the instance; A's frame with " +
			"svif 1 is then dropped." + vicDesc,
		behaviours: []string{"vif-negotiation", "ecp"},
		setup:      vicSetup, profile: profiles,
		in: cat(open, alloc("vm10"), []gf{
			on("iv1", ivReq(3, deleteMsg, "vic vif-delete, tx 3: instance a1412857-…, VIF 1, epoch 1")), on("iv1", ivAck(3)),
			on("iv1", aFrom1)}),
		want: cat(openOut, []gf{on("iv1", visAck(2)), on("iv1", visReq(2, allocRsp)),
			on("iv1", visAck(3)), on("iv1", visReq(3, deleteRsp))}),
	}, {
		name:  "vic-keepalive",
		title: "VIF negotiation: a keepalive is answered",
		desc: "After open, the IV sends a keepalive (tx 2, the VIS's session as peer session); the VIS acknowledges it " +
			"and answers keepalive SUCCESS with the IV's session as peer session." + vicDesc,
		behaviours: []string{"vif-negotiation", "ecp", "keepalive"},
		setup:      vicSetup, profile: profiles,
		in:   cat(open, []gf{on("iv1", ivReq(2, kaMsg, "vic keepalive, tx 2")), on("iv1", ivAck(2))}),
		want: cat(openOut, []gf{on("iv1", visAck(2)), on("iv1", visReq(2, kaRsp))}),
	}, {
		name:  "vic-ecp-ack",
		title: "ECP: every request is acknowledged at once; the VIS has one request outstanding",
		desc: "The IV sends open and then a keepalive before acknowledging the VIS's answer to open. The VIS acknowledges " +
			"both requests at once, but holds its keepalive answer until its first request (sequence 1) is acknowledged " +
			"(ECP has one ULPDU outstanding), then sends it as sequence 2." + vicDesc,
		behaviours: []string{"vif-negotiation", "ecp"},
		setup:      vicSetup, profile: profiles,
		in: []gf{on("iv1", ivReq(1, openMsg, "vic open, tx 1")), on("iv1", ivReq(2, kaMsg, "vic keepalive, tx 2")),
			on("iv1", ivAck(1)), on("iv1", ivAck(2))},
		want: []gf{on("iv1", visAck(1)), on("iv1", visReq(1, openRsp)), on("iv1", visAck(2)), on("iv1", visReq(2, kaRsp))},
	}, {
		name:  "vic-ecp-duplicate",
		title: "ECP: a duplicate request is acknowledged again and delivered once",
		desc: "The IV's open (sequence 1) arrives twice, as after a lost acknowledgement. The VIS acknowledges both " +
			"copies but delivers the ULPDU once: one answer to open." + vicDesc,
		behaviours: []string{"vif-negotiation", "ecp"},
		setup:      vicSetup, profile: profiles,
		in: []gf{on("iv1", ivReq(1, openMsg, "vic open, tx 1")), on("iv1", ivReq(1, openMsg, "the same again (a retransmission)")),
			on("iv1", ivAck(1))},
		want: []gf{on("iv1", visAck(1)), on("iv1", visReq(1, openRsp)), on("iv1", visAck(1))},
	}, {
		name:  "vic-dead-peer",
		title: "VIF negotiation: an IV that goes silent is declared dead after 3 keepalive periods; its vEths are unbound after the resync hold",
		desc: "After open (keepalive 10 s) and a successful vif-alloc (VIF 1, vEth 1), A's broadcast leaves by the uplink. " +
			"The IV then sends nothing for 31 s (the step advance 31s), longer than the hold time, 3 × its keepalive = 30 s " +
			"(vic/PROTOCOL.md): the VIS declares the IV dead and closes the session, but keeps its vEths for the resync " +
			"hold (10 s) for the IV to come back and announce them, so A's next broadcast still leaves by the uplink. " +
			"11 s later (advance 11s) the hold has passed without the IV: its vEths are unbound, and A's next frame with " +
			"svif 1 is dropped. The VIS sends nothing to a dead peer. Both timers run on the case's clock." + vicDesc,
		behaviours: []string{"vif-negotiation", "ecp", "keepalive", "upstream", "flooding"},
		setup:      vicSetup + "after 5 advance 31s\nafter 6 advance 11s\n", profile: profiles,
		in: cat(open, alloc("vm10"), []gf{on("iv1", aFrom1), on("iv1", aFrom1.say("A broadcasts after the IV was declared dead")),
			on("iv1", aFrom1.say("A broadcasts after the resync hold"))}),
		want: cat(openOut, []gf{on("iv1", visAck(2)), on("iv1", visReq(2, allocRsp)),
			on("up1", aBcast.vlan(10)), on("up1", aBcast.vlan(10))}),
	}}
}
