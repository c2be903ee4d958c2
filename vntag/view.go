package vntag

import "encoding/binary"

// TagHeader is a view of the VNTag header in a buffer: the TagHeaderLen
// bytes from its TPID through the next EtherType. Reads and writes go to
// the buffer; nothing is copied. Obtain one with TagHeaderOf or FrameTag,
// which check the length and TPID, so the accessors need no checks of
// their own.
type TagHeader []byte

// TagHeaderOf returns a view of the VNTag header at the start of b. It fails
// with ErrShortBuffer or ErrEtherType.
func TagHeaderOf(b []byte) (TagHeader, error) {
	if len(b) < TagHeaderLen || binary.BigEndian.Uint16(b) != EtherTypeVNTag {
		return nil, tagHeaderErr(b)
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

// Tag decodes the header.
func (h TagHeader) Tag() Tag { return Tag{binary.BigEndian.Uint64(h) & tagMask} }

// Direction returns the d bit.
func (h TagHeader) Direction() Direction { return Direction(h[2] >> 7) }

// DVIF returns dvif_id.
func (h TagHeader) DVIF() uint16 { return binary.BigEndian.Uint16(h[2:4]) & MaxDVIF }

// SVIF returns svif_id.
func (h TagHeader) SVIF() uint16 { return binary.BigEndian.Uint16(h[4:6]) & maskSVIF }

// EtherType returns the EtherType after the tag.
func (h TagHeader) EtherType() uint16 { return binary.BigEndian.Uint16(h[6:8]) }

// SetTag overwrites the tag and the next EtherType with t.
func (h TagHeader) SetTag(t Tag) { binary.BigEndian.PutUint64(h, EtherTypeVNTag<<48|t.v) }

// SetWord overwrites the 4-byte tag with t's, leaving the next EtherType as
// it is: what a bridge does when it turns an upstream tag into a downstream
// one in place.
func (h TagHeader) SetWord(t Tag) { binary.BigEndian.PutUint32(h[2:6], t.Word()) }

// ETagHeader is a view of the E-Tag header in a buffer: the ETagHeaderLen
// bytes from its TPID through the next EtherType. Obtain one with
// ETagHeaderOf or FrameETag.
type ETagHeader []byte

// ETagHeaderOf returns a view of the E-Tag header at the start of b. It
// fails with ErrShortBuffer or ErrEtherType.
func ETagHeaderOf(b []byte) (ETagHeader, error) {
	if len(b) < ETagHeaderLen || binary.BigEndian.Uint16(b) != EtherTypeETag {
		return nil, etagHeaderErr(b)
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

// ETag decodes the header.
func (h ETagHeader) ETag() ETag { return ETag{binary.BigEndian.Uint64(h[2:10])} }

// ECID returns the whole E-CID (ext<<12 | base).
func (h ETagHeader) ECID() uint32 { return h.ETag().ECID() }

// IngressECID returns the whole Ingress_E-CID (ext<<12 | base).
func (h ETagHeader) IngressECID() uint32 { return h.ETag().IngressECID() }

// GRP returns GRP.
func (h ETagHeader) GRP() uint8 { return h[4] >> 4 & maskTwoBits }

// EtherType returns the EtherType after the tag.
func (h ETagHeader) EtherType() uint16 { return binary.BigEndian.Uint16(h[8:10]) }

// SetETag overwrites the E-TCI and the next EtherType with e.
func (h ETagHeader) SetETag(e ETag) { binary.BigEndian.PutUint64(h[2:10], e.v) }

// SetTCI overwrites the E-TCI with e's, leaving the next EtherType as it is.
func (h ETagHeader) SetTCI(e ETag) {
	binary.BigEndian.PutUint32(h[2:6], uint32(e.v>>32))
	binary.BigEndian.PutUint16(h[6:8], uint16(e.v>>16))
}
