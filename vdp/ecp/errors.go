package ecp

import (
	"errors"
	"fmt"
)

// Errors of the codec and the state machines. Every error the package
// returns is one of these or wraps one of them, so errors.Is works.
var (
	// ErrShortBuffer: a frame ends before its Ethernet header or its
	// 4-byte ECP header, or a buffer is too small to encode into.
	ErrShortBuffer = errors.New("ecp: short buffer")
	// ErrEtherType: the frame's type field is not 0x8940.
	ErrEtherType = errors.New("ecp: not an ECP frame (EtherType is not 0x8940)")
	// ErrVersion: the ECPDU's version is not 1. The receive machine drops
	// such frames without acknowledging them, as lldpad does.
	ErrVersion = errors.New("ecp: unsupported ECP version")
	// ErrOperation: the operation is 2 or 3, which the standard leaves
	// unused.
	ErrOperation = errors.New("ecp: reserved ECP operation")
	// ErrSubtype: the subtype is one the port does not serve (by default
	// only 1, VDP, and 2, PE-CSP, are served).
	ErrSubtype = errors.New("ecp: unsupported ECP subtype")
	// ErrRange: a field to encode does not fit its bits (version > 15,
	// operation > 3, subtype > 1023).
	ErrRange = errors.New("ecp: value out of range")
	// ErrTooLong: a ULPDU is longer than MaxULPDU bytes.
	ErrTooLong = errors.New("ecp: ULPDU too long")
	// ErrQueueFull: a ULPDU was offered while the transmit queue was full.
	ErrQueueFull = errors.New("ecp: transmit queue full")
	// ErrNoAck: a ULPDU was sent MaxRetries+1 times without an
	// acknowledgement and was dropped. The peer may still have received
	// it (its acknowledgements may be what was lost).
	ErrNoAck = errors.New("ecp: no acknowledgement after the last retry")
	// ErrClosed: the Speaker was closed.
	ErrClosed = errors.New("ecp: speaker closed")
)

// DecodeError says where in a frame decoding failed. It wraps one of the
// sentinel errors.
type DecodeError struct {
	// Offset is the frame offset of the header that could not be read.
	Offset int
	// Need and Have are the bytes needed and present from Offset, for
	// ErrShortBuffer.
	Need, Have int
	Err        error
}

func (e *DecodeError) Error() string {
	if errors.Is(e.Err, ErrShortBuffer) {
		return fmt.Sprintf("%v at offset %d: need %d bytes, have %d", e.Err, e.Offset, e.Need, e.Have)
	}
	return fmt.Sprintf("%v at offset %d", e.Err, e.Offset)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// FieldError names a header field whose value is out of range or not
// supported. It wraps ErrRange, ErrVersion, ErrOperation or ErrSubtype.
type FieldError struct {
	Field string
	Value uint64
	Err   error
}

func (e *FieldError) Error() string { return fmt.Sprintf("%v: %s %d", e.Err, e.Field, e.Value) }

func (e *FieldError) Unwrap() error { return e.Err }
