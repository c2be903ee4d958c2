package port

// Tx collects the frames a core sends while processing one batch: each
// with the number of the core's port it leaves by. A frame is either one
// the core rewrote in place in its input buffer (Send) or a copy in the
// Tx's arena (Copy), for frames that leave more than once.
//
// A core checks Room before it takes a frame, so a frame is never accepted
// and then lost for lack of space: when the Tx is full the core stops and
// the caller writes the Tx out, resets it and calls the core again with
// the rest of the batch.
type Tx struct {
	// Frames and Ports are parallel: Frames[i] leaves by port Ports[i].
	Frames []Frame
	Ports  []int
	arena  []byte
	used   int
}

// NewTx returns a Tx for up to frames frames whose copies take up to
// arenaBytes bytes in all.
func NewTx(frames, arenaBytes int) *Tx {
	return &Tx{
		Frames: make([]Frame, 0, frames),
		Ports:  make([]int, 0, frames),
		arena:  make([]byte, arenaBytes),
	}
}

// CopySize is the arena space a copy of an n-byte frame takes.
func CopySize(n int) int {
	if n < 60 {
		n = 60
	}
	return (Headroom + n + Tailroom + 7) &^ 7
}

// Room reports whether frames more frames, of which copies are copies of
// at most maxLen bytes each, fit.
func (t *Tx) Room(frames, copies, maxLen int) bool {
	return len(t.Frames)+frames <= cap(t.Frames) && t.used+copies*CopySize(maxLen) <= len(t.arena)
}

// Free returns how many more frames fit, and how many arena bytes are
// left for copies (see CopySize).
func (t *Tx) Free() (frames, bytes int) {
	return cap(t.Frames) - len(t.Frames), len(t.arena) - t.used
}

// Len returns the number of frames collected.
func (t *Tx) Len() int { return len(t.Frames) }

// Send appends frame f, leaving by port p. f stays in its buffer, which
// must not be reused until the Tx is written out. It reports false when
// the Tx is full.
func (t *Tx) Send(p int, f Frame) bool {
	if len(t.Frames) == cap(t.Frames) {
		return false
	}
	t.Frames = append(t.Frames, f)
	t.Ports = append(t.Ports, p)
	return true
}

// Copy appends a copy of frame, leaving by port p, with Headroom bytes of
// headroom and Tailroom bytes of tailroom in the arena, and returns a
// pointer to it so that the core can push a tag on it. The pointer is
// valid until Reset. It returns nil when the Tx is full.
func (t *Tx) Copy(p int, frame []byte) *Frame {
	n := CopySize(len(frame))
	if len(t.Frames) == cap(t.Frames) || t.used+n > len(t.arena) {
		return nil
	}
	buf := t.arena[t.used : t.used+n : t.used+n]
	t.used += n
	clearOffload(buf)
	copy(buf[Headroom:], frame)
	t.Frames = append(t.Frames, Frame{Buf: buf[:Headroom+len(frame)], Off: Headroom})
	t.Ports = append(t.Ports, p)
	return &t.Frames[len(t.Frames)-1]
}

// CopyFrame is Copy for a whole Frame: the copy keeps f's Offload, so a
// super-frame sent out several times stays one.
func (t *Tx) CopyFrame(p int, f Frame) *Frame {
	c := t.Copy(p, f.Bytes())
	if c != nil {
		c.SetOffload(f.Offload())
	}
	return c
}

// Reset empties the Tx.
func (t *Tx) Reset() {
	t.Frames = t.Frames[:0]
	t.Ports = t.Ports[:0]
	t.used = 0
}

// WriteTo writes every frame to ports[its port number], each run of
// consecutive frames for the same port in one Write, then resets the Tx.
// Frames for a port number outside ports are counted in dropped. It returns
// the first write error; the other frames are still written.
func (t *Tx) WriteTo(ports []Port) (dropped int, err error) {
	for i := 0; i < len(t.Frames); {
		j := i + 1
		for j < len(t.Frames) && t.Ports[j] == t.Ports[i] {
			j++
		}
		p := t.Ports[i]
		if p < 0 || p >= len(ports) || ports[p] == nil {
			dropped += j - i
		} else if n, werr := ports[p].Write(t.Frames[i:j]); werr != nil {
			dropped += j - i - n
			if err == nil {
				err = werr
			}
		}
		i = j
	}
	t.Reset()
	return dropped, err
}
