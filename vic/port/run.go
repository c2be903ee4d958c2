package port

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// Core is a forwarding core that processes frames synchronously, a batch
// at a time: vic/iv's IV and vic/vis's VIS.
//
// Process takes frames that arrived on the core's port in, in order, with
// the time now in nanoseconds, and appends what it sends to tx. It returns
// how many frames it consumed: fewer than len(frames) only when tx has no
// room for the next one; the caller then writes tx out, resets it and calls
// again with the rest. A core may rewrite consumed frames in place and send
// them, so their buffers must stay untouched until tx is written.
type Core interface {
	Process(in int, frames []Frame, now int64, tx *Tx) int
}

// RunConfig tunes Run.
type RunConfig struct {
	// Batch is the number of frames read at once per port (default 64).
	Batch int
	// TxFrames and TxArena size each port goroutine's Tx (defaults 4096
	// frames and 4 MiB).
	TxFrames, TxArena int
	// Now is the clock passed to the core, in nanoseconds (default
	// time.Now().UnixNano()).
	Now func() int64
	// Pin, if not nil, is called by each port's goroutine before it
	// starts, on its own locked OS thread (Linux: PinToCPU), so that a
	// core's goroutines can be kept on a CPU of their own.
	Pin func() error
}

// Run drives core with one goroutine per port (per queue of a Queued
// port): each reads a batch from ports[i], has the core process it as
// port i, and writes what the core sends to ports[its port]. A core is
// called from several goroutines at once, for the same port too when it
// has queues (the IV and the VIS take their lock for a batch). A nil entry in ports is a port number the core
// has but Run does not serve. Run returns when ctx is done, after closing
// every port; the error joins the read errors that stopped a goroutine
// before that, if any.
func Run(ctx context.Context, core Core, ports []Port, cfg RunConfig) error {
	if cfg.Batch <= 0 {
		cfg.Batch = 64
	}
	if cfg.TxFrames <= 0 {
		cfg.TxFrames = 4096
	}
	if cfg.TxArena <= 0 {
		cfg.TxArena = 4 << 20
	}
	if cfg.Now == nil {
		cfg.Now = func() int64 { return time.Now().UnixNano() }
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for i, p := range ports {
		if p == nil {
			continue
		}
		readers := []Port{p}
		if q, ok := p.(Queued); ok && len(q.Queues()) > 1 {
			readers = q.Queues()
		}
		for _, r := range readers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := serve(ctx, core, i, r, ports, cfg); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}()
		}
	}
	<-ctx.Done()
	for _, p := range ports {
		if p != nil {
			p.Close()
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Queued is a port with several receive queues, such as a TAP with
// TAPConfig.Queues: Run serves each queue with a goroutine of its own,
// all as the same port number, and writes to the port itself.
type Queued interface {
	Port
	// Queues returns the port's queues, each a Port that reads (and
	// writes) that queue alone, or nil when the port has one queue.
	Queues() []Port
}

// serve reads from r, one of port in's queues (or the port itself), has
// the core process what it reads as port in and writes what it sends to
// ports.
func serve(ctx context.Context, core Core, in int, r Port, ports []Port, cfg RunConfig) error {
	if cfg.Pin != nil {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cfg.Pin(); err != nil {
			return fmt.Errorf("port %d: pin: %w", in, err)
		}
	}
	b := NewBatch(cfg.Batch)
	if l, ok := r.(interface{ ReadLen() int }); ok && l.ReadLen() > DefaultFrameLen {
		// A port with offloads reads super-frames.
		b = NewBatchSize(cfg.Batch, l.ReadLen())
	}
	tx := NewTx(cfg.TxFrames, cfg.TxArena)
	for {
		if err := r.Read(b); err != nil {
			if ctx.Err() != nil || errors.Is(err, ErrClosed) {
				return nil
			}
			return fmt.Errorf("port %d: %w", in, err)
		}
		frames := b.Valid()
		for len(frames) > 0 {
			n := core.Process(in, frames, cfg.Now(), tx)
			frames = frames[n:]
			tx.WriteTo(ports) // a write error is counted in the port's Stats
			if n == 0 && len(frames) > 0 {
				// The Tx cannot hold even one frame's output: drop it
				// rather than spin.
				frames = frames[1:]
			}
		}
	}
}
