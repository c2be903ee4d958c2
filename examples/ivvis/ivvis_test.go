package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/internal/needs"
	"github.com/nivkit/niv/internal/tshark"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vntag"
)

// The in-process demo: ARP and three pings between A and B, hair-pinned,
// with the tags on the link as the spec says and nothing for C.
func TestInProcess(t *testing.T) {
	for _, tc := range []struct {
		mode vntag.Mode
		want []string
	}{
		{vntag.ModeVNTag, []string{
			"IV → VIS: vNIC 02:00:00:00:00:0a profile web → VIF 1, vEth1",
			"IV → VIS: vNIC 02:00:00:00:00:0c profile db  → VIF 3, vEth3",
			"VIS → IV: vif list ",
			"link ↑ VNTag d=0 svif=1",
			"link ↓ VNTag d=1 p=1 vif_list=",
			"l=1 svif=1  (flood to a vif list, the IV prunes vif 1) ARP who-has 10.77.0.2 tell 10.77.0.1",
			"link ↓ VNTag d=1 dvif=2 ",
			"link ↓ VNTag d=1 dvif=1 ",
		}},
		{vntag.ModeETag, []string{
			"IV → VIS: vNIC 02:00:00:00:00:0b profile web → VIF 2, vEth2",
			"VIS → IV: vif list (E-channel GRP=1 E-CID=",
			"link ↑ E-Tag E-CID=1 ",
			"link ↓ E-Tag GRP=1 E-CID=",
			"Ingress_E-CID=1  (flood to a multicast E-channel, the PE prunes E-CID 1) ARP who-has",
			"link ↓ E-Tag E-CID=2 ",
		}},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var out bytes.Buffer
			require.NoError(t, runInProcess(ctx, &out, tc.mode))
			s := out.String()
			for _, w := range tc.want {
				assert.Contains(t, s, w)
			}
			for _, seq := range []string{"1", "2", "3"} {
				assert.Contains(t, s, "VM A receives ICMP EchoReply 10.77.0.2 > 10.77.0.1 seq "+seq)
			}
			assert.Contains(t, s, "C received 0 frames")
			assert.NotContains(t, s, "VM C receives")
			assert.NotContains(t, s, "VM A receives ARP who-has", "the IV pruned A's own broadcast")
			assert.Contains(t, s, "VIF 1 (VM A): rx 4 frames 240 bytes, tx 4 frames 240 bytes, pruned 1")
		})
	}
}

// TestLab builds the real thing — two namespaces as VMs on TAP vNICs, the
// IV and the VIS joined by a veth pair — pings from A to B, and checks with
// tshark, capturing on the IV's end of the veth, that the link carried
// VNTag (then E-Tag) frames with the expected source and destination VIFs.
func TestLab(t *testing.T) {
	needs.Root(t)
	needs.Tool(t, "ip")
	bin := needs.Tool(t, "tshark")
	for _, mode := range []vntag.Mode{vntag.ModeVNTag, vntag.ModeETag} {
		t.Run(mode.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			l, err := newLab(ctx, mode)
			require.NoError(t, err)
			t.Cleanup(func() { assert.NoError(t, l.close()) })

			pcap := filepath.Join(t.TempDir(), "link.pcapng")
			stop := capture(ctx, t, bin, l.linkIV, l.linkVIS, pcap)
			out, err := l.ping(ctx, 0, 1, 3)
			require.NoError(t, err)
			assert.Equal(t, 3, strings.Count(out, "bytes from 10.77.0.2"), out)
			stop()

			fields := []string{"vntag.dir", "vntag.ptr", "vntag.dst", "vntag.looped", "vntag.src",
				"etag.group", "etag.ecid_base", "etag.iecid_base", "icmp.type", "arp.opcode"}
			frames, err := tshark.Fields(ctx, bin, pcap, fields)
			require.NoError(t, err)
			require.NotEmpty(t, frames)
			count := map[string]int{}
			for _, f := range frames {
				get := func(k string) string {
					if v := f[k]; len(v) > 0 {
						return tshark.Canonical(v[0])
					}
					return "-"
				}
				what := "other"
				switch {
				case get("icmp.type") == "8":
					what = "echo-request"
				case get("icmp.type") == "0":
					what = "echo-reply"
				case get("arp.opcode") == "1":
					what = "arp-request"
				case get("arp.opcode") == "2":
					what = "arp-reply"
				}
				var key string
				if mode == vntag.ModeVNTag {
					key = strings.Join([]string{what, "dir=" + get("vntag.dir"), "ptr=" + get("vntag.ptr"),
						"dst=" + get("vntag.dst"), "looped=" + get("vntag.looped"), "src=" + get("vntag.src")}, " ")
				} else {
					key = strings.Join([]string{what, "grp=" + get("etag.group"), "ecid=" + get("etag.ecid_base"),
						"iecid=" + get("etag.iecid_base")}, " ")
				}
				count[key]++
			}
			t.Logf("tshark on %s: %v", l.linkIV, count)
			var want []string
			if mode == vntag.ModeVNTag {
				want = []string{
					// A (VIF 1) to the VIS, and hair-pinned down to B (VIF 2).
					"echo-request dir=0 ptr=0 dst=0 looped=0 src=1",
					"echo-request dir=1 ptr=0 dst=2 looped=0 src=0",
					"echo-reply dir=0 ptr=0 dst=0 looped=0 src=2",
					"echo-reply dir=1 ptr=0 dst=1 looped=0 src=0",
				}
			} else {
				want = []string{
					"echo-request grp=0 ecid=1 iecid=0",
					"echo-request grp=0 ecid=2 iecid=0",
					"echo-reply grp=0 ecid=2 iecid=0",
					"echo-reply grp=0 ecid=1 iecid=0",
				}
			}
			for _, k := range want {
				assert.Equal(t, 3, count[k], "frames %q", k)
			}
			// A's first ARP request: up with A's VIF, down as a flood to a
			// vif list (E-Tag: a multicast E-channel) that prunes A.
			var flood int
			for k, n := range count {
				if !strings.HasPrefix(k, "arp-request") {
					continue
				}
				if mode == vntag.ModeVNTag && strings.Contains(k, "dir=1 ptr=1") && strings.HasSuffix(k, "looped=1 src=1") {
					flood += n
				}
				if mode == vntag.ModeETag && strings.Contains(k, "grp=1") && strings.HasSuffix(k, "iecid=1") {
					flood += n
				}
			}
			assert.GreaterOrEqual(t, flood, 1, "the ARP broadcast went down as a pruned flood: %v", count)
		})
	}
}

// capture starts tshark on iface writing to path and returns a function
// that stops it once what was sent has been written. tshark says
// "Capturing on" a little before it really captures, so the start also
// sends probe frames (EtherType 0x88B5, which the cores' BPF filters drop)
// from peer, the other end of the veth, until the capture file grows: at
// most 20 s in all.
func capture(ctx context.Context, t *testing.T, bin, iface, peer, path string) (stop func()) {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, "-n", "-i", iface, "-w", path, "-a", "duration:50")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		signalled := false
		for sc.Scan() {
			if !signalled && strings.Contains(sc.Text(), "Capturing on") {
				close(ready)
				signalled = true
			}
		}
		if !signalled {
			close(ready)
		}
		done <- cmd.Wait()
	}()
	deadline := time.Now().Add(20 * time.Second)
	select {
	case <-ready:
	case <-time.After(time.Until(deadline)):
		cmd.Process.Kill()
		t.Fatal("tshark did not start capturing within 20 s")
	}
	probe, err := port.OpenPacket(peer, port.EtherTypeFilter(0x88B5))
	require.NoError(t, err)
	defer probe.Close()
	frame := make([]byte, 60)
	copy(frame, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x99, 0x88, 0xb5})
	size := func() int64 {
		st, err := os.Stat(path)
		if err != nil {
			return 0
		}
		return st.Size()
	}
	before := size()
	for size() <= before {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("tshark captured nothing within 20 s")
		}
		_, err := probe.Write([]port.Frame{port.FrameFrom(frame)})
		require.NoError(t, err)
		time.Sleep(100 * time.Millisecond)
	}
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		time.Sleep(500 * time.Millisecond) // let the last replies reach the capture
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	t.Cleanup(stop)
	return stop
}
