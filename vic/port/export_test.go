package port

// Coalesce is the coalescer of a TAP with offloads, for tests.
func Coalesce(frames []Frame) []Frame { return newCoalescer().coalesce(frames) }

// NewCoalescer returns a reusable Coalesce, for the allocation test.
func NewCoalescer() func([]Frame) []Frame { return newCoalescer().coalesce }
