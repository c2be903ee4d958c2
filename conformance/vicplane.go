package conformance

import (
	"fmt"
	"sync"
	"time"

	"github.com/nivkit/niv/vdp/ecp"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/bind"
	"github.com/nivkit/niv/vic/port"
)

// controlRTE is the ECP retransmission exponent of a case's control plane:
// 10 µs × 2^20 ≈ 10.5 s, longer than any case, so that a tester over a
// real link, which acknowledges the VIS's requests only with its next
// input frame, is never overtaken by a retransmission.
const controlRTE = 20

// vicPlane is a port.Core in front of a VIS device's core that runs niv's
// VIF negotiation on its IV ports (setup statement control-plane): one ECP
// machine per IV port and one vic VIS machine, all pure transitions driven
// here, synchronously, by the frames and the clock Process is given — the
// case's clock. An untagged ECP frame on an IV port goes to the port's
// ECP machine; what the machines send is appended to the Tx, out of the
// same port, in the order they send it; every other frame goes to the core.
// The vic machine programs the core through vic/bind (vEths, VIF bindings,
// profile bindings); the core's vif lists are recorded as for every case
// and not sent over vic.
type vicPlane struct {
	inner port.Core

	mu     sync.Mutex
	vis    *vic.VISMachine
	prog   *bind.VISProgrammer
	ecps   []*ecp.Machine // by core port; nil for ports without vic
	order  []int          // core ports with vic, in order
	byVIC  map[vic.PortID]int
	vicOf  map[int]vic.PortID
	msg    vic.Message
	frames [][]byte // scratch: frames to send, copied out of the machines

	decodeErrs, programErrs, sendErrs int
}

func newVICPlane(d *Device) (*vicPlane, error) {
	cp := d.setup.Control
	prog, err := bind.NewVISProgrammer(d.vis, d.store)
	if err != nil {
		return nil, devErr("control-plane: %v", err)
	}
	c := &vicPlane{inner: d.core, prog: prog, byVIC: map[vic.PortID]int{}, vicOf: map[int]vic.PortID{}}
	c.vis = vic.NewVISMachine(vic.VISConfig{Session: cp.Session, Profiles: bind.Profiles{Store: d.store}}, nil, time.Unix(0, d.Now(Epoch)))
	for _, p := range d.setup.Ports {
		if p.Kind != PortIV {
			continue
		}
		n := d.ports[p.Name]
		cfg := ecp.DefaultConfig(cp.MAC)
		cfg.RTE = controlRTE
		cfg.Subtypes = []ecp.Subtype{ecp.SubtypePECSP}
		m, err := ecp.NewMachine(cfg)
		if err != nil {
			return nil, devErr("control-plane: %v", err)
		}
		for len(c.ecps) <= n {
			c.ecps = append(c.ecps, nil)
		}
		id := vic.PortID(len(c.order))
		c.ecps[n] = m
		c.order = append(c.order, n)
		c.byVIC[id], c.vicOf[n] = n, id
		prog.AddPort(id, n)
	}
	return c, nil
}

// Process implements port.Core.
func (c *vicPlane) Process(in int, frames []port.Frame, now int64, tx *port.Tx) int {
	if in < 0 || in >= len(c.ecps) || c.ecps[in] == nil {
		return c.inner.Process(in, frames, now, tx)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := time.Unix(0, now)
	c.timers(t)
	start := 0
	for i := range frames {
		if !bind.IsECP(frames[i].Bytes()) {
			continue
		}
		if start < i {
			if n := c.inner.Process(in, frames[start:i], now, tx); n < i-start {
				c.flush(tx)
				return start + n
			}
		}
		c.flush(tx)
		if !tx.Room(16, 16, 1518) {
			return i
		}
		c.receive(in, frames[i].Bytes(), t)
		c.flush(tx)
		start = i + 1
	}
	c.flush(tx)
	if start < len(frames) {
		return start + c.inner.Process(in, frames[start:], now, tx)
	}
	return len(frames)
}

// flush appends the frames the machines sent to tx; out of room, they
// wait for the next call.
func (c *vicPlane) flush(tx *port.Tx) {
	for len(c.frames) > 0 {
		f := c.frames[0]
		p := int(f[0])<<8 | int(f[1])
		if tx.Copy(p, f[2:]) == nil {
			return
		}
		c.frames = c.frames[1:]
	}
	c.frames = nil
}

// emit queues an ECP frame to leave by core port p.
func (c *vicPlane) emit(p int, frame []byte) {
	c.frames = append(c.frames, append([]byte{byte(p >> 8), byte(p)}, frame...))
}

// receive runs core port p's ECP machine on an ECP frame, then the vic
// machine on what ECP delivers.
func (c *vicPlane) receive(p int, frame []byte, t time.Time) {
	var deliver [][]byte
	for _, a := range c.ecps[p].Handle(ecp.Event{Kind: ecp.EvFrame, Frame: frame}, t) {
		switch a.Kind {
		case ecp.ActTransmit:
			c.emit(p, a.Frame)
		case ecp.ActDeliver:
			deliver = append(deliver, append([]byte(nil), a.Payload...))
		}
	}
	for _, payload := range deliver {
		if err := vic.Decode(payload, &c.msg); err != nil {
			c.decodeErrs++
			continue
		}
		c.act(c.vis.Handle(vic.VISEvent{Kind: vic.VISReceive, Port: c.vicOf[p], Msg: &c.msg}, t), t)
	}
}

// act carries out the vic machine's actions: messages go to the ECP
// machine of their port, the rest programs the core.
func (c *vicPlane) act(acts []vic.Action, t time.Time) {
	for i := range acts {
		a := &acts[i]
		if a.Kind != vic.ActSend {
			if err := a.ApplyVIS(c.prog); err != nil {
				c.programErrs++
			}
			continue
		}
		p, ok := c.byVIC[a.Port]
		if !ok {
			c.sendErrs++
			continue
		}
		c.ecpSend(p, a.Payload, t)
	}
}

func (c *vicPlane) ecpSend(p int, payload []byte, t time.Time) {
	for _, e := range c.ecps[p].Handle(ecp.Event{Kind: ecp.EvSend, Subtype: ecp.SubtypePECSP, Payload: payload}, t) {
		switch e.Kind {
		case ecp.ActTransmit:
			c.emit(p, e.Frame)
		case ecp.ActFailed:
			c.sendErrs++
		}
	}
}

// timers fires the ECP and vic timers due at t.
func (c *vicPlane) timers(t time.Time) {
	for _, p := range c.order {
		if dl, ok := c.ecps[p].Deadline(); ok && !t.Before(dl) {
			for _, e := range c.ecps[p].Handle(ecp.Event{Kind: ecp.EvTimer}, t) {
				if e.Kind == ecp.ActTransmit {
					c.emit(p, e.Frame)
				}
			}
		}
	}
	if dl := c.vis.Deadline(); !dl.IsZero() && !t.Before(dl) {
		c.act(c.vis.Handle(vic.VISEvent{Kind: vic.VISTimer}, t), t)
	}
}

// describe renders the control plane's state for a failing case.
func (c *vicPlane) describe() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := ""
	for _, p := range c.order {
		st, sess := c.vis.Session(c.vicOf[p])
		cn := c.ecps[p].Counters()
		s += fmt.Sprintf("vic port %d (core port %d): session %v, IV session %#x; ECP tx %d rx %d tx-ack %d rx-ack %d dup %d dropped %d\n",
			c.vicOf[p], p, st, sess, cn.TxPDUs, cn.RxPDUs, cn.TxAcks, cn.RxAcks, cn.RxDuplicates, cn.Dropped)
	}
	c.vis.Table().Range(func(v vic.VEthRecord) {
		s += fmt.Sprintf("vic vEth %d: instance %v profile %s port %d VIF %d bound %v\n", v.ID, v.VNIC.Instance, v.VNIC.Profile, v.Port, v.VIF, v.Bound)
	})
	if c.decodeErrs+c.programErrs+c.sendErrs > 0 {
		s += fmt.Sprintf("vic errors: %d decode, %d program, %d send\n", c.decodeErrs, c.programErrs, c.sendErrs)
	}
	return s
}
