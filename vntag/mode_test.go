package vntag_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vntag"
)

func TestMode(t *testing.T) {
	// The values are the vic capabilities TLV's (vic/PROTOCOL.md).
	assert.EqualValues(t, 1, vntag.ModeVNTag)
	assert.EqualValues(t, 2, vntag.ModeETag)
	for _, c := range []struct {
		m         vntag.Mode
		str, word string
		kind      vntag.Kind
		max       vntag.VIF
	}{
		{vntag.ModeVNTag, "VNTag", "vntag", vntag.KindVNTag, 4095},
		{vntag.ModeETag, "E-Tag", "etag", vntag.KindETag, 1<<20 - 1},
		{0, "Mode(0)", "Mode(0)", vntag.KindNone, 0},
	} {
		assert.Equal(t, c.str, c.m.String())
		assert.Equal(t, c.word, c.m.Word())
		assert.Equal(t, c.kind, c.m.Kind())
		assert.Equal(t, c.max, c.m.MaxVIF())
		if c.m != 0 {
			m, err := vntag.ParseMode(c.word)
			require.NoError(t, err)
			assert.Equal(t, c.m, m)
		}
	}
	_, err := vntag.ParseMode("VNTag")
	assert.Error(t, err)
}

func TestChannel(t *testing.T) {
	e, err := vntag.ETagFields{GRP: 2, ECIDBase: 0x123, ECIDExt: 0x45}.ETag()
	require.NoError(t, err)
	assert.Equal(t, e.Channel(), vntag.Channel(2, 0x45123))
	assert.Equal(t, uint32(2<<20|0x45123), vntag.Channel(2, 0x45123))
	assert.Equal(t, uint32(0xFFFFF), vntag.Channel(0, 0xFFFFF))
}

// TestFieldBits checks the exported field masks against the accessors.
func TestFieldBits(t *testing.T) {
	tag, err := vntag.TagFields{Direction: vntag.FromBridge, Pointer: true, DVIF: 0x2abc, Looped: true, Reserved: true, Version: 2, SVIF: 0x123}.Tag()
	require.NoError(t, err)
	w := tag.Word()
	assert.NotZero(t, w&vntag.TagDirectionBit)
	assert.NotZero(t, w&vntag.TagPointerBit)
	assert.EqualValues(t, 0x2abc, w&vntag.TagDVIFMask>>16)
	assert.NotZero(t, w&vntag.TagLoopedBit)
	assert.NotZero(t, w&vntag.TagReservedBit)
	assert.EqualValues(t, 2, w&vntag.TagVersionMask>>12)
	assert.EqualValues(t, 0x123, w&vntag.TagSVIFMask)
	assert.Equal(t, uint32(0xffffffff), uint32(vntag.TagDirectionBit|vntag.TagPointerBit|vntag.TagDVIFMask|
		vntag.TagLoopedBit|vntag.TagReservedBit|vntag.TagVersionMask|vntag.TagSVIFMask))

	e, err := vntag.ETagFields{PCP: 5, DEI: true, IngressECIDBase: 0xabc, Reserved: 1, GRP: 2, ECIDBase: 0x123, IngressECIDExt: 0x45, ECIDExt: 0x67}.ETag()
	require.NoError(t, err)
	c := e.TCI()
	assert.EqualValues(t, 5, c&vntag.ETCIPCPMask>>45)
	assert.NotZero(t, c&vntag.ETCIDEIBit)
	assert.EqualValues(t, 0xabc, c&vntag.ETCIIngressECIDBaseMask>>32)
	assert.EqualValues(t, 1, c&vntag.ETCIReservedMask>>30)
	assert.EqualValues(t, 2, c&vntag.ETCIGRPMask>>28)
	assert.EqualValues(t, 0x123, c&vntag.ETCIECIDBaseMask>>16)
	assert.EqualValues(t, 0x45, c&vntag.ETCIIngressECIDExtMask>>8)
	assert.EqualValues(t, 0x67, c&vntag.ETCIECIDExtMask)
	assert.Equal(t, uint64(1<<48-1), uint64(vntag.ETCIPCPMask|vntag.ETCIDEIBit|vntag.ETCIIngressECIDBaseMask|vntag.ETCIReservedMask|
		vntag.ETCIGRPMask|vntag.ETCIECIDBaseMask|vntag.ETCIIngressECIDExtMask|vntag.ETCIECIDExtMask))
}
