package iv

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vntag"
)

// Drop says why the IV dropped a frame.
type Drop uint8

// Drop reasons. They index Counters.Drops.
const (
	DropNone        Drop = iota
	DropMalformed        // shorter than an Ethernet header, or its tag stack is cut short
	DropInjected         // a vNIC sent a frame that already carries a VNTag or E-Tag
	DropNoUplink         // both uplinks are down
	DropNoTag            // a downstream frame without the link's tag (VNTag or E-Tag)
	DropBadTag           // a downstream VNTag with d=0 or a version other than 0
	DropUnknownVIF       // a downstream frame for a VIF that is not attached
	DropUnknownList      // a downstream frame for a vif list that was never programmed
	DropSourceVIF        // a looped unicast frame whose destination is its own source
	DropNoPort           // the frame arrived on a port number the IV does not have
	DropNoRoom           // the frame's copies would not fit in an empty Tx
	DropNoPadRoom        // shorter than 60 bytes (once its tag is popped, or as a vNIC sent it), in a buffer too small to pad (and tag) it
	DropNIVTag           // a downstream frame with a VNTag or E-Tag behind the link's tag (after any VLAN tags): a NIV tag never travels beyond its link
	NumDrops
)

var dropNames = [NumDrops]string{
	"none", "malformed", "tag injection", "no uplink up", "no NIV tag", "bad tag",
	"unknown VIF", "unknown vif list", "to its own source VIF", "no such port", "no room in Tx",
	"no room to pad", "NIV tag behind the tag",
}

// String describes the reason.
func (d Drop) String() string {
	if d < NumDrops {
		return dropNames[d]
	}
	return fmt.Sprintf("Drop(%d)", uint8(d))
}

// Counters are a vNIC's or an uplink's counters. For a vNIC, Rx counts the
// frames it sent and Tx those delivered to it; for an uplink, Rx counts
// what came down and Tx what went up. Bytes are counted as the frame was
// on that port (with the tag on an uplink, without it on a vNIC).
type Counters struct {
	RxFrames, RxBytes uint64
	TxFrames, TxBytes uint64
	// Pruned counts copies of flooded frames not delivered to this vNIC
	// because it was their source.
	Pruned uint64
	// Drops counts dropped frames by reason.
	Drops [NumDrops]uint64
}

// Dropped returns the total of Drops.
func (c *Counters) Dropped() uint64 {
	var n uint64
	for _, d := range c.Drops {
		n += d
	}
	return n
}

// String renders the counters on one line, drops by reason when any.
func (c Counters) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rx %d frames %d bytes, tx %d frames %d bytes", c.RxFrames, c.RxBytes, c.TxFrames, c.TxBytes)
	if c.Pruned > 0 {
		fmt.Fprintf(&b, ", pruned %d", c.Pruned)
	}
	for d, n := range c.Drops {
		if n > 0 {
			fmt.Fprintf(&b, ", %s %d", Drop(d), n)
		}
	}
	return b.String()
}

// Process handles frames that arrived on port in — an uplink (UplinkA,
// UplinkB) or a vNIC — and appends what the IV sends to tx (port.Core).
// now is not used: the IV keeps no timers. It returns the number of frames
// consumed, fewer than len(frames) only when tx is full; it never
// allocates.
func (v *IV) Process(in int, frames []port.Frame, now int64, tx *port.Tx) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	if in == UplinkA || in == UplinkB {
		return v.downstream(&v.uplinks[in].c, frames, tx)
	}
	i := in - FirstVNIC
	if i < 0 || i >= len(v.vnics) || !v.vnics[i].attached {
		// Not ours: count on uplink A so the loss is visible.
		v.uplinks[UplinkA].c.Drops[DropNoPort] += uint64(len(frames))
		return len(frames)
	}
	return v.upstream(&v.vnics[i], frames, tx)
}

// upstream tags the frames of vNIC n and sends them up its active uplink:
// runs of the usual frame on the fast path (upFast), any other frame on
// the general one (upOne).
func (v *IV) upstream(n *vnic, frames []port.Frame, tx *port.Tx) int {
	up := v.active(n.cfg.Fabric)
	for i := 0; ; i++ {
		if up >= 0 && !v.noFast {
			i += v.upFast(n, up, frames[i:], tx)
		}
		if i == len(frames) || !v.upOne(n, up, &frames[i], tx) {
			return i
		}
	}
}

// upOne tags frame f of vNIC n and sends it up uplink up (-1: none is up),
// or drops it. It reports false, leaving f untouched, when tx is full.
func (v *IV) upOne(n *vnic, up int, f *port.Frame, tx *port.Tx) bool {
	if tx.Len() == cap(tx.Frames) { // tx.Room(1, 0, 0)
		return false
	}
	hl, tpid := vntag.TagLen, uint16(vntag.EtherTypeVNTag)
	if v.mode == vntag.ModeETag {
		hl, tpid = vntag.ETagLen, vntag.EtherTypeETag
	}
	b := f.Bytes()
	n.c.RxFrames++
	n.c.RxBytes += uint64(len(b))
	if len(b) < 14 {
		n.c.Drops[DropMalformed]++
		return true
	}
	// Most frames have a plain EtherType here; only a tag's TPID needs
	// the walk through the tag stack.
	if vntag.KindOf(binary.BigEndian.Uint16(b[12:])) != vntag.KindNone {
		if kind, _, err := vntag.FindTag(b); err == nil && kind.IsNIV() {
			n.c.Drops[DropInjected]++
			return true
		} else if kind == vntag.KindNone && err != vntag.ErrNoTag {
			n.c.Drops[DropMalformed]++
			return true
		}
	}
	if up < 0 {
		n.c.Drops[DropNoUplink]++
		return true
	}
	if len(b) < vntag.MinFrameLen {
		// Short, as a vNIC may send it: it goes up padded to 60 bytes
		// (then tagged), as the VIS sends.
		if !padFrame(f, hl) {
			n.c.Drops[DropNoPadRoom]++
			return true
		}
		b = f.Bytes()
	}
	etag := n.etag
	if v.mode == vntag.ModeETag && len(b) >= 16 && binary.BigEndian.Uint16(b[12:]) == vntag.EtherTypeDot1Q {
		// E-PCP and E-DEI carry the frame's priority: its 802.1Q tag's
		// PCP and DEI (an untagged frame has 0).
		etag = vntag.ETagFromWord(etag.TCI()|uint64(b[14]>>4)<<44, 0)
	}
	if ns := f.Off - hl; ns >= 0 {
		// What Push and PushETag do with headroom, inline: the
		// addresses move into it, the TPID follows them, and the
		// frame's own type field stays to follow the tag.
		moveAddrs(f.Buf[ns:], b)
		binary.BigEndian.PutUint16(f.Buf[ns+12:], tpid)
		f.Off = ns
		if v.mode == vntag.ModeETag {
			vntag.ETagHeader(f.Buf[ns+12 : ns+12+vntag.ETagHeaderLen]).SetTCI(etag)
		} else {
			vntag.TagHeader(f.Buf[ns+12 : ns+12+vntag.TagHeaderLen]).SetWord(n.tag)
		}
	} else {
		var out []byte
		var err error
		if v.mode == vntag.ModeETag {
			out, err = vntag.PushETag(f.Buf, f.Off, etag)
		} else {
			out, err = vntag.Push(f.Buf, f.Off, n.tag)
		}
		if err != nil {
			n.c.Drops[DropMalformed]++
			return true
		}
		setFrame(f, out)
	}
	tx.Send(up, *f)
	c := &v.uplinks[up].c
	c.TxFrames++
	c.TxBytes += uint64(f.Len())
	return true
}

// moveAddrs copies the 12 MAC address bytes of src to dst, which may
// overlap it: both loads come before the stores.
func moveAddrs(dst, src []byte) {
	_, _ = dst[11], src[11]
	lo := binary.NativeEndian.Uint64(src)
	hi := binary.NativeEndian.Uint32(src[8:])
	binary.NativeEndian.PutUint64(dst, lo)
	binary.NativeEndian.PutUint32(dst[8:], hi)
}

// setFrame makes f the frame out, a slice of f's buffer that Push or Pop
// returned (it may start earlier or later and be longer).
func setFrame(f *port.Frame, out []byte) {
	off := cap(f.Buf) - cap(out)
	f.Off = off
	f.Buf = f.Buf[:off+len(out)]
}

// downstream pops the tag of frames that came down an uplink and delivers
// them to vNICs: runs of the usual frame on the fast path (parseDown, then
// sendDown), any other frame on the general one (downOne).
func (v *IV) downstream(uc *Counters, frames []port.Frame, tx *port.Tx) int {
	var dst [fastBatch]int32
	for base := 0; base < len(frames); base += fastBatch {
		chunk := frames[base:min(base+fastBatch, len(frames))]
		v.parseDown(chunk, dst[:])
		for i := 0; ; i++ {
			i += v.sendDown(uc, chunk[i:], dst[i:len(chunk)], tx)
			if i == len(chunk) {
				break
			}
			if !v.downOne(uc, &chunk[i], tx) {
				return base + i
			}
		}
	}
	return len(frames)
}

// downOne pops the tag of frame f, which came down the uplink with
// counters uc, and delivers it, or drops it. It reports false, leaving f
// untouched and uncounted, when its copies do not fit in tx but tx holds
// frames already: the caller writes tx out and comes back with it.
func (v *IV) downOne(uc *Counters, f *port.Frame, tx *port.Tx) bool {
	tpid := uint16(vntag.EtherTypeVNTag)
	if v.want == vntag.KindETag {
		tpid = vntag.EtherTypeETag
	}
	b := f.Bytes()
	var (
		kind vntag.Kind
		off  int
		err  error
	)
	if len(b) >= vntag.AddrLen+vntag.ETagHeaderLen && binary.BigEndian.Uint16(b[12:]) == tpid {
		// The usual frame, as FindTag would find it: the link's tag
		// right after the addresses.
		kind, off = v.want, vntag.AddrLen
	} else {
		kind, off, err = vntag.FindTag(b)
	}
	if err != nil || kind != v.want {
		uc.RxFrames++
		uc.RxBytes += uint64(len(b))
		if err == vntag.ErrShortBuffer {
			uc.Drops[DropMalformed]++
		} else {
			uc.Drops[DropNoTag]++
		}
		return true
	}
	// Where the frame goes: one VIF, or a list less a pruned source.
	var (
		dst    vntag.VIF
		list   *vlist
		prune  vntag.VIF // 0: none
		listID uint32
		isList bool
	)
	if kind == vntag.KindVNTag {
		t := vntag.TagHeader(b[off : off+vntag.TagHeaderLen]).Tag()
		if t.Direction() != vntag.FromBridge || t.Version() != 0 {
			uc.RxFrames++
			uc.RxBytes += uint64(len(b))
			uc.Drops[DropBadTag]++
			return true
		}
		if t.Looped() {
			prune = vntag.VIF(t.SVIF())
		}
		if t.Pointer() {
			isList, listID = true, uint32(t.DVIF())
		} else {
			dst = vntag.VIF(t.DVIF())
		}
	} else {
		e := vntag.ETagHeader(b[off : off+vntag.ETagHeaderLen]).ETag()
		prune = vntag.VIF(e.IngressECID())
		if e.Multicast() {
			isList, listID = true, e.Channel()
		} else {
			dst = vntag.VIF(e.ECID())
		}
	}
	if nivBehind(b[off+kind.Len()-vntag.AddrLen:]) {
		uc.RxFrames++
		uc.RxBytes += uint64(len(b))
		uc.Drops[DropNIVTag]++
		return true
	}
	fanout := 1
	if isList {
		list = v.lists[listID]
		if list != nil {
			fanout = len(list.ports)
		}
	}
	if !tx.Room(fanout, fanout-1, len(b)) {
		if tx.Len() > 0 {
			return false
		}
		uc.RxFrames++
		uc.RxBytes += uint64(len(b))
		uc.Drops[DropNoRoom]++
		return true
	}
	uc.RxFrames++
	uc.RxBytes += uint64(len(b))
	if !isList {
		p, ok := v.lookup(dst)
		switch {
		case !ok:
			uc.Drops[DropUnknownVIF]++
			return true
		case prune == dst:
			n := &v.vnics[int(p)-FirstVNIC]
			n.c.Drops[DropSourceVIF]++
			return true
		}
		padded := true
		if hl := kind.Len(); off == vntag.AddrLen {
			// What pop does, inline: the addresses move over the tag.
			moveAddrs(b[hl:], b)
			f.Off += hl
			if len(b)-hl < vntag.MinFrameLen {
				padded = padFrame(f, 0)
			}
		} else {
			padded = v.pop(f, kind)
		}
		if !padded {
			v.vnics[int(p)-FirstVNIC].c.Drops[DropNoPadRoom]++
			return true
		}
		v.deliver(tx, int(p), *f)
		return true
	}
	if list == nil {
		uc.Drops[DropUnknownList]++
		return true
	}
	if !v.pop(f, kind) {
		uc.Drops[DropNoPadRoom]++
		return true
	}
	frame := f.Bytes()
	last := -1
	for _, p := range list.ports {
		n := &v.vnics[int(p)-FirstVNIC]
		if prune != 0 && n.cfg.VIF == prune {
			n.c.Pruned++
			continue
		}
		if last >= 0 {
			if c := tx.Copy(last, frame); c != nil {
				v.count(last, len(frame))
			}
		}
		last = int(p)
	}
	if last >= 0 {
		v.deliver(tx, last, *f)
	}
	return true
}

// pop removes the link's tag from f and pads it to the minimum length. It
// reports false when f is too short and its buffer too small to pad it.
func (v *IV) pop(f *port.Frame, kind vntag.Kind) bool {
	b := f.Bytes()
	var out []byte
	if kind == vntag.KindVNTag {
		_, out, _ = vntag.Pop(b)
	} else {
		_, out, _ = vntag.PopETag(b)
	}
	setFrame(f, out)
	return padFrame(f, 0)
}

// padFrame zero-fills f up to the minimum length (vntag.Pad), leaving at
// least head bytes in front of it (for a tag to push), and reports whether
// it could. When the buffer has too little room behind the frame, or in
// front, the frame first moves to the end of its buffer (after a pop, the
// bytes the tag took are room in front); only a buffer smaller than the
// minimum and head cannot be padded.
func padFrame(f *port.Frame, head int) bool {
	n := f.Len()
	if n >= vntag.MinFrameLen {
		return true
	}
	if f.Off < head || cap(f.Buf)-f.Off < vntag.MinFrameLen {
		off := cap(f.Buf) - vntag.MinFrameLen
		if off < head || !f.Offload().IsZero() {
			// A frame with offload state is never moved: its positions
			// count from the buffer's start (port.Offload).
			return false
		}
		buf := f.Buf[:cap(f.Buf)]
		copy(buf[off:], buf[f.Off:f.Off+n])
		f.Buf, f.Off = buf[:off+n], off
	}
	padded, _ := vntag.Pad(f.Bytes()) // cannot fail: the room is there
	setFrame(f, padded)
	return true
}

// nivBehind reports whether the tag stack of frame b (from its addresses)
// holds a VNTag or an E-Tag, behind any VLAN tags.
func nivBehind(b []byte) bool {
	_, _, err := vntag.FindTag(b)
	return err == nil
}

func (v *IV) deliver(tx *port.Tx, p int, f port.Frame) {
	tx.Send(p, f)
	v.count(p, f.Len())
}

func (v *IV) count(p, n int) {
	c := &v.vnics[p-FirstVNIC].c
	c.TxFrames++
	c.TxBytes += uint64(n)
}
