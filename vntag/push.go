package vntag

import "encoding/binary"

// Push inserts the VNTag t into the Ethernet frame buf[start:], right after
// the source MAC address, and returns the tagged frame. t's next EtherType
// is ignored: the frame's own type field becomes the tag's next EtherType.
//
// When start >= TagLen the bytes in front of the frame are headroom: only
// the 12 MAC address bytes move, TagLen bytes toward the front, and the
// result is buf[start-TagLen:]. Otherwise the frame is grown into the spare
// capacity of buf and everything after the MAC addresses moves back; the
// result is buf[start:len(buf)+TagLen]. With neither, Push fails with
// ErrNoRoom, and with ErrShortBuffer when the frame has no type field; a
// failed Push leaves the buffer as it was. It allocates nothing, except the
// error value of a failure.
func Push(buf []byte, start int, t Tag) ([]byte, error) {
	if start >= TagLen && start+AddrLen+2 <= len(buf) {
		// The usual case, kept small enough to inline: headroom, no outer
		// tags. The frame's own type field stays where it is and becomes
		// the tag's next EtherType.
		ns := start - TagLen
		h := (*[TagLen + AddrLen]byte)(buf[ns:]) // one bounds check
		lo := binary.NativeEndian.Uint64(h[TagLen:])
		hi := binary.NativeEndian.Uint32(h[TagLen+8:])
		binary.NativeEndian.PutUint64(h[0:], lo)
		binary.NativeEndian.PutUint32(h[8:], hi)
		binary.BigEndian.PutUint16(h[AddrLen:], EtherTypeVNTag)
		binary.BigEndian.PutUint32(h[AddrLen+2:], t.Word())
		return buf[ns:], nil
	}
	return PushAfter(buf, start, 0, t)
}

// PushAfter is Push keeping the first outer VLAN tags (802.1Q, 802.1ad or
// 0x9100) of the frame in front of the new VNTag: with outer=1 an S-tagged
// frame becomes DA SA S-tag VNTag ... It fails with ErrNoTag when the frame
// starts with fewer than outer VLAN tags.
func PushAfter(buf []byte, start, outer int, t Tag) ([]byte, error) {
	var hdr [8]byte
	binary.BigEndian.PutUint64(hdr[:], EtherTypeVNTag<<48|t.v)
	return insert(buf, start, outer, hdr[:TagLen], "VNTag")
}

// PushETag inserts the E-Tag e into the Ethernet frame buf[start:], right
// after the source MAC address, exactly as Push does for a VNTag (ETagLen
// bytes instead of TagLen).
func PushETag(buf []byte, start int, e ETag) ([]byte, error) {
	if start >= ETagLen && start+AddrLen+2 <= len(buf) {
		ns := start - ETagLen
		h := (*[ETagLen + AddrLen]byte)(buf[ns:]) // one bounds check
		lo := binary.NativeEndian.Uint64(h[ETagLen:])
		hi := binary.NativeEndian.Uint32(h[ETagLen+8:])
		binary.NativeEndian.PutUint64(h[0:], lo)
		binary.NativeEndian.PutUint32(h[8:], hi)
		binary.BigEndian.PutUint16(h[AddrLen:], EtherTypeETag)
		binary.BigEndian.PutUint32(h[AddrLen+2:], uint32(e.v>>32))
		binary.BigEndian.PutUint16(h[AddrLen+6:], uint16(e.v>>16))
		return buf[ns:], nil
	}
	return PushETagAfter(buf, start, 0, e)
}

// PushETagAfter is PushETag keeping the first outer VLAN tags of the frame in
// front of the new E-Tag.
func PushETagAfter(buf []byte, start, outer int, e ETag) ([]byte, error) {
	var hdr [ETagHeaderLen]byte
	binary.BigEndian.PutUint16(hdr[:], EtherTypeETag)
	binary.BigEndian.PutUint64(hdr[2:], e.v)
	return insert(buf, start, outer, hdr[:ETagLen], "E-Tag")
}

// insert puts hdr (TPID and tag, without the next EtherType) into the frame
// buf[start:] after its MAC addresses and outer VLAN tags.
func insert(buf []byte, start, outer int, hdr []byte, name string) ([]byte, error) {
	if start < 0 || start > len(buf) {
		return nil, &DecodeError{Tag: name, Offset: start, Err: ErrNoRoom}
	}
	frame := buf[start:]
	at := AddrLen // where the tag goes: the type field that will follow it
	for i := 0; i < outer; i++ {
		if at+2 > len(frame) || !KindOf(binary.BigEndian.Uint16(frame[at:])).IsVLAN() {
			return nil, &DecodeError{Tag: "802.1Q", Offset: at, Err: ErrNoTag}
		}
		at += VLANTagLen
	}
	if at+2 > len(frame) {
		return nil, shortErr("Ethernet", 0, at+2, len(frame))
	}
	n := len(hdr)
	if start >= n {
		// Headroom: move the addresses and outer tags toward the front.
		ns := start - n
		if at == AddrLen {
			moveAddrs(buf[ns:ns+AddrLen], buf[start:start+AddrLen])
		} else {
			copy(buf[ns:ns+at], buf[start:start+at])
		}
		copy(buf[ns+at:start+at], hdr)
		return buf[ns:], nil
	}
	if cap(buf)-len(buf) >= n {
		// Tail room: move everything after the insertion point back.
		end := len(buf)
		buf = buf[:end+n]
		copy(buf[start+at+n:], buf[start+at:end])
		copy(buf[start+at:start+at+n], hdr)
		return buf[start:], nil
	}
	return nil, &DecodeError{Tag: name, Offset: start, Need: n, Have: start, Err: ErrNoRoom}
}

// moveAddrs copies the 12 address bytes of src to dst, which may overlap
// it: both loads happen before either store, so the move is two loads and
// two stores instead of a call to memmove.
func moveAddrs(dst, src []byte) {
	_, _ = dst[AddrLen-1], src[AddrLen-1]
	lo := binary.NativeEndian.Uint64(src)
	hi := binary.NativeEndian.Uint32(src[8:])
	binary.NativeEndian.PutUint64(dst, lo)
	binary.NativeEndian.PutUint32(dst[8:], hi)
}

// Pop removes the first VNTag from an Ethernet frame, looking through any
// VLAN tags in front of it, and returns the tag (with its next EtherType) and
// the untagged frame, frame[TagLen:]: the MAC addresses and outer VLAN tags
// move TagLen bytes toward the end, the payload stays where it is, and the
// TagLen bytes in front become headroom for a later Push. It fails with
// ErrNoTag or ErrShortBuffer, leaving the frame unchanged. It allocates
// nothing, except the error value of a failure.
//
// The untagged frame may be shorter than MinFrameLen; Pad restores the
// minimum size before it goes on a wire.
func Pop(frame []byte) (Tag, []byte, error) {
	if len(frame) >= AddrLen+TagHeaderLen && binary.BigEndian.Uint16(frame[AddrLen:]) == EtherTypeVNTag {
		// The usual case: the tag right after the addresses.
		t := Tag{binary.BigEndian.Uint64(frame[AddrLen:]) & tagMask}
		moveAddrs(frame[TagLen:], frame)
		return t, frame[TagLen:], nil
	}
	off, err := find(frame, KindVNTag)
	if err != nil {
		return Tag{}, nil, err
	}
	t := Tag{binary.BigEndian.Uint64(frame[off:]) & tagMask}
	if off == AddrLen {
		moveAddrs(frame[TagLen:], frame)
	} else {
		copy(frame[TagLen:off+TagLen], frame[:off])
	}
	return t, frame[TagLen:], nil
}

// PopETag removes the first E-Tag from an Ethernet frame as Pop does for a
// VNTag, and returns it with the untagged frame, frame[ETagLen:].
func PopETag(frame []byte) (ETag, []byte, error) {
	if len(frame) >= AddrLen+ETagHeaderLen && binary.BigEndian.Uint16(frame[AddrLen:]) == EtherTypeETag {
		e := ETag{binary.BigEndian.Uint64(frame[AddrLen+2:])}
		moveAddrs(frame[ETagLen:], frame)
		return e, frame[ETagLen:], nil
	}
	off, err := find(frame, KindETag)
	if err != nil {
		return ETag{}, nil, err
	}
	e := ETag{binary.BigEndian.Uint64(frame[off+2:])}
	if off == AddrLen {
		moveAddrs(frame[ETagLen:], frame)
	} else {
		copy(frame[ETagLen:off+ETagLen], frame[:off])
	}
	return e, frame[ETagLen:], nil
}

// Pad zero-fills frame up to MinFrameLen bytes within its capacity and
// returns it; a frame already that long is returned as it is. It fails with
// ErrNoRoom when the capacity is smaller than MinFrameLen.
func Pad(frame []byte) ([]byte, error) {
	n := len(frame)
	if n >= MinFrameLen {
		return frame, nil
	}
	if cap(frame) < MinFrameLen {
		return frame, &DecodeError{Tag: "Ethernet", Need: MinFrameLen, Have: cap(frame), Err: ErrNoRoom}
	}
	frame = frame[:MinFrameLen]
	clear(frame[n:])
	return frame, nil
}
