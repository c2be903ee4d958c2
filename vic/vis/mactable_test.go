package vis

import (
	"math/rand/v2"
	"testing"

	"pgregory.net/rapid"
)

// TestMACTableModel checks the table against a map through random
// inserts, lookups and removals (single ones, and sweeps like Age and
// flushVEths that re-examine a slot after removing its entry), on tables
// small enough to wrap and to fill, with keys drawn from a small set so
// that homes collide: after every step each key is found exactly
// where the map says, the count matches, and no slot from an entry's home
// up to the entry is free (what lets a lookup stop at the first free
// slot).
func TestMACTableModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		max := rapid.SampledFrom([]int{1, 16, 32}).Draw(rt, "max") // 32 fills 64 slots to the half
		tb := newMACTable(max)
		model := map[uint64]uint32{}
		keys := rapid.SliceOfNDistinct(rapid.Uint64Range(1, 1<<20), 4, 200, rapid.ID).Draw(rt, "keys")
		for i := range keys {
			keys[i] |= 1 << 63
		}
		steps := rapid.IntRange(1, 300).Draw(rt, "steps")
		for range steps {
			k := rapid.SampledFrom(keys).Draw(rt, "key")
			switch rapid.IntRange(0, 9).Draw(rt, "op") {
			case 0, 1, 2, 3, 4: // insert if absent
				if tb.find(k) >= 0 {
					break
				}
				owner := rapid.Uint32Range(0, 7).Draw(rt, "owner")
				j := tb.insert(k, owner, 0)
				if len(model) >= tb.max {
					if j >= 0 {
						rt.Fatalf("insert into a full table succeeded")
					}
					break
				}
				if j < 0 || tb.slots[j].key != k {
					rt.Fatalf("insert of %x: slot %d", k, j)
				}
				model[k] = owner
			case 5, 6: // remove one
				if j := tb.find(k); j >= 0 {
					tb.remove(j)
					delete(model, k)
				}
			case 7: // sweep: remove every entry of an owner
				owner := rapid.Uint32Range(0, 7).Draw(rt, "sweep")
				for i := 0; i < len(tb.slots); {
					if tb.slots[i].key != 0 && tb.slots[i].owner == owner {
						delete(model, tb.slots[i].key)
						tb.remove(i)
						continue
					}
					i++
				}
			default: // lookups only
			}
			checkMACTable(rt, tb, model, keys)
		}
	})
}

func checkMACTable(rt *rapid.T, tb *macTable, model map[uint64]uint32, keys []uint64) {
	if tb.n != len(model) {
		rt.Fatalf("n = %d, model has %d", tb.n, len(model))
	}
	for _, k := range keys {
		j := tb.find(k)
		owner, ok := model[k]
		switch {
		case ok && (j < 0 || tb.slots[j].key != k || tb.slots[j].owner != owner):
			rt.Fatalf("key %x (owner %d) not found (slot %d)", k, owner, j)
		case !ok && j >= 0:
			rt.Fatalf("key %x found in slot %d after its removal", k, j)
		}
	}
	n := 0
	for i, sl := range tb.slots {
		if sl.key == 0 {
			continue
		}
		n++
		for j := tb.home(sl.key); j != uint64(i); j = (j + 1) & tb.mask {
			if tb.slots[j].key == 0 {
				rt.Fatalf("key %x in slot %d, past free slot %d", sl.key, i, j)
			}
		}
	}
	if n != tb.n {
		rt.Fatalf("%d slots in use, n = %d", n, tb.n)
	}
}

// TestMACTableChurn keeps small tables full to their limit (half the
// slots, where probe runs are longest) and
// replaces random entries, checking the table after every step.
func TestMACTableChurn(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		max := rapid.SampledFrom([]int{16, 32, 64}).Draw(rt, "max")
		seed := rapid.Uint64().Draw(rt, "seed")
		r := rand.New(rand.NewPCG(seed, 1))
		tb := newMACTable(max)
		model := map[uint64]uint32{}
		var keys []uint64
		for range 400 {
			if len(model) < tb.max {
				k := 1<<63 | r.Uint64()>>16
				if _, ok := model[k]; ok {
					continue
				}
				if tb.insert(k, 1, 0) < 0 {
					rt.Fatalf("insert refused at %d of %d", len(model), tb.max)
				}
				model[k] = 1
				keys = append(keys, k)
			} else {
				i := r.IntN(len(keys))
				k := keys[i]
				keys[i] = keys[len(keys)-1]
				keys = keys[:len(keys)-1]
				tb.remove(tb.find(k))
				delete(model, k)
			}
			checkMACTable(rt, tb, model, keys)
		}
	})
}

// TestMACKeys checks the two-load macKeys against macKey.
func TestMACKeys(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		b := rapid.SliceOfN(rapid.Byte(), 12, 64).Draw(rt, "frame")
		vlan := rapid.Uint16().Draw(rt, "vlan")
		d, s := macKeys(b, vlan)
		if d != macKey(b[0:6], vlan) || s != macKey(b[6:12], vlan) {
			rt.Fatalf("macKeys(% x, %d) = %x, %x; macKey gives %x, %x", b, vlan, d, s, macKey(b[0:6], vlan), macKey(b[6:12], vlan))
		}
	})
}
