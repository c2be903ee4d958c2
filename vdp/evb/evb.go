package evb

import "strconv"

// EVB TLV value (802.1Qbg D.2.12; tcpdump print-lldp.c; vdp-ecp.md §5):
//
//	00 80 c2 0d | bridge status | station status | R:3 RTE:5 | mode:2 ROL:1 RWD:5 | res:2 ROL:1 RKA:5
//
//	bridge status:  bits 7..3 reserved, 2 BGID, 1 RRCAP, 0 RRCTR
//	station status: bits 7..4 reserved, 3 SGID, 2 RRREQ, 1..0 RRSTAT
const (
	// Len is the length of the EVB TLV's value: OUI, subtype, 5 bytes.
	Len = 9
	// Subtype is the EVB TLV's IEEE 802.1 subtype.
	Subtype = 0x0D
	// MaxExp is the largest 5-bit exponent (RTE, RWD, RKA).
	MaxExp = 31
	// MaxR is the largest 3-bit retry count R.
	MaxR = 7

	bitBGID   = 0x04
	bitRRCAP  = 0x02
	bitRRCTR  = 0x01
	bitSGID   = 0x08
	bitRRREQ  = 0x04
	maskRRSTA = 0x03
	bitROL    = 0x20
	maskExp   = 0x1F
)

// OUI8021 is the IEEE 802.1 OUI, 00-80-C2.
var OUI8021 = [3]byte{0x00, 0x80, 0xC2}

// Mode is the 2-bit EVB mode (tcpdump: "Not Supported", "EVB Bridge",
// "EVB Station", "Reserved").
type Mode uint8

const (
	ModeNotSupported Mode = 0
	ModeBridge       Mode = 1
	ModeStation      Mode = 2
	ModeReserved     Mode = 3
)

func (m Mode) String() string {
	switch m {
	case ModeNotSupported:
		return "not supported"
	case ModeBridge:
		return "bridge"
	case ModeStation:
		return "station"
	}
	return "reserved(" + strconv.Itoa(int(m)) + ")"
}

// RRStat is the station's 2-bit reflective-relay status RRSTAT: 0 not
// enabled, 1 enabled; lldpad sends 3 until it has heard a bridge's TLV.
type RRStat uint8

const (
	RRStatDisabled RRStat = 0
	RRStatEnabled  RRStat = 1
	RRStatUnknown  RRStat = 3
)

// TLV is the EVB TLV. Reserved bits are ignored on decode and sent as 0.
type TLV struct {
	// BGID: the bridge supports group IDs.
	BGID bool
	// RRCAP: the bridge can do reflective relay.
	RRCAP bool
	// RRCTR: reflective relay is on for this port.
	RRCTR bool
	// SGID: the station wants group IDs.
	SGID bool
	// RRREQ: the station asks for reflective relay.
	RRREQ bool
	// RRSTAT: the station's view of reflective relay.
	RRSTAT RRStat
	// R is ECP's maximum number of retries (3 bits).
	R uint8
	// RTE is ECP's retransmission exponent: the ack timer is 10 µs × 2^RTE.
	RTE uint8
	// Mode says whether the sender is a bridge or a station.
	Mode Mode
	// ROLRWD says the RWD in use came from the peer ("remote or local").
	ROLRWD bool
	// RWD is VDP's resource wait delay exponent: 10 µs × 2^RWD.
	RWD uint8
	// ROLRKA says the RKA in use came from the peer.
	ROLRKA bool
	// RKA is VDP's keep-alive exponent: 10 µs × 2^RKA.
	RKA uint8
}

// Parse reads an EVB TLV value (from the OUI on). It fails with
// ErrShortBuffer, ErrOUI or ErrLength (a value longer than 9 bytes).
func Parse(v []byte) (TLV, error) {
	if len(v) < Len {
		return TLV{}, ErrShortBuffer
	}
	if [3]byte(v) != OUI8021 || v[3] != Subtype {
		return TLV{}, ErrOUI
	}
	if len(v) != Len {
		return TLV{}, ErrLength
	}
	b, s, r, m, k := v[4], v[5], v[6], v[7], v[8]
	return TLV{
		BGID: b&bitBGID != 0, RRCAP: b&bitRRCAP != 0, RRCTR: b&bitRRCTR != 0,
		SGID: s&bitSGID != 0, RRREQ: s&bitRRREQ != 0, RRSTAT: RRStat(s & maskRRSTA),
		R: r >> 5, RTE: r & maskExp,
		Mode: Mode(m >> 6), ROLRWD: m&bitROL != 0, RWD: m & maskExp,
		ROLRKA: k&bitROL != 0, RKA: k & maskExp,
	}, nil
}

func bit(b bool, v byte) byte {
	if b {
		return v
	}
	return 0
}

// Body returns the five bytes after OUI and subtype. Fields too large for
// their bits are cut to them; Check reports them.
func (t TLV) Body() [5]byte {
	return [5]byte{
		bit(t.BGID, bitBGID) | bit(t.RRCAP, bitRRCAP) | bit(t.RRCTR, bitRRCTR),
		bit(t.SGID, bitSGID) | bit(t.RRREQ, bitRRREQ) | byte(t.RRSTAT)&maskRRSTA,
		t.R<<5 | t.RTE&maskExp,
		byte(t.Mode)<<6 | bit(t.ROLRWD, bitROL) | t.RWD&maskExp,
		bit(t.ROLRKA, bitROL) | t.RKA&maskExp,
	}
}

// Check reports a field too large for its bits (ErrRange).
func (t TLV) Check() error {
	if t.R > MaxR || t.RTE > MaxExp || t.RWD > MaxExp || t.RKA > MaxExp || t.Mode > ModeReserved || t.RRSTAT > 3 {
		return ErrRange
	}
	return nil
}

// AppendTLV appends the whole LLDP TLV — header (type 127, length 9),
// OUI, subtype and body — to b.
func (t TLV) AppendTLV(b []byte) []byte {
	body := t.Body()
	b = append(b, 0xFE, Len, OUI8021[0], OUI8021[1], OUI8021[2], Subtype)
	return append(b, body[:]...)
}

func maxROL(local, peer uint8) (uint8, bool) {
	if peer >= local {
		return peer, true
	}
	return local, false
}

// Negotiate returns the TLV a side sends, and whose R, RTE, RWD and RKA
// its ECP and VDP use, after it received peer; local is its own
// configuration (its Mode says which side it is). It is lldpad's rule
// (lldp_evb22.c), checked against openlldp's qbg22 vectors:
//
//   - R, RTE, RWD and RKA are each the larger of the local and received
//     value; ROL is set for RWD and RKA when the received value was used
//     (received ≥ local);
//   - a bridge copies the station-status octet it received and sets
//     RRCTR = RRCAP ∧ received RRREQ;
//   - a station copies the bridge-status octet it received and sets
//     RRSTAT from the received RRCTR.
//
// Group IDs are usable when the result has both BGID and SGID.
func Negotiate(local, peer TLV) TLV {
	t := local
	t.R = max(local.R, peer.R)
	t.RTE = max(local.RTE, peer.RTE)
	t.RWD, t.ROLRWD = maxROL(local.RWD, peer.RWD)
	t.RKA, t.ROLRKA = maxROL(local.RKA, peer.RKA)
	if local.Mode == ModeBridge {
		t.SGID, t.RRREQ, t.RRSTAT = peer.SGID, peer.RRREQ, peer.RRSTAT
		t.RRCTR = local.RRCAP && peer.RRREQ
	} else {
		t.BGID, t.RRCAP, t.RRCTR = peer.BGID, peer.RRCAP, peer.RRCTR
		t.RRSTAT = RRStatDisabled
		if peer.RRCTR {
			t.RRSTAT = RRStatEnabled
		}
	}
	return t
}

// GroupIDs reports whether both sides support group IDs (BGID ∧ SGID),
// which VDP's GroupID filter formats need.
func (t TLV) GroupIDs() bool { return t.BGID && t.SGID }
