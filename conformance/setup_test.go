package conformance_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/conformance"
	"github.com/nivkit/niv/conformance/cores"
	"github.com/nivkit/niv/vntag"
)

func TestParseSetupErrors(t *testing.T) {
	for _, tc := range []struct{ name, text, msg string }{
		{"no device", "port a uplink\n", "no device line"},
		{"unknown", "device vis\nbridge a\n", "unknown statement"},
		{"bad device", "device switch\n", "device vis|iv"},
		{"twice", "device vis\ndevice iv\n", "device given twice"},
		{"no ports", "device vis\n", "no ports"},
		{"bad mode", "device vis\nport a iv qinq\n", "want vntag or etag"},
		{"dup port", "device vis\nport a uplink\nport a uplink\n", "defined twice"},
		{"veth on uplink", "device vis\nport a uplink\nveth 1 port a vif 5 profile p\n", "not an IV port"},
		{"vif range", "device vis\nport a iv vntag\nveth 1 port a vif 0 profile p\n", "bad vEth id or VIF"},
		{"vnic on vis", "device vis\nport a vnic vif 5\n", "a VIS has no vNICs"},
		{"iv without uplink", "device iv\nport a vnic vif 5\n", "needs an uplink"},
		{"iv modes", "device iv\nport a uplink a vntag\nport b uplink b etag\n", "disagree"},
		{"list port", "device vis\nport a iv vntag\nvif-list 1 vifs 5\n", "needs the IV port"},
		{"list grp", "device iv\nport a uplink a etag\nvif-list 4:5 vifs 5\n", "1-3"},
		{"step order", "device vis\nport a uplink\nafter 2 advance 1s\nafter 1 advance 1s\n", "frame order"},
		{"step veth", "device vis\nport a uplink\nafter 1 shutdown veth 3\n", "no such vEth"},
		{"step kind", "device vis\nport a uplink\nafter 1 reboot\n", "unknown step"},
		{"advance", "device vis\nport a uplink\nafter 1 advance -1s\n", "positive"},
		{"aging", "device vis\nport a uplink\naging-time soon\n", "bad duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := conformance.ParseSetup(tc.text)
			require.ErrorIs(t, err, conformance.ErrSetup)
			var se *conformance.SetupError
			require.True(t, errors.As(err, &se))
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestParseSetup(t *testing.T) {
	s, err := conformance.ParseSetup(`
device iv                      # an IV
port fab-a uplink a etag
port vm1 vnic vif 197
vif-list 1:77 vifs 197 198
after 0 uplink fab-a down
after 1 advance 1m
`)
	require.NoError(t, err)
	assert.Equal(t, conformance.DeviceIV, s.Device)
	require.Len(t, s.Ports, 2)
	assert.Equal(t, vntag.ModeETag, s.Ports[0].Mode)
	assert.Equal(t, uint32(1<<20|77), s.Lists[0].ID)
	require.Len(t, s.Steps, 2)
	assert.Equal(t, conformance.StepUplinkDown, s.Steps[0].Kind)
	assert.Equal(t, time.Minute, s.Steps[1].Duration)
	st, err := conformance.ParseStep("after 3 no shutdown veth 2")
	require.NoError(t, err)
	assert.Equal(t, conformance.StepNoShutdown, st.Kind)
	_, err = conformance.ParseStep("before 3 advance 1s")
	require.ErrorIs(t, err, conformance.ErrSetup)
}

// TestLoadErrors checks that a broken case folder is a typed error, never
// a panic.
func TestLoadErrors(t *testing.T) {
	base := filepath.Join("testdata", "vis-vntag-hairpin")
	breakIt := func(t *testing.T, file string, data []byte) error {
		dir := filepath.Join(t.TempDir(), "c")
		require.NoError(t, os.CopyFS(dir, os.DirFS(base)))
		if data == nil {
			require.NoError(t, os.Remove(filepath.Join(dir, file)))
		} else {
			require.NoError(t, os.WriteFile(filepath.Join(dir, file), data, 0o644))
		}
		_, err := conformance.Load(dir)
		return err
	}
	for _, f := range []string{"README.md", "setup.txt", "in.pcapng", "want.pcapng"} {
		assert.ErrorIs(t, breakIt(t, f, nil), conformance.ErrCase, f)
	}
	assert.ErrorIs(t, breakIt(t, "in.pcapng", []byte("not a capture")), conformance.ErrCase)
	assert.ErrorIs(t, breakIt(t, "README.md", []byte("# x\n```expect\niv1 1: eth.dst\n```\n")), conformance.ErrCase)
	assert.ErrorIs(t, breakIt(t, "README.md", []byte("# x\nno block\n")), conformance.ErrCase)
	assert.ErrorIs(t, breakIt(t, "setup.txt", []byte("device vis\nport iv1 iv vntag\nafter 9 advance 1s\n")), conformance.ErrCase)
	// A capture whose interface is not a port of the setup.
	var b bytes.Buffer
	require.NoError(t, conformance.WriteCapture(&b, []string{"eth9"}, []conformance.Frame{{Port: "eth9", Data: make([]byte, 60)}}, time.Unix(0, 0)))
	assert.ErrorIs(t, breakIt(t, "in.pcapng", b.Bytes()), conformance.ErrCase)
	_, err := conformance.LoadAll(t.TempDir())
	assert.ErrorIs(t, err, conformance.ErrCase)
}

func TestCaptureRoundTrip(t *testing.T) {
	frames := []conformance.Frame{{Port: "b", Data: []byte{1, 2, 3}}, {Port: "a", Data: make([]byte, 70)}}
	var b bytes.Buffer
	require.NoError(t, conformance.WriteCapture(&b, []string{"a", "b", "c"}, frames, time.Unix(1, 0)))
	got, err := conformance.ReadCapture(&b)
	require.NoError(t, err)
	assert.Equal(t, frames, got)
	assert.ErrorIs(t, conformance.WriteCapture(&b, []string{"a"}, []conformance.Frame{{Port: "z"}}, time.Unix(1, 0)), conformance.ErrCase)
	assert.ErrorIs(t, conformance.WriteCapture(&b, nil, nil, time.Unix(1, 0)), conformance.ErrCase)
}

// TestDeviceErrors: a setup the cores refuse is a device error.
func TestDeviceErrors(t *testing.T) {
	s, err := conformance.ParseSetup("device vis\nport iv1 iv vntag\nveth 1 port iv1 vif 5000 profile p\n")
	require.NoError(t, err)
	_, err = cores.New(s, nil)
	assert.ErrorIs(t, err, conformance.ErrDevice)
	s, err = conformance.ParseSetup("device vis\nport iv1 iv vntag\nveth 1 port iv1 vif 5 profile nosuch\n")
	require.NoError(t, err)
	_, err = cores.New(s, nil)
	assert.ErrorIs(t, err, conformance.ErrDevice)
	s, err = conformance.ParseSetup("device vis\nport iv1 iv vntag\n")
	require.NoError(t, err)
	_, err = cores.New(s, nil, "learning")
	assert.ErrorIs(t, err, conformance.ErrDevice)
}
