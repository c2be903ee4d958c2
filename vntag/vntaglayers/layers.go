// Package vntaglayers adapts the vntag codecs to gopacket: it registers the
// layer types LayerTypeVNTag and LayerTypeETag and binds them to the
// EtherTypes 0x8926 and 0x893F in gopacket's layers.EthernetTypeMetadata,
// so that both gopacket.NewPacket and a DecodingLayerParser decode
// Ethernet → VNTag/E-Tag → Dot1Q/IPv4/IPv6/ARP/..., and that VLAN tags in
// front of a NIV tag decode through it too.
//
// Importing the package is the opt-in: its init does the registration, and
// touches only those two EtherTypes. The layer numbers are 1990 (VNTag) and
// 1991 (E-Tag), high in gopacket's range for applications (1000-1999);
// niv keeps 1990-1999 for its layers.
//
// The layers never panic on any input, so a DecodingLayerParser that holds
// only them and gopacket's well-behaved layers may set IgnorePanic.
package vntaglayers

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/nivkit/niv/vntag"
)

// Layer numbers claimed in gopacket's application range.
const (
	LayerNumberVNTag = 1990
	LayerNumberETag  = 1991
)

var (
	// LayerTypeVNTag is the gopacket layer type of a Cisco VNTag.
	LayerTypeVNTag = gopacket.RegisterLayerType(LayerNumberVNTag, gopacket.LayerTypeMetadata{
		Name:    "VNTag",
		Decoder: gopacket.DecodeFunc(decodeVNTag),
	})
	// LayerTypeETag is the gopacket layer type of an IEEE 802.1BR E-Tag.
	LayerTypeETag = gopacket.RegisterLayerType(LayerNumberETag, gopacket.LayerTypeMetadata{
		Name:    "ETag",
		Decoder: gopacket.DecodeFunc(decodeETag),
	})
)

// EthernetTypeVNTag and EthernetTypeETag are the two EtherTypes as
// gopacket's layers.EthernetType.
const (
	EthernetTypeVNTag layers.EthernetType = vntag.EtherTypeVNTag
	EthernetTypeETag  layers.EthernetType = vntag.EtherTypeETag
)

func init() {
	layers.EthernetTypeMetadata[EthernetTypeVNTag] = layers.EnumMetadata{
		DecodeWith: gopacket.DecodeFunc(decodeVNTag),
		Name:       "VNTag",
		LayerType:  LayerTypeVNTag,
	}
	layers.EthernetTypeMetadata[EthernetTypeETag] = layers.EnumMetadata{
		DecodeWith: gopacket.DecodeFunc(decodeETag),
		Name:       "ETag",
		LayerType:  LayerTypeETag,
	}
}

// nextLayerType returns the layer type of what follows a tag: the
// EtherType's, or LLC when the value is an 802.3 length (as gopacket's
// Ethernet layer does, and as Wireshark does after a VNTag).
func nextLayerType(t uint16) gopacket.LayerType {
	if t < vntag.MinEtherType {
		return layers.LayerTypeLLC
	}
	return layers.EthernetType(t).LayerType()
}

// nextDecoder is nextLayerType for gopacket.NewPacket's decoder chain.
func nextDecoder(t uint16) gopacket.Decoder {
	if t < vntag.MinEtherType {
		return layers.LayerTypeLLC
	}
	return layers.EthernetType(t)
}

// VNTag is the gopacket layer of a Cisco VNTag: the 4-byte tag and the next
// EtherType (the TPID 0x8926 is the EtherType of the layer in front).
// Contents are those 6 bytes; Payload is the rest.
type VNTag struct {
	layers.BaseLayer
	// Tag is the decoded tag with its next EtherType.
	Tag vntag.Tag
}

// LayerType returns LayerTypeVNTag.
func (v *VNTag) LayerType() gopacket.LayerType { return LayerTypeVNTag }

// CanDecode returns LayerTypeVNTag.
func (v *VNTag) CanDecode() gopacket.LayerClass { return LayerTypeVNTag }

// NextLayerType returns the layer type of the next EtherType.
func (v *VNTag) NextLayerType() gopacket.LayerType { return nextLayerType(v.Tag.EtherType()) }

// DecodeFromBytes decodes the tag at the start of data. On short input it
// reports truncation to df and returns an error wrapping
// vntag.ErrShortBuffer.
func (v *VNTag) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	t, err := vntag.ParseTagBody(data)
	if err != nil {
		df.SetTruncated()
		return err
	}
	v.Tag = t
	v.BaseLayer = layers.BaseLayer{Contents: data[:vntag.TagHeaderLen-2], Payload: data[vntag.TagHeaderLen-2:]}
	return nil
}

// SerializeTo prepends the tag and its next EtherType to b.
func (v *VNTag) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	bytes, err := b.PrependBytes(vntag.TagHeaderLen - 2)
	if err != nil {
		return err
	}
	_, err = v.Tag.PutBody(bytes)
	return err
}

func decodeVNTag(data []byte, p gopacket.PacketBuilder) error {
	v := &VNTag{}
	if err := v.DecodeFromBytes(data, p); err != nil {
		return err
	}
	p.AddLayer(v)
	return p.NextDecoder(nextDecoder(v.Tag.EtherType()))
}

// ETag is the gopacket layer of an IEEE 802.1BR E-Tag: the 6-byte E-TCI and
// the next EtherType. Contents are those 8 bytes; Payload is the rest.
type ETag struct {
	layers.BaseLayer
	// ETag is the decoded tag with its next EtherType.
	ETag vntag.ETag
}

// LayerType returns LayerTypeETag.
func (e *ETag) LayerType() gopacket.LayerType { return LayerTypeETag }

// CanDecode returns LayerTypeETag.
func (e *ETag) CanDecode() gopacket.LayerClass { return LayerTypeETag }

// NextLayerType returns the layer type of the next EtherType.
func (e *ETag) NextLayerType() gopacket.LayerType { return nextLayerType(e.ETag.EtherType()) }

// DecodeFromBytes decodes the E-Tag at the start of data. On short input it
// reports truncation to df and returns an error wrapping
// vntag.ErrShortBuffer.
func (e *ETag) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	t, err := vntag.ParseETagBody(data)
	if err != nil {
		df.SetTruncated()
		return err
	}
	e.ETag = t
	e.BaseLayer = layers.BaseLayer{Contents: data[:vntag.ETagHeaderLen-2], Payload: data[vntag.ETagHeaderLen-2:]}
	return nil
}

// SerializeTo prepends the E-TCI and its next EtherType to b.
func (e *ETag) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	bytes, err := b.PrependBytes(vntag.ETagHeaderLen - 2)
	if err != nil {
		return err
	}
	_, err = e.ETag.PutBody(bytes)
	return err
}

func decodeETag(data []byte, p gopacket.PacketBuilder) error {
	e := &ETag{}
	if err := e.DecodeFromBytes(data, p); err != nil {
		return err
	}
	p.AddLayer(e)
	return p.NextDecoder(nextDecoder(e.ETag.EtherType()))
}

// Interface checks.
var (
	_ gopacket.DecodingLayer     = (*VNTag)(nil)
	_ gopacket.SerializableLayer = (*VNTag)(nil)
	_ gopacket.DecodingLayer     = (*ETag)(nil)
	_ gopacket.SerializableLayer = (*ETag)(nil)
)
