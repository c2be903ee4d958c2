//go:build linux

package port_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vntag"
)

// ringPair makes a veth pair and opens an AF_PACKET port on each end with
// cfg (the NIV filter on both); they close when the test ends.
func ringPair(t *testing.T, prefix string, cfg port.PacketConfig) (*port.Packet, *port.Packet) {
	t.Helper()
	return ringPairMTU(t, prefix, 0, cfg)
}

// ringPairMTU is ringPair with the veth's MTU set to mtu (0: vethPair's).
func ringPairMTU(t *testing.T, prefix string, mtu int, cfg port.PacketConfig) (*port.Packet, *port.Packet) {
	t.Helper()
	a, b := vethPair(t, prefix)
	if mtu > 0 {
		for _, d := range []string{a, b} {
			run(t, "ip", "link", "set", d, "mtu", strconv.Itoa(mtu))
		}
	}
	cfg.Filter = port.NIVFilter()
	pa, err := port.OpenPacketWith(a, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { pa.Close() })
	pb, err := port.OpenPacketWith(b, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { pb.Close() })
	return pa, pb
}

// ringFrame is VNTag-typed frame i of n bytes, numbered in bytes 20-21.
func ringFrame(i, n int) []byte {
	f := testFrame(n, byte(i*7))
	copy(f[12:], []byte{0x89, 0x26})
	f[20], f[21] = byte(i>>8), byte(i)
	return f
}

// Frames read through a receive ring of 64 slots arrive intact and in
// order while the ring wraps many times; each is read in place with
// Headroom bytes in front of it, into which a VNTag is pushed before the
// frame is sent back the other way and read again, tag and all. The same
// holds with the ring off (recvmmsg into the batch), with a transmit
// ring, with offloads (the virtio_net_hdr in the slots), and writing
// through AF_XDP (XDPTx).
func TestPacketRingInOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  port.PacketConfig
	}{
		{"ring", port.PacketConfig{RxRing: 64}},
		{"recvmmsg", port.PacketConfig{RxRing: -1}},
		{"txring", port.PacketConfig{RxRing: 64, TxRing: 64}},
		{"txring-recvmmsg", port.PacketConfig{RxRing: -1, TxRing: 64}},
		{"offload-rings", port.PacketConfig{RxRing: 64, TxRing: 64, Offload: true}},
		{"xdp-tx", port.PacketConfig{RxRing: 64, XDPTx: true}},
		{"xdp-tx-recvmmsg", port.PacketConfig{RxRing: -1, XDPTx: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pa, pb := ringPair(t, "nrgo", tc.cfg)
			const total = 1000
			batch := port.NewBatch(16)
			back := port.NewBatch(16)
			next, echoed := 0, 0
			for lo := 0; lo < total; lo += 32 {
				var out []port.Frame
				for i := lo; i < min(lo+32, total); i++ {
					out = append(out, port.FrameFrom(ringFrame(i, 60+i%1400)))
				}
				n, err := pa.Write(out)
				require.NoError(t, err)
				require.Equal(t, len(out), n)
				for next < lo+len(out) {
					readWithin(t, pb, batch, 5*time.Second)
					var tx []port.Frame
					for _, f := range batch.Valid() {
						require.GreaterOrEqual(t, f.Off, port.Headroom)
						require.Equal(t, ringFrame(next, 60+next%1400), f.Bytes(), "frame %d", next)
						tag, err := vntag.TagFields{DVIF: uint16(next % 4096)}.Tag()
						require.NoError(t, err)
						tagged, err := vntag.Push(f.Buf, f.Off, tag)
						require.NoError(t, err)
						tx = append(tx, port.Frame{Buf: f.Buf, Off: f.Off - (len(tagged) - f.Len())})
						next++
					}
					_, err := pb.Write(tx)
					require.NoError(t, err)
					for echoed < next {
						readWithin(t, pa, back, 5*time.Second)
						for _, f := range back.Valid() {
							tag, inner, err := vntag.Pop(append([]byte(nil), f.Bytes()...))
							require.NoError(t, err, "echo %d", echoed)
							assert.Equal(t, uint16(echoed%4096), tag.DVIF())
							require.Equal(t, ringFrame(echoed, 60+echoed%1400), inner, "echo %d", echoed)
							echoed++
						}
					}
				}
			}
			st := pb.Stats()
			assert.Equal(t, uint64(total), st.RxFrames)
			assert.Zero(t, st.RxDropped)
		})
	}
}

// Under overload a ring of 64 slots fills and the kernel drops what does
// not fit; those drops are in the port's counters (RxDropped and
// KernelDropped), every frame written is either read or counted dropped,
// and reading through the ring and writing through a transmit ring
// allocates nothing.
func TestPacketRingOverloadCounted(t *testing.T) {
	pa, pb := ringPair(t, "nrgd", port.PacketConfig{RxRing: 64, TxRing: 128})
	const total = 2000
	out := make([]port.Frame, 50)
	for lo := 0; lo < total; lo += len(out) {
		for i := range out {
			out[i] = port.FrameFrom(ringFrame(lo+i, 128))
		}
		// Nothing reads meanwhile: the ring fills after 64 frames (a
		// full socket send queue ends a Write early; retry).
		for w := 0; w < len(out); {
			n, err := pa.Write(out[w:])
			require.NoError(t, err)
			w += n
		}
	}
	batch := port.NewBatch(32)
	got, last := 0, -1
	for {
		readWithin(t, pb, batch, 5*time.Second)
		for _, f := range batch.Valid() {
			i := int(f.Bytes()[20])<<8 | int(f.Bytes()[21])
			require.Greater(t, i, last, "in order")
			last = i
			got++
		}
		if batch.N < batch.Cap() {
			break
		}
	}
	st := pb.Stats()
	t.Logf("read %d of %d; %s", got, total, st)
	assert.LessOrEqual(t, got, 64+32, "a ring of 64 slots holds 64 frames")
	assert.Positive(t, st.KernelDropped, "the kernel's ring drops are counted")
	assert.Equal(t, uint64(total), uint64(got)+st.RxDropped, "every frame read or counted dropped")
	assert.Equal(t, st.KernelDropped, st.RxDropped)

	// Steady state: a frame through the ring and back out allocates
	// nothing.
	one := []port.Frame{port.FrameFrom(ringFrame(1, 128))}
	allocs := testing.AllocsPerRun(200, func() {
		pa.Write(one)
		pb.Read(batch)
		pb.Write(batch.Valid())
		pa.Read(batch)
	})
	assert.Zero(t, allocs)
}

// The frames of the last Read stay readable after Close (the ring stays
// mapped while they are out); the next Read gives them back and returns
// ErrClosed.
func TestPacketRingClose(t *testing.T) {
	pa, pb := ringPair(t, "nrgc", port.PacketConfig{RxRing: 64})
	want := ringFrame(9, 200)
	_, err := pa.Write([]port.Frame{port.FrameFrom(want)})
	require.NoError(t, err)
	batch := port.NewBatch(4)
	readWithin(t, pb, batch, 5*time.Second)
	require.Equal(t, 1, batch.N)
	require.NoError(t, pb.Close())
	assert.Equal(t, want, batch.Frames[0].Bytes())
	assert.ErrorIs(t, pb.Read(batch), port.ErrClosed)
	assert.Zero(t, batch.N)
}

// The drops the kernel counted before Close are in the port's counters
// after it: Close reads PACKET_STATISTICS before it closes the socket (a
// harness such as niv bench reads the counters of ports it closed).
func TestPacketDropsCountedAfterClose(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  port.PacketConfig
	}{{"ring", port.PacketConfig{RxRing: 64}}, {"recvmmsg", port.PacketConfig{RxRing: -1, RcvBuf: 4096}}} {
		t.Run(tc.name, func(t *testing.T) {
			pa, pb := ringPair(t, "nrgk", tc.cfg)
			out := make([]port.Frame, 50)
			for i := range out {
				out[i] = port.FrameFrom(ringFrame(i, 128))
			}
			for range 10 {
				for w := 0; w < len(out); {
					n, err := pa.Write(out[w:])
					require.NoError(t, err)
					w += n
				}
			}
			require.NoError(t, pb.Close())
			st := pb.Stats()
			assert.Positive(t, st.KernelDropped, "%s", st)
			assert.Equal(t, st.KernelDropped, st.RxDropped)
		})
	}
}

// BenchmarkPacketRings is BenchmarkPacketVeth for each way of reading and
// writing: recvmmsg or the receive ring, sendmmsg, the transmit ring or
// AF_XDP (XDPTx), with 128-byte frames and, for sendmmsg against AF_XDP,
// full-size ones (1,514 bytes). It reports frames per second one way,
// system calls included; needs root.
func BenchmarkPacketRings(b *testing.B) {
	for _, bc := range []struct {
		name string
		size int
		cfg  port.PacketConfig
	}{
		{"recvmmsg-sendmmsg", 128, port.PacketConfig{RxRing: -1}},
		{"rxring-sendmmsg", 128, port.PacketConfig{}},
		{"rxring-txring", 128, port.PacketConfig{TxRing: 256}},
		{"rxring-xdp", 128, port.PacketConfig{XDPTx: true}},
		{"rxring-sendmmsg-1514", 1514, port.PacketConfig{}},
		{"rxring-xdp-1514", 1514, port.PacketConfig{XDPTx: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			a, z := vethPair(b, "nrgb")
			bc.cfg.Filter = port.NIVFilter()
			pa, err := port.OpenPacketWith(a, bc.cfg)
			require.NoError(b, err)
			defer pa.Close()
			pz, err := port.OpenPacketWith(z, bc.cfg)
			require.NoError(b, err)
			defer pz.Close()
			out := make([]port.Frame, 64)
			for i := range out {
				out[i] = port.FrameFrom(ringFrame(i, bc.size))
			}
			benchOneWay(b, pa, pz, out)
		})
	}
}

// With offloads the receive ring's slots are sized for the VMs' frames,
// not for 64 KB super-frames: a burst of 3,000 MTU-sized frames that
// nothing reads meanwhile fits the default ring (as a TCP window that the
// IV segmented does), and a frame longer than a slot — a jumbo frame, a
// super-frame — still arrives whole and in its place in the order,
// through the socket's queue (PACKET_COPY_THRESH).
func TestPacketRingOffloadBurst(t *testing.T) {
	pa, pb := ringPairMTU(t, "pathrb", 9000, port.PacketConfig{Offload: true})

	const total = 3000
	size := func(i int) int {
		if i%500 == 7 {
			return 8000 // longer than a slot
		}
		return 1514
	}
	out := make([]port.Frame, 0, 50)
	for lo := 0; lo < total; lo += cap(out) {
		out = out[:0]
		for i := lo; i < lo+cap(out); i++ {
			out = append(out, port.FrameFrom(ringFrame(i, size(i))))
		}
		for w := 0; w < len(out); {
			n, err := pa.Write(out[w:])
			require.NoError(t, err)
			w += n
		}
	}
	batch := port.NewBatchSize(64, pb.ReadLen())
	for next := 0; next < total; {
		readWithin(t, pb, batch, 5*time.Second)
		for _, f := range batch.Valid() {
			require.Equal(t, ringFrame(next, size(next)), f.Bytes(), "frame %d", next)
			next++
		}
	}
	st := pb.Stats()
	assert.Equal(t, uint64(total), st.RxFrames)
	assert.Zero(t, st.RxDropped)
}

// Frames longer than a slot wait whole in the socket's queue; when that
// is full the kernel leaves only the slot's cut-short copy, which is
// dropped and counted, never handed on: every frame written is read
// whole or counted in RxDropped.
func TestPacketRingCopyOverflowCounted(t *testing.T) {
	pa, pb := ringPairMTU(t, "pathrc", 9000, port.PacketConfig{Offload: true, RcvBuf: 64 << 10})
	const total = 40
	for i := range total {
		n, err := pa.Write([]port.Frame{port.FrameFrom(ringFrame(i, 8000))})
		require.NoError(t, err)
		require.Equal(t, 1, n)
	}
	time.Sleep(100 * time.Millisecond)
	batch := port.NewBatchSize(64, pb.ReadLen())
	read := 0
	for {
		done := make(chan error, 1)
		go func() { done <- pb.Read(batch) }()
		select {
		case err := <-done:
			require.NoError(t, err)
			for _, f := range batch.Valid() {
				i := int(f.Bytes()[20])<<8 | int(f.Bytes()[21])
				require.Equal(t, ringFrame(i, 8000), f.Bytes(), "frame %d", i)
				read++
			}
			continue
		case <-time.After(300 * time.Millisecond):
			pb.Close()
			<-done
		}
		break
	}
	st := pb.Stats()
	t.Logf("read %d, %v", read, st)
	assert.Positive(t, st.RxDropped, "the socket's queue of 64 KB held only a few")
	assert.Equal(t, uint64(total), uint64(read)+st.RxDropped, "every frame read whole or counted")
}
