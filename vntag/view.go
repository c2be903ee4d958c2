package vntag

import "encoding/binary"

// TagHeader is a view of the VNTag header in a buffer: the TagHeaderLen
// bytes from its TPID through the next EtherType. Reads and writes go to the
// buffer; nothing is copied. Obtain one with TagHeaderOf or FrameTag, which
// check the length and TPID, so the accessors need no checks of their own.
type TagHeader []byte

// TagHeaderOf returns a view of the VNTag header at the start of b. It fails
// with ErrShortBuffer or ErrEtherType.
func TagHeaderOf(b []byte) (TagHeader, error) {
	if len(b) < TagHeaderLen {
		return nil, shortErr("VNTag", 0, TagHeaderLen, len(b))
	}
	if binary.BigEndian.Uint16(b) != EtherTypeVNTag {
		return nil, &DecodeError{Tag: "VNTag", Err: ErrEtherType}
	}
	return TagHeader(b[:TagHeaderLen:TagHeaderLen]), nil
}

// FrameTag returns a view of the first VNTag in an Ethernet frame, looking
// through any VLAN tags in front of it, and the offset of its TPID. It fails
// with ErrNoTag or ErrShortBuffer.
func FrameTag(frame []byte) (TagHeader, int, error) {
	off, err := find(frame, KindVNTag)
	if err != nil {
		return nil, 0, err
	}
	return TagHeader(frame[off : off+TagHeaderLen : off+TagHeaderLen]), off, nil
}

func (h TagHeader) word() uint32 { return binary.BigEndian.Uint32(h[2:6]) }

// Direction returns the d bit.
func (h TagHeader) Direction() Direction { return Direction(h[2] >> 7) }

// Pointer returns the p bit.
func (h TagHeader) Pointer() bool { return h[2]&0x40 != 0 }

// DVIF returns dvif_id.
func (h TagHeader) DVIF() uint16 { return binary.BigEndian.Uint16(h[2:4]) & MaxDVIF }

// Looped returns the l bit.
func (h TagHeader) Looped() bool { return h[4]&0x80 != 0 }

// Reserved returns the r bit.
func (h TagHeader) Reserved() bool { return h[4]&0x40 != 0 }

// Version returns the version field.
func (h TagHeader) Version() uint8 { return h[4] >> 4 & maskVersion }

// SVIF returns svif_id.
func (h TagHeader) SVIF() uint16 { return binary.BigEndian.Uint16(h[4:6]) & maskSVIF }

// EtherType returns the EtherType after the tag.
func (h TagHeader) EtherType() uint16 { return binary.BigEndian.Uint16(h[6:8]) }

// Tag decodes the whole header.
func (h TagHeader) Tag() Tag { return tagFromWire(h.word(), h.EtherType()) }

// SetTag overwrites the tag and next EtherType with t. It fails with
// ErrRange, leaving the header unchanged, when a field does not fit.
func (h TagHeader) SetTag(t Tag) error {
	_, err := t.Put(h)
	return err
}

// SetTagKeepType overwrites the 4-byte tag with t, leaving the next
// EtherType as it is (t.EtherType is ignored): what a bridge does when it
// rewrites an upstream tag into a downstream one.
func (h TagHeader) SetTagKeepType(t Tag) error {
	if err := t.checkRange(); err != nil {
		return err
	}
	binary.BigEndian.PutUint32(h[2:6], t.Word())
	return nil
}

// ETagHeader is a view of the E-Tag header in a buffer: the ETagHeaderLen
// bytes from its TPID through the next EtherType. Obtain one with
// ETagHeaderOf or FrameETag.
type ETagHeader []byte

// ETagHeaderOf returns a view of the E-Tag header at the start of b. It
// fails with ErrShortBuffer or ErrEtherType.
func ETagHeaderOf(b []byte) (ETagHeader, error) {
	if len(b) < ETagHeaderLen {
		return nil, shortErr("E-Tag", 0, ETagHeaderLen, len(b))
	}
	if binary.BigEndian.Uint16(b) != EtherTypeETag {
		return nil, &DecodeError{Tag: "E-Tag", Err: ErrEtherType}
	}
	return ETagHeader(b[:ETagHeaderLen:ETagHeaderLen]), nil
}

// FrameETag returns a view of the first E-Tag in an Ethernet frame, looking
// through any VLAN tags in front of it, and the offset of its TPID.
func FrameETag(frame []byte) (ETagHeader, int, error) {
	off, err := find(frame, KindETag)
	if err != nil {
		return nil, 0, err
	}
	return ETagHeader(frame[off : off+ETagHeaderLen : off+ETagHeaderLen]), off, nil
}

// PCP returns E-PCP.
func (h ETagHeader) PCP() uint8 { return h[2] >> 5 }

// DEI returns E-DEI.
func (h ETagHeader) DEI() bool { return h[2]&0x10 != 0 }

// IngressECIDBase returns Ingress_E-CID_base.
func (h ETagHeader) IngressECIDBase() uint16 { return binary.BigEndian.Uint16(h[2:4]) & maskBase }

// Reserved returns the Re- bits.
func (h ETagHeader) Reserved() uint8 { return h[4] >> 6 }

// GRP returns GRP.
func (h ETagHeader) GRP() uint8 { return h[4] >> 4 & maskTwoBits }

// ECIDBase returns E-CID_base.
func (h ETagHeader) ECIDBase() uint16 { return binary.BigEndian.Uint16(h[4:6]) & maskBase }

// IngressECIDExt returns Ingress_E-CID_ext.
func (h ETagHeader) IngressECIDExt() uint8 { return h[6] }

// ECIDExt returns E-CID_ext.
func (h ETagHeader) ECIDExt() uint8 { return h[7] }

// ECID returns the whole E-CID (ext<<12 | base).
func (h ETagHeader) ECID() uint32 { return uint32(h[7])<<shiftECIDExt | uint32(h.ECIDBase()) }

// IngressECID returns the whole Ingress_E-CID (ext<<12 | base).
func (h ETagHeader) IngressECID() uint32 {
	return uint32(h[6])<<shiftECIDExt | uint32(h.IngressECIDBase())
}

// EtherType returns the EtherType after the tag.
func (h ETagHeader) EtherType() uint16 { return binary.BigEndian.Uint16(h[8:10]) }

// ETag decodes the whole header.
func (h ETagHeader) ETag() ETag { return etagFromWire(h[2:10]) }

// SetETag overwrites the E-TCI and next EtherType with e. It fails with
// ErrRange, leaving the header unchanged, when a field does not fit.
func (h ETagHeader) SetETag(e ETag) error {
	_, err := e.Put(h)
	return err
}

// SetETagKeepType overwrites the E-TCI with e, leaving the next EtherType as
// it is (e.EtherType is ignored).
func (h ETagHeader) SetETagKeepType(e ETag) error {
	if err := e.checkRange(); err != nil {
		return err
	}
	e.EtherType = h.EtherType()
	e.putBody(h[2:10])
	return nil
}
