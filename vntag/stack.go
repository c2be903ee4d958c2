package vntag

import "encoding/binary"

// Ethernet and VLAN constants used to walk a tag stack.
const (
	// EtherTypeDot1Q is the TPID of an IEEE 802.1Q C-tag.
	EtherTypeDot1Q = 0x8100
	// EtherTypeDot1AD is the TPID of an IEEE 802.1ad S-tag.
	EtherTypeDot1AD = 0x88A8
	// EtherTypeQinQ is the pre-standard 0x9100 TPID of an outer VLAN tag.
	EtherTypeQinQ = 0x9100

	// AddrLen is the length of the two MAC addresses that start a frame;
	// the first TPID or EtherType follows them.
	AddrLen = 12
	// VLANTagLen is the length of an 802.1Q, 802.1ad or 0x9100 tag: TPID
	// and TCI.
	VLANTagLen = 4
	// MinFrameLen is the shortest Ethernet frame without its FCS. A frame
	// that becomes shorter when a tag is popped must be padded (see Pad).
	MinFrameLen = 60
	// MinEtherType is the smallest value of the type field that is an
	// EtherType; smaller values are 802.3 lengths.
	MinEtherType = 0x0600
)

// Kind is the kind of tag a TPID introduces.
type Kind uint8

// The kinds of tag a frame's tag stack may hold.
const (
	KindNone   Kind = iota // not a tag: the frame's EtherType (or length)
	KindDot1Q              // IEEE 802.1Q C-tag, 0x8100
	KindDot1AD             // IEEE 802.1ad S-tag, 0x88A8
	KindQinQ               // pre-standard outer tag, 0x9100
	KindVNTag              // Cisco VNTag, 0x8926
	KindETag               // IEEE 802.1BR E-Tag, 0x893F
)

// KindOf returns the kind of tag the TPID t introduces, or KindNone.
func KindOf(t uint16) Kind {
	switch t {
	case EtherTypeDot1Q:
		return KindDot1Q
	case EtherTypeDot1AD:
		return KindDot1AD
	case EtherTypeQinQ:
		return KindQinQ
	case EtherTypeVNTag:
		return KindVNTag
	case EtherTypeETag:
		return KindETag
	}
	return KindNone
}

// Len returns the bytes the tag adds to a frame (its TPID included): 4 for
// a VLAN tag, TagLen for a VNTag, ETagLen for an E-Tag, 0 for KindNone.
func (k Kind) Len() int {
	switch k {
	case KindDot1Q, KindDot1AD, KindQinQ:
		return VLANTagLen
	case KindVNTag:
		return TagLen
	case KindETag:
		return ETagLen
	}
	return 0
}

// IsVLAN reports whether k is one of the VLAN tags (802.1Q, 802.1ad, 0x9100).
func (k Kind) IsVLAN() bool { return k >= KindDot1Q && k <= KindQinQ }

// IsNIV reports whether k is a VNTag or an E-Tag.
func (k Kind) IsNIV() bool { return k == KindVNTag || k == KindETag }

// String returns the tag's usual name.
func (k Kind) String() string {
	switch k {
	case KindNone:
		return "none"
	case KindDot1Q:
		return "802.1Q"
	case KindDot1AD:
		return "802.1ad"
	case KindQinQ:
		return "QinQ-9100"
	case KindVNTag:
		return "VNTag"
	case KindETag:
		return "E-Tag"
	}
	return "Kind(?)"
}

// TagIter walks the tag stack of an Ethernet frame, from the outermost tag
// in. Use it as
//
//	it := vntag.Tags(frame)
//	for it.Next() {
//		switch it.Kind() { ... it.Offset() ... }
//	}
//	if err := it.Err(); err != nil { ... }
//
// It stops at the first type field that is not a tag's TPID; EtherType and
// PayloadOffset then describe the frame's payload. A TagIter never
// allocates; only Err allocates, and only for a malformed frame.
type TagIter struct {
	frame []byte
	off   int  // offset of the current tag's TPID, or of the next type field
	kind  Kind // current tag
	done  bool
	err   error
	need  int
}

// Tags returns an iterator over frame's tag stack. frame starts at the
// destination MAC address.
func Tags(frame []byte) TagIter {
	return TagIter{frame: frame, off: AddrLen}
}

// Next advances to the next tag and reports whether there is one. It
// returns false at the end of the stack, or when the frame is truncated
// (then Err is not nil).
func (it *TagIter) Next() bool {
	if it.done {
		return false
	}
	if it.kind != KindNone {
		it.off += it.kind.Len()
	}
	if it.off+2 > len(it.frame) {
		it.stop(ErrShortBuffer, it.off+2)
		return false
	}
	k := KindOf(binary.BigEndian.Uint16(it.frame[it.off:]))
	if k == KindNone {
		it.kind = KindNone
		it.done = true
		return false
	}
	// A tag must be whole, with the type field after it.
	if need := it.off + k.Len() + 2; need > len(it.frame) {
		it.kind = k
		it.stop(ErrShortBuffer, need)
		return false
	}
	it.kind = k
	return true
}

func (it *TagIter) stop(err error, need int) {
	it.done, it.err, it.need = true, err, need
}

// Kind returns the current tag's kind.
func (it *TagIter) Kind() Kind { return it.kind }

// Offset returns the offset of the current tag's TPID in the frame. After
// the walk it is the offset of the frame's EtherType field.
func (it *TagIter) Offset() int { return it.off }

// TCI returns a VLAN tag's 16-bit tag control information (PCP, DEI, VID).
// It is meaningful only while Kind().IsVLAN().
func (it *TagIter) TCI() uint16 {
	return binary.BigEndian.Uint16(it.frame[it.off+2:])
}

// Tag decodes the current tag as a VNTag; valid while Kind() == KindVNTag.
func (it *TagIter) Tag() Tag { return Tag{binary.BigEndian.Uint64(it.frame[it.off:]) & tagMask} }

// ETag decodes the current tag as an E-Tag; valid while Kind() == KindETag.
func (it *TagIter) ETag() ETag { return ETag{binary.BigEndian.Uint64(it.frame[it.off+2:])} }

// EtherType returns the type field after the whole stack, once Next has
// returned false without error; a value below MinEtherType is an 802.3
// length.
func (it *TagIter) EtherType() uint16 {
	if it.err != nil || !it.done {
		return 0
	}
	return binary.BigEndian.Uint16(it.frame[it.off:])
}

// PayloadOffset returns the offset of the first byte after the stack's
// final type field, once Next has returned false without error.
func (it *TagIter) PayloadOffset() int { return it.off + 2 }

// Err returns the error that stopped the walk, a *DecodeError wrapping
// ErrShortBuffer, or nil.
func (it *TagIter) Err() error {
	if it.err == nil {
		return nil
	}
	name := "Ethernet"
	off := 0
	if it.kind != KindNone {
		name, off = it.kind.String(), it.off
	}
	return &DecodeError{Tag: name, Offset: off, Need: it.need - off, Have: len(it.frame) - off, Err: it.err}
}

// FindTag returns the kind and offset of the first VNTag or E-Tag in frame,
// looking through any VLAN tags in front of it. It fails with ErrNoTag when
// the stack holds neither, and with ErrShortBuffer when the frame ends
// inside the stack. Its errors are the bare sentinels (no allocation), so a
// data path may call it on every frame.
func FindTag(frame []byte) (Kind, int, error) {
	// The usual frames first: a NIV tag, or a payload EtherType, right
	// after the addresses.
	if len(frame) >= AddrLen+ETagHeaderLen {
		switch binary.BigEndian.Uint16(frame[AddrLen:]) {
		case EtherTypeVNTag:
			return KindVNTag, AddrLen, nil
		case EtherTypeETag:
			return KindETag, AddrLen, nil
		case EtherTypeDot1Q, EtherTypeDot1AD, EtherTypeQinQ:
		default:
			return KindNone, 0, ErrNoTag
		}
	}
	for off := AddrLen; ; {
		if off+2 > len(frame) {
			return KindNone, 0, ErrShortBuffer
		}
		var k Kind
		switch binary.BigEndian.Uint16(frame[off:]) {
		case EtherTypeDot1Q, EtherTypeDot1AD, EtherTypeQinQ:
			off += VLANTagLen
			continue
		case EtherTypeVNTag:
			k = KindVNTag
		case EtherTypeETag:
			k = KindETag
		default:
			return KindNone, 0, ErrNoTag
		}
		if off+k.Len()+2 > len(frame) {
			return KindNone, 0, ErrShortBuffer
		}
		return k, off, nil
	}
}

// find returns the offset of the first tag of kind want, walking through
// tags of every other kind; its errors say where the walk stopped.
func find(frame []byte, want Kind) (int, error) {
	off := AddrLen
	// The usual frame: the tag right after the addresses.
	if len(frame) >= AddrLen+want.Len()+2 && KindOf(binary.BigEndian.Uint16(frame[AddrLen:])) == want {
		return AddrLen, nil
	}
	if off+2 > len(frame) {
		return 0, shortErr("Ethernet", 0, AddrLen+2, len(frame))
	}
	for {
		k := KindOf(binary.BigEndian.Uint16(frame[off:]))
		if k == KindNone {
			return 0, &DecodeError{Tag: want.String(), Offset: off, Err: ErrNoTag}
		}
		n := k.Len()
		if off+n+2 > len(frame) {
			return 0, shortErr(k.String(), off, n+2, len(frame)-off)
		}
		if k == want {
			return off, nil
		}
		off += n
	}
}
