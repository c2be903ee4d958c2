//go:build linux

package port_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/bpf"

	"github.com/nivkit/niv/internal/needs"
	"github.com/nivkit/niv/vic/port"
)

func run(t testing.TB, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	require.NoError(t, err, "%s: %s", strings.Join(args, " "), out)
}

// readWithin reads one batch or fails after d.
func readWithin(t *testing.T, p port.Port, b *port.Batch, d time.Duration) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.Read(b) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(d):
		p.Close()
		<-done
		t.Fatalf("%s: nothing read within %v", p.Name(), d)
	}
}

// vethPair makes a veth pair named PREFIX<pid>a/b with MTU 1600, up, and
// deletes it when the test ends. It needs root and ip.
func vethPair(t testing.TB, prefix string) (string, string) {
	t.Helper()
	needs.Root(t)
	needs.Tool(t, "ip")
	a, b := fmt.Sprintf("%s%da", prefix, os.Getpid()), fmt.Sprintf("%s%db", prefix, os.Getpid())
	run(t, "ip", "link", "add", a, "mtu", "1600", "type", "veth", "peer", "name", b, "mtu", "1600")
	t.Cleanup(func() { exec.Command("ip", "link", "del", a).Run() })
	run(t, "ip", "link", "set", a, "up")
	run(t, "ip", "link", "set", b, "up")
	// A veth drops what is sent before its carrier is up, which on a
	// loaded machine can take a while after ip link set up.
	for _, d := range []string{a, b} {
		for i := 0; i < 200; i++ {
			if c, err := os.ReadFile("/sys/class/net/" + d + "/carrier"); err == nil && strings.TrimSpace(string(c)) == "1" {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return a, b
}

// packetPair makes a veth pair (vethPair) and opens an AF_PACKET port on
// each end, the second with filter; the ports close when the test ends.
func packetPair(t testing.TB, prefix string, filter []bpf.Instruction) (*port.Packet, *port.Packet) {
	t.Helper()
	a, b := vethPair(t, prefix)
	pa, err := port.OpenPacket(a, nil)
	require.NoError(t, err)
	t.Cleanup(func() { pa.Close() })
	pb, err := port.OpenPacket(b, filter)
	require.NoError(t, err)
	t.Cleanup(func() { pb.Close() })
	return pa, pb
}

// A veth pair made for the test: frames written on one end through
// AF_PACKET are read on the other, and the BPF filter keeps out what is
// not VNTag or E-Tag.
func TestPacketOnVeth(t *testing.T) {
	pa, pb := packetPair(t, "nivp", port.NIVFilter())

	plain := testFrame(60, 0x11)
	tagged := testFrame(1520, 0x22) // a full-size frame plus its VNTag
	copy(tagged[12:], []byte{0x89, 0x26})
	n, err := pa.Write([]port.Frame{port.FrameFrom(plain), port.FrameFrom(tagged)})
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	batch := port.NewBatch(8)
	readWithin(t, pb, batch, 5*time.Second)
	require.Equal(t, 1, batch.N, "the filter dropped the untagged frame")
	assert.Equal(t, tagged, batch.Frames[0].Bytes())
	assert.Equal(t, uint64(1), pb.Stats().RxFrames)
	assert.Equal(t, uint64(2), pa.Stats().TxFrames)

	// Steady state reads and writes do not allocate.
	fs := []port.Frame{port.FrameFrom(tagged)}
	allocs := testing.AllocsPerRun(100, func() {
		pa.Write(fs)
		pb.Read(batch)
	})
	assert.Zero(t, allocs)

	// Close wakes a blocked reader.
	done := make(chan error, 1)
	go func() { done <- pb.Read(batch) }()
	time.Sleep(50 * time.Millisecond)
	require.NoError(t, pb.Close())
	select {
	case err := <-done:
		assert.ErrorIs(t, err, port.ErrClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("Read did not return after Close")
	}
	_, err = port.OpenPacket("nivnosuchif0", nil)
	assert.Error(t, err)
}

// VLAN-tagged frames are read with their tags, although the kernel takes
// the outer tag out of the frame on receive (VLAN offload): the port puts
// it back from PACKET_AUXDATA. 802.1Q, 802.1ad, a priority tag (VID 0) and
// a double tag all arrive as they were sent.
func TestPacketKeepsVLANTags(t *testing.T) {
	pa, pb := packetPair(t, "nivv", nil)

	ours := func(f []byte) []byte {
		f[0], f[6] = 0x02, 0x02 // unicast, from a locally administered address
		return f
	}
	tagged := func(tags ...byte) []byte {
		f := ours(testFrame(80, 0x33))
		return append(append(append([]byte(nil), f[:12]...), tags...), f[12:]...)
	}
	want := [][]byte{
		tagged(0x81, 0x00, 0xa0, 0x0a),                         // 802.1Q PCP 5 VID 10
		tagged(0x88, 0xa8, 0x00, 0x64),                         // 802.1ad VID 100
		tagged(0x81, 0x00, 0x00, 0x00),                         // priority tag
		tagged(0x88, 0xa8, 0x00, 0x64, 0x81, 0x00, 0x00, 0x0a), // S-tag and C-tag
		ours(testFrame(80, 0x44)),                              // untagged
	}
	var fs []port.Frame
	for _, w := range want {
		fs = append(fs, port.FrameFrom(w))
	}
	_, err := pa.Write(fs)
	require.NoError(t, err)
	batch := port.NewBatch(16)
	var got [][]byte
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < len(want) && time.Now().Before(deadline) {
		readWithin(t, pb, batch, 5*time.Second)
		for _, f := range batch.Valid() {
			if f.Off < port.Headroom {
				t.Fatalf("a frame starts %d bytes in, less than Headroom", f.Off)
			}
			if bytes := f.Bytes(); bytes[6] == 0x02 { // ours, not the kernel's IPv6 chatter
				got = append(got, append([]byte(nil), bytes...))
			}
		}
	}
	assert.Equal(t, want, got)

	// Reading with the tags put back does not allocate either.
	allocs := testing.AllocsPerRun(50, func() {
		pa.Write(fs[:1])
		pb.Read(batch)
	})
	assert.Zero(t, allocs)
}

// A TAP device moved into a namespace made for the test: an ARP request
// written into it is answered by that namespace's kernel and read back.
func TestTAP(t *testing.T) {
	needs.Root(t)
	needs.Tool(t, "ip")
	ns := fmt.Sprintf("nivtapns%d", os.Getpid())
	tap, err := port.OpenTAP(fmt.Sprintf("nivtap%d", os.Getpid()))
	require.NoError(t, err)
	defer tap.Close()
	run(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	run(t, "ip", "link", "set", tap.Name(), "netns", ns)
	run(t, "ip", "-n", ns, "link", "set", tap.Name(), "up")
	run(t, "ip", "-n", ns, "addr", "add", "10.78.0.1/24", "dev", tap.Name())
	run(t, "ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")

	arp := []byte{
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x99, 0x08, 0x06,
		0, 1, 0x08, 0, 6, 4, 0, 1, // Ethernet/IPv4, request
		0x02, 0, 0, 0, 0, 0x99, 10, 78, 0, 2, // sender
		0, 0, 0, 0, 0, 0, 10, 78, 0, 1, // target
	}
	arp = append(arp, make([]byte, 60-len(arp))...)
	batch := port.NewBatch(4)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err = tap.Write([]port.Frame{port.FrameFrom(arp)})
		require.NoError(t, err)
		readWithin(t, tap, batch, 10*time.Second)
		var reply []byte
		for _, f := range batch.Valid() {
			if b := f.Bytes(); len(b) >= 42 && b[12] == 0x08 && b[13] == 0x06 && b[21] == 2 {
				reply = b
			}
		}
		if reply != nil {
			assert.Equal(t, []byte{0x02, 0, 0, 0, 0, 0x99}, reply[:6], "to the asker")
			assert.Equal(t, []byte{10, 78, 0, 1}, reply[28:32], "10.78.0.1 is at ...")
			break
		}
		require.True(t, time.Now().Before(deadline), "no ARP reply from the namespace")
	}
	assert.Positive(t, tap.Stats().RxFrames)
	_, err = port.OpenTAP(strings.Repeat("x", 20))
	assert.Error(t, err)
}

// BenchmarkPacketVeth moves batches of 64 tagged 128-byte frames through
// a veth pair made for it: written on one end through AF_PACKET, read on
// the other. It reports frames per second one way, the system calls
// included; needs root.
func BenchmarkPacketVeth(b *testing.B) {
	pa, pz := packetPair(b, "nivb", port.NIVFilter())
	frame := testFrame(128, 0x5a)
	copy(frame[12:], []byte{0x89, 0x26})
	out := make([]port.Frame, 64)
	for i := range out {
		out[i] = port.FrameFrom(frame)
	}
	benchOneWay(b, pa, pz, out)
}

// benchOneWay writes out on pa b.N times and reads on pz what arrives,
// reporting frames per second one way and the frames lost.
func benchOneWay(b *testing.B, pa, pz *port.Packet, out []port.Frame) {
	in := port.NewBatch(64)
	var got int
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n, err := pa.Write(out)
		if err != nil || n != len(out) {
			b.Fatalf("wrote %d: %v", n, err)
		}
		// Read what arrived; the veth delivers synchronously, so the
		// frames are queued (or dropped when the queue is full).
		for want := got + n; got < want; {
			if err := pz.Read(in); err != nil {
				b.Fatal(err)
			}
			got += in.N
			if in.N < in.Cap() {
				break // the queue is empty: the rest was dropped
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(got)/b.Elapsed().Seconds(), "frames/s")
	b.ReportMetric(float64(b.N*len(out)-got), "lost")
}

// Many frames in one Write go out in order and come back in order over
// several Reads; a frame too long for the batch's buffers is dropped and
// counted without taking the place of the frames read with it.
func TestPacketBatches(t *testing.T) {
	pa, pz := packetPair(t, "nivm", port.NIVFilter())

	frame := func(i, n int) []byte {
		f := testFrame(n, byte(i))
		copy(f[12:], []byte{0x89, 0x26})
		f[20], f[21] = byte(i>>8), byte(i) // which frame
		return f
	}
	// 300 frames of 100 to 400 bytes, every 7th of 1000 bytes: too long
	// for a batch of 600-byte frames.
	var out []port.Frame
	var want [][]byte
	for i := range 300 {
		n := 100 + i
		if i%7 == 3 {
			n = 1000
		} else {
			want = append(want, frame(i, n))
		}
		out = append(out, port.FrameFrom(frame(i, n)))
	}
	// Written 50 at a time and read back before the next 50, so that
	// the receiving socket's queue (its buffer) never overflows.
	batch := port.NewBatchSize(32, 600)
	var got [][]byte
	for lo := 0; lo < len(out); lo += 50 {
		hi := min(lo+50, len(out))
		for written := lo; written < hi; { // a full queue ends a Write early
			n, err := pa.Write(out[written:hi])
			require.NoError(t, err)
			written += n
		}
		wantSoFar := 0
		for i := range hi {
			if i%7 != 3 {
				wantSoFar++
			}
		}
		for len(got) < wantSoFar {
			readWithin(t, pz, batch, 5*time.Second)
			for _, f := range batch.Valid() {
				got = append(got, append([]byte(nil), f.Bytes()...))
			}
		}
	}
	require.Equal(t, len(want), len(got), "dropped %d", pz.Stats().RxDropped)
	for i := range want {
		require.Equal(t, want[i], got[i], "frame %d", i)
	}
	assert.Equal(t, uint64(300-len(want)), pz.Stats().RxDropped)
	assert.Equal(t, uint64(300), pa.Stats().TxFrames)
}

// A TAP's queues hold DefaultTAPQueueLen frames unless TAPConfig says
// otherwise (the device's txqueuelen), with one queue or several.
func TestTAPQueueLen(t *testing.T) {
	needs.Root(t)
	for _, c := range []struct {
		cfg  port.TAPConfig
		want string
	}{{port.TAPConfig{}, "4096"}, {port.TAPConfig{QueueLen: 1000}, "1000"}, {port.TAPConfig{Queues: 2, Offload: true}, "4096"}} {
		tap, err := port.OpenTAPWith(fmt.Sprintf("pathq%d", os.Getpid()), c.cfg)
		require.NoError(t, err)
		got, err := os.ReadFile("/sys/class/net/" + tap.Name() + "/tx_queue_len")
		tap.Close()
		require.NoError(t, err)
		assert.Equal(t, c.want, strings.TrimSpace(string(got)), "%+v", c.cfg)
	}
}
