package evb

import "errors"

// Errors of the codecs; every error returned is one of these.
var (
	// ErrShortBuffer: the TLV value is shorter than its fixed part.
	ErrShortBuffer = errors.New("evb: short buffer")
	// ErrLength: the value's length is wrong for the TLV (an EVB TLV not
	// 9 bytes, a draft EVB TLV not 13, a CDCP TLV whose S-channel list is
	// not a multiple of 3 bytes).
	ErrLength = errors.New("evb: wrong TLV length")
	// ErrOUI: the value does not start with the TLV's OUI and subtype.
	ErrOUI = errors.New("evb: not this TLV's OUI and subtype")
	// ErrRange: a field to encode does not fit its bits.
	ErrRange = errors.New("evb: value out of range")
)
