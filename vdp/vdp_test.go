package vdp_test

import (
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vdp"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	require.NoError(t, err)
	return b
}

func mgr(s string) string { // Manager ID TLV of an ASCII name
	m := vdp.ManagerIDFromString(s)
	return "0a10" + hex.EncodeToString(m[:])
}

var uuidL1 = vdp.VSIID{0xa1, 0x41, 0x28, 0x57, 0x60, 0xf7, 0x4c, 0xe1, 0xe9, 0x5a, 0x21, 0x64, 0x94, 0x3f, 0x53, 0xaa}

// specPDUs are the VDPDUs of vdp-ecp.md §8 (the bytes after the 4-byte
// ECP header) with what they mean. L* are lldpad's own frames, S* were
// built by the spec's authors and decoded by tshark 4.0.17.
var specPDUs = []struct {
	name string
	hex  string
	want vdp.PDU
}{
	{"L1 station Associate request", mgr("blabla") +
		"0621 00 000005 04 05 a141285760f74ce1e95a2164943f53aa 02 0001 525400 8eaa11 0064",
		vdp.PDU{ManagerID: vdp.ManagerIDFromString("blabla"), VSIs: []vdp.VSI{{
			Mode: vdp.TypeAssociate, TypeID: 5, TypeVersion: 4, IDFormat: vdp.VSIIDUUID, ID: uuidL1,
			FilterFormat: vdp.FilterMACVID, Filters: []vdp.Filter{{MAC: [6]byte{0x52, 0x54, 0, 0x8e, 0xaa, 0x11}, VID: 100}}}}}},
	{"L3 bridge Associate response", mgr("blabla") +
		"0621 40 000005 04 05 a141285760f74ce1e95a2164943f53aa 02 0001 525400 8eaa11 0064",
		vdp.PDU{ManagerID: vdp.ManagerIDFromString("blabla"), VSIs: []vdp.VSI{{
			Mode: vdp.TypeAssociate, Status: vdp.StatusResponse, TypeID: 5, TypeVersion: 4, IDFormat: vdp.VSIIDUUID, ID: uuidL1,
			FilterFormat: vdp.FilterMACVID, Filters: []vdp.Filter{{MAC: [6]byte{0x52, 0x54, 0, 0x8e, 0xaa, 0x11}, VID: 100}}}}}},
	{"L4 Pre-Associate VID filter with PS/PCP", mgr("mgr1") +
		"021b 00 123456 07 05 b5b5a2c60d554f3e9a5f0123456789ab 01 0001 b064",
		vdp.PDU{ManagerID: vdp.ManagerIDFromString("mgr1"), VSIs: []vdp.VSI{{
			Mode: vdp.TypePreAssociate, TypeID: 0x123456, TypeVersion: 7, IDFormat: vdp.VSIIDUUID,
			ID:           vdp.VSIID{0xb5, 0xb5, 0xa2, 0xc6, 0x0d, 0x55, 0x4f, 0x3e, 0x9a, 0x5f, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab},
			FilterFormat: vdp.FilterVID, Filters: []vdp.Filter{{PS: true, PCP: 3, VID: 100}}}}}},
	{"L5 Associate with the M hint", mgr("blabla") +
		"061b 10 00004d 01 05 c0ffee00111122223333444455556666 01 0001 00c8",
		vdp.PDU{ManagerID: vdp.ManagerIDFromString("blabla"), VSIs: []vdp.VSI{{
			Mode: vdp.TypeAssociate, Status: vdp.StatusMigrateTo, TypeID: 77, TypeVersion: 1, IDFormat: vdp.VSIIDUUID,
			ID:           vdp.VSIID{0xc0, 0xff, 0xee, 0x00, 0x11, 0x11, 0x22, 0x22, 0x33, 0x33, 0x44, 0x44, 0x55, 0x55, 0x66, 0x66},
			FilterFormat: vdp.FilterVID, Filters: []vdp.Filter{{VID: 200}}}}}},
	{"L6 insufficient resources", mgr("blabla") +
		"0621 42 000005 04 05 a141285760f74ce1e95a2164943f53aa 02 0001 525400 8eaa11 0064",
		vdp.PDU{ManagerID: vdp.ManagerIDFromString("blabla"), VSIs: []vdp.VSI{{
			Mode: vdp.TypeAssociate, Status: vdp.ResponseStatus(vdp.CodeInsufficientResources, false, false), TypeID: 5, TypeVersion: 4,
			IDFormat: vdp.VSIIDUUID, ID: uuidL1,
			FilterFormat: vdp.FilterMACVID, Filters: []vdp.Filter{{MAC: [6]byte{0x52, 0x54, 0, 0x8e, 0xaa, 0x11}, VID: 100}}}}}},
	{"S1 GroupID/MAC/VID with VID wildcard", mgr("gotest") +
		"0625 00 010203 01 05 0f0e0d0c0b0a09080706050403020100 04 0001 00001000 525400010203 0000",
		vdp.PDU{ManagerID: vdp.ManagerIDFromString("gotest"), VSIs: []vdp.VSI{{
			Mode: vdp.TypeAssociate, TypeID: 0x010203, TypeVersion: 1, IDFormat: vdp.VSIIDUUID,
			ID:           vdp.VSIID{15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
			FilterFormat: vdp.FilterGroupMACVID, Filters: []vdp.Filter{{GroupID: 4096, MAC: [6]byte{0x52, 0x54, 0, 1, 2, 3}}}}}}},
	{"S2 its response with VID 200 PCP 3", mgr("gotest") +
		"0625 40 010203 01 05 0f0e0d0c0b0a09080706050403020100 04 0001 00001000 525400010203 30c8",
		vdp.PDU{ManagerID: vdp.ManagerIDFromString("gotest"), VSIs: []vdp.VSI{{
			Mode: vdp.TypeAssociate, Status: vdp.StatusResponse, TypeID: 0x010203, TypeVersion: 1, IDFormat: vdp.VSIIDUUID,
			ID:           vdp.VSIID{15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
			FilterFormat: vdp.FilterGroupMACVID, Filters: []vdp.Filter{{GroupID: 4096, MAC: [6]byte{0x52, 0x54, 0, 1, 2, 3}, PCP: 3, VID: 200}}}}}},
	{"S3 Pre-Associate, M, IPv4 VSIID, GroupID/VID", mgr("gotest") +
		"021f 10 000042 02 01 00000000000000000000ffffc0000207 03 0001 00001000 8064",
		vdp.PDU{ManagerID: vdp.ManagerIDFromString("gotest"), VSIs: []vdp.VSI{{
			Mode: vdp.TypePreAssociate, Status: vdp.StatusMigrateTo, TypeID: 0x42, TypeVersion: 2, IDFormat: vdp.VSIIDIPv4,
			ID:           vdp.VSIID{10: 0xff, 11: 0xff, 12: 192, 13: 0, 14: 2, 15: 7},
			FilterFormat: vdp.FilterGroupVID, Filters: []vdp.Filter{{GroupID: 4096, PS: true, VID: 100}}}}}},
	{"S4 unsolicited De-Associate, MAC VSIID", mgr("gotest") +
		"081b 00 000042 02 03 00000000000000000000525400010203 01 0001 0064",
		vdp.PDU{ManagerID: vdp.ManagerIDFromString("gotest"), VSIs: []vdp.VSI{{
			Mode: vdp.TypeDeAssociate, TypeID: 0x42, TypeVersion: 2, IDFormat: vdp.VSIIDMAC,
			ID:           vdp.VSIIDFromMAC([6]byte{0x52, 0x54, 0, 1, 2, 3}),
			FilterFormat: vdp.FilterVID, Filters: []vdp.Filter{{VID: 100}}}}}},
	{"S5 Keep + Hard error + code 2", mgr("gotest") +
		"061b 72 000042 02 03 00000000000000000000525400010203 01 0001 0064",
		vdp.PDU{ManagerID: vdp.ManagerIDFromString("gotest"), VSIs: []vdp.VSI{{
			Mode: vdp.TypeAssociate, Status: vdp.ResponseStatus(vdp.CodeInsufficientResources, true, true), TypeID: 0x42, TypeVersion: 2,
			IDFormat: vdp.VSIIDMAC, ID: vdp.VSIIDFromMAC([6]byte{0x52, 0x54, 0, 1, 2, 3}),
			FilterFormat: vdp.FilterVID, Filters: []vdp.Filter{{VID: 100}}}}}},
}

// TestSpecExamples decodes each §8 VDPDU, compares every field, and
// re-encodes it to the same bytes; then decodes it again with Ethernet
// padding after it (lldpad pads requests to 60 bytes and sends no End
// TLV).
func TestSpecExamples(t *testing.T) {
	for _, tt := range specPDUs {
		t.Run(tt.name, func(t *testing.T) {
			b := unhex(t, tt.hex)
			var p vdp.PDU
			require.NoError(t, p.Decode(b))
			assert.Equal(t, tt.want.ManagerID, p.ManagerID)
			require.Len(t, p.VSIs, 1)
			w, g := tt.want.VSIs[0], p.VSIs[0]
			g.Org = nil
			assert.Equal(t, w, g)
			assert.NoError(t, p.VSIs[0].Check())
			assert.Equal(t, len(b), p.Len())
			out, err := p.AppendBinary(nil)
			require.NoError(t, err)
			assert.Equal(t, b, out, "re-encoded")
			out, err = tt.want.AppendBinary([]byte{0xEE})
			require.NoError(t, err)
			assert.Equal(t, b, out[1:], "encoded from the expected value, after the caller's byte")
			var q vdp.PDU
			require.NoError(t, q.Decode(append(append([]byte{}, b...), make([]byte, 17)...)), "padding")
			assert.Equal(t, p.VSIs[0].Filters, q.VSIs[0].Filters)
		})
	}
}

// TestStatusBits: the status bytes of §8 read as tshark shows them.
func TestStatusBits(t *testing.T) {
	tests := []struct {
		st                         vdp.Status
		resp, keep, hard, from, to bool
		code                       vdp.ErrorCode
	}{
		{0x00, false, false, false, false, false, 0},
		{0x40, true, false, false, false, false, 0},
		{0x10, false, false, true, false, true, 0},
		{0x20, false, true, false, true, false, 0},
		{0x42, true, false, false, false, false, vdp.CodeInsufficientResources},
		{0x72, true, true, true, true, true, vdp.CodeInsufficientResources},
		{0x45, true, false, false, false, false, vdp.CodeInvalidFilter},
	}
	for _, tt := range tests {
		s := tt.st
		assert.Equal(t, []bool{tt.resp, tt.keep, tt.hard, tt.from, tt.to, true},
			[]bool{s.Response(), s.Keep(), s.HardError(), s.MigrateFrom(), s.MigrateTo(), s.Code() == tt.code}, "status %#02x", s)
	}
	assert.Equal(t, vdp.Status(0x72), vdp.ResponseStatus(2, true, true))
	assert.Equal(t, "Insufficient resources at bridge", vdp.CodeInsufficientResources.String())
}

// TestVSIIDFormats: every VSIID format encodes and checks as lldpad's
// validity rules say.
func TestVSIIDFormats(t *testing.T) {
	id4, f4 := vdp.VSIIDFromAddr(netip.MustParseAddr("192.0.2.7"))
	assert.Equal(t, vdp.VSIIDIPv4, f4)
	assert.Equal(t, unhex(t, "00000000000000000000ffffc0000207"), id4[:])
	a, ok := id4.Addr(f4)
	assert.True(t, ok)
	assert.Equal(t, "192.0.2.7", a.String())
	id6, f6 := vdp.VSIIDFromAddr(netip.MustParseAddr("2001:db8::7"))
	assert.Equal(t, vdp.VSIIDIPv6, f6)
	a, _ = id6.Addr(f6)
	assert.Equal(t, "2001:db8::7", a.String())
	mac := vdp.VSIIDFromMAC([6]byte{0x52, 0x54, 0, 1, 2, 3})
	assert.Equal(t, [6]byte{0x52, 0x54, 0, 1, 2, 3}, mac.MAC())

	tests := []struct {
		name string
		f    vdp.VSIIDFormat
		id   vdp.VSIID
		err  error
	}{
		{"IPv4", vdp.VSIIDIPv4, id4, nil},
		{"IPv4 0.0.0.0", vdp.VSIIDIPv4, vdp.VSIID{10: 0xff, 11: 0xff}, vdp.ErrVSIID},
		{"IPv4 not mapped", vdp.VSIIDIPv4, id6, vdp.ErrVSIID},
		{"IPv6", vdp.VSIIDIPv6, id6, nil},
		{"IPv6 zero", vdp.VSIIDIPv6, vdp.VSIID{}, vdp.ErrVSIID},
		{"MAC", vdp.VSIIDMAC, mac, nil},
		{"MAC group", vdp.VSIIDMAC, vdp.VSIIDFromMAC([6]byte{1, 0, 0x5e, 0, 0, 1}), vdp.ErrVSIID},
		{"MAC zero", vdp.VSIIDMAC, vdp.VSIID{}, vdp.ErrVSIID},
		{"MAC junk in front", vdp.VSIIDMAC, vdp.VSIID{0: 1, 15: 2}, vdp.ErrVSIID},
		{"local anything", vdp.VSIIDLocal, vdp.VSIID{}, nil},
		{"UUID", vdp.VSIIDUUID, uuidL1, nil},
		{"UUID zero", vdp.VSIIDUUID, vdp.VSIID{}, vdp.ErrVSIID},
		{"format 6", 6, uuidL1, vdp.ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.id.Check(tt.f)
			if tt.err == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tt.err)
			}
		})
	}
}

// TestFilterFormatsSeveralEntries: each filter format with three
// entries, PS/PCP bits and a wildcard, round trips and has the length
// 25 + 3 × entry size.
func TestFilterFormatsSeveralEntries(t *testing.T) {
	entries := []vdp.Filter{
		{GroupID: 1, MAC: [6]byte{2, 0, 0, 0, 0, 1}, VID: 100},
		{GroupID: 0xdeadbeef, MAC: [6]byte{2, 0, 0, 0, 0, 2}, PS: true, PCP: 7, VID: 4094},
		{GroupID: 3, MAC: [6]byte{2, 0, 0, 0, 0, 3}, PCP: 5, VID: 0},
	}
	for _, ff := range []vdp.FilterFormat{vdp.FilterVID, vdp.FilterMACVID, vdp.FilterGroupVID, vdp.FilterGroupMACVID} {
		t.Run(ff.String(), func(t *testing.T) {
			v := vdp.VSI{Mode: vdp.TypeAssociate, TypeID: 0xabcdef, TypeVersion: 9, IDFormat: vdp.VSIIDUUID, ID: uuidL1, FilterFormat: ff}
			for _, e := range entries {
				if !ff.HasGroup() {
					e.GroupID = 0
				}
				if !ff.HasMAC() {
					e.MAC = [6]byte{}
				}
				v.Filters = append(v.Filters, e)
			}
			p := vdp.PDU{ManagerID: vdp.ManagerIDFromString("x"), VSIs: []vdp.VSI{v}}
			b, err := p.AppendBinary(nil)
			require.NoError(t, err)
			n := 25 + 3*ff.EntryLen()
			assert.Equal(t, 18+2+n, len(b))
			assert.Equal(t, []byte{3<<1 | byte(n>>8), byte(n)}, b[18:20], "TLV header type 3, length %d", n)
			var q vdp.PDU
			require.NoError(t, q.Decode(b))
			q.VSIs[0].Org = nil
			assert.Equal(t, v, q.VSIs[0])
			// lldpad: a wildcard is allowed in a VID-format TLV only alone.
			if ff == vdp.FilterVID {
				assert.ErrorIs(t, q.VSIs[0].Check(), vdp.ErrFilter)
			} else {
				assert.NoError(t, q.VSIs[0].Check())
			}
		})
	}
	// The last entry's word: PS 0, PCP 5, VID 0.
	assert.Equal(t, uint16(0x5000), entries[2].Word())
	var f vdp.Filter
	f.SetWord(0xb064)
	assert.Equal(t, vdp.Filter{PS: true, PCP: 3, VID: 100}, f)
}

// TestDecodeErrors: malformed VDPDUs get the sentinel the doc names, with
// the offset of the bad TLV.
func TestDecodeErrors(t *testing.T) {
	vsi := "0621 00 000005 04 05 a141285760f74ce1e95a2164943f53aa 02 0001 525400 8eaa11 0064"
	tests := []struct {
		name string
		hex  string
		err  error
		off  int
	}{
		{"empty", "", vdp.ErrOrder, 0},
		{"VSI first", vsi, vdp.ErrOrder, 0},
		{"two Manager IDs", mgr("a") + mgr("b") + vsi, vdp.ErrOrder, 18},
		{"Manager ID short", "0a0f 000102030405060708090a0b0c0d0e", vdp.ErrLength, 0},
		{"Manager ID overruns", "0a10 0001", vdp.ErrShortBuffer, 0},
		{"VSI length 34 for one MAC/VID", mgr("a") + "0622 00 000005 04 05 a141285760f74ce1e95a2164943f53aa 02 0001 525400 8eaa11 0064 00", vdp.ErrLength, 18},
		{"VSI count 2, one entry", mgr("a") + "0621 00 000005 04 05 a141285760f74ce1e95a2164943f53aa 02 0002 525400 8eaa11 0064", vdp.ErrLength, 18},
		{"VSI no entries", mgr("a") + "0619 00 000005 04 05 a141285760f74ce1e95a2164943f53aa 02 0000", vdp.ErrNoFilters, 18},
		{"filter format 5", mgr("a") + "061b 00 000005 04 05 a141285760f74ce1e95a2164943f53aa 05 0001 0064", vdp.ErrFormat, 18},
		{"VSIID format 0", mgr("a") + "061b 00 000005 04 00 a141285760f74ce1e95a2164943f53aa 01 0001 0064", vdp.ErrFormat, 18},
		{"VSI shorter than fixed part", mgr("a") + "0603 00 0000", vdp.ErrLength, 18},
		{"org shorter than OUI", mgr("a") + vsi + "fe02 0080", vdp.ErrLength, 53},
		{"odd byte left", mgr("a") + vsi + "07", vdp.ErrShortBuffer, 18},
		// openlldp qbg22 ecp22/2,3 carry 4 filler bytes as the ULPDU
		// (VECTORS.md §6a); tshark reports them as a malformed VDP.
		{"openlldp filler 0a0b0c0d", "0a0b0c0d", vdp.ErrShortBuffer, 0},
		{"openlldp filler aabbccdd", "aabbccdd0000", vdp.ErrShortBuffer, 0},
		{"openlldp filler 00112233", "001122330000", vdp.ErrOrder, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p vdp.PDU
			err := p.Decode(unhex(t, tt.hex))
			require.ErrorIs(t, err, tt.err)
			var de *vdp.DecodeError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, tt.off, de.Offset)
		})
	}
}

// TestUnknownAndOrgTLVs: unknown TLV types are skipped and counted;
// organizationally defined TLVs after a VSI TLV stay with it and are
// written back byte for byte; niv's port-profile TLV carries its name.
func TestUnknownAndOrgTLVs(t *testing.T) {
	prof, err := vdp.ProfileOrg("web-tier")
	require.NoError(t, err)
	cisco := "fe0a 00000c f1 05 0102030405"                   // Cisco OUI, subtype 0xF1 (lldpad's vdp_cisco.h), 6 bytes kept as they are
	b := unhex(t, mgr("blabla")+"fe04 112233 99"+"1c02 abcd"+ // org before the VSI; type 14, unknown
		"0621 00 000005 04 05 a141285760f74ce1e95a2164943f53aa 02 0001 525400 8eaa11 0064"+cisco+
		"fe0c 0a6e76 01 7765622d74696572") // niv profile "web-tier"
	var p vdp.PDU
	require.NoError(t, p.Decode(b))
	assert.Equal(t, 1, p.Skipped)
	require.Len(t, p.Org, 1)
	assert.Equal(t, [3]byte{0x11, 0x22, 0x33}, p.Org[0].OUI)
	require.Len(t, p.VSIs, 1)
	require.Len(t, p.VSIs[0].Org, 2)
	assert.Equal(t, [3]byte{0, 0, 0x0c}, p.VSIs[0].Org[0].OUI)
	assert.Equal(t, prof, p.VSIs[0].Org[1])
	name, ok := p.VSIs[0].Profile()
	require.True(t, ok)
	assert.Equal(t, "web-tier", string(name))
	p.Response(0)
	out, err := p.AppendBinary(nil)
	require.NoError(t, err)
	want := append([]byte{}, b...)
	want = append(want[:24], want[28:]...) // the unknown TLV is not re-sent
	want[24+2] = 0x40                      // the status byte of the VSI TLV
	assert.Equal(t, want, out)

	for _, bad := range []string{"", strings.Repeat("x", 40), "a\x00b"} {
		_, err := vdp.ProfileOrg(bad)
		assert.ErrorIs(t, err, vdp.ErrRange, "%q", bad)
	}
	_, err = vdp.ProfileOrg(strings.Repeat("x", 39))
	assert.NoError(t, err)
	_, ok = vdp.Org{OUI: vdp.NivOUI, Data: []byte{2, 'a'}}.Profile()
	assert.False(t, ok, "another subtype")
}

// TestDecoderGetters: the iterator's getters refuse a TLV of another type
// and stop the walk.
func TestDecoderGetters(t *testing.T) {
	b := unhex(t, mgr("a")+"0621 00 000005 04 05 a141285760f74ce1e95a2164943f53aa 02 0001 525400 8eaa11 0064")
	d := vdp.NewDecoder(b)
	require.True(t, d.Next())
	assert.Equal(t, vdp.TypeManagerID, d.Type())
	assert.Equal(t, vdp.ManagerIDFromString("a"), d.ManagerID())
	require.True(t, d.Next())
	assert.Equal(t, vdp.TypeAssociate, d.Type())
	assert.Equal(t, 18, d.Offset())
	assert.Len(t, d.Bytes(), 33)
	_ = d.ManagerID()
	assert.ErrorIs(t, d.Err(), vdp.ErrType)
	assert.False(t, d.Next())
}

// TestEncodeErrors: values the wire cannot carry.
func TestEncodeErrors(t *testing.T) {
	ok := vdp.VSI{Mode: vdp.TypeAssociate, IDFormat: vdp.VSIIDUUID, ID: uuidL1, FilterFormat: vdp.FilterVID, Filters: []vdp.Filter{{VID: 5}}}
	tests := []struct {
		name string
		mod  func(v *vdp.VSI)
		err  error
	}{
		{"type id", func(v *vdp.VSI) { v.TypeID = 1 << 24 }, vdp.ErrRange},
		{"pcp", func(v *vdp.VSI) { v.Filters[0].PCP = 8 }, vdp.ErrRange},
		{"vid", func(v *vdp.VSI) { v.Filters[0].VID = 4096 }, vdp.ErrRange},
		{"format", func(v *vdp.VSI) { v.FilterFormat = 9 }, vdp.ErrFormat},
		{"mode", func(v *vdp.VSI) { v.Mode = vdp.TypeManagerID }, vdp.ErrType},
		{"too long", func(v *vdp.VSI) { v.Filters = make([]vdp.Filter, 250) }, vdp.ErrRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := ok
			v.Filters = append([]vdp.Filter{}, ok.Filters...)
			tt.mod(&v)
			p := vdp.PDU{VSIs: []vdp.VSI{v}}
			out, err := p.AppendBinary([]byte{1, 2})
			assert.ErrorIs(t, err, tt.err)
			assert.Equal(t, []byte{1, 2}, out, "the caller's bytes are returned as they were")
		})
	}
}

// TestSame: lldpad's rule for matching a response to its request.
func TestSame(t *testing.T) {
	req := vdp.VSI{Mode: vdp.TypeAssociate, TypeID: 5, IDFormat: vdp.VSIIDUUID, ID: uuidL1, FilterFormat: vdp.FilterMACVID,
		Filters: []vdp.Filter{{MAC: [6]byte{2, 0, 0, 0, 0, 1}}}}
	resp := req
	resp.Filters = []vdp.Filter{{MAC: [6]byte{2, 0, 0, 0, 0, 1}, VID: 200, PCP: 3}}
	assert.True(t, req.Same(&resp), "wildcard takes the bridge's VID")
	req.Filters = []vdp.Filter{{MAC: [6]byte{2, 0, 0, 0, 0, 1}, VID: 100}}
	assert.False(t, req.Same(&resp))
	resp.Filters = []vdp.Filter{{MAC: [6]byte{2, 0, 0, 0, 0, 1}, VID: 100, PCP: 3}}
	assert.True(t, req.Same(&resp), "PS clear: only the VID counts")
	req.Filters[0].PS = true
	assert.False(t, req.Same(&resp), "PS set: the whole word counts")
}

// TestDecodeNoAllocs: decoding into a PDU whose slices have grown does not
// allocate, with or without org TLVs, and neither does encoding into a
// buffer with room.
func TestDecodeNoAllocs(t *testing.T) {
	b := unhex(t, mgr("blabla")+"0621 00 000005 04 05 a141285760f74ce1e95a2164943f53aa 02 0001 525400 8eaa11 0064"+
		"fe0c 0a6e76 01 7765622d74696572")
	var p vdp.PDU
	require.NoError(t, p.Decode(b))
	buf := make([]byte, 0, 256)
	assert.Zero(t, testing.AllocsPerRun(1000, func() {
		if p.Decode(b) != nil {
			t.Fatal("decode")
		}
	}))
	assert.Zero(t, testing.AllocsPerRun(1000, func() {
		buf, _ = p.AppendBinary(buf[:0])
	}))
	bad := b[:30]
	assert.Zero(t, testing.AllocsPerRun(1000, func() {
		d := vdp.NewDecoder(bad)
		for d.Next() {
		}
		if d.Err() == nil {
			t.Fatal("no error")
		}
	}), "the Decoder's errors are bare sentinels")
}
