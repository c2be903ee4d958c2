package conf_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/internal/daemon/conf"
)

// The configuration files the README tells users to copy parse.
func TestREADMEConfigs(t *testing.T) {
	b, err := os.ReadFile("../../../README.md")
	require.NoError(t, err)
	files := regexp.MustCompile("(?s)```\n(hostname .*?)```").FindAllStringSubmatch(string(b), -1)
	require.Len(t, files, 2, "the README shows a VIS file and an IV file")
	vis, err := conf.ParseVIS(files[0][1])
	require.NoError(t, err)
	require.Len(t, vis.Ports, 3)
	iv, err := conf.ParseIV(files[1][1])
	require.NoError(t, err)
	require.Len(t, iv.Uplinks, 2)
	require.Len(t, iv.VNICs, 1)
}
