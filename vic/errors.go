package vic

import (
	"errors"
	"fmt"
)

// ErrIDPending, returned by VISConfig.NewVEthID, says that the id is on
// its way (a fleet registry's answer): the VIS machine keeps the
// VIF-alloc unanswered and handles it again at VISIDReady.
var ErrIDPending = errors.New("vic: vEth id pending")

// Errors of the message codec. Every decoding error is a *DecodeError
// wrapping one of these; every encoding error wraps one of them.
var (
	// ErrShortBuffer: the message ends inside a TLV header or value.
	ErrShortBuffer = errors.New("vic: short buffer")
	// ErrNotVIC: the first TLV is not niv's command TLV (type 127, length
	// 22, identifier 6E-69-76 'c'), so this is no vic message — perhaps a
	// standard PE-CSP PDU.
	ErrNotVIC = errors.New("vic: not a vic message")
	// ErrVersion: the command TLV's version is not 1.
	ErrVersion = errors.New("vic: unsupported vic version")
	// ErrCommand: the command code is not defined.
	ErrCommand = errors.New("vic: unknown command")
	// ErrReserved: a reserved bit or byte is not zero.
	ErrReserved = errors.New("vic: reserved bits set")
	// ErrLength: a TLV's length is wrong for its type.
	ErrLength = errors.New("vic: bad TLV length")
	// ErrDuplicate: a TLV type occurs twice.
	ErrDuplicate = errors.New("vic: duplicate TLV")
	// ErrRange: a value is outside its range (VLAN 1..4094, VIF id
	// 1..16383, vEth id not 0, mode 1 or 2, link 0 or 1, profile name of
	// 1..39 printable ASCII characters, at most 254 list members).
	ErrRange = errors.New("vic: value out of range")
	// ErrMissing: a TLV the command needs is absent.
	ErrMissing = errors.New("vic: required TLV missing")
)

// DecodeError says where a message could not be decoded. It wraps one of
// the sentinel errors.
type DecodeError struct {
	// Offset is the offset of the TLV at fault from the start of the
	// message (the ULPDU).
	Offset int
	// Type is the TLV type at fault (0 when not known).
	Type uint8
	Err  error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("%v (TLV type %d at offset %d)", e.Err, e.Type, e.Offset)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// FieldError names a message field that cannot be encoded or that a
// command needs. It wraps ErrRange or ErrMissing.
type FieldError struct {
	Field Field
	Err   error
}

func (e *FieldError) Error() string { return fmt.Sprintf("%v: %v", e.Err, e.Field) }

func (e *FieldError) Unwrap() error { return e.Err }
