package cli

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/conformance"
	"github.com/nivkit/niv/internal/needs"
)

const suite = "../../conformance/testdata"

func TestConformLibrary(t *testing.T) {
	cases, err := conformance.LoadAll(suite)
	require.NoError(t, err)
	var stdout, stderr bytes.Buffer
	code := run([]string{"conform", suite}, nil, &stdout, &stderr)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	assert.Contains(t, stdout.String(), fmt.Sprintf("%d passed, 0 failed, %d cases", len(cases), len(cases)))
	assert.Contains(t, stdout.String(), "vis-vntag-hairpin")
	// Progress: one line per case on stderr.
	assert.Equal(t, len(cases), strings.Count(stderr.String(), "] PASS"))
}

// copyCase copies case folder name under a temporary folder.
func copyCase(t *testing.T, name string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.CopyFS(dst, os.DirFS(filepath.Join(suite, name))))
	return dst
}

// TestConformFailingCase breaks one expected frame of a case and checks
// that niv conform fails with a field-level diff naming it.
func TestConformFailingCase(t *testing.T) {
	dir := copyCase(t, "vis-vntag-hairpin")
	c, err := conformance.Load(dir)
	require.NoError(t, err)
	// The hairpin frame, the last on iv1, goes to dvif 6: expect 7.
	last := c.Want[len(c.Want)-1]
	require.Equal(t, "iv1", last.Port)
	require.Equal(t, byte(6), last.Data[15])
	last.Data[15] = 7
	var b bytes.Buffer
	require.NoError(t, conformance.WriteCapture(&b, c.Ports(), c.Want, time.Unix(0, 0)))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "want.pcapng"), b.Bytes(), 0o644))

	var stdout, stderr bytes.Buffer
	code := run([]string{"conform", "-q", dir, filepath.Join(suite, "vis-vntag-broadcast")}, nil, &stdout, &stderr)
	assert.Equal(t, 1, code)
	out := stdout.String()
	assert.Contains(t, out, "1 passed, 1 failed, 2 cases")
	assert.Contains(t, out, "--- FAIL vis-vntag-hairpin")
	assert.Contains(t, out, "port iv1: frame 2 differs")
	assert.Regexp(t, `vntag\.dst:\s+want 7, got 6`, out)
	assert.Empty(t, stderr.String())
}

// TestConformOff switches hairpin off in the cores: the hairpin case fails
// with its missing frame, the broadcast case still passes.
func TestConformOff(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"conform", "-q", "--off", "hairpin", filepath.Join(suite, "vis-vntag-hairpin"), filepath.Join(suite, "vis-vntag-broadcast")}, nil, &stdout, &stderr)
	assert.Equal(t, 1, code)
	assert.Contains(t, stdout.String(), "port iv1: frame 2 missing (want 2 frames, got 1)")
	assert.Regexp(t, `vis-vntag-broadcast\s+PASS`, stdout.String())
}

func TestConformUsage(t *testing.T) {
	for _, args := range [][]string{
		{"conform"},
		{"conform", "--dut", "iv1", suite},
		{"conform", "--dut", "iv1=a", "--off", "hairpin", suite},
		{"vis", "--port", "iv1=a"},
		{"vis", "--port", "iv1=a", "--case", "x", "--control", "y"},
	} {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, 2, run(args, nil, &stdout, &stderr), "%v", args)
		assert.NotEmpty(t, stderr.String(), "%v", args)
	}
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 1, run([]string{"conform", t.TempDir()}, nil, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "no case")
	stderr.Reset()
	assert.Equal(t, 1, run([]string{"conform", "--off", "learning", filepath.Join(suite, "vis-vntag-hairpin")}, nil, &stdout, &stderr))
	assert.Contains(t, stdout.String(), "unknown behaviour")
}

// syncBuffer is a bytes.Buffer safe for a process's output and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func sh(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	require.NoError(t, err, "%s %s: %s", name, strings.Join(args, " "), out)
}

// TestConformDUT runs the whole suite over real links: `niv vis` runs as
// a separate process in its own network namespace, holding one end of a
// veth pair per case port; the runner (niv conform --dut) holds the other
// ends in this namespace, sends each input frame on the wire and captures
// what comes back.
func TestConformDUT(t *testing.T) {
	needs.Root(t)
	ipBin := needs.Tool(t, "ip")
	cases, err := conformance.LoadAll(suite)
	require.NoError(t, err)
	var ports []string
	for _, c := range cases {
		for _, p := range c.Setup.Ports {
			if !slices.Contains(ports, p.Name) {
				ports = append(ports, p.Name)
			}
		}
	}

	// The niv binary, built from this package.
	goBin := needs.Tool(t, "go")
	bin := filepath.Join(t.TempDir(), "niv")
	out, err := exec.Command(goBin, "build", "-o", bin, "github.com/nivkit/niv/cmd/niv").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	var rnd [3]byte
	_, _ = rand.Read(rnd[:])
	id := hex.EncodeToString(rnd[:])
	ns := "nivdut-" + id
	sh(t, ipBin, "netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command(ipBin, "netns", "del", ns).Run() })

	var local, remote []string
	for i, p := range ports {
		a, b := fmt.Sprintf("nc%s%d", id, i), fmt.Sprintf("nd%s%d", id, i)
		sh(t, ipBin, "link", "add", a, "type", "veth", "peer", "name", b, "netns", ns)
		t.Cleanup(func() { _ = exec.Command(ipBin, "link", "del", a).Run() })
		// No IPv6 (router and neighbour solicitations) on the test links:
		// only the case's frames cross them.
		require.NoError(t, os.WriteFile("/proc/sys/net/ipv6/conf/"+a+"/disable_ipv6", []byte("1"), 0o644))
		sh(t, ipBin, "netns", "exec", ns, "sh", "-c", "echo 1 > /proc/sys/net/ipv6/conf/"+b+"/disable_ipv6")
		sh(t, ipBin, "link", "set", a, "mtu", "9000", "up")
		sh(t, ipBin, "-n", ns, "link", "set", b, "mtu", "9000", "up")
		local = append(local, p+"="+a)
		remote = append(remote, p+"="+b)
	}

	sock := filepath.Join(t.TempDir(), "dut.sock")
	var daemonLog syncBuffer
	cmd := exec.Command(ipBin, "netns", "exec", ns, bin, "vis", "--control", sock, "--port", strings.Join(remote, ","))
	cmd.Stdout, cmd.Stderr = &daemonLog, &daemonLog
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("niv vis log:\n%s", daemonLog.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "niv vis did not open its control socket: %s", daemonLog.String())
		time.Sleep(20 * time.Millisecond)
	}

	var stdout, stderr bytes.Buffer
	code := run([]string{"conform", "--dut", strings.Join(local, ","), "--dut-control", sock,
		"--settle", "120ms", "--timeout", "3s", suite}, nil, &stdout, &stderr)
	t.Logf("niv conform over the wire:\n%s", stdout.String())
	require.Equal(t, 0, code, "stderr:\n%s", stderr.String())
	assert.Contains(t, stdout.String(), fmt.Sprintf("%d passed, 0 failed, %d cases", len(cases), len(cases)))
	assert.Equal(t, len(cases), strings.Count(stderr.String(), "] PASS"))
}
