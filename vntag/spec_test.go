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
	name   string
	wire   string // from the EtherType through the next EtherType
	fields vntag.TagFields
	word   uint32
}{
	{"V1 upstream unicast from vif 5", "89 26 00 00 00 05 08 00",
		vntag.TagFields{SVIF: 5, EtherType: 0x0800}, 0x00000005},
	{"V2 downstream unicast to vif 291, C-tag inside", "89 26 81 23 00 00 81 00",
		vntag.TagFields{Direction: vntag.FromBridge, DVIF: 291, EtherType: 0x8100}, 0x81230000},
	{"V3 downstream flood to vif_list 66", "89 26 c0 42 00 00 08 00",
		vntag.TagFields{Direction: vntag.FromBridge, Pointer: true, DVIF: 66, EtherType: 0x0800}, 0xC0420000},
	{"V4 flood looped back to source vif 5", "89 26 c0 42 80 05 08 00",
		vntag.TagFields{Direction: vntag.FromBridge, Pointer: true, DVIF: 66, Looped: true, SVIF: 5, EtherType: 0x0800}, 0xC0428005},
}

var specETag = []struct {
	name              string
	wire              string
	fields            vntag.ETagFields
	tci               uint64
	ingressECID, ecid uint32
}{
	{"E1 upstream from E-CID 197", "89 3f 00 00 00 c5 00 00 08 00",
		vntag.ETagFields{ECIDBase: 0xc5, EtherType: 0x0800}, 0xc50000, 0, 197},
	{"E2 downstream unicast, E-PCP 5, C-tag inside", "89 3f a0 00 00 c5 00 00 81 00",
		vntag.ETagFields{PCP: 5, ECIDBase: 0xc5, EtherType: 0x8100}, 0xa00000c50000, 0, 197},
	{"E3 multicast GRP 1, prune ingress E-CID 197", "89 3f 00 c5 11 23 00 00 08 00",
		vntag.ETagFields{IngressECIDBase: 0xc5, GRP: 1, ECIDBase: 0x123, EtherType: 0x0800}, 0xc511230000, 197, 291},
	{"E4 every field", "89 3f 70 c5 20 ff 12 34 08 00",
		vntag.ETagFields{PCP: 3, DEI: true, IngressECIDBase: 0xc5, GRP: 2, ECIDBase: 0xff,
			IngressECIDExt: 0x12, ECIDExt: 0x34, EtherType: 0x0800}, 0x70c520ff1234, 73925, 213247},
}

func mustTag(t testing.TB, f vntag.TagFields) vntag.Tag {
	t.Helper()
	tg, err := f.Tag()
	require.NoError(t, err)
	return tg
}

func mustETag(t testing.TB, f vntag.ETagFields) vntag.ETag {
	t.Helper()
	e, err := f.ETag()
	require.NoError(t, err)
	return e
}

func TestSpecVNTagExamples(t *testing.T) {
	for _, tc := range specVNTag {
		t.Run(tc.name, func(t *testing.T) {
			wire := unhex(t, tc.wire)
			got, err := vntag.ParseTag(wire)
			require.NoError(t, err)
			assert.Equal(t, tc.fields, got.Fields())
			assert.Equal(t, tc.word, got.Word())
			assert.Equal(t, mustTag(t, tc.fields), got)
			assert.Equal(t, vntag.TagFromWord(tc.word, tc.fields.EtherType), got)
			require.NoError(t, got.Validate())

			body, err := vntag.ParseTagBody(wire[2:])
			require.NoError(t, err)
			assert.Equal(t, got, body)

			h, err := vntag.TagHeaderOf(wire)
			require.NoError(t, err)
			assert.Equal(t, got, h.Tag())
			assert.Equal(t, tc.fields.Direction, h.Direction())
			assert.Equal(t, tc.fields.DVIF, h.DVIF())
			assert.Equal(t, tc.fields.SVIF, h.SVIF())
			assert.Equal(t, tc.fields.EtherType, h.EtherType())

			out := make([]byte, vntag.TagHeaderLen)
			n, err := got.Put(out)
			require.NoError(t, err)
			assert.Equal(t, vntag.TagHeaderLen, n)
			assert.Equal(t, wire, out)
			body6 := make([]byte, 6)
			_, err = got.PutBody(body6)
			require.NoError(t, err)
			assert.Equal(t, wire[2:], body6)
			m, err := got.MarshalBinary()
			require.NoError(t, err)
			assert.Equal(t, wire, m)
			var u vntag.Tag
			require.NoError(t, u.UnmarshalBinary(wire))
			assert.Equal(t, got, u)
		})
	}
}

func TestSpecETagExamples(t *testing.T) {
	for _, tc := range specETag {
		t.Run(tc.name, func(t *testing.T) {
			wire := unhex(t, tc.wire)
			got, err := vntag.ParseETag(wire)
			require.NoError(t, err)
			assert.Equal(t, tc.fields, got.Fields())
			assert.Equal(t, mustETag(t, tc.fields), got)
			assert.Equal(t, tc.tci, got.TCI())
			assert.Equal(t, vntag.ETagFromWord(tc.tci, tc.fields.EtherType), got)
			assert.Equal(t, tc.ecid, got.ECID(), "E-CID as tshark's summary line prints it")
			assert.Equal(t, tc.ingressECID, got.IngressECID())
			assert.Equal(t, tc.fields.GRP != 0, got.Multicast())
			require.NoError(t, got.Validate())

			body, err := vntag.ParseETagBody(wire[2:])
			require.NoError(t, err)
			assert.Equal(t, got, body)

			h, err := vntag.ETagHeaderOf(wire)
			require.NoError(t, err)
			assert.Equal(t, got, h.ETag())
			assert.Equal(t, tc.ecid, h.ECID())
			assert.Equal(t, tc.ingressECID, h.IngressECID())
			assert.Equal(t, tc.fields.GRP, h.GRP())
			assert.Equal(t, tc.fields.EtherType, h.EtherType())

			out := make([]byte, vntag.ETagHeaderLen)
			_, err = got.Put(out)
			require.NoError(t, err)
			assert.Equal(t, wire, out)
			body8 := make([]byte, 8)
			_, err = got.PutBody(body8)
			require.NoError(t, err)
			assert.Equal(t, wire[2:], body8)
			app, err := got.AppendBinary([]byte{0xAA})
			require.NoError(t, err)
			assert.Equal(t, append([]byte{0xAA}, wire...), app)
			m, err := got.MarshalBinary()
			require.NoError(t, err)
			assert.Equal(t, wire, m)
			var u vntag.ETag
			require.NoError(t, u.UnmarshalBinary(wire))
			assert.Equal(t, got, u)
		})
	}
}

func TestConstructors(t *testing.T) {
	up, err := vntag.Upstream(5)
	require.NoError(t, err)
	assert.Equal(t, vntag.TagFields{SVIF: 5}, up.Fields())
	down, err := vntag.Downstream(291)
	require.NoError(t, err)
	assert.Equal(t, vntag.TagFields{Direction: vntag.FromBridge, DVIF: 291}, down.Fields())
	assert.Equal(t, uint16(0x8100), down.WithEtherType(0x8100).EtherType())
	assert.Equal(t, uint16(291), down.WithEtherType(0x8100).DVIF())
	_, err = vntag.Upstream(vntag.MaxSVIF + 1)
	require.ErrorIs(t, err, vntag.ErrRange)
	_, err = vntag.Downstream(vntag.MaxDVIF + 1)
	require.ErrorIs(t, err, vntag.ErrRange)

	e, err := vntag.ETagForECID(213247)
	require.NoError(t, err)
	assert.Equal(t, vntag.ETagFields{ECIDBase: 0x0ff, ECIDExt: 0x34}, e.Fields())
	e, err = e.WithIngressECID(73925)
	require.NoError(t, err)
	assert.Equal(t, uint8(0x12), e.IngressECIDExt())
	assert.Equal(t, uint16(0x0c5), e.IngressECIDBase())
	e, err = e.WithGRP(2)
	require.NoError(t, err)
	assert.Equal(t, uint32(2<<20|213247), e.Channel())
	assert.Equal(t, uint32(213247), e.ECID())
	e = e.WithEtherType(0x0800)
	want := specETag[3].fields // E4 without its E-PCP and E-DEI
	want.PCP, want.DEI = 0, false
	assert.Equal(t, want, e.Fields())

	before := e
	got, err := e.WithECID(vntag.MaxECID + 1)
	require.ErrorIs(t, err, vntag.ErrRange)
	assert.Equal(t, before, got, "a rejected change returns the tag unchanged")
	_, err = e.WithIngressECID(1 << 24)
	require.ErrorIs(t, err, vntag.ErrRange)
	_, err = e.WithGRP(4)
	require.ErrorIs(t, err, vntag.ErrRange)
	_, err = vntag.ETagForECID(vntag.MaxECID + 1)
	require.ErrorIs(t, err, vntag.ErrRange)
}

func TestSplitDVIF(t *testing.T) {
	ports, dst := vntag.SplitDVIF(0x3123)
	assert.Equal(t, uint8(3), ports)
	assert.Equal(t, uint16(0x123), dst)
}

func TestStrings(t *testing.T) {
	assert.Equal(t, "VNTag{dir=1 ptr=1 dst=66 looped=1 r=0 version=0 src=5 etype=0x0800}", mustTag(t, specVNTag[3].fields).String())
	assert.Equal(t, "E-Tag{pcp=3 dei=1 iecid_base=197 resv=0 group=2 ecid_base=255 iecid_ext=18 ecid_ext=52 etype=0x0800}",
		mustETag(t, specETag[3].fields).String())
	assert.Equal(t, "From Bridge", vntag.FromBridge.String())
	assert.Equal(t, "To Bridge", vntag.ToBridge.String())
	assert.Equal(t, "802.1ad", vntag.KindDot1AD.String())
}
