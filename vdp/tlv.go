package vdp

import (
	"encoding/binary"
	"strconv"
)

// TLVType is the 7-bit type of a VDP TLV (802.1Qbg 41.2.1, Table 41-1).
type TLVType uint8

const (
	// TypeEnd (0) ends the VDPDU; lldpad and tshark stop at it. Ethernet
	// padding reads as End TLVs.
	TypeEnd TLVType = 0
	// TypePreAssociate (1): Pre-Associate, reserve nothing yet.
	TypePreAssociate TLVType = 1
	// TypePreAssociateRR (2): Pre-Associate with Resource Reservation.
	TypePreAssociateRR TLVType = 2
	// TypeAssociate (3): Associate.
	TypeAssociate TLVType = 3
	// TypeDeAssociate (4): De-Associate.
	TypeDeAssociate TLVType = 4
	// TypeManagerID (5): the VSI Manager ID, 16 bytes.
	TypeManagerID TLVType = 5
	// TypeOrg (127): organizationally defined, OUI then the
	// organization's bytes.
	TypeOrg TLVType = 127
)

// MaxTLVLen is the largest value length the 9-bit length field carries.
const MaxTLVLen = 1<<9 - 1

// TLVHeaderLen is the length of a TLV header.
const TLVHeaderLen = 2

// IsVSI reports whether t is one of the four VSI TLV types (1–4).
func (t TLVType) IsVSI() bool { return t >= TypePreAssociate && t <= TypeDeAssociate }

// String returns the TLV's name as tshark's vdp21 dissector spells it
// ("PreAssociate", "PreAssociate with RR", "Associate", "DeAssociate",
// "VSI Manager ID", "Organizationally defined").
func (t TLVType) String() string {
	switch t {
	case TypeEnd:
		return "End"
	case TypePreAssociate:
		return "PreAssociate"
	case TypePreAssociateRR:
		return "PreAssociate with RR"
	case TypeAssociate:
		return "Associate"
	case TypeDeAssociate:
		return "DeAssociate"
	case TypeManagerID:
		return "VSI Manager ID"
	case TypeOrg:
		return "Organizationally defined"
	}
	return "type(" + strconv.FormatUint(uint64(t), 10) + ")"
}

// appendTLVHeader appends a TLV header for a value of n bytes.
func appendTLVHeader(b []byte, t TLVType, n int) ([]byte, error) {
	if n > MaxTLVLen {
		return b, &FieldError{Field: "TLV length", Value: uint64(n), Err: ErrRange}
	}
	return append(b, byte(t)<<1|byte(n>>8), byte(n)), nil
}

// Decoder walks the TLVs of a VDPDU without copying or allocating, in the
// style of mdlayher/netlink's AttributeDecoder:
//
//	d := vdp.NewDecoder(payload)
//	for d.Next() {
//		switch d.Type() {
//		case vdp.TypeManagerID:
//			id := d.ManagerID()
//		case vdp.TypeAssociate:
//			d.VSI(&v)
//		}
//	}
//	if err := d.Err(); err != nil { … }
//
// Next stops at the end of the buffer or at an End TLV (a zero header, as
// Ethernet padding reads); a TLV that runs past the end stops it with
// ErrShortBuffer. Getters that find the TLV malformed set the error and
// stop the walk. Errors are bare sentinels. A Decoder is a small value;
// the zero Decoder has nothing to walk.
type Decoder struct {
	b   []byte
	off int // offset of the next TLV header
	cur int // offset of the current TLV header
	typ TLVType
	val []byte
	err error
}

// NewDecoder returns a Decoder over the VDPDU b (the ECP payload).
func NewDecoder(b []byte) Decoder { return Decoder{b: b} }

// Next advances to the next TLV and reports whether there is one.
func (d *Decoder) Next() bool {
	if d.err != nil || d.off >= len(d.b) {
		return false
	}
	rest := d.b[d.off:]
	if len(rest) < TLVHeaderLen {
		if rest[0] == 0 {
			d.off = len(d.b) // a last padding byte
			return false
		}
		d.err = ErrShortBuffer
		return false
	}
	h := binary.BigEndian.Uint16(rest)
	t, n := TLVType(h>>9), int(h&MaxTLVLen)
	if t == TypeEnd {
		d.off = len(d.b)
		return false
	}
	if len(rest)-TLVHeaderLen < n {
		d.cur, d.typ = d.off, t
		d.err = ErrShortBuffer
		return false
	}
	d.cur, d.typ, d.val = d.off, t, rest[TLVHeaderLen:TLVHeaderLen+n]
	d.off += TLVHeaderLen + n
	return true
}

// Type returns the current TLV's type.
func (d *Decoder) Type() TLVType { return d.typ }

// Bytes returns the current TLV's value; it aliases the VDPDU.
func (d *Decoder) Bytes() []byte { return d.val }

// Offset returns the VDPDU offset of the current TLV's header.
func (d *Decoder) Offset() int { return d.cur }

// Rest returns the bytes after the current TLV.
func (d *Decoder) Rest() []byte { return d.b[d.off:] }

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

func (d *Decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// ManagerID returns the current TLV as a Manager ID. It sets ErrType if
// the TLV is not type 5 and ErrLength if it is not 16 bytes long.
func (d *Decoder) ManagerID() ManagerID {
	switch {
	case d.typ != TypeManagerID:
		d.fail(ErrType)
	case len(d.val) != ManagerIDLen:
		d.fail(ErrLength)
	default:
		return ManagerID(d.val)
	}
	return ManagerID{}
}

// VSI decodes the current TLV, one of types 1–4, into v, reusing
// v.Filters' storage; v.Org is emptied. It sets ErrType, ErrLength,
// ErrFormat or ErrNoFilters, and leaves v partly filled when it does.
func (d *Decoder) VSI(v *VSI) {
	if !d.typ.IsVSI() {
		d.fail(ErrType)
		return
	}
	if err := v.decode(d.typ, d.val); err != nil {
		d.fail(err)
	}
}

// Org returns the current TLV as an organizationally defined TLV. It sets
// ErrType if it is not type 127 and ErrLength if it is shorter than its
// OUI.
func (d *Decoder) Org() Org {
	switch {
	case d.typ != TypeOrg:
		d.fail(ErrType)
	case len(d.val) < OUILen:
		d.fail(ErrLength)
	default:
		return Org{OUI: [3]byte(d.val), Data: d.val[OUILen:]}
	}
	return Org{}
}
