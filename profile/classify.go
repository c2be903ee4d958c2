package profile

import (
	"math/bits"
	"slices"
)

// The ACL classifier: per-field bit vectors with aggregated summaries
// (Lakshman & Stiliadis, SIGCOMM 1998; Baboescu & Varghese, "Scalable packet
// classification", SIGCOMM 2001).
//
// Each field of an entry (source prefix, destination port, a MAC byte...)
// accepts a set of values. For each field, the values are cut into
// elementary intervals on which every entry's answer is constant, and each
// interval (a "row") stores the bit vector of entries that accept it, in
// sequence order. A lookup finds the frame's row in every field (a binary
// search, or a direct index for byte-wide fields), ANDs the rows' bit
// vectors, and the lowest set bit is the first matching entry. A summary
// word per row, one bit per 64-entry block that has any entry set, lets the
// AND skip blocks no field can match: for the 4096-entry maximum the summary
// is one word, so a lookup costs F binary searches (O(F log N)) plus, for
// the usual case of a match in the first candidate block, 2F word ANDs,
// rather than N entry comparisons.
//
// Fields every entry wildcards are dropped at compile time, so an ACL that
// only matches destination ports costs one field. Memory is
// rows × ⌈N/64⌉ words per field, at most (2N+1) rows: 256 KiB per field for
// a 1,000-entry ACL.

// span is an inclusive interval of a field's values.
type span struct{ lo, hi uint32 }

// maxKeys is the most fields a classifier looks at (a MAC ACL: 12 MAC
// bytes, EtherType, VLAN).
const maxKeys = 14

// keyVector holds one frame's value for each field of a classifier.
type keyVector [maxKeys]uint32

// fieldSpec describes one field at build time: where its value sits in the
// key vector, its largest value, whether the value indexes rows directly
// (byte-wide fields), and the spans each entry accepts.
type fieldSpec struct {
	key    int
	max    uint32
	direct bool
	spans  [][]span // by entry
}

// field is a compiled field: the row boundaries (nil when direct) and the
// rows' bit vectors and summaries, flattened.
type field struct {
	key    int
	starts []uint32
	rows   []uint64 // row r is rows[r*words : (r+1)*words]
	sums   []uint64 // row r is sums[r*sumWords : (r+1)*sumWords]
}

// row returns the row holding value x.
func (f *field) row(x uint32) int {
	if f.starts == nil {
		return int(x)
	}
	// Largest i with starts[i] <= x; starts[0] == 0.
	lo, hi := 0, len(f.starts)
	for hi-lo > 1 {
		mid := int(uint(lo+hi) >> 1)
		if f.starts[mid] <= x {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// classifier finds the first entry (in sequence order) whose every field
// accepts a frame's key vector.
type classifier struct {
	n        int
	words    int
	sumWords int
	fields   []field
}

// buildClassifier compiles n entries described field by field.
func buildClassifier(n int, specs []fieldSpec) *classifier {
	c := &classifier{n: n, words: (n + 63) / 64}
	c.sumWords = (c.words + 63) / 64
	for _, spec := range specs {
		if wildcardEverywhere(spec) {
			continue
		}
		c.fields = append(c.fields, c.buildField(spec))
	}
	return c
}

func wildcardEverywhere(spec fieldSpec) bool {
	for _, spans := range spec.spans {
		covered := false
		for _, s := range spans {
			if s.lo == 0 && s.hi >= spec.max {
				covered = true
			}
		}
		if !covered {
			return false
		}
	}
	return true
}

func (c *classifier) buildField(spec fieldSpec) field {
	f := field{key: spec.key}
	nrows := int(spec.max) + 1
	if !spec.direct {
		points := []uint32{0}
		for _, spans := range spec.spans {
			for _, s := range spans {
				points = append(points, s.lo)
				if s.hi < spec.max {
					points = append(points, s.hi+1)
				}
			}
		}
		slices.Sort(points)
		f.starts = slices.Compact(points)
		nrows = len(f.starts)
	}
	f.rows = make([]uint64, nrows*c.words)
	for e, spans := range spec.spans {
		for _, s := range spans {
			for r := f.row(s.lo); r < nrows && f.rowStart(r) <= s.hi; r++ {
				f.rows[r*c.words+e/64] |= 1 << (e % 64)
			}
		}
	}
	f.sums = make([]uint64, nrows*c.sumWords)
	for r := range nrows {
		for w := range c.words {
			if f.rows[r*c.words+w] != 0 {
				f.sums[r*c.sumWords+w/64] |= 1 << (w % 64)
			}
		}
	}
	return f
}

func (f *field) rowStart(r int) uint32 {
	if f.starts == nil {
		return uint32(r)
	}
	return f.starts[r]
}

// lookup returns the index of the first entry that accepts keys, or -1.
func (c *classifier) lookup(keys *keyVector) int {
	if c.n == 0 {
		return -1
	}
	var rowOf [maxKeys]int
	fields := c.fields
	for i := range fields {
		rowOf[i] = fields[i].row(keys[fields[i].key])
	}
	for sw := 0; sw < c.sumWords; sw++ {
		cand := ^uint64(0)
		for i := range fields {
			cand &= fields[i].sums[rowOf[i]*c.sumWords+sw]
		}
		for cand != 0 {
			w := sw*64 + bits.TrailingZeros64(cand)
			cand &= cand - 1
			if w >= c.words {
				break
			}
			hit := ^uint64(0)
			for i := range fields {
				hit &= fields[i].rows[rowOf[i]*c.words+w]
			}
			if w == c.words-1 && c.n%64 != 0 {
				hit &= 1<<(c.n%64) - 1
			}
			if hit != 0 {
				return w*64 + bits.TrailingZeros64(hit)
			}
		}
	}
	return -1
}
