package dutd

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nivkit/niv/conformance"
	"github.com/nivkit/niv/conformance/cores"
	"github.com/nivkit/niv/vic/port"
)

// Daemon runs niv's cores as a device under test on real interfaces: for
// each case a control channel starts, it builds the case's device (a VIS,
// or an IV for the IV cases) and drives it with port.Run on the interfaces
// Ifaces maps the case's ports to, with the real clock plus the case's
// advances. It is the ControlHandler behind `niv vis --control`.
type Daemon struct {
	// Ifaces maps a case port name to the interface that carries it.
	Ifaces map[string]string
	// Open opens an interface (default: an AF_PACKET socket,
	// port.OpenPacket with no filter, that keeps 802.1Q tags).
	Open func(ifname string) (port.Port, error)
	// Logf, if set, logs each case and step.
	Logf func(format string, a ...any)

	mu     sync.Mutex
	dev    *cores.Device
	cancel context.CancelFunc
	done   chan error
}

// Start builds the case's device and starts serving its ports.
func (d *Daemon) Start(name string, setup *conformance.Setup, files map[string]string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stop()
	dev, err := cores.New(setup, files)
	if err != nil {
		return err
	}
	open := d.Open
	if open == nil {
		open = openWire
	}
	ports := make([]port.Port, dev.NumPorts())
	closeAll := func() {
		for _, p := range ports {
			if p != nil {
				p.Close()
			}
		}
	}
	for i := range ports {
		n := dev.PortName(i)
		if n == "" {
			continue
		}
		ifname, ok := d.Ifaces[n]
		if !ok {
			closeAll()
			dev.Close()
			return devErr("case port %s has no interface (have %v)", n, d.Ifaces)
		}
		if ports[i], err = open(ifname); err != nil {
			closeAll()
			dev.Close()
			return devErr("port %s (%s): %v", n, ifname, err)
		}
	}
	dev.Attach(ports)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- port.Run(ctx, dev.Core(), ports, port.RunConfig{
			Now: func() int64 { return dev.Now(time.Now().UnixNano()) },
		})
	}()
	d.dev, d.cancel, d.done = dev, cancel, done
	d.logf("case %s: %s device on %d ports", name, setup.Device, len(setup.Ports))
	return nil
}

// conformance.Step takes a step of the running case.
func (d *Daemon) Step(st conformance.Step) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dev == nil {
		return devErr("no case running")
	}
	d.logf("step: %s", st.Line)
	return d.dev.Apply(st)
}

// Finish stops the case's device and returns its vif lists and state.
func (d *Daemon) Finish() (conformance.Lists, string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dev == nil {
		return nil, "", devErr("no case running")
	}
	lists, state := d.dev.Lists(), d.dev.Describe()
	err := d.stop()
	return lists, state, err
}

// Close stops the running case, if any.
func (d *Daemon) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stop()
}

func (d *Daemon) stop() error {
	if d.dev == nil {
		return nil
	}
	d.cancel()
	err := <-d.done
	d.dev.Close()
	d.dev = nil
	if err != nil {
		return devErr("ports: %v", err)
	}
	return nil
}

func (d *Daemon) logf(format string, a ...any) {
	if d.Logf != nil {
		d.Logf("%s", fmt.Sprintf(format, a...))
	}
}

func openWire(ifname string) (port.Port, error) {
	p, err := port.OpenPacket(ifname, nil)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func devErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{conformance.ErrDevice}, a...)...)
}
