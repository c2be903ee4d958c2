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
	listed   bool // floodPolicy: the vEth is in the list the flood takes
	mark     profile.Marking
}

type outKind uint8

const (
	outVEth outKind = iota
	outList
	outUplink
	outEVB // a flood out of an evb port (untagged or with the VLAN's tag)
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
	if vp.kind == evbPort { // every frame on the general path
		return s.processIV(in, vp, frames, nil, now, tx)
	}
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

// processIV is Process for IV port in once parse and lookup have run: the
// fast path for as long as it goes, the general path for a frame in
// between. With fast nil (an evb port, or a VIS without fast paths) every
// frame takes the general path.
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
	pri        prio
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
const upstreamBad = (vntag.TagDirectionBit | vntag.TagPointerBit | vntag.TagLoopedBit | vntag.TagVersionMask) << 16

// tagLen returns the length of the NIV tag of a port in mode m.
func tagLen(m vntag.Mode) int {
	if m == vntag.ModeETag {
		return vntag.ETagLen
	}
	return vntag.TagLen
}

// classify is the first half of the general path for frame f from IV or
// evb port vp: it checks the frame's tag and finds its vEth (on an evb
// port, its VSI: evbSource), pops the tag, applies the bridge's rules
// (bridgeRules, no NIV tag behind the tag) and the vEth's VLAN
// classification or inbound policy (admitPolicy), counting every drop,
// and fills pd.
func (s *VIS) classify(vp *vport, f *port.Frame, pd *pending, now int64) {
	pd.state = dropped
	b := f.Bytes()
	fs, bs := uint64(1), uint64(len(b))
	if superFrame(f) {
		fs, bs = segments(f, len(b))
	}
	vp.c.RxFrames += fs
	vp.c.RxBytes += bs
	hl, ePrio := 0, noPrio // the tag's length and priority
	u := b                 // the frame as the VM sent it, behind the tag
	var idx int32 = -1
	if vp.kind == evbPort {
		if idx = s.evbSource(vp, b); idx < 0 {
			return
		}
	} else {
		hl = tagLen(vp.mode)
		if len(b) < 12+hl+2 {
			vp.c.Drops[DropMalformed]++
			return
		}
		u = b[hl:]
		// The usual VNTag frame in one load: the TPID, then d, p, l
		// and the version all 0 (what the checks below accept), and
		// the svif.
		w := binary.BigEndian.Uint64(b[12:])
		if vp.mode == vntag.ModeVNTag && w>>48 == vntag.EtherTypeVNTag && w&upstreamBad == 0 {
			idx = vp.low[w>>16&vntag.MaxSVIF]
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
		// The E-Tag's E-PCP and E-DEI are the frame's priority on the
		// link (its first 4 bits); a VNTag has none.
		if vp.mode == vntag.ModeETag {
			ePrio = prio(w & ePrioBits >> ePrioShift)
		}
	}
	v := s.veths[idx]
	v.c.RxFrames += fs
	v.c.RxBytes += bs - fs*uint64(hl)
	if !v.adminUp {
		v.c.Drops[DropAdminDown]++
		return
	}
	// Pop the tag: the frame is now as the VM sent it. bridgeRules reads
	// the addresses where they are now, not where moveAddrs loaded them:
	// sharing those loads would keep Go from merging either into words.
	moveAddrs(u, b)
	f.Off += hl
	if d := bridgeRules(u); d != DropNone {
		v.c.Drops[d]++
		return
	}
	if isTPID(binary.BigEndian.Uint16(u[12:])) {
		if _, _, err := vntag.FindTag(u); err == nil {
			v.c.Drops[DropNIVTag]++
			return
		}
	}
	if !v.inFast {
		s.admitPolicy(v, idx, f, u, ePrio, pd, now)
		return
	}
	var vid uint16
	if len(u) >= 18 && binary.BigEndian.Uint16(u[12:]) == vntag.EtherTypeDot1Q {
		vid = binary.BigEndian.Uint16(u[14:]) & vidMask
	}
	vlan, ok := v.classifyIn(vid)
	if !ok {
		v.c.Drops[DropVLAN]++
		return
	}
	pd.state = admitted
	pd.pri, pd.vlan, pd.idx = ingressPrio(u, profile.Marking{}, ePrio), vlan, idx
	pd.dkey, pd.skey = macKeys(u, vlan)
}

// admitPolicy is the end of classify for frame f, u its bytes as the VM
// sent them, from vEth v (index idx) with tag priority ePrio, when v's
// inbound policy must be evaluated. It is a function of its own so that
// classify keeps its values in registers for the usual frame, whose vEth
// only classifies its VLAN (inFast).
func (s *VIS) admitPolicy(v *veth, idx int32, f *port.Frame, u []byte, ePrio prio, pd *pending, now int64) {
	s.fr.Load(profile.In, u)
	if f.Buf[0]|f.Buf[1] != 0 {
		// A super-frame: the policer counts the bytes of the segments it
		// stands for.
		s.fr.Len = uint32(f.Offload().SegmentBytes(len(u)))
	}
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
	if vd.Mark.SetDSCP {
		setDSCP(u, vd.Mark.DSCP)
	}
	pd.state = admitted
	pd.pri, pd.vlan, pd.idx = ingressPrio(u, vd.Mark, ePrio), vd.VLAN, idx
	pd.dkey, pd.skey = macKeys(u, vd.VLAN)
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
		s.unicast(in, src32, src, f, owner, pd.vlan, pd.pri, now, tx)
	} else {
		s.flood(in, src32, f, pd.vlan, pd.pri, now, tx)
	}
}

func (s *VIS) fromUplink(in int, vp *vport, frames []port.Frame, now int64, tx *port.Tx) int {
	for i := range frames {
		f := &frames[i]
		b := f.Bytes()
		if s.fits(frames[i:i+1], tx) == 0 {
			return i
		}
		fs, bs := segments(f, len(b))
		vp.c.RxFrames += fs
		vp.c.RxBytes += bs
		switch _, _, err := vntag.FindTag(b); err {
		case vntag.ErrNoTag:
		case nil:
			vp.c.Drops[DropNIVTag]++
			continue
		default:
			vp.c.Drops[DropMalformed]++
			continue
		}
		if d := bridgeRules(b); d != DropNone {
			vp.c.Drops[d]++
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
		s.forward(in, -1, owner, f, macKey(b[0:6], vlan), vlan, ingressPrio(b, profile.Marking{}, noPrio), now, tx)
	}
	return len(frames)
}

// bridgeRules returns why a bridge must not relay frame b (at least 12
// bytes), which arrived on any port, or DropNone: its source is a group
// address (IEEE 802.3 3.2.3), or its destination one of the reserved
// addresses 01:80:C2:00:00:00-0F (IEEE 802.1Q 8.6.3, Table 8-1).
// Both come from one word, the frame's first 8 bytes: a byte read beside
// it would keep Go from merging the loads of the word.
func bridgeRules(b []byte) Drop {
	w := binary.BigEndian.Uint64(b)
	switch {
	case w&srcGroupBit != 0:
		return DropGroupSource
	case w>>16&^0xf == linkLocalPrefix:
		return DropLinkLocal
	}
	return DropNone
}

// srcGroupBit is the I/G bit of the source MAC (the low bit of its first
// byte, b[6]) in a frame's first 8 bytes read big-endian.
const srcGroupBit = 1 << 8

// linkLocalPrefix is the reserved addresses 01:80:C2:00:00:00-0F less
// their last 4 bits.
const linkLocalPrefix = 0x0180c2000000

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
func (s *VIS) forward(in int, src int32, srcOwner uint32, f *port.Frame, dkey uint64, vlan uint16, pri prio, now int64, tx *port.Tx) {
	if f.Bytes()[0]&1 == 0 {
		t := s.macs
		if j := t.find(dkey); j >= 0 && coarse(now)-t.slots[j].seen <= s.aging {
			s.unicast(in, src, srcOwner, f, t.slots[j].owner, vlan, pri, now, tx)
			return
		}
	}
	s.flood(in, src, f, vlan, pri, now, tx)
}

// unicast sends frame f (as forward) to owner, where its destination MAC
// was learned.
func (s *VIS) unicast(in int, src int32, srcOwner uint32, f *port.Frame, owner uint32, vlan uint16, pri prio, now int64, tx *port.Tx) {
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
		s.emit(tx, o, f, true, src, vlan, pri)
	default:
		if o := &s.out1; s.toVEth(int32(owner), f.Bytes(), vlan, now, o) {
			s.emit(tx, o, f, true, src, vlan, pri)
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
	if v.evb {
		in, untagged = v.evbOut(vlan, in)
	}
	if !in {
		v.c.Drops[DropVLAN]++
		return false
	}
	o.untagged = untagged
	return true
}

// flood sends f to every IV port through a vif list for vlan, and out of
// every uplink but the one it came from; frames from an uplink go to no
// other uplink. A set whose members all take the frame without an
// outbound policy to evaluate (allFast) goes through its list; otherwise
// floodPolicy evaluates the members' policies.
func (s *VIS) flood(in int, src int32, f *port.Frame, vlan uint16, pri prio, now int64, tx *port.Tx) {
	b := f.Bytes()
	outs := s.outs[:0]
	for pi, p := range s.ports {
		if p.kind != ivPort {
			if p.kind == evbPort {
				outs = s.floodEVB(pi, p, src, f, vlan, now, outs)
			} else if src >= 0 { // an uplink
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
			outs = s.floodPolicy(pi, p, set, src, b, vlan, now, outs)
		}
	}
	s.outs = outs
	if len(outs) == 0 {
		return
	}
	for i := range outs[:len(outs)-1] {
		c := tx.CopyFrame(outs[i].port, *f)
		if c == nil {
			s.drop(in, src, DropNoRoom)
			continue
		}
		s.emit(tx, &outs[i], c, false, src, vlan, pri)
	}
	s.emit(tx, &outs[len(outs)-1], f, true, src, vlan, pri)
}

// floodPolicy appends to outs what flooding frame b to set of IV port pi
// takes when some members have an outbound policy: each member's policy is
// evaluated (toVEth, which counts a denial), and the members it admits
// with the same marking as the first of them — and the source, which the
// IV prunes — get one frame through a vif list: the set's own when that is
// every member, else a list of exactly those, which subList finds or
// programs. Admitted members marked otherwise get a copy each (p=0), and
// so does every admitted member when the IV cannot hold another list
// (counted in ListFallbacks).
func (s *VIS) floodPolicy(pi int, p *vport, set *floodSet, src int32, b []byte, vlan uint16, now int64, outs []output) []output {
	start := len(outs)
	members := s.subMembers[:0]
	listed := 0 // admitted members other than the source in members
	var mark profile.Marking
	for _, m := range set.members {
		if m == src {
			members = append(members, m)
			continue
		}
		outs = append(outs, output{})
		o := &outs[len(outs)-1]
		if !s.toVEth(m, b, vlan, now, o) {
			outs = outs[:len(outs)-1]
			continue
		}
		if listed == 0 {
			mark = o.mark
		}
		if o.mark == mark {
			members = append(members, m)
			o.listed = true
			listed++
		}
	}
	s.subMembers = members
	if listed == 0 {
		return outs
	}
	list := set
	if len(members) != len(set.members) {
		if list = s.subList(p, set, members); list == nil {
			p.c.ListFallbacks++
			return outs // a copy to each admitted member
		}
	}
	// The listed members go through the list, the others as copies.
	k := start
	for _, o := range outs[start:] {
		if !o.listed {
			outs[k] = o
			k++
		}
	}
	return append(outs[:k], output{port: pi, kind: outList, set: list, mark: mark})
}

// emit rewrites fr for output o — VLAN tag, padding, NIV tag — and, when
// send is set, appends it to tx (a copy from tx.Copy is already there).
func (s *VIS) emit(tx *port.Tx, o *output, fr *port.Frame, send bool, src int32, vlan uint16, pri prio) {
	if o.mark.SetDSCP {
		setDSCP(fr.Bytes(), o.mark.DSCP)
	}
	if o.mark.SetCoS {
		pri = pri.withPCP(o.mark.CoS)
	}
	vp := s.ports[o.port]
	// A copy (tx.Copy) always has the room for its tags and padding; only
	// the frame in its input buffer may not (fit).
	switch o.kind {
	case outUplink:
		tagged := vlan != s.cfg.UplinkNativeVLAN
		if !roomy(fr, 0) && !fit(fr, tagged, 0) {
			vp.c.Drops[DropNoPadRoom]++
			return
		}
		setVLAN(fr, tagged, vlan, pri)
		pad(fr)
	case outVEth:
		v := s.veths[o.veth]
		if !roomy(fr, tagLen(vp.mode)) && !fit(fr, !o.untagged, tagLen(vp.mode)) {
			v.c.Drops[DropNoPadRoom]++
			return
		}
		setVLAN(fr, !o.untagged, vlan, pri)
		pad(fr)
		fs, bs := uint64(1), uint64(fr.Len())
		if superFrame(fr) {
			fs, bs = segments(fr, fr.Len())
		}
		v.c.TxFrames += fs
		v.c.TxBytes += bs
		var out []byte
		switch vp.mode {
		case vntag.ModeETag:
			out, _ = vntag.PushETag(fr.Buf, fr.Off, pri.onETag(v.etag))
		case vntag.ModeVNTag:
			out, _ = vntag.Push(fr.Buf, fr.Off, v.tag)
		default: // an evb port: no NIV tag
			out = fr.Bytes()
		}
		setFrame(fr, out)
	case outEVB:
		if !roomy(fr, 0) && !fit(fr, !o.untagged, 0) {
			vp.c.Drops[DropNoPadRoom]++
			return
		}
		setVLAN(fr, !o.untagged, vlan, pri)
		pad(fr)
	case outList:
		if !roomy(fr, tagLen(vp.mode)) && !fit(fr, o.set.tagged, tagLen(vp.mode)) {
			vp.c.Drops[DropNoPadRoom]++
			return
		}
		setVLAN(fr, o.set.tagged, vlan, pri)
		pad(fr)
		fs, bs := uint64(1), uint64(fr.Len())
		if superFrame(fr) {
			fs, bs = segments(fr, fr.Len())
		}
		var prune uint32
		o.set.frames += fs
		o.set.bytes += bs
		if src >= 0 && s.veths[src].port == o.port {
			sv := s.veths[src]
			prune = uint32(sv.vif)
			// The source is in this set when it takes frames of the VLAN
			// with the set's tagging (it is up: its frame was admitted).
			if _, untagged := sv.carries(vlan); untagged != o.set.tagged {
				sv.prunedFrames += fs
				sv.prunedBytes += bs
			}
		}
		var out []byte
		if vp.mode == vntag.ModeETag {
			out, _ = vntag.PushETag(fr.Buf, fr.Off, pri.onETag(listETag(o.set.list, prune)))
		} else {
			out, _ = vntag.Push(fr.Buf, fr.Off, listTag(o.set.list, prune))
		}
		setFrame(fr, out)
	}
	fs, bs := uint64(1), uint64(fr.Len())
	if superFrame(fr) {
		fs, bs = segments(fr, fr.Len())
	}
	vp.c.TxFrames += fs
	vp.c.TxBytes += bs
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

// prio is a frame's priority and drop eligibility as the first 4 bits of
// an 802.1Q TCI or of an E-TCI: PCP (E-PCP) << 1 | DEI (E-DEI). The two
// tags carry it alike (vntag.md): what a frame has on one link it has on
// the next, as a C-tag's PCP and DEI, or as E-PCP and E-DEI.
type prio uint8

// noPrio stands for a tag with no priority (a VNTag).
const noPrio prio = 0xff

// withPCP returns p with its PCP set to pcp (CoS marking), DEI kept.
func (p prio) withPCP(pcp uint8) prio { return prio(pcp&7)<<1 | p&1 }

// onETag returns e with p as its E-PCP and E-DEI.
func (p prio) onETag(e vntag.ETag) vntag.ETag {
	return vntag.ETagFromWord(e.TCI()&^ePrioBits|uint64(p&0xf)<<ePrioShift, 0)
}

// ingressPrio returns the priority a frame leaves with: the marking's CoS
// (with the DEI it has), else that of the tag it came with — the E-Tag's
// (tag, unless noPrio), or its own 802.1Q tag's — else 0.
func ingressPrio(b []byte, m profile.Marking, tag prio) prio {
	p := tag
	if p == noPrio {
		p = 0
		if binary.BigEndian.Uint16(b[12:]) == vntag.EtherTypeDot1Q && len(b) >= 16 {
			p = prio(b[14] >> 4)
		}
	}
	if m.SetCoS {
		p = p.withPCP(m.CoS)
	}
	return p
}

// setVLAN makes fr carry an 802.1Q tag with vlan and priority pri
// (tagged) or no tag, moving only the MAC addresses.
func setVLAN(fr *port.Frame, tagged bool, vlan uint16, pri prio) {
	b := fr.Bytes()
	has := len(b) >= 18 && binary.BigEndian.Uint16(b[12:]) == vntag.EtherTypeDot1Q
	switch {
	case !has && !tagged:
	case has && !tagged:
		moveAddrs(b[4:], b)
		fr.Off += 4
	case !has && fr.Off >= 4:
		fr.Off -= 4
		nb := fr.Bytes()
		moveAddrs(nb, nb[4:])
		binary.BigEndian.PutUint16(nb[12:], vntag.EtherTypeDot1Q)
		binary.BigEndian.PutUint16(nb[14:], pri.tci(vlan))
	case has:
		binary.BigEndian.PutUint16(b[14:], pri.tci(vlan))
	}
}

// tci returns the 802.1Q TCI of vlan with priority p.
func (p prio) tci(vlan uint16) uint16 { return uint16(p&0xf)<<12 | vlan&vidMask }

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

// fit makes room in fr's buffer for what emit does to it: an 802.1Q tag
// added in front (when tagged and it has none) or taken off, padding to 60
// bytes, then head bytes in front for the NIV tag. When the room in front
// or behind the frame is short, the frame moves to the end of its buffer
// (the bytes in front of a frame are its headroom, those of a popped tag
// among them); it reports false when the buffer is too small for it all.
func fit(fr *port.Frame, tagged bool, head int) bool {
	b := fr.Bytes()
	has := len(b) >= 18 && binary.BigEndian.Uint16(b[12:]) == vntag.EtherTypeDot1Q
	end := vntag.MinFrameLen // from the frame's start now to its end once padded
	switch {
	case tagged && !has: // the frame will start 4 bytes earlier
		head += vntag.VLANTagLen
		end -= vntag.VLANTagLen
	case has && !tagged: // 4 bytes later
		end += vntag.VLANTagLen
	}
	n := len(b)
	end = max(end, n)
	if fr.Off >= head && cap(fr.Buf)-fr.Off >= end {
		return true
	}
	off := cap(fr.Buf) - end
	if off < head || !fr.Offload().IsZero() {
		// A frame with offload state is never moved: its positions count
		// from the buffer's start (port.Offload).
		return false
	}
	buf := fr.Buf[:cap(fr.Buf)]
	copy(buf[off:], buf[fr.Off:fr.Off+n])
	fr.Buf, fr.Off = buf[:off+n], off
	return true
}

// roomy reports whether fr has the room for the most that emit may do to
// it, head bytes in front for the NIV tag: 4 more bytes in front, and 4
// more behind the frame or its padding. Then fit need not be called.
func roomy(fr *port.Frame, head int) bool {
	return fr.Off >= head+vntag.VLANTagLen && cap(fr.Buf)-fr.Off >= max(len(fr.Buf)-fr.Off, vntag.MinFrameLen)+vntag.VLANTagLen
}

// pad zero-fills fr up to 60 bytes (vntag.Pad) within its buffer, which
// fit made room in.
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
