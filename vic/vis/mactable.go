package vis

import "encoding/binary"

// macTable is the VIS's forwarding database: (VLAN, MAC) → owner, with the
// time each entry was last seen. It is an open-addressing hash table with
// linear probing over 16-byte slots, four to a cache line, kept at most
// half full, so that a lookup usually touches one slot: a Go map of
// 1M entries costs ~96 ns per lookup on this kind of machine
// (../shared/style/perf-anchors.md), mostly cache and TLB misses, and the
// VIS does two lookups per frame (learn the source, find the destination).
// Process looks up the keys of a whole batch in a pass of its own before
// it forwards any frame (lookup), so that the misses of different frames
// overlap.
//
// Deletion uses backward-shift, so there are no tombstones and lookups of
// absent keys stop at the first empty slot.
type macTable struct {
	slots []macSlot
	mask  uint64
	shift uint
	n     int // entries in use
	max   int // most entries allowed
}

type macSlot struct {
	key   uint64 // macKey; 0 = empty
	owner uint32 // ownerVEth(i) or ownerUplink(p)
	seen  uint32 // coarse time of the last frame from this MAC
}

// Owners: a vEth index, or an uplink's port number with the top bit set.
const uplinkBit = 1 << 31

func ownerUplink(p int) uint32 { return uplinkBit | uint32(p) }

// timeShift converts nanoseconds to the coarse clock of macSlot.seen:
// 2^24 ns ≈ 16.8 ms per tick, which wraps after about 2.3 years.
const timeShift = 24

func coarse(now int64) uint32 { return uint32(now >> timeShift) }

// macKey packs a MAC and a VLAN into a non-zero key.
func macKey(mac []byte, vlan uint16) uint64 {
	_ = mac[5]
	m := uint64(mac[0])<<40 | uint64(mac[1])<<32 | uint64(mac[2])<<24 | uint64(mac[3])<<16 | uint64(mac[4])<<8 | uint64(mac[5])
	return 1<<63 | m<<12 | uint64(vlan&0xfff)
}

// macKeys returns the keys of the destination and source MACs of frame b
// (at least 12 bytes) in vlan, as macKey(b[0:6]) and macKey(b[6:12]), from
// two 8-byte loads.
func macKeys(b []byte, vlan uint16) (dst, src uint64) {
	_ = b[11]
	d := binary.BigEndian.Uint64(b) >> 16
	s := binary.BigEndian.Uint64(b[4:]) & (1<<48 - 1)
	v := 1<<63 | uint64(vlan&0xfff)
	return v | d<<12, v | s<<12
}

// keyMAC and keyVLAN unpack a key.
func keyMAC(k uint64) [6]byte {
	m := k >> 12
	return [6]byte{byte(m >> 40), byte(m >> 32), byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}
}

func keyVLAN(k uint64) uint16 { return uint16(k & 0xfff) }

func newMACTable(max int) *macTable {
	if max < 16 {
		max = 16
	}
	// At most half full: then about four keys in five sit in their home
	// slot (at three quarters, two in three), and a lookup's loop exits at
	// once, as the CPU predicts, instead of mispredicting on a key that is
	// one or more slots on. Measured on the VIS benchmark at 10k MACs, the
	// emptier table forwards faster though it caches less well: the
	// mispredictions cost more than the cache misses. 32 bytes per MAC.
	size := 32
	for size < 2*max {
		size <<= 1
	}
	shift := uint(64)
	for s := size; s > 1; s >>= 1 {
		shift--
	}
	return &macTable{slots: hugeSlots(size), mask: uint64(size - 1), shift: shift, max: max}
}

// hashMul is the multiplier of the table's Fibonacci hashing: 2^64 over
// the golden ratio, which spreads keys that differ in any bits.
const hashMul = 0x9E3779B97F4A7C15

// home returns the home slot of key k. It hashes the MAC alone, not the
// VLAN: then the slots a frame will look up follow from its first 12
// bytes, with no need to classify it first (prefetch). A MAC learned in
// several VLANs has several entries with one home, next to each other.
func (t *macTable) home(k uint64) uint64 { return homeOf(k>>12, t.shift) }

// homeOf returns the home slot of a key whose MAC is mac (as k>>12: the
// MAC with bit 51 set) in a table of 2^(64-shift) slots.
func homeOf(mac uint64, shift uint) uint64 { return (mac * hashMul) >> (shift & 63) }

// find returns the slot of k, or -1.
func (t *macTable) find(k uint64) int { return int(probe(t.slots, t.mask, t.home(k), k)) }

// probe returns the slot of key k in slots, searching from slot j, which
// must be k's home slot or a slot of the probe run from it; or -1 when it
// reaches an empty slot first. mask is len(slots)-1.
func probe(slots []macSlot, mask, j, k uint64) int32 {
	for ; slots[j].key != 0; j = (j + 1) & mask {
		if slots[j].key == k {
			return int32(j)
		}
	}
	return -1
}

// insert adds k, which must be absent, and returns its slot, or -1 when
// the table is full.
func (t *macTable) insert(k uint64, owner, seen uint32) int {
	if t.n >= t.max {
		return -1
	}
	i := t.home(k)
	for t.slots[i].key != 0 {
		i = (i + 1) & t.mask
	}
	t.slots[i] = macSlot{key: k, owner: owner, seen: seen}
	t.n++
	return int(i)
}

// remove deletes the entry in slot i and shifts later entries of its
// probe run back.
func (t *macTable) remove(i int) {
	j := uint64(i)
	for {
		t.slots[j] = macSlot{}
		k := j
		for {
			k = (k + 1) & t.mask
			if t.slots[k].key == 0 {
				t.n--
				return
			}
			h := t.home(t.slots[k].key)
			// Move slot k to j if its home is not in (j, k] cyclically.
			if (j < k && (h <= j || h > k)) || (j > k && h <= j && h > k) {
				t.slots[j] = t.slots[k]
				j = k
				break
			}
		}
	}
}
