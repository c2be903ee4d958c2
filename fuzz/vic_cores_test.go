package fuzz

import (
	"encoding/binary"
	"testing"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

// The fixed topology of FuzzIV and FuzzVIS: three vNICs / vEths behind one
// IV, VIFs 5 and 6 in VLAN 10 (port-profile web), VIF 7 in VLAN 20 (db).
var (
	fuzzVIFs  = []vntag.VIF{5, 6, 7}
	fuzzVLANs = map[vntag.VIF]uint16{5: 10, 6: 10, 7: 20}
)

const fuzzProfiles = `
port-profile web
  switchport mode access
  switchport access vlan 10
  state enabled
port-profile db
  switchport mode access
  switchport access vlan 20
  state enabled
`

// seedFrame builds a 60-byte untagged frame.
func seedFrame(dst, src byte) []byte {
	b := make([]byte, 60)
	copy(b, []byte{0x02, 0, 0, 0, 0, dst, 0x02, 0, 0, 0, 0, src, 0x08, 0x00, 0x45})
	if dst == 0xff {
		copy(b, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	}
	return b
}

func pushSeed(b []byte, tag vntag.Tag) []byte {
	f := port.FrameFrom(b)
	out, _ := vntag.Push(f.Buf, f.Off, tag)
	return append([]byte(nil), out...)
}

func pushETagSeed(b []byte, e vntag.ETag) []byte {
	f := port.FrameFrom(b)
	out, _ := vntag.PushETag(f.Buf, f.Off, e)
	return append([]byte(nil), out...)
}

// coreSeeds are hand-built frames for both cores: plain, upstream and
// downstream VNTag and E-Tag, lists, looped, and the real captures.
func coreSeeds(tb testing.TB) [][]byte {
	up5, _ := vntag.Upstream(5)
	down6, _ := vntag.Downstream(6)
	list, _ := vntag.TagFields{Direction: vntag.FromBridge, Pointer: true, DVIF: 1, Looped: true, SVIF: 5}.Tag()
	e5, _ := vntag.ETagForECID(5)
	elist, _ := vntag.ETagFields{GRP: 1, ECIDBase: 1, IngressECIDBase: 5}.ETag()
	seeds := [][]byte{
		seedFrame(0xff, 0x0a), seedFrame(0x0b, 0x0a),
		pushSeed(seedFrame(0xff, 0x0a), up5), pushSeed(seedFrame(0x0b, 0x0a), down6),
		pushSeed(seedFrame(0xff, 0x0a), list), pushETagSeed(seedFrame(0xff, 0x0a), e5),
		pushETagSeed(seedFrame(0xff, 0x0a), elist), {},
	}
	seeds = append(seeds, specFrames()...)
	return append(seeds, captureFrames(tb)...)
}

// FuzzIV feeds a frame to an IV on one of its ports (an uplink or a vNIC)
// and checks: no panic; everything a vNIC sends goes up an uplink with that
// vNIC's tag (the IV never switches locally); nothing goes down to the VIF
// a looped frame names as its source; frames to vNICs carry no tag of the
// link's kind at the front and are at least 60 bytes.
func FuzzIV(f *testing.F) {
	for _, s := range coreSeeds(f) {
		for in := byte(0); in < 5; in++ {
			f.Add(in, false, s)
			f.Add(in, true, s)
		}
	}
	f.Fuzz(func(t *testing.T, in byte, etag bool, data []byte) {
		mode := vntag.ModeVNTag
		listID := uint32(1)
		if etag {
			mode, listID = vntag.ModeETag, vntag.Channel(1, 1)
		}
		v := iv.New(iv.Config{Mode: mode})
		vifOf := map[int]vntag.VIF{}
		for _, vif := range fuzzVIFs {
			p, err := v.AddVNIC(iv.VNICConfig{VIF: vif})
			if err != nil {
				t.Fatal(err)
			}
			vifOf[p] = vif
		}
		if err := v.SetVIFList(listID, fuzzVIFs); err != nil {
			t.Fatal(err)
		}
		p := int(in % 5)
		orig := append([]byte(nil), data...)
		tx := port.NewTx(16, 1<<16)
		if n := v.Process(p, []port.Frame{port.FrameFrom(data)}, 0, tx); n != 1 {
			t.Fatalf("consumed %d frames", n)
		}
		// The looped source of a downstream frame, if any.
		var prune vntag.VIF
		if kind, off, err := vntag.FindTag(orig); err == nil {
			if kind == vntag.KindVNTag && mode == vntag.ModeVNTag {
				if tag := vntag.TagHeader(orig[off:]).Tag(); tag.Looped() {
					prune = vntag.VIF(tag.SVIF())
				}
			} else if kind == vntag.KindETag && mode == vntag.ModeETag {
				prune = vntag.VIF(vntag.ETagHeader(orig[off:]).IngressECID())
			}
		}
		for i, fr := range tx.Frames {
			out := tx.Ports[i]
			b := fr.Bytes()
			if vif, ok := vifOf[p]; ok {
				if out != iv.UplinkA && out != iv.UplinkB {
					t.Fatalf("vNIC %d's frame went to port %d: local switching", vif, out)
				}
				if mode == vntag.ModeVNTag {
					tag, err := vntag.ParseTag(b[12:])
					if err != nil || tag.SVIF() != uint16(vif) || tag.Direction() != vntag.ToBridge {
						t.Fatalf("upstream tag %v (%v), want svif %d", tag, err, vif)
					}
				} else if e, err := vntag.ParseETag(b[12:]); err != nil || vntag.VIF(e.ECID()) != vif {
					t.Fatalf("upstream E-Tag %v (%v), want E-CID %d", e, err, vif)
				}
				continue
			}
			vif, ok := vifOf[out]
			if !ok {
				t.Fatalf("downstream frame to port %d, not a vNIC", out)
			}
			if prune != 0 && vif == prune {
				t.Fatalf("frame delivered to its own source VIF %d", vif)
			}
			if len(b) < vntag.MinFrameLen {
				t.Fatalf("%d-byte frame to a vNIC", len(b))
			}
		}
	})
}

// FuzzVIS feeds a frame to a VIS (after a few frames that teach it where
// the VMs are) and checks: no panic; no frame goes back to its own source
// vEth (unicast to its VIF, or a list frame toward its port without pruning
// it); no frame leaves in a VLAN the destination's profile does not carry.
func FuzzVIS(f *testing.F) {
	for _, s := range coreSeeds(f) {
		f.Add(byte(0), false, s)
		f.Add(byte(0), true, s)
		f.Add(byte(1), false, s)
	}
	f.Fuzz(func(t *testing.T, in byte, etag bool, data []byte) {
		mode := vntag.ModeVNTag
		if etag {
			mode = vntag.ModeETag
		}
		store := profile.NewMemStore()
		_, err := store.Update(func(tx *profile.Txn) error {
			tx.Bind(1, "web")
			tx.Bind(2, "web")
			tx.Bind(3, "db")
			return tx.Configure(fuzzProfiles)
		})
		if err != nil {
			t.Fatal(err)
		}
		s, err := vis.New(vis.Config{Store: store, MACTableSize: 64})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ivA := iv.New(iv.Config{Mode: mode})
		ivPort, _ := s.AddIVPort("iv0", mode, ivA)
		uplink := s.AddUplink("eth1")
		for i, vif := range fuzzVIFs {
			if err := s.AddVEth(profile.VEthID(i+1), ivPort, vif); err != nil {
				t.Fatal(err)
			}
		}
		tag := func(b []byte, vif vntag.VIF) []byte {
			if mode == vntag.ModeETag {
				e, _ := vntag.ETagForECID(uint32(vif))
				return pushETagSeed(b, e)
			}
			tg, _ := vntag.Upstream(uint16(vif))
			return pushSeed(b, tg)
		}
		tx := port.NewTx(256, 1<<20)
		warm := []port.Frame{
			port.FrameFrom(tag(seedFrame(0xff, 0x05), 5)),
			port.FrameFrom(tag(seedFrame(0xff, 0x06), 6)),
			port.FrameFrom(tag(seedFrame(0xff, 0x07), 7)),
		}
		s.Process(ivPort, warm, 1, tx)
		tx.Reset()

		p := ivPort
		if in%2 == 1 {
			p = uplink
		}
		// The frame's source and VLAN, as the VIS sees them.
		var srcVIF vntag.VIF
		var vlan uint16
		if p == ivPort {
			if mode == vntag.ModeVNTag && len(data) >= 12+vntag.TagHeaderLen && binary.BigEndian.Uint16(data[12:]) == vntag.EtherTypeVNTag {
				srcVIF = vntag.VIF(binary.BigEndian.Uint16(data[16:]) & vntag.MaxSVIF)
			} else if mode == vntag.ModeETag && len(data) >= 12+vntag.ETagHeaderLen && binary.BigEndian.Uint16(data[12:]) == vntag.EtherTypeETag {
				e, _ := vntag.ParseETag(data[12:])
				srcVIF = vntag.VIF(e.ECID())
			}
			vlan = fuzzVLANs[srcVIF]
		}
		if n := s.Process(p, []port.Frame{port.FrameFrom(data)}, 2, tx); n != 1 {
			t.Fatalf("consumed %d frames", n)
		}
		for i, fr := range tx.Frames {
			b := fr.Bytes()
			out := tx.Ports[i]
			frameVLAN := vlan
			if out == uplink {
				if p == uplink {
					t.Fatal("uplink to uplink")
				}
				frameVLAN = 1
				if binary.BigEndian.Uint16(b[12:]) == vntag.EtherTypeDot1Q {
					frameVLAN = binary.BigEndian.Uint16(b[14:]) & 0xfff
				}
				if p == ivPort && frameVLAN != vlan {
					t.Fatalf("frame of VLAN %d left the uplink in VLAN %d", vlan, frameVLAN)
				}
				continue
			}
			if p == uplink {
				frameVLAN = 1
				if binary.BigEndian.Uint16(data[12:]) == vntag.EtherTypeDot1Q {
					if vid := binary.BigEndian.Uint16(data[14:]) & 0xfff; vid != 0 {
						frameVLAN = vid
					}
				}
			}
			var dst []vntag.VIF
			var prune vntag.VIF
			if mode == vntag.ModeVNTag {
				tg, err := vntag.ParseTag(b[12:])
				if err != nil || tg.Direction() != vntag.FromBridge {
					t.Fatalf("downstream frame without a d=1 VNTag: %v %v", tg, err)
				}
				if tg.Pointer() {
					dst, _ = ivA.VIFList(uint32(tg.DVIF()))
					if tg.Looped() {
						prune = vntag.VIF(tg.SVIF())
					}
				} else {
					dst = []vntag.VIF{vntag.VIF(tg.DVIF())}
				}
			} else {
				e, err := vntag.ParseETag(b[12:])
				if err != nil {
					t.Fatalf("downstream frame without an E-Tag: %v", err)
				}
				if e.Multicast() {
					dst, _ = ivA.VIFList(e.Channel())
					prune = vntag.VIF(e.IngressECID())
				} else {
					dst = []vntag.VIF{vntag.VIF(e.ECID())}
				}
			}
			if len(dst) == 0 {
				t.Fatal("frame to an empty or unknown vif list")
			}
			for _, d := range dst {
				if d == prune {
					continue
				}
				if srcVIF != 0 && d == srcVIF {
					t.Fatalf("frame sent back to its source VIF %d", d)
				}
				if fuzzVLANs[d] != frameVLAN {
					t.Fatalf("frame of VLAN %d sent to VIF %d in VLAN %d", frameVLAN, d, fuzzVLANs[d])
				}
			}
		}
	})
}
