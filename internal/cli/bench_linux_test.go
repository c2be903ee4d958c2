//go:build linux

package cli

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/nivkit/niv/internal/needs"
	"github.com/nivkit/niv/vic/port"
)

// inNS runs fn on a thread inside network namespace ns; sockets fn makes
// stay in that namespace.
func inNS(t *testing.T, ns string, fn func() error) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		f, err := os.Open("/var/run/netns/" + ns)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// testBench is a bench whose names carry the test's prefix.
func testBench(offload bool) *bench {
	return &bench{opts: benchOpts{batch: 64, offload: offload, linkMTU: 65535}, dur: time.Second,
		prefix: fmt.Sprintf("nbt%d", os.Getpid()%100000), results: map[string][]result{}}
}

// stream sends n pseudo-random bytes over TCP from VM A to VM B at addr
// (host:port in VM B) and returns the SHA-256 of what was sent and of
// what arrived.
func stream(t *testing.T, env *benchEnv, addr string, n int) (sent, got [32]byte) {
	t.Helper()
	sent, got, err := streamE(t, env, addr, n)
	require.NoError(t, err)
	return sent, got
}

// streamE is stream for any goroutine: it returns what failed.
func streamE(t *testing.T, env *benchEnv, addr string, n int) (sent, got [32]byte, err error) {
	var ln net.Listener
	if err := inNS(t, env.nss[1], func() (err error) {
		ln, err = net.Listen("tcp", addr)
		return err
	}); err != nil {
		return sent, got, err
	}
	defer ln.Close()
	recv := make(chan [32]byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(recv)
			return
		}
		defer c.Close()
		h := sha256.New()
		io.Copy(h, c)
		var s [32]byte
		copy(s[:], h.Sum(nil))
		recv <- s
	}()
	var c net.Conn
	if err := inNS(t, env.nss[0], func() (err error) {
		c, err = net.DialTimeout("tcp", addr, 5*time.Second)
		return err
	}); err != nil {
		return sent, got, err
	}
	h := sha256.New()
	r := rand.New(rand.NewPCG(uint64(n), 7))
	buf := make([]byte, 1<<16)
	c.SetDeadline(time.Now().Add(60 * time.Second))
	for left := n; left > 0; {
		k := min(left, len(buf))
		for i := 0; i < k; i += 8 {
			v := r.Uint64()
			for j := 0; j < 8 && i+j < k; j++ {
				buf[i+j] = byte(v >> (8 * j))
			}
		}
		if _, err := c.Write(buf[:k]); err != nil {
			c.Close()
			return sent, got, err
		}
		h.Write(buf[:k])
		left -= k
	}
	c.Close()
	copy(sent[:], h.Sum(nil))
	select {
	case s, ok := <-recv:
		if !ok {
			return sent, got, errors.New("the receiver did not accept")
		}
		got = s
	case <-time.After(60 * time.Second):
		return sent, got, errors.New("the receiver did not finish")
	}
	return sent, got, nil
}

// IPv4 and IPv6 TCP streams between the two VMs arrive intact through the
// niv pair: with offloads over a jumbo veth (TCP super-frames cross as one
// frame), with offloads over a link of MTU 1600 (the IV and the VIS cut
// them into segments), and without offloads.
func TestPairStreamsIntact(t *testing.T) {
	needs.Root(t)
	needs.Tool(t, "ip")
	for _, c := range []struct {
		name    string
		offload bool
		seg     bool
	}{{"offload", true, false}, {"offload-mtu1600", true, true}, {"plain", false, false}} {
		t.Run(c.name, func(t *testing.T) {
			b := testBench(c.offload)
			s := &nivSetup{b: b, seg: c.seg}
			env, err := b.build(context.Background(), s)
			require.NoError(t, err)
			defer env.close()
			for i, addr := range []string{"10.78.0.2:7001", "[" + vmIP6(1) + "]:7002"} {
				sent, got := stream(t, env, addr, 24<<20)
				assert.Equal(t, sent, got, "stream %d (%s): the bytes that arrived", i, addr)
			}
			// The VM's TAP handed the IV super-frames only with offloads.
			st := s.ivPorts[2].Stats()
			require.NotZero(t, st.RxFrames)
			avg := st.RxBytes / st.RxFrames
			if c.offload {
				assert.Greater(t, avg, uint64(1514), "average frame from VM A's TAP: %v", st)
			} else {
				assert.LessOrEqual(t, avg, uint64(1514), "average frame from VM A's TAP: %v", st)
			}
			// And the IV handed VM B's TAP super-frames, coalesced again
			// where the link had segments.
			down := s.ivPorts[3].Stats()
			require.NotZero(t, down.TxFrames)
			if c.offload {
				assert.Greater(t, down.TxBytes/down.TxFrames, uint64(1514), "average frame to VM B's TAP: %v", down)
			}
			link := s.ivPorts[0].Stats()
			if c.seg {
				assert.Greater(t, link.TxFrames, st.RxFrames, "the IV cut super-frames into segments: uplink %v", link)
			}
			for _, p := range append(s.ivPorts, s.visPorts...) {
				if p != nil {
					assert.Zero(t, p.Stats().Errors, "%s: %v", p.Name(), p.Stats())
				}
			}
		})
	}
}

// Under overload the frames an AF_PACKET socket's queue had no room for
// are counted in the port's RxDropped, as KernelDropped.
func TestPacketKernelDropsCounted(t *testing.T) {
	needs.Root(t)
	needs.Tool(t, "ip")
	a, b := fmt.Sprintf("nbt%dx", os.Getpid()%100000), fmt.Sprintf("nbt%dy", os.Getpid()%100000)
	require.NoError(t, benchIP(context.Background(), "link", "add", a, "type", "veth", "peer", "name", b))
	defer benchIP(context.Background(), "link", "del", a)
	for _, d := range []string{a, b} {
		require.NoError(t, benchIP(context.Background(), "link", "set", d, "up"))
	}
	tx, err := port.OpenPacket(a, nil)
	require.NoError(t, err)
	defer tx.Close()
	// The socket's queue, without a receive ring (vic/port's ring tests
	// overload a ring).
	rx, err := port.OpenPacketWith(b, port.PacketConfig{Filter: port.EtherTypeFilter(0x88b5), RcvBuf: 4096, RxRing: -1})
	require.NoError(t, err)
	defer rx.Close()
	time.Sleep(200 * time.Millisecond) // carrier
	frame := make([]byte, 1000)
	copy(frame, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x88, 0xb5})
	frames := make([]port.Frame, 64)
	for i := range frames {
		frames[i] = port.FrameFrom(frame)
	}
	// Nobody reads rx while 6,400 frames arrive.
	// (In bursts of 64 that the veth's backlog of 1,000 frames holds: the
	// drops are the socket's.)
	for range 100 {
		_, err := tx.Write(frames)
		require.NoError(t, err)
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	b1 := port.NewBatch(256)
	read := 0
	for {
		done := make(chan error, 1)
		go func() { done <- rx.Read(b1) }()
		select {
		case err := <-done:
			require.NoError(t, err)
			read += b1.N
			continue
		case <-time.After(200 * time.Millisecond):
		}
		break
	}
	st := rx.Stats()
	rx.Close()
	t.Logf("read %d, %v", read, st)
	assert.Positive(t, st.KernelDropped, "the kernel dropped frames for want of room")
	assert.GreaterOrEqual(t, st.RxDropped, st.KernelDropped)
	assert.Equal(t, uint64(6400), uint64(read)+st.KernelDropped, "every frame sent was read or counted")
}

// With multi-queue TAPs (two queues, each served by a goroutine of its
// own) eight TCP streams at once between the VMs, over IPv4 and IPv6,
// all arrive intact, and both queues of each VM's TAP carry frames both
// ways: the kernel put some flows on each queue for the IV to read, and
// the IV wrote each flow's frames back on the queue it came from.
func TestPairMultiQueue(t *testing.T) {
	needs.Root(t)
	needs.Tool(t, "ip")
	b := testBench(true)
	b.opts.queues = 2
	s := &nivSetup{b: b}
	env, err := b.build(context.Background(), s)
	require.NoError(t, err)
	defer env.close()
	type res struct {
		sent, got [32]byte
		err       error
	}
	const flows = 8
	out := make(chan res, flows)
	for i := range flows {
		addr := fmt.Sprintf("10.78.0.2:%d", 7100+i)
		if i%2 == 1 {
			addr = fmt.Sprintf("[%s]:%d", vmIP6(1), 7100+i)
		}
		go func() {
			var r res
			r.sent, r.got, r.err = streamE(t, env, addr, 4<<20)
			out <- r
		}()
	}
	for i := range flows {
		r := <-out
		require.NoError(t, r.err, "stream %d", i)
		assert.Equal(t, r.sent, r.got, "stream %d: the bytes that arrived", i)
	}
	for _, p := range s.ivPorts[2:] {
		tap, ok := p.(*port.TAP)
		require.True(t, ok)
		qs := tap.Queues()
		require.Len(t, qs, 2)
		for q, qp := range qs {
			st := qp.Stats()
			assert.NotZero(t, st.RxFrames, "%s queue %d read nothing: %v", tap.Name(), q, st)
			assert.NotZero(t, st.TxFrames, "%s queue %d was written nothing: %v", tap.Name(), q, st)
			assert.Zero(t, st.Errors, "%s queue %d: %v", tap.Name(), q, st)
		}
	}
}
