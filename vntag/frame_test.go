package vntag_test

import (
	"encoding/binary"

	"pgregory.net/rapid"

	"github.com/nivkit/niv/vntag"
)

// vlanTag is one 802.1Q, 802.1ad or 0x9100 tag of a test frame.
type vlanTag struct{ tpid, tci uint16 }

// frameSpec describes a test frame: MAC addresses, a tag stack and payload.
// niv, if not nil, is a NIV tag's TPID and body (without its next EtherType)
// placed after the first nOuter VLAN tags.
type frameSpec struct {
	dst, src  [6]byte
	vlans     []vlanTag
	nOuter    int
	niv       []byte
	etherType uint16
	payload   []byte
}

func (f frameSpec) bytes() []byte {
	b := make([]byte, 0, 64+len(f.payload))
	b = append(b, f.dst[:]...)
	b = append(b, f.src[:]...)
	for i, v := range f.vlans {
		if i == f.nOuter && f.niv != nil {
			b = append(b, f.niv...)
		}
		b = binary.BigEndian.AppendUint16(b, v.tpid)
		b = binary.BigEndian.AppendUint16(b, v.tci)
	}
	if f.nOuter >= len(f.vlans) && f.niv != nil {
		b = append(b, f.niv...)
	}
	b = binary.BigEndian.AppendUint16(b, f.etherType)
	return append(b, f.payload...)
}

var vlanTPIDs = []uint16{vntag.EtherTypeDot1Q, vntag.EtherTypeDot1AD, vntag.EtherTypeQinQ}

// payloadTypes are EtherTypes that do not start a tag.
var payloadTypes = []uint16{0x0800, 0x86DD, 0x0806, 0x88B5, 0x0040}

func drawVLANs(t *rapid.T, label string, max int) []vlanTag {
	n := rapid.IntRange(0, max).Draw(t, label+"Count")
	v := make([]vlanTag, n)
	for i := range v {
		v[i] = vlanTag{rapid.SampledFrom(vlanTPIDs).Draw(t, label+"TPID"), rapid.Uint16().Draw(t, label+"TCI")}
	}
	return v
}

func drawPlainFrame(t *rapid.T) frameSpec {
	return frameSpec{
		dst:       [6]byte(rapid.SliceOfN(rapid.Byte(), 6, 6).Draw(t, "dst")),
		src:       [6]byte(rapid.SliceOfN(rapid.Byte(), 6, 6).Draw(t, "src")),
		vlans:     drawVLANs(t, "vlan", 5),
		etherType: rapid.SampledFrom(payloadTypes).Draw(t, "etherType"),
		payload:   rapid.SliceOfN(rapid.Byte(), 0, 300).Draw(t, "payload"),
	}
}

// drawFields draws VNTag fields, each in range.
func drawFields(t *rapid.T) vntag.TagFields {
	return vntag.TagFields{
		Direction: vntag.Direction(rapid.IntRange(0, 1).Draw(t, "d")),
		Pointer:   rapid.Bool().Draw(t, "p"),
		DVIF:      rapid.Uint16Range(0, vntag.MaxDVIF).Draw(t, "dvif"),
		Looped:    rapid.Bool().Draw(t, "l"),
		Reserved:  rapid.Bool().Draw(t, "r"),
		Version:   rapid.Uint8Range(0, vntag.MaxVersion).Draw(t, "ver"),
		SVIF:      rapid.Uint16Range(0, vntag.MaxSVIF).Draw(t, "svif"),
		EtherType: rapid.Uint16().Draw(t, "etype"),
	}
}

// drawETagFields draws E-Tag fields, each in range.
func drawETagFields(t *rapid.T) vntag.ETagFields {
	return vntag.ETagFields{
		PCP:             rapid.Uint8Range(0, vntag.MaxPCP).Draw(t, "pcp"),
		DEI:             rapid.Bool().Draw(t, "dei"),
		IngressECIDBase: rapid.Uint16Range(0, vntag.MaxECIDBase).Draw(t, "iecidBase"),
		Reserved:        rapid.Uint8Range(0, vntag.MaxETagReserved).Draw(t, "resv"),
		GRP:             rapid.Uint8Range(0, vntag.MaxGRP).Draw(t, "grp"),
		ECIDBase:        rapid.Uint16Range(0, vntag.MaxECIDBase).Draw(t, "ecidBase"),
		IngressECIDExt:  rapid.Uint8().Draw(t, "iecidExt"),
		ECIDExt:         rapid.Uint8().Draw(t, "ecidExt"),
		EtherType:       rapid.Uint16().Draw(t, "etype"),
	}
}
