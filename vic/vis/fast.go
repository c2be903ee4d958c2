package vis

import (
	"encoding/binary"

	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vntag"
)

// The usual frame from an IV — known unicast between two vEths whose
// policies have nothing to evaluate — is forwarded in three passes over
// the batch, as vector packet processors do, rather than frame by frame:
//
//   - parse reads each frame's tag, vEth and VLAN and makes its MAC table
//     keys;
//   - lookup finds the keys' slots;
//   - forwardFast decides and sends, frame by frame in order.
//
// Each pass does a little work per frame with no calls and little state,
// so that the CPU works on many frames at once: one frame's chain of
// dependent loads (frame, tag, vEth, key, table slot, destination vEth)
// no longer stalls the next, and a mispredicted branch in lookup (a key
// not in its home slot) throws away little work. A frame that needs
// anything else — a drop, an unknown or moved source, a flood, a VLAN tag
// to add or remove, a policy to evaluate, an uplink — is left to the
// general path (classify, then switchFrame) when forwardFast reaches it,
// before anything has changed for it; TestFastPathsMatchGeneralPath
// checks that both give the same bytes, counters and table.
//
// What parse and lookup found stays true while forwardFast runs: the
// general path may learn new MACs (a new entry never moves an old one; a
// key not found is left to the general path anyway), move one
// (forwardFast reads the owner afresh), err-disable a vEth (it reads
// fastOut afresh) or set a vEth inFast (its frames parsed before then take
// the general path), but it never changes a vEth's VLANs, removes an
// entry or clears inFast.

// fastFrame is what parse and lookup found out about a frame.
type fastFrame struct {
	skey, dkey uint64 // MAC table keys of the source and destination
	sj, dj     int32  // their slots; -1: not in the table, or not looked up
	src        int32  // source vEth; -1: not for the fast path
	vlan       uint16
	tci        uint16 // the frame's 802.1Q TCI, if it has one
	tagged     bool   // the frame has an 802.1Q tag
	dst        int32  // set by forwardFast: the vEth it sent the frame to
	rxLen      int32  // set by forwardFast: the frame's length as it came
}

// upBadVNTag and upBadETag are the bits of an upstream tag, as the 8 bytes
// from its TPID, that keep a frame off the fast path. VNTag: d, p, l and
// the version (the general path drops such a frame). E-Tag: GRP and
// Ingress_E-CID (dropped), and E-CID_ext: the fast path looks the E-CID
// up in the flat table of VIFs below 4096 only.
const (
	upBadVNTag = upstreamBad
	upBadETag  = 0xfff<<32 | 3<<28 | 0xff<<8 | 0xff
)

// upstreamMatch returns the TPID and the must-be-zero bits of the usual
// upstream frame of a port in mode m, and its tag length.
func upstreamMatch(m port.TagMode) (tpid, bad uint64, hl int) {
	if m == port.ETag {
		return vntag.EtherTypeETag, upBadETag, vntag.ETagLen
	}
	return vntag.EtherTypeVNTag, upBadVNTag, vntag.TagLen
}

// parse is the first fast pass: it sets fast[i] for frames[i] from IV
// port vp, src -1 unless the frame's tag is upstream with a VIF below 4096
// bound on the port, its vEth is up and needs only VLAN classification
// (inFast), its VLAN is admitted and its destination is not a group
// address.
//
// It returns what copies of every frame would take of a Tx's arena (the
// sum of port.CopySize of their lengths with room for a VLAN tag), for
// Process to check with one comparison that tx has room for the batch.
func (s *VIS) parse(vp *vport, frames []port.Frame, fast []fastFrame) (copyBytes int) {
	low, veths := vp.low, s.veths
	tpid, bad, hl := upstreamMatch(vp.mode)
	for i := range frames {
		ff := &fast[i]
		ff.src = -1
		b := frames[i].Bytes()
		copyBytes += port.CopySize(len(b) + 4)
		if len(b) < hl+18 || b[0]&1 != 0 { // short, or to a group address
			continue
		}
		w := binary.BigEndian.Uint64(b[12:])
		if w>>48 != tpid || w&bad != 0 {
			continue
		}
		x := low[w>>16&0xfff]
		if x < 0 {
			continue
		}
		v := veths[x]
		if !v.adminUp || !v.inFast {
			continue
		}
		u := b[hl:] // the frame as the VM sent it, behind the tag
		tagged := binary.BigEndian.Uint16(u[12:]) == vntag.EtherTypeDot1Q
		var tci uint16
		if tagged {
			tci = binary.BigEndian.Uint16(u[14:])
		}
		vlan, ok := v.classifyIn(tci & 0xfff)
		if !ok {
			continue
		}
		dkey, skey := macKeys(b, vlan)
		ff.skey, ff.dkey, ff.vlan, ff.tci, ff.tagged, ff.src = skey, dkey, vlan, tci, tagged, x
	}
	return copyBytes
}

// lookup is the second fast pass: it finds the slots of the keys parse
// made, the source's only when it is not a group address (which is never
// learned). It is also what warms the cache lines of the table: its loads
// are independent from frame to frame.
func (s *VIS) lookup(fast []fastFrame) {
	t := s.macs
	slots, mask, shift := t.slots, t.mask, t.shift
	for i := range fast {
		ff := &fast[i]
		ff.sj, ff.dj = -1, -1
		if ff.src < 0 {
			continue
		}
		// Both home slots are read before either probe branches on what
		// it found: a mispredicted branch of the first then does not hold
		// back the second load.
		sk, dk := ff.skey, ff.dkey
		sj, dj := homeOf(sk>>12, shift), homeOf(dk>>12, shift)
		sv, dv := slots[sj].key, slots[dj].key
		if sk&keyGroup == 0 {
			for ; sv != 0; sv = slots[sj].key {
				if sv == sk {
					ff.sj = int32(sj)
					break
				}
				sj = (sj + 1) & mask
			}
		}
		for ; dv != 0; dv = slots[dj].key {
			if dv == dk {
				ff.dj = int32(dj)
				break
			}
			dj = (dj + 1) & mask
		}
	}
}

// forwardFast is the last fast pass: it sends frames from IV port in, from the
// first, for as long as each is known unicast on the fast path, and
// returns how many it sent. The frame at the returned index, if any, is
// untouched.
//
// A frame is on the fast path when parse found it so; its source MAC is a
// group address or learned on its vEth; its destination is learned, not
// aged out, on another vEth that is fastOut, carries the VLAN, and takes
// it with the tagging the frame already has; and that vEth sits behind an
// IV port of the same tag mode. Then the frame keeps its bytes but for
// the NIV tag, rewritten in place for the destination (d=1, dvif_id;
// E-Tag: its E-CID), the VID of a priority tag (0 becomes the VLAN the
// frame was classified to), and padding to 60 bytes: the bytes a pop, a
// VLAN rewrite and a push give.
func (s *VIS) forwardFast(in int, vp *vport, frames []port.Frame, fast []fastFrame, tick uint32, tx *port.Tx) int {
	slots, veths, ports, aging := s.macs.slots, s.veths, s.ports, s.aging
	hl, keep := tagLen(vp.mode), vp.rewriteKeep()
	// The frames go straight into tx's parallel slices, within their
	// capacity: what Send does, without its checks in the loop.
	k, kp := len(tx.Frames), len(tx.Ports)
	m := min(len(frames), len(fast), cap(tx.Frames)-k, cap(tx.Ports)-kp)
	out, outPorts := tx.Frames[k:k+m], tx.Ports[kp:kp+m]
	i := 0
	for ; i < m; i++ {
		ff := &fast[i]
		if ff.src < 0 || ff.dj < 0 {
			break
		}
		src := uint32(ff.src)
		var ssl *macSlot // nil: a group source is not learned
		if ff.skey&keyGroup == 0 {
			if ff.sj < 0 {
				break
			}
			if ssl = &slots[ff.sj]; ssl.owner != src {
				break
			}
		}
		dsl := &slots[ff.dj]
		owner := dsl.owner
		if tick-dsl.seen > aging || owner == src || owner&uplinkBit != 0 {
			break
		}
		d := veths[owner]
		if !d.fastOut {
			break
		}
		if dIn, untagged := d.carries(ff.vlan); !dIn || untagged == ff.tagged {
			break
		}
		if d.port != in && ports[d.port].mode != vp.mode {
			break
		}
		f := &frames[i]
		buf, off := f.Buf, f.Off
		b := buf[off:]
		u := b[hl:]
		n := len(u)
		if n < vntag.MinFrameLen && cap(u) < vntag.MinFrameLen {
			break
		}

		// Forward it; countFast counts it.
		if ssl != nil && ssl.seen != tick {
			ssl.seen = tick
		}
		ff.dst, ff.rxLen = int32(owner), int32(len(b))
		if n < vntag.MinFrameLen {
			clear(u[n:vntag.MinFrameLen])
			buf = buf[:off+hl+vntag.MinFrameLen]
			f.Buf = buf
		}
		if ff.tagged {
			// A priority tag (VID 0) gets the VLAN it was classified to.
			binary.BigEndian.PutUint16(u[14:], ff.tci&0xf000|ff.vlan)
		}
		w := binary.BigEndian.Uint64(b[12:])
		binary.BigEndian.PutUint64(b[12:], w&keep|d.down)
		out[i] = port.Frame{Buf: buf, Off: off}
		outPorts[i] = d.port
	}
	tx.Frames = tx.Frames[:k+i]
	tx.Ports = tx.Ports[:kp+i]
	s.countFast(in, vp, fast[:i], hl)
	return i
}

// countFast counts the frames forwardFast sent from port in, in a loop
// of its own: the counters of a vEth are read and written by frame after
// frame, a chain the forwarding loop need not wait on. The port's own
// counters, the same for every frame, add up in registers.
func (s *VIS) countFast(in int, vp *vport, fast []fastFrame, hl int) {
	veths, ports := s.veths, s.ports
	var rxBytes, txFrames, txBytes uint64
	for i := range fast {
		ff := &fast[i]
		rx := uint64(ff.rxLen)
		rxBytes += rx
		v := veths[ff.src]
		v.c.RxFrames++
		v.c.RxBytes += rx - uint64(hl)
		tx := max(rx, uint64(hl+vntag.MinFrameLen)) // padded
		d := veths[ff.dst]
		d.c.TxFrames++
		d.c.TxBytes += tx - uint64(hl)
		if d.port == in {
			txFrames++
			txBytes += tx
		} else {
			op := ports[d.port]
			op.c.TxFrames++
			op.c.TxBytes += tx
		}
	}
	vp.c.RxFrames += uint64(len(fast))
	vp.c.RxBytes += rxBytes
	vp.c.TxFrames += txFrames
	vp.c.TxBytes += txBytes
}
