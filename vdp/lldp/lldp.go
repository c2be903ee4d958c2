// Package lldp is a minimal IEEE 802.1AB LLDP agent for Edge Virtual
// Bridging: it sends the mandatory Chassis ID, Port ID and TTL TLVs plus
// the EVB TLV (package vdp/evb) to the nearest-customer-bridge address
// 01:80:C2:00:00:00, reads the peer's EVB TLV, and tells the caller the
// negotiated ECP and VDP parameters. lldpad's station will not use VDP
// until it has heard a bridge's EVB TLV this way (lldpad-peer.md).
//
// The codec part ([Decoder], [AppendFrame]) walks and writes LLDPDUs
// without allocating; [Agent] is the transmit and receive behaviour as a
// pure transition function, like vdp/ecp's Machine.
package lldp

import (
	"encoding/binary"
	"errors"
)

// LLDP frame and TLV constants (802.1AB-2016 8.4, 8.5).
const (
	// EtherType is LLDP's EtherType.
	EtherType = 0x88CC
	// TypeEnd … TypeOrg are the TLV types the agent uses.
	TypeEnd       = 0
	TypeChassisID = 1
	TypePortID    = 2
	TypeTTL       = 3
	// TypeSystemName is the System Name TLV (8.5.6), read from a peer.
	TypeSystemName = 5
	TypeOrg        = 127
	// ChassisMAC is the Chassis ID subtype "MAC address" (4).
	ChassisMAC = 4
	// PortMAC is the Port ID subtype "MAC address" (3).
	PortMAC = 3
	// PortIfName is the Port ID subtype "interface name" (5).
	PortIfName = 5
	// MaxTLVLen is the largest TLV value (9-bit length).
	MaxTLVLen = 511
)

// NearestCustomerBridge is the destination of the EVB agent's LLDPDUs.
var NearestCustomerBridge = [6]byte{0x01, 0x80, 0xC2, 0x00, 0x00, 0x00}

// Errors.
var (
	// ErrShortBuffer: a TLV runs past the end of the LLDPDU, or a frame
	// is shorter than its Ethernet header.
	ErrShortBuffer = errors.New("lldp: short buffer")
	// ErrEtherType: the frame is not LLDP (EtherType 0x88CC).
	ErrEtherType = errors.New("lldp: not an LLDP frame")
	// ErrMandatory: the LLDPDU does not start with Chassis ID, Port ID and
	// TTL TLVs, in that order (802.1AB 8.2), or one of them is empty or
	// the TTL is not 2 bytes.
	ErrMandatory = errors.New("lldp: mandatory TLVs missing or malformed")
	// ErrRange: a value to encode is longer than a TLV carries.
	ErrRange = errors.New("lldp: value out of range")
)

// Decoder walks the TLVs of an LLDPDU (the bytes after the EtherType).
// Next stops at the End TLV or the end of the buffer; a TLV that runs past
// the end sets ErrShortBuffer.
type Decoder struct {
	b   []byte
	off int
	typ uint8
	val []byte
	err error
}

// NewDecoder returns a Decoder over the LLDPDU b.
func NewDecoder(b []byte) Decoder { return Decoder{b: b} }

// Next advances to the next TLV.
func (d *Decoder) Next() bool {
	if d.err != nil || d.off >= len(d.b) {
		return false
	}
	rest := d.b[d.off:]
	if len(rest) < 2 {
		d.err = ErrShortBuffer
		return false
	}
	h := binary.BigEndian.Uint16(rest)
	t, n := uint8(h>>9), int(h&MaxTLVLen)
	if t == TypeEnd {
		d.off = len(d.b)
		return false
	}
	if len(rest)-2 < n {
		d.err = ErrShortBuffer
		return false
	}
	d.typ, d.val = t, rest[2:2+n]
	d.off += 2 + n
	return true
}

// Type returns the current TLV's type.
func (d *Decoder) Type() uint8 { return d.typ }

// Bytes returns the current TLV's value (aliasing the LLDPDU).
func (d *Decoder) Bytes() []byte { return d.val }

// Err returns the first error met.
func (d *Decoder) Err() error { return d.err }

// PDU is what the agent reads of an LLDPDU. The slices alias the frame.
type PDU struct {
	Src       [6]byte
	ChassisID []byte // subtype byte and ID
	PortID    []byte // subtype byte and ID
	TTL       uint16
	// SysName is the System Name TLV's value, nil if there is none.
	SysName []byte
	// Org lists the organizationally specific TLV values (OUI on).
	Org [][]byte
}

// Decode reads an LLDP frame (from the destination address, no VLAN tag)
// into p, reusing p.Org. It fails with ErrShortBuffer, ErrEtherType or
// ErrMandatory.
func (p *PDU) Decode(frame []byte) error {
	p.Org, p.SysName = p.Org[:0], nil
	if len(frame) < 14 {
		return ErrShortBuffer
	}
	if binary.BigEndian.Uint16(frame[12:]) != EtherType {
		return ErrEtherType
	}
	p.Src = [6]byte(frame[6:12])
	d := NewDecoder(frame[14:])
	i := 0
	for d.Next() {
		v := d.Bytes()
		switch {
		case i == 0 && d.Type() == TypeChassisID && len(v) >= 2:
			p.ChassisID = v
		case i == 1 && d.Type() == TypePortID && len(v) >= 2:
			p.PortID = v
		case i == 2 && d.Type() == TypeTTL && len(v) == 2:
			p.TTL = binary.BigEndian.Uint16(v)
		case i < 3:
			return ErrMandatory
		case d.Type() == TypeOrg:
			p.Org = append(p.Org, v)
		case d.Type() == TypeSystemName:
			p.SysName = v
		}
		i++
	}
	if d.Err() != nil {
		return d.Err()
	}
	if i < 3 {
		return ErrMandatory
	}
	return nil
}

// AppendFrame appends an LLDP frame from src to dst: Chassis ID (subtype
// and ID), Port ID (subtype and ID), TTL, the given TLVs (already
// encoded, headers included), the End TLV, zero padding to 60 bytes.
func AppendFrame(b []byte, dst, src [6]byte, chassis, port []byte, ttl uint16, tlvs ...[]byte) ([]byte, error) {
	if len(chassis) < 2 || len(chassis) > 256 || len(port) < 2 || len(port) > 256 {
		return b, ErrRange
	}
	start := len(b)
	b = append(b, dst[:]...)
	b = append(b, src[:]...)
	b = append(b, EtherType>>8, EtherType&0xFF)
	b = append(b, TypeChassisID<<1, byte(len(chassis)))
	b = append(b, chassis...)
	b = append(b, TypePortID<<1, byte(len(port)))
	b = append(b, port...)
	b = append(b, TypeTTL<<1, 2, byte(ttl>>8), byte(ttl))
	for _, t := range tlvs {
		b = append(b, t...)
	}
	b = append(b, 0, 0)
	for len(b)-start < 60 {
		b = append(b, 0)
	}
	return b, nil
}
