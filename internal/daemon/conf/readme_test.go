package conf_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/internal/daemon/conf"
	"github.com/nivkit/niv/profile"
)

// The configuration files the README tells users to copy parse.
func TestREADMEConfigs(t *testing.T) {
	b, err := os.ReadFile("../../../README.md")
	require.NoError(t, err)
	files := regexp.MustCompile("(?s)```\n(hostname .*?)```").FindAllStringSubmatch(string(b), -1)
	require.Len(t, files, 2, "the README shows a VIS file and an IV file")
	vis, err := conf.ParseVIS(files[0][1])
	require.NoError(t, err)
	require.Len(t, vis.Ports, 4)
	evb, ok := vis.Port("ethernet1/5")
	require.True(t, ok, "the README's VIS has an evb port")
	require.Equal(t, conf.KindEVB, evb.Kind)
	require.Equal(t, conf.ControlVDP, evb.Control)
	require.EqualValues(t, 10, evb.PVID)
	name, ok := vis.Profiles.ProfileForVSIType(profile.VSIType{ID: 5, Version: 1})
	require.True(t, ok)
	require.Equal(t, "web", name, "VSI type 5 version 1 maps to port-profile web")
	iv, err := conf.ParseIV(files[1][1])
	require.NoError(t, err)
	require.Len(t, iv.Uplinks, 2)
	require.Len(t, iv.VNICs, 1)
}
