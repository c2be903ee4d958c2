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
	// MaxETagReserved is the largest value of the two Re- bits.
	MaxETagReserved = 3

	// Bit positions in the 64-bit word E-TCI<<16 | next EtherType.
	shiftPCP       = 61
	bitDEI         = 1 << 60
	shiftIngBase   = 48
	shiftResv      = 46
	shiftGRP       = 44
	shiftBase      = 32
	shiftIngExt    = 24
	shiftExt       = 16
	maskBase       = 0x0FFF
	shiftECIDExt   = 12
	maskTwoBits    = 0x3
	etagFieldsMask = 1<<16 - 1
)

// ETag is an IEEE 802.1BR E-Tag together with the EtherType that follows
// it, kept as on the wire in one 64-bit word: a comparable value that
// decodes, copies and compares in a register, and can be a map key. Every
// value of ETag is encodable; its fields are read with its methods.
//
// Build an ETag from ETagFields (which checks every field's range) or with
// ETagForECID, or decode one with ParseETag or an ETagHeader.
type ETag struct {
	// v holds the 6-byte E-TCI in bits 63..16 and the next EtherType in
	// bits 15..0: the eight bytes after the TPID as one big-endian number.
	v uint64
}

// ETagFields holds an E-Tag's fields one by one, for building an ETag:
// ETagFields.ETag checks that each value fits its width on the wire.
type ETagFields struct {
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

// ETag checks every field's range and packs the fields into an ETag. It
// fails with ErrRange (a *FieldError naming the field).
func (f ETagFields) ETag() (ETag, error) {
	switch {
	case f.PCP > MaxPCP:
		return ETag{}, rangeErr("E-Tag", "E-PCP", uint64(f.PCP), MaxPCP)
	case f.IngressECIDBase > MaxECIDBase:
		return ETag{}, rangeErr("E-Tag", "Ingress_E-CID_base", uint64(f.IngressECIDBase), MaxECIDBase)
	case f.Reserved > MaxETagReserved:
		return ETag{}, rangeErr("E-Tag", "Re-", uint64(f.Reserved), MaxETagReserved)
	case f.GRP > MaxGRP:
		return ETag{}, rangeErr("E-Tag", "GRP", uint64(f.GRP), MaxGRP)
	case f.ECIDBase > MaxECIDBase:
		return ETag{}, rangeErr("E-Tag", "E-CID_base", uint64(f.ECIDBase), MaxECIDBase)
	}
	return ETag{uint64(f.PCP)<<shiftPCP | uint64(b2u(f.DEI))<<60 | uint64(f.IngressECIDBase)<<shiftIngBase |
		uint64(f.Reserved)<<shiftResv | uint64(f.GRP)<<shiftGRP | uint64(f.ECIDBase)<<shiftBase |
		uint64(f.IngressECIDExt)<<shiftIngExt | uint64(f.ECIDExt)<<shiftExt | uint64(f.EtherType)}, nil
}

// ETagForECID returns the E-Tag of a point-to-point E-channel: GRP 0, the
// whole E-CID ecid, every other field 0. It is what a port extender pushes
// on an upstream frame from extended port ecid, and what a controlling
// bridge pushes on a unicast frame for it. It fails with ErrRange when
// ecid > MaxECID.
func ETagForECID(ecid uint32) (ETag, error) {
	return ETag{}.WithECID(ecid)
}

// ETagFromWord returns the ETag whose E-TCI is the low 48 bits of tci (as
// Wireshark prints it: E4 is 0x70c520ff1234) and whose next EtherType is
// etherType. Every 48-bit E-TCI is an E-Tag.
func ETagFromWord(tci uint64, etherType uint16) ETag {
	return ETag{tci<<16 | uint64(etherType)}
}

// TCI returns the 48-bit E-TCI.
func (e ETag) TCI() uint64 { return e.v >> 16 }

// PCP returns E-PCP.
func (e ETag) PCP() uint8 { return uint8(e.v >> shiftPCP) }

// DEI returns E-DEI.
func (e ETag) DEI() bool { return e.v&bitDEI != 0 }

// IngressECIDBase returns Ingress_E-CID_base.
func (e ETag) IngressECIDBase() uint16 { return uint16(e.v>>shiftIngBase) & maskBase }

// Reserved returns the two Re- bits.
func (e ETag) Reserved() uint8 { return uint8(e.v>>shiftResv) & maskTwoBits }

// GRP returns GRP.
func (e ETag) GRP() uint8 { return uint8(e.v>>shiftGRP) & maskTwoBits }

// ECIDBase returns E-CID_base.
func (e ETag) ECIDBase() uint16 { return uint16(e.v>>shiftBase) & maskBase }

// IngressECIDExt returns Ingress_E-CID_ext.
func (e ETag) IngressECIDExt() uint8 { return uint8(e.v >> shiftIngExt) }

// ECIDExt returns E-CID_ext.
func (e ETag) ECIDExt() uint8 { return uint8(e.v >> shiftExt) }

// EtherType returns the EtherType that follows the tag.
func (e ETag) EtherType() uint16 { return uint16(e.v) }

// ECID returns the whole E-CID, E-CID_ext<<12 | E-CID_base (20 bits), the
// number Wireshark prints as "E-CID" (it leaves GRP out).
func (e ETag) ECID() uint32 { return uint32(e.ECIDExt())<<shiftECIDExt | uint32(e.ECIDBase()) }

// IngressECID returns the whole Ingress_E-CID, Ingress_E-CID_ext<<12 |
// Ingress_E-CID_base.
func (e ETag) IngressECID() uint32 {
	return uint32(e.IngressECIDExt())<<shiftECIDExt | uint32(e.IngressECIDBase())
}

// Multicast reports whether the tag names a point-to-multipoint E-channel
// (GRP != 0), which each port extender replicates to its member ports.
func (e ETag) Multicast() bool { return e.GRP() != 0 }

// Channel returns the full E-channel identifier GRP<<20 | E-CID (22 bits):
// the key under which a bridge keeps a point-to-point or point-to-multipoint
// E-channel, since the same E-CID may be used under different GRP values.
func (e ETag) Channel() uint32 { return uint32(e.GRP())<<20 | e.ECID() }

// WithECID returns e with E-CID_ext and E-CID_base set from the whole
// 20-bit E-CID ecid. It fails with ErrRange above MaxECID.
func (e ETag) WithECID(ecid uint32) (ETag, error) {
	if ecid > MaxECID {
		return e, rangeErr("E-Tag", "E-CID", uint64(ecid), MaxECID)
	}
	const mask = maskBase<<shiftBase | 0xFF<<shiftExt
	v := uint64(ecid&maskBase)<<shiftBase | uint64(ecid>>shiftECIDExt)<<shiftExt
	return ETag{e.v&^mask | v}, nil
}

// WithIngressECID returns e with Ingress_E-CID_ext and Ingress_E-CID_base set
// from the whole 20-bit Ingress_E-CID ecid. It fails with ErrRange above
// MaxECID.
func (e ETag) WithIngressECID(ecid uint32) (ETag, error) {
	if ecid > MaxECID {
		return e, rangeErr("E-Tag", "Ingress_E-CID", uint64(ecid), MaxECID)
	}
	const mask = maskBase<<shiftIngBase | 0xFF<<shiftIngExt
	v := uint64(ecid&maskBase)<<shiftIngBase | uint64(ecid>>shiftECIDExt)<<shiftIngExt
	return ETag{e.v&^mask | v}, nil
}

// WithGRP returns e with GRP set to grp. It fails with ErrRange above MaxGRP.
func (e ETag) WithGRP(grp uint8) (ETag, error) {
	if grp > MaxGRP {
		return e, rangeErr("E-Tag", "GRP", uint64(grp), MaxGRP)
	}
	return ETag{e.v&^(maskTwoBits<<shiftGRP) | uint64(grp)<<shiftGRP}, nil
}

// WithEtherType returns e with the next EtherType set to etherType.
func (e ETag) WithEtherType(etherType uint16) ETag {
	return ETag{e.v&^etagFieldsMask | uint64(etherType)}
}

// Fields returns e's fields one by one.
func (e ETag) Fields() ETagFields {
	return ETagFields{
		PCP:             e.PCP(),
		DEI:             e.DEI(),
		IngressECIDBase: e.IngressECIDBase(),
		Reserved:        e.Reserved(),
		GRP:             e.GRP(),
		ECIDBase:        e.ECIDBase(),
		IngressECIDExt:  e.IngressECIDExt(),
		ECIDExt:         e.ECIDExt(),
		EtherType:       e.EtherType(),
	}
}

// Validate applies a conformant sender's rule that the Re- bits are clear
// (ErrReserved).
func (e ETag) Validate() error {
	if r := e.Reserved(); r != 0 {
		return &FieldError{Tag: "E-Tag", Field: "Re-", Value: uint64(r), Max: 0, Err: ErrReserved}
	}
	return nil
}

// ParseETag decodes the E-Tag header at the start of b: TPID 0x893F, the
// 6-byte E-TCI and the next EtherType (ETagHeaderLen bytes). It fails with
// ErrShortBuffer or ErrEtherType; reserved bits are decoded as they are.
func ParseETag(b []byte) (ETag, error) {
	if len(b) < ETagHeaderLen || binary.BigEndian.Uint16(b) != EtherTypeETag {
		return ETag{}, etagHeaderErr(b)
	}
	return ETag{binary.BigEndian.Uint64(b[2:])}, nil
}

func etagHeaderErr(b []byte) error {
	if len(b) < ETagHeaderLen {
		return shortErr("E-Tag", 0, ETagHeaderLen, len(b))
	}
	return &DecodeError{Tag: "E-Tag", Err: ErrEtherType}
}

// ParseETagBody decodes an E-Tag whose TPID has already been consumed: b
// starts at the E-TCI, which the next EtherType follows (ETagHeaderLen-2
// bytes).
func ParseETagBody(b []byte) (ETag, error) {
	if len(b) < ETagHeaderLen-2 {
		return ETag{}, shortErr("E-Tag", 0, ETagHeaderLen-2, len(b))
	}
	return ETag{binary.BigEndian.Uint64(b)}, nil
}

// Put encodes the E-Tag header (TPID, E-TCI, next EtherType) into the first
// ETagHeaderLen bytes of b and returns ETagHeaderLen, or fails with
// ErrShortBuffer.
func (e ETag) Put(b []byte) (int, error) {
	if len(b) < ETagHeaderLen {
		return 0, shortErr("E-Tag", 0, ETagHeaderLen, len(b))
	}
	binary.BigEndian.PutUint16(b, EtherTypeETag)
	binary.BigEndian.PutUint64(b[2:], e.v)
	return ETagHeaderLen, nil
}

// PutBody encodes the E-TCI and next EtherType, without the TPID, into the
// first ETagHeaderLen-2 bytes of b; the counterpart of ParseETagBody.
func (e ETag) PutBody(b []byte) (int, error) {
	if len(b) < ETagHeaderLen-2 {
		return 0, shortErr("E-Tag", 0, ETagHeaderLen-2, len(b))
	}
	binary.BigEndian.PutUint64(b, e.v)
	return ETagHeaderLen - 2, nil
}

// AppendBinary appends the encoded E-Tag header to b (encoding.BinaryAppender).
func (e ETag) AppendBinary(b []byte) ([]byte, error) {
	b = binary.BigEndian.AppendUint16(b, EtherTypeETag)
	return binary.BigEndian.AppendUint64(b, e.v), nil
}

// MarshalBinary returns the encoded E-Tag header (encoding.BinaryMarshaler).
func (e ETag) MarshalBinary() ([]byte, error) {
	return e.AppendBinary(make([]byte, 0, ETagHeaderLen))
}

// UnmarshalBinary decodes an E-Tag header of exactly ETagHeaderLen bytes
// (encoding.BinaryUnmarshaler).
func (e *ETag) UnmarshalBinary(b []byte) error {
	if len(b) > ETagHeaderLen {
		return &DecodeError{Tag: "E-Tag", Need: ETagHeaderLen, Have: len(b), Err: ErrTrailing}
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
		e.PCP(), b2u(e.DEI()), e.IngressECIDBase(), e.Reserved(), e.GRP(), e.ECIDBase(), e.IngressECIDExt(), e.ECIDExt(), e.EtherType())
}
