package vntag_test

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vntag"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	require.NoError(t, err)
	return b
}

// The worked examples of ../shared/spec/vntag.md, whose fields tshark 4.0.17
// printed for the same bytes.
var specVNTag = []struct {
	name string
	wire string // from the EtherType through the next EtherType
	tag  vntag.Tag
	word uint32
}{
	{"V1 upstream unicast from vif 5", "89 26 00 00 00 05 08 00",
		vntag.Tag{SVIF: 5, EtherType: 0x0800}, 0x00000005},
	{"V2 downstream unicast to vif 291, C-tag inside", "89 26 81 23 00 00 81 00",
		vntag.Tag{Direction: vntag.FromBridge, DVIF: 291, EtherType: 0x8100}, 0x81230000},
	{"V3 downstream flood to vif_list 66", "89 26 c0 42 00 00 08 00",
		vntag.Tag{Direction: vntag.FromBridge, Pointer: true, DVIF: 66, EtherType: 0x0800}, 0xC0420000},
	{"V4 flood looped back to source vif 5", "89 26 c0 42 80 05 08 00",
		vntag.Tag{Direction: vntag.FromBridge, Pointer: true, DVIF: 66, Looped: true, SVIF: 5, EtherType: 0x0800}, 0xC0428005},
}

var specETag = []struct {
	name             string
	wire             string
	etag             vntag.ETag
	tci              uint64
	ingressECID, ecid uint32
}{
	{"E1 upstream from E-CID 197", "89 3f 00 00 00 c5 00 00 08 00",
		vntag.ETag{ECIDBase: 0xc5, EtherType: 0x0800}, 0xc50000, 0, 197},
	{"E2 downstream unicast, E-PCP 5, C-tag inside", "89 3f a0 00 00 c5 00 00 81 00",
		vntag.ETag{PCP: 5, ECIDBase: 0xc5, EtherType: 0x8100}, 0xa00000c50000, 0, 197},
	{"E3 multicast GRP 1, prune ingress E-CID 197", "89 3f 00 c5 11 23 00 00 08 00",
		vntag.ETag{IngressECIDBase: 0xc5, GRP: 1, ECIDBase: 0x123, EtherType: 0x0800}, 0xc511230000, 197, 291},
	{"E4 every field", "89 3f 70 c5 20 ff 12 34 08 00",
		vntag.ETag{PCP: 3, DEI: true, IngressECIDBase: 0xc5, GRP: 2, ECIDBase: 0xff,
			IngressECIDExt: 0x12, ECIDExt: 0x34, EtherType: 0x0800}, 0x70c520ff1234, 73925, 213247},
}

func TestSpecVNTagExamples(t *testing.T) {
	for _, tc := range specVNTag {
		t.Run(tc.name, func(t *testing.T) {
			wire := unhex(t, tc.wire)
			got, err := vntag.ParseTag(wire)
			require.NoError(t, err)
			assert.Equal(t, tc.tag, got)
			assert.Equal(t, tc.word, got.Word())
			require.NoError(t, got.Validate())

			body, err := vntag.ParseTagBody(wire[2:])
			require.NoError(t, err)
			assert.Equal(t, tc.tag, body)

			h, err := vntag.TagHeaderOf(wire)
			require.NoError(t, err)
			assert.Equal(t, tc.tag, h.Tag())
			assert.Equal(t, tc.tag.Direction, h.Direction())
			assert.Equal(t, tc.tag.Pointer, h.Pointer())
			assert.Equal(t, tc.tag.DVIF, h.DVIF())
			assert.Equal(t, tc.tag.Looped, h.Looped())
			assert.Equal(t, tc.tag.Reserved, h.Reserved())
			assert.Equal(t, tc.tag.Version, h.Version())
			assert.Equal(t, tc.tag.SVIF, h.SVIF())
			assert.Equal(t, tc.tag.EtherType, h.EtherType())

			out := make([]byte, vntag.TagHeaderLen)
			n, err := tc.tag.Put(out)
			require.NoError(t, err)
			assert.Equal(t, vntag.TagHeaderLen, n)
			assert.Equal(t, wire, out)
			m, err := tc.tag.MarshalBinary()
			require.NoError(t, err)
			assert.Equal(t, wire, m)
			var u vntag.Tag
			require.NoError(t, u.UnmarshalBinary(wire))
			assert.Equal(t, tc.tag, u)
		})
	}
}

func TestSpecETagExamples(t *testing.T) {
	for _, tc := range specETag {
		t.Run(tc.name, func(t *testing.T) {
			wire := unhex(t, tc.wire)
			got, err := vntag.ParseETag(wire)
			require.NoError(t, err)
			assert.Equal(t, tc.etag, got)
			assert.Equal(t, tc.tci, got.TCI())
			assert.Equal(t, tc.ecid, got.ECID(), "E-CID as tshark's summary line prints it")
			assert.Equal(t, tc.ingressECID, got.IngressECID())
			assert.Equal(t, tc.etag.GRP != 0, got.Multicast())
			require.NoError(t, got.Validate())

			h, err := vntag.ETagHeaderOf(wire)
			require.NoError(t, err)
			assert.Equal(t, tc.etag, h.ETag())
			assert.Equal(t, tc.etag.PCP, h.PCP())
			assert.Equal(t, tc.etag.DEI, h.DEI())
			assert.Equal(t, tc.etag.IngressECIDBase, h.IngressECIDBase())
			assert.Equal(t, tc.etag.Reserved, h.Reserved())
			assert.Equal(t, tc.etag.GRP, h.GRP())
			assert.Equal(t, tc.etag.ECIDBase, h.ECIDBase())
			assert.Equal(t, tc.etag.IngressECIDExt, h.IngressECIDExt())
			assert.Equal(t, tc.etag.ECIDExt, h.ECIDExt())
			assert.Equal(t, tc.ecid, h.ECID())
			assert.Equal(t, tc.ingressECID, h.IngressECID())
			assert.Equal(t, tc.etag.EtherType, h.EtherType())

			out := make([]byte, vntag.ETagHeaderLen)
			_, err = tc.etag.Put(out)
			require.NoError(t, err)
			assert.Equal(t, wire, out)
			app, err := tc.etag.AppendBinary([]byte{0xAA})
			require.NoError(t, err)
			assert.Equal(t, append([]byte{0xAA}, wire...), app)
			var u vntag.ETag
			require.NoError(t, u.UnmarshalBinary(wire))
			assert.Equal(t, tc.etag, u)
		})
	}
}

func TestETagWholeECIDHelpers(t *testing.T) {
	var e vntag.ETag
	require.NoError(t, e.SetECID(213247))
	assert.Equal(t, uint8(0x34), e.ECIDExt)
	assert.Equal(t, uint16(0x0ff), e.ECIDBase)
	require.NoError(t, e.SetIngressECID(73925))
	assert.Equal(t, uint8(0x12), e.IngressECIDExt)
	assert.Equal(t, uint16(0x0c5), e.IngressECIDBase)
	e.GRP = 2
	assert.Equal(t, uint32(2<<20|213247), e.Channel())

	before := e
	require.ErrorIs(t, e.SetECID(vntag.MaxECID+1), vntag.ErrRange)
	require.ErrorIs(t, e.SetIngressECID(1<<24), vntag.ErrRange)
	assert.Equal(t, before, e, "a rejected set leaves the tag unchanged")
}

func TestSplitDVIF(t *testing.T) {
	ports, dst := vntag.SplitDVIF(0x3123)
	assert.Equal(t, uint8(3), ports)
	assert.Equal(t, uint16(0x123), dst)
}

func TestStrings(t *testing.T) {
	assert.Equal(t, "VNTag{dir=1 ptr=1 dst=66 looped=1 r=0 version=0 src=5 etype=0x0800}", specVNTag[3].tag.String())
	assert.Equal(t, "E-Tag{pcp=3 dei=1 iecid_base=197 resv=0 group=2 ecid_base=255 iecid_ext=18 ecid_ext=52 etype=0x0800}",
		specETag[3].etag.String())
	assert.Equal(t, "From Bridge", vntag.FromBridge.String())
	assert.Equal(t, "To Bridge", vntag.ToBridge.String())
	assert.Equal(t, "802.1ad", vntag.KindDot1AD.String())
}
