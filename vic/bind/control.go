package bind

import (
	"github.com/nivkit/niv/vdp/ecp"
	"github.com/nivkit/niv/vic/port"
)

// Control is a port.Core in front of an IV or VIS core that lets the ECP
// frames of the control plane share the IV–VIS link with the data frames.
// On a port that has a speaker (Attach), an untagged frame of EtherType
// 0x8940 goes to the speaker; every other frame, and every frame of the
// other ports, goes to the core as before. Without it the cores count an
// ECP frame as a frame without the link's tag and drop it.
//
// The speaker is called outside the core's Process, so the agent behind
// it may program the core from its Deliver. Data frames go to the core in
// runs, in order; a batch without ECP frames is one call of the core, and
// nothing allocates on that path.
//
// On a port with an LLDP receiver (AttachLLDP), untagged LLDP frames
// (EtherType 0x88CC) go to it in the same way: an EVB port's LLDP agent
// carries the EVB TLV (802.1Qbg 41.5.4 via 802.1AB), and the VIS core
// would drop them as link-local.
type Control struct {
	core     port.Core
	speakers []*ecp.Speaker
	lldp     []FrameReceiver
}

// FrameReceiver takes one control frame read from a port (an
// lldp.Runner, an ecp.Speaker); the frame is valid only during the call.
type FrameReceiver interface {
	Receive(frame []byte)
}

// NewControl returns a Control in front of core.
func NewControl(core port.Core) *Control { return &Control{core: core} }

// Attach makes sp the speaker of core port p. Call it before Process.
func (c *Control) Attach(p int, sp *ecp.Speaker) {
	for len(c.speakers) <= p {
		c.speakers = append(c.speakers, nil)
	}
	c.speakers[p] = sp
}

// AttachLLDP makes r the receiver of core port p's LLDP frames. Call it
// before Process.
func (c *Control) AttachLLDP(p int, r FrameReceiver) {
	for len(c.lldp) <= p {
		c.lldp = append(c.lldp, nil)
	}
	c.lldp[p] = r
}

// IsLLDP reports whether frame is an untagged LLDP frame.
func IsLLDP(frame []byte) bool {
	return len(frame) >= 14 && frame[12] == 0x88 && frame[13] == 0xcc
}

// IsECP reports whether frame is an untagged ECP frame.
func IsECP(frame []byte) bool {
	return len(frame) >= 14 && frame[12] == 0x89 && frame[13] == 0x40
}

// Process implements port.Core.
func (c *Control) Process(in int, frames []port.Frame, now int64, tx *port.Tx) int {
	var sp *ecp.Speaker
	var ll FrameReceiver
	if in >= 0 && in < len(c.speakers) {
		sp = c.speakers[in]
	}
	if in >= 0 && in < len(c.lldp) {
		ll = c.lldp[in]
	}
	if sp == nil && ll == nil {
		return c.core.Process(in, frames, now, tx)
	}
	start := 0
	for i := range frames {
		b := frames[i].Bytes()
		var to FrameReceiver
		switch {
		case sp != nil && IsECP(b):
			to = sp
		case ll != nil && IsLLDP(b):
			to = ll
		default:
			continue
		}
		if start < i {
			if n := c.core.Process(in, frames[start:i], now, tx); n < i-start {
				return start + n
			}
		}
		to.Receive(b)
		start = i + 1
	}
	if start < len(frames) {
		return start + c.core.Process(in, frames[start:], now, tx)
	}
	return len(frames)
}

// Writer is the ecp.FrameWriter of a port: each frame is written alone.
type Writer struct{ Port port.Port }

// WriteFrame implements ecp.FrameWriter.
func (w Writer) WriteFrame(frame []byte) error {
	_, err := w.Port.Write([]port.Frame{port.FrameFrom(frame)})
	return err
}
