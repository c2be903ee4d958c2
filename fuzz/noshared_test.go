package fuzz

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nivkit/niv/internal/needs"
)

// fuzzTargets returns the names of the fuzz targets declared in this
// package's test files.
func fuzzTargets(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^func (Fuzz\w*)\(f \*testing\.F\)`)
	var out []string
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllSubmatch(b, -1) {
			out = append(out, string(m[1]))
		}
	}
	if len(out) == 0 {
		t.Fatal("no fuzz targets found")
	}
	return out
}

// goTest runs go test on this package as a user's clone would: the shared
// folder somewhere empty, NIV_REQUIRE_ALL unset.
func goTest(t *testing.T, args ...string) string {
	t.Helper()
	goBin := needs.Tool(t, "go")
	cmd := exec.Command(goBin, append([]string{"test", "-count=1"}, args...)...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, needs.EnvRequireAll+"=") && !strings.HasPrefix(kv, needs.EnvShared+"=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, needs.EnvShared+"="+filepath.Join(t.TempDir(), "no-shared"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go test %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Without the shared folder (a user's clone) every fuzz target runs, on
// at least one seed of its own, and none skips: the captures under
// ../shared are extra seeds, not the only ones.
func TestTargetsRunWithoutShared(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test in a child process")
	}
	out := goTest(t, "-v", "-run", "^Fuzz", ".")
	seeds := map[string]int{}
	passed := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "--- SKIP") {
			t.Errorf("skipped without ../shared: %s", line)
		}
		name, ok := strings.CutPrefix(line, "--- PASS: ")
		if !ok {
			continue
		}
		name, _, _ = strings.Cut(name, " ")
		if target, _, sub := strings.Cut(name, "/"); sub {
			seeds[target]++
		} else {
			passed[name] = true
		}
	}
	for _, target := range fuzzTargets(t) {
		if !passed[target] {
			t.Errorf("%s did not pass without ../shared", target)
		}
		if seeds[target] == 0 {
			t.Errorf("%s ran no seed without ../shared", target)
		}
	}
	if t.Failed() {
		t.Logf("go test output:\n%s", out)
	}
}

// Without the shared folder, go test -fuzz really fuzzes: it reads the
// target's seeds as its baseline and reports executions.
func TestFuzzingRunsWithoutShared(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test -fuzz in a child process")
	}
	out := goTest(t, "-run", "^$", "-fuzz", "^FuzzVNTag$", "-fuzztime", "500x", ".")
	if !regexp.MustCompile(`gathering baseline coverage: [1-9][0-9]*/[1-9][0-9]* completed`).MatchString(out) ||
		!regexp.MustCompile(`execs: [1-9][0-9]*`).MatchString(out) || !bytes.Contains([]byte(out), []byte("PASS")) {
		t.Fatalf("go test -fuzz did not fuzz:\n%s", out)
	}
}
