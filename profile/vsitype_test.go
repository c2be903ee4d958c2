package profile_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/profile"
)

// "vdp vsi-type ID version V" maps a VDP VSI type to the profile; it
// prints back as written, is not inherited, and can be removed.
func TestVSITypeMapping(t *testing.T) {
	src := "port-profile type vethernet base\n  vdp vsi-type 7 version 2\n" +
		"port-profile type vethernet web\n  inherit port-profile base\n  switchport access vlan 10\n  vdp vsi-type 5 version 1\n  state enabled\n"
	cfg, err := profile.Parse(src)
	require.NoError(t, err)
	name, ok := cfg.ProfileForVSIType(profile.VSIType{ID: 5, Version: 1})
	assert.True(t, ok)
	assert.Equal(t, "web", name)
	_, ok = cfg.ProfileForVSIType(profile.VSIType{ID: 5, Version: 2})
	assert.False(t, ok, "the version must match")
	name, _ = cfg.ProfileForVSIType(profile.VSIType{ID: 7, Version: 2})
	assert.Equal(t, "base", name, "not inherited: web keeps its own")

	text := cfg.Text()
	assert.Contains(t, text, "port-profile type vethernet web\n  inherit port-profile base\n  switchport access vlan 10\n  vdp vsi-type 5 version 1\n  state enabled\n")
	again, err := profile.Parse(text)
	require.NoError(t, err)
	assert.True(t, cfg.Equal(again), "print → parse is the identity")

	// Set again on the same profile: replaced, not a duplicate.
	require.NoError(t, cfg.Apply("port-profile web\n  vdp vsi-type 5 version 3\n"))
	_, ok = cfg.ProfileForVSIType(profile.VSIType{ID: 5, Version: 1})
	assert.False(t, ok)
	require.NoError(t, cfg.Apply("port-profile web\n  no vdp vsi-type\nport-profile base\n  no vdp vsi-type 7 version 2\n"))
	_, ok = cfg.ProfileForVSIType(profile.VSIType{ID: 7, Version: 2})
	assert.False(t, ok)
	assert.NotContains(t, cfg.Text(), "vdp")
}
