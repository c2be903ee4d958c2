package evb

import "encoding/binary"

// Draft EVB TLV value (802.1Qbg draft 0.2; lldpad lldp_evb.h; tshark
// lldp.ieee.802_1qbg.*; vdp-ecp.md §7):
//
//	00 1b 3f 00 | supported mode | supported caps | configured mode | configured caps |
//	supported #VSIs (2) | configured #VSIs (2) | RTE
const (
	// DraftLen is the length of the draft EVB TLV's value.
	DraftLen = 13
	// DraftSubtype is its subtype under OUIDraft.
	DraftSubtype = 0x00
)

// OUIDraft is the OUI of the 802.1Qbg draft TLVs, 00-1B-3F.
var OUIDraft = [3]byte{0x00, 0x1B, 0x3F}

// Draft forwarding-mode and capability bits; tshark shows mode‖caps as
// one 16-bit value (evb_support_caps: STD 0x8000, RR 0x4000, RTE 0x4, ECP
// 0x2, VDP 0x1).
const (
	DraftModeSTD = 0x80
	DraftModeRR  = 0x40
	DraftCapRTE  = 0x04
	DraftCapECP  = 0x02
	DraftCapVDP  = 0x01
)

// Draft is the draft-0.2 EVB TLV.
type Draft struct {
	SupportedMode, SupportedCaps   uint8
	ConfiguredMode, ConfiguredCaps uint8
	SupportedVSIs, ConfiguredVSIs  uint16
	RTE                            uint8
}

// ParseDraft reads a draft EVB TLV value (from the OUI on).
func ParseDraft(v []byte) (Draft, error) {
	if len(v) < DraftLen {
		return Draft{}, ErrShortBuffer
	}
	if [3]byte(v) != OUIDraft || v[3] != DraftSubtype {
		return Draft{}, ErrOUI
	}
	if len(v) != DraftLen {
		return Draft{}, ErrLength
	}
	return Draft{SupportedMode: v[4], SupportedCaps: v[5], ConfiguredMode: v[6], ConfiguredCaps: v[7],
		SupportedVSIs: binary.BigEndian.Uint16(v[8:]), ConfiguredVSIs: binary.BigEndian.Uint16(v[10:]), RTE: v[12]}, nil
}

// AppendTLV appends the whole LLDP TLV (type 127, length 13).
func (d Draft) AppendTLV(b []byte) []byte {
	b = append(b, 0xFE, DraftLen, OUIDraft[0], OUIDraft[1], OUIDraft[2], DraftSubtype,
		d.SupportedMode, d.SupportedCaps, d.ConfiguredMode, d.ConfiguredCaps)
	b = binary.BigEndian.AppendUint16(b, d.SupportedVSIs)
	b = binary.BigEndian.AppendUint16(b, d.ConfiguredVSIs)
	return append(b, d.RTE)
}
