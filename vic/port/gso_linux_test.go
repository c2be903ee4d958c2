//go:build linux

package port_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/internal/needs"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vntag"
)

// A super-frame written to an AF_PACKET port without offloads on a link
// of MTU 1500 leaves it as MTU-sized segments (the VNTag counted against
// the MTU), and tshark, capturing on the far end, finds every segment's
// IPv4 header and TCP checksums good (IPv6: the TCP checksum), and the
// segments' payload the super-frame's. The same holds when the port
// writes through AF_XDP (XDPTx).
func TestSegmentsOnRealMTULinkTshark(t *testing.T) {
	tshark := needs.Tool(t, "tshark")
	for _, tc := range []struct{ v6, xdp bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		v6 := tc.v6
		t.Run(fmt.Sprintf("v6=%v/xdp-tx=%v", v6, tc.xdp), func(t *testing.T) {
			a, b := vethPair(t, "nivg")
			run(t, "ip", "link", "set", a, "mtu", "1500")
			run(t, "ip", "link", "set", b, "mtu", "1500")
			pa, err := port.OpenPacketWith(a, port.PacketConfig{XDPTx: tc.xdp})
			require.NoError(t, err)
			defer pa.Close()

			mss := 1448
			if v6 {
				mss = 1428
			}
			f, data := superFrame(t, v6, 30000, mss)
			tag, err := vntag.Upstream(9)
			require.NoError(t, err)
			out, err := vntag.Push(f.Buf, f.Off, tag)
			require.NoError(t, err)
			f.Off = len(f.Buf) - len(out)
			hdr := 20 + 32
			if v6 {
				hdr = 40 + 32
			}
			segMSS := 1500 - vntag.TagLen - hdr
			want := (len(data) + segMSS - 1) / segMSS

			pcap := filepath.Join(t.TempDir(), "segments.pcapng")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cap := exec.CommandContext(ctx, tshark, "-i", b, "-w", pcap, "-c", fmt.Sprint(want), "-f", "ether proto 0x8926")
			stderr, err := cap.StderrPipe()
			require.NoError(t, err)
			require.NoError(t, cap.Start())
			sc := bufio.NewScanner(stderr)
			for sc.Scan() && !strings.Contains(sc.Text(), "Capturing on") {
			}
			go func() {
				for sc.Scan() {
				}
			}()
			// tshark may start capturing a little after it says so: the
			// super-frame goes out again until it has seen as many
			// frames as one makes (one of each segment, whichever send
			// they are from).
			raw := append([]byte(nil), f.Buf...)
			done := make(chan error, 1)
			go func() { done <- cap.Wait() }()
			sends := 0
		send:
			for {
				copy(f.Buf, raw)
				n, err := pa.Write([]port.Frame{f})
				require.NoError(t, err)
				require.Equal(t, 1, n)
				sends++
				select {
				case err := <-done:
					require.NoError(t, err, "tshark capturing %d segments", want)
					break send
				case <-time.After(500 * time.Millisecond):
				}
			}
			st := pa.Stats()
			assert.Equal(t, uint64(want*sends), st.TxFrames, "segments written: %v", st)

			fields := []string{"-e", "frame.len", "-e", "vntag.src", "-e", "tcp.checksum.status", "-e", "tcp.len", "-e", "tcp.seq_raw"}
			if !v6 {
				fields = append(fields, "-e", "ip.checksum.status", "-e", "ip.len")
			} else {
				fields = append(fields, "-e", "ipv6.plen")
			}
			args := append([]string{"-r", pcap, "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE", "-T", "fields", "-E", "separator=,"}, fields...)
			res, err := exec.Command(tshark, args...).Output()
			require.NoError(t, err)
			lines := strings.Split(strings.TrimSpace(string(res)), "\n")
			require.Len(t, lines, want, "%s", res)
			total := 0
			for i, l := range lines {
				c := strings.Split(l, ",")
				assert.Equal(t, "9", c[1], "segment %d: VNTag svif", i)
				assert.Equal(t, "1", c[2], "segment %d: tcp.checksum.status (1 = good): %s", i, l)
				var frameLen, tcpLen int
				fmt.Sscan(c[0], &frameLen)
				fmt.Sscan(c[3], &tcpLen)
				assert.LessOrEqual(t, frameLen, 1514, "segment %d fits the MTU", i)
				total += tcpLen
				if !v6 {
					assert.Equal(t, "1", c[5], "segment %d: ip.checksum.status (1 = good): %s", i, l)
				}
			}
			assert.Equal(t, len(data), total, "TCP payload bytes")
		})
	}
}

// Over a veth with a jumbo MTU and offloads on both ends, a tagged TCP
// super-frame crosses as one frame: the far end reads it with its partial
// checksum and marks it a super-frame of the VMs' segment size again. The
// steady state allocates nothing.
func TestSuperFrameAcrossJumboVeth(t *testing.T) {
	a, b := vethPair(t, "nivj")
	run(t, "ip", "link", "set", a, "mtu", "65535")
	run(t, "ip", "link", "set", b, "mtu", "65535")
	pa, err := port.OpenPacketWith(a, port.PacketConfig{Offload: true})
	require.NoError(t, err)
	defer pa.Close()
	pb, err := port.OpenPacketWith(b, port.PacketConfig{Filter: port.NIVFilter(), Offload: true})
	require.NoError(t, err)
	defer pb.Close()

	f, data := superFrame(t, false, 60000, 1448)
	tag, err := vntag.Upstream(9)
	require.NoError(t, err)
	out, err := vntag.Push(f.Buf, f.Off, tag)
	require.NoError(t, err)
	f.Off = len(f.Buf) - len(out)
	sent := f.Offload()
	n, err := pa.Write([]port.Frame{f})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	batch := port.NewBatchSize(8, port.MaxSuperFrameLen)
	readWithin(t, pb, batch, 5*time.Second)
	require.Equal(t, 1, batch.N)
	got := batch.Frames[0]
	assert.Equal(t, f.Bytes(), got.Bytes(), "the super-frame as it was sent, partial checksum and all")
	o := got.Offload()
	assert.Equal(t, sent.GSOType, o.GSOType)
	assert.Equal(t, sent.GSOSize, o.GSOSize, "1500 - 20 - 32")
	assert.Equal(t, sent.CsumStart, o.CsumStart)
	assert.Equal(t, uint8(port.OffloadNeedsCsum), o.Flags&port.OffloadNeedsCsum)
	segs, err := port.NewSegmenter().Finish(got, 1500+14+vntag.TagLen)
	require.NoError(t, err)
	var payload []byte
	for _, s := range segs {
		payload = append(payload, s.Bytes()[14+6+20+32:]...)
	}
	assert.Equal(t, data, payload)

	fs := []port.Frame{f}
	raw := append([]byte(nil), f.Buf...)
	allocs := testing.AllocsPerRun(50, func() {
		copy(f.Buf, raw)
		pa.Write(fs)
		pb.Read(batch)
	})
	assert.Zero(t, allocs)
}

// Writing to a TAP with offloads — a super-frame, or segments it
// coalesces into one — allocates nothing, with one queue or two (the
// frames of two flows spread over them).
func TestTAPOffloadWriteAllocs(t *testing.T) {
	for _, q := range []int{1, 2} {
		t.Run(fmt.Sprint(q), func(t *testing.T) { testTAPOffloadWriteAllocs(t, q) })
	}
}

func testTAPOffloadWriteAllocs(t *testing.T, queues int) {
	needs.Root(t)
	needs.Tool(t, "ip")
	name := fmt.Sprintf("nivo%d", os.Getpid())
	tap, err := port.OpenTAPWith(name, port.TAPConfig{Offload: true, Queues: queues})
	require.NoError(t, err)
	defer tap.Close()
	_ = os.WriteFile("/proc/sys/net/ipv6/conf/"+name+"/disable_ipv6", []byte("1"), 0)
	run(t, "ip", "link", "set", name, "up")
	f, _ := superFrame(t, false, 30000, 1448)
	segs, err := port.NewSegmenter().Finish(f, 0)
	require.NoError(t, err)
	segs = cloneFrames(segs)
	one := []port.Frame{f}
	for _, fs := range [][]port.Frame{one, segs} {
		n, err := tap.Write(fs)
		require.NoError(t, err)
		require.Equal(t, len(fs), n)
	}
	st := tap.Stats()
	assert.Equal(t, uint64(2), st.TxFrames, "the segments went in as one super-frame: %v", st)
	// A frame of another flow (another source port) between them, on
	// the other queue when there are two.
	other := port.FrameFrom(segs[0].Bytes())
	for p := uint16(40001); ; p++ {
		binary.BigEndian.PutUint16(other.Bytes()[14+20:], p)
		if queues == 1 || port.FlowQueue(other.Bytes(), 2) != port.FlowQueue(segs[0].Bytes(), 2) {
			break
		}
	}
	mixed := append(append(append([]port.Frame{}, segs[:3]...), other), segs[3:]...)
	assert.Zero(t, testing.AllocsPerRun(50, func() {
		tap.Write(one)
		tap.Write(segs)
		tap.Write(mixed)
	}))
}
