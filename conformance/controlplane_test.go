package conformance_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/conformance"
	"github.com/nivkit/niv/conformance/cores"
)

// TestControlPlaneSetup checks the control-plane statements (vic, vdp)
// and their errors.
func TestControlPlaneSetup(t *testing.T) {
	s, err := conformance.ParseSetup(vicSetup)
	require.NoError(t, err)
	require.NotNil(t, s.Control)
	assert.Equal(t, uint64(0x99aabbccddeeff00), s.Control.Session)
	assert.Equal(t, [6]byte{2, 0, 0, 0, 0, 0xf0}, s.Control.MAC)
	s, err = conformance.ParseSetup(vdpSetup)
	require.NoError(t, err)
	require.NotNil(t, s.VDP)
	assert.Equal(t, [6]byte{2, 0, 0, 0, 0, 0xf0}, s.VDP.MAC)
	assert.Nil(t, s.Control)
	for _, bad := range []string{
		"device vis\nport iv1 iv vntag\ncontrol-plane vic session 0 mac 02:00:00:00:00:f0\n",
		"device vis\nport iv1 iv vntag\ncontrol-plane vic session 7 mac nope\n",
		"device vis\nport iv1 iv vntag\ncontrol-plane vdp session 7 mac 02:00:00:00:00:f0\n",
		"device vis\nport iv1 iv vntag\ncontrol-plane vic session 7\n",
		"device vis\nport iv1 iv vntag\ncontrol-plane vic session 7 mac 02:00:00:00:00:f0\ncontrol-plane vic session 8 mac 02:00:00:00:00:f0\n",
		"device iv\nport fab-a uplink a vntag\ncontrol-plane vic session 7 mac 02:00:00:00:00:f0\n",
		"device vis\nport evb1 evb\ncontrol-plane vdp\n",
		"device vis\nport evb1 evb\ncontrol-plane vdp mac nope\n",
		"device vis\nport evb1 evb\ncontrol-plane vdp mac 01:00:00:00:00:f0\n",
		"device vis\nport evb1 evb\ncontrol-plane vdp session 7 mac 02:00:00:00:00:f0\n",
		"device vis\nport evb1 evb\ncontrol-plane vdp mac 02:00:00:00:00:f0\ncontrol-plane vdp mac 02:00:00:00:00:f1\n",
		"device vis\nport iv1 iv vntag\ncontrol-plane vdp mac 02:00:00:00:00:f0\n",
		"device iv\nport fab-a uplink a vntag\ncontrol-plane vdp mac 02:00:00:00:00:f0\n",
	} {
		_, err := conformance.ParseSetup(bad)
		assert.ErrorIs(t, err, conformance.ErrSetup, "%q", bad)
	}
}

// TestControlPlaneNeeded runs the cases of each control plane on a device
// without it: the vic cases' ECP frames reach the bare VIS core, which
// drops them as untagged; the VDP cases' reach the evb ports' core, which
// drops them as link-local, so nothing is associated. Every case fails
// with a diff naming the port of the missing frames.
func TestControlPlaneNeeded(t *testing.T) {
	lib := &cores.Target{}
	defer lib.Close()
	r := conformance.Runner{Target: lib}
	for _, pl := range []struct {
		name  string
		has   func(*conformance.Setup) bool
		strip func(*conformance.Setup)
		port  string
		cases int
	}{
		{"vic", func(s *conformance.Setup) bool { return s.Control != nil }, func(s *conformance.Setup) { s.Control = nil }, "iv1", 7},
		{"vdp", func(s *conformance.Setup) bool { return s.VDP != nil }, func(s *conformance.Setup) { s.VDP = nil }, "evb1", 8},
	} {
		t.Run(pl.name, func(t *testing.T) {
			n := 0
			for _, c := range loadAll(t) {
				if !pl.has(c.Setup) {
					continue
				}
				n++
				require.True(t, r.Run(c).Pass, c.Name)
				pl.strip(c.Setup)
				res := r.Run(c)
				require.NoError(t, res.Err)
				assert.False(t, res.Pass, "%s passes without the control plane", c.Name)
				if assert.NotNil(t, res.Diff, c.Name) {
					assert.Contains(t, res.Diff.String(), pl.port, c.Name)
				}
			}
			assert.Equal(t, pl.cases, n)
		})
	}
}
