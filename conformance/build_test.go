package conformance_test

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// This file is the frame builder of the case generator (gen_test.go). It
// builds frames byte by byte from the field values the specification gives
// (../shared/spec/vntag.md), with no niv code: the expected outputs of a
// case must not depend on what niv does.

type mac [6]byte

func (m mac) String() string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// Addresses of the cases' VMs and hosts.
var (
	macA  = mac{0x02, 0, 0, 0, 0, 0x0a} // VM behind iv1, vif 5 / E-CID 197
	macB  = mac{0x02, 0, 0, 0, 0, 0x0b} // VM behind iv1, vif 6 / E-CID 198
	macC  = mac{0x02, 0, 0, 0, 0, 0x0c} // VM behind iv2, vif 7 / E-CID 300
	macD  = mac{0x02, 0, 0, 0, 0, 0x0d} // a fourth VM (trunk, VLAN 20...)
	macX  = mac{0x02, 0, 0, 0, 0, 0xee} // a host behind the uplink
	macY  = mac{0x02, 0, 0, 0, 0, 0x99} // nobody: unknown unicast
	macZ  = mac{0x02, 0, 0, 0, 0, 0xdd} // a host behind the second uplink
	bcast = mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	mcast = mac{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}
)

// vnt is a VNTag's fields (spec part 1).
type vnt struct {
	dir, ptr     bool
	dst          uint16
	looped       bool
	src          uint16
	version, res uint8
}

// ett is an E-Tag's fields (spec part 2).
type ett struct {
	pcp, dei uint8
	iecid    uint32 // Ingress_E-CID, 20 bits (ext<<12 | base)
	grp      uint8
	ecid     uint32 // E-CID, 20 bits
	resv     uint8
}

type vlanTag struct {
	tpid uint16
	pcp  uint8
	dei  bool
	vid  uint16
}

type ipv4 struct {
	src, dst     [4]byte
	proto        uint8
	sport, dport uint16
	dscp         uint8
}

// fb builds one frame.
type fb struct {
	dst, src mac
	tag      *vnt
	et       *ett
	vlans    []vlanTag
	etype    uint16
	ip       *ipv4
	raw      []byte
	trunc    int  // cut the frame to this many bytes (0: no cut)
	pad      bool // pad the frame (not counting its NIV tag) to 60 bytes
	note     string
	ecp      *ecpHdr // an ECP frame: raw is its header and ULPDU
	vdp      *vdpPDU // the VDPDU of an ECP subtype-1 request
}

// frame starts an IPv4/UDP frame from src to dst whose untagged form is 60
// bytes long: 10.0.0.<src> → 10.0.0.<dst>, ports 40000 → 7.
func frame(dst, src mac) *fb {
	return &fb{dst: dst, src: src, etype: 0x0800,
		ip: &ipv4{src: [4]byte{10, 0, 0, src[5]}, dst: [4]byte{10, 0, 0, dst[5]}, proto: 17, sport: 40000, dport: 7}}
}

func (f *fb) clone() *fb {
	c := *f
	if f.tag != nil {
		t := *f.tag
		c.tag = &t
	}
	if f.et != nil {
		e := *f.et
		c.et = &e
	}
	if f.ip != nil {
		i := *f.ip
		c.ip = &i
	}
	c.vlans = append([]vlanTag(nil), f.vlans...)
	return &c
}

// up adds an upstream VNTag from svif (d=0, p=0, dvif 0, l=0).
func (f *fb) up(svif uint16) *fb {
	c := f.clone()
	c.tag = &vnt{src: svif}
	return c
}

// down adds a downstream unicast VNTag to dvif (d=1, p=0, l=0, svif 0).
func (f *fb) down(dvif uint16) *fb {
	c := f.clone()
	c.tag = &vnt{dir: true, dst: dvif}
	return c
}

// list adds a downstream VNTag to vif list id (d=1, p=1), looped back to
// prune svif when prune is not 0.
func (f *fb) list(id uint16, prune uint16) *fb {
	c := f.clone()
	c.tag = &vnt{dir: true, ptr: true, dst: id, looped: prune != 0, src: prune}
	return c
}

// vn adds a VNTag with every field given.
func (f *fb) vn(t vnt) *fb {
	c := f.clone()
	c.tag = &t
	return c
}

// eup adds an upstream E-Tag from E-CID ecid (GRP 0, Ingress_E-CID 0).
func (f *fb) eup(ecid uint32) *fb {
	c := f.clone()
	c.et = &ett{ecid: ecid}
	return c
}

// edown adds a downstream unicast E-Tag to E-CID ecid.
func (f *fb) edown(ecid uint32) *fb { return f.eup(ecid) }

// elist adds a downstream multicast E-Tag: E-channel (grp, ecid), pruning
// Ingress_E-CID prune.
func (f *fb) elist(grp uint8, ecid, prune uint32) *fb {
	c := f.clone()
	c.et = &ett{grp: grp, ecid: ecid, iecid: prune}
	return c
}

// etag adds an E-Tag with every field given.
func (f *fb) etag(e ett) *fb {
	c := f.clone()
	c.et = &e
	return c
}

// vlan adds an 802.1Q tag (TPID 0x8100) with VID vid, priority 0, after
// any tag already added.
func (f *fb) vlan(vid uint16) *fb { return f.vlanp(0, vid) }

// vlanp adds an 802.1Q tag with priority pcp.
func (f *fb) vlanp(pcp uint8, vid uint16) *fb {
	c := f.clone()
	c.vlans = append(c.vlans, vlanTag{tpid: 0x8100, pcp: pcp, vid: vid})
	return c
}

// vlanpd adds an 802.1Q tag with priority pcp and DEI set.
func (f *fb) vlanpd(pcp uint8, vid uint16) *fb {
	c := f.clone()
	c.vlans = append(c.vlans, vlanTag{tpid: 0x8100, pcp: pcp, dei: true, vid: vid})
	return c
}

// prio sets the E-PCP and E-DEI of the frame's E-Tag.
func (f *fb) prio(pcp, dei uint8) *fb {
	c := f.clone()
	c.et.pcp, c.et.dei = pcp, dei
	return c
}

// tcp makes the payload TCP with the given destination port.
func (f *fb) tcp(dport uint16) *fb {
	c := f.clone()
	c.ip.proto, c.ip.dport = 6, dport
	return c
}

// udp sets the UDP destination port.
func (f *fb) udp(dport uint16) *fb {
	c := f.clone()
	c.ip.dport = dport
	return c
}

// dscp sets the IPv4 DSCP.
func (f *fb) dscp(d uint8) *fb {
	c := f.clone()
	c.ip.dscp = d
	return c
}

// payload replaces the IPv4 payload by EtherType et and raw bytes.
func (f *fb) payload(et uint16, raw []byte) *fb {
	c := f.clone()
	c.etype, c.ip, c.raw = et, nil, raw
	return c
}

// cut truncates the built frame to n bytes.
func (f *fb) cut(n int) *fb {
	c := f.clone()
	c.trunc = n
	return c
}

// padded pads the frame without its NIV tag to 60 bytes.
func (f *fb) padded() *fb {
	c := f.clone()
	c.pad = true
	return c
}

// say sets the frame's description for README.md.
func (f *fb) say(s string) *fb {
	c := f.clone()
	c.note = s
	return c
}

func (f *fb) nivLen() int {
	switch {
	case f.tag != nil:
		return 6
	case f.et != nil:
		return 8
	}
	return 0
}

// bytes builds the frame.
func (f *fb) bytes() []byte {
	b := append([]byte{}, f.dst[:]...)
	b = append(b, f.src[:]...)
	if t := f.tag; t != nil {
		w := uint32(t.dst&0x3fff)<<16 | uint32(t.version&3)<<12 | uint32(t.res&1)<<14 | uint32(t.src&0xfff)
		if t.dir {
			w |= 1 << 31
		}
		if t.ptr {
			w |= 1 << 30
		}
		if t.looped {
			w |= 1 << 15
		}
		b = binary.BigEndian.AppendUint16(b, 0x8926)
		b = binary.BigEndian.AppendUint32(b, w)
	}
	if e := f.et; e != nil {
		b = binary.BigEndian.AppendUint16(b, 0x893f)
		b = binary.BigEndian.AppendUint16(b, uint16(e.pcp&7)<<13|uint16(e.dei&1)<<12|uint16(e.iecid&0xfff))
		b = binary.BigEndian.AppendUint16(b, uint16(e.resv&3)<<14|uint16(e.grp&3)<<12|uint16(e.ecid&0xfff))
		b = append(b, byte(e.iecid>>12), byte(e.ecid>>12))
	}
	for _, v := range f.vlans {
		b = binary.BigEndian.AppendUint16(b, v.tpid)
		tci := uint16(v.pcp&7)<<13 | v.vid&0xfff
		if v.dei {
			tci |= 1 << 12
		}
		b = binary.BigEndian.AppendUint16(b, tci)
	}
	b = binary.BigEndian.AppendUint16(b, f.etype)
	if f.ip != nil {
		b = append(b, f.ipBytes()...)
	} else {
		b = append(b, f.raw...)
	}
	if f.pad {
		for len(b)-f.nivLen() < 60 {
			b = append(b, 0)
		}
	}
	if f.trunc > 0 && f.trunc < len(b) {
		b = b[:f.trunc]
	}
	return b
}

// ipBytes is a 46-byte IPv4 packet (so that an untagged frame is 60 bytes):
// UDP with 18 data bytes, or TCP with 6.
func (f *fb) ipBytes() []byte {
	p := f.ip
	h := make([]byte, 46)
	h[0], h[1] = 0x45, p.dscp<<2
	binary.BigEndian.PutUint16(h[2:], 46)
	binary.BigEndian.PutUint16(h[4:], 1)
	h[8], h[9] = 64, p.proto
	copy(h[12:], p.src[:])
	copy(h[16:], p.dst[:])
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(h[10:], ^uint16(sum))
	l4 := h[20:]
	binary.BigEndian.PutUint16(l4, p.sport)
	binary.BigEndian.PutUint16(l4[2:], p.dport)
	data := l4[8:]
	if p.proto == 6 {
		l4[12] = 5 << 4 // data offset: 20 bytes
		l4[13] = 0x02   // SYN
		binary.BigEndian.PutUint16(l4[14:], 1024)
		data = l4[20:]
	} else {
		binary.BigEndian.PutUint16(l4[4:], 26)
	}
	for i := range data {
		data[i] = byte(i + 1)
	}
	return h
}

// expect renders the frame's expectation line: the fields tshark must
// show, with the values the specification gives them.
func (f *fb) expect(port string, n int) string {
	var w []string
	add := func(k string, v any) { w = append(w, fmt.Sprintf("%s=%v", k, v)) }
	add("eth.dst", f.dst)
	add("eth.src", f.src)
	b01 := func(x bool) int {
		if x {
			return 1
		}
		return 0
	}
	switch {
	case f.tag != nil && (f.trunc == 0 || f.trunc >= 18):
		t := f.tag
		add("vntag.dir", b01(t.dir))
		add("vntag.ptr", b01(t.ptr))
		add("vntag.dst", t.dst)
		add("vntag.looped", b01(t.looped))
		add("vntag.version", t.version)
		add("vntag.src", t.src)
	case f.et != nil && (f.trunc == 0 || f.trunc >= 20):
		e := f.et
		add("etag.pcp", e.pcp)
		add("etag.dei", e.dei)
		add("etag.iecid_base", e.iecid&0xfff)
		add("etag.group", e.grp)
		add("etag.ecid_base", e.ecid&0xfff)
		add("etag.iecid_ext", e.iecid>>12)
		add("etag.ecid_ext", e.ecid>>12)
	case f.tag == nil && f.et == nil:
		w = append(w, "notag")
	}
	var ids, prios, deis []string
	anyDEI := false
	for _, v := range f.vlans {
		if v.tpid == 0x8100 {
			ids = append(ids, fmt.Sprint(v.vid))
			prios = append(prios, fmt.Sprint(v.pcp))
			deis = append(deis, fmt.Sprint(b01(v.dei)))
			anyDEI = anyDEI || v.dei
		}
	}
	if len(ids) > 0 {
		add("vlan.id", strings.Join(ids, ","))
		add("vlan.priority", strings.Join(prios, ","))
		if anyDEI {
			add("vlan.dei", strings.Join(deis, ","))
		}
	} else if len(f.vlans) == 0 {
		w = append(w, "novlan")
	}
	if f.ip != nil && f.trunc == 0 {
		add("ip.dsfield.dscp", f.ip.dscp)
	}
	if e := f.ecp; e != nil {
		add("ecp.ver", 1)
		add("ecp.op", e.op)
		add("ecp.subtype", e.subtype)
		add("ecp.seqno", e.seq)
		switch {
		case e.op == 0 && f.vdp != nil:
			w = append(w, vdpExpect(f.vdp)...)
		case e.op == 0:
			// tshark shows the ULPDU, Ethernet padding included, as data.
			add("data.data", hex.EncodeToString(f.bytes()[18:]))
		}
	}
	add("frame.len", len(f.bytes()))
	return fmt.Sprintf("%s %d: %s", port, n, strings.Join(w, " "))
}

// describe renders the frame for a person.
func (f *fb) describe() string {
	var s []string
	if f.note != "" {
		s = append(s, f.note+":")
	}
	s = append(s, fmt.Sprintf("%v → %v", f.src, f.dst))
	if t := f.tag; t != nil {
		s = append(s, fmt.Sprintf("VNTag[d=%d p=%d dvif=%d l=%d ver=%d svif=%d]", b2i(t.dir), b2i(t.ptr), t.dst, b2i(t.looped), t.version, t.src))
	}
	if e := f.et; e != nil {
		if e.dei != 0 {
			s = append(s, fmt.Sprintf("E-Tag[pcp=%d dei=1 GRP=%d E-CID=%d Ingress_E-CID=%d]", e.pcp, e.grp, e.ecid, e.iecid))
		} else {
			s = append(s, fmt.Sprintf("E-Tag[pcp=%d GRP=%d E-CID=%d Ingress_E-CID=%d]", e.pcp, e.grp, e.ecid, e.iecid))
		}
	}
	for _, v := range f.vlans {
		if v.dei {
			s = append(s, fmt.Sprintf("802.1Q[vid=%d pcp=%d dei=1]", v.vid, v.pcp))
			continue
		}
		s = append(s, fmt.Sprintf("802.1Q[vid=%d pcp=%d]", v.vid, v.pcp))
	}
	if f.ip != nil {
		proto := "UDP"
		if f.ip.proto == 6 {
			proto = "TCP"
		}
		s = append(s, fmt.Sprintf("IPv4 %v → %v %s dport %d dscp %d", ip4(f.ip.src), ip4(f.ip.dst), proto, f.ip.dport, f.ip.dscp))
	} else if f.vdp != nil {
		s = append(s, vdpDescribe(f.vdp))
	} else if e := f.ecp; e != nil && e.op == 1 && e.subtype == 1 {
		s = append(s, fmt.Sprintf("ECP ack (subtype %d)", e.subtype))
	} else {
		s = append(s, fmt.Sprintf("type 0x%04x", f.etype))
	}
	s = append(s, fmt.Sprintf("(%d bytes)", len(f.bytes())))
	return strings.Join(s, " ")
}

func b2i(x bool) int {
	if x {
		return 1
	}
	return 0
}

func ip4(a [4]byte) string { return fmt.Sprintf("%d.%d.%d.%d", a[0], a[1], a[2], a[3]) }
