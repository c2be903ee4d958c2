package vdp

import (
	"errors"
	"fmt"
)

// Errors of the codec. Every error the package returns is one of these or
// wraps one of them, so errors.Is works. The Decoder and the per-TLV
// functions return them bare (no allocation on bad input); PDU.Decode
// wraps them in a *DecodeError that says where.
var (
	// ErrShortBuffer: a TLV header or value runs past the end of the
	// VDPDU, or a buffer is too small to encode into.
	ErrShortBuffer = errors.New("vdp: short buffer")
	// ErrLength: a TLV's length is wrong for its type: a Manager ID TLV
	// not 16 bytes long, a VSI TLV whose length is not 25 + N × entry
	// size, an organizationally defined TLV shorter than its OUI.
	ErrLength = errors.New("vdp: TLV length does not match its content")
	// ErrFormat: a VSI TLV names a VSIID format other than 1–5 or a
	// filter info format other than 1–4.
	ErrFormat = errors.New("vdp: unknown VSIID or filter info format")
	// ErrNoFilters: a VSI TLV holds no filter entry (lldpad ignores such
	// TLVs).
	ErrNoFilters = errors.New("vdp: VSI TLV without filter entries")
	// ErrOrder: the VDPDU's first TLV is not the Manager ID, or it holds
	// a second Manager ID TLV (lldpad drops both).
	ErrOrder = errors.New("vdp: Manager ID TLV missing, misplaced or repeated")
	// ErrType: a getter was called on a TLV of another type.
	ErrType = errors.New("vdp: wrong TLV type for this getter")
	// ErrRange: a field to encode does not fit its bits (Type ID over 24
	// bits, VID over 12, PCP over 3, a TLV value over 511 bytes).
	ErrRange = errors.New("vdp: value out of range")
	// ErrVSIID: the VSIID is not valid for its format (lldpad's check: an
	// IPv4 VSIID is IPv4-mapped and not 0.0.0.0, an IPv6 or UUID VSIID is
	// not all zero, a MAC VSIID has 10 zero bytes then a unicast MAC that
	// is not zero).
	ErrVSIID = errors.New("vdp: VSIID not valid for its format")
	// ErrFilter: a filter entry is not valid: a VID of 4095, a zero
	// GroupID, a MAC that is zero or a group address, or a VID 0
	// wildcard in a VID-format TLV with more than one entry.
	ErrFilter = errors.New("vdp: invalid filter entry")
	// ErrMixedFilters: the entries given to encode are not all of the
	// VSI's filter info format.
	ErrMixedFilters = errors.New("vdp: filter entries of different formats")
)

// DecodeError says where in a VDPDU decoding failed. It wraps one of the
// sentinel errors.
type DecodeError struct {
	// Offset is the VDPDU offset of the TLV header that could not be
	// decoded.
	Offset int
	// Type is that TLV's type (0 when the header itself was short).
	Type TLVType
	Err  error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("%v (TLV %v at offset %d)", e.Err, e.Type, e.Offset)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// FieldError names a field whose value cannot be encoded. It wraps
// ErrRange, ErrVSIID or ErrFilter.
type FieldError struct {
	Field string
	Value uint64
	Err   error
}

func (e *FieldError) Error() string { return fmt.Sprintf("%v: %s %d", e.Err, e.Field, e.Value) }

func (e *FieldError) Unwrap() error { return e.Err }

// Errors of the station machine's local requests (lldpad refuses the same
// requests, with "Invalid parameters" or EBUSY, and sends nothing).
var (
	// ErrBusy: a request for the VSI is still waiting for its response.
	ErrBusy = errors.New("vdp: a request for this VSI is outstanding")
	// ErrDowngrade: a Pre-Associate for an associated VSI (lldpad orders
	// the modes 1 < 2 < 3 and refuses a lower one).
	ErrDowngrade = errors.New("vdp: mode lower than the VSI's current one")
	// ErrUnknownVSI: a De-Associate for a VSI the station does not have.
	ErrUnknownVSI = errors.New("vdp: no such VSI")
	// ErrFilterChange: a request changes an existing VSI's filters or
	// type, which lldpad does not support.
	ErrFilterChange = errors.New("vdp: request changes an existing VSI")
	// ErrTableFull: the machine already holds its maximum number of VSIs.
	ErrTableFull = errors.New("vdp: VSI table full")
)
