package vdp_test

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/internal/capture"
	"github.com/nivkit/niv/internal/lldpadtest"
	"github.com/nivkit/niv/internal/needs"
	"github.com/nivkit/niv/internal/tshark"
	"github.com/nivkit/niv/vdp"
	"github.com/nivkit/niv/vdp/ecp"
	"github.com/nivkit/niv/vdp/evb"
	"github.com/nivkit/niv/vdp/lldp"
)

// liveTimers are what both sides configure in the live tests: ECP RTE 10
// (10.24 ms), R 3; VDP RWD 16 (655 ms), RKA 17 (1.31 s keep-alives), so
// that keep-alives and timeouts play out in seconds.
var liveTimers = vdp.Timers{R: 3, RTE: 10, RWD: 16, RKA: 17}

func lldpadConf(bridge bool) lldpadtest.Conf {
	return lldpadtest.Conf{Bridge: bridge, RRCap: bridge, RRReq: true, R: liveTimers.R, RTE: liveTimers.RTE, RWD: liveTimers.RWD, RKA: liveTimers.RKA}
}

// end is niv's side of the link: an LLDP agent with the EVB TLV, an ECP
// speaker, and a VDP station or bridge runner, on one raw port. Restart
// replaces everything but the port, as a restarted daemon would.
type end struct {
	t      *testing.T
	port   *lldpadtest.Port
	mode   evb.Mode
	dec    vdp.Decider
	mu     sync.Mutex
	lr     *lldp.Runner
	sp     *ecp.Speaker
	st     *vdp.StationRunner
	br     *vdp.BridgeRunner
	events chan vdp.Action
	peer   chan evb.TLV
	stop   chan struct{}
	wg     sync.WaitGroup
}

func newEnd(t *testing.T, port *lldpadtest.Port, mode evb.Mode, dec vdp.Decider) *end {
	e := &end{t: t, port: port, mode: mode, dec: dec, events: make(chan vdp.Action, 256), peer: make(chan evb.TLV, 256), stop: make(chan struct{})}
	e.start()
	e.wg.Add(1)
	go e.read()
	t.Cleanup(func() {
		close(e.stop)
		e.wg.Wait()
		e.mu.Lock()
		e.close()
		e.mu.Unlock()
	})
	return e
}

func (e *end) start() {
	local := evb.TLV{R: liveTimers.R, RTE: liveTimers.RTE, Mode: e.mode, RWD: liveTimers.RWD, RKA: liveTimers.RKA}
	if e.mode == evb.ModeBridge {
		local.RRCAP = true
	} else {
		local.RRREQ = true
	}
	a, err := lldp.NewAgent(lldp.Config{Addr: [6]byte{2, 0, 0, 0, 0, 2}, EVB: local})
	require.NoError(e.t, err)
	cfg := ecp.DefaultConfig([6]byte{2, 0, 0, 0, 0, 2})
	// Our own retransmission timer: 164 ms, patient with an lldpad slowed
	// by a loaded machine.
	cfg.RTE = 14
	sp, err := ecp.NewSpeaker(e.port, cfg)
	require.NoError(e.t, err)
	e.sp = sp
	var setTimers func(vdp.Timers)
	if e.mode == evb.ModeBridge {
		br := vdp.NewBridgeRunner(vdp.NewBridge(vdp.BridgeConfig{Ports: 1, Timers: vdp.DefaultTimers, Decider: e.dec}),
			[]vdp.Sender{sp}, func(x vdp.Action) { e.events <- x })
		sp.Register(ecp.SubtypeVDP, br.Port(0))
		e.br, setTimers = br, func(t vdp.Timers) { br.SetTimers(0, t) }
	} else {
		st := vdp.NewStationRunner(vdp.NewStation(vdp.StationConfig{Timers: vdp.DefaultTimers}), sp, func(x vdp.Action) { e.events <- x })
		sp.Register(ecp.SubtypeVDP, st)
		e.st, setTimers = st, st.SetTimers
	}
	// The EVB exchange parameterises VDP: the negotiated RWD and RKA.
	e.lr = lldp.NewRunner(a, e.port, func(t evb.TLV, peer bool) {
		setTimers(vdp.TimersFrom(t))
		if peer {
			select {
			case e.peer <- t:
			default:
			}
		}
	})
	e.lr.Begin()
}

func (e *end) close() {
	if e.br != nil {
		e.br.Close()
	}
	if e.st != nil {
		e.st.Close()
	}
	e.sp.Close()
	e.lr.Close()
}

// Restart is a restart of niv's side: new agent, speaker and machine.
func (e *end) Restart() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.close()
	e.start()
}

func (e *end) read() {
	defer e.wg.Done()
	buf := make([]byte, 2048)
	for {
		select {
		case <-e.stop:
			return
		default:
		}
		n, err := e.port.ReadFrame(buf)
		if err != nil || n < 14 {
			continue
		}
		fr := buf[:n]
		e.mu.Lock()
		sp, lr := e.sp, e.lr
		e.mu.Unlock()
		switch binary.BigEndian.Uint16(fr[12:]) {
		case ecp.EtherType:
			sp.Receive(fr)
		case lldp.EtherType:
			lr.Receive(fr)
		}
	}
}

func (e *end) waitEvent(d time.Duration, ok func(vdp.Action) bool) (vdp.Action, bool) {
	timeout := time.After(d)
	for {
		select {
		case a := <-e.events:
			e.t.Logf("niv %v port %d mode %v reason %v code %v", a.Kind, a.Port, a.Mode, a.Reason, a.Code)
			if ok(a) {
				return a, true
			}
		case <-timeout:
			return vdp.Action{}, false
		}
	}
}

func (e *end) bridgeVSI(id vdp.VSIID) (vdp.BridgeVSI, bool) {
	e.mu.Lock()
	br := e.br
	e.mu.Unlock()
	var out vdp.BridgeVSI
	var ok bool
	br.Do(func(b *vdp.Bridge) {
		var p *vdp.BridgeVSI
		if p, ok = b.VSI(0, vdp.VSIIDUUID, id); ok {
			out = *p
		}
	})
	return out, ok
}

var liveUUID = vdp.VSIID{0xa1, 0x41, 0x28, 0x57, 0x60, 0xf7, 0x4c, 0xe1, 0xe9, 0x5a, 0x21, 0x64, 0x94, 0x3f, 0x53, 0xaa}

func vdptoolArgs(mode string, typeid string) []string {
	return []string{"-T", "-W", "-V", "assoc", "-c", "mode=" + mode, "-c", "mgrid2=niv", "-c", "typeid=" + typeid, "-c", "typeidver=4",
		"-c", "uuid=a1412857-60f7-4ce1-e95a-2164943f53aa", "-c", "hints=none", "-c", "filter=100-52:54:00:8e:aa:11"}
}

// TestLiveLLDPadStation: lldpad as the EVB station, niv as the bridge
// (LLDP agent with the bridge EVB TLV, ECP speaker, vdp.Bridge): lldpad
// negotiates EVB with niv's TLV; vdptool associates, keep-alives follow,
// refusals from niv's Decider reach vdptool as the errors lldpad prints,
// vdptool de-associates; after a restart of niv's bridge lldpad's next
// keep-alive re-associates. tshark on the veth decodes every ECP frame as
// niv does, and every VDP field tshark decodes right as niv does.
func TestLiveLLDPadStation(t *testing.T) {
	link := lldpadtest.NewLink(t, "vdpa")
	pcap := filepath.Join(t.TempDir(), "live.pcap")
	stopCapture := lldpadtest.Capture(t, link.Ours, pcap)
	port := lldpadtest.OpenPort(t, link.Ours)
	dec := vdp.DecideFunc(func(_ int, _ vdp.ManagerID, v *vdp.VSI) vdp.Decision {
		switch v.TypeID {
		case 99:
			return vdp.Decision{Code: vdp.CodeInsufficientResources}
		case 98: // a VSI type niv does not know
			return vdp.Decision{Code: vdp.CodeOtherFailure}
		case 97:
			return vdp.Decision{Code: vdp.CodeOtherFailure, Hard: true}
		}
		return vdp.Decision{}
	})
	nb := newEnd(t, port, evb.ModeBridge, dec)
	ll := lldpadtest.Start(t, link, lldpadConf(false))
	ll.WaitUp(t, 15*time.Second)

	// lldpad has heard niv's bridge TLV: RRCAP and RRCTR set.
	var evbOut string
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, err := ll.EVB()
		if err == nil && strings.Contains(out, "bridge:rrcap,rrctr") {
			evbOut = out
			break
		}
		require.True(t, time.Now().Before(deadline), "lldpad did not take niv's EVB TLV: %v %s", err, out)
		time.Sleep(300 * time.Millisecond)
	}
	t.Logf("lldptool -V evb:\n%s", evbOut)
	assert.Contains(t, evbOut, "retries:3 rte:10")
	assert.Contains(t, evbOut, "mode:station")

	// Associate (lldpad enables VDP some seconds after start: retry).
	var out string
	deadline = time.Now().Add(30 * time.Second)
	for {
		var err error
		out, err = ll.VDPTool(vdptoolArgs("assoc", "5")...)
		if err == nil && strings.Contains(out, "mode = assoc") {
			break
		}
		require.True(t, time.Now().Before(deadline), "vdptool assoc: %v: %s", err, out)
		time.Sleep(time.Second)
	}
	t.Logf("vdptool assoc:\n%s", out)
	_, ok := nb.waitEvent(5*time.Second, func(a vdp.Action) bool { return a.Mode == vdp.TypeAssociate })
	require.True(t, ok, "niv's bridge reported the association")
	out, err := ll.VDPTool("-t", "-V", "assoc")
	require.NoError(t, err)
	t.Logf("vdptool -t:\n%s", out)
	assert.Contains(t, out, "mode = assoc")
	assert.Contains(t, out, "filter = 100-52:54:00:8e:aa:11")

	// Keep-alives: every 10·2^17 µs = 1.31 s.
	time.Sleep(5 * time.Second)
	v, ok := nb.bridgeVSI(liveUUID)
	require.True(t, ok)
	assert.GreaterOrEqual(t, v.Counters.KeepAlives, uint64(2), "%+v", v.Counters)
	t.Logf("bridge VSI counters after 5 s: %+v", v.Counters)

	// Refusals reach lldpad's station as errors.
	// lldpad prints the error text only when the Hard error bit is clear
	// (it looks the status up with that bit included, and 0x14 has no
	// text): a hard refusal shows as a bare "mode = deassoc".
	for _, tc := range []struct{ typeid, want string }{
		{"99", "Error returned by Bridge: Insufficient resources at bridge"},
		{"98", "Error returned by Bridge: Other Failures"},
		{"97", "mode = deassoc"},
	} {
		other := strings.Replace(strings.Join(vdptoolArgs("assoc", tc.typeid), "\x00"), "a1412857-60f7-4ce1-e95a-2164943f53aa", "a1412857-60f7-4ce1-e95a-2164943f53ab", 1)
		out, _ = ll.VDPTool(strings.Split(other, "\x00")...)
		t.Logf("vdptool assoc typeid=%s:\n%s", tc.typeid, out)
		assert.Contains(t, out, tc.want)
		assert.Contains(t, out, "mode = deassoc")
	}

	// De-associate.
	out, err = ll.VDPTool(vdptoolArgs("deassoc", "5")...)
	require.NoError(t, err, out)
	t.Logf("vdptool deassoc:\n%s", out)
	assert.Contains(t, out, "mode = deassoc")
	_, ok = nb.waitEvent(5*time.Second, func(a vdp.Action) bool { return a.Mode == 0 && a.Reason == vdp.ReasonDeAssociate })
	assert.True(t, ok, "niv's bridge removed the VSI")

	// Re-associate, restart niv's bridge: lldpad's next keep-alive
	// associates the VSI at the new bridge.
	out, err = ll.VDPTool(vdptoolArgs("assoc", "5")...)
	require.NoError(t, err, out)
	assert.Contains(t, out, "mode = assoc")
	nb.Restart()
	_, ok = nb.waitEvent(10*time.Second, func(a vdp.Action) bool { return a.Mode == vdp.TypeAssociate })
	assert.True(t, ok, "the restarted bridge has the VSI again from a keep-alive")
	out, err = ll.VDPTool("-t", "-V", "assoc")
	require.NoError(t, err)
	assert.Contains(t, out, "mode = assoc", "lldpad's station still has it")

	stopCapture()
	compareTshark(t, pcap)
}

// compareTshark decodes the capture's ECP frames with tshark and with niv.
func compareTshark(t *testing.T, pcap string) {
	bin := needs.Tool(t, "tshark")
	f, err := os.Open(pcap)
	require.NoError(t, err)
	pk, err := capture.ReadAll(f)
	f.Close()
	require.NoError(t, err)
	fields := append([]string{"ecp.ver", "ecp.op", "ecp.subtype", "ecp.seqno"}, tsharkFields...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	got, err := tshark.Fields(ctx, bin, pcap, fields)
	require.NoError(t, err)
	require.Len(t, got, len(pk))
	nECP, nVDP := 0, 0
	for i, p := range pk {
		fr := p.Data
		if len(fr) < 14 || binary.BigEndian.Uint16(fr[12:]) != ecp.EtherType {
			continue
		}
		e, err := ecp.Decode(fr)
		require.NoError(t, err)
		nECP++
		want := map[string]string{"ecp.ver": itoa(int(e.Version)), "ecp.op": itoa(int(e.Op)), "ecp.subtype": itoa(int(e.Subtype)), "ecp.seqno": itoa(int(e.Seq))}
		if e.Op == ecp.OpRequest && e.Subtype == ecp.SubtypeVDP {
			var v vdp.PDU
			require.NoError(t, v.Decode(e.Payload), "frame %d", i+1)
			for k, x := range tsharkView(&v) {
				want[k] = x
			}
			nVDP++
		}
		for _, k := range fields {
			var g, w []string
			for _, x := range got[i][k] {
				g = append(g, tshark.Canonical(x))
			}
			if want[k] != "" {
				for _, x := range strings.Split(want[k], ",") {
					w = append(w, tshark.Canonical(x))
				}
			}
			assert.Equal(t, w, g, "frame %d %s", i+1, k)
		}
	}
	t.Logf("tshark agreed with niv on %d ECP frames, %d of them VDPDUs", nECP, nVDP)
	assert.Greater(t, nVDP, 4)
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestLiveLLDPadBridge: niv as the EVB station, lldpad as the bridge.
// niv's LLDP agent sends the station EVB TLV (without it lldpad's bridge
// runs its timers at 10–30 µs, lldpad-peer.md); niv's station associates,
// keeps the VSI alive past lldpad's keep-alive timeout, de-associates,
// re-associates, and survives a restart of lldpad.
func TestLiveLLDPadBridge(t *testing.T) {
	link := lldpadtest.NewLink(t, "vdpb")
	pcap := filepath.Join(t.TempDir(), "live.pcap")
	stopCapture := lldpadtest.Capture(t, link.Ours, pcap)
	port := lldpadtest.OpenPort(t, link.Ours)
	ll := lldpadtest.Start(t, link, lldpadConf(true))
	ns := newEnd(t, port, evb.ModeStation, nil)
	ll.WaitUp(t, 15*time.Second)
	select {
	case p := <-ns.peer:
		t.Logf("niv's station heard lldpad's bridge EVB TLV; in use: %+v", p)
		assert.True(t, p.RRCAP && p.RRCTR, "lldpad's bridge turned reflective relay on")
		assert.Equal(t, evb.RRStatEnabled, p.RRSTAT)
		assert.Equal(t, [4]uint8{3, 10, 16, 17}, [4]uint8{p.R, p.RTE, p.RWD, p.RKA})
	case <-time.After(35 * time.Second):
		t.Fatal("no EVB TLV from lldpad's bridge")
	}
	out, _ := ll.EVB()
	t.Logf("lldptool -V evb (bridge):\n%s", out)
	time.Sleep(2 * time.Second) // lldpad starts ECP/VDP from a timer

	req := assocReq(vdp.TypeAssociate, 100)
	req.ID = liveUUID
	mgr := vdp.ManagerIDFromString("niv")
	var ok bool
	for try := 0; try < 5 && !ok; try++ {
		require.NoError(t, ns.st.Request(mgr, req))
		var a vdp.Action
		a, ok = ns.waitEvent(10*time.Second, func(a vdp.Action) bool { return a.Kind == vdp.ActState })
		ok = ok && a.Mode == vdp.TypeAssociate
	}
	require.True(t, ok, "lldpad's bridge associated niv's VSI")

	// Keep-alives past lldpad's keep-alive timeout (2.07 s): still
	// associated, no unsolicited De-Associate.
	_, bad := ns.waitEvent(6*time.Second, func(a vdp.Action) bool { return a.Kind == vdp.ActState })
	assert.False(t, bad, "the VSI stayed associated")
	var c vdp.VSICounters
	ns.st.Do(func(s *vdp.Station) {
		e, ok := s.VSI(vdp.VSIIDUUID, liveUUID)
		require.True(t, ok)
		assert.Equal(t, vdp.TypeAssociate, e.Mode)
		c = e.Counters
	})
	t.Logf("station VSI counters: %+v", c)
	assert.GreaterOrEqual(t, c.KeepAlives, uint64(3))
	assert.GreaterOrEqual(t, c.Responses, c.KeepAlives)

	// De-associate, then associate again.
	req.Mode = vdp.TypeDeAssociate
	require.NoError(t, ns.st.Request(mgr, req))
	a, ok := ns.waitEvent(10*time.Second, func(a vdp.Action) bool { return a.Kind == vdp.ActState })
	require.True(t, ok)
	assert.Zero(t, a.Mode)
	assert.Equal(t, vdp.ReasonResponse, a.Reason)
	req.Mode = vdp.TypeAssociate
	require.NoError(t, ns.st.Request(mgr, req))
	a, ok = ns.waitEvent(10*time.Second, func(a vdp.Action) bool { return a.Kind == vdp.ActState })
	require.True(t, ok)
	assert.Equal(t, vdp.TypeAssociate, a.Mode)

	// Restart lldpad's bridge: niv's keep-alives associate the VSI there
	// again, and the station never drops it.
	ll.Restart(t)
	ll.WaitUp(t, 15*time.Second)
	ns.st.Do(func(s *vdp.Station) {
		e, _ := s.VSI(vdp.VSIIDUUID, liveUUID)
		c = e.Counters
	})
	_, bad = ns.waitEvent(10*time.Second, func(a vdp.Action) bool { return a.Kind == vdp.ActState && a.Mode != vdp.TypeAssociate })
	assert.False(t, bad, "the VSI survived the bridge restart")
	ns.st.Do(func(s *vdp.Station) {
		e, ok := s.VSI(vdp.VSIIDUUID, liveUUID)
		require.True(t, ok)
		assert.Equal(t, vdp.TypeAssociate, e.Mode)
		assert.Greater(t, e.Counters.Responses, c.Responses, "the restarted lldpad answers the keep-alives")
		t.Logf("station VSI counters after the restart: %+v", e.Counters)
	})
	stopCapture()
	compareTshark(t, pcap)
}
