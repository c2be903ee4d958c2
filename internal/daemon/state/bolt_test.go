package state_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/internal/daemon/state"
)

func TestBoltRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := state.OpenBolt(path)
	require.NoError(t, err)
	v := state.VEth{ID: 7, Instance: [16]byte{1, 2}, MAC: [6]byte{2, 0, 0, 0, 0, 1}, Profile: "web", Epoch: 3, Up: true, Port: "Ethernet1/1", VIF: 5, Bound: true}
	require.NoError(t, s.PutVEth(v))
	require.NoError(t, s.PutVEth(state.VEth{ID: 8, Profile: "db"}))
	require.NoError(t, s.PutNext(8))
	require.NoError(t, s.PutCounters(map[uint32]state.Counters{7: {RxFrames: 10, TxBytes: 640}, 99: {RxFrames: 1}}))
	require.NoError(t, s.DeleteVEth(8))
	require.NoError(t, s.PutVNIC(state.VNIC{Name: "web1", TAP: "t1", Epoch: 2}))
	require.NoError(t, s.PutProfiles("port-profile web\n", "port-profile base\n"))
	require.NoError(t, s.Close())

	s, err = state.OpenBolt(path)
	require.NoError(t, err)
	defer s.Close()
	snap, err := s.Load()
	require.NoError(t, err)
	assert.Equal(t, uint32(8), snap.Next)
	assert.Equal(t, []state.VEth{v}, snap.VEths)
	assert.Equal(t, map[uint32]state.Counters{7: {RxFrames: 10, TxBytes: 640}}, snap.Counters, "no counters for a vEth that is not there")
	assert.Equal(t, []state.VNIC{{Name: "web1", TAP: "t1", Epoch: 2}}, snap.VNICs)
	assert.Equal(t, "port-profile web\n", snap.Profiles)
	assert.Equal(t, "port-profile base\n", snap.ProfilesBase)
}

// A process that writes and is killed with SIGKILL right after leaves
// everything it wrote in the file.
func TestBoltSurvivesKill(t *testing.T) {
	if os.Getenv("NIV_STATE_CHILD") != "" {
		s, err := state.OpenBolt(os.Getenv("NIV_STATE_CHILD"))
		if err != nil {
			os.Exit(3)
		}
		for i := uint32(1); i <= 50; i++ {
			if s.PutVEth(state.VEth{ID: i, Profile: "web"}) != nil || s.PutNext(i) != nil {
				os.Exit(4)
			}
		}
		os.Stdout.WriteString("written\n")
		select {} // wait for the kill, the store still open
	}
	path := filepath.Join(t.TempDir(), "s.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestBoltSurvivesKill$")
	cmd.Env = append(os.Environ(), "NIV_STATE_CHILD="+path)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	buf := make([]byte, 8)
	_, err = out.Read(buf)
	require.NoError(t, err)
	require.Equal(t, "written\n", string(buf))
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()

	s, err := state.OpenBolt(path) // the lock went with the process
	require.NoError(t, err)
	defer s.Close()
	snap, err := s.Load()
	require.NoError(t, err)
	assert.Equal(t, uint32(50), snap.Next)
	assert.Len(t, snap.VEths, 50)
}

// Open takes a path or a URL of a registered scheme.
func TestOpen(t *testing.T) {
	dir := t.TempDir()
	for _, spec := range []string{filepath.Join(dir, "a.db"), "bbolt://" + filepath.Join(dir, "b.db")} {
		s, err := state.Open(spec)
		require.NoError(t, err, spec)
		require.NoError(t, s.Close())
	}
	_, err := state.Open("nosuch://x")
	assert.ErrorContains(t, err, "no store for nosuch:// (known: bbolt")
	var got string
	state.Register("teststore", func(spec string) (state.Store, error) {
		got = spec
		return state.OpenBolt(filepath.Join(dir, "c.db"))
	})
	s, err := state.Open("teststore://somewhere/niv")
	require.NoError(t, err)
	s.Close()
	assert.Equal(t, "teststore://somewhere/niv", got)
	assert.Contains(t, state.Schemes(), "teststore")
}
