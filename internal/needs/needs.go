// Package needs lets a test ask for what it needs from the machine — a
// tool on PATH, root, a file under ../shared — and skip cleanly when it is
// missing. When NIV_REQUIRE_ALL is set (CI sets it), a missing need fails
// the test instead, so that nothing CI is meant to check is skipped
// silently.
package needs

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// EnvRequireAll is the environment variable that turns skips into failures.
const EnvRequireAll = "NIV_REQUIRE_ALL"

// EnvShared overrides where the shared folder (specs, captures) is; by
// default it is ../shared beside the module's root.
const EnvShared = "NIV_SHARED"

// Strict reports whether NIV_REQUIRE_ALL is set to a non-empty value other
// than "0".
func Strict() bool {
	v := os.Getenv(EnvRequireAll)
	return v != "" && v != "0"
}

// reporter is the part of testing.TB that missing uses.
type reporter interface {
	Helper()
	Fatalf(format string, args ...any)
	Skip(args ...any)
}

func missing(t reporter, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Strict() {
		t.Fatalf("%s is set, but %s", EnvRequireAll, msg)
		return
	}
	t.Skip(msg)
}

// Tool returns the path of the named program, or skips (fails when strict)
// when it is not on PATH.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, "%s is not installed (%v)", name, err)
	}
	return p
}

// Root skips (fails when strict) unless the test runs as root, which the
// tests that make network namespaces, veth pairs and TAP devices need.
func Root(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		missing(t, "the test needs root (euid %d)", os.Geteuid())
	}
}

// SharedDir returns the shared folder: $NIV_SHARED, or ../shared beside the
// directory that holds the module's go.mod. It returns "" when neither
// exists.
func SharedDir() string {
	if d := os.Getenv(EnvShared); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			d := filepath.Join(dir, "..", "shared")
			if st, err := os.Stat(d); err == nil && st.IsDir() {
				return d
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Shared returns the path of rel (slash-separated) under the shared folder,
// or skips (fails when strict) when the file is not there. Tests read
// shared files in place and never copy or change them.
func Shared(t testing.TB, rel string) string {
	t.Helper()
	d := SharedDir()
	if d == "" {
		missing(t, "the shared folder (../shared or $%s) is not there", EnvShared)
	}
	p := filepath.Join(d, filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		missing(t, "shared file %s is not there (%v)", rel, err)
	}
	return p
}

// SharedIfPresent returns the path of rel (slash-separated) under the shared
// folder and true when the file is there. When it is not, it returns false
// and the caller goes on without it — for what is extra to a test, such as
// captures that add seeds to a fuzz target whose own seeds are in the repo
// — except under NIV_REQUIRE_ALL, where a missing file fails the test, so
// CI notices when the shared files stop being used.
func SharedIfPresent(t testing.TB, rel string) (string, bool) {
	t.Helper()
	return sharedIfPresent(t, rel)
}

func sharedIfPresent(t reporter, rel string) (string, bool) {
	t.Helper()
	d := SharedDir()
	if d == "" {
		if Strict() {
			t.Fatalf("%s is set, but the shared folder (../shared or $%s) is not there", EnvRequireAll, EnvShared)
		}
		return "", false
	}
	p := filepath.Join(d, filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		if Strict() {
			t.Fatalf("%s is set, but shared file %s is not there (%v)", EnvRequireAll, rel, err)
		}
		return "", false
	}
	return p, true
}
