package visd

import (
	"testing"
	"time"

	"github.com/nivkit/niv/internal/daemon/conf"
	"github.com/nivkit/niv/internal/daemon/state"
)

// TestStaleAfter: restored VSIs wait twice the bridge keep-alive timeout,
// 1.5 × ((2R+1)·10·2^RTE + 10·2^RKA) µs (vdp-ecp.md §4), at the larger of
// the configured exponents and the ones a record was bound with; a record
// without them (older) or with a smaller RKA leaves the configured one.
func TestStaleAfter(t *testing.T) {
	e := conf.EVB{RWD: 20, RKA: 14}
	rec := func(r, rte, rka uint8) state.VEth {
		return state.VEth{ID: 1, VSI: &state.VSI{R: r, RTE: rte, RKA: rka}}
	}
	cfg := 3932160 * time.Microsecond // 2 × 1.5 × (7 × 163.84 ms + 163.84 ms) at R 3, RTE 14, RKA 14
	for _, tc := range []struct {
		name string
		recs []state.VEth
		want time.Duration
	}{
		{"none", nil, cfg},
		{"old record", []state.VEth{rec(0, 0, 0)}, cfg},
		{"smaller RKA", []state.VEth{rec(3, 14, 10)}, cfg},
		{"vic vEth", []state.VEth{{ID: 2}}, cfg},
		{"RKA 20", []state.VEth{rec(3, 14, 14), rec(3, 14, 20)}, 34897920 * time.Microsecond}, // 2 × 17.44896 s, lldpad's measured timeout
	} {
		if got := staleAfter(e, tc.recs); got != tc.want {
			t.Errorf("%s: staleAfter = %v, want %v", tc.name, got, tc.want)
		}
	}
}
