//go:build linux

package port

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// fdPort is a port over a non-blocking file descriptor that carries one
// frame per read(2) and write(2): a TAP device or a bound AF_PACKET
// socket. The descriptor is registered with Go's network poller through
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

// Write writes the frames in order, one write(2) each, waiting while the
// descriptor's queue is full.
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
