package vis_test

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

// superTCP returns a VNTag-tagged TCP super-frame from src to dst (VIF
// svif) with payload bytes of payload in segments of mss, as the IV sends
// it up: its Offload says so, counted from the tagged frame.
func superTCP(t *testing.T, l *lab, dst, src [6]byte, svif vntag.VIF, dport uint16, payload, mss int) port.Frame {
	t.Helper()
	f := port.FrameFrom(l.tag(tcpFrame(dst, src, dport, payload), svif))
	require.True(t, f.SetOffload(port.Offload{Flags: port.OffloadNeedsCsum, GSOType: port.GSOTCPv4,
		HdrLen: 14 + 6 + 40, GSOSize: uint16(mss), CsumStart: 14 + 6 + 20, CsumOffset: 16}))
	return f
}

// sendFrames runs frames (with their Offloads) through the VIS from port in.
func (l *lab) sendFrames(in int, fs ...port.Frame) *port.Tx {
	l.t.Helper()
	tx := port.NewTx(64, 1<<20)
	require.Equal(l.t, len(fs), l.vis.Process(in, fs, l.now, tx))
	return tx
}

// A super-frame is hairpinned like any frame under its vEth's policies —
// the VLAN of its access profile, an ip access-group that reads its
// headers — keeps its Offload on the way down, and the input policer
// counts the bytes of the segments it stands for, not its own.
func TestSuperFrameHairpinPolicy(t *testing.T) {
	l := newLab(t, vntag.ModeVNTag, vis.Config{})
	l.configure(`
ip access-list iperf
  10 permit tcp any any eq 5201
policy-map type qos burst
  police cir 1 mbps bc 40 kbytes
port-profile web
  ip access-group iperf in
  service-policy type qos input burst
`)
	a, b := mac(0xa), mac(0xb)
	// B (vEth 2, VIF 6) speaks first, so the VIS learns it.
	tx := l.sendFrames(0, superTCP(t, l, a, b, 6, 5201, 100, 1448))
	require.NotZero(t, tx.Len(), "B's first frame floods")
	l.now += 1e9

	// 30,000 bytes of payload: 21 segments, 31,370 bytes with their
	// headers, within the burst.
	tx = l.sendFrames(0, superTCP(t, l, b, a, 5, 5201, 30000, 1448))
	require.Equal(t, 1, tx.Len(), "hairpin to B")
	assert.Equal(t, 0, tx.Ports[0])
	down := tx.Frames[0]
	assert.Equal(t, uint16(6), vntagOf(t, down.Bytes()).DVIF())
	o := down.Offload()
	assert.Equal(t, uint8(port.GSOTCPv4), o.GSOType)
	assert.Equal(t, uint16(1448), o.GSOSize)
	assert.Equal(t, uint16(14+6+20), o.CsumStart, "csum_start counts the downstream tag")
	assert.Equal(t, 21, o.Segments(down.Len()-6))

	// The ACL reads the super-frame's headers: port 80 is denied.
	tx = l.sendFrames(0, superTCP(t, l, b, a, 5, 80, 30000, 1448))
	assert.Zero(t, tx.Len())
	assert.Equal(t, uint64(1), l.counters(1).Drops[profile.DropIPACL])

	// 39,000 bytes of payload fit the 40,000-byte burst as one frame
	// (39,054 bytes), but not as the 27 segments it stands for (40,770).
	l.now += 10e9
	tx = l.sendFrames(0, superTCP(t, l, b, a, 5, 5201, 39000, 1448))
	assert.Zero(t, tx.Len())
	assert.Equal(t, uint64(1), l.counters(1).Drops[profile.DropPolicer], "policed by its segments' bytes")
}

// tcpFrame returns an untagged TCP/IPv4 frame from src to dst with
// payload bytes of payload.
func tcpFrame(dst, src [6]byte, dport uint16, payload int) []byte {
	b := make([]byte, 14+20+20+payload)
	copy(b, dst[:])
	copy(b[6:], src[:])
	binary.BigEndian.PutUint16(b[12:], 0x0800)
	ip := b[14:]
	ip[0], ip[8], ip[9] = 0x45, 64, 6
	binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
	copy(ip[12:], []byte{10, 0, 0, src[5]})
	copy(ip[16:], []byte{10, 0, 0, dst[5]})
	binary.BigEndian.PutUint16(ip[10:], ipChecksum(ip[:20]))
	binary.BigEndian.PutUint16(ip[20:], 40000)
	binary.BigEndian.PutUint16(ip[22:], dport)
	ip[32] = 5 << 4
	return b
}

// superUplink returns an untagged-by-NIV TCP super-frame from src to dst
// with an 802.1Q tag of vid, as an uplink with offloads reads it.
func superUplink(t *testing.T, dst, src [6]byte, vid uint16, payload, mss int) port.Frame {
	t.Helper()
	f := port.FrameFrom(dot1q(tcpFrame(dst, src, 5201, payload), vid))
	require.True(t, f.SetOffload(port.Offload{Flags: port.OffloadNeedsCsum, GSOType: port.GSOTCPv4,
		HdrLen: 18 + 40, GSOSize: uint16(mss), CsumStart: 18 + 20, CsumOffset: 16}))
	return f
}

// The vEth and port counters count a super-frame as the segments it
// stands for — frames and bytes, each segment with its own headers (and
// on an IV port its own NIV tag) — on the fast path, through a policy,
// flooded and from an uplink, as the input policer does; a flooded copy
// stays a super-frame.
func TestSuperFrameCounters(t *testing.T) {
	l := newLab(t, vntag.ModeVNTag, vis.Config{})
	a, b, d := macA, macB, macD
	// The VIS learns B, A and D.
	l.from(0, 6, frame(a, b, 1))
	l.from(0, 5, frame(b, a, 1))
	l.from(1, 5, frame(a, d, 1))

	// 30,000 bytes of payload in segments of 1,448: 21 segments of 54
	// bytes of headers each (60 with the VNTag).
	const segs, vm, tagged = 21, 30054 + 20*54, 30060 + 20*60
	type snap struct {
		v [5]vis.Counters
		p [3]vis.PortCounters
	}
	take := func() (s snap) {
		for id := 1; id <= 4; id++ {
			s.v[id] = l.counters(profile.VEthID(id))
		}
		for p := range s.p {
			s.p[p] = l.portCounters(p)
		}
		return s
	}
	rx := func(before, after vis.Counters) [2]uint64 {
		return [2]uint64{after.RxFrames - before.RxFrames, after.RxBytes - before.RxBytes}
	}
	txd := func(before, after vis.Counters) [2]uint64 {
		return [2]uint64{after.TxFrames - before.TxFrames, after.TxBytes - before.TxBytes}
	}
	prx := func(before, after vis.PortCounters) [2]uint64 {
		return [2]uint64{after.RxFrames - before.RxFrames, after.RxBytes - before.RxBytes}
	}
	ptx := func(before, after vis.PortCounters) [2]uint64 {
		return [2]uint64{after.TxFrames - before.TxFrames, after.TxBytes - before.TxBytes}
	}
	want := func(frames, bytes int) [2]uint64 { return [2]uint64{uint64(frames), uint64(bytes)} }

	unicast := func(t *testing.T) {
		s0 := take()
		tx := l.sendFrames(0, superTCP(t, l, b, a, 5, 5201, 30000, 1448))
		require.Equal(t, 1, tx.Len())
		s1 := take()
		assert.Equal(t, want(segs, vm), rx(s0.v[1], s1.v[1]), "vEth 1 in")
		assert.Equal(t, want(segs, vm), txd(s0.v[2], s1.v[2]), "vEth 2 out")
		assert.Equal(t, want(segs, tagged), prx(s0.p[0], s1.p[0]), "port 0 in")
		assert.Equal(t, want(segs, tagged), ptx(s0.p[0], s1.p[0]), "port 0 out")
	}
	t.Run("fast path", unicast)
	l.configure(`
ip access-list iperf
  10 permit tcp any any
port-profile web
  ip access-group iperf in
`)
	t.Run("policy", unicast)

	t.Run("flood", func(t *testing.T) {
		s0 := take()
		tx := l.sendFrames(0, superTCP(t, l, mac(0x77), a, 5, 5201, 30000, 1448))
		require.Equal(t, 3, tx.Len(), "to port 0 (B), port 1 (D) and the uplink")
		for i, f := range tx.Frames {
			assert.Equal(t, uint16(1448), f.Offload().GSOSize, "copy %d to port %d stays a super-frame", i, tx.Ports[i])
		}
		s1 := take()
		assert.Equal(t, want(segs, vm), rx(s0.v[1], s1.v[1]), "vEth 1 in")
		assert.Equal(t, want(segs, vm), txd(s0.v[2], s1.v[2]), "vEth 2 out")
		assert.Equal(t, want(segs, vm), txd(s0.v[4], s1.v[4]), "vEth 4 out")
		assert.Equal(t, want(segs, tagged), ptx(s0.p[1], s1.p[1]), "port 1 out")
		assert.Equal(t, want(segs, 30058+20*58), ptx(s0.p[2], s1.p[2]), "uplink out, with the 802.1Q tag")
	})

	t.Run("from the uplink", func(t *testing.T) {
		l.send(l.uplink, dot1q(frame(a, macX, 1), 10))
		s0 := take()
		tx := l.sendFrames(l.uplink, superUplink(t, a, macX, 10, 30000, 1448))
		require.Equal(t, 1, tx.Len())
		s1 := take()
		assert.Equal(t, want(segs, 30058+20*58), prx(s0.p[2], s1.p[2]), "uplink in")
		assert.Equal(t, want(segs, vm), txd(s0.v[1], s1.v[1]), "vEth 1 out")
		assert.Equal(t, want(segs, tagged), ptx(s0.p[0], s1.p[0]), "port 0 out")
	})
}
