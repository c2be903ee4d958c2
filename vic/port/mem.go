package port

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// DefaultDepth is the queue depth of an in-memory pair when Pair is given
// a depth below 1.
const DefaultDepth = 1024

// Mem is one end of an in-memory link made by Pair: what one end writes,
// the other reads, in order. Each direction is a bounded queue of
// preallocated buffers, like a NIC's ring: a Write to a full queue drops
// the frame and counts it (TxDropped) instead of blocking, so a single
// goroutine can drive both ends. Steady-state reads and writes do not
// allocate.
type Mem struct {
	name  string
	rx    *memQueue // frames for this end
	tx    *memQueue // frames for the peer
	stats stats
}

type memQueue struct {
	q     chan []byte // filled buffers, in order
	free  chan []byte // empty buffers
	done  chan struct{}
	once  sync.Once
	made  atomic.Int64 // buffers allocated so far, at most depth
	depth int64
}

func newMemQueue(depth int) *memQueue {
	return &memQueue{q: make(chan []byte, depth), free: make(chan []byte, depth), done: make(chan struct{}), depth: int64(depth)}
}

// get returns an empty buffer, allocating one while fewer than depth
// exist (so a pair costs memory only for the frames it queues), or nil
// when the queue is full.
func (m *memQueue) get() []byte {
	select {
	case buf := <-m.free:
		return buf
	default:
	}
	if m.made.Add(1) <= m.depth {
		return make([]byte, MaxFrameLen)
	}
	m.made.Add(-1)
	return nil
}

func (m *memQueue) close() { m.once.Do(func() { close(m.done) }) }

// Pair returns the two ends of an in-memory link named a and b, each
// direction holding up to depth frames (DefaultDepth if depth < 1).
func Pair(a, b string, depth int) (*Mem, *Mem) {
	if depth < 1 {
		depth = DefaultDepth
	}
	ab, ba := newMemQueue(depth), newMemQueue(depth)
	return &Mem{name: a, rx: ba, tx: ab}, &Mem{name: b, rx: ab, tx: ba}
}

// Name returns the end's name.
func (m *Mem) Name() string { return m.name }

// Stats returns the end's counters.
func (m *Mem) Stats() Stats { return m.stats.load() }

// Pending returns the number of frames waiting to be read.
func (m *Mem) Pending() int { return len(m.rx.q) }

// Read waits for at least one frame and returns those queued, up to the
// batch's capacity. It returns ErrClosed once either end is closed and no
// frame is left.
func (m *Mem) Read(b *Batch) error {
	b.N = 0
	select {
	case buf := <-m.rx.q:
		m.take(b, buf)
	case <-m.rx.done:
		// Deliver what was queued before the close.
		select {
		case buf := <-m.rx.q:
			m.take(b, buf)
		default:
			return fmt.Errorf("port %s: read: %w", m.name, ErrClosed)
		}
	}
	m.drain(b)
	return nil
}

// ReadNow is Read without waiting: it returns the frames queued, possibly
// none (b.N == 0). A deterministic single-goroutine driver uses it.
func (m *Mem) ReadNow(b *Batch) error {
	b.N = 0
	m.drain(b)
	if b.N == 0 {
		select {
		case <-m.rx.done:
			return fmt.Errorf("port %s: read: %w", m.name, ErrClosed)
		default:
		}
	}
	return nil
}

func (m *Mem) drain(b *Batch) {
	for b.N < len(b.Frames) {
		select {
		case buf := <-m.rx.q:
			m.take(b, buf)
		default:
			return
		}
	}
}

func (m *Mem) take(b *Batch, buf []byte) {
	if len(buf) > b.maxLen {
		m.stats.rxDropped.Add(1)
	} else {
		n := copy(b.readBuf(b.N), buf)
		b.set(b.N, n)
		b.N++
		m.stats.rx(n)
	}
	m.rx.free <- buf[:cap(buf)]
}

// Write queues copies of frames for the peer. A frame that does not fit
// (queue full) is dropped and counted; Write still returns nil for it, as
// a NIC would. It fails with ErrTooLong for an oversized frame and
// ErrClosed once either end is closed.
func (m *Mem) Write(frames []Frame) (int, error) {
	for i, f := range frames {
		select {
		case <-m.tx.done:
			return i, fmt.Errorf("port %s: write: %w", m.name, ErrClosed)
		default:
		}
		b := f.Bytes()
		if len(b) > MaxFrameLen {
			m.stats.txDropped.Add(1)
			return i, fmt.Errorf("port %s: write %d bytes: %w", m.name, len(b), ErrTooLong)
		}
		if buf := m.tx.get(); buf != nil {
			m.tx.q <- buf[:copy(buf, b)]
			m.stats.tx(len(b))
		} else {
			m.stats.txDropped.Add(1)
		}
	}
	return len(frames), nil
}

// Close closes both directions of the pair; the peer's reads return
// ErrClosed once it has read what was queued.
func (m *Mem) Close() error {
	m.rx.close()
	m.tx.close()
	return nil
}

// stats holds a port's counters, updated atomically.
type stats struct {
	rxFrames, rxBytes, txFrames, txBytes atomic.Uint64
	rxDropped, txDropped, errors         atomic.Uint64
	kernelDropped                        atomic.Uint64
}

func (s *stats) rx(n int) { s.rxFrames.Add(1); s.rxBytes.Add(uint64(n)) }
func (s *stats) tx(n int) { s.txFrames.Add(1); s.txBytes.Add(uint64(n)) }

func (s *stats) load() Stats {
	return Stats{
		RxFrames: s.rxFrames.Load(), RxBytes: s.rxBytes.Load(),
		TxFrames: s.txFrames.Load(), TxBytes: s.txBytes.Load(),
		RxDropped: s.rxDropped.Load(), KernelDropped: s.kernelDropped.Load(), TxDropped: s.txDropped.Load(), Errors: s.errors.Load(),
	}
}
