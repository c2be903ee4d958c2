package vntag

import (
	"errors"
	"strconv"
)

// Sentinel errors. Every error the package returns wraps exactly one of them,
// so callers test with errors.Is; the wrappers (*DecodeError, *FieldError)
// add where in the frame, or which field, and by how much.
var (
	// ErrShortBuffer is returned when a buffer ends before the tag or tag
	// stack it should hold: a truncated VNTag (fewer than 8 bytes from the
	// TPID through the next EtherType), a truncated E-Tag (fewer than 10),
	// a truncated 802.1Q/802.1ad tag, a frame shorter than its two MAC
	// addresses, or an encode buffer too small for what is written.
	ErrShortBuffer = errors.New("vntag: buffer too short")

	// ErrEtherType is returned when the TPID in front of a tag is not the
	// EtherType of the tag asked for (0x8926 for VNTag, 0x893F for E-Tag).
	ErrEtherType = errors.New("vntag: not this EtherType")

	// ErrRange is returned when a tag is built from fields (TagFields.Tag,
	// ETagFields.ETag, Upstream, ...) and a field does not fit its width on
	// the wire: Direction > 1, DVIF > 16383, SVIF > 4095, Version > 3 (VNTag);
	// PCP > 7, Ingress_E-CID_base or E-CID_base > 4095, GRP > 3, reserved > 3,
	// a whole E-CID > 0xFFFFF (E-Tag). A Tag or ETag value is always in range,
	// so encoding one never fails for that reason.
	ErrRange = errors.New("vntag: value out of range")

	// ErrReserved is returned by Validate when a reserved field is not zero:
	// VNTag's r bit or E-Tag's two Re- bits. The standards say "send 0,
	// ignore on receive": decoding accepts them, a conformant sender does not
	// set them.
	ErrReserved = errors.New("vntag: reserved bits set")

	// ErrVersion is returned by Validate when a VNTag's version is not 0,
	// the only version defined; a receiver should treat such a tag as
	// unknown.
	ErrVersion = errors.New("vntag: unsupported version")

	// ErrNoTag is returned when a frame's tag stack holds no tag of the kind
	// asked for (Pop, PopETag, FindTag), or when Push is asked to keep more
	// outer VLAN tags than the frame has.
	ErrNoTag = errors.New("vntag: no such tag in the frame")

	// ErrTrailing is returned by UnmarshalBinary when the buffer holds more
	// than one tag header.
	ErrTrailing = errors.New("vntag: trailing bytes after the tag")

	// ErrNoRoom is returned by Push when the buffer has neither headroom in
	// front of the frame nor spare capacity behind it for the tag, and by Pad
	// when the capacity does not reach the minimum frame size.
	ErrNoRoom = errors.New("vntag: no room in the buffer")
)

// DecodeError says where in a frame or buffer decoding failed. It wraps one
// of the sentinel errors.
type DecodeError struct {
	// Tag names what was being decoded: "VNTag", "E-Tag", "802.1Q",
	// "Ethernet".
	Tag string
	// Offset is the position of that header's first byte (its TPID, or 0
	// for the Ethernet header) in the buffer given to the function.
	Offset int
	// Need and Have are the bytes needed and present from Offset on; both
	// are 0 when the failure is not a length.
	Need, Have int
	// Err is the sentinel: ErrShortBuffer, ErrEtherType or ErrNoTag.
	Err error
}

func (e *DecodeError) Error() string {
	b := make([]byte, 0, 80)
	b = append(b, "vntag: "...)
	b = append(b, e.Tag...)
	b = append(b, " at offset "...)
	b = strconv.AppendInt(b, int64(e.Offset), 10)
	b = append(b, ": "...)
	b = append(b, trimPrefix(e.Err.Error())...)
	if e.Need > 0 {
		b = append(b, " (need "...)
		b = strconv.AppendInt(b, int64(e.Need), 10)
		b = append(b, " bytes, have "...)
		b = strconv.AppendInt(b, int64(e.Have), 10)
		b = append(b, ')')
	}
	return string(b)
}

// Unwrap returns the sentinel.
func (e *DecodeError) Unwrap() error { return e.Err }

// FieldError says which field of a tag could not be encoded. It wraps
// ErrRange or ErrReserved (or ErrVersion).
type FieldError struct {
	// Tag is "VNTag" or "E-Tag".
	Tag string
	// Field is the field's name as the standard and Wireshark spell it
	// ("dvif_id", "E-CID_base", ...).
	Field string
	// Value is the offending value; Max the largest value allowed.
	Value, Max uint64
	// Err is the sentinel.
	Err error
}

func (e *FieldError) Error() string {
	b := make([]byte, 0, 80)
	b = append(b, "vntag: "...)
	b = append(b, e.Tag...)
	b = append(b, ' ')
	b = append(b, e.Field...)
	b = append(b, ' ')
	b = strconv.AppendUint(b, e.Value, 10)
	b = append(b, ": "...)
	b = append(b, trimPrefix(e.Err.Error())...)
	b = append(b, " (max "...)
	b = strconv.AppendUint(b, e.Max, 10)
	b = append(b, ')')
	return string(b)
}

// Unwrap returns the sentinel.
func (e *FieldError) Unwrap() error { return e.Err }

func trimPrefix(s string) string {
	const p = "vntag: "
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

func shortErr(tag string, off, need, have int) error {
	return &DecodeError{Tag: tag, Offset: off, Need: need, Have: have, Err: ErrShortBuffer}
}

func rangeErr(tag, field string, v, max uint64) error {
	return &FieldError{Tag: tag, Field: field, Value: v, Max: max, Err: ErrRange}
}
