package port

import (
	"bytes"
	"encoding/binary"
)

// coalescer merges runs of TCP segments of one flow into super-frames, as
// the kernel's GRO does for a NIC, for ports that take super-frames (a TAP
// with offloads): a VM then gets one frame, and the port makes one write,
// for up to 64 KB of a stream whose segments crossed a link of a real MTU.
// Segments merge when they follow each other in sequence with the same
// addresses, ports, IP fields, TCP flags (ACK, PSH on the last), ack,
// window and options, every one but the last carries the first's payload
// size, and each one's checksum is right (or the kernel said it was, with
// OffloadDataValid): it is checked as the payload is copied into the
// super-frame, in the same pass, and a wrong one ends the run. The
// super-frame's TCP checksum is left partial, which the receiving kernel
// takes as checked. It reuses its memory.
type coalescer struct {
	out   []Frame
	n     []int // how many input frames each of out stands for
	arena []byte
}

func newCoalescer() *coalescer {
	return &coalescer{out: make([]Frame, 0, maxMerge), n: make([]int, 0, maxMerge), arena: make([]byte, 0, 2*MaxSuperFrameLen)}
}

// maxMerge is the most frames one coalesce call returns; the rest are
// passed on as they are.
const maxMerge = 256

// inputs returns how many input frames the first k frames of the last
// coalesce's result stand for.
func (c *coalescer) inputs(k int) int {
	n := 0
	for _, x := range c.n[:k] {
		n += x
	}
	return n
}

// tcpSeg is what coalesce needs of a segment.
type tcpSeg struct {
	l3, l4, hl int // IP header, TCP header, payload starts
	v4         bool
	seq        uint32
	payload    int
}

// parseSeg reports whether frame f is a finished (or DATA_VALID) TCP
// segment over IPv4 without options or IPv6 without extension headers
// that may be merged, and where its parts are. Its checksum is checked
// when it is merged (merge).
func parseSeg(f Frame) (tcpSeg, bool) {
	var s tcpSeg
	o := f.Offload()
	if o.GSOType != GSONone || o.Flags&OffloadNeedsCsum != 0 {
		return s, false
	}
	b := f.Bytes()
	l3, et, err := l3Start(b)
	if err != nil {
		return s, false
	}
	switch et {
	case 0x0800:
		if l3+40 > len(b) || b[l3] != 0x45 || b[l3+9] != 6 || binary.BigEndian.Uint16(b[l3+6:])&0x3fff != 0 {
			return s, false // options, not TCP, or a fragment
		}
		if int(binary.BigEndian.Uint16(b[l3+2:])) != len(b)-l3 {
			return s, false // padded or cut
		}
		s.l4, s.v4 = l3+20, true
	case 0x86DD:
		if l3+60 > len(b) || b[l3+6] != 6 || int(binary.BigEndian.Uint16(b[l3+4:])) != len(b)-l3-40 {
			return s, false
		}
		s.l4 = l3 + 40
	default:
		return s, false
	}
	t := b[s.l4:]
	s.hl = s.l4 + int(t[12]>>4)*4
	// ACK, maybe PSH; nothing else.
	if t[13]&^0x08 != 0x10 || s.hl > len(b) || s.hl <= s.l4+19 {
		return s, false
	}
	s.l3, s.seq, s.payload = l3, binary.BigEndian.Uint32(t[4:]), len(b)-s.hl
	if s.payload == 0 {
		return s, false // a pure ACK
	}
	return s, true
}

// follows reports whether segment b (parsed as sb) continues the flow of
// a (parsed as sa) with sa.payload bytes each so far.
func follows(a Frame, sa tcpSeg, b Frame, sb tcpSeg, seq uint32) bool {
	x, y := a.Bytes(), b.Bytes()
	if sa.hl != sb.hl || sa.l3 != sb.l3 || sa.v4 != sb.v4 || sb.seq != seq || sb.payload > sa.payload {
		return false
	}
	// Layer 2 (addresses, tags), then the IP header but its lengths, ID
	// and checksum, then TCP but the sequence number, flags and checksum.
	if !bytes.Equal(x[:sa.l3], y[:sa.l3]) {
		return false
	}
	if sa.v4 {
		if x[sa.l3+1] != y[sa.l3+1] || !bytes.Equal(x[sa.l3+6:sa.l3+10], y[sa.l3+6:sa.l3+10]) || !bytes.Equal(x[sa.l3+12:sa.l3+20], y[sa.l3+12:sa.l3+20]) {
			return false
		}
	} else if !bytes.Equal(x[sa.l3:sa.l3+4], y[sa.l3:sa.l3+4]) || !bytes.Equal(x[sa.l3+6:sa.l3+40], y[sa.l3+6:sa.l3+40]) {
		return false
	}
	t, u := x[sa.l4:sa.hl], y[sb.l4:sb.hl]
	return bytes.Equal(t[:4], u[:4]) && bytes.Equal(t[8:13], u[8:13]) && bytes.Equal(t[14:16], u[14:16]) && bytes.Equal(t[18:], u[18:])
}

// coalesce returns frames with each run of mergeable segments replaced by
// one super-frame. The result is frames itself when nothing merged.
func (c *coalescer) coalesce(frames []Frame) []Frame {
	c.out, c.n = c.out[:0], c.n[:0]
	c.arena = c.arena[:0]
	merged := false
	for i := 0; i < len(frames); {
		first := frames[i]
		sa, ok := parseSeg(first)
		j := i + 1
		total := 0
		if ok {
			total = sa.payload
			seq := sa.seq + uint32(sa.payload)
			last := sa.payload
			for j < len(frames) && last == sa.payload && frames[j-1].Bytes()[sa.l4+13]&0x08 == 0 {
				sb, ok := parseSeg(frames[j])
				if !ok || !follows(first, sa, frames[j], sb, seq) || sa.hl-sa.l3+total+sb.payload > 65535 {
					break
				}
				total += sb.payload
				seq += uint32(sb.payload)
				last = sb.payload
				j++
			}
		}
		if len(c.out) == cap(c.out) {
			if !merged {
				return frames
			}
			// Out of room: the rest as they are would not fit either;
			// stop merging here (Write sends the rest in a second call).
			break
		}
		if j > i+1 && len(c.arena)+CopySize(sa.hl+total) > cap(c.arena) {
			// Out of memory for this run (the arena holds at least one
			// super-frame, so one merged before): stop here too, and
			// the next call merges the rest.
			break
		}
		k := 1
		var f Frame
		if j > i+1 {
			f, k = c.merge(frames[i:j], sa, total)
		}
		if k < 2 {
			c.out, c.n = append(c.out, first), append(c.n, 1)
			i++
			continue
		}
		merged = true
		c.out, c.n = append(c.out, f), append(c.n, k)
		i += k
	}
	if !merged {
		return frames
	}
	return c.out
}

// merge builds, in the arena, the super-frame of the longest run at the
// start of segs (parsed as sa for the first; total bytes of payload in
// all) whose checksums are right, and returns it with the number of
// segments it stands for. Each payload is summed as it is copied
// (copyCsum), so that checking a segment costs no pass of its own; the
// first segment with a wrong sum ends the run. Fewer than 2 means nothing
// merged, and the arena is as it was.
func (c *coalescer) merge(segs []Frame, sa tcpSeg, total int) (Frame, int) {
	start := len(c.arena)
	size := CopySize(sa.hl + total)
	buf := c.arena[start : start+size : start+size]
	s := buf[Headroom : Headroom+sa.hl+total]
	first := segs[0].Bytes()
	var addrs uint64 // the pseudo-header's addresses, the same in all
	if sa.v4 {
		addrs = csumAdd(0, first[sa.l3+12:sa.l3+20])
	} else {
		addrs = csumAdd(0, first[sa.l3+8:sa.l3+40])
	}
	n, k := sa.hl, 0
	for _, g := range segs {
		b := g.Bytes()
		pay := copyCsum(s[n:], b[sa.hl:])
		if g.Offload().Flags&OffloadDataValid == 0 {
			sum := csumAdd(csumAddWord(addrs, 6+uint64(len(b)-sa.l4)), b[sa.l4:sa.hl])
			if fold(csumAddWord(sum, pay)) != 0xffff {
				break
			}
		}
		n += len(b) - sa.hl
		k++
	}
	if k < 2 {
		return Frame{}, k
	}
	size = CopySize(n)
	c.arena = c.arena[:start+size]
	buf, s = buf[:size:size], s[:n]
	clearOffload(buf)
	copy(s, first[:sa.hl])
	// PSH of the last segment.
	s[sa.l4+13] |= segs[k-1].Bytes()[sa.l4+13] & 0x08
	var sum uint64
	gso := uint8(GSOTCPv6)
	if sa.v4 {
		gso = GSOTCPv4
		ip := s[sa.l3:]
		binary.BigEndian.PutUint16(ip[2:], uint16(len(s)-sa.l3))
		ip[10], ip[11] = 0, 0
		binary.BigEndian.PutUint16(ip[10:], ^fold(csumAdd(0, ip[:20])))
		sum = csumAdd(0, ip[12:20])
	} else {
		binary.BigEndian.PutUint16(s[sa.l3+4:], uint16(len(s)-sa.l3-40))
		sum = csumAdd(0, s[sa.l3+8:sa.l3+40])
	}
	// The checksum field holds the pseudo-header's sum, as a partial
	// checksum does.
	binary.BigEndian.PutUint16(s[sa.l4+16:], fold(csumAddWord(sum, 6+uint64(len(s)-sa.l4))))
	f := Frame{Buf: buf[:Headroom+len(s)], Off: Headroom}
	f.SetOffload(Offload{Flags: OffloadNeedsCsum, GSOType: gso, HdrLen: uint16(sa.hl), GSOSize: uint16(sa.payload),
		CsumStart: uint16(sa.l4), CsumOffset: 16})
	return f, k
}
