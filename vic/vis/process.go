package vis

import (
	"encoding/binary"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vntag"
)

// output is one frame a flood sends.
type output struct {
	port     int
	kind     outKind
	veth     int32
	set      *floodSet
	untagged bool
	mark     profile.Marking
}

type outKind uint8

const (
	outVEth outKind = iota
	outList
	outUplink
)

// Process handles frames that arrived on port in and appends what the VIS
// sends to tx (port.Core). now is the time in nanoseconds, used for MAC
// aging and policing. It returns the number of frames consumed, fewer
// than len(frames) only when tx is full.
func (s *VIS) Process(in int, frames []port.Frame, now int64, tx *port.Tx) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in < 0 || in >= len(s.ports) {
		return len(frames)
	}
	vp := s.ports[in]
	if s.slowOnly && vp.kind == uplinkPort {
		return s.fromUplink(in, vp, frames, now, tx)
	}
	var fast []fastFrame
	if !s.slowOnly {
		if cap(s.fast) < len(frames) {
			s.fast = make([]fastFrame, len(frames))
		}
		fast = s.fast[:len(frames)]
		if vp.kind == uplinkPort {
			s.parseUplink(frames, fast, s.cfg.UplinkNativeVLAN)
			s.lookup(fast)
			return s.processUplink(in, vp, frames, fast, now, tx)
		}
		s.parse(vp, frames, fast)
		s.lookup(fast)
	}
	return s.processIV(in, vp, frames, fast, now, tx)
}

// processIV is Process for IV port in once parse and lookup have run (or
// with fast nil, every frame on the general path): the fast path for as
// long as it goes, the general path for a frame in between.
func (s *VIS) processIV(in int, vp *vport, frames []port.Frame, fast []fastFrame, now int64, tx *port.Tx) int {
	tick := coarse(now)
	room := 0 // frames from the start that tx surely has room for
	for i := 0; i < len(frames); {
		if fast != nil && fast[i].src >= 0 && fast[i].dj >= 0 {
			// forwardFast sends one frame per frame, in place: it stops
			// by itself when tx holds no more frames.
			if i += s.forwardFast(vp, frames[i:], fast[i:], tick, tx); i == len(frames) {
				break
			}
		}
		// Frame i needs the general path, which may flood it: it is taken
		// only when tx has room for every copy. Frames are handled one at
		// a time, in order, whichever path they take: what one frame does
		// to a vEth's policy state (port security can err-disable it) or
		// to the MAC table is seen by the next.
		if i >= room {
			k := s.fits(frames[i:], tx)
			if k == 0 {
				return i
			}
			room = i + k
		}
		pd := &s.pend
		if s.classify(vp, &frames[i], pd, now); pd.state != dropped {
			s.switchFrame(in, &frames[i], pd, now, tx)
		}
		i++
	}
	return len(frames)
}

// processUplink is Process for uplink port in once parseUplink and lookup
// have run: the fast path for as long as it goes, the general path
// (fromUplink, which checks tx's room itself) for a frame in between.
func (s *VIS) processUplink(in int, vp *vport, frames []port.Frame, fast []fastFrame, now int64, tx *port.Tx) int {
	tick := coarse(now)
	for i := 0; i < len(frames); {
		if fast[i].src >= 0 && fast[i].dj >= 0 {
			if i += s.forwardUplinkFast(in, vp, frames[i:], fast[i:], tick, tx); i == len(frames) {
				break
			}
		}
		if s.fromUplink(in, vp, frames[i:i+1], now, tx) == 0 {
			return i
		}
		i++
	}
	return len(frames)
}

// pending is what classify found out about a frame.
type pending struct {
	skey, dkey uint64 // MAC table keys of the source and destination
	idx        int32  // source vEth
	vlan       uint16
	pcp        uint8
	state      frameState
}

// frameState says what classify did with a frame.
type frameState uint8

const (
	dropped  frameState = iota // counted and dropped
	admitted                   // admitted, its tag popped
)

// fits returns how many of frames tx can take in the worst case (every
// frame flooded as copies to every vEth and uplink), at least one when tx
// is empty.
func (s *VIS) fits(frames []port.Frame, tx *port.Tx) int {
	nf, nb := tx.Free()
	empty := tx.Len() == 0
	for i := range frames {
		nf -= s.maxFanout
		nb -= s.maxFanout * port.CopySize(frames[i].Len()+4)
		if nf < 0 || nb < 0 {
			if i == 0 && empty {
				return 1
			}
			return i
		}
	}
	return len(frames)
}

// upstreamBad are the bits of an upstream VNTag, as the 8 bytes from its
// TPID, that must be 0: d, p, l and the version.
const upstreamBad = (1<<31 | 1<<30 | 1<<15 | 3<<12) << 16

// tagLen returns the length of the NIV tag of a port in mode m.
func tagLen(m vntag.Mode) int {
	if m == vntag.ModeETag {
		return vntag.ETagLen
	}
	return vntag.TagLen
}

// classify is the first half of the general path for frame f from IV
// port vp: it checks the frame's tag, finds its vEth and applies the
// vEth's inbound policy, counting every drop, and fills pd. A frame whose
// policy must be evaluated has its tag popped first (the policy sees the
// frame as the VM sent it); one whose vEth only classifies its VLAN
// (inFast) keeps its tag for now.
func (s *VIS) classify(vp *vport, f *port.Frame, pd *pending, now int64) {
	hl := tagLen(vp.mode)
	pd.state = dropped
	b := f.Bytes()
	vp.c.RxFrames++
	vp.c.RxBytes += uint64(len(b))
	if len(b) < 12+hl+2 {
		vp.c.Drops[DropMalformed]++
		return
	}
	var idx int32 = -1
	// The usual VNTag frame in one load: the TPID, then d, p, l and
	// the version all 0 (what the checks below accept), and the svif.
	if w := binary.BigEndian.Uint64(b[12:]); vp.mode == vntag.ModeVNTag && w>>48 == vntag.EtherTypeVNTag && w&upstreamBad == 0 {
		idx = vp.low[w>>16&0xfff]
	} else if vntag.KindOf(uint16(w>>48)) != vp.want {
		vp.c.Drops[DropNoTag]++
		return
	} else if vp.mode == vntag.ModeVNTag {
		t := vntag.TagHeader(b[12 : 12+vntag.TagHeaderLen]).Tag()
		if t.Direction() != vntag.ToBridge || t.Pointer() || t.Looped() || t.Version() != 0 {
			vp.c.Drops[DropBadTag]++
			return
		}
		idx = vp.low[t.SVIF()]
	} else {
		e := vntag.ETagHeader(b[12 : 12+vntag.ETagHeaderLen]).ETag()
		if e.GRP() != 0 || e.IngressECID() != 0 {
			vp.c.Drops[DropBadTag]++
			return
		}
		if x, ok := vp.lookup(vntag.VIF(e.ECID())); ok {
			idx = x
		}
	}
	if idx < 0 {
		vp.c.Drops[DropUnknownVIF]++
		return
	}
	v := s.veths[idx]
	u := b[hl:] // the frame as the VM sent it, behind the tag
	v.c.RxFrames++
	v.c.RxBytes += uint64(len(u))
	if !v.adminUp {
		v.c.Drops[DropAdminDown]++
		return
	}
	// Pop the tag: the frame is now as the VM sent it.
	moveAddrs(u, b)
	f.Off += hl
	var (
		vlan uint16
		mark profile.Marking
	)
	if v.inFast {
		var vid uint16
		if len(u) >= 18 && binary.BigEndian.Uint16(u[12:]) == vntag.EtherTypeDot1Q {
			vid = binary.BigEndian.Uint16(u[14:]) & 0xfff
		}
		var ok bool
		if vlan, ok = v.classifyIn(vid); !ok {
			v.c.Drops[DropVLAN]++
			return
		}
	} else {
		s.fr.Load(profile.In, u)
		vd := v.pv.Evaluate(&s.fr, now)
		if inFast := v.inTrivial && !s.slowOnly && (vd.Drop == profile.DropNone || vd.Drop == profile.DropVLAN); inFast != v.inFast {
			v.inFast = inFast
			s.refresh(v)
		}
		if vd.Drop != profile.DropNone {
			v.c.Drops[vd.Drop]++
			if vd.Drop == profile.DropErrDisabled && !v.errDis {
				v.errDis = true
				s.refresh(v)
			}
			return
		}
		vlan, mark = vd.VLAN, vd.Mark
		if mark.SetDSCP {
			setDSCP(u, mark.DSCP)
		}
	}
	pd.state = admitted
	pd.pcp, pd.vlan, pd.idx = ingressPCP(u, mark), vlan, idx
	pd.dkey, pd.skey = macKeys(u, vlan)
}

// switchFrame is the second half of the general path for frame f from IV
// port in, which classify admitted and popped: it learns the source and
// sends the frame to its destination's vEth or uplink, or floods it.
func (s *VIS) switchFrame(in int, f *port.Frame, pd *pending, now int64, tx *port.Tx) {
	t := s.macs
	tick := coarse(now)
	b := f.Bytes()
	src := uint32(pd.idx)
	if b[6]&1 == 0 {
		if j := t.find(pd.skey); j >= 0 && t.slots[j].owner == src {
			if sl := &t.slots[j]; sl.seen != tick {
				sl.seen = tick
			}
		} else {
			s.learn(pd.skey, b[6], src, s.veths[src], now)
		}
	}
	owner := uint32(0)
	j := -1
	if b[0]&1 == 0 {
		if j = t.find(pd.dkey); j >= 0 {
			if sl := &t.slots[j]; tick-sl.seen <= s.aging {
				owner = sl.owner
			} else {
				j = -1
			}
		}
	}
	src32 := pd.idx
	if j >= 0 {
		s.unicast(in, src32, src, f, owner, pd.vlan, pd.pcp, now, tx)
	} else {
		s.flood(in, src32, f, pd.vlan, pd.pcp, now, tx)
	}
}

func (s *VIS) fromUplink(in int, vp *vport, frames []port.Frame, now int64, tx *port.Tx) int {
	for i := range frames {
		f := &frames[i]
		b := f.Bytes()
		if s.fits(frames[i:i+1], tx) == 0 {
			return i
		}
		vp.c.RxFrames++
		vp.c.RxBytes += uint64(len(b))
		switch _, _, err := vntag.FindTag(b); err {
		case vntag.ErrNoTag:
		case nil:
			vp.c.Drops[DropBadTag]++
			continue
		default:
			vp.c.Drops[DropMalformed]++
			continue
		}
		vlan := s.cfg.UplinkNativeVLAN
		if binary.BigEndian.Uint16(b[12:]) == vntag.EtherTypeDot1Q {
			if vid := binary.BigEndian.Uint16(b[14:]) & 0xfff; vid != 0 {
				vlan = vid
			}
		}
		if vlan > profile.MaxVLAN {
			vp.c.Drops[DropVLAN]++
			continue
		}
		owner := ownerUplink(in)
		s.learn(macKey(b[6:12], vlan), b[6], owner, nil, now)
		s.forward(in, -1, owner, f, macKey(b[0:6], vlan), vlan, ingressPCP(b, profile.Marking{}), now, tx)
	}
	return len(frames)
}

// learn records that the source MAC of key k (whose first byte is src0)
// was seen on owner (vEth v, or an uplink when v is nil).
func (s *VIS) learn(k uint64, src0 byte, owner uint32, v *veth, now int64) {
	if src0&1 != 0 {
		return // a group address is never a source
	}
	tick := coarse(now)
	t := s.macs
	if j := t.find(k); j >= 0 {
		sl := &t.slots[j]
		if sl.owner != owner {
			if v != nil && s.cfg.MACLimit > 0 && v.macs >= s.cfg.MACLimit {
				v.c.LearnRefused++
				return
			}
			s.unown(sl.owner)
			sl.owner = owner
			if v != nil {
				v.macs++
			}
			s.moves++
		}
		if sl.seen != tick {
			sl.seen = tick
		}
		return
	}
	if v != nil && s.cfg.MACLimit > 0 && v.macs >= s.cfg.MACLimit {
		v.c.LearnRefused++
		return
	}
	if t.insert(k, owner, tick) < 0 {
		if v != nil {
			v.c.LearnRefused++
		}
		return
	}
	if v != nil {
		v.macs++
	}
}

// forward sends frame f, which arrived on port in from srcOwner (vEth
// index src, or -1 for an uplink), in vlan.
func (s *VIS) forward(in int, src int32, srcOwner uint32, f *port.Frame, dkey uint64, vlan uint16, pcp uint8, now int64, tx *port.Tx) {
	if f.Bytes()[0]&1 == 0 {
		t := s.macs
		if j := t.find(dkey); j >= 0 && coarse(now)-t.slots[j].seen <= s.aging {
			s.unicast(in, src, srcOwner, f, t.slots[j].owner, vlan, pcp, now, tx)
			return
		}
	}
	s.flood(in, src, f, vlan, pcp, now, tx)
}

// unicast sends frame f (as forward) to owner, where its destination MAC
// was learned.
func (s *VIS) unicast(in int, src int32, srcOwner uint32, f *port.Frame, owner uint32, vlan uint16, pcp uint8, now int64, tx *port.Tx) {
	switch {
	case owner == srcOwner:
		s.drop(in, src, DropSelf)
	case owner&uplinkBit != 0:
		if src < 0 {
			s.drop(in, src, DropUplinkToUplink)
			return
		}
		o := &s.out1
		*o = output{}
		o.port, o.kind = int(owner&^uplinkBit), outUplink
		s.emit(tx, o, f, true, src, vlan, pcp)
	default:
		if o := &s.out1; s.toVEth(int32(owner), f.Bytes(), vlan, now, o) {
			s.emit(tx, o, f, true, src, vlan, pcp)
		}
	}
}

func (s *VIS) drop(in int, src int32, d Drop) {
	if src >= 0 {
		s.veths[src].c.Drops[d]++
	} else {
		s.ports[in].c.Drops[d]++
	}
}

// toVEth decides whether frame b may go to vEth d in vlan, evaluating its
// outbound policy when it has one, and fills o. (o is written field by
// field and passed by pointer: building a struct with narrow stores and
// copying it with wide loads stalls store-to-load forwarding, which cost
// more than the rest of this function.)
func (s *VIS) toVEth(d int32, b []byte, vlan uint16, now int64, o *output) bool {
	v := s.veths[d]
	o.port, o.kind, o.veth, o.set, o.mark = v.port, outVEth, d, nil, profile.Marking{}
	if !v.adminUp {
		v.c.Drops[DropAdminDown]++
		return false
	}
	in, untagged := v.carries(vlan)
	if !v.fastOut {
		s.fr.Load(profile.Out, b)
		s.fr.VLAN = vlan
		vd := v.pv.Evaluate(&s.fr, now)
		if vd.Drop != profile.DropNone {
			v.c.Drops[vd.Drop]++
			return false
		}
		in, untagged, o.mark = true, vd.Untagged, vd.Mark
	}
	if !in {
		v.c.Drops[DropVLAN]++
		return false
	}
	o.untagged = untagged
	return true
}

// flood sends f to every IV port through its vif list for vlan (or as
// unicast copies to the members whose outbound policy must be evaluated),
// and out of every uplink but the one it came from; frames from an uplink
// go to no other uplink.
func (s *VIS) flood(in int, src int32, f *port.Frame, vlan uint16, pcp uint8, now int64, tx *port.Tx) {
	b := f.Bytes()
	outs := s.outs[:0]
	for pi, p := range s.ports {
		if p.kind == uplinkPort {
			if src >= 0 {
				outs = append(outs, output{port: pi, kind: outUplink})
			}
			continue
		}
		sets := p.flood[vlan]
		for si := range sets {
			set := &sets[si]
			if len(set.members) == 1 && set.members[0] == src {
				continue
			}
			if set.gen != s.fastGen {
				set.allFast = true
				for _, m := range set.members {
					if !s.veths[m].fastOut {
						set.allFast = false
						break
					}
				}
				set.gen = s.fastGen
			}
			if set.allFast {
				outs = append(outs, output{port: pi, kind: outList, set: set})
				continue
			}
			for _, m := range set.members {
				if m == src {
					continue
				}
				outs = append(outs, output{})
				if !s.toVEth(m, b, vlan, now, &outs[len(outs)-1]) {
					outs = outs[:len(outs)-1]
				}
			}
		}
	}
	s.outs = outs
	if len(outs) == 0 {
		return
	}
	for i := range outs[:len(outs)-1] {
		c := tx.Copy(outs[i].port, b)
		if c == nil {
			s.drop(in, src, DropNoRoom)
			continue
		}
		s.emit(tx, &outs[i], c, false, src, vlan, pcp)
	}
	s.emit(tx, &outs[len(outs)-1], f, true, src, vlan, pcp)
}

// emit rewrites fr for output o — VLAN tag, padding, NIV tag — and, when
// send is set, appends it to tx (a copy from tx.Copy is already there).
func (s *VIS) emit(tx *port.Tx, o *output, fr *port.Frame, send bool, src int32, vlan uint16, pcp uint8) {
	if o.mark.SetDSCP {
		setDSCP(fr.Bytes(), o.mark.DSCP)
	}
	if o.mark.SetCoS {
		pcp = o.mark.CoS
	}
	vp := s.ports[o.port]
	switch o.kind {
	case outUplink:
		setVLAN(fr, vlan != s.cfg.UplinkNativeVLAN, vlan, pcp)
		pad(fr)
	case outVEth:
		v := s.veths[o.veth]
		setVLAN(fr, !o.untagged, vlan, pcp)
		pad(fr)
		v.c.TxFrames++
		v.c.TxBytes += uint64(fr.Len())
		var out []byte
		if vp.mode == vntag.ModeETag {
			out, _ = vntag.PushETag(fr.Buf, fr.Off, v.etag)
		} else {
			out, _ = vntag.Push(fr.Buf, fr.Off, v.tag)
		}
		setFrame(fr, out)
	case outList:
		setVLAN(fr, o.set.tagged, vlan, pcp)
		pad(fr)
		n := uint64(fr.Len())
		var prune uint32
		o.set.frames++
		o.set.bytes += n
		if src >= 0 && s.veths[src].port == o.port {
			sv := s.veths[src]
			prune = uint32(sv.vif)
			// The source is in this set when it takes frames of the VLAN
			// with the set's tagging (it is up: its frame was admitted).
			if _, untagged := sv.carries(vlan); untagged != o.set.tagged {
				sv.prunedFrames++
				sv.prunedBytes += n
			}
		}
		var out []byte
		if vp.mode == vntag.ModeETag {
			out, _ = vntag.PushETag(fr.Buf, fr.Off, listETag(o.set.list, prune))
		} else {
			out, _ = vntag.Push(fr.Buf, fr.Off, listTag(o.set.list, prune))
		}
		setFrame(fr, out)
	}
	vp.c.TxFrames++
	vp.c.TxBytes += uint64(fr.Len())
	if send {
		tx.Send(o.port, *fr)
	}
}

// listTag returns the VNTag of a flooded frame: d=1, p=1, dvif_id = the
// vif_list_id, and l=1 with svif_id = the source to prune, if any.
func listTag(list, prune uint32) vntag.Tag {
	w := uint32(1)<<31 | 1<<30 | (list&vntag.MaxDVIF)<<16
	if prune != 0 {
		w |= 1<<15 | prune&vntag.MaxSVIF
	}
	return vntag.TagFromWord(w, 0)
}

// listETag returns the E-Tag of a flooded frame: the E-channel list
// (GRP<<20 | E-CID) and Ingress_E-CID = the source to prune, or 0. The
// E-TCI, high to low: E-PCP, E-DEI, Ingress_E-CID_base | Re-, GRP,
// E-CID_base | Ingress_E-CID_ext | E-CID_ext.
func listETag(list, prune uint32) vntag.ETag {
	tci := uint64(prune&0xfff)<<32 | uint64(list>>20&3)<<28 | uint64(list&0xfff)<<16 |
		uint64(prune>>12&0xff)<<8 | uint64(list>>12&0xff)
	return vntag.ETagFromWord(tci, 0)
}

// ingressPCP returns the priority a frame leaves with: the marking's CoS,
// else its own 802.1Q PCP, else 0.
func ingressPCP(b []byte, m profile.Marking) uint8 {
	if m.SetCoS {
		return m.CoS
	}
	if binary.BigEndian.Uint16(b[12:]) == vntag.EtherTypeDot1Q && len(b) >= 16 {
		return b[14] >> 5
	}
	return 0
}

// setVLAN makes fr carry an 802.1Q tag with vlan and pcp (tagged) or no
// tag, moving only the MAC addresses.
func setVLAN(fr *port.Frame, tagged bool, vlan uint16, pcp uint8) {
	b := fr.Bytes()
	has := len(b) >= 18 && binary.BigEndian.Uint16(b[12:]) == vntag.EtherTypeDot1Q
	switch {
	case has && !tagged:
		moveAddrs(b[4:], b)
		fr.Off += 4
	case !has && tagged && fr.Off >= 4:
		fr.Off -= 4
		nb := fr.Bytes()
		moveAddrs(nb, nb[4:])
		binary.BigEndian.PutUint16(nb[12:], vntag.EtherTypeDot1Q)
		binary.BigEndian.PutUint16(nb[14:], uint16(pcp&7)<<13|vlan&0xfff)
	case has && tagged:
		tci := binary.BigEndian.Uint16(b[14:])
		binary.BigEndian.PutUint16(b[14:], uint16(pcp&7)<<13|tci&0x1000|vlan&0xfff)
	}
}

// setDSCP rewrites the DSCP of an IPv4 frame (with at most one 802.1Q tag)
// and updates the header checksum incrementally (RFC 1624).
func setDSCP(b []byte, dscp uint8) {
	off := 14
	et := binary.BigEndian.Uint16(b[12:])
	if et == vntag.EtherTypeDot1Q && len(b) >= 18 {
		et, off = binary.BigEndian.Uint16(b[16:]), 18
	}
	if et != 0x0800 || len(b) < off+20 || b[off]>>4 != 4 {
		return
	}
	old := binary.BigEndian.Uint16(b[off:])
	b[off+1] = dscp<<2 | b[off+1]&3
	nw := binary.BigEndian.Uint16(b[off:])
	sum := uint32(^binary.BigEndian.Uint16(b[off+10:])) + uint32(^old) + uint32(nw)
	sum = sum&0xffff + sum>>16
	sum = sum&0xffff + sum>>16
	binary.BigEndian.PutUint16(b[off+10:], ^uint16(sum))
}

// pad zero-fills a frame shorter than 60 bytes up to 60 within its
// buffer's capacity.
func pad(fr *port.Frame) {
	if fr.Len() >= vntag.MinFrameLen {
		return
	}
	if out, err := vntag.Pad(fr.Bytes()); err == nil {
		setFrame(fr, out)
	}
}

// setFrame makes fr the frame out, a slice of fr's buffer.
func setFrame(fr *port.Frame, out []byte) {
	off := cap(fr.Buf) - cap(out)
	fr.Off = off
	fr.Buf = fr.Buf[:off+len(out)]
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
