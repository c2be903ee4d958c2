package vis

import (
	"math/rand/v2"
	"testing"
)

// benchFind measures the MAC table alone: 64 lookups of random present
// keys per op, optionally after a loop that only warms their slots. It is
// the floor under the VIS's two lookups per frame; compare with the Go map
// numbers in ../shared/style/perf-anchors.md (~14 ns at 10k, ~96 ns at 1M).
func benchFind(b *testing.B, n int, warmFirst bool) {
	t := newMACTable(n + n/8)
	r := rand.New(rand.NewPCG(1, 2))
	keys := make([]uint64, n)
	for i := range keys {
		keys[i] = 1<<63 | r.Uint64()>>4
		t.insert(keys[i], 1, 0)
	}
	order := make([]uint64, 1<<16)
	for i := range order {
		order[i] = keys[r.IntN(n)]
	}
	var acc int
	j := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ks := order[j : j+64]
		j = (j + 64) & (len(order) - 1)
		if warmFirst {
			var w uint64
			for _, k := range ks {
				w ^= t.slots[t.home(k)].key
			}
			acc += int(w & 1)
		}
		for _, k := range ks {
			acc += t.find(k)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*64), "ns/lookup")
	if t.find(keys[0]) < 0 {
		b.Fatal("a key went missing")
	}
	sinkInt = acc
}

var sinkInt int

func BenchmarkFind10k(b *testing.B)     { benchFind(b, 10_000, false) }
func BenchmarkFind10kWarm(b *testing.B) { benchFind(b, 10_000, true) }
func BenchmarkFind1M(b *testing.B)      { benchFind(b, 1_000_000, false) }
func BenchmarkFind1MWarm(b *testing.B)  { benchFind(b, 1_000_000, true) }
