package vntag

import (
	"encoding/binary"
	"fmt"
)

// The VNTag, network byte order (bit 31 is the most significant bit of the
// first byte after the TPID):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-------------------------------+-------------------------------+
//	|        TPID (0x8926)          |d|p|        dvif_id            |
//	+-------------------------------+-+-+---+-----------------------+
//	|l|r|ver|       svif_id         |        next EtherType         |
//	+-+-+---+-----------------------+-------------------------------+
const (
	// EtherTypeVNTag is the TPID of a Cisco VNTag.
	EtherTypeVNTag = 0x8926

	// TagLen is the number of bytes a VNTag adds to a frame: the TPID and
	// the 4-byte tag.
	TagLen = 6
	// TagHeaderLen is the length of a VNTag header as decoded and encoded
	// here: TPID, tag and the next EtherType.
	TagHeaderLen = TagLen + 2

	// MaxDVIF is the largest dvif_id (14 bits).
	MaxDVIF = 1<<14 - 1
	// MaxSVIF is the largest svif_id (12 bits).
	MaxSVIF = 1<<12 - 1
	// MaxVersion is the largest value of the 2-bit version field; only 0 is
	// defined.
	MaxVersion = 3

	// Bit positions in the 32-bit tag word.
	bitDirection = 1 << 31
	bitPointer   = 1 << 30
	shiftDVIF    = 16
	bitLooped    = 1 << 15
	bitReserved  = 1 << 14
	shiftVersion = 12
	maskVersion  = 0x3
	maskSVIF     = 0x0FFF
)

// Direction is the VNTag d bit.
type Direction uint8

const (
	// ToBridge (d=0): the interface virtualizer sends the frame up to the
	// bridge; svif_id names the vif it came from.
	ToBridge Direction = 0
	// FromBridge (d=1): the bridge sends the frame down to the interface
	// virtualizer; dvif_id names the vif, or vif list, to deliver to.
	FromBridge Direction = 1
)

// String returns Wireshark's label for the direction.
func (d Direction) String() string {
	switch d {
	case ToBridge:
		return "To Bridge"
	case FromBridge:
		return "From Bridge"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// Tag is a Cisco VNTag together with the EtherType that follows it, kept as
// on the wire in one 64-bit word, as netip.Addr keeps an address: a
// comparable value that decodes, copies and compares in a register, and
// can be a map key. Every value of Tag is encodable; its fields are read
// with its methods.
//
// Build a Tag from TagFields (which checks every field's range), with
// Upstream or Downstream, or decode one with ParseTag or a TagHeader. The
// zero Tag is an upstream tag from vif 0 with next EtherType 0.
type Tag struct {
	// v holds the 4-byte tag in bits 47..16 and the next EtherType in bits
	// 15..0: the six bytes after the TPID, read as one big-endian number.
	v uint64
}

// TagFields holds a VNTag's fields one by one, for building a Tag (the
// pattern of gVisor's EthernetFields): TagFields.Tag checks that each value
// fits its width on the wire.
type TagFields struct {
	// Direction is the d bit: ToBridge (0) or FromBridge (1).
	Direction Direction
	// Pointer is the p bit: when set, DVIF is a vif_list_id naming a list
	// of vifs to replicate to (flooding, multicast) instead of one vif.
	Pointer bool
	// DVIF is the 14-bit dvif_id (0..MaxDVIF): the destination vif or vif
	// list of a downstream frame; 0 on upstream frames.
	DVIF uint16
	// Looped is the l bit: the bridge sends a multicast frame back to the
	// interface virtualizer it came from, which must not deliver it to the
	// vif named by SVIF (source pruning).
	Looped bool
	// Reserved is the r bit: sent as 0, ignored on receive.
	Reserved bool
	// Version is the 2-bit version (0..MaxVersion); only 0 is defined.
	Version uint8
	// SVIF is the 12-bit svif_id (0..MaxSVIF): the source vif of an
	// upstream frame, or the vif to prune from a looped downstream frame.
	SVIF uint16
	// EtherType is the EtherType (or TPID of an inner VLAN tag) that
	// follows the tag; a value below 0x0600 is an 802.3 length.
	EtherType uint16
}

// Tag checks every field's range and packs the fields into a Tag. It fails
// with ErrRange (a *FieldError naming the field) when Direction > 1,
// DVIF > MaxDVIF, Version > MaxVersion or SVIF > MaxSVIF.
func (f TagFields) Tag() (Tag, error) {
	switch {
	case f.Direction > FromBridge:
		return Tag{}, rangeErr("VNTag", "d", uint64(f.Direction), 1)
	case f.DVIF > MaxDVIF:
		return Tag{}, rangeErr("VNTag", "dvif_id", uint64(f.DVIF), MaxDVIF)
	case f.Version > MaxVersion:
		return Tag{}, rangeErr("VNTag", "version", uint64(f.Version), MaxVersion)
	case f.SVIF > MaxSVIF:
		return Tag{}, rangeErr("VNTag", "svif_id", uint64(f.SVIF), MaxSVIF)
	}
	w := uint32(f.Direction)<<31 | b2u(f.Pointer)<<30 | uint32(f.DVIF)<<shiftDVIF |
		b2u(f.Looped)<<15 | b2u(f.Reserved)<<14 | uint32(f.Version)<<shiftVersion | uint32(f.SVIF)
	return TagFromWord(w, f.EtherType), nil
}

// Upstream returns the tag an interface virtualizer pushes on a frame from
// vif svif: d=0, svif_id=svif, everything else 0. It fails with ErrRange
// when svif > MaxSVIF.
func Upstream(svif uint16) (Tag, error) {
	if svif > MaxSVIF {
		return Tag{}, rangeErr("VNTag", "svif_id", uint64(svif), MaxSVIF)
	}
	return TagFromWord(uint32(svif), 0), nil
}

// Downstream returns the tag a bridge pushes on a frame for vif dvif: d=1,
// dvif_id=dvif, everything else 0. It fails with ErrRange when
// dvif > MaxDVIF.
func Downstream(dvif uint16) (Tag, error) {
	if dvif > MaxDVIF {
		return Tag{}, rangeErr("VNTag", "dvif_id", uint64(dvif), MaxDVIF)
	}
	return TagFromWord(bitDirection|uint32(dvif)<<shiftDVIF, 0), nil
}

// TagFromWord returns the Tag whose 4-byte tag is the big-endian word w
// (as the spec's examples print it: V4 is 0xC0428005) and whose next
// EtherType is etherType. Every word is a tag.
func TagFromWord(w uint32, etherType uint16) Tag {
	return Tag{uint64(w)<<16 | uint64(etherType)}
}

// Word returns the 4-byte tag as a big-endian 32-bit word.
func (t Tag) Word() uint32 { return uint32(t.v >> 16) }

// Direction returns the d bit.
func (t Tag) Direction() Direction { return Direction(t.v >> 47) }

// Pointer returns the p bit: DVIF is a vif_list_id.
func (t Tag) Pointer() bool { return t.Word()&bitPointer != 0 }

// DVIF returns the 14-bit dvif_id.
func (t Tag) DVIF() uint16 { return uint16(t.v>>32) & MaxDVIF }

// Looped returns the l bit.
func (t Tag) Looped() bool { return t.Word()&bitLooped != 0 }

// Reserved returns the r bit.
func (t Tag) Reserved() bool { return t.Word()&bitReserved != 0 }

// Version returns the 2-bit version.
func (t Tag) Version() uint8 { return uint8(t.v>>(16+shiftVersion)) & maskVersion }

// SVIF returns the 12-bit svif_id.
func (t Tag) SVIF() uint16 { return uint16(t.v>>16) & maskSVIF }

// EtherType returns the EtherType that follows the tag.
func (t Tag) EtherType() uint16 { return uint16(t.v) }

// WithEtherType returns t with the next EtherType set to etherType.
func (t Tag) WithEtherType(etherType uint16) Tag {
	return Tag{t.v&^0xFFFF | uint64(etherType)}
}

// Fields returns t's fields one by one.
func (t Tag) Fields() TagFields {
	return TagFields{
		Direction: t.Direction(),
		Pointer:   t.Pointer(),
		DVIF:      t.DVIF(),
		Looped:    t.Looped(),
		Reserved:  t.Reserved(),
		Version:   t.Version(),
		SVIF:      t.SVIF(),
		EtherType: t.EtherType(),
	}
}

// Validate applies a conformant sender's rules: the r bit clear
// (ErrReserved) and version 0 (ErrVersion). Decoding does not call it, so
// that every tag on a wire can be seen and re-encoded as it was; an
// interface virtualizer or bridge that drops non-conformant tags does.
func (t Tag) Validate() error {
	if t.Reserved() {
		return &FieldError{Tag: "VNTag", Field: "r", Value: 1, Max: 0, Err: ErrReserved}
	}
	if v := t.Version(); v != 0 {
		return &FieldError{Tag: "VNTag", Field: "version", Value: uint64(v), Max: 0, Err: ErrVersion}
	}
	return nil
}

// ParseTag decodes the VNTag header at the start of b: the TPID 0x8926, the
// 4-byte tag and the next EtherType (TagHeaderLen bytes). It fails with
// ErrShortBuffer or ErrEtherType; reserved bits and versions are decoded as
// they are (see Validate).
func ParseTag(b []byte) (Tag, error) {
	if len(b) >= TagHeaderLen {
		// One load for the TPID, the tag and the next EtherType.
		if v := binary.BigEndian.Uint64(b); v>>48 == EtherTypeVNTag {
			return Tag{v & tagMask}, nil
		}
	}
	return Tag{}, tagHeaderErr(b)
}

// tagMask keeps the six bytes after the TPID of an 8-byte big-endian load.
const tagMask = 1<<48 - 1

// tagHeaderErr explains why b does not start with a VNTag header. It is a
// function of its own so that ParseTag stays small enough to inline.
func tagHeaderErr(b []byte) error {
	if len(b) < TagHeaderLen {
		return shortErr("VNTag", 0, TagHeaderLen, len(b))
	}
	return &DecodeError{Tag: "VNTag", Err: ErrEtherType}
}

// ParseTagBody decodes a VNTag whose TPID has already been consumed: b
// starts at the 4-byte tag, which the next EtherType follows (TagHeaderLen-2
// bytes). This is where gopacket and most dissectors stand after reading the
// EtherType 0x8926.
func ParseTagBody(b []byte) (Tag, error) {
	if len(b) < TagHeaderLen-2 {
		return Tag{}, shortErr("VNTag", 0, TagHeaderLen-2, len(b))
	}
	return TagFromWord(binary.BigEndian.Uint32(b), binary.BigEndian.Uint16(b[4:])), nil
}

// Put encodes the VNTag header (TPID, tag, next EtherType) into the first
// TagHeaderLen bytes of b and returns TagHeaderLen, or fails with
// ErrShortBuffer.
func (t Tag) Put(b []byte) (int, error) {
	if len(b) < TagHeaderLen {
		return 0, shortErr("VNTag", 0, TagHeaderLen, len(b))
	}
	binary.BigEndian.PutUint64(b, EtherTypeVNTag<<48|t.v)
	return TagHeaderLen, nil
}

// PutBody encodes the tag and the next EtherType, without the TPID, into
// the first TagHeaderLen-2 bytes of b; the counterpart of ParseTagBody.
func (t Tag) PutBody(b []byte) (int, error) {
	if len(b) < TagHeaderLen-2 {
		return 0, shortErr("VNTag", 0, TagHeaderLen-2, len(b))
	}
	binary.BigEndian.PutUint32(b, t.Word())
	binary.BigEndian.PutUint16(b[4:], t.EtherType())
	return TagHeaderLen - 2, nil
}

// AppendBinary appends the encoded VNTag header to b (encoding.BinaryAppender).
func (t Tag) AppendBinary(b []byte) ([]byte, error) {
	return binary.BigEndian.AppendUint64(b, EtherTypeVNTag<<48|t.v), nil
}

// MarshalBinary returns the encoded VNTag header (encoding.BinaryMarshaler).
func (t Tag) MarshalBinary() ([]byte, error) {
	return t.AppendBinary(make([]byte, 0, TagHeaderLen))
}

// UnmarshalBinary decodes a VNTag header of exactly TagHeaderLen bytes
// (encoding.BinaryUnmarshaler).
func (t *Tag) UnmarshalBinary(b []byte) error {
	if len(b) > TagHeaderLen {
		return &DecodeError{Tag: "VNTag", Need: TagHeaderLen, Have: len(b), Err: ErrTrailing}
	}
	v, err := ParseTag(b)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// String formats the tag with Wireshark's field names.
func (t Tag) String() string {
	return fmt.Sprintf("VNTag{dir=%d ptr=%d dst=%d looped=%d r=%d version=%d src=%d etype=0x%04x}",
		t.Direction(), b2u(t.Pointer()), t.DVIF(), b2u(t.Looped()), b2u(t.Reserved()), t.Version(), t.SVIF(), t.EtherType())
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// SplitDVIF splits a 14-bit dvif_id into the 2-bit "downlink ports" field
// and the 12-bit destination that one revision of Wireshark's dissector (and
// some descriptions of FEX hardware) show instead of one 14-bit field.
func SplitDVIF(dvif uint16) (downlinkPorts uint8, dst uint16) {
	return uint8(dvif>>12) & 0x3, dvif & 0x0FFF
}
