package conformance

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error of the package wraps one of them, so that a
// caller can tell a bad case from a device that could not be driven.
var (
	// ErrSetup is returned for a setup.txt that does not parse or names
	// something that does not exist.
	ErrSetup = errors.New("conformance: bad setup")
	// ErrCase is returned for a case folder that cannot be read: a missing
	// file, a capture that is not pcapng, a frame on an interface the
	// setup does not define, expectations that do not parse.
	ErrCase = errors.New("conformance: bad case")
	// ErrDevice is returned when the device under test cannot be built or
	// driven: the cores refuse the setup, a DUT interface cannot be
	// opened, the DUT's control channel fails.
	ErrDevice = errors.New("conformance: device error")
)

// SetupError is a setup.txt problem, with the line it is on (0 for a
// problem of the whole file).
type SetupError struct {
	Line int
	Text string
	Msg  string
}

// Error renders "conformance: bad setup: line N: MSG (TEXT)".
func (e *SetupError) Error() string {
	switch {
	case e.Line == 0 && e.Text == "":
		return fmt.Sprintf("%v: %s", ErrSetup, e.Msg)
	case e.Line == 0:
		return fmt.Sprintf("%v: %s (%q)", ErrSetup, e.Msg, e.Text)
	}
	return fmt.Sprintf("%v: line %d: %s (%q)", ErrSetup, e.Line, e.Msg, e.Text)
}

// Unwrap returns ErrSetup.
func (e *SetupError) Unwrap() error { return ErrSetup }

func caseErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCase}, a...)...)
}

func devErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrDevice}, a...)...)
}
