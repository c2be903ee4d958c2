//go:build linux

package port

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fdPort is a port over a non-blocking file descriptor that carries one
// frame per read(2) and write(2), a TAP device, or per message of
// recvmmsg(2) and sendmmsg(2), a bound AF_PACKET socket. The descriptor is registered with Go's network poller through
// os.File, so a blocked Read parks its goroutine (not a thread) and Close
// wakes it. A Read takes every frame ready when the descriptor becomes
// readable, up to the batch's capacity, so that one wake-up serves a batch.
type fdPort struct {
	name  string
	file  *os.File
	rc    syscall.RawConn
	stats stats

	// State of the Read and Write in progress, so that the callbacks given
	// to the RawConn are method values made once (no allocation per call).
	rb      *Batch
	rerr    error
	readFn  func(uintptr) bool
	wframes []Frame
	wn      int
	werr    error
	writeFn func(uintptr) bool
	rmu     chan struct{} // one Read at a time
	wmu     chan struct{} // one Write at a time
	closed  atomic.Bool

	// mmsg is set for sockets (AF_PACKET): a batch is read with one
	// recvmmsg(2), each frame with its PACKET_AUXDATA control message so
	// that the VLAN tag the kernel took out of it (receive VLAN offload)
	// goes back in front of it, and written with sendmmsg(2), rather than
	// one system call per frame. The message headers and control buffers
	// live here, grown to the largest batch seen, so that steady-state
	// reads and writes do not allocate.
	mmsg  bool
	rmsgs []unix.Mmsghdr
	riov  []unix.Iovec
	roob  [][8]uint64
	wmsgs []unix.Mmsghdr
	wiov  []unix.Iovec
	whdrs [][VNetHdrLen]byte

	// vnet is set when the descriptor carries a virtio_net_hdr in front
	// of every frame (IFF_VNET_HDR, PACKET_VNET_HDR): frames are read and
	// written with readv/writev, or two iovecs per message, the header
	// going to and from the frame's Offload. Without it, a frame with an
	// Offload is finished (segmented, checksummed) in soft before it is
	// written; mtu bounds the segments' size (0: the frames' own
	// GSOSize).
	vnet bool
	mtu  int
	// segMTU is the IP MTU of the segments a super-frame read from a link
	// with offloads stands for (PacketConfig.SegmentMTU).
	segMTU int
	riov2  [2]unix.Iovec // readv's; Read and Write run at the same time
	wiov2  [2]unix.Iovec
	whdr   [VNetHdrLen]byte
	soft   *Segmenter
	gro    *coalescer
	// txr is the transmit ring of an AF_PACKET port that has one.
	txr *txRing
	// xsk is the AF_XDP socket an AF_PACKET port writes through
	// (PacketConfig.XDPTx), if it has one.
	xsk *xskTx
}

// maxMmsg is the most messages one recvmmsg or sendmmsg takes (the
// kernel's UIO_MAXIOV).
const maxMmsg = 1024

// ReadLen returns the largest frame the port reads: MaxSuperFrameLen
// with offloads on, MaxFrameLen without. Run sizes its batches by it.
func (p *fdPort) ReadLen() int {
	if p.vnet {
		return MaxSuperFrameLen
	}
	return DefaultFrameLen
}

func newFDPort(name string, fd int, kind string) (*fdPort, error) {
	f := os.NewFile(uintptr(fd), kind+":"+name)
	if f == nil {
		unix.Close(fd)
		return nil, fmt.Errorf("port %s: bad descriptor", name)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("port %s: %w", name, err)
	}
	p := &fdPort{name: name, file: f, rc: rc, rmu: make(chan struct{}, 1), wmu: make(chan struct{}, 1)}
	p.readFn = p.readReady
	p.writeFn = p.writeReady
	return p, nil
}

// Name returns the interface's name.
func (p *fdPort) Name() string { return p.name }

// Stats returns the port's counters.
func (p *fdPort) Stats() Stats { return p.stats.load() }

// Read waits until the descriptor is readable and reads every ready frame,
// up to the batch's capacity.
func (p *fdPort) Read(b *Batch) error {
	p.rmu <- struct{}{}
	defer func() { <-p.rmu }()
	b.N = 0
	p.rb, p.rerr = b, nil
	err := p.rc.Read(p.readFn)
	p.rb = nil
	if err == nil {
		err = p.rerr
	}
	if err != nil && b.N == 0 {
		return p.wrap("read", err)
	}
	return nil
}

// readReady is called by the poller when the descriptor may be readable.
// It returns false (wait again) only when nothing at all was read.
func (p *fdPort) readReady(fd uintptr) bool {
	b := p.rb
	if p.mmsg {
		return p.readMmsg(int(fd), b)
	}
	for b.N < len(b.Frames) {
		buf := b.readBuf(b.N)
		var n int
		var err error
		if p.vnet {
			n, err = p.readv(int(fd), b.slot(b.N)[:VNetHdrLen], buf)
		} else {
			n, err = unix.Read(int(fd), buf)
		}
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return b.N > 0
		case err != nil:
			p.stats.errors.Add(1)
			p.rerr = err
			return true
		case n == len(buf):
			// The frame filled the buffer: it may have been cut short.
			p.stats.rxDropped.Add(1)
			continue
		case n < 14:
			p.stats.rxDropped.Add(1)
			continue
		}
		if p.vnet {
			b.setVNet(b.N, Headroom, n)
		} else {
			b.set(b.N, n)
		}
		b.N++
		p.stats.rx(n)
	}
	return true
}

// readv reads one frame with its virtio_net_hdr: the header into hdr, the
// frame into buf. It returns the frame's length.
func (p *fdPort) readv(fd int, hdr, buf []byte) (int, error) {
	p.riov2[0].Base, p.riov2[1].Base = &hdr[0], &buf[0]
	p.riov2[0].SetLen(len(hdr))
	p.riov2[1].SetLen(len(buf))
	n, _, e := unix.Syscall(unix.SYS_READV, uintptr(fd), uintptr(unsafe.Pointer(&p.riov2[0])), 2)
	if e != 0 {
		return 0, e
	}
	if int(n) < len(hdr) {
		return 0, nil // counted as a runt
	}
	return int(n) - len(hdr), nil
}

// writev writes one frame with its virtio_net_hdr.
func (p *fdPort) writev(fd int, hdr, frame []byte) error {
	p.wiov2[0].Base, p.wiov2[1].Base = &hdr[0], &frame[0]
	p.wiov2[0].SetLen(len(hdr))
	p.wiov2[1].SetLen(len(frame))
	_, _, e := unix.Syscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&p.wiov2[0])), 2)
	if e != 0 {
		return e
	}
	return nil
}

// readMmsg is readReady for sockets: every frame the batch has room for
// in one recvmmsg(2), each read 4 bytes behind the headroom of its buffer
// (so that a VLAN tag put back leaves the frame at the usual offset) with
// its control messages (PACKET_AUXDATA) beside it.
func (p *fdPort) readMmsg(fd int, b *Batch) bool {
	for b.N < len(b.Frames) {
		start := b.N
		k := min(len(b.Frames)-start, maxMmsg)
		p.growMsgs(k)
		for j := range k {
			p.prepMsg(j, b.slot(start+j), b.maxLen)
		}
		r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&p.rmsgs[0])), uintptr(k), 0, 0, 0)
		switch {
		case e == unix.EINTR:
			continue
		case e == unix.EAGAIN:
			return b.N > 0
		case e != 0:
			p.stats.errors.Add(1)
			p.rerr = e
			return true
		}
		for j := range int(r) {
			p.takeMsg(b, j, start+j)
		}
		if int(r) < k && b.N > 0 {
			return true // the queue is empty
		}
	}
	return true
}

// readQueued reads the frame at the head of the socket's queue into frame
// b.N of b (which must have room), as readMmsg does: with a receive ring,
// a frame longer than a slot, which the kernel queued there
// (PACKET_COPY_THRESH) and marked its slot TP_STATUS_COPY. It reports
// whether a frame was read and kept.
func (p *fdPort) readQueued(fd int, b *Batch) bool {
	p.growMsgs(min(len(b.Frames), maxMmsg))
	p.prepMsg(0, b.slot(b.N), b.maxLen)
	for {
		r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&p.rmsgs[0])), 1, 0, 0, 0)
		switch {
		case e == unix.EINTR:
			continue
		case e != 0 || r != 1:
			return false
		}
		return p.takeMsg(b, 0, b.N)
	}
}

// growMsgs makes room for k messages in the receive message headers.
func (p *fdPort) growMsgs(k int) {
	if len(p.rmsgs) < k {
		p.rmsgs, p.riov, p.roob = make([]unix.Mmsghdr, k), make([]unix.Iovec, 2*k), make([][8]uint64, k)
	}
}

// prepMsg sets up receive message j to read a frame of up to maxLen bytes
// into slot, a batch buffer: 4 bytes behind the headroom, with the
// virtio_net_hdr in front of the buffer when offloads are on.
func (p *fdPort) prepMsg(j int, slot []byte, maxLen int) {
	buf := slot[Headroom+4 : Headroom+4+maxLen+1]
	iov := p.riov[2*j : 2*j+2]
	nio := 1
	if p.vnet {
		iov[0].Base = &slot[0]
		iov[0].SetLen(VNetHdrLen)
		iov = iov[1:]
		nio = 2
	}
	iov[0].Base = &buf[0]
	iov[0].SetLen(len(buf))
	h := &p.rmsgs[j].Hdr
	*h = unix.Msghdr{Iov: &p.riov[2*j], Control: (*byte)(unsafe.Pointer(&p.roob[j][0]))}
	h.SetIovlen(nio)
	h.SetControllen(len(p.roob[j]) * 8)
}

// takeMsg makes frame b.N of b from receive message j, read into batch
// buffer slot, and reports whether it kept it: a frame cut short (it
// filled the buffer) or a runt is dropped and counted.
func (p *fdPort) takeMsg(b *Batch, j, slot int) bool {
	n := int(p.rmsgs[j].Len)
	if p.vnet {
		n -= VNetHdrLen
	}
	if n > b.maxLen || n < 14 {
		p.stats.rxDropped.Add(1)
		return false
	}
	if slot != b.N {
		// An earlier frame of this read was dropped: this one moves
		// down into the buffer of frame b.N.
		copy(b.slot(b.N)[Headroom+4:Headroom+4+n], b.slot(slot)[Headroom+4:Headroom+4+n])
		copy(b.slot(b.N)[:VNetHdrLen], b.slot(slot)[:VNetHdrLen])
	}
	n = restoreVLAN(b, b.N, n, &p.roob[j], int(p.rmsgs[j].Hdr.Controllen), p.vnet)
	if p.vnet && n > p.segMTU+14 {
		markSuper(b.Frames[b.N], p.segMTU)
	}
	b.N++
	p.stats.rx(n)
	return true
}

// restoreVLAN makes frame i of b from the n bytes read 4 bytes behind the
// headroom: if the control messages (the first oobn bytes of oob) carry a
// VLAN tag the kernel took out, the addresses move 4 bytes forward and the
// tag goes back behind them, as it was on the wire (libpcap does the
// same). It returns the frame's length.
func restoreVLAN(b *Batch, i, n int, oob *[8]uint64, oobn int, vnet bool) int {
	ctl := unsafe.Slice((*byte)(unsafe.Pointer(&oob[0])), len(oob)*8)
	tci, tpid, ok := auxVLAN(ctl[:min(oobn, len(ctl))])
	set := b.setAt
	if vnet {
		// The header's csum_start counts the tag put back (the kernel
		// adds its length), so it counts from where the frame will start.
		set = b.setVNet
	}
	if !ok {
		set(i, Headroom+4, n)
		return n
	}
	s := b.slot(i)
	copy(s[Headroom:Headroom+12], s[Headroom+4:Headroom+16])
	binary.BigEndian.PutUint16(s[Headroom+12:], tpid)
	binary.BigEndian.PutUint16(s[Headroom+14:], tci)
	set(i, Headroom, n+4)
	return n + 4
}

// auxVLAN returns the VLAN tag recorded in a PACKET_AUXDATA control message
// of oob, if the kernel took one out of the frame.
func auxVLAN(oob []byte) (tci, tpid uint16, ok bool) {
	const auxLen = int(unsafe.Sizeof(unix.TpacketAuxdata{}))
	for len(oob) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < unix.SizeofCmsghdr || l > len(oob) {
			return 0, 0, false
		}
		if h.Level == unix.SOL_PACKET && h.Type == unix.PACKET_AUXDATA && l >= unix.CmsgLen(auxLen) {
			aux := (*unix.TpacketAuxdata)(unsafe.Pointer(&oob[unix.CmsgLen(0)]))
			if aux.Status&unix.TP_STATUS_VLAN_VALID == 0 {
				return 0, 0, false
			}
			tpid = 0x8100
			if aux.Status&unix.TP_STATUS_VLAN_TPID_VALID != 0 && aux.Vlan_tpid != 0 {
				tpid = aux.Vlan_tpid
			}
			return aux.Vlan_tci, tpid, true
		}
		next := unix.CmsgSpace(l - unix.CmsgLen(0))
		if next <= 0 || next > len(oob) {
			return 0, 0, false
		}
		oob = oob[next:]
	}
	return 0, 0, false
}

// Write writes the frames in order, one write(2) each on a TAP device, in
// sendmmsg(2) calls on a socket, waiting while the descriptor's queue is
// full.
func (p *fdPort) Write(frames []Frame) (int, error) {
	p.wmu <- struct{}{}
	defer func() { <-p.wmu }()
	for i := range frames {
		if p.needsSoft(frames[i]) {
			return p.writeSoft(frames)
		}
	}
	if p.vnet && !p.mmsg && len(frames) > 1 {
		return p.writeCoalesced(frames)
	}
	return p.write(frames)
}

// writeCoalesced is Write for a TAP with offloads: runs of TCP segments of
// one flow go in as one super-frame each (coalescer), so that a stream
// that crossed a link of a real MTU takes one write per 64 KB.
func (p *fdPort) writeCoalesced(frames []Frame) (int, error) {
	if p.gro == nil {
		p.gro = newCoalescer()
	}
	done := 0
	for done < len(frames) {
		out := p.gro.coalesce(frames[done:])
		if &out[0] == &frames[done] {
			n, err := p.write(frames[done:])
			return done + n, err
		}
		n, err := p.write(out)
		done += p.gro.inputs(n)
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// needsSoft reports whether frame f must be finished in software before
// it is written: it has an Offload and the descriptor takes none, or it is
// a super-frame and the descriptor is a link that cannot carry it as one
// frame (a UDP one, or one longer than its MTU allows).
func (p *fdPort) needsSoft(f Frame) bool {
	if len(f.Buf) < VNetHdrLen || f.Buf[0]|f.Buf[1] == 0 {
		return false // the usual frame: no flags, no GSO
	}
	o := f.Offload()
	if !p.vnet || p.xsk != nil {
		return !o.IsZero()
	}
	if !p.mmsg || o.GSOType == GSONone {
		return false // a TAP takes super-frames as they are
	}
	t := o.GSOType &^ GSOECN
	return t != GSOTCPv4 && t != GSOTCPv6 || p.mtu > 0 && f.Len() > p.mtu+14
}

// writeSoft is Write for frames of which some have an Offload that the
// descriptor cannot carry: each of those is finished by the port's
// Segmenter (segmented to the port's MTU, checksummed) and its segments
// written in its place. It returns how many of frames it wrote.
func (p *fdPort) writeSoft(frames []Frame) (int, error) {
	if p.soft == nil {
		p.soft = NewSegmenter()
	}
	maxLen := 0
	if p.mtu > 0 {
		maxLen = p.mtu + 14
		if p.vnet && p.segMTU > 0 {
			// A jumbo link with offloads: segments as the VMs' MTU.
			maxLen = min(maxLen, p.segMTU+14+8)
		}
	}
	done := 0
	for done < len(frames) {
		j := done
		for j < len(frames) && !p.needsSoft(frames[j]) {
			j++
		}
		if j > done {
			n, err := p.write(frames[done:j])
			done += n
			if err != nil {
				return done, err
			}
			continue
		}
		segs, err := p.soft.Finish(frames[done], maxLen)
		if err != nil {
			p.stats.txDropped.Add(1)
			return done, p.wrap("write", err)
		}
		if _, err := p.write(segs); err != nil {
			return done, err
		}
		done++
	}
	return done, nil
}

func (p *fdPort) write(frames []Frame) (int, error) {
	p.wframes, p.wn, p.werr = frames, 0, nil
	rc := p.rc
	if p.xsk != nil {
		rc = p.xsk.rc // the wait is for the AF_XDP socket's ring
	}
	err := rc.Write(p.writeFn)
	n := p.wn
	p.wframes = nil
	if err == nil {
		err = p.werr
	}
	if err != nil {
		return n, p.wrap("write", err)
	}
	return n, nil
}

func (p *fdPort) writeReady(fd uintptr) bool {
	if p.xsk != nil {
		return p.writeXSK(int(fd))
	}
	if p.txr != nil {
		return p.writeTxRing(int(fd))
	}
	if p.mmsg {
		return p.writeMmsg(int(fd))
	}
	for p.wn < len(p.wframes) {
		f := p.wframes[p.wn]
		b := f.Bytes()
		var err error
		if p.vnet {
			o := f.Offload()
			if len(b) > MaxSuperFrameLen {
				p.stats.txDropped.Add(1)
				p.werr = ErrTooLong
				return true
			}
			putVNetHdr(p.whdr[:], o)
			err = p.writev(int(fd), p.whdr[:], b)
		} else {
			if len(b) > MaxFrameLen {
				p.stats.txDropped.Add(1)
				p.werr = ErrTooLong
				return true
			}
			_, err = unix.Write(int(fd), b)
		}
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN || err == unix.ENOBUFS:
			return false
		case err == unix.EIO && !p.mmsg:
			// The TAP is down: the frame is dropped, as a NIC without
			// carrier would, and counted.
			p.stats.txDropped.Add(1)
			p.wn++
			continue
		case err != nil:
			p.stats.errors.Add(1)
			p.stats.txDropped.Add(1)
			p.werr = err
			return true
		}
		p.stats.tx(len(b))
		p.wn++
	}
	return true
}

// writeMmsg is writeReady for sockets: the frames in order, as many as
// the socket takes in each sendmmsg(2).
func (p *fdPort) writeMmsg(fd int) bool {
	for p.wn < len(p.wframes) {
		rest := p.wframes[p.wn:]
		k := min(len(rest), maxMmsg)
		if len(p.wmsgs) < k {
			p.wmsgs, p.wiov, p.whdrs = make([]unix.Mmsghdr, k), make([]unix.Iovec, 2*k), make([][VNetHdrLen]byte, k)
		}
		m := 0
		for ; m < k; m++ {
			f := rest[m]
			b := f.Bytes()
			iov := p.wiov[2*m : 2*m+2]
			nio := 1
			if p.vnet {
				o := f.Offload()
				if len(b) > MaxSuperFrameLen {
					break
				}
				// A link carries a TCP super-frame as one jumbo frame
				// with its partial checksum (writeSoft made sure it
				// fits): the kernel cannot check the GSO headers of a
				// frame with a tag in front of its IP header, and drops
				// it. The far end's port marks it a super-frame again.
				o.GSOType, o.GSOSize, o.HdrLen = GSONone, 0, 0
				putVNetHdr(p.whdrs[m][:], o)
				iov[0].Base = &p.whdrs[m][0]
				iov[0].SetLen(VNetHdrLen)
				iov = iov[1:]
				nio = 2
			} else if len(b) > MaxFrameLen {
				break
			}
			iov[0] = unix.Iovec{}
			if len(b) > 0 {
				iov[0].Base = &b[0]
				iov[0].SetLen(len(b))
			}
			h := &p.wmsgs[m].Hdr
			*h = unix.Msghdr{Iov: &p.wiov[2*m]}
			h.SetIovlen(nio)
		}
		if m == 0 { // the next frame is too long
			p.stats.txDropped.Add(1)
			p.werr = ErrTooLong
			return true
		}
		r, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&p.wmsgs[0])), uintptr(m), 0, 0, 0)
		switch {
		case e == unix.EINTR:
			continue
		case e == unix.EAGAIN || e == unix.ENOBUFS:
			return false
		case e != 0:
			// The first frame failed (a later one would have ended the
			// call early, and fails on the next).
			p.stats.errors.Add(1)
			p.stats.txDropped.Add(1)
			p.werr = e
			return true
		}
		for j := range int(r) {
			p.stats.tx(len(rest[j].Bytes()))
		}
		p.wn += int(r)
	}
	return true
}

// Close closes the descriptor; blocked reads and writes return ErrClosed.
func (p *fdPort) Close() error {
	p.closed.Store(true)
	if err := p.file.Close(); err != nil {
		return p.wrap("close", err)
	}
	return nil
}

func (p *fdPort) wrap(op string, err error) error {
	if p.closed.Load() || errors.Is(err, os.ErrClosed) {
		// After Close the poller reports "use of closed file", an error
		// os does not export.
		err = ErrClosed
	}
	return fmt.Errorf("port %s: %s: %w", p.name, op, err)
}
