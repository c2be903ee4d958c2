package state_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/nivkit/niv/internal/daemon/state"
)

func ExampleOpenBolt() {
	dir, _ := os.MkdirTemp("", "niv-state-example")
	defer os.RemoveAll(dir)
	s, err := state.OpenBolt(filepath.Join(dir, "vis.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	s.PutVEth(state.VEth{ID: 1, Profile: "web", Port: "Ethernet1/1", VIF: 5, Bound: true})
	s.PutCounters(map[uint32]state.Counters{1: {RxFrames: 42}})
	s.Close()

	// What a restart (or a kill -9) finds.
	s, _ = state.OpenBolt(filepath.Join(dir, "vis.db"))
	defer s.Close()
	snap, _ := s.Load()
	v := snap.VEths[0]
	fmt.Println(v.ID, v.Profile, v.Port, v.VIF, snap.Counters[1].RxFrames)
	// Output: 1 web Ethernet1/1 5 42
}
