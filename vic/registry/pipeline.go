package registry

import (
	"context"
	"sync"
	"time"
)

// Pipeline hands registry calls to a goroutine that applies them in
// batches (Apply) while the caller goes on: a VIS machine that records
// each vEth change in a shared registry waits for none of them. Calls on
// one instance are applied in the order they were queued. Each call's
// result comes back through its done function, called from the
// pipeline's goroutine; Flush waits for everything queued before it.
type Pipeline struct {
	reg     Registry
	timeout time.Duration
	max     int

	mu      sync.Mutex
	queue   []queued
	wake    chan struct{}
	idle    *sync.Cond
	busy    bool
	closed  bool
	drain   context.Context // after Close: bounds what is left
	done    chan struct{}
	batches int
	applied int
}

type queued struct {
	op   Op
	done func(error)
}

// PipelineOptions configure NewPipeline.
type PipelineOptions struct {
	// Max is the most ops in one Apply (default 400).
	Max int
	// Timeout bounds each Apply (default 30 s).
	Timeout time.Duration
}

// NewPipeline starts a pipeline to reg.
func NewPipeline(reg Registry, o PipelineOptions) *Pipeline {
	if o.Max <= 0 {
		o.Max = 400
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	p := &Pipeline{reg: reg, timeout: o.Timeout, max: o.Max, wake: make(chan struct{}, 1), done: make(chan struct{})}
	p.idle = sync.NewCond(&p.mu)
	go p.run()
	return p
}

// Queue queues op; done, if not nil, gets its result.
func (p *Pipeline) Queue(op Op, done func(error)) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		if done != nil {
			done(ErrClosed)
		}
		return
	}
	p.queue = append(p.queue, queued{op, done})
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Flush waits until every op queued before it was applied.
func (p *Pipeline) Flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.queue) > 0 || p.busy {
		p.idle.Wait()
	}
}

// Stats returns how many batches and ops were applied.
func (p *Pipeline) Stats() (batches, ops int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.batches, p.applied
}

// Close applies what is queued, within the Apply timeout in all (what
// is left then fails with its context's error), then stops; later ops
// fail with ErrClosed.
func (p *Pipeline) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	var cancel context.CancelFunc
	p.drain, cancel = context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	<-p.done
}

func (p *Pipeline) run() {
	defer close(p.done)
	for {
		p.mu.Lock()
		for len(p.queue) == 0 {
			if p.closed {
				p.mu.Unlock()
				return
			}
			p.mu.Unlock()
			<-p.wake
			p.mu.Lock()
		}
		n := min(len(p.queue), p.max)
		batch := p.queue[:n:n]
		p.queue = p.queue[n:]
		p.busy = true
		parent := p.drain
		p.mu.Unlock()
		if parent == nil {
			parent = context.Background()
		}

		ops := make([]Op, len(batch))
		for i, q := range batch {
			ops[i] = q.op
		}
		ctx, cancel := context.WithTimeout(parent, p.timeout)
		errs := Apply(ctx, p.reg, ops)
		cancel()
		for i, q := range batch {
			if q.done != nil {
				q.done(errs[i])
			}
		}
		p.mu.Lock()
		p.busy = false
		p.batches++
		p.applied += len(batch)
		p.idle.Broadcast()
		p.mu.Unlock()
	}
}
