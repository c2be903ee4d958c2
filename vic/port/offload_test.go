package port_test

import (
	"encoding/binary"
	"math/rand/v2"
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vntag"
)

// superFrame returns a TCP super-frame as a VM's kernel hands it to a TAP
// with offloads: Ethernet, IPv4 or IPv6, TCP with its checksum field
// holding the pseudo-header's sum only, payload bytes of payload, and the
// Offload that says so (segments of mss bytes). The IP length fields are
// those of the whole super-frame.
func superFrame(t testing.TB, v6 bool, payload, mss int) (port.Frame, []byte) {
	t.Helper()
	data := make([]byte, payload)
	r := rand.New(rand.NewPCG(1, uint64(payload)))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	tcp := &layers.TCP{SrcPort: 40000, DstPort: 5201, Seq: 0xfffff000, Ack: 77, ACK: true, PSH: true, Window: 512,
		Options: []layers.TCPOption{{OptionType: layers.TCPOptionKindNop}, {OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: make([]byte, 8)}}}
	var ls []gopacket.SerializableLayer
	if v6 {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP,
			SrcIP: net.ParseIP("fd00:78::1"), DstIP: net.ParseIP("fd00:78::2")}
		require.NoError(t, tcp.SetNetworkLayerForChecksum(ip))
		ls = []gopacket.SerializableLayer{eth, ip, tcp, gopacket.Payload(data)}
	} else {
		ip := &layers.IPv4{Version: 4, TTL: 64, Id: 0x1234, Flags: layers.IPv4DontFragment, Protocol: layers.IPProtocolTCP,
			SrcIP: net.IP{10, 78, 0, 1}, DstIP: net.IP{10, 78, 0, 2}}
		require.NoError(t, tcp.SetNetworkLayerForChecksum(ip))
		ls = []gopacket.SerializableLayer{eth, ip, tcp, gopacket.Payload(data)}
	}
	buf := gopacket.NewSerializeBuffer()
	require.NoError(t, gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...))
	b := buf.Bytes()
	l3 := 14
	l4 := l3 + 20
	gso := uint8(port.GSOTCPv4)
	if v6 {
		l4, gso = l3+40, port.GSOTCPv6
	}
	// What the kernel leaves in the checksum field: the pseudo-header's
	// sum, not inverted.
	var sum uint32
	if v6 {
		sum = sum16(b[l3+8:l3+40]) + 6 + uint32(len(b)-l4)
	} else {
		sum = sum16(b[l3+12:l3+20]) + 6 + uint32(len(b)-l4)
	}
	binary.BigEndian.PutUint16(b[l4+16:], foldSum(sum))
	f := port.FrameFrom(b)
	require.True(t, f.SetOffload(port.Offload{Flags: port.OffloadNeedsCsum, GSOType: gso, HdrLen: uint16(l4 + 32),
		GSOSize: uint16(mss), CsumStart: uint16(l4), CsumOffset: 16}))
	return f, data
}

// sum16 adds b as big-endian 16-bit words, two bytes at a time: a
// different way of summing from the port's.
func sum16(b []byte) uint32 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	return s
}

func foldSum(s uint32) uint16 {
	for s>>16 != 0 {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

// checkSegments decodes each segment with gopacket, checks its lengths,
// sequence numbers and checksums (summed here two bytes at a time), and
// returns the payload they carry, in order.
func checkSegments(t *testing.T, segs []port.Frame, v6 bool, maxLen int) []byte {
	t.Helper()
	var got []byte
	var seq uint32
	for i, s := range segs {
		b := s.Bytes()
		assert.True(t, s.Offload().IsZero(), "segment %d is finished", i)
		assert.LessOrEqual(t, len(b), maxLen, "segment %d", i)
		off, _, err := l3Of(b)
		require.NoError(t, err)
		var l4 int
		var pseudo uint32
		if v6 {
			l4 = off + 40
			assert.Equal(t, len(b)-l4, int(binary.BigEndian.Uint16(b[off+4:])), "IPv6 payload length")
			pseudo = sum16(b[off+8:off+40]) + 6 + uint32(len(b)-l4)
		} else {
			l4 = off + 20
			assert.Equal(t, len(b)-off, int(binary.BigEndian.Uint16(b[off+2:])), "IPv4 total length")
			assert.Equal(t, uint16(0xffff), foldSum(sum16(b[off:off+20])), "IPv4 header checksum of segment %d", i)
			assert.Equal(t, uint16(0x1234+i), binary.BigEndian.Uint16(b[off+4:]), "IPv4 id")
			pseudo = sum16(b[off+12:off+20]) + 6 + uint32(len(b)-l4)
		}
		assert.Equal(t, uint16(0xffff), foldSum(pseudo+sum16(b[l4:])), "TCP checksum of segment %d", i)
		s := binary.BigEndian.Uint32(b[l4+4:])
		if i > 0 {
			assert.Equal(t, seq+uint32(len(got)), s, "sequence number of segment %d", i)
		} else {
			seq = s
		}
		flags := b[l4+13]
		assert.Equal(t, i == len(segs)-1, flags&0x08 != 0, "PSH only on the last segment (%d)", i)
		got = append(got, b[l4+32:]...)
	}
	return got
}

// l3Of finds the IP header behind the tags, as tshark would.
func l3Of(b []byte) (int, uint16, error) {
	off := 12
	for {
		et := binary.BigEndian.Uint16(b[off:])
		switch et {
		case 0x8100:
			off += 4
		case vntag.EtherTypeVNTag:
			off += 6
		default:
			return off + 2, et, nil
		}
	}
}

// A super-frame is finished into MTU-sized segments, each with its IP and
// TCP checksums right, and their payloads make up the super-frame's, over
// IPv4 and IPv6, with a VNTag in front counted against the MTU.
func TestSegmenterTCP(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		f, data := superFrame(t, v6, 60000, 1448)
		// The IV tags it on the way up: the offload must follow.
		b, err := vntag.Push(f.Buf, f.Off, mustUp(t, 7))
		require.NoError(t, err)
		f.Off = len(f.Buf) - len(b)
		o := f.Offload()
		hdr := 14 + 20 + 32
		if v6 {
			hdr = 14 + 40 + 32
		}
		assert.Equal(t, uint16(hdr-32+vntag.TagLen), o.CsumStart, "csum_start moved by the tag")
		s := port.NewSegmenter()
		maxLen := 1500 + 14 // a link of MTU 1500: the tag takes from the payload
		segs, err := s.Finish(f, maxLen)
		require.NoError(t, err)
		mss := 1500 - (hdr - 14) - vntag.TagLen
		assert.Len(t, segs, (60000+mss-1)/mss)
		assert.Equal(t, data, checkSegments(t, segs, v6, maxLen))
	}
}

func mustUp(t testing.TB, vif uint16) vntag.Tag {
	tag, err := vntag.Upstream(vif)
	require.NoError(t, err)
	return tag
}

// Through the IV core, a super-frame's Offload follows the frame: up, the
// VNTag moves csum_start and the header length by 6; down, popping it
// moves them back; and a Segmenter then cuts segments of the GSO size.
func TestOffloadThroughIV(t *testing.T) {
	v := iv.New(iv.Config{})
	pn, err := v.AddVNIC(iv.VNICConfig{VIF: 5})
	require.NoError(t, err)
	for _, v6 := range []bool{false, true} {
		mss := 1448
		if v6 {
			mss = 1428
		}
		f, data := superFrame(t, v6, 20000, mss)
		want := f.Offload()
		tx := port.NewTx(16, 1<<20)
		require.Equal(t, 1, v.Process(pn, []port.Frame{f}, 0, tx))
		require.Equal(t, 1, tx.Len())
		up := tx.Frames[0]
		assert.Equal(t, iv.UplinkA, tx.Ports[0])
		got := up.Offload()
		assert.Equal(t, want.CsumStart+vntag.TagLen, got.CsumStart)
		assert.Equal(t, want.HdrLen+vntag.TagLen, got.HdrLen)
		assert.Equal(t, want.GSOSize, got.GSOSize)
		// The VIS sends it back down to VIF 5.
		tag, err := vntag.Downstream(5)
		require.NoError(t, err)
		b := up.Bytes()
		binary.BigEndian.PutUint32(b[14:], tag.Word())
		tx.Reset()
		require.Equal(t, 1, v.Process(iv.UplinkA, []port.Frame{up}, 0, tx))
		require.Equal(t, 1, tx.Len())
		assert.Equal(t, pn, tx.Ports[0])
		assert.Equal(t, want, tx.Frames[0].Offload(), "back as the VM sent it")
		segs, err := port.NewSegmenter().Finish(tx.Frames[0], 0)
		require.NoError(t, err)
		assert.Len(t, segs, (20000+mss-1)/mss)
		assert.Equal(t, data, checkSegments(t, segs, v6, 1514))
	}
}

// A copy in a Tx keeps a super-frame's Offload (CopyFrame) or has none
// (Copy), and a frame read into a batch has none.
func TestOffloadCopies(t *testing.T) {
	f, _ := superFrame(t, false, 3000, 1000)
	tx := port.NewTx(4, 1<<18)
	c := tx.CopyFrame(1, f)
	require.NotNil(t, c)
	assert.Equal(t, f.Offload(), c.Offload())
	assert.Equal(t, 3, c.Offload().Segments(c.Len()))
	assert.Equal(t, f.Len()+2*(14+20+32), c.Offload().SegmentBytes(c.Len()))
	tx.Reset()
	c = tx.Copy(1, f.Bytes())
	assert.True(t, c.Offload().IsZero())
	b := port.NewBatchSize(1, 9000)
	require.True(t, b.Put(0, f.Bytes()))
	assert.True(t, b.Frames[0].Offload().IsZero())
}

// A frame with a partial checksum and no GSO gets its checksum.
func TestSegmenterChecksumOnly(t *testing.T) {
	f, data := superFrame(t, false, 1000, 1448)
	o := f.Offload()
	o.GSOType, o.GSOSize = port.GSONone, 0
	f.SetOffload(o)
	segs, err := port.NewSegmenter().Finish(f, 1514)
	require.NoError(t, err)
	require.Len(t, segs, 1)
	assert.Equal(t, data, checkSegments(t, segs, false, 1514))
}

// Bad offload metadata is an error wrapping ErrOffload, never a panic.
func TestSegmenterBadOffload(t *testing.T) {
	f, _ := superFrame(t, false, 3000, 1000)
	s := port.NewSegmenter()
	for _, o := range []port.Offload{
		{Flags: port.OffloadNeedsCsum, GSOType: port.GSOTCPv4, GSOSize: 1000, CsumStart: 9000, CsumOffset: 16},
		{Flags: port.OffloadNeedsCsum, GSOType: port.GSOUDP, GSOSize: 1000, CsumStart: 34, CsumOffset: 6},
		{Flags: port.OffloadNeedsCsum, GSOType: port.GSOTCPv6, GSOSize: 1000, CsumStart: 34, CsumOffset: 16},
		{Flags: port.OffloadNeedsCsum, CsumStart: 34, CsumOffset: 9000},
	} {
		g := f
		g.SetOffload(o)
		_, err := s.Finish(g, 1514)
		assert.ErrorIs(t, err, port.ErrOffload, "%+v", o)
	}
}

// A TCP header whose data offset is below 5 words (RFC 9293 3.1: the
// header is at least 20 bytes) is refused, not cut into segments whose
// flags and checksum lie past their header: FuzzSegmenter found the
// panic (input 63567aade441b0ba).
func TestSegmenterShortTCPDataOffset(t *testing.T) {
	s := port.NewSegmenter()
	for _, v6 := range []bool{false, true} {
		for off := range 5 {
			f, _ := superFrame(t, v6, 3000, 1000)
			o := f.Offload()
			f.Bytes()[int(o.CsumStart)+12] = byte(off) << 4
			_, err := s.Finish(f, 1514)
			assert.ErrorIs(t, err, port.ErrOffload, "v6 %v data offset %d", v6, off)
		}
	}
}

// GSOECN is a flag on a GSO type, never one itself: a frame whose GSO
// type is the flag alone is refused, as Linux's virtio_net_hdr_to_skb
// refuses it (-EINVAL), and is not passed on whole past maxLen.
func TestSegmenterECNWithoutGSOType(t *testing.T) {
	s := port.NewSegmenter()
	for _, v6 := range []bool{false, true} {
		f, _ := superFrame(t, v6, 3000, 1000)
		o := f.Offload()
		o.GSOType = port.GSOECN
		f.SetOffload(o)
		_, err := s.Finish(f, 1514)
		assert.ErrorIs(t, err, port.ErrOffload, "v6 %v", v6)
	}
}

// Finishing a super-frame allocates nothing, nor do Offload and
// SetOffload.
func TestSegmenterAllocs(t *testing.T) {
	f, _ := superFrame(t, true, 60000, 1440)
	o := f.Offload()
	raw := append([]byte(nil), f.Buf...)
	s := port.NewSegmenter()
	allocs := testing.AllocsPerRun(100, func() {
		copy(f.Buf, raw)
		f.SetOffload(o)
		if _, err := s.Finish(f, 1514); err != nil {
			t.Fatal(err)
		}
		_ = f.Offload()
	})
	assert.Zero(t, allocs)
}

func BenchmarkSegmenterTCP64K(b *testing.B) {
	f, _ := superFrame(b, false, 64000, 1448)
	raw := append([]byte(nil), f.Buf...)
	s := port.NewSegmenter()
	b.SetBytes(int64(f.Len()))
	b.ReportAllocs()
	for b.Loop() {
		copy(f.Buf, raw)
		if _, err := s.Finish(f, 1514); err != nil {
			b.Fatal(err)
		}
	}
}

// cloneFrames copies frames with their Offloads.
func cloneFrames(fs []port.Frame) []port.Frame {
	out := make([]port.Frame, len(fs))
	for i, f := range fs {
		out[i] = port.FrameFrom(f.Bytes())
		out[i].SetOffload(f.Offload())
	}
	return out
}

// The segments of a super-frame, coalesced as a TAP with offloads does,
// become one super-frame again whose segments are the same bytes, over
// IPv4 and IPv6, tagged or not; a segment with a bad checksum, or one of
// another flow, ends a run.
func TestCoalesceSegments(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		mss := 1448
		if v6 {
			mss = 1428
		}
		f, _ := superFrame(t, v6, 40000, mss)
		segs, err := port.NewSegmenter().Finish(f, 0)
		require.NoError(t, err)
		want := cloneFrames(segs)
		got := port.Coalesce(cloneFrames(segs))
		require.Len(t, got, 1, "v6=%v", v6)
		o := got[0].Offload()
		assert.Equal(t, uint16(mss), o.GSOSize)
		assert.Equal(t, len(segs), o.Segments(got[0].Len()))
		again, err := port.NewSegmenter().Finish(got[0], 0)
		require.NoError(t, err)
		require.Len(t, again, len(want))
		for i := range want {
			assert.Equal(t, want[i].Bytes(), again[i].Bytes(), "v6=%v segment %d", v6, i)
		}

		// A flipped payload byte in segment 5: segments 0-4 merge, 5
		// goes as it is, 6 on merge again.
		bad := cloneFrames(segs)
		bad[5].Bytes()[len(bad[5].Bytes())-1] ^= 1
		got = port.Coalesce(bad)
		require.Len(t, got, 3)
		assert.Equal(t, 5, got[0].Offload().Segments(got[0].Len()))
		assert.True(t, got[1].Offload().IsZero())
		assert.Equal(t, bad[5].Bytes(), got[1].Bytes())
		assert.Equal(t, len(segs)-6, got[2].Offload().Segments(got[2].Len()))

		// A wrong checksum in segment 1: segment 0 has nothing to merge
		// with and goes as it is, as does 1; 2 on merge.
		bad = cloneFrames(segs)
		bad[1].Bytes()[len(bad[1].Bytes())-1] ^= 1
		got = port.Coalesce(bad)
		require.Len(t, got, 3)
		assert.Equal(t, want[0].Bytes(), got[0].Bytes())
		assert.True(t, got[0].Offload().IsZero())
		assert.Equal(t, bad[1].Bytes(), got[1].Bytes())
		assert.Equal(t, len(segs)-2, got[2].Offload().Segments(got[2].Len()))

		// Another flow in between: no run crosses it.
		other := cloneFrames(segs[:1])
		ob := other[0].Bytes()
		l4 := len(ob) - mss - 32
		binary.BigEndian.PutUint16(ob[l4:], 40001) // TCP source port
		ob[l4+16], ob[l4+17] = 0, 0
		pseudo := sum16(ob[14+12:14+20]) + 6 + uint32(len(ob)-l4)
		if v6 {
			pseudo = sum16(ob[14+8:14+40]) + 6 + uint32(len(ob)-l4)
		}
		binary.BigEndian.PutUint16(ob[l4+16:], ^foldSum(pseudo+sum16(ob[l4:])))
		one := port.Coalesce(append(cloneFrames(other), cloneFrames(other)...))
		require.Len(t, one, 2, "the same segment twice is not in sequence")
		mixed := append(append(cloneFrames(segs[:3]), other...), cloneFrames(segs[3:6])...)
		got = port.Coalesce(mixed)
		require.Len(t, got, 3)
		assert.Equal(t, 3, got[0].Offload().Segments(got[0].Len()))
		assert.Equal(t, 3, got[2].Offload().Segments(got[2].Len()))
	}
}

// Coalescing allocates nothing.
func TestCoalesceAllocs(t *testing.T) {
	f, _ := superFrame(t, false, 60000, 1448)
	segs, err := port.NewSegmenter().Finish(f, 0)
	require.NoError(t, err)
	c := port.NewCoalescer()
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		if len(c(segs)) != 1 {
			t.Fatal("not merged")
		}
	}))
}

// A batch longer than two super-frames — here five runs of 40 full
// segments of one flow, each ending with PSH, 200 frames as a receive
// ring's batch of 256 holds — becomes five super-frames, whatever room
// one call has for merging: a call out of room stops, and the next takes
// the rest, rather than passing them on as segments.
func TestCoalesceLongBatch(t *testing.T) {
	const mss, per, runs = 1448, 40, 5
	f, _ := superFrame(t, false, per*mss, mss)
	segs, err := port.NewSegmenter().Finish(f, 0)
	require.NoError(t, err)
	require.Len(t, segs, per)
	var stream []port.Frame
	for r := range runs {
		for _, s := range cloneFrames(segs) {
			b := s.Bytes()
			const l4 = 14 + 20
			seq := binary.BigEndian.Uint32(b[l4+4:]) + uint32(r*per*mss)
			binary.BigEndian.PutUint32(b[l4+4:], seq)
			b[l4+16], b[l4+17] = 0, 0
			pseudo := sum16(b[14+12:14+20]) + 6 + uint32(len(b)-l4)
			binary.BigEndian.PutUint16(b[l4+16:], ^foldSum(pseudo+sum16(b[l4:])))
			stream = append(stream, s)
		}
	}
	got := port.CoalesceAll(stream)
	require.Equal(t, runs, len(got), "frames written")
	for i, g := range got {
		assert.Equal(t, per, g.Offload().Segments(g.Len()), "super-frame %d", i)
	}
}

// Addresses whose pseudo-header sum comes within the length's of 2^64
// (IPv4 255.255.255.255 to 255.255.255.254): the sum of the pseudo-header
// and the length must carry around, or the segments' checksums and the
// coalesced super-frame's partial checksum come out one short.
func TestChecksumsCarryAtPseudoHeader(t *testing.T) {
	f, data := superFrame(t, false, 20000, 1448)
	b := f.Bytes()
	copy(b[14+12:], []byte{255, 255, 255, 255, 255, 255, 255, 254})
	l4 := 14 + 20
	binary.BigEndian.PutUint16(b[l4+16:], foldSum(sum16(b[14+12:14+20])+6+uint32(len(b)-l4)))
	segs, err := port.NewSegmenter().Finish(f, 1514)
	require.NoError(t, err)
	assert.Equal(t, data, checkSegments(t, segs, false, 1514))

	got := port.Coalesce(cloneFrames(segs))
	require.Equal(t, 1, len(got), "the segments' checksums are right, so they merge")
	g := got[0].Bytes()
	o := got[0].Offload()
	assert.Equal(t, foldSum(sum16(g[14+12:14+20])+6+uint32(len(g)-l4)), binary.BigEndian.Uint16(g[l4+16:]),
		"the partial checksum is the pseudo-header's sum")
	assert.Equal(t, uint16(l4), o.CsumStart)
}

// BenchmarkCoalesce64K coalesces the 45 segments of a 64 KB super-frame
// into one, as a TAP with offloads does on Write: each segment's checksum
// checked and its payload copied.
func BenchmarkCoalesce64K(b *testing.B) {
	f, _ := superFrame(b, false, 64000, 1448)
	segs, err := port.NewSegmenter().Finish(f, 0)
	require.NoError(b, err)
	c := port.NewCoalescer()
	b.SetBytes(int64(f.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if len(c(segs)) != 1 {
			b.Fatal("not merged")
		}
	}
}
