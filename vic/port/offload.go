package port

import "encoding/binary"

// Offload is what the kernel's virtio-net header (struct virtio_net_hdr,
// virtio 1.x §5.1.6) says about a frame that is not finished: a
// super-frame that stands for several segments of at most GSOSize bytes
// of payload each (GSOType), or a frame whose transport checksum is left
// to whoever puts it on a wire (OffloadNeedsCsum: the 16-bit ones'
// complement sum from CsumStart to the end goes at CsumStart+CsumOffset,
// the field holding the pseudo-header sum meanwhile).
//
// TAPs opened with IFF_VNET_HDR and AF_PACKET sockets with
// PACKET_VNET_HDR read and write it with each frame; the zero Offload is
// a finished frame, which is what every other port reads. CsumStart and
// HdrLen count from the frame's first byte, as in the header.
type Offload struct {
	Flags      uint8
	GSOType    uint8
	HdrLen     uint16
	GSOSize    uint16
	CsumStart  uint16
	CsumOffset uint16
}

// Offload flags and GSO types, as in linux/virtio_net.h.
const (
	OffloadNeedsCsum = 1 // VIRTIO_NET_HDR_F_NEEDS_CSUM
	OffloadDataValid = 2 // VIRTIO_NET_HDR_F_DATA_VALID

	GSONone  = 0    // VIRTIO_NET_HDR_GSO_NONE
	GSOTCPv4 = 1    // VIRTIO_NET_HDR_GSO_TCPV4
	GSOUDP   = 3    // VIRTIO_NET_HDR_GSO_UDP (IP fragmentation, UFO)
	GSOTCPv6 = 4    // VIRTIO_NET_HDR_GSO_TCPV6
	GSOUDPL4 = 5    // VIRTIO_NET_HDR_GSO_UDP_L4 (USO: UDP segments)
	GSOECN   = 0x80 // VIRTIO_NET_HDR_GSO_ECN (flag)
)

// VNetHdrLen is the length of struct virtio_net_hdr, the header ports read
// and write in front of each frame when offloads are on.
const VNetHdrLen = 10

// MaxSuperFrameLen is the largest frame a port with offloads reads: an IP
// packet of 65,535 bytes with its Ethernet header, two VLAN tags and an
// E-Tag, rounded up.
const MaxSuperFrameLen = 65536 + 64

// IsZero reports whether o describes a finished frame.
func (o Offload) IsZero() bool { return o == Offload{} }

// Segments returns how many frames a frame of n bytes with offload o
// stands for: 1 unless it is a super-frame.
func (o Offload) Segments(n int) int {
	if o.GSOType&^GSOECN == GSONone || o.GSOSize == 0 {
		return 1
	}
	h := int(o.HdrLen)
	if h <= 0 || h >= n {
		return 1
	}
	return (n - h + int(o.GSOSize) - 1) / int(o.GSOSize)
}

// SegmentBytes returns the bytes of the frames a frame of n bytes with
// offload o stands for: n plus a copy of its headers for every segment
// after the first.
func (o Offload) SegmentBytes(n int) int {
	s := o.Segments(n)
	return n + (s-1)*int(o.HdrLen)
}

// The offload of a frame lives in the first VNetHdrLen bytes of its
// buffer (in its headroom), in virtio_net_hdr's layout and byte order
// (the host's, as TAP and AF_PACKET use it by default), except that
// HdrLen and CsumStart count from the buffer's first byte rather than the
// frame's. Pushing a tag moves the frame's start into the headroom and
// popping one moves it back, and neither moves the payload: positions
// kept from the buffer's start stay right through both, whatever tags a
// core pushes or pops. Every port and Tx.Copy keeps these bytes zero for
// a finished frame.

// Offload returns the frame's offload state.
func (f Frame) Offload() Offload {
	if f.Off < VNetHdrLen || len(f.Buf) < VNetHdrLen {
		return Offload{}
	}
	h := f.Buf[:VNetHdrLen]
	if binary.NativeEndian.Uint16(h[0:]) == 0 {
		return Offload{} // no flags, no GSO: a finished frame
	}
	o := Offload{
		Flags: h[0], GSOType: h[1],
		HdrLen:     binary.NativeEndian.Uint16(h[2:]),
		GSOSize:    binary.NativeEndian.Uint16(h[4:]),
		CsumStart:  binary.NativeEndian.Uint16(h[6:]),
		CsumOffset: binary.NativeEndian.Uint16(h[8:]),
	}
	o.HdrLen = fromBuf(o.HdrLen, f.Off)
	o.CsumStart = fromBuf(o.CsumStart, f.Off)
	return o
}

// SetOffload records o as the frame's offload state. It reports false,
// and records nothing, when the frame has less than VNetHdrLen bytes of
// headroom.
func (f Frame) SetOffload(o Offload) bool {
	if f.Off < VNetHdrLen || len(f.Buf) < VNetHdrLen {
		return o.IsZero()
	}
	h := f.Buf[:VNetHdrLen]
	if o.Flags == 0 && o.GSOType == 0 {
		clear(h)
		return true
	}
	h[0], h[1] = o.Flags, o.GSOType
	binary.NativeEndian.PutUint16(h[2:], toBuf(o.HdrLen, f.Off))
	binary.NativeEndian.PutUint16(h[4:], o.GSOSize)
	binary.NativeEndian.PutUint16(h[6:], toBuf(o.CsumStart, f.Off))
	binary.NativeEndian.PutUint16(h[8:], o.CsumOffset)
	return true
}

func toBuf(v uint16, off int) uint16 {
	if v == 0 {
		return 0
	}
	return uint16(min(int(v)+off, 0xffff))
}

func fromBuf(v uint16, off int) uint16 {
	if int(v) <= off {
		return 0
	}
	return v - uint16(off)
}

// clearOffload marks the frame in buf (a buffer from its headroom on) as
// finished.
func clearOffload(buf []byte) {
	if len(buf) >= VNetHdrLen {
		clear(buf[:VNetHdrLen])
	}
}

// putVNetHdr writes o as the kernel's virtio_net_hdr into h.
func putVNetHdr(h []byte, o Offload) {
	h[0], h[1] = o.Flags, o.GSOType
	binary.NativeEndian.PutUint16(h[2:], o.HdrLen)
	binary.NativeEndian.PutUint16(h[4:], o.GSOSize)
	binary.NativeEndian.PutUint16(h[6:], o.CsumStart)
	binary.NativeEndian.PutUint16(h[8:], o.CsumOffset)
}

// rebaseVNetHdr turns the virtio_net_hdr the kernel wrote at the start of
// buf, for a frame that starts off bytes into buf, into the frame's
// Offload record.
func rebaseVNetHdr(buf []byte, off int) {
	h := buf[:VNetHdrLen]
	if binary.NativeEndian.Uint16(h[0:]) == 0 {
		clear(h)
		return
	}
	binary.NativeEndian.PutUint16(h[2:], toBuf(binary.NativeEndian.Uint16(h[2:]), off))
	binary.NativeEndian.PutUint16(h[6:], toBuf(binary.NativeEndian.Uint16(h[6:]), off))
}
