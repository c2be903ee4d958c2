package conformance

import "github.com/nivkit/niv/vntag"

// Target is what a Runner runs cases against: a device under test over
// real interfaces (DUT), or niv's own cores in this process
// (conformance/cores).
type Target interface {
	// Start makes a fresh device configured as case c says.
	Start(c *Case) error
	// Step performs a step of the case between two input frames.
	Step(st Step) error
	// Send sends one input frame on its port and lets the device handle it.
	Send(f Frame) error
	// Finish returns every frame the device sent since Start, in the order
	// each port sent them, and the vif lists it programmed (nil when the
	// target cannot tell), and ends the case.
	Finish() ([]Frame, Lists, error)
	// Describe renders the device's state for a failing case ("" if the
	// target cannot tell).
	Describe() string
}

// Lists maps a port name to the vif lists a device programmed for it:
// list id → member VIFs. For an IV device the port is "".
type Lists map[string]map[uint32][]vntag.VIF
