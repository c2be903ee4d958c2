package conformance

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/nivkit/niv/internal/dissect"
	"github.com/nivkit/niv/vntag"
)

// Diff describes the first frame where what a device sent differs from
// what a case expects.
type Diff struct {
	// Port is the port the frame left by; N its 1-based position among
	// that port's frames.
	Port string
	N    int
	// Want and Got are the frames; Want is nil for an unexpected frame,
	// Got for a missing one.
	Want, Got []byte
	// WantCount and GotCount are how many frames the port was expected to
	// send and sent.
	WantCount, GotCount int
	// Fields are the fields that differ, with Wireshark's names.
	Fields []FieldDiff
}

// FieldDiff is one differing field, with the values as tshark prints them
// ("" when the frame does not have the field).
type FieldDiff struct {
	Name, Want, Got string
}

// String renders the diff for a person: which frame, then one line per
// differing field.
func (d *Diff) String() string {
	var b strings.Builder
	switch {
	case d.Got == nil:
		fmt.Fprintf(&b, "port %s: frame %d missing (want %d frames, got %d)\n", d.Port, d.N, d.WantCount, d.GotCount)
		fmt.Fprintf(&b, "  want: %s\n", summary(d.Want))
	case d.Want == nil:
		fmt.Fprintf(&b, "port %s: unexpected frame %d (want %d frames, got %d)\n", d.Port, d.N, d.WantCount, d.GotCount)
		fmt.Fprintf(&b, "  got:  %s\n", summary(d.Got))
	default:
		fmt.Fprintf(&b, "port %s: frame %d differs\n", d.Port, d.N)
		w := 0
		for _, f := range d.Fields {
			w = max(w, len(f.Name))
		}
		for _, f := range d.Fields {
			fmt.Fprintf(&b, "  %-*s  want %s, got %s\n", w+1, f.Name+":", orAbsent(f.Want), orAbsent(f.Got))
		}
	}
	return b.String()
}

func orAbsent(v string) string {
	if v == "" {
		return "(absent)"
	}
	return v
}

// summary renders a frame on one line with Wireshark's field names.
func summary(b []byte) string {
	var f dissect.Frame
	dissect.Dissect(b, &f)
	var s strings.Builder
	for i, x := range f.Fields {
		if i > 0 {
			s.WriteByte(' ')
		}
		s.WriteString(x.Name)
		s.WriteByte('=')
		s.WriteString(x.Value())
	}
	fmt.Fprintf(&s, " frame.len=%d", len(b))
	return s.String()
}

// Compare compares what a device sent (got, with the vif lists it
// programmed) with what case c expects, port by port in the setup's order,
// and returns the first difference, or nil when they agree. A flooded
// frame's vif list is compared by its members when both the case and the
// device name them (see VIFList); otherwise by its id.
func Compare(c *Case, got []Frame, lists Lists) *Diff {
	ports := c.Ports()
	for _, f := range got {
		if !slices.Contains(ports, f.Port) {
			ports = append(ports, f.Port)
		}
	}
	wl := caseLists(c)
	for _, p := range ports {
		want, have := c.WantOn(p), framesOn(got, p)
		for i := 0; i < max(len(want), len(have)); i++ {
			d := &Diff{Port: p, N: i + 1, WantCount: len(want), GotCount: len(have)}
			if i < len(want) {
				d.Want = want[i]
			}
			if i < len(have) {
				d.Got = have[i]
			}
			if d.Want == nil || d.Got == nil {
				return d
			}
			gl := lists[listPort(c, p)]
			g := normalizeList(d.Want, d.Got, wl[p], gl)
			if bytes.Equal(d.Want, g) {
				continue
			}
			if !bytes.Equal(g, d.Got) {
				// Same list by its members: show it under the case's id.
				gl = wl[p]
			}
			d.Fields = fieldDiff(d.Want, g, wl[p], gl)
			return d
		}
	}
	return nil
}

// listPort is the key of port p in a device's Lists: the port for a VIS,
// "" for an IV (whose lists are its own, not a port's).
func listPort(c *Case, p string) string {
	if c.Setup.Device == DeviceIV {
		return ""
	}
	return p
}

// caseLists returns the case's named lists by port.
func caseLists(c *Case) map[string]map[uint32][]vntag.VIF {
	out := map[string]map[uint32][]vntag.VIF{}
	for _, l := range c.Setup.Lists {
		if out[l.Port] == nil {
			out[l.Port] = map[uint32][]vntag.VIF{}
		}
		out[l.Port][l.ID] = l.VIFs
	}
	return out
}

// listID returns the vif list a frame is addressed to (VNTag p=1: the
// vif_list_id; E-Tag GRP>0: GRP<<20 | E-CID), if any.
func listID(b []byte) (uint32, vntag.Kind, bool) {
	if len(b) < vntag.AddrLen+vntag.ETagHeaderLen {
		return 0, vntag.KindNone, false
	}
	switch kind := vntag.KindOf(binary.BigEndian.Uint16(b[vntag.AddrLen:])); kind {
	case vntag.KindVNTag:
		if t := vntag.TagHeader(b[vntag.AddrLen:]).Tag(); t.Pointer() {
			return uint32(t.DVIF()), kind, true
		}
		return 0, kind, false
	case vntag.KindETag:
		if e := vntag.ETagHeader(b[vntag.AddrLen:]).ETag(); e.Multicast() {
			return e.Channel(), kind, true
		}
		return 0, kind, false
	default:
		return 0, kind, false
	}
}

// setListID returns a copy of b addressed to list id instead.
func setListID(b []byte, kind vntag.Kind, id uint32) []byte {
	c := bytes.Clone(b)
	if kind == vntag.KindVNTag {
		w := binary.BigEndian.Uint16(c[14:])&0xc000 | uint16(id&0x3fff)
		binary.BigEndian.PutUint16(c[14:], w)
		return c
	}
	w := binary.BigEndian.Uint16(c[16:])&0xc000 | uint16(id>>20&3)<<12 | uint16(id&0xfff)
	binary.BigEndian.PutUint16(c[16:], w)
	c[19] = byte(id >> 12)
	return c
}

// normalizeList returns got addressed to want's list id when both name a
// list and the lists have the same members; else got unchanged.
func normalizeList(want, got []byte, wl, gl map[uint32][]vntag.VIF) []byte {
	wid, wk, ok1 := listID(want)
	gid, gk, ok2 := listID(got)
	if !ok1 || !ok2 || wk != gk || wid == gid {
		return got
	}
	wm, ok1 := wl[wid]
	gm, ok2 := gl[gid]
	if !ok1 || !ok2 || !sameSet(wm, gm) {
		return got
	}
	return setListID(got, gk, wid)
}

func sameSet(a, b []vntag.VIF) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// fieldDiff lists the fields that differ between want and got.
func fieldDiff(want, got []byte, wl, gl map[uint32][]vntag.VIF) []FieldDiff {
	wf, gf := Fields(want), Fields(got)
	annotate(want, wf, wl)
	annotate(got, gf, gl)
	var names []string
	for _, kv := range append(slices.Clone(wf), gf...) {
		if !slices.Contains(names, kv.Name) {
			names = append(names, kv.Name)
		}
	}
	var out []FieldDiff
	for _, n := range names {
		w, g := lookup(wf, n), lookup(gf, n)
		if w != g {
			out = append(out, FieldDiff{n, w, g})
		}
	}
	if len(out) == 0 {
		// Same headers: the difference is in the payload.
		i := 0
		for i < len(want) && i < len(got) && want[i] == got[i] {
			i++
		}
		out = append(out, FieldDiff{"data", byteAt(want, i), byteAt(got, i)})
	}
	return out
}

func byteAt(b []byte, i int) string {
	if i >= len(b) {
		return fmt.Sprintf("end of frame at offset %d", i)
	}
	return fmt.Sprintf("0x%02x at offset %d", b[i], i)
}

func lookup(fs []FieldValue, name string) string {
	for _, f := range fs {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

// annotate adds the members of a frame's vif list to its list field.
func annotate(b []byte, fs []FieldValue, lists map[uint32][]vntag.VIF) {
	id, kind, ok := listID(b)
	if !ok {
		return
	}
	m, known := lists[id]
	note := " (vif list of unknown members)"
	if known {
		note = fmt.Sprintf(" (vif list %v)", m)
	}
	field := dissect.VNTagDst
	if kind == vntag.KindETag {
		field = dissect.ETagECIDBase
	}
	for i := range fs {
		if fs[i].Name == field {
			fs[i].Value += note
		}
	}
}

// Fields decodes a frame into Wireshark-named fields with the values tshark
// prints: the link-layer headers (eth, vlan, ieee8021ad, vntag, etag), an
// IPv4 header's main fields, and frame.len. A field that occurs more than
// once has its values joined by ",", as tshark -E occurrence=a does.
func Fields(b []byte) []FieldValue {
	var f dissect.Frame
	dissect.Dissect(b, &f)
	var out []FieldValue
	add := func(name, v string) {
		for i := range out {
			if out[i].Name == name {
				out[i].Value += "," + v
				return
			}
		}
		out = append(out, FieldValue{name, v})
	}
	for _, x := range f.Fields {
		add(x.Name, x.Value())
	}
	if f.Err != nil {
		add("_ws.malformed", "truncated header")
	}
	if f.Err == nil && f.Next == 0x0800 && len(b) >= f.PayloadOffset+20 && b[f.PayloadOffset]>>4 == 4 {
		ip := b[f.PayloadOffset:]
		add("ip.dsfield.dscp", strconv.Itoa(int(ip[1]>>2)))
		add("ip.len", strconv.Itoa(int(binary.BigEndian.Uint16(ip[2:]))))
		add("ip.proto", strconv.Itoa(int(ip[9])))
		add("ip.checksum", fmt.Sprintf("0x%04x", binary.BigEndian.Uint16(ip[10:])))
		add("ip.src", netip.AddrFrom4([4]byte(ip[12:16])).String())
		add("ip.dst", netip.AddrFrom4([4]byte(ip[16:20])).String())
	}
	add("frame.len", strconv.Itoa(len(b)))
	return out
}
