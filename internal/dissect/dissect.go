// Package dissect decodes a whole Ethernet frame's link-layer headers —
// the addresses, every VLAN tag, VNTag and E-Tag in the stack — into a flat
// list of fields named as Wireshark names them (eth.dst, vlan.id,
// vntag.dst, etag.ecid_base, ieee8021ad.svid, ...), with the values tshark
// prints for them. It is what `niv decode` prints, what the fuzzers feed,
// and what the differential tests compare with tshark field for field.
package dissect

import (
	"encoding/binary"

	"github.com/nivkit/niv/vdp"
	"github.com/nivkit/niv/vdp/ecp"
	"github.com/nivkit/niv/vdp/lldp"
	"github.com/nivkit/niv/vntag"
)

// ValueKind says how a field's value is shown.
type ValueKind uint8

const (
	// Number is an unsigned integer (booleans are 0 or 1).
	Number ValueKind = iota
	// EtherType is a 16-bit EtherType, shown as "0x0800".
	EtherType
	// MAC is a 48-bit address, shown as "aa:bb:cc:dd:ee:ff".
	MAC
	// Text is a string (a port-profile name, a UUID), shown as it is and
	// as a JSON string.
	Text
)

// Field is one decoded field.
type Field struct {
	// Name is Wireshark's field name.
	Name string
	Kind ValueKind
	// Num holds a Number's or EtherType's value.
	Num uint64
	// Addr holds a MAC's value.
	Addr [6]byte
	// Text holds a Text's bytes; it may alias the frame.
	Text []byte
}

// Frame is the result of dissecting one frame. Reuse one Frame for many
// frames: Dissect resets it and reuses its storage.
type Frame struct {
	// Fields in the order the headers appear in the frame. A name occurs
	// once per header that carries it, so stacked tags repeat names.
	Fields []Field
	// Err is set when the frame ends inside a header; Fields then holds
	// what was decoded before it. It wraps vntag.ErrShortBuffer.
	Err error
	// Next is the type field after the last header decoded: the payload's
	// EtherType, or an 802.3 length when below 0x0600.
	Next uint16
	// PayloadOffset is the offset of the first byte after that type field.
	PayloadOffset int

	// scratch holds text the dissector formats (UUIDs), so that a reused
	// Frame formats without allocating.
	scratch []byte
	// vsi is reused to decode VDP's VSI TLVs.
	vsi vdp.VSI
}

// Field names, as Wireshark 4.0 registers them.
const (
	EthDst  = "eth.dst"
	EthSrc  = "eth.src"
	EthType = "eth.type"
	EthLen  = "eth.len"
	// EthInvalidLenType is Wireshark's name for a type field between 1501
	// and 1535, which is neither an 802.3 length nor an EtherType.
	EthInvalidLenType = "eth.invalid_lentype"

	VLANPriority = "vlan.priority"
	VLANDEI      = "vlan.dei"
	VLANID       = "vlan.id"
	VLANEtype    = "vlan.etype"
	VLANLen      = "vlan.len"

	ADPriority = "ieee8021ad.priority"
	ADDEI      = "ieee8021ad.dei"
	ADID       = "ieee8021ad.id"
	ADSVID     = "ieee8021ad.svid"
	ADCVID     = "ieee8021ad.cvid"

	VNTagDir     = "vntag.dir"
	VNTagPtr     = "vntag.ptr"
	VNTagDst     = "vntag.dst"
	VNTagLooped  = "vntag.looped"
	VNTagR       = "vntag.r"
	VNTagVersion = "vntag.version"
	VNTagSrc     = "vntag.src"
	VNTagEtype   = "vntag.etype"
	VNTagLen     = "vntag.len"

	ETagPCP       = "etag.pcp"
	ETagDEI       = "etag.dei"
	ETagIECIDBase = "etag.iecid_base"
	ETagResv      = "etag.resv"
	ETagGroup     = "etag.group"
	ETagECIDBase  = "etag.ecid_base"
	ETagIECIDExt  = "etag.iecid_ext"
	ETagECIDExt   = "etag.ecid_ext"
	ETagEtype     = "etag.etype"
)

// Names lists every field Dissect can produce, in a stable order.
var Names = []string{
	EthDst, EthSrc, EthType, EthLen, EthInvalidLenType,
	VLANPriority, VLANDEI, VLANID, VLANEtype, VLANLen,
	ADPriority, ADDEI, ADID, ADSVID, ADCVID,
	VNTagDir, VNTagPtr, VNTagDst, VNTagLooped, VNTagR, VNTagVersion, VNTagSrc, VNTagEtype, VNTagLen,
	ETagPCP, ETagDEI, ETagIECIDBase, ETagResv, ETagGroup, ETagECIDBase, ETagIECIDExt, ETagECIDExt, ETagEtype,
	ECPVersion, ECPOp, ECPSubtype, ECPSeqNo,
}

func (f *Frame) num(name string, v uint64) {
	f.Fields = append(f.Fields, Field{Name: name, Kind: Number, Num: v})
}

func (f *Frame) text(name string, b []byte) {
	f.Fields = append(f.Fields, Field{Name: name, Kind: Text, Text: b})
}

func (f *Frame) etype(name string, v uint16) {
	f.Fields = append(f.Fields, Field{Name: name, Kind: EtherType, Num: uint64(v)})
}

func (f *Frame) fail(tag string, off, need int, have int) {
	f.Err = &vntag.DecodeError{Tag: tag, Offset: off, Need: need, Have: have, Err: vntag.ErrShortBuffer}
}

// maxLength is the largest 802.3 length: a type field up to 1500 after the
// addresses, a VLAN tag or a VNTag is a length. Ethernet II EtherTypes start
// at 1536; Wireshark's Ethernet dissector calls the values between invalid,
// while its VLAN and VNTag dissectors take them for EtherTypes.
const maxLength = 1500

// Dissect decodes frame's link-layer headers into f, replacing what f held.
// It follows the stack as Wireshark does: 0x8100 and 0x9100 are 802.1Q tags
// (vlan.*), 0x88A8 is an 802.1ad tag (ieee8021ad.*; two in a row are one
// S-tag/C-tag pair with svid and cvid), 0x8926 a VNTag, 0x893F an E-Tag, and
// a type field up to 1500 after the addresses, a VLAN tag or a VNTag is a
// length. It stops at the first EtherType that is none of these. It never
// panics and never reads outside frame.
func Dissect(frame []byte, f *Frame) {
	f.Fields, f.Err, f.Next, f.PayloadOffset, f.scratch = f.Fields[:0], nil, 0, 0, f.scratch[:0]
	if len(frame) < vntag.AddrLen+2 {
		f.fail("Ethernet", 0, vntag.AddrLen+2, len(frame))
		return
	}
	f.Fields = append(f.Fields, Field{Name: EthDst, Kind: MAC, Addr: [6]byte(frame[0:6])},
		Field{Name: EthSrc, Kind: MAC, Addr: [6]byte(frame[6:12])})
	t := binary.BigEndian.Uint16(frame[12:])
	off := vntag.AddrLen + 2 // first byte after the type field that holds t
	defer func() {
		if f.Err == nil {
			f.Next, f.PayloadOffset = t, off
		}
	}()
	switch {
	case t == 0:
		// Wireshark's Ethernet dissector takes 0 for an EtherType
		// (ETHERTYPE_UNK), not a length; its VLAN and VNTag dissectors
		// do not.
	case t <= maxLength:
		f.num(EthLen, uint64(t))
		return
	case t < vntag.MinEtherType:
		f.etype(EthInvalidLenType, t)
		return
	}
	f.etype(EthType, t)

	for {
		switch t {
		case vntag.EtherTypeDot1Q, vntag.EtherTypeQinQ:
			if off+4 > len(frame) {
				f.fail("802.1Q", off-2, 6, len(frame)-off+2)
				return
			}
			tci := binary.BigEndian.Uint16(frame[off:])
			f.num(VLANPriority, uint64(tci>>13))
			f.num(VLANDEI, uint64(tci>>12&1))
			f.num(VLANID, uint64(tci&0x0FFF))
			t = binary.BigEndian.Uint16(frame[off+2:])
			off += 4
			if t <= maxLength {
				f.num(VLANLen, uint64(t))
				return
			}
			f.etype(VLANEtype, t)
		case vntag.EtherTypeDot1AD:
			if off+4 > len(frame) {
				f.fail("802.1ad", off-2, 6, len(frame)-off+2)
				return
			}
			tci := binary.BigEndian.Uint16(frame[off:])
			t = binary.BigEndian.Uint16(frame[off+2:])
			f.num(ADPriority, uint64(tci>>13))
			f.num(ADDEI, uint64(tci>>12&1))
			off += 4
			if t != vntag.EtherTypeDot1AD {
				f.num(ADID, uint64(tci&0x0FFF))
				continue
			}
			// Wireshark's 802.1ad dissector takes a second 0x88A8 tag as
			// the C-tag of a pair: svid, then the C-tag's fields and cvid.
			if off+4 > len(frame) {
				f.fail("802.1ad", off-2, 6, len(frame)-off+2)
				return
			}
			ctci := binary.BigEndian.Uint16(frame[off:])
			t = binary.BigEndian.Uint16(frame[off+2:])
			f.num(ADSVID, uint64(tci&0x0FFF))
			f.num(ADPriority, uint64(ctci>>13))
			f.num(ADDEI, uint64(ctci>>12&1))
			f.num(ADCVID, uint64(ctci&0x0FFF))
			off += 4
		case vntag.EtherTypeVNTag:
			tag, err := vntag.ParseTagBody(frame[off:])
			if err != nil {
				f.fail("VNTag", off-2, vntag.TagHeaderLen, len(frame)-off+2)
				return
			}
			f.num(VNTagDir, uint64(tag.Direction()))
			f.num(VNTagPtr, b2n(tag.Pointer()))
			f.num(VNTagDst, uint64(tag.DVIF()))
			f.num(VNTagLooped, b2n(tag.Looped()))
			f.num(VNTagR, b2n(tag.Reserved()))
			f.num(VNTagVersion, uint64(tag.Version()))
			f.num(VNTagSrc, uint64(tag.SVIF()))
			t = tag.EtherType()
			off += vntag.TagHeaderLen - 2
			if t <= maxLength {
				f.num(VNTagLen, uint64(t))
				return
			}
			f.etype(VNTagEtype, t)
		case vntag.EtherTypeETag:
			e, err := vntag.ParseETagBody(frame[off:])
			if err != nil {
				f.fail("E-Tag", off-2, vntag.ETagHeaderLen, len(frame)-off+2)
				return
			}
			f.num(ETagPCP, uint64(e.PCP()))
			f.num(ETagDEI, b2n(e.DEI()))
			f.num(ETagIECIDBase, uint64(e.IngressECIDBase()))
			f.num(ETagResv, uint64(e.Reserved()))
			f.num(ETagGroup, uint64(e.GRP()))
			f.num(ETagECIDBase, uint64(e.ECIDBase()))
			f.num(ETagIECIDExt, uint64(e.IngressECIDExt()))
			f.num(ETagECIDExt, uint64(e.ECIDExt()))
			t = e.EtherType()
			off += vntag.ETagHeaderLen - 2
			// Wireshark's E-Tag dissector shows even a value below 0x0600
			// as etag.etype.
			f.etype(ETagEtype, t)
		case ecp.EtherType:
			dissectECP(frame, off, f)
			return
		case lldp.EtherType:
			dissectLLDP(frame, off, f)
			return
		default:
			return
		}
	}
}

func b2n(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// Get returns the values of every field named name, in order.
func (f *Frame) Get(name string) []Field {
	var out []Field
	for _, x := range f.Fields {
		if x.Name == name {
			out = append(out, x)
		}
	}
	return out
}
