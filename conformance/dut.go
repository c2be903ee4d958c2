package conformance

import (
	"errors"
	"sync"
	"time"

	"github.com/nivkit/niv/vic/port"
)

// DUT is the Target of a device under test over real interfaces: it sends
// each input frame out of the local interface Map names for the frame's
// port, and captures what comes back on every mapped interface. After each
// frame it waits until no frame has arrived for Settle (at most Timeout),
// so that a device serving its ports in parallel sees the frames in the
// case's order.
//
// The device must be set up as each case says. With Control set, the
// runner tells it through the control protocol (ControlRequest), which
// also carries the steps and returns the vif lists the device programmed;
// without it, the device is assumed to be set up by other means, and the
// only step the runner can take is advance, by waiting.
type DUT struct {
	// Map maps a case port name to the local interface that reaches it.
	Map map[string]string
	// Control is the unix socket of the device's control channel ("" for
	// none).
	Control string
	// Settle is how long the link must stay quiet after a frame (default
	// 30 ms); Timeout bounds the wait after one frame (default 2 s).
	Settle, Timeout time.Duration
	// Open opens a local interface (default: openWire, an AF_PACKET
	// socket that keeps 802.1Q tags).
	Open func(ifname string) (port.Port, error)

	ctl    *controlClient
	ports  map[string]port.Port
	wg     sync.WaitGroup
	mu     sync.Mutex
	got    []Frame
	last   time.Time
	lists  Lists
	state  string
	errs   []error
	active bool
}

func (d *DUT) settle() time.Duration {
	if d.Settle <= 0 {
		return 30 * time.Millisecond
	}
	return d.Settle
}

func (d *DUT) timeout() time.Duration {
	if d.Timeout <= 0 {
		return 2 * time.Second
	}
	return d.Timeout
}

// Start sets the device up for case c (through the control channel) and
// starts capturing on the case's ports.
func (d *DUT) Start(c *Case) error {
	if d.active {
		_, _, _ = d.Finish()
	}
	d.got, d.lists, d.state, d.errs = nil, nil, "", nil
	for _, p := range c.Setup.Ports {
		if _, ok := d.Map[p.Name]; !ok {
			return devErr("case port %s is not mapped to an interface (--dut %s=IF)", p.Name, p.Name)
		}
	}
	if d.Control != "" {
		if d.ctl == nil {
			ctl, err := dialControl(d.Control, d.timeout())
			if err != nil {
				return err
			}
			d.ctl = ctl
		}
		req := ControlRequest{Op: "start", Case: c.Name, Setup: setupText(c), Files: c.Files}
		if _, err := d.ctl.call(req, 10*d.timeout()); err != nil {
			return err
		}
	}
	open := d.Open
	if open == nil {
		open = openWire
	}
	d.ports = map[string]port.Port{}
	d.active = true
	for _, p := range c.Setup.Ports {
		pp, err := open(d.Map[p.Name])
		if err != nil {
			_, _, _ = d.Finish()
			return devErr("port %s (%s): %v", p.Name, d.Map[p.Name], err)
		}
		d.ports[p.Name] = pp
		d.wg.Add(1)
		go d.capture(p.Name, pp)
	}
	d.mu.Lock()
	d.last = time.Now()
	d.mu.Unlock()
	return nil
}

// setupText returns the case's setup text as the device should load it.
func setupText(c *Case) string {
	s := c.SetupText
	if c.Setup.Profiles != "" {
		s += "\nprofiles " + c.Setup.Profiles + "\n"
	}
	return s
}

func (d *DUT) capture(name string, p port.Port) {
	defer d.wg.Done()
	b := port.NewBatchSize(64, port.MaxFrameLen)
	for {
		err := p.Read(b)
		if err != nil {
			if !errors.Is(err, port.ErrClosed) {
				d.mu.Lock()
				d.errs = append(d.errs, devErr("capture on %s: %v", name, err))
				d.mu.Unlock()
			}
			return
		}
		d.mu.Lock()
		for _, f := range b.Valid() {
			d.got = append(d.got, Frame{Port: name, Data: append([]byte(nil), f.Bytes()...)})
		}
		d.last = time.Now()
		d.mu.Unlock()
	}
}

// quiet waits until no frame has arrived for Settle since the later of
// now and the last frame, or Timeout has passed.
func (d *DUT) quiet() {
	start := time.Now()
	deadline := start.Add(d.timeout())
	for {
		d.mu.Lock()
		last := d.last
		d.mu.Unlock()
		if last.Before(start) {
			last = start
		}
		wait := time.Until(last.Add(d.settle()))
		if wait <= 0 || time.Now().After(deadline) {
			return
		}
		time.Sleep(min(wait, time.Until(deadline)+time.Millisecond))
	}
}

// Step takes st: through the control channel, or by waiting for an
// advance when there is none.
func (d *DUT) Step(st Step) error {
	if d.ctl != nil {
		_, err := d.ctl.call(ControlRequest{Op: "step", Step: st.Line}, 10*d.timeout())
		return err
	}
	if st.Kind == StepAdvance {
		time.Sleep(st.Duration)
		return nil
	}
	return devErr("%s: the device has no control channel (--dut-control)", st.Line)
}

// Send sends f out of its port's interface and waits for the link to
// settle.
func (d *DUT) Send(f Frame) error {
	p, ok := d.ports[f.Port]
	if !ok {
		return caseErr("port %q is not a port of the case", f.Port)
	}
	if _, err := p.Write([]port.Frame{port.FrameFrom(f.Data)}); err != nil {
		return devErr("send on %s: %v", f.Port, err)
	}
	d.quiet()
	return nil
}

// Finish waits for the link to settle, stops capturing and returns what
// came back, with the device's vif lists when it has a control channel.
func (d *DUT) Finish() ([]Frame, Lists, error) {
	if !d.active {
		return nil, nil, devErr("no case started")
	}
	d.active = false
	d.quiet()
	for _, p := range d.ports {
		p.Close()
	}
	d.wg.Wait()
	var errs []error
	if d.ctl != nil {
		rep, err := d.ctl.call(ControlRequest{Op: "finish"}, 10*d.timeout())
		if err != nil {
			errs = append(errs, err)
		} else {
			d.lists, d.state = rep.Lists, rep.State
		}
	}
	d.mu.Lock()
	got := d.got
	errs = append(errs, d.errs...)
	d.mu.Unlock()
	return got, d.lists, errors.Join(errs...)
}

// Describe returns the state the device reported at the end of the case.
func (d *DUT) Describe() string { return d.state }

// Close closes the control channel.
func (d *DUT) Close() {
	if d.active {
		_, _, _ = d.Finish()
	}
	if d.ctl != nil {
		d.ctl.close()
		d.ctl = nil
	}
}

// openWire opens an AF_PACKET port (port.OpenPacket, with no filter) on
// interface ifname: it reads every frame the interface receives exactly as
// it was on the wire, 802.1Q tags included (the port puts back the tag the
// kernel's VLAN offload took out), and writes whole frames out of it.
func openWire(ifname string) (port.Port, error) {
	p, err := port.OpenPacket(ifname, nil)
	if err != nil {
		return nil, err
	}
	return p, nil
}
