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

// Tag is a Cisco VNTag with the EtherType that follows it. The zero Tag is an
// upstream tag from vif 0 with no next EtherType. Tag is comparable and can
// be a map key.
type Tag struct {
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

// ParseTag decodes the VNTag header at the start of b: the TPID 0x8926, the
// 4-byte tag and the next EtherType (TagHeaderLen bytes). It fails with
// ErrShortBuffer or ErrEtherType; reserved bits and versions are decoded as
// they are (see Validate).
func ParseTag(b []byte) (Tag, error) {
	if len(b) < TagHeaderLen {
		return Tag{}, shortErr("VNTag", 0, TagHeaderLen, len(b))
	}
	if binary.BigEndian.Uint16(b) != EtherTypeVNTag {
		return Tag{}, &DecodeError{Tag: "VNTag", Err: ErrEtherType}
	}
	return tagFromWire(binary.BigEndian.Uint32(b[2:]), binary.BigEndian.Uint16(b[6:])), nil
}

// ParseTagBody decodes a VNTag whose TPID has already been consumed: b
// starts at the 4-byte tag, which the next EtherType follows (TagHeaderLen-2
// bytes). This is where gopacket and most dissectors stand after reading the
// EtherType 0x8926.
func ParseTagBody(b []byte) (Tag, error) {
	if len(b) < TagHeaderLen-2 {
		return Tag{}, shortErr("VNTag", 0, TagHeaderLen-2, len(b))
	}
	return tagFromWire(binary.BigEndian.Uint32(b), binary.BigEndian.Uint16(b[4:])), nil
}

func tagFromWire(w uint32, next uint16) Tag {
	return Tag{
		Direction: Direction(w >> 31),
		Pointer:   w&bitPointer != 0,
		DVIF:      uint16(w>>shiftDVIF) & MaxDVIF,
		Looped:    w&bitLooped != 0,
		Reserved:  w&bitReserved != 0,
		Version:   uint8(w>>shiftVersion) & maskVersion,
		SVIF:      uint16(w) & maskSVIF,
		EtherType: next,
	}
}

// Word returns the 4-byte tag as a big-endian 32-bit word, as Wireshark and
// the spec's examples print it (V4 is 0xC0428005). Fields out of range are
// masked to their width; Put and Validate report them instead.
func (t Tag) Word() uint32 {
	return uint32(t.Direction&1)<<31 | b2u(t.Pointer)<<30 |
		uint32(t.DVIF&MaxDVIF)<<shiftDVIF | b2u(t.Looped)<<15 | b2u(t.Reserved)<<14 |
		uint32(t.Version&maskVersion)<<shiftVersion | uint32(t.SVIF&maskSVIF)
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// checkRange reports the first field that does not fit its width.
func (t Tag) checkRange() error {
	switch {
	case t.Direction > FromBridge:
		return rangeErr("VNTag", "d", uint64(t.Direction), 1)
	case t.DVIF > MaxDVIF:
		return rangeErr("VNTag", "dvif_id", uint64(t.DVIF), MaxDVIF)
	case t.Version > MaxVersion:
		return rangeErr("VNTag", "version", uint64(t.Version), MaxVersion)
	case t.SVIF > MaxSVIF:
		return rangeErr("VNTag", "svif_id", uint64(t.SVIF), MaxSVIF)
	}
	return nil
}

// Validate applies a conformant sender's rules: every field in range
// (ErrRange), the r bit clear (ErrReserved) and version 0 (ErrVersion).
// Decoding does not call it; an interface virtualizer or bridge that wants
// to drop non-conformant tags does.
func (t Tag) Validate() error {
	if err := t.checkRange(); err != nil {
		return err
	}
	if t.Reserved {
		return &FieldError{Tag: "VNTag", Field: "r", Value: 1, Max: 0, Err: ErrReserved}
	}
	if t.Version != 0 {
		return &FieldError{Tag: "VNTag", Field: "version", Value: uint64(t.Version), Max: 0, Err: ErrVersion}
	}
	return nil
}

// Put encodes the VNTag header (TPID, tag, next EtherType) into the first
// TagHeaderLen bytes of b and returns TagHeaderLen. It fails with ErrRange
// when a field does not fit and with ErrShortBuffer when b is too short;
// the reserved bit and version are written as they are.
func (t Tag) Put(b []byte) (int, error) {
	if err := t.checkRange(); err != nil {
		return 0, err
	}
	if len(b) < TagHeaderLen {
		return 0, shortErr("VNTag", 0, TagHeaderLen, len(b))
	}
	binary.BigEndian.PutUint16(b, EtherTypeVNTag)
	binary.BigEndian.PutUint32(b[2:], t.Word())
	binary.BigEndian.PutUint16(b[6:], t.EtherType)
	return TagHeaderLen, nil
}

// PutBody encodes the tag and the next EtherType, without the TPID, into
// the first TagHeaderLen-2 bytes of b; the counterpart of ParseTagBody.
func (t Tag) PutBody(b []byte) (int, error) {
	if err := t.checkRange(); err != nil {
		return 0, err
	}
	if len(b) < TagHeaderLen-2 {
		return 0, shortErr("VNTag", 0, TagHeaderLen-2, len(b))
	}
	binary.BigEndian.PutUint32(b, t.Word())
	binary.BigEndian.PutUint16(b[4:], t.EtherType)
	return TagHeaderLen - 2, nil
}

// AppendBinary appends the encoded VNTag header to b (encoding.BinaryAppender).
func (t Tag) AppendBinary(b []byte) ([]byte, error) {
	if err := t.checkRange(); err != nil {
		return b, err
	}
	b = binary.BigEndian.AppendUint16(b, EtherTypeVNTag)
	b = binary.BigEndian.AppendUint32(b, t.Word())
	return binary.BigEndian.AppendUint16(b, t.EtherType), nil
}

// MarshalBinary returns the encoded VNTag header (encoding.BinaryMarshaler).
func (t Tag) MarshalBinary() ([]byte, error) {
	return t.AppendBinary(make([]byte, 0, TagHeaderLen))
}

// UnmarshalBinary decodes a VNTag header of exactly TagHeaderLen bytes
// (encoding.BinaryUnmarshaler).
func (t *Tag) UnmarshalBinary(b []byte) error {
	if len(b) > TagHeaderLen {
		return &DecodeError{Tag: "VNTag", Need: TagHeaderLen, Have: len(b), Err: ErrRange}
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
		t.Direction, b2u(t.Pointer), t.DVIF, b2u(t.Looped), b2u(t.Reserved), t.Version, t.SVIF, t.EtherType)
}

// SplitDVIF splits a 14-bit dvif_id into the 2-bit "downlink ports" field
// and the 12-bit destination that one revision of Wireshark's dissector (and
// some descriptions of FEX hardware) show instead of one 14-bit field.
func SplitDVIF(dvif uint16) (downlinkPorts uint8, dst uint16) {
	return uint8(dvif>>12) & 0x3, dvif & 0x0FFF
}
