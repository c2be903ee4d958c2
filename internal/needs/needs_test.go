package needs

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStrict(t *testing.T) {
	t.Setenv(EnvRequireAll, "1")
	assert.True(t, Strict())
	t.Setenv(EnvRequireAll, "0")
	assert.False(t, Strict())
	t.Setenv(EnvRequireAll, "")
	assert.False(t, Strict())
}

func TestSharedDirOverride(t *testing.T) {
	d := t.TempDir()
	t.Setenv(EnvShared, d)
	assert.Equal(t, d, SharedDir())
}

func TestSharedFindsTheSpec(t *testing.T) {
	p := Shared(t, "spec/vntag.md")
	assert.Equal(t, "vntag.md", filepath.Base(p))
}

type fakeT struct{ fatal, skip string }

func (f *fakeT) Helper()                        {}
func (f *fakeT) Fatalf(format string, a ...any) { f.fatal = fmt.Sprintf(format, a...) }
func (f *fakeT) Skip(a ...any)                  { f.skip = fmt.Sprint(a...) }

// A missing need skips when not strict and fails when strict.
func TestMissingNeed(t *testing.T) {
	t.Setenv(EnvRequireAll, "")
	var f fakeT
	missing(&f, "tshark is not installed")
	assert.Equal(t, "tshark is not installed", f.skip)
	assert.Empty(t, f.fatal)

	t.Setenv(EnvRequireAll, "1")
	f = fakeT{}
	missing(&f, "tshark is not installed")
	assert.Equal(t, "NIV_REQUIRE_ALL is set, but tshark is not installed", f.fatal)
	require.Empty(t, f.skip)
}

// A shared file that is not there is left out without a skip, and fails
// the test only when strict.
func TestSharedIfPresent(t *testing.T) {
	d := t.TempDir()
	t.Setenv(EnvShared, d)
	t.Setenv(EnvRequireAll, "")
	var f fakeT
	p, ok := sharedIfPresent(&f, "corpus/none.pcap")
	assert.False(t, ok)
	assert.Empty(t, p)
	assert.Empty(t, f.skip)
	assert.Empty(t, f.fatal)

	t.Setenv(EnvRequireAll, "1")
	f = fakeT{}
	_, ok = sharedIfPresent(&f, "corpus/none.pcap")
	assert.False(t, ok)
	assert.Contains(t, f.fatal, "shared file corpus/none.pcap is not there")
	assert.Empty(t, f.skip)

	require.NoError(t, os.WriteFile(filepath.Join(d, "here.txt"), nil, 0o644))
	f = fakeT{}
	p, ok = sharedIfPresent(&f, "here.txt")
	assert.True(t, ok)
	assert.Equal(t, filepath.Join(d, "here.txt"), p)
	assert.Empty(t, f.fatal)

	t.Setenv(EnvShared, filepath.Join(d, "nowhere"))
	t.Setenv(EnvRequireAll, "")
	f = fakeT{}
	_, ok = sharedIfPresent(&f, "here.txt")
	assert.False(t, ok)
	assert.Empty(t, f.skip)
}
