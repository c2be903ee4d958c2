package port

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// ErrOffload is returned, wrapped, for a frame whose Offload a port cannot
// carry out: a GSO type other than TCP over IPv4 or IPv6 and UDP segments
// (USO), or headers that do not match it.
var ErrOffload = errors.New("port: offload not possible")

// Segmenter finishes frames in software, as a NIC does for the host when
// it offers checksum and segmentation offload: a super-frame becomes the
// segments it stands for, each with its IP and transport headers and
// checksums right, and a frame with a partial checksum gets its checksum.
// Ports without offloads use one for each frame with an Offload written to
// them, so that what reaches a wire is always finished and MTU-sized. A
// Segmenter reuses its memory: the frames Finish returns are valid until
// the next call. It does not allocate for frames of up to
// MaxSuperFrameLen bytes.
type Segmenter struct {
	frames []Frame
	arena  []byte
}

// maxSegments is the most segments Finish cuts one frame into: a 64 KB
// super-frame in segments of 256 bytes.
const maxSegments = 256

// NewSegmenter returns a Segmenter.
func NewSegmenter() *Segmenter {
	return &Segmenter{frames: make([]Frame, 0, 64), arena: make([]byte, 4*MaxSuperFrameLen)}
}

// Finish returns the finished frames f stands for: f itself if it has no
// Offload; else copies, each of at most maxLen bytes if maxLen > 0 (the
// link's MTU plus the Ethernet header: the segments' payload is cut to fit
// whatever tags the frame carries) and of at most the frame's GSOSize of
// payload.
func (s *Segmenter) Finish(f Frame, maxLen int) ([]Frame, error) {
	s.frames = s.frames[:0]
	o := f.Offload()
	if o.IsZero() {
		return append(s.frames, f), nil
	}
	b := f.Bytes()
	l3, et, err := l3Start(b)
	if err != nil {
		return nil, err
	}
	if o.GSOType&^GSOECN == GSONone {
		if o.GSOType != GSONone {
			// The ECN flag qualifies a GSO type (virtio 1.2, 5.1.6.2);
			// Linux refuses it alone with -EINVAL.
			return nil, fmt.Errorf("%w: GSO ECN flag without a GSO type", ErrOffload)
		}
		if o.Flags&OffloadNeedsCsum != 0 {
			if err := s.csumOnly(b, o); err != nil {
				return nil, err
			}
		}
		c := s.copyOut(b)
		return append(s.frames, c), nil
	}
	l4 := int(o.CsumStart)
	if o.Flags&OffloadNeedsCsum == 0 || l4 <= l3 || l4 >= len(b) {
		return nil, fmt.Errorf("%w: super-frame without a transport header start", ErrOffload)
	}
	var proto uint8
	var hl int
	switch o.GSOType &^ GSOECN {
	case GSOTCPv4, GSOTCPv6:
		proto = 6
		if l4+20 > len(b) {
			return nil, fmt.Errorf("%w: short TCP header", ErrOffload)
		}
		// The data offset counts 32-bit words and is at least 5 (RFC
		// 9293 3.1): a shorter header would leave the flags and the
		// checksum past it.
		off := int(b[l4+12] >> 4)
		if off < 5 {
			return nil, fmt.Errorf("%w: TCP data offset %d", ErrOffload, off)
		}
		hl = l4 + off*4
	case GSOUDPL4:
		proto = 17
		hl = l4 + 8
	default:
		return nil, fmt.Errorf("%w: GSO type %d", ErrOffload, o.GSOType)
	}
	v4 := et == 0x0800
	if v4 && (l3+20 > len(b) || int(b[l3]&0xf)*4 != l4-l3) {
		return nil, fmt.Errorf("%w: IPv4 header length does not end at the transport header", ErrOffload)
	}
	if t := o.GSOType &^ GSOECN; t == GSOTCPv4 && !v4 || t == GSOTCPv6 && v4 {
		return nil, fmt.Errorf("%w: GSO type %d on EtherType %#04x", ErrOffload, o.GSOType, et)
	}
	if !v4 && et != 0x86DD || hl > len(b) || (v4 && l3+20 > l4) || (!v4 && l3+40 > l4) {
		return nil, fmt.Errorf("%w: headers do not match GSO type %d", ErrOffload, o.GSOType)
	}
	mss := int(o.GSOSize)
	if maxLen > 0 && maxLen-hl < mss {
		mss = maxLen - hl
	}
	if mss <= 0 {
		return nil, fmt.Errorf("%w: headers of %d bytes leave no payload in %d", ErrOffload, hl, maxLen)
	}
	payload := len(b) - hl
	n := max(1, (payload+mss-1)/mss)
	if n > maxSegments {
		// A VM's tiny gso_size must not make 64K frames out of one.
		return nil, fmt.Errorf("%w: %d segments of %d bytes", ErrOffload, n, mss)
	}
	if n*CopySize(hl+mss) > len(s.arena) {
		s.arena = make([]byte, n*CopySize(hl+mss))
	}
	used := 0
	var seq uint32
	if proto == 6 {
		seq = binary.BigEndian.Uint32(b[l4+4:])
	}
	for i := range n {
		chunk := min(mss, payload-i*mss)
		size := CopySize(hl + chunk)
		buf := s.arena[used : used+size : used+size]
		used += size
		clearOffload(buf)
		seg := buf[Headroom : Headroom+hl+chunk]
		copy(seg, b[:hl])
		// The payload's sum comes with its copy; the headers are
		// summed once they are right.
		paySum := copyCsum(seg[hl:], b[hl+i*mss:hl+i*mss+chunk])
		if v4 {
			ip := seg[l3:]
			binary.BigEndian.PutUint16(ip[2:], uint16(len(seg)-l3))
			binary.BigEndian.PutUint16(ip[4:], binary.BigEndian.Uint16(b[l3+4:])+uint16(i))
			ihl := int(ip[0]&0xf) * 4
			ip[10], ip[11] = 0, 0
			binary.BigEndian.PutUint16(ip[10:], ^fold(csumAdd(0, ip[:ihl])))
		} else {
			binary.BigEndian.PutUint16(seg[l3+4:], uint16(len(seg)-l3-40))
		}
		t := seg[l4:]
		if proto == 6 {
			binary.BigEndian.PutUint32(t[4:], seq+uint32(i*mss))
			if i < n-1 {
				t[13] &^= 0x09 // FIN, PSH: the last segment's
			}
			if i > 0 {
				t[13] &^= 0x80 // CWR: the first segment's
			}
			t[16], t[17] = 0, 0
			binary.BigEndian.PutUint16(t[16:], l4Csum(seg, l3, l4, hl, v4, proto, paySum))
		} else {
			binary.BigEndian.PutUint16(t[4:], uint16(len(t)))
			t[6], t[7] = 0, 0
			c := l4Csum(seg, l3, l4, hl, v4, proto, paySum)
			if c == 0 {
				c = 0xffff
			}
			binary.BigEndian.PutUint16(t[6:], c)
		}
		s.frames = append(s.frames, Frame{Buf: buf[:Headroom+len(seg)], Off: Headroom})
	}
	return s.frames, nil
}

// csumOnly completes the partial checksum of b in place: the field at
// CsumStart+CsumOffset holds the pseudo-header's sum, and the sum from
// CsumStart to the end, folded and inverted, replaces it.
func (s *Segmenter) csumOnly(b []byte, o Offload) error {
	start, at := int(o.CsumStart), int(o.CsumStart)+int(o.CsumOffset)
	if start >= len(b) || at+2 > len(b) {
		return fmt.Errorf("%w: checksum at %d+%d in a %d-byte frame", ErrOffload, start, o.CsumOffset, len(b))
	}
	c := ^fold(csumAdd(0, b[start:]))
	if c == 0 && o.CsumOffset == 6 { // UDP: 0 means no checksum
		c = 0xffff
	}
	binary.BigEndian.PutUint16(b[at:], c)
	return nil
}

// copyOut copies b into the arena as a finished frame.
func (s *Segmenter) copyOut(b []byte) Frame {
	size := CopySize(len(b))
	if size > len(s.arena) {
		s.arena = make([]byte, size)
	}
	buf := s.arena[:size:size]
	clearOffload(buf)
	copy(buf[Headroom:], b)
	return Frame{Buf: buf[:Headroom+len(b)], Off: Headroom}
}

// l3Start returns where the IP header of Ethernet frame b starts, behind
// any VLAN tags, VNTag or E-Tag, and its EtherType.
func l3Start(b []byte) (int, uint16, error) {
	off := 12
	for off+2 <= len(b) {
		et := binary.BigEndian.Uint16(b[off:])
		switch et {
		case 0x8100, 0x88a8, 0x9100:
			off += 4
		case 0x8926: // VNTag
			off += 6
		case 0x893F: // E-Tag
			off += 8
		default:
			return off + 2, et, nil
		}
	}
	return 0, 0, fmt.Errorf("%w: no network header", ErrOffload)
}

// l4Csum returns the transport checksum of the segment at seg[l4:] (its
// checksum field zero) of the IP packet at seg[l3:], given sum, the sum of
// its bytes from hl on (hl-l4 even).
func l4Csum(seg []byte, l3, l4, hl int, v4 bool, proto uint8, sum uint64) uint16 {
	if v4 {
		sum = csumAdd(sum, seg[l3+12:l3+20])
	} else {
		sum = csumAdd(sum, seg[l3+8:l3+40])
	}
	sum = csumAdd(sum, seg[l4:hl])
	return ^fold(csumAddWord(sum, uint64(proto)+uint64(len(seg)-l4)))
}

// csumAddWord adds v to the ones' complement sum sum, kept in 64 bits.
func csumAddWord(sum, v uint64) uint64 {
	sum, c := bits.Add64(sum, v, 0)
	return sum + c
}

// csumAdd adds b, as big-endian 16-bit words (the last byte, if odd,
// padded with zero), to the ones' complement sum sum, kept in 64 bits.
func csumAdd(sum uint64, b []byte) uint64 {
	var c uint64
	for len(b) >= 32 {
		sum, c = bits.Add64(sum, binary.BigEndian.Uint64(b), c)
		sum, c = bits.Add64(sum, binary.BigEndian.Uint64(b[8:]), c)
		sum, c = bits.Add64(sum, binary.BigEndian.Uint64(b[16:]), c)
		sum, c = bits.Add64(sum, binary.BigEndian.Uint64(b[24:]), c)
		b = b[32:]
	}
	for len(b) >= 8 {
		sum, c = bits.Add64(sum, binary.BigEndian.Uint64(b), c)
		b = b[8:]
	}
	sum, c = bits.Add64(sum, c, 0)
	var tail uint64
	switch len(b) {
	case 7:
		tail = uint64(binary.BigEndian.Uint32(b))<<32 | uint64(binary.BigEndian.Uint16(b[4:]))<<16 | uint64(b[6])<<8
	case 6:
		tail = uint64(binary.BigEndian.Uint32(b))<<32 | uint64(binary.BigEndian.Uint16(b[4:]))<<16
	case 5:
		tail = uint64(binary.BigEndian.Uint32(b))<<32 | uint64(b[4])<<24
	case 4:
		tail = uint64(binary.BigEndian.Uint32(b)) << 32
	case 3:
		tail = uint64(binary.BigEndian.Uint16(b))<<48 | uint64(b[2])<<40
	case 2:
		tail = uint64(binary.BigEndian.Uint16(b)) << 48
	case 1:
		tail = uint64(b[0]) << 56
	}
	sum, c = bits.Add64(sum, tail, c)
	sum += c
	return sum
}

// copyCsum copies src into dst, which must be as long at least, and
// returns src's ones' complement sum as csumAdd(0, src) would, in one pass
// over the bytes instead of a copy and a second pass. The words are summed
// as they lie in memory (little-endian on the machines we run on) and the
// sum byte-swapped at the end: ones' complement addition commutes with a
// swap of the bytes of every word (RFC 1071, 2(B)).
func copyCsum(dst, src []byte) uint64 {
	n := len(src)
	dst = dst[:n]
	var sum, c uint64
	i := 0
	for ; i+32 <= n; i += 32 {
		s, d := (*[32]byte)(src[i:i+32]), (*[32]byte)(dst[i:i+32])
		w0, w1 := binary.LittleEndian.Uint64(s[0:]), binary.LittleEndian.Uint64(s[8:])
		w2, w3 := binary.LittleEndian.Uint64(s[16:]), binary.LittleEndian.Uint64(s[24:])
		binary.LittleEndian.PutUint64(d[0:], w0)
		binary.LittleEndian.PutUint64(d[8:], w1)
		binary.LittleEndian.PutUint64(d[16:], w2)
		binary.LittleEndian.PutUint64(d[24:], w3)
		sum, c = bits.Add64(sum, w0, c)
		sum, c = bits.Add64(sum, w1, c)
		sum, c = bits.Add64(sum, w2, c)
		sum, c = bits.Add64(sum, w3, c)
	}
	for ; i+8 <= n; i += 8 {
		w := binary.LittleEndian.Uint64(src[i : i+8])
		binary.LittleEndian.PutUint64(dst[i:i+8], w)
		sum, c = bits.Add64(sum, w, c)
	}
	sum, c = bits.Add64(sum, 0, c)
	sum += c // the end-around carry: 2^64 is 1 in ones' complement
	copy(dst[i:], src[i:])
	// The rest (fewer than 8 bytes) starts at an even offset, so its
	// words are words of src.
	return csumAdd(uint64(bits.ReverseBytes16(fold(sum))), src[i:])
}

// fold folds a 64-bit ones' complement sum to 16 bits.
func fold(sum uint64) uint16 {
	sum = sum>>32 + sum&0xffffffff
	sum = sum>>32 + sum&0xffffffff
	sum = sum>>16 + sum&0xffff
	sum = sum>>16 + sum&0xffff
	return uint16(sum)
}

// markSuper makes frame f, read from a link that carries TCP super-frames
// as jumbo frames with a partial checksum, a super-frame again: a TCP
// segment with its checksum left to do and more than an MTU of payload
// stands for segments of mtu-byte IP packets. (TCP has no boundaries to
// keep, so any segment size is right; UDP datagrams never cross a link as
// super-frames.)
func markSuper(f Frame, mtu int) {
	o := f.Offload()
	if o.Flags&OffloadNeedsCsum == 0 || o.GSOType != GSONone || o.CsumOffset != 16 {
		return
	}
	b := f.Bytes()
	l3, et, err := l3Start(b)
	l4 := int(o.CsumStart)
	if err != nil || l4+20 > len(b) {
		return
	}
	switch {
	case et == 0x0800 && l3+20 <= l4 && b[l3+9] == 6:
		o.GSOType = GSOTCPv4
	case et == 0x86DD && l3+40 == l4 && b[l3+6] == 6:
		o.GSOType = GSOTCPv6
	default:
		return
	}
	hl := l4 + int(b[l4+12]>>4)*4
	mss := mtu - (hl - l3)
	if mss <= 0 || hl >= len(b) {
		return
	}
	o.HdrLen, o.GSOSize = uint16(hl), uint16(mss)
	f.SetOffload(o)
}
