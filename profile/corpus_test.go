package profile_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/profile"
)

var sentinels = map[string]error{
	"ErrUnknownCommand": profile.ErrUnknownCommand,
	"ErrSyntax":         profile.ErrSyntax,
	"ErrVLANRange":      profile.ErrVLANRange,
	"ErrValueRange":     profile.ErrValueRange,
	"ErrDuplicate":      profile.ErrDuplicate,
	"ErrInheritCycle":   profile.ErrInheritCycle,
	"ErrInheritDepth":   profile.ErrInheritDepth,
	"ErrUndefined":      profile.ErrUndefined,
	"ErrModeConflict":   profile.ErrModeConflict,
	"ErrTypeMismatch":   profile.ErrTypeMismatch,
	"ErrInUse":          profile.ErrInUse,
	"ErrMaxPorts":       profile.ErrMaxPorts,
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

// baseStore holds testdata/good/base.conf with vEths 1-10 bound to
// webservers and 11 to trunks.
func baseStore(t *testing.T) *profile.MemStore {
	bind := map[profile.VEthID]string{11: "trunks"}
	for v := profile.VEthID(1); v <= 10; v++ {
		bind[v] = "webservers"
	}
	return newStore(t, readFile(t, "testdata/good/base.conf"), bind)
}

// TestBadConfigCorpus applies every testdata/bad/*.conf as an edit of the
// base configuration. Each must be refused with the error its header
// names, and leave the store exactly as it was, with nothing delivered to
// subscribers.
func TestBadConfigCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.conf")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			src := readFile(t, file)
			var wantMsg, wantSentinel string
			for line := range strings.SplitSeq(src, "\n") {
				if s, ok := strings.CutPrefix(line, "! error: "); ok {
					wantMsg = s
				}
				if s, ok := strings.CutPrefix(line, "! sentinel: "); ok {
					wantSentinel = s
				}
			}
			require.NotEmpty(t, wantMsg, "missing '! error:' header")
			sentinel := sentinels[wantSentinel]
			require.NotNil(t, sentinel, "unknown sentinel %q", wantSentinel)

			s := baseStore(t)
			before := s.Snapshot()
			beforeText := before.Config.Text()
			batches := 0
			cancel := s.Subscribe(func(profile.Batch) { batches++ })
			defer cancel()

			_, err := s.Update(func(tx *profile.Txn) error { return tx.Configure(src) })
			require.Error(t, err)
			assert.ErrorIs(t, err, sentinel)
			assert.Contains(t, err.Error(), wantMsg)
			var pe *profile.ParseError
			var ce *profile.ConfigError
			assert.True(t, errors.As(err, &pe) || errors.As(err, &ce), "error %T is neither a ParseError nor a ConfigError", err)

			after := s.Snapshot()
			assert.Same(t, before, after)
			assert.Equal(t, before.Revision, after.Revision)
			assert.Equal(t, beforeText, after.Config.Text(), "configuration changed by a refused edit")
			assert.Equal(t, before.Bindings, after.Bindings)
			assert.Equal(t, 1, batches, "only the initial batch; a refused edit delivers nothing")
		})
	}
}

// TestGoodConfigs: every valid file round-trips through print and parse,
// and base.conf plus edits.conf commit.
func TestGoodConfigs(t *testing.T) {
	files, err := filepath.Glob("testdata/good/*.conf")
	require.NoError(t, err)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			cfg, err := profile.Parse(readFile(t, file))
			require.NoError(t, err)
			again, err := profile.Parse(cfg.Text())
			require.NoError(t, err, "printed text:\n%s", cfg.Text())
			assert.True(t, again.Equal(cfg), "round trip changed the config:\n%s", cfg.Text())
		})
	}
	s := baseStore(t)
	require.NoError(t, configure(s, readFile(t, "testdata/edit/edits.conf")))
	c := s.Snapshot().Config
	assert.Equal(t, uint16(11), c.Profiles["webservers"].AccessVLAN)
	assert.Equal(t, "", c.Profiles["webservers"].IPAccessGroup[profile.In])
	assert.Equal(t, "100-104,106-110,200,300-310", c.Profiles["trunks"].AllowedVLANs.String())
	assert.Equal(t, uint16(8), c.Profiles["trunks"].SecureMax)
	seqs := []uint32{}
	for _, e := range c.IPACLs["500"].Entries {
		seqs = append(seqs, e.Seq)
	}
	assert.Equal(t, []uint32{10, 20, 40, 50}, seqs)
}

func TestShowRunningConfig(t *testing.T) {
	s := baseStore(t)
	out, err := s.Snapshot().Config.ShowRunningConfig("webservers")
	require.NoError(t, err)
	assert.Equal(t, `port-profile type vethernet webservers
  inherit port-profile server
  switchport access vlan 10
  ip access-group 500 in
  service-policy type qos input gold
  state enabled
`, out)
	_, err = s.Snapshot().Config.ShowRunningConfig("nosuch")
	assert.ErrorIs(t, err, profile.ErrNotFound)
	all, err := s.Snapshot().Config.ShowRunningConfig("")
	require.NoError(t, err)
	assert.Equal(t, 4, strings.Count(all, "port-profile type "))
}
