package cores

import (
	"encoding/binary"

	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vntag"
)

// offCore is a Device's core with behaviours switched off: it runs the
// real core and then undoes, in what the core sent, exactly what the
// behaviour does on the wire. The cores are not changed.
type offCore struct{ d *Device }

func (c offCore) Process(in int, frames []port.Frame, now int64, tx *port.Tx) int {
	start := tx.Len()
	n := c.d.core.Process(in, frames, now, tx)
	if c.d.vis == nil {
		return n
	}
	keep := start
	for i := start; i < len(tx.Frames); i++ {
		f, p := tx.Frames[i], tx.Ports[i]
		b := f.Bytes()
		kind := tagAt12(b)
		if c.d.off[Hairpin] && p == in && c.unicast(p, b, kind) {
			continue // a unicast frame back out of its own port
		}
		if c.d.off[SourcePruning] {
			clearPrune(b, kind)
		}
		tx.Frames[keep], tx.Ports[keep] = f, p
		keep++
	}
	tx.Frames, tx.Ports = tx.Frames[:keep], tx.Ports[:keep]
	return n
}

// unicast reports whether frame b, which the VIS sent out of port p, is a
// unicast frame: on an IV port one with a NIV tag to a single VIF, on an
// evb port (reflective relay) one to an individual address.
func (c offCore) unicast(p int, b []byte, kind vntag.Kind) bool {
	if c.d.evb[p] {
		return len(b) > 0 && b[0]&1 == 0
	}
	return (kind == vntag.KindVNTag || kind == vntag.KindETag) && !isList(b, kind)
}

// tagAt12 returns the kind of NIV tag right after the MAC addresses.
func tagAt12(b []byte) vntag.Kind {
	if len(b) < 12+vntag.ETagLen {
		return vntag.KindNone
	}
	return vntag.KindOf(binary.BigEndian.Uint16(b[12:]))
}

// isList reports whether the tag at offset 12 names a vif list (VNTag
// p=1, E-Tag GRP>0).
func isList(b []byte, kind vntag.Kind) bool {
	switch kind {
	case vntag.KindVNTag:
		return b[14]&0x40 != 0
	case vntag.KindETag:
		return b[16]&0x30 != 0
	}
	return false
}

// clearPrune clears the looped bit and svif_id of a VNTag, or the
// Ingress_E-CID of an E-Tag, at offset 12.
func clearPrune(b []byte, kind vntag.Kind) {
	switch kind {
	case vntag.KindVNTag:
		if b[16]&0x80 != 0 {
			b[16] &= 0x70 // keep r and ver
			b[17] = 0
		}
	case vntag.KindETag:
		b[14] &= 0xf0 // keep E-PCP and E-DEI
		b[15] = 0
		b[18] = 0
	}
}
