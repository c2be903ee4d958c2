package vis

import (
	"encoding/binary"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vntag"
)

// Known unicast from a plain uplink to a vEth — the way back of the
// traffic fast.go forwards — takes fast passes too: parseUplink, then
// lookup as for IV ports, then forwardUplinkFast (decideUplink,
// emitUplink, countUplink). The frame keeps its bytes but for its 802.1Q
// tag, taken off when the vEth takes the VLAN untagged, and the vEth's
// downstream NIV tag, written in front of the EtherType; only the 12 MAC
// address bytes move, into the headroom. Anything else — a group
// destination, a priority tag, VLAN 4095, a stacked or NIV tag, a source
// not learned on this uplink, a destination that is not a fastOut vEth,
// an 802.1Q tag to add, padding — is the general path's (fromUplink), as
// for IV ports; TestFastPathsMatchGeneralPath covers both.

// uplinkHeadroom is the headroom parseUplink wants in front of a frame:
// room for the longest NIV tag.
const uplinkHeadroom = vntag.ETagLen

// parseUplink is parse for frames from a plain uplink whose untagged
// frames belong to VLAN native: fast[i].src is 0 (a candidate; the
// source is the uplink) or -1, and strip is not yet known.
func (s *VIS) parseUplink(frames []port.Frame, fast []fastFrame, native uint16) {
	fast = fast[:len(frames)]
	for i := range frames {
		ff := &fast[i]
		ff.src = -1
		f := &frames[i]
		b := f.Buf[f.Off:]
		if len(b) < vntag.MinFrameLen || f.Off < uplinkHeadroom || superFrame(f) {
			continue
		}
		h := (*[headLen]byte)(b)
		dst := binary.BigEndian.Uint64(h[0:8])
		if dst&(1<<56) != 0 {
			continue // to a group address
		}
		vlan, tagged, et := native, false, binary.BigEndian.Uint16(h[12:14])
		var tci uint16
		if et == vntag.EtherTypeDot1Q {
			tci = binary.BigEndian.Uint16(h[14:16])
			if vlan = tci & 0xfff; vlan == 0 || vlan > profile.MaxVLAN {
				continue // a priority tag, or VLAN 4095
			}
			tagged, et = true, binary.BigEndian.Uint16(h[16:18])
		}
		if isTPID(et) {
			continue // stacked tags, or a NIV tag to drop
		}
		ff.dkey, ff.skey = macKeys(h[:], vlan)
		ff.vlan, ff.tci, ff.tagged, ff.src = vlan, tci, tagged, 0
	}
}

// forwardUplinkFast is forwardFast for frames from uplink port in.
func (s *VIS) forwardUplinkFast(in int, vp *vport, frames []port.Frame, fast []fastFrame, tick uint32, tx *port.Tx) int {
	outFrames, outPorts := txSpace(tx)
	m := min(len(frames), len(fast), len(outFrames))
	n := s.decideUplink(in, frames[:m], fast[:m], tick)
	s.emitUplink(frames[:n], fast[:n], tick, outFrames[:n], outPorts[:n])
	txAdd(tx, n)
	s.countUplink(vp, fast[:n])
	return n
}

// decideUplink is decideFast for frames from uplink port in: it returns
// how many frames from the first go to a vEth on the fast path, with the
// vEth in each one's dst and whether its 802.1Q tag comes off in strip.
// The source must be learned on this uplink (fastOwner); the
// destination on a vEth that is fastOut and takes the VLAN either
// untagged, or tagged when the frame has the tag.
func (s *VIS) decideUplink(in int, frames []port.Frame, fast []fastFrame, tick uint32) int {
	slots, hot, aging := s.macs.slots, s.hot, s.aging
	since := tick - aging
	up := ownerUplink(in)
	frames = frames[:len(fast)]
	for i := range fast {
		ff := &fast[i]
		owner := fastOwner(slots, ff, up, since, aging)
		if uint(owner) >= uint(len(hot)) {
			return i
		}
		d := &hot[owner]
		if d.flags&hotOut == 0 {
			return i
		}
		untagged := true
		if d.flags&hotAccess == 0 {
			var ok bool
			if ok, untagged = s.veths[owner].carries(ff.vlan); !ok {
				return i
			}
		} else if d.vlan != ff.vlan {
			return i
		}
		if !untagged && !ff.tagged {
			return i // an 802.1Q tag to add: the general path's
		}
		ff.strip = ff.tagged && untagged
		if ff.strip && frames[i].Len() < vntag.MinFrameLen+vntag.VLANTagLen {
			return i // to pad once the tag is off
		}
		ff.dst = int32(owner)
	}
	return len(fast)
}

// emitUplink rewrites the frames decideUplink passed — off with the
// 802.1Q tag if strip, on with the vEth's downstream tag — and puts them
// in out and outPorts. rxLen becomes the frame's length without the NIV
// tag, as the vEth's counters count it.
func (s *VIS) emitUplink(frames []port.Frame, fast []fastFrame, tick uint32, out []port.Frame, outPorts []int) {
	slots, hot := s.macs.slots, s.hot
	fast, out, outPorts = fast[:len(frames)], out[:len(frames)], outPorts[:len(frames)]
	for i := range frames {
		ff := &fast[i]
		refreshSource(slots, ff, tick)
		d := &hot[ff.dst]
		f := &frames[i]
		// The EtherType the NIV tag goes in front of: behind the 802.1Q
		// tag when that comes off, else where the frame has it.
		inner := 12
		if ff.strip {
			inner += vntag.VLANTagLen
		}
		tpid, hl, pri := uint64(vntag.EtherTypeVNTag), vntag.TagLen, uint64(0)
		if d.flags&hotETag != 0 {
			// The 802.1Q tag's PCP and DEI go down as E-PCP and E-DEI.
			tpid, hl, pri = vntag.EtherTypeETag, vntag.ETagLen, uint64(ff.tci&0xf000)<<32
		}
		old := (*[headLen]byte)(f.Buf[f.Off:])
		w := tpid<<48 | d.down | pri
		if hl == vntag.TagLen {
			// The VNTag's last 2 bytes are the EtherType behind it.
			w |= uint64(binary.BigEndian.Uint16(old[inner:]))
		}
		off := f.Off + inner - 12 - hl
		ff.rxLen = int32(len(f.Buf) - f.Off - (inner - 12))
		h := (*[headLen]byte)(f.Buf[off:])
		moveAddrs(h[:], old[:])
		binary.BigEndian.PutUint64(h[12:20], w)
		f.Off = off
		outPorts[i] = int(d.port)
	}
	copy(out, frames) // after the loop, as emitFast does
}

// countUplink counts the frames forwardUplinkFast sent from uplink vp:
// in on the uplink as they came, out of the vEths without their NIV tag
// and out of the IV ports with it.
func (s *VIS) countUplink(vp *vport, fast []fastFrame) {
	veths, hot, ports := s.veths, s.hot, s.ports
	var rxBytes uint64
	for i := 0; i < len(fast); {
		// Every frame's src is the uplink's 0: runs of one destination.
		n, bytes, stripped := sameRun(fast[i:])
		dst, frames := fast[i].dst, uint64(n)
		rxBytes += bytes + stripped*vntag.VLANTagLen
		d := veths[dst]
		d.c.TxFrames += frames
		d.c.TxBytes += bytes
		hl := uint64(vntag.TagLen)
		if hot[dst].flags&hotETag != 0 {
			hl = vntag.ETagLen
		}
		op := ports[hot[dst].port]
		op.c.TxFrames += frames
		op.c.TxBytes += bytes + frames*hl
		i += n
	}
	vp.c.RxFrames += uint64(len(fast))
	vp.c.RxBytes += rxBytes
}
