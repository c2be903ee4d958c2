package cores

import (
	"fmt"

	"github.com/nivkit/niv/conformance"
	"github.com/nivkit/niv/vic/port"
)

// Target is the conformance.Target of niv's own cores (vic/vis, vic/iv)
// on in-memory ports (vic/port.Pair): one pair per case port, the tester
// at one end, the core at the other, driven synchronously by one
// goroutine so that a run is deterministic. The clock starts at Epoch and
// moves only with the case's StepAdvance steps.
type Target struct {
	// Off lists behaviours switched off on purpose.
	Off []Behaviour

	dev    *Device
	tester []*port.Mem // by core port number
	core   []port.Port
	batch  *port.Batch
	tx     *port.Tx
	out    []conformance.Frame
}

// Epoch is the Library clock at the start of every case, in ns (an
// arbitrary instant far from zero, so that no "time 0" special case of a
// core is exercised by accident).
const Epoch int64 = 1_700_000_000_000_000_000

// Start builds the case's device on the cores.
func (l *Target) Start(c *conformance.Case) error {
	l.Close()
	dev, err := New(c.Setup, c.Files, l.Off...)
	if err != nil {
		return err
	}
	dev.SetClock(func() int64 { return Epoch })
	l.dev = dev
	l.out = nil
	l.tester = make([]*port.Mem, dev.NumPorts())
	l.core = make([]port.Port, dev.NumPorts())
	for i := range l.tester {
		name := dev.PortName(i)
		if name == "" {
			name = fmt.Sprintf("<core port %d>", i)
		}
		a, b := port.Pair(name, name, 0)
		l.tester[i], l.core[i] = a, b
	}
	dev.Attach(l.core)
	if l.batch == nil {
		l.batch = port.NewBatchSize(64, port.MaxFrameLen)
		l.tx = port.NewTx(4096, 8<<20)
	}
	return nil
}

// Step performs st on the device.
func (l *Target) Step(st conformance.Step) error {
	if l.dev == nil {
		return devErr("no case started")
	}
	if err := l.dev.Apply(st); err != nil {
		return err
	}
	return l.collect() // what the step made the control plane send
}

// Send writes f on the tester's end of its port and has the core process
// everything queued.
func (l *Target) Send(f conformance.Frame) error {
	if l.dev == nil {
		return devErr("no case started")
	}
	p, ok := l.dev.PortNumber(f.Port)
	if !ok {
		return caseErr("port %q is not a port of the device", f.Port)
	}
	if len(f.Data) > port.MaxFrameLen {
		return caseErr("frame of %d bytes is longer than %d", len(f.Data), port.MaxFrameLen)
	}
	if _, err := l.tester[p].Write([]port.Frame{port.FrameFrom(f.Data)}); err != nil {
		return devErr("%s: %v", f.Port, err)
	}
	return l.drive()
}

// drive has the core process every frame queued at its ends until none is
// left.
func (l *Target) drive() error {
	now := l.dev.Now(Epoch)
	core := l.dev.Core()
	for busy := true; busy; {
		busy = false
		for i, cp := range l.core {
			m := cp.(*port.Mem)
			if m.Pending() == 0 {
				continue
			}
			busy = true
			if err := m.ReadNow(l.batch); err != nil {
				return devErr("%v", err)
			}
			frames := l.batch.Valid()
			for len(frames) > 0 {
				n := core.Process(i, frames, now, l.tx)
				if _, err := l.tx.WriteTo(l.core); err != nil {
					return devErr("%v", err)
				}
				if n == 0 {
					return devErr("core made no progress on port %d", i)
				}
				frames = frames[n:]
			}
		}
	}
	return l.collect()
}

// collect reads what the core sent, per port in order.
func (l *Target) collect() error {
	for i, t := range l.tester {
		for t.Pending() > 0 {
			if err := t.ReadNow(l.batch); err != nil {
				return devErr("%v", err)
			}
			for _, f := range l.batch.Valid() {
				l.out = append(l.out, conformance.Frame{Port: t.Name(), Data: append([]byte(nil), f.Bytes()...)})
			}
		}
		if st := t.Stats(); st.TxDropped > 0 || l.core[i].Stats().TxDropped > 0 {
			return devErr("in-memory port %s dropped frames", t.Name())
		}
	}
	return nil
}

// Finish returns what the core sent and the lists it programmed, and
// releases the device.
func (l *Target) Finish() ([]conformance.Frame, conformance.Lists, error) {
	if l.dev == nil {
		return nil, nil, devErr("no case started")
	}
	lists := l.dev.Lists()
	out := l.out
	for _, t := range l.tester {
		t.Close()
	}
	return out, lists, nil
}

// Describe renders the device's vif lists and vEth counters.
func (l *Target) Describe() string {
	if l.dev == nil {
		return ""
	}
	return l.dev.Describe()
}

// Device returns the device of the case last started, until the next
// Start or Close (nil before the first), for tests that look at its state
// after a case.
func (l *Target) Device() *Device { return l.dev }

// Close releases the last case's device.
func (l *Target) Close() {
	if l.dev != nil {
		l.dev.Close()
		l.dev = nil
	}
}
