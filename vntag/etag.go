package vntag

import (
	"encoding/binary"
	"fmt"
)

// The IEEE 802.1BR E-Tag (E-TCI), network byte order:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-------------------------------+-----+-+-----------------------+
//	|        TPID (0x893F)          |E-PCP|D| Ingress_E-CID_base    |
//	+---+---+-----------------------+-----+-+-------+---------------+
//	|Re-|GRP|      E-CID_base       |Ingress_E-CID_ext|  E-CID_ext  |
//	+---+---+-----------------------+---------------+---------------+
//	|        next EtherType         |
//	+-------------------------------+
//
// (D is E-DEI.) The whole E-CID is E-CID_ext (high 8 bits) followed by
// E-CID_base (low 12 bits); likewise Ingress_E-CID.
const (
	// EtherTypeETag is the TPID of an IEEE 802.1BR E-Tag.
	EtherTypeETag = 0x893F

	// ETagLen is the number of bytes an E-Tag adds to a frame: the TPID and
	// the 6-byte E-TCI.
	ETagLen = 8
	// ETagHeaderLen is the length of an E-Tag header as decoded and encoded
	// here: TPID, E-TCI and the next EtherType.
	ETagHeaderLen = ETagLen + 2

	// MaxECIDBase is the largest E-CID_base or Ingress_E-CID_base (12 bits).
	MaxECIDBase = 1<<12 - 1
	// MaxECID is the largest whole E-CID or Ingress_E-CID (20 bits: ext and
	// base).
	MaxECID = 1<<20 - 1
	// MaxPCP is the largest E-PCP (3 bits).
	MaxPCP = 7
	// MaxGRP is the largest GRP (2 bits).
	MaxGRP = 3

	shiftPCP      = 13
	bitDEI        = 1 << 12
	maskBase      = 0x0FFF
	shiftResv     = 14
	shiftGRP      = 12
	maskTwoBits   = 0x3
	shiftECIDExt  = 12
	maxETagResved = 3
)

// ETag is an IEEE 802.1BR E-Tag with the EtherType that follows it. ETag is
// comparable and can be a map key.
type ETag struct {
	// PCP is E-PCP (0..7): the frame's priority on the port-extender link,
	// like a C-tag's PCP.
	PCP uint8
	// DEI is E-DEI: drop eligible.
	DEI bool
	// IngressECIDBase is Ingress_E-CID_base (12 bits). On a downstream
	// multicast frame the controlling bridge puts the E-CID of the ingress
	// extended port in Ingress_E-CID, and a port extender must not
	// replicate the frame back to that port; 0 means no pruning.
	IngressECIDBase uint16
	// Reserved is the two Re- bits (0..3): sent as 0, ignored on receive.
	Reserved uint8
	// GRP (0..3): 0 is a point-to-point E-channel (E-CID names one extended
	// port), 1..3 a point-to-multipoint one (multicast and flooding).
	GRP uint8
	// ECIDBase is E-CID_base (12 bits).
	ECIDBase uint16
	// IngressECIDExt is Ingress_E-CID_ext, the high 8 bits of Ingress_E-CID.
	IngressECIDExt uint8
	// ECIDExt is E-CID_ext, the high 8 bits of E-CID.
	ECIDExt uint8
	// EtherType is the EtherType (or inner TPID) that follows the tag.
	EtherType uint16
}

// ECID returns the whole E-CID, E-CID_ext<<12 | E-CID_base (20 bits), the
// number Wireshark prints as "E-CID" (it leaves GRP out).
func (e ETag) ECID() uint32 { return uint32(e.ECIDExt)<<shiftECIDExt | uint32(e.ECIDBase&maskBase) }

// IngressECID returns the whole Ingress_E-CID, Ingress_E-CID_ext<<12 |
// Ingress_E-CID_base.
func (e ETag) IngressECID() uint32 {
	return uint32(e.IngressECIDExt)<<shiftECIDExt | uint32(e.IngressECIDBase&maskBase)
}

// SetECID sets E-CID_ext and E-CID_base from a whole 20-bit E-CID. It fails
// with ErrRange above MaxECID and leaves e unchanged.
func (e *ETag) SetECID(ecid uint32) error {
	if ecid > MaxECID {
		return rangeErr("E-Tag", "E-CID", uint64(ecid), MaxECID)
	}
	e.ECIDExt, e.ECIDBase = uint8(ecid>>shiftECIDExt), uint16(ecid)&maskBase
	return nil
}

// SetIngressECID sets Ingress_E-CID_ext and Ingress_E-CID_base from a whole
// 20-bit Ingress_E-CID. It fails with ErrRange above MaxECID.
func (e *ETag) SetIngressECID(ecid uint32) error {
	if ecid > MaxECID {
		return rangeErr("E-Tag", "Ingress_E-CID", uint64(ecid), MaxECID)
	}
	e.IngressECIDExt, e.IngressECIDBase = uint8(ecid>>shiftECIDExt), uint16(ecid)&maskBase
	return nil
}

// Multicast reports whether the tag names a point-to-multipoint E-channel
// (GRP != 0), which each port extender replicates to its member ports.
func (e ETag) Multicast() bool { return e.GRP != 0 }

// Channel returns the full E-channel identifier GRP<<20 | E-CID (22 bits):
// the key under which a bridge keeps a point-to-point or point-to-multipoint
// E-channel, since the same E-CID may be used under different GRP values.
func (e ETag) Channel() uint32 { return uint32(e.GRP&maskTwoBits)<<20 | e.ECID() }

// TCI returns the 48-bit E-TCI as Wireshark prints it in its summary line
// (E4 is 0x70c520ff1234). Fields out of range are masked to their width.
func (e ETag) TCI() uint64 {
	w0, w1 := e.words()
	return uint64(w0)<<32 | uint64(w1)<<16 | uint64(e.IngressECIDExt)<<8 | uint64(e.ECIDExt)
}

func (e ETag) words() (uint16, uint16) {
	w0 := uint16(e.PCP&MaxPCP)<<shiftPCP | uint16(b2u(e.DEI))<<12 | e.IngressECIDBase&maskBase
	w1 := uint16(e.Reserved&maskTwoBits)<<shiftResv | uint16(e.GRP&maskTwoBits)<<shiftGRP | e.ECIDBase&maskBase
	return w0, w1
}

// ParseETag decodes the E-Tag header at the start of b: TPID 0x893F, the
// 6-byte E-TCI and the next EtherType (ETagHeaderLen bytes). It fails with
// ErrShortBuffer or ErrEtherType; reserved bits are decoded as they are.
func ParseETag(b []byte) (ETag, error) {
	if len(b) < ETagHeaderLen {
		return ETag{}, shortErr("E-Tag", 0, ETagHeaderLen, len(b))
	}
	if binary.BigEndian.Uint16(b) != EtherTypeETag {
		return ETag{}, &DecodeError{Tag: "E-Tag", Err: ErrEtherType}
	}
	return etagFromWire(b[2:]), nil
}

// ParseETagBody decodes an E-Tag whose TPID has already been consumed: b
// starts at the E-TCI, which the next EtherType follows (ETagHeaderLen-2
// bytes).
func ParseETagBody(b []byte) (ETag, error) {
	if len(b) < ETagHeaderLen-2 {
		return ETag{}, shortErr("E-Tag", 0, ETagHeaderLen-2, len(b))
	}
	return etagFromWire(b), nil
}

// etagFromWire decodes the E-TCI and next EtherType in b[:8]; the caller has
// checked the length.
func etagFromWire(b []byte) ETag {
	_ = b[7]
	w0 := binary.BigEndian.Uint16(b)
	w1 := binary.BigEndian.Uint16(b[2:])
	return ETag{
		PCP:             uint8(w0 >> shiftPCP),
		DEI:             w0&bitDEI != 0,
		IngressECIDBase: w0 & maskBase,
		Reserved:        uint8(w1 >> shiftResv),
		GRP:             uint8(w1>>shiftGRP) & maskTwoBits,
		ECIDBase:        w1 & maskBase,
		IngressECIDExt:  b[4],
		ECIDExt:         b[5],
		EtherType:       binary.BigEndian.Uint16(b[6:]),
	}
}

func (e ETag) checkRange() error {
	switch {
	case e.PCP > MaxPCP:
		return rangeErr("E-Tag", "E-PCP", uint64(e.PCP), MaxPCP)
	case e.IngressECIDBase > MaxECIDBase:
		return rangeErr("E-Tag", "Ingress_E-CID_base", uint64(e.IngressECIDBase), MaxECIDBase)
	case e.Reserved > maxETagResved:
		return rangeErr("E-Tag", "Re-", uint64(e.Reserved), maxETagResved)
	case e.GRP > MaxGRP:
		return rangeErr("E-Tag", "GRP", uint64(e.GRP), MaxGRP)
	case e.ECIDBase > MaxECIDBase:
		return rangeErr("E-Tag", "E-CID_base", uint64(e.ECIDBase), MaxECIDBase)
	}
	return nil
}

// Validate applies a conformant sender's rules: every field in range
// (ErrRange) and the Re- bits clear (ErrReserved).
func (e ETag) Validate() error {
	if err := e.checkRange(); err != nil {
		return err
	}
	if e.Reserved != 0 {
		return &FieldError{Tag: "E-Tag", Field: "Re-", Value: uint64(e.Reserved), Max: 0, Err: ErrReserved}
	}
	return nil
}

// Put encodes the E-Tag header (TPID, E-TCI, next EtherType) into the first
// ETagHeaderLen bytes of b and returns ETagHeaderLen. It fails with ErrRange
// when a field does not fit and with ErrShortBuffer when b is too short.
func (e ETag) Put(b []byte) (int, error) {
	if err := e.checkRange(); err != nil {
		return 0, err
	}
	if len(b) < ETagHeaderLen {
		return 0, shortErr("E-Tag", 0, ETagHeaderLen, len(b))
	}
	binary.BigEndian.PutUint16(b, EtherTypeETag)
	e.putBody(b[2:])
	return ETagHeaderLen, nil
}

// PutBody encodes the E-TCI and next EtherType, without the TPID, into the
// first ETagHeaderLen-2 bytes of b; the counterpart of ParseETagBody.
func (e ETag) PutBody(b []byte) (int, error) {
	if err := e.checkRange(); err != nil {
		return 0, err
	}
	if len(b) < ETagHeaderLen-2 {
		return 0, shortErr("E-Tag", 0, ETagHeaderLen-2, len(b))
	}
	e.putBody(b)
	return ETagHeaderLen - 2, nil
}

func (e ETag) putBody(b []byte) {
	_ = b[7]
	w0, w1 := e.words()
	binary.BigEndian.PutUint16(b, w0)
	binary.BigEndian.PutUint16(b[2:], w1)
	b[4], b[5] = e.IngressECIDExt, e.ECIDExt
	binary.BigEndian.PutUint16(b[6:], e.EtherType)
}

// AppendBinary appends the encoded E-Tag header to b (encoding.BinaryAppender).
func (e ETag) AppendBinary(b []byte) ([]byte, error) {
	if err := e.checkRange(); err != nil {
		return b, err
	}
	n := len(b)
	b = append(b, make([]byte, ETagHeaderLen)...)
	binary.BigEndian.PutUint16(b[n:], EtherTypeETag)
	e.putBody(b[n+2:])
	return b, nil
}

// MarshalBinary returns the encoded E-Tag header (encoding.BinaryMarshaler).
func (e ETag) MarshalBinary() ([]byte, error) {
	return e.AppendBinary(make([]byte, 0, ETagHeaderLen))
}

// UnmarshalBinary decodes an E-Tag header of exactly ETagHeaderLen bytes
// (encoding.BinaryUnmarshaler).
func (e *ETag) UnmarshalBinary(b []byte) error {
	if len(b) > ETagHeaderLen {
		return &DecodeError{Tag: "E-Tag", Need: ETagHeaderLen, Have: len(b), Err: ErrRange}
	}
	v, err := ParseETag(b)
	if err != nil {
		return err
	}
	*e = v
	return nil
}

// String formats the tag with Wireshark's field names.
func (e ETag) String() string {
	return fmt.Sprintf("E-Tag{pcp=%d dei=%d iecid_base=%d resv=%d group=%d ecid_base=%d iecid_ext=%d ecid_ext=%d etype=0x%04x}",
		e.PCP, b2u(e.DEI), e.IngressECIDBase, e.Reserved, e.GRP, e.ECIDBase, e.IngressECIDExt, e.ECIDExt, e.EtherType)
}
