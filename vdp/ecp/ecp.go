package ecp

import (
	"encoding/binary"
	"strconv"
)

// ECP frame (IEEE 802.1Qbg-2012 ECPDU in Ethernet):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|      destination MAC (01:80:C2:00:00:00) and source MAC       |
//	|                          (12 bytes)                           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     EtherType 0x8940          |Version|Op |     Subtype       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|       Sequence number         |  ULPDU (requests only) ...    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

const (
	// EtherType is ECP's EtherType (lldpad ETH_P_ECP22, Wireshark "ecp21").
	EtherType = 0x8940
	// HeaderLen is the length of the ECP header: the version/operation/
	// subtype word and the sequence number.
	HeaderLen = 4
	// FrameHeaderLen is the length of an ECP frame without its ULPDU:
	// addresses, EtherType and ECP header. An acknowledgement is exactly
	// this long before padding (lldpad sends 18-byte acknowledgements).
	FrameHeaderLen = 14 + HeaderLen
	// MinFrameLen is the Ethernet minimum (without FCS) that requests and,
	// unless Config.NoPad is set, acknowledgements are padded to.
	MinFrameLen = 60
	// MaxULPDU is the largest ULPDU one ECPDU carries: 1500 − 4 − 2 bytes,
	// lldpad's limit (it refuses larger ones).
	MaxULPDU = 1494
	// Version1 is the only ECP version defined (802.1Qbg-2012). Receivers
	// drop other versions.
	Version1 = 1
	// MaxSubtype is the largest value of the 10-bit subtype field.
	MaxSubtype = 1<<10 - 1
)

// NearestCustomerBridge is the destination address of every ECP frame:
// the nearest-customer-bridge group address, on which lldpad sends and
// acknowledges in both directions.
var NearestCustomerBridge = [6]byte{0x01, 0x80, 0xC2, 0x00, 0x00, 0x00}

const (
	shiftVersion = 12
	maskVersion  = 0xF000
	shiftOp      = 10
	maskOp       = 0x0C00
	maskSubtype  = 0x03FF
)

// Op is the 2-bit ECP operation.
type Op uint8

const (
	// OpRequest (0) is an ECP request: it carries a ULPDU.
	OpRequest Op = 0
	// OpAck (1) is an ECP acknowledgement: the acknowledged request's
	// header with the operation changed to 1, and no ULPDU.
	OpAck Op = 1
)

func (o Op) String() string {
	switch o {
	case OpRequest:
		return "request"
	case OpAck:
		return "ack"
	}
	return "reserved(" + strconv.FormatUint(uint64(o), 10) + ")"
}

// Subtype is the 10-bit ECP subtype that names the upper layer.
type Subtype uint16

const (
	// SubtypeVDP (1) carries VDP, 802.1Qbg clause 41.
	SubtypeVDP Subtype = 1
	// SubtypePECSP (2) carries the 802.1BR Port Extender Control and
	// Status Protocol; niv's vic protocol runs on it.
	SubtypePECSP Subtype = 2
)

func (s Subtype) String() string {
	switch s {
	case SubtypeVDP:
		return "VDP"
	case SubtypePECSP:
		return "PE-CSP"
	}
	return "subtype(" + strconv.FormatUint(uint64(s), 10) + ")"
}

// Header is the 4-byte ECP header.
type Header struct {
	// Version is 4 bits; 1 is the only version defined.
	Version uint8
	// Op is 2 bits: OpRequest or OpAck (2 and 3 are unused).
	Op Op
	// Subtype is 10 bits: SubtypeVDP or SubtypePECSP.
	Subtype Subtype
	// Seq is the sender's sequence number of the ULPDU in a request, and
	// the acknowledged request's sequence number in an acknowledgement.
	Seq uint16
}

// ParseHeader reads the ECP header at the start of b (the byte after the
// EtherType). It checks only the length, so that a decoder can show any
// header as it is; Check says whether a receiver accepts it. It returns
// the bare ErrShortBuffer and never allocates.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, ErrShortBuffer
	}
	w := binary.BigEndian.Uint16(b)
	return Header{
		Version: uint8(w >> shiftVersion),
		Op:      Op(w & maskOp >> shiftOp),
		Subtype: Subtype(w & maskSubtype),
		Seq:     binary.BigEndian.Uint16(b[2:]),
	}, nil
}

// Check reports whether a receiver accepts h: version 1 (else
// ErrVersion) and operation request or acknowledgement (else
// ErrOperation). It returns bare sentinels.
func (h Header) Check() error {
	if h.Version != Version1 {
		return ErrVersion
	}
	if h.Op > OpAck {
		return ErrOperation
	}
	return nil
}

// Put writes h into the first HeaderLen bytes of b and returns HeaderLen.
func (h Header) Put(b []byte) (int, error) {
	if len(b) < HeaderLen {
		return 0, ErrShortBuffer
	}
	if err := h.checkRange(); err != nil {
		return 0, err
	}
	h.put(b)
	return HeaderLen, nil
}

func (h Header) checkRange() error {
	switch {
	case h.Version > maskVersion>>shiftVersion:
		return &FieldError{Field: "version", Value: uint64(h.Version), Err: ErrRange}
	case h.Op > maskOp>>shiftOp:
		return &FieldError{Field: "operation", Value: uint64(h.Op), Err: ErrRange}
	case h.Subtype > MaxSubtype:
		return &FieldError{Field: "subtype", Value: uint64(h.Subtype), Err: ErrRange}
	}
	return nil
}

func (h Header) put(b []byte) {
	binary.BigEndian.PutUint16(b, uint16(h.Version)<<shiftVersion|uint16(h.Op)<<shiftOp|uint16(h.Subtype))
	binary.BigEndian.PutUint16(b[2:], h.Seq)
}

// AppendBinary appends the encoded header to b.
func (h Header) AppendBinary(b []byte) ([]byte, error) {
	if err := h.checkRange(); err != nil {
		return b, err
	}
	b = append(b, 0, 0, 0, 0)
	h.put(b[len(b)-HeaderLen:])
	return b, nil
}

// PDU is a decoded ECP frame. Payload aliases the frame.
type PDU struct {
	Dst, Src [6]byte
	Header
	// Payload is everything after the ECP header, Ethernet padding
	// included: the receiver cannot tell padding from ULPDU bytes, so
	// upper layers must ignore trailing zero bytes (VDP and vic both end
	// at a zero TLV header). Empty for an unpadded acknowledgement.
	Payload []byte
}

// Decode reads an ECP frame that starts at the destination address and
// has no VLAN tag. It fails with a *DecodeError wrapping ErrShortBuffer
// or ErrEtherType; it does not judge the header (see Header.Check). It
// allocates only when it fails.
func Decode(frame []byte) (PDU, error) {
	if len(frame) < 14 {
		return PDU{}, &DecodeError{Offset: 0, Need: 14, Have: len(frame), Err: ErrShortBuffer}
	}
	if binary.BigEndian.Uint16(frame[12:]) != EtherType {
		return PDU{}, &DecodeError{Offset: 12, Err: ErrEtherType}
	}
	h, err := ParseHeader(frame[14:])
	if err != nil {
		return PDU{}, &DecodeError{Offset: 14, Need: HeaderLen, Have: len(frame) - 14, Err: err}
	}
	return PDU{Dst: [6]byte(frame[0:6]), Src: [6]byte(frame[6:12]), Header: h, Payload: frame[FrameHeaderLen:]}, nil
}

// AppendFrame appends a whole ECP frame — addresses, EtherType, h and
// payload — to b, zero-padded to MinFrameLen when pad is set. The payload
// may be at most MaxULPDU bytes.
func AppendFrame(b []byte, dst, src [6]byte, h Header, payload []byte, pad bool) ([]byte, error) {
	if len(payload) > MaxULPDU {
		return b, ErrTooLong
	}
	if err := h.checkRange(); err != nil {
		return b, err
	}
	start := len(b)
	b = append(b, dst[:]...)
	b = append(b, src[:]...)
	b = append(b, EtherType>>8, EtherType&0xFF, 0, 0, 0, 0)
	h.put(b[start+14:])
	b = append(b, payload...)
	if pad {
		for len(b)-start < MinFrameLen {
			b = append(b, 0)
		}
	}
	return b, nil
}
