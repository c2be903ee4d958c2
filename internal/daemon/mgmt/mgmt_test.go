package mgmt_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/internal/daemon/mgmt"
	"github.com/nivkit/niv/internal/needs"
)

// serve starts a server in dir whose handler counts the requests it runs.
func serve(t *testing.T, dir string, mode os.FileMode) (string, *atomic.Int64) {
	path := filepath.Join(dir, "m.sock")
	var n atomic.Int64
	s, err := mgmt.ListenMode(path, mode, func(r mgmt.Request) mgmt.Response {
		n.Add(1)
		return mgmt.Answer("did "+r.Cmd+" "+strings.Join(r.Args, " "), map[string]int{"n": len(r.Args)})
	}, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done); s.Close() })
	return path, &n
}

func raw(t *testing.T, path string, lines ...string) []mgmt.Response {
	c, err := net.Dial("unix", path)
	require.NoError(t, err)
	defer c.Close()
	var out []mgmt.Response
	dec := json.NewDecoder(c)
	for _, l := range lines {
		// The server may answer and hang up before it has read all of
		// an oversized line: the write fails, the answer is there.
		go io.WriteString(c, l)
		var r mgmt.Response
		if dec.Decode(&r) != nil {
			break
		}
		out = append(out, r)
	}
	return out
}

func TestRequests(t *testing.T) {
	needs.Root(t) // the server serves uid 0 only
	path, n := serve(t, t.TempDir(), 0o600)
	r, err := mgmt.Call(path, mgmt.Request{Cmd: "show interface", Args: []string{"vethernet", "5"}})
	require.NoError(t, err)
	assert.Equal(t, mgmt.Response{OK: true, Text: "did show interface vethernet 5", Data: json.RawMessage(`{"n":2}`)}, r)

	// Malformed requests get an error each and run nothing; the
	// connection stays usable.
	rs := raw(t, path, "{not json\n", `{"args":["x"]}`+"\n", `{"cmd":"x","bogus":1}`+"\n", `{"cmd":"a"} {"cmd":"b"}`+"\n", `{"cmd":"ok"}`+"\n")
	require.Len(t, rs, 5)
	for _, r := range rs[:4] {
		assert.False(t, r.OK)
		assert.Contains(t, r.Error, "malformed request")
	}
	assert.True(t, rs[4].OK)
	assert.Equal(t, int64(2), n.Load(), "only the two good requests ran")

	// An oversized request is refused and the connection closed.
	rs = raw(t, path, `{"cmd":"configure","input":"`+strings.Repeat("x", mgmt.MaxRequest)+`"}`+"\n", `{"cmd":"ok"}`+"\n")
	require.Len(t, rs, 1)
	assert.Contains(t, rs[0].Error, "request too large")
	assert.Equal(t, int64(2), n.Load())
}

// The socket refuses a user other than root: with its file mode 0600 the
// kernel refuses the connect; with a mode that lets anyone connect, the
// server's SO_PEERCRED check refuses and runs nothing.
func TestRefusesNonRoot(t *testing.T) {
	if p := os.Getenv("NIV_MGMT_CLIENT"); p != "" {
		r, err := mgmt.Call(p, mgmt.Request{Cmd: "configure", Input: "no port-profile web"})
		if err != nil {
			os.Stdout.WriteString("error: " + err.Error())
			return
		}
		b, _ := json.Marshal(r)
		os.Stdout.Write(append(b, '\n'))
		return
	}
	needs.Root(t)
	// A directory the unprivileged user can enter, with a copy of this
	// test binary it can run.
	dir, err := os.MkdirTemp("", "niv-daemon-mgmt")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	self, err := os.ReadFile(os.Args[0])
	require.NoError(t, err)
	bin := filepath.Join(dir, "mgmt.test")
	require.NoError(t, os.WriteFile(bin, self, 0o755))

	client := func(path string) string {
		cmd := exec.Command(bin, "-test.run=^TestRefusesNonRoot$")
		cmd.Env = append(os.Environ(), "NIV_MGMT_CLIENT="+path)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.Output()
		require.NoError(t, err)
		first, _, _ := strings.Cut(string(out), "\n")
		return first
	}
	for _, mode := range []os.FileMode{0o600, 0o666} {
		sub := filepath.Join(dir, mode.String())
		require.NoError(t, os.Mkdir(sub, 0o755))
		path, n := serve(t, sub, mode)
		out := client(path)
		if mode == 0o600 {
			assert.Contains(t, out, "permission denied", "the kernel refuses uid 65534")
		} else {
			var r mgmt.Response
			require.NoError(t, json.Unmarshal([]byte(out), &r), out)
			assert.False(t, r.OK)
			assert.Contains(t, r.Error, "serves root only (peer uid 65534)")
		}
		assert.Zero(t, n.Load(), "nothing ran for uid 65534")
		// Root is still served.
		r, err := mgmt.Call(path, mgmt.Request{Cmd: "ok"})
		require.NoError(t, err)
		assert.True(t, r.OK)
	}
}
