package registry_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nivkit/niv/vdp"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/registry"
)

// TestVSIInstance: a UUID-format VSIID is its own key; the other formats
// get RFC 9562 version-5 UUIDs of (format, VSIID) in niv's name space —
// the expected values computed with Python's uuid and hashlib
// (uuid.UUID(bytes=sha1(ns.bytes + bytes([f]) + id).digest()[:16],
// version=5)), the name space being uuid5(NAMESPACE_URL, "niv.vdp.vsiid").
func TestVSIInstance(t *testing.T) {
	u := vdp.VSIID{0xa1, 0x41, 0x28, 0x57, 0x60, 0xf7, 0x4c, 0xe1, 0xe9, 0x5a, 0x21, 0x64, 0x94, 0x3f, 0x53, 0x01}
	assert.Equal(t, vic.UUID(u), registry.VSIInstance(vdp.VSIIDUUID, u))
	mac := vdp.VSIID{10: 0x52, 0x54, 0, 0x12, 0x34, 0x56}
	ip := vdp.VSIID{12: 10, 0, 0, 7}
	for _, tc := range []struct {
		f    vdp.VSIIDFormat
		id   vdp.VSIID
		want string
	}{
		{vdp.VSIIDMAC, mac, "9af86ca2-d009-5743-b4bf-56bc4e3d31d0"},
		{vdp.VSIIDLocal, mac, "767b74de-b83f-511e-9019-153b7a2b1c02"},
		{vdp.VSIIDIPv4, ip, "d4517124-2320-503a-82d5-baf8f8216d7a"},
	} {
		got := registry.VSIInstance(tc.f, tc.id)
		assert.Equal(t, tc.want, got.String(), "format %d", tc.f)
		assert.Equal(t, got, registry.VSIInstance(tc.f, tc.id), "deterministic")
	}
}
