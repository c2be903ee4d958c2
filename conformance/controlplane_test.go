package conformance_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/conformance"
	"github.com/nivkit/niv/conformance/cores"
)

// TestControlPlaneSetup checks the control-plane statement and its errors.
func TestControlPlaneSetup(t *testing.T) {
	s, err := conformance.ParseSetup(vicSetup)
	require.NoError(t, err)
	require.NotNil(t, s.Control)
	assert.Equal(t, uint64(0x99aabbccddeeff00), s.Control.Session)
	assert.Equal(t, [6]byte{2, 0, 0, 0, 0, 0xf0}, s.Control.MAC)
	for _, bad := range []string{
		"device vis\nport iv1 iv vntag\ncontrol-plane vic session 0 mac 02:00:00:00:00:f0\n",
		"device vis\nport iv1 iv vntag\ncontrol-plane vic session 7 mac nope\n",
		"device vis\nport iv1 iv vntag\ncontrol-plane vdp session 7 mac 02:00:00:00:00:f0\n",
		"device vis\nport iv1 iv vntag\ncontrol-plane vic session 7\n",
		"device vis\nport iv1 iv vntag\ncontrol-plane vic session 7 mac 02:00:00:00:00:f0\ncontrol-plane vic session 8 mac 02:00:00:00:00:f0\n",
		"device iv\nport fab-a uplink a vntag\ncontrol-plane vic session 7 mac 02:00:00:00:00:f0\n",
	} {
		_, err := conformance.ParseSetup(bad)
		assert.ErrorIs(t, err, conformance.ErrSetup, "%q", bad)
	}
}

// TestControlPlaneNeeded runs the vic cases on a device without the
// control plane: the ECP frames reach the bare VIS core, which drops them
// as untagged, and every case fails with a diff naming the missing frame.
func TestControlPlaneNeeded(t *testing.T) {
	lib := &cores.Target{}
	defer lib.Close()
	r := conformance.Runner{Target: lib}
	n := 0
	for _, c := range loadAll(t) {
		if c.Setup.Control == nil {
			continue
		}
		n++
		require.True(t, r.Run(c).Pass, c.Name)
		c.Setup.Control = nil
		res := r.Run(c)
		require.NoError(t, res.Err)
		assert.False(t, res.Pass, "%s passes without the control plane", c.Name)
		if assert.NotNil(t, res.Diff, c.Name) {
			assert.Contains(t, res.Diff.String(), "iv1", c.Name)
		}
	}
	assert.Equal(t, 7, n)
}
