package port

// Coalesce is the coalescer of a TAP with offloads, for tests.
func Coalesce(frames []Frame) []Frame { return newCoalescer().coalesce(frames) }

// NewCoalescer returns a reusable Coalesce, for the allocation test.
func NewCoalescer() func([]Frame) []Frame { return newCoalescer().coalesce }

// CoalesceAll coalesces frames as a TAP's Write does, call after call
// until every frame is written, and returns copies of what each call
// would write.
func CoalesceAll(frames []Frame) []Frame {
	c := newCoalescer()
	var all []Frame
	for done := 0; done < len(frames); {
		out := c.coalesce(frames[done:])
		if &out[0] == &frames[done] {
			return append(all, frames[done:]...)
		}
		for _, f := range out {
			g := FrameFrom(f.Bytes())
			g.SetOffload(f.Offload())
			all = append(all, g)
		}
		done += c.inputs(len(out))
	}
	return all
}

// FlowQueue is the queue of n a multi-queue TAP writes frame b on.
func FlowQueue(b []byte, n int) int { return flowQueue(b, n) }
