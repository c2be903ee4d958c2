package vis

import (
	"encoding/binary"
	"math/bits"

	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vntag"
)

// The usual frame from an IV — known unicast between two vEths whose
// policies have nothing to evaluate — is forwarded in passes over the
// batch, as vector packet processors do, rather than frame by frame:
//
//   - parse reads each frame's tag, vEth and VLAN and makes its MAC table
//     keys;
//   - lookup finds the keys' slots;
//   - forwardFast sends, from the first frame on, for as long as frames
//     are on the fast path: decideFast checks them and finds where each
//     goes, emitFast rewrites them in place and hands them to the Tx,
//     countFast counts them.
//
// Each pass does a little work per frame with no calls and little state,
// so that one frame's chain of dependent loads (frame, tag, vEth, key,
// table slot, destination vEth) does not stall the next and each loop's
// values stay in registers. A frame that needs anything else — a drop, an
// unknown or moved source, a flood, a VLAN tag to add or remove, a policy
// to evaluate, padding, an uplink — is left to the general path (classify, then switchFrame) when
// forwardFast reaches it, before anything has changed for it;
// TestFastPathsMatchGeneralPath checks that both give the same bytes,
// counters and table.
//
// What parse and lookup found stays true while forwardFast runs: the
// general path may learn new MACs (a new entry never moves an old one; a
// key not found is left to the general path anyway), move one
// (decideFast reads the owner afresh), err-disable a vEth (it reads
// fastOut afresh) or set a vEth inFast (its frames parsed before then take
// the general path), but it never changes a vEth's VLANs, removes an
// entry or clears inFast.

// headLen is how much of a frame the fast passes read: the MAC addresses,
// the longest NIV tag and an 802.1Q tag behind it.
const headLen = 12 + vntag.ETagLen + 6

// vidMask is the VID in an 802.1Q TCI.
const vidMask = 0xfff

// mayBeTPID reports whether et lies in the range of the TPIDs of every
// tag kind (vntag.KindOf): 802.1Q's 0x8100 up to 0x9100. An EtherType
// outside it is no tag, in one compare.
func mayBeTPID(et uint16) bool {
	return et-vntag.EtherTypeDot1Q <= vntag.EtherTypeQinQ-vntag.EtherTypeDot1Q
}

// isTPID reports whether et is the TPID of a VLAN or NIV tag.
func isTPID(et uint16) bool {
	return mayBeTPID(et) && vntag.KindOf(et) != vntag.KindNone
}

// fastFrame is what parse and lookup found out about a frame.
type fastFrame struct {
	skey, dkey uint64 // MAC table keys of the source and destination
	sj, dj     int32  // their slots; -1: not in the table, or not looked up
	src        int32  // source vEth (from an uplink: 0); -1: not for the fast path
	vlan       uint16
	tci        uint16 // the frame's 802.1Q TCI, if it has one
	tagged     bool   // the frame has an 802.1Q tag
	strip      bool   // set by decideUplink: the 802.1Q tag comes off
	dst        int32  // set by decideFast: the vEth the frame goes to
	// Set by parse: the frame's length as it came; by emitUplink: its
	// length out without the NIV tag.
	rxLen int32
	h     *[headLen]byte // set by parse: the frame's first bytes
}

// upBadVNTag and upBadETag are the bits of an upstream tag, as the 8 bytes
// from its TPID, that keep a frame off the fast path. VNTag: d, p, l and
// the version (the general path drops such a frame). E-Tag: GRP and
// Ingress_E-CID (dropped), and E-CID_ext: the fast path looks the E-CID
// up in the flat table of VIFs below 4096 only.
const (
	upBadVNTag = upstreamBad
	upBadETag  = vntag.ETCIIngressECIDBaseMask | vntag.ETCIGRPMask | vntag.ETCIIngressECIDExtMask | vntag.ETCIECIDExtMask
)

// tpidMask is the TPID in the 8 bytes from a tag's TPID, read as a
// big-endian word.
const tpidMask = 0xffff << 48

// upstreamMatch returns, for the usual upstream frame of a port in mode
// m, what its tag's first 8 bytes (as a big-endian word w) hold under
// mask — the TPID, and zero in the must-be-zero bits — as w&mask == want,
// and its tag length: one test for both.
func upstreamMatch(m vntag.Mode) (mask, want uint64, hl int) {
	if m == vntag.ModeETag {
		return tpidMask | upBadETag, vntag.EtherTypeETag << 48, vntag.ETagLen
	}
	return tpidMask | upBadVNTag, vntag.EtherTypeVNTag << 48, vntag.TagLen
}

// parse is the first fast pass: it sets fast[i] for frames[i] from IV
// port vp, src -1 unless the frame's tag is upstream with a VIF below 4096
// bound on the port, its vEth is up and needs only VLAN classification
// (hotIn: the port's fastIn entry for the VIF says all parse needs to
// know of the vEth, in one load), its VLAN is admitted, its destination is
// not a group address, no tag follows its 802.1Q tag (if any) and it needs
// no padding.
//
// It reads each frame's first 20 bytes as three words, from which the
// checks and both MAC table keys come.
func (s *VIS) parse(vp *vport, frames []port.Frame, fast []fastFrame) {
	in := vp.fastIn
	mask, want, hl := upstreamMatch(vp.mode)
	fast = fast[:len(frames)]
	for i := range frames {
		ff := &fast[i]
		ff.src = -1
		f := &frames[i]
		b := f.Buf[f.Off:]
		if len(b) < hl+vntag.MinFrameLen || superFrame(f) {
			continue // a runt, to pad, or a super-frame: the general path's
		}
		h := (*[headLen]byte)(b) // one bounds check for what follows
		dst := binary.BigEndian.Uint64(h[0:8])
		w := binary.BigEndian.Uint64(h[12:20])
		// Not to a group address, and the usual upstream tag.
		if dst&(1<<56) != 0 || w&mask != want {
			continue
		}
		e := in[w>>16&vntag.MaxSVIF] // by svif_id, or E-CID_base
		if e&inOK == 0 {
			continue
		}
		x := int32(uint32(e))
		// The frame as the VM sent it, behind the tag: an 802.1Q tag?
		// Behind it (or instead of it), another tag — stacked VLAN
		// tags, or a NIV tag to drop (DropNIVTag) — is the general
		// path's. The usual EtherType is outside the TPIDs' range and
		// takes one compare of isTPID (mayBeTPID).
		et := binary.BigEndian.Uint16(h[hl+12:])
		var tci uint16
		tagged := et == vntag.EtherTypeDot1Q
		if tagged {
			tci = binary.BigEndian.Uint16(h[hl+14:])
			if isTPID(binary.BigEndian.Uint16(h[hl+16:])) {
				continue
			}
			if hl == vntag.ETagLen {
				// The frame's priority is the E-Tag's, which the 802.1Q
				// tag takes on (ingressPrio).
				tci = tci&vidMask | uint16(w&ePrioBits>>(ePrioShift-12))
			}
		} else if isTPID(et) {
			continue
		}
		vlan := uint16(e>>32) & vidMask
		if e&inAccess != 0 {
			if vid := tci & vidMask; vid != 0 && vid != vlan {
				continue
			}
		} else {
			var ok bool
			if vlan, ok = s.veths[x].classifyIn(tci & vidMask); !ok {
				continue
			}
		}
		ff.dkey, ff.skey = macKeys(h[:], vlan)
		ff.vlan, ff.tci, ff.tagged, ff.src = vlan, tci, tagged, x
		ff.h, ff.rxLen = h, int32(len(b))
	}
}

// lookup is the second fast pass: it finds the slots of the keys parse
// made. It is also what warms the cache lines of the table: its loads are
// independent from frame to frame.
//
// It works in two steps per 64 frames, so that no branch depends on what
// a load from the table found. The first reads the home slot of every key
// and notes, in a bit per frame and not in a branch, which keys are not
// there: a key past its home slot (one in six, the table being at most
// half full), a key not in the table, and a group source (never learned).
// The second probes for those keys alone, from lines the first brought
// into the cache. Probing right after each load would mispredict on each
// of those keys and discard the table loads of the frames after it.
func (s *VIS) lookup(fast []fastFrame) {
	for len(fast) > 64 {
		s.lookup64(fast[:64])
		fast = fast[64:]
	}
	s.lookup64(fast)
}

// lookup64 is lookup for at most 64 frames.
func (s *VIS) lookup64(fast []fastFrame) {
	t := s.macs
	slots, mask, shift := t.slots, t.mask, t.shift
	// Bit len(fast)-1-i of ms (md) is set when frame i's source
	// (destination) is not in its home slot, shifted in from the right.
	var ms, md uint64
	for i := range fast {
		ff := &fast[i]
		if ff.src < 0 {
			ff.sj, ff.dj = -1, -1
			ms, md = ms<<1, md<<1
			continue
		}
		sk, dk := ff.skey, ff.dkey
		sj, dj := homeOf(sk>>12, shift), homeOf(dk>>12, shift)
		ff.sj, ff.dj = int32(sj), int32(dj)
		ms = ms<<1 | b2u(slots[sj].key != sk)
		md = md<<1 | b2u(slots[dj].key != dk)
	}
	last := len(fast) - 1
	for ; ms != 0; ms &= ms - 1 {
		ff := &fast[last-bits.TrailingZeros64(ms)]
		ff.sj = probe(slots, mask, uint64(ff.sj), ff.skey)
	}
	for ; md != 0; md &= md - 1 {
		ff := &fast[last-bits.TrailingZeros64(md)]
		ff.dj = probe(slots, mask, uint64(ff.dj), ff.dkey)
	}
}

// b2u is 1 for true and 0 for false, without a branch.
func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// forwardFast is the last fast pass: it sends frames from IV port vp,
// from the first, for as long as each is known unicast on the fast path
// and tx has room for one more frame, and returns how many it sent. The
// frame at the returned index, if any, is untouched.
//
// A frame is on the fast path when parse found it so; its source MAC is a
// group address or learned on its vEth; its destination is learned, not
// aged out, on another vEth that is fastOut, carries the VLAN, and takes
// it with the tagging the frame already has; and that vEth sits behind an
// IV port of the same tag mode. Then the frame keeps its bytes but for
// the NIV tag, rewritten in place for the destination (d=1, dvif_id;
// E-Tag: its E-CID) and the VID of a priority tag (0 becomes the VLAN the
// frame was classified to): the bytes a pop, a VLAN rewrite and a push
// give. A frame that would need padding to 60 bytes is left to the
// general path.
func (s *VIS) forwardFast(vp *vport, frames []port.Frame, fast []fastFrame, tick uint32, tx *port.Tx) int {
	outFrames, outPorts := txSpace(tx)
	m := min(len(frames), len(fast), len(outFrames))
	n := s.decideFast(vp, fast[:m], tick)
	s.emitFast(vp, frames[:n], fast[:n], tick, outFrames[:n], outPorts[:n])
	txAdd(tx, n)
	s.countFast(vp, fast[:n], tagLen(vp.mode))
	return n
}

// txSpace returns the room in tx's parallel slices, as far as both have
// capacity, for the fast passes to put frames and ports straight into:
// what Send does, without its checks in the loop. txAdd then takes the
// first n of them into tx.
func txSpace(tx *port.Tx) (frames []port.Frame, ports []int) {
	k := min(cap(tx.Frames)-len(tx.Frames), cap(tx.Ports)-len(tx.Ports))
	return tx.Frames[len(tx.Frames) : len(tx.Frames)+k], tx.Ports[len(tx.Ports) : len(tx.Ports)+k]
}

// txAdd takes into tx the first n frames and ports written into the
// slices txSpace returned.
func txAdd(tx *port.Tx, n int) {
	tx.Frames = tx.Frames[:len(tx.Frames)+n]
	tx.Ports = tx.Ports[:len(tx.Ports)+n]
}

// decideFast is forwardFast's first half: it returns how many frames from
// the first are on the fast path, with the vEth each goes to in its dst.
// It changes nothing but fast; emitFast, which changes the frames and
// refreshes the sources' age, follows it (that changes nothing decideFast
// found).
//
// decideAccess takes the frames to access vEths that need no lookup of
// their VLANs; decideFast calls decideOther from a frame it stops at, for
// as long as frames are on the fast path (to a trunk vEth, say), and
// decideAccess again after that, so that decideAccess's loop makes no
// call.
func (s *VIS) decideFast(vp *vport, fast []fastFrame, tick uint32) int {
	n := 0
	for n < len(fast) {
		n += s.decideAccess(vp, fast[n:], tick)
		// Frames to trunk vEths come in runs, as frames to access vEths
		// do: decideOther takes the run, then decideAccess goes on.
		m := n
		for n < len(fast) && s.decideOther(vp, &fast[n], tick) {
			n++
		}
		if n == m {
			break
		}
	}
	return n
}

// decideAccess is decideFast for frames to fastOut access vEths that take
// them untagged, behind a port of vp's tag mode: it returns how many
// frames from the first are such, and sets their dst.
func (s *VIS) decideAccess(vp *vport, fast []fastFrame, tick uint32) int {
	slots, hot, aging := s.macs.slots, s.hot, s.aging
	since := tick - aging
	// What the hot entry of an access vEth that takes the frame untagged
	// has: fastOut, behind a port of this port's tag mode.
	want := hotOut | hotAccess
	if vp.mode == vntag.ModeETag {
		want |= hotETag
	}
	for i := range fast {
		ff := &fast[i]
		owner := fastOwner(slots, ff, uint32(ff.src), since, aging)
		if uint(owner) >= uint(len(hot)) {
			return i
		}
		d := &hot[owner]
		if d.flags&(hotOut|hotAccess|hotETag) != want || d.vlan != ff.vlan || ff.tagged {
			return i
		}
		ff.dst = int32(owner)
	}
	return len(fast)
}

// decideOther is decideFast for one frame ff, to any vEth (decideFast
// calls it for the frames decideAccess does not take): it reports whether
// ff is on the fast path, and sets its dst if so.
func (s *VIS) decideOther(vp *vport, ff *fastFrame, tick uint32) bool {
	owner := fastOwner(s.macs.slots, ff, uint32(ff.src), tick-s.aging, s.aging)
	if owner >= uint32(len(s.veths)) || !s.carriesFast(owner, vp.mode, ff.vlan, ff.tagged) {
		return false
	}
	ff.dst = int32(owner)
	return true
}

// fastOwner returns the owner of ff's destination MAC when ff, from owner
// from (a vEth, or an uplink), may take the fast path as far as the MAC
// table goes, and noOwner when not: parse let it, its destination is
// learned, seen at since (tick - aging, for the tick of now) or later,
// and not on from, and its source is learned on from (so never a group
// address: a frame with one is the general path's, which forwards it as
// the fast path would, but is too rare to be worth a check here). A frame
// parse left to the general path has no slots (lookup), and -1, as a
// uint, is out of slots' range.
//
// The owner may be an uplink: the caller, which indexes hot with it, must
// check it is below len(hot), as neither an uplink's owner (uplinkBit) nor
// noOwner is.
func fastOwner(slots []macSlot, ff *fastFrame, from, since, aging uint32) uint32 {
	dj, sj := uint(uint32(ff.dj)), uint(uint32(ff.sj))
	if dj >= uint(len(slots)) || sj >= uint(len(slots)) || slots[sj].owner != from {
		return noOwner
	}
	owner := slots[dj].owner
	// Aged out: tick-seen > aging.
	if slots[dj].seen-since > aging || owner == from {
		return noOwner
	}
	return owner
}

// noOwner is what fastOwner returns for a frame not on the fast path.
const noOwner = ^uint32(0)

// carriesFast reports whether vEth x — not a fastOut access vEth behind
// a port of mode m — takes a frame of vlan on the fast path with the
// tagging it has: it must be fastOut, behind a port of mode m.
func (s *VIS) carriesFast(x uint32, m vntag.Mode, vlan uint16, tagged bool) bool {
	d := s.veths[x]
	if !d.fastOut || s.ports[d.port].mode != m {
		return false
	}
	in, untagged := d.carries(vlan)
	return in && untagged != tagged
}

// emitFast is forwardFast's second half: it rewrites the frames
// decideFast passed and puts them in out and outPorts. The frames go into
// out in one copy after the loop: a port.Frame holds a pointer, and
// storing one in the loop would cost a write barrier check per frame.
func (s *VIS) emitFast(vp *vport, frames []port.Frame, fast []fastFrame, tick uint32, out []port.Frame, outPorts []int) {
	slots, hot := s.macs.slots, s.hot
	hl, keep := tagLen(vp.mode), vp.rewriteKeep()
	fast, out, outPorts = fast[:len(frames)], out[:len(frames)], outPorts[:len(frames)]
	for i := range frames {
		ff := &fast[i]
		refreshSource(slots, ff, tick)
		d := &hot[ff.dst]
		h := ff.h
		if ff.tagged {
			// A priority tag (VID 0) gets the VLAN it was classified to.
			binary.BigEndian.PutUint16(h[hl+14:], ff.tci&^vidMask|ff.vlan)
		}
		w := binary.BigEndian.Uint64(h[12:20])
		binary.BigEndian.PutUint64(h[12:20], w&keep|d.down)
		outPorts[i] = int(d.port)
	}
	copy(out, frames)
}

// refreshSource marks the source MAC of ff, which decideFast or
// decideUplink found learned where the frame came from, seen at tick.
func refreshSource(slots []macSlot, ff *fastFrame, tick uint32) {
	if sl := &slots[ff.sj]; sl.seen != tick {
		sl.seen = tick
	}
}

// countFast counts the frames forwardFast sent from port vp: the counters
// of a run of frames from one vEth to one vEth add up in registers
// (sameRun) and are stored once per run, not once per frame. The frames
// leave as long as they came: a frame that would need padding never takes
// the fast path (parse).
func (s *VIS) countFast(vp *vport, fast []fastFrame, hl int) {
	var sum uint64
	for i := 0; i < len(fast); {
		n, bytes, _ := sameRun(fast[i:])
		sum += bytes
		frames := uint64(n)
		src, dst := fast[i].src, fast[i].dst
		v, d := s.veths[src], s.veths[dst]
		v.c.RxFrames += frames
		v.c.RxBytes += bytes - frames*uint64(hl)
		d.c.TxFrames += frames
		d.c.TxBytes += bytes - frames*uint64(hl)
		op := s.ports[s.hot[dst].port]
		op.c.TxFrames += frames
		op.c.TxBytes += bytes
		i += n
	}
	vp.c.RxFrames += uint64(len(fast))
	vp.c.RxBytes += sum
}

// sameRun returns how many frames from the first of fast (at least one)
// have its source and destination vEths, the sum of their lengths, and
// how many of them had their 802.1Q tag taken off (strip: set by
// decideUplink only, so meaningless for frames from an IV port). It is
// not inlined so that its loop keeps the sums in registers, as it would
// not inside countFast's or countUplink's loop.
//
//go:noinline
func sameRun(fast []fastFrame) (n int, bytes, stripped uint64) {
	src, dst := fast[0].src, fast[0].dst
	for n = 0; n < len(fast) && fast[n].src == src && fast[n].dst == dst; n++ {
		bytes += uint64(fast[n].rxLen)
		if fast[n].strip {
			stripped++
		}
	}
	return n, bytes, stripped
}
