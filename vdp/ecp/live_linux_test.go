package ecp_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/nivkit/niv/internal/needs"
	"github.com/nivkit/niv/vdp"
	"github.com/nivkit/niv/vdp/ecp"
	"github.com/nivkit/niv/vic"
)

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// packetPort is an AF_PACKET socket bound to one interface that sees only
// ECP frames: the frame port the live test runs a Speaker on.
type packetPort struct {
	fd      int
	ifindex int
}

func openPacket(t *testing.T, ifname string) *packetPort {
	ifi, err := net.InterfaceByName(ifname)
	require.NoError(t, err)
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(ecp.EtherType)))
	require.NoError(t, err)
	require.NoError(t, unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(ecp.EtherType), Ifindex: ifi.Index}))
	mreq := unix.PacketMreq{Ifindex: int32(ifi.Index), Type: unix.PACKET_MR_PROMISC}
	require.NoError(t, unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq))
	tv := unix.Timeval{Usec: 50_000}
	require.NoError(t, unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv))
	return &packetPort{fd: fd, ifindex: ifi.Index}
}

func (p *packetPort) WriteFrame(b []byte) error {
	_, err := unix.Write(p.fd, b)
	return err
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	require.NoError(t, err, "%s %v: %s", name, args, out)
	return string(out)
}

// TestLiveLLDPad: our ECP Speaker on one end of a veth pair, lldpad (as
// an EVB station, recipe of ../shared/spec/lldpad-peer.md) on the other
// end in a network namespace. lldpad acknowledges our PE-CSP (subtype 2)
// ECPDUs carrying vic messages; our Speaker acknowledges lldpad's VDP
// request, niv's VDP bridge answers it, and lldpad's vdptool reports the
// association.
func TestLiveLLDPad(t *testing.T) {
	needs.Root(t)
	lldpad := needs.Tool(t, "lldpad")
	needs.Tool(t, "vdptool")
	needs.Tool(t, "lldptool")
	needs.Tool(t, "unshare")
	ipBin := needs.Tool(t, "ip")

	var rnd [3]byte
	_, _ = rand.Read(rnd[:])
	tag := hex.EncodeToString(rnd[:])
	ns, ours, theirs := "nivecp-"+tag, "necp"+tag, "necl"+tag
	run(t, ipBin, "netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command(ipBin, "netns", "del", ns).Run() })
	run(t, ipBin, "link", "add", ours, "address", "02:00:00:00:00:02", "type", "veth", "peer", "name", theirs, "address", "02:00:00:00:00:01")
	t.Cleanup(func() { _ = exec.Command(ipBin, "link", "del", ours).Run() })
	run(t, ipBin, "link", "set", theirs, "netns", ns)
	run(t, ipBin, "-n", ns, "link", "set", theirs, "up")
	run(t, ipBin, "link", "set", ours, "up")

	dir := t.TempDir()
	conf := filepath.Join(dir, "st.conf")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf(`dcbx : { version = "1.0"; dcbx_version = 2; };
nearest_customer_bridge :
{
  %s :
  {
    adminStatus = 3;
    tlvid0080c20d :
    {
      enableTx = true; evbmode = "station"; evbrrcap = false;
      evbrrreq = true; evbgpid = false; ecpretries = 3; ecprte = 8; vdprwd = 20; vdprka = 20;
    };
  };
};
`, theirs)), 0o644))
	logf, err := os.Create(filepath.Join(dir, "lldpad.log"))
	require.NoError(t, err)
	// ip netns exec → unshare → sh -c exec → lldpad: every layer execs, so
	// the PID is lldpad's; a private /dev/shm keeps it from clashing with
	// any other lldpad.
	cmd := exec.Command(ipBin, "netns", "exec", ns, "unshare", "-m", "sh", "-c",
		"mount -t tmpfs tmpfs /dev/shm && exec "+lldpad+" -p -V7 -f "+conf)
	cmd.Stdout, cmd.Stderr = logf, logf
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("lldpad log (tail):\n%s", tail(b, 3000))
			if os.Getenv("NIV_KEEP_LOG") != "" {
				_ = os.WriteFile(os.Getenv("NIV_KEEP_LOG"), b, 0o644)
			}
		}
	})

	port := openPacket(t, ours)
	t.Cleanup(func() { unix.Close(port.fd) })
	// Our acknowledgement timer is ours to choose: 10 µs × 2^14 ≈ 164 ms
	// rather than lldpad's 2.56 ms (RTE 8), so that an lldpad slowed by a
	// loaded machine (CI runs every package at once, with -race) answers
	// before we retransmit. A retransmission is still correct ECP, and
	// what is asserted below allows for it.
	cfg := ecp.DefaultConfig([6]byte{2, 0, 0, 0, 0, 2})
	cfg.RTE = 14
	sp, err := ecp.NewSpeaker(port, cfg)
	require.NoError(t, err)
	t.Cleanup(sp.Close)
	// The VDP side is niv's real bridge (vdp.Bridge on this Speaker),
	// admitting every request.
	br := vdp.NewBridgeRunner(vdp.NewBridge(vdp.BridgeConfig{Ports: 1}), []vdp.Sender{sp}, nil)
	t.Cleanup(br.Close)
	sp.Register(ecp.SubtypeVDP, br.Port(0))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 2048)
		for {
			select {
			case <-stop:
				return
			default:
			}
			n, _, err := unix.Recvfrom(port.fd, buf, 0)
			if err != nil {
				continue // timeout: look at stop again
			}
			sp.Receive(buf[:n])
		}
	}()
	t.Cleanup(func() { close(stop); wg.Wait() })

	// Be an EVB bridge for lldpad: an LLDPDU with the bridge's EVB TLV
	// (lldpad-peer.md; vdp-ecp.md §5: RRCAP, R 3, RTE 8, mode bridge,
	// RWD 20, RKA 20), sent every second while the test runs.
	lldpdu, _ := hex.DecodeString("0180c200000002000000000288cc" +
		"020704020000000002" + "040703020000000002" + "06020078" + "fe090080c20d0200685414" + "0000")
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			_ = port.WriteFrame(lldpdu)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()

	// Wait (bounded) for lldpad to serve its client socket.
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, err := exec.Command(ipBin, "netns", "exec", ns, "lldptool", "-t", "-i", theirs, "-g", "ncb", "-V", "evb").CombinedOutput()
		if err == nil && bytes.Contains(out, []byte("EVB Configuration TLV")) {
			break
		}
		require.True(t, time.Now().Before(deadline), "lldpad did not come up: %s", out)
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // lldpad starts ECP from a timer

	// 1. vic messages on PE-CSP: lldpad acknowledges each one.
	for i := 0; i < 3; i++ {
		m := vic.Message{Command: vic.CmdKeepalive, Session: 42, TxID: uint32(i + 1), Present: vic.FieldPeerSession}
		p, err := m.AppendBinary(nil)
		require.NoError(t, err)
		require.NoError(t, sp.Send(ecp.SubtypePECSP, p))
	}
	waitFor(t, 10*time.Second, func() bool { return sp.Queued() == 0 })
	c := sp.Counters()
	// Each of the three was acknowledged (none failed after its retries);
	// an acknowledgement that came after we had retransmitted counts as
	// unexpected, one at most per retransmission.
	assert.Zero(t, c.TxFailures)
	assert.EqualValues(t, 3, c.RxAcks-c.UnexpectedAcks, "lldpad acknowledged the three PE-CSP ECPDUs: %+v", c)
	assert.LessOrEqual(t, c.UnexpectedAcks, c.Retransmits, "an unexpected acknowledgement is a late one for a retransmitted ECPDU: %+v", c)

	// 2. lldpad's VDP request: we acknowledge and answer it; vdptool
	// reports the association.
	// lldpad enables VDP on the port some seconds after start: ask
	// (bounded) until it takes the request.
	var out string
	deadline = time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		b, err := exec.CommandContext(ctx, ipBin, "netns", "exec", ns, "vdptool", "-i", theirs, "-T", "-W", "-V", "assoc", "-c", "mode=assoc",
			"-c", "mgrid2=niv", "-c", "typeid=5", "-c", "typeidver=4", "-c", "uuid=a1412857-60f7-4ce1-e95a-2164943f53aa",
			"-c", "hints=none", "-c", "filter=100-52:54:00:8e:aa:11").CombinedOutput()
		cancel()
		out = string(b)
		if err == nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "vdptool: %v: %s", err, out)
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("vdptool: %s", out)
	assert.Contains(t, out, "Response from VDP")
	assert.Contains(t, out, "mode = assoc")
	br.Do(func(b *vdp.Bridge) {
		e, ok := b.VSI(0, vdp.VSIIDUUID, vdp.VSIID{0xa1, 0x41, 0x28, 0x57, 0x60, 0xf7, 0x4c, 0xe1, 0xe9, 0x5a, 0x21, 0x64, 0x94, 0x3f, 0x53, 0xaa})
		require.True(t, ok, "lldpad's VDP request reached niv's bridge")
		assert.Equal(t, vdp.TypeAssociate, e.Mode)
		assert.Equal(t, vdp.ManagerIDFromString("niv"), e.ManagerID)
		assert.Equal(t, []vdp.Filter{{MAC: [6]byte{0x52, 0x54, 0, 0x8e, 0xaa, 0x11}, VID: 100}}, e.VSI.Filters)
	})
	c = sp.Counters()
	assert.GreaterOrEqual(t, c.TxAcks, uint64(1), "we acknowledged lldpad's request")
	assert.GreaterOrEqual(t, c.RxAcks, uint64(4), "lldpad acknowledged our VDP answer")
	assert.Zero(t, c.TxFailures)
	t.Logf("ECP counters: %+v", c)
}

func waitFor(t *testing.T, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		require.True(t, time.Now().Before(deadline), "timed out")
		time.Sleep(20 * time.Millisecond)
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
