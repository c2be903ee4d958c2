package vntag

import (
	"fmt"
	"strconv"
)

// Mode is the tag a link between an interface virtualizer and its bridge
// carries: Cisco VNTag or IEEE 802.1BR E-Tag. The values are those of the
// vic protocol's capabilities TLV (vic/PROTOCOL.md); the zero Mode is no
// mode (a plain link).
type Mode uint8

// Modes.
const (
	// ModeVNTag is Cisco's VNTag (EtherType 0x8926): svif_id (12 bits)
	// names the source vif upstream, dvif_id (14 bits) the destination vif
	// or vif list downstream.
	ModeVNTag Mode = 1
	// ModeETag is the IEEE 802.1BR E-Tag (EtherType 0x893F): the E-CID
	// (20 bits) names the extended port, GRP > 0 a multicast E-channel,
	// Ingress_E-CID the port to prune.
	ModeETag Mode = 2
)

// ParseMode returns the mode a configuration word names: "vntag" or
// "etag".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "vntag":
		return ModeVNTag, nil
	case "etag":
		return ModeETag, nil
	}
	return 0, fmt.Errorf("vntag: mode %q: want vntag or etag", s)
}

// String returns "VNTag" or "E-Tag", Wireshark's names of the tags.
func (m Mode) String() string {
	switch m {
	case ModeVNTag:
		return "VNTag"
	case ModeETag:
		return "E-Tag"
	}
	return "Mode(" + strconv.FormatUint(uint64(m), 10) + ")"
}

// Word returns the configuration word of the mode, "vntag" or "etag"
// (what ParseMode reads).
func (m Mode) Word() string {
	switch m {
	case ModeVNTag:
		return "vntag"
	case ModeETag:
		return "etag"
	}
	return m.String()
}

// Kind returns the kind of tag the mode puts on frames: KindVNTag or
// KindETag, KindNone for no mode.
func (m Mode) Kind() Kind {
	switch m {
	case ModeVNTag:
		return KindVNTag
	case ModeETag:
		return KindETag
	}
	return KindNone
}

// MaxVIF returns the largest VIF a vNIC can have in the mode: the 12-bit
// svif_id of a VNTag (a vNIC's VIF is its svif_id upstream), the 20-bit
// E-CID of an E-Tag; 0 for no mode.
func (m Mode) MaxVIF() VIF {
	switch m {
	case ModeVNTag:
		return MaxSVIF
	case ModeETag:
		return MaxECID
	}
	return 0
}

// VIF is a virtual interface's id on an IV–VIS link: a vNIC's svif_id
// (VNTag, 12 bits, MaxSVIF) or E-CID (E-Tag, 20 bits, MaxECID), and the
// dvif_id (14 bits, MaxDVIF) or E-CID the bridge sends it back to. 0 is
// reserved. The forwarding cores (vic/iv, vic/vis) and the control plane
// (vic) all name VIFs with it, so that a VIF is never narrowed on its way
// through them; the codec's field accessors return the fields at their
// wire widths.
type VIF uint32

// Channel returns the E-channel identifier GRP<<20 | E-CID (22 bits) of
// E-CID ecid in group grp: a point-to-point channel when grp is 0, a
// point-to-multipoint channel (an IV's vif list in E-Tag mode) for GRP
// 1-3. ETag.Channel is the channel of a decoded tag.
func Channel(grp uint8, ecid VIF) uint32 { return uint32(grp&MaxGRP)<<20 | uint32(ecid&MaxECID) }
