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
}

// maxMmsg is the most messages one recvmmsg or sendmmsg takes (the
// kernel's UIO_MAXIOV).
const maxMmsg = 1024

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
		n, err := unix.Read(int(fd), buf)
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
		b.set(b.N, n)
		b.N++
		p.stats.rx(n)
	}
	return true
}

// readMmsg is readReady for sockets: every frame the batch has room for
// in one recvmmsg(2), each read 4 bytes behind the headroom of its buffer
// (so that a VLAN tag put back leaves the frame at the usual offset) with
// its control messages (PACKET_AUXDATA) beside it.
func (p *fdPort) readMmsg(fd int, b *Batch) bool {
	for b.N < len(b.Frames) {
		start := b.N
		k := min(len(b.Frames)-start, maxMmsg)
		if len(p.rmsgs) < k {
			p.rmsgs, p.riov, p.roob = make([]unix.Mmsghdr, k), make([]unix.Iovec, k), make([][8]uint64, k)
		}
		for j := range k {
			buf := b.slot(start + j)[Headroom+4 : Headroom+4+b.maxLen+1]
			p.riov[j].Base = &buf[0]
			p.riov[j].SetLen(len(buf))
			h := &p.rmsgs[j].Hdr
			*h = unix.Msghdr{Iov: &p.riov[j], Control: (*byte)(unsafe.Pointer(&p.roob[j][0]))}
			h.SetIovlen(1)
			h.SetControllen(len(p.roob[j]) * 8)
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
			n := int(p.rmsgs[j].Len)
			if n > b.maxLen || n < 14 {
				// Cut short (it filled the buffer), or a runt.
				p.stats.rxDropped.Add(1)
				continue
			}
			if slot := start + j; slot != b.N {
				// An earlier frame of this read was dropped: this one
				// moves down into the buffer of frame b.N.
				copy(b.slot(b.N)[Headroom+4:Headroom+4+n], b.slot(slot)[Headroom+4:Headroom+4+n])
			}
			n = restoreVLAN(b, b.N, n, &p.roob[j], int(p.rmsgs[j].Hdr.Controllen))
			b.N++
			p.stats.rx(n)
		}
		if int(r) < k && b.N > 0 {
			return true // the queue is empty
		}
	}
	return true
}

// restoreVLAN makes frame i of b from the n bytes read 4 bytes behind the
// headroom: if the control messages (the first oobn bytes of oob) carry a
// VLAN tag the kernel took out, the addresses move 4 bytes forward and the
// tag goes back behind them, as it was on the wire (libpcap does the
// same). It returns the frame's length.
func restoreVLAN(b *Batch, i, n int, oob *[8]uint64, oobn int) int {
	ctl := unsafe.Slice((*byte)(unsafe.Pointer(&oob[0])), len(oob)*8)
	tci, tpid, ok := auxVLAN(ctl[:min(oobn, len(ctl))])
	if !ok {
		b.setAt(i, Headroom+4, n)
		return n
	}
	s := b.slot(i)
	copy(s[Headroom:Headroom+12], s[Headroom+4:Headroom+16])
	binary.BigEndian.PutUint16(s[Headroom+12:], tpid)
	binary.BigEndian.PutUint16(s[Headroom+14:], tci)
	b.setAt(i, Headroom, n+4)
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
	p.wframes, p.wn, p.werr = frames, 0, nil
	err := p.rc.Write(p.writeFn)
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
	if p.mmsg {
		return p.writeMmsg(int(fd))
	}
	for p.wn < len(p.wframes) {
		b := p.wframes[p.wn].Bytes()
		if len(b) > MaxFrameLen {
			p.stats.txDropped.Add(1)
			p.werr = ErrTooLong
			return true
		}
		_, err := unix.Write(int(fd), b)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN || err == unix.ENOBUFS:
			return false
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
			p.wmsgs, p.wiov = make([]unix.Mmsghdr, k), make([]unix.Iovec, k)
		}
		m := 0
		for ; m < k; m++ {
			b := rest[m].Bytes()
			if len(b) > MaxFrameLen {
				break
			}
			p.wiov[m] = unix.Iovec{}
			if len(b) > 0 {
				p.wiov[m].Base = &b[0]
				p.wiov[m].SetLen(len(b))
			}
			h := &p.wmsgs[m].Hdr
			*h = unix.Msghdr{Iov: &p.wiov[m]}
			h.SetIovlen(1)
		}
		if m == 0 { // the next frame is too long
			p.stats.txDropped.Add(1)
			p.werr = ErrTooLong
			return true
		}
		r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&p.wmsgs[0])), uintptr(m), 0, 0, 0)
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
