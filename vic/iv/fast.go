package iv

import (
	"encoding/binary"

	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vntag"
)

// The usual frames take a fast path: upstream, a frame without a tag and
// with headroom for one; downstream, a unicast frame for an attached VIF
// below 4096 with the link's tag right after the addresses and at least 60
// bytes left once it is popped. Per-frame time here is bound by chains of
// dependent loads (frame, tag, table, vNIC) and by register spills, not by
// instruction count, so the fast path is made of short loops without calls
// that keep their state in registers and let the CPU overlap frames:
// upFast upstream; parseDown (tag and table, for up to fastBatch frames),
// then sendDown (pop, send and count) downstream. They read the type
// field or tag as one 8-byte load, and write the frames straight into the
// Tx's slices. They stop, before changing anything for it, at the first
// frame that needs anything else — a drop, a VLAN tag, a pad, a vif list,
// a full Tx — and the general path (upOne, downOne) takes that one frame;
// the fast path then goes on with the next. TestFastPathsMatchGeneralPath
// checks that both paths give the same bytes, counters and drops.

// upFast tags frames of vNIC n from the first and sends them up uplink up
// (>= 0) for as long as each is the usual frame, and returns how many it
// sent.
func (v *IV) upFast(n *vnic, up int, frames []port.Frame, tx *port.Tx) int {
	// The 8 bytes from the tag's TPID: VNTag TPID, tag and the frame's
	// own type field (keep), E-Tag TPID and E-TCI.
	hl, hdr, keep := vntag.TagLen, uint64(vntag.EtherTypeVNTag)<<48|uint64(n.tag.Word())<<16, uint64(0xffff)
	if v.mode == vntag.ModeETag {
		hl, hdr, keep = vntag.ETagLen, uint64(vntag.EtherTypeETag)<<48|n.etag.TCI(), 0
	}
	k, kp := len(tx.Frames), len(tx.Ports)
	m := min(len(frames), cap(tx.Frames)-k, cap(tx.Ports)-kp)
	out, outPorts := tx.Frames[k:k+m], tx.Ports[kp:kp+m]
	var rxBytes uint64
	i := 0
	for ; i < m; i++ {
		f := &frames[i]
		buf, off := f.Buf, f.Off
		ns := off - hl
		if ns < 0 || len(buf)-off < vntag.MinFrameLen {
			break // no headroom, or to pad
		}
		b := buf[off : off+14]
		et := binary.BigEndian.Uint16(b[12:])
		if isTPID(et) {
			break
		}
		lo := binary.NativeEndian.Uint64(b)
		mid := binary.NativeEndian.Uint32(b[8:])
		h := buf[ns : ns+20] // addresses and the 8 bytes from the TPID
		binary.NativeEndian.PutUint64(h, lo)
		binary.NativeEndian.PutUint32(h[8:], mid)
		binary.BigEndian.PutUint64(h[12:], hdr|uint64(et)&keep)
		f.Off = ns
		rxBytes += uint64(len(buf) - off)
		out[i] = port.Frame{Buf: buf, Off: ns}
		outPorts[i] = up
	}
	tx.Frames = tx.Frames[:k+i]
	tx.Ports = tx.Ports[:kp+i]
	n.c.RxFrames += uint64(i)
	n.c.RxBytes += rxBytes
	c := &v.uplinks[up].c
	c.TxFrames += uint64(i)
	c.TxBytes += rxBytes + uint64(i*hl)
	return i
}

// isTPID reports whether t is a tag's TPID (vntag.KindOf(t) != KindNone),
// as compares and branches: KindOf's result, once inlined, takes a
// register the loop of upFast has no room for.
func isTPID(t uint16) bool {
	switch t {
	case vntag.EtherTypeDot1Q, vntag.EtherTypeDot1AD, vntag.EtherTypeQinQ, vntag.EtherTypeVNTag, vntag.EtherTypeETag:
		return true
	}
	return false
}

// stacked reports whether b, the bytes behind a downstream frame's link
// tag (at least 6), start with a NIV tag, or with a VLAN tag that another
// tag follows: frames parseDown leaves to downOne, which drops those with
// a NIV tag (DropNIVTag). It reads the EtherType behind the VLAN tag only
// for a VLAN tag, and makes no call, so that parseDown's loop keeps its
// values in registers.
func stacked(b []byte) bool {
	et := binary.BigEndian.Uint16(b)
	return isTPID(et) && (et == vntag.EtherTypeVNTag || et == vntag.EtherTypeETag || isTPID(binary.BigEndian.Uint16(b[vntag.VLANTagLen:])))
}

// Bits of the 8 bytes from a downstream tag's TPID (see parseDown).
const (
	// VNTag (the tag word sits 16 bits up): d must be 1, p and the version
	// 0; l asks to prune svif_id.
	vnCheck  = (vntag.TagDirectionBit | vntag.TagPointerBit | vntag.TagVersionMask) << 16
	vnWant   = vntag.TagDirectionBit << 16
	vnLooped = vntag.TagLoopedBit << 16
	// E-Tag (the E-TCI is the low 48 bits): GRP and E-CID_ext must be 0 (a
	// VIF below 4096).
	etCheck = vntag.ETCIGRPMask | vntag.ETCIECIDExtMask
)

// fastBatch is the most frames parseDown reads ahead of sendDown.
const fastBatch = 64

// parseDown is the first downstream fast pass: it sets dst[i] to the port
// of the vNIC that frames[i], which came down an uplink, is the usual frame
// for, or to -1. Its loads are independent from frame to frame, so the
// CPU overlaps the frames' chains of loads (frame, tag, table).
func (v *IV) parseDown(frames []port.Frame, dst []int32) {
	low := (*[vntag.MaxSVIF + 1]int32)(v.low)
	dst = dst[:len(frames)]
	if v.noFast {
		for i := range dst {
			dst[i] = -1
		}
		return
	}
	if v.mode == vntag.ModeETag {
		for i := range frames {
			dst[i] = -1
			b := frames[i].Bytes()
			if len(b) < vntag.ETagLen+vntag.MinFrameLen {
				continue
			}
			w := binary.BigEndian.Uint64(b[12:])
			if w>>48 != vntag.EtherTypeETag || w&etCheck != 0 {
				continue
			}
			d := w >> 16 & vntag.MaxSVIF
			if d == w>>32&0xfff|w&0xff00<<4 { // Ingress_E-CID
				continue
			}
			if stacked(b[vntag.AddrLen+vntag.ETagLen:]) {
				continue
			}
			dst[i] = low[d]
		}
		return
	}
	for i := range frames {
		dst[i] = -1
		b := frames[i].Bytes()
		if len(b) < vntag.TagLen+vntag.MinFrameLen {
			continue
		}
		w := binary.BigEndian.Uint64(b[12:])
		if w>>48 != vntag.EtherTypeVNTag || w&vnCheck != vnWant {
			continue
		}
		d := w >> 32 & vntag.MaxDVIF
		if d > vntag.MaxSVIF || w&vnLooped != 0 && d == w>>16&vntag.MaxSVIF {
			continue
		}
		if stacked(b[vntag.AddrLen+vntag.TagLen:]) {
			continue
		}
		dst[i] = low[d]
	}
}

// sendDown is the second downstream fast pass: it pops the tag of frames
// that came down the uplink with counters uc and delivers each to port
// dst[i], from the first, for as long as dst[i] >= 0 and tx has room, and
// returns how many it delivered. The counters are left to a third, short
// loop, which keeps this one's state in registers.
func (v *IV) sendDown(uc *Counters, frames []port.Frame, dst []int32, tx *port.Tx) int {
	hl := vntag.TagLen
	if v.mode == vntag.ModeETag {
		hl = vntag.ETagLen
	}
	// The frames go straight into tx's parallel slices, within their
	// capacity: what Send does, without its checks in the loop.
	k, kp := len(tx.Frames), len(tx.Ports)
	n := min(len(frames), len(dst), cap(tx.Frames)-k, cap(tx.Ports)-kp)
	out, outPorts := tx.Frames[k:k+n], tx.Ports[kp:kp+n]
	i := 0
	for ; i < n; i++ {
		p := dst[i]
		if p < 0 {
			break
		}
		f := &frames[i]
		buf, off := f.Buf, f.Off
		h := buf[off : off+hl+vntag.AddrLen]
		moveAddrs(h[hl:], h)
		off += hl
		f.Off = off
		out[i] = port.Frame{Buf: buf, Off: off}
		outPorts[i] = int(p)
	}
	out, dst = out[:i], dst[:i]
	tx.Frames = tx.Frames[:k+i]
	tx.Ports = tx.Ports[:kp+i]
	vnics := v.vnics
	var rxBytes uint64
	for j := range out {
		n := uint64(out[j].Len())
		rxBytes += n
		c := &vnics[dst[j]-FirstVNIC].c
		c.TxFrames++
		c.TxBytes += n
	}
	uc.RxFrames += uint64(i)
	uc.RxBytes += rxBytes + uint64(i*hl)
	return i
}
