package bind_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vdp/ecp"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/bind"
	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

const profiles = `
port-profile web
  switchport mode access
  switchport access vlan 10
  state enabled
port-profile off
  switchport mode access
  switchport access vlan 10
`

// fast timers, so that restarts and resyncs take milliseconds.
var timing = vic.Timing{Keepalive: 40 * time.Millisecond, RequestTimeout: 100 * time.Millisecond, ResyncHold: 2 * time.Second}

// tap is a port that keeps a copy of every frame written to it.
type tap struct {
	port.Port
	mu     sync.Mutex
	frames [][]byte
}

func (t *tap) Write(frames []port.Frame) (int, error) {
	t.mu.Lock()
	for _, f := range frames {
		t.frames = append(t.frames, append([]byte(nil), f.Bytes()...))
	}
	t.mu.Unlock()
	return t.Port.Write(frames)
}

// data returns the NIV-tagged frames written since mark, and the new mark.
func (t *tap) data(mark int) ([][]byte, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out [][]byte
	for _, f := range t.frames[mark:] {
		if !bind.IsECP(f) {
			out = append(out, f)
		}
	}
	return out, len(t.frames)
}

func (t *tap) ecp() (n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range t.frames {
		if bind.IsECP(f) {
			n++
		}
	}
	return n
}

// ivSide is one IV: its core behind a Control, its agent, its uplink (a
// tap on the IV end of the link) and the VM ends of its vNIC ports.
type ivSide struct {
	core   *iv.IV
	prog   *bind.IVProgrammer
	agent  *vic.IVAgent
	up     *tap
	vms    []*port.Mem // vms[i] is the VM end of core port iv.FirstVNIC+i
	mu     sync.Mutex
	status []vic.Action
}

func (s *ivSide) statusOf(u vic.UUID) (vic.Action, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.status) - 1; i >= 0; i-- {
		if s.status[i].Kind == vic.ActStatus && s.status[i].VNIC.Instance == u {
			return s.status[i], true
		}
	}
	return vic.Action{}, false
}

type fabric struct {
	t       *testing.T
	ctx     context.Context
	store   *profile.MemStore
	vis     *vis.VIS
	visProg *bind.VISProgrammer
	tab     *vic.Table
	agent   *vic.VISAgent
	visSp   []*ecp.Speaker
	lists   []*bind.Lists
	down    []*tap // the VIS ends of the links
	ivs     []*ivSide
}

func mac(b byte) [6]byte { return [6]byte{0x02, 0, 0, 0, 0, b} }

func newFabric(t *testing.T, nIV int) *fabric {
	ctx, cancel := context.WithCancel(context.Background())
	f := &fabric{t: t, ctx: ctx, store: profile.NewMemStore(), tab: vic.NewTable()}
	_, err := f.store.Update(func(tx *profile.Txn) error { return tx.Configure(profiles) })
	require.NoError(t, err)
	f.vis, err = vis.New(vis.Config{Store: f.store})
	require.NoError(t, err)
	f.visProg, err = bind.NewVISProgrammer(f.vis, f.store)
	require.NoError(t, err)
	visCtl := bind.NewControl(f.vis)
	visPorts := make([]port.Port, nIV+1) // 0 is the parking port, not served
	var wg sync.WaitGroup
	for i := 0; i < nIV; i++ {
		upEnd, downEnd := port.Pair("iv-up", "vis-down", 0)
		lists := bind.NewLists()
		cp, err := f.vis.AddIVPort("iv", vntag.ModeVNTag, lists)
		require.NoError(t, err)
		f.visProg.AddPort(vic.PortID(i), cp)
		down := &tap{Port: downEnd}
		visPorts[cp] = down
		sp, err := ecp.NewSpeaker(bind.Writer{Port: down}, ecp.DefaultConfig(mac(0xf0)))
		require.NoError(t, err)
		visCtl.Attach(cp, sp)
		f.visSp, f.lists, f.down = append(f.visSp, sp), append(f.lists, lists), append(f.down, down)

		s := &ivSide{core: iv.New(iv.Config{})}
		require.NoError(t, s.core.SetUplinkUp(iv.UplinkB, false))
		s.prog = bind.NewIVProgrammer(s.core, iv.FabricA, nil)
		s.up = &tap{Port: upEnd}
		ivSp, err := ecp.NewSpeaker(bind.Writer{Port: s.up}, ecp.DefaultConfig(mac(byte(0xe0+i))))
		require.NoError(t, err)
		ivCtl := bind.NewControl(s.core)
		ivCtl.Attach(iv.UplinkA, ivSp)
		ports := []port.Port{s.up, nil}
		for k := 0; k < 8; k++ { // room for eight vNICs, in the order they bind
			nic, vm := port.Pair("vnic", "vm", 0)
			ports = append(ports, nic)
			s.vms = append(s.vms, vm)
		}
		s.agent = vic.NewIVAgent(vic.IVConfig{Session: uint64(100 + i), Mode: vntag.ModeVNTag, MaxVIFs: 4095, Timing: timing},
			ivSp, s.prog, func(a vic.Action) { s.mu.Lock(); s.status = append(s.status, a); s.mu.Unlock() })
		wg.Add(1)
		go func() { defer wg.Done(); port.Run(ctx, ivCtl, ports, port.RunConfig{}) }()
		f.ivs = append(f.ivs, s)
	}
	f.startVIS(1000)
	wg.Add(1)
	go func() { defer wg.Done(); port.Run(ctx, visCtl, visPorts, port.RunConfig{}) }()
	t.Cleanup(func() {
		for _, s := range f.ivs {
			s.agent.Close()
		}
		f.agent.Close()
		for _, l := range f.lists {
			l.Close()
		}
		cancel()
		wg.Wait()
		f.vis.Close()
		d, s, p := f.agent.Errors()
		assert.Zero(t, d+s+p, "VIS agent errors: decode, send, program")
	})
	return f
}

// startVIS starts a VIS agent (again) over the fabric's table.
func (f *fabric) startVIS(session uint64) {
	f.agent = vic.NewVISAgent(vic.VISConfig{Session: session, Profiles: bind.Profiles{Store: f.store}, Timing: timing}, f.tab, f.visProg, nil)
	for i, sp := range f.visSp {
		f.agent.AddPort(vic.PortID(i), sp)
		f.lists[i].Attach(f.agent, vic.PortID(i))
	}
}

func (f *fabric) bound(s *ivSide, u vic.UUID) vic.IVVNIC {
	f.t.Helper()
	var n vic.IVVNIC
	require.Eventually(f.t, func() bool {
		var ok bool
		n, ok = s.agent.VNIC(u)
		_, _, onCore := s.prog.Port(u)
		return ok && n.State == vic.VIFBound && onCore
	}, 5*time.Second, time.Millisecond, "vNIC %v never bound", u)
	return n
}

// listsReached waits until IV i's core holds the VIS core's VLAN 10 flood
// list of its port, sent over vic by bind.Lists, and returns its members.
func (f *fabric) listsReached(i int) []vntag.VIF {
	f.t.Helper()
	var vifs []vntag.VIF
	require.Eventually(f.t, func() bool {
		list, want, ok := f.vis.FloodList(i+1, 10, false) // core port 0 is the parking port
		if !ok {
			return false
		}
		got, ok := f.ivs[i].core.VIFList(list)
		vifs = got
		return ok && slices.Equal(got, want)
	}, 5*time.Second, time.Millisecond, "IV %d never got its flood list", i)
	return vifs
}

// vm returns the VM end of instance u's vNIC on s.
func (f *fabric) vm(s *ivSide, u vic.UUID) *port.Mem {
	f.t.Helper()
	p, _, ok := s.prog.Port(u)
	require.True(f.t, ok)
	return s.vms[p-iv.FirstVNIC]
}

// frame is an untagged frame from src to dst with a marker byte.
func frame(dst, src [6]byte, marker byte) []byte {
	b := make([]byte, 60)
	copy(b, dst[:])
	copy(b[6:], src[:])
	binary.BigEndian.PutUint16(b[12:], 0x88b5) // local experimental
	b[14] = marker
	return b
}

// send has the VM end vm send b and waits until dst receives it, untagged.
func (f *fabric) send(from, to *port.Mem, b []byte) {
	f.t.Helper()
	_, err := from.Write([]port.Frame{port.FrameFrom(b)})
	require.NoError(f.t, err)
	batch := port.NewBatch(16)
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		require.NoError(f.t, to.ReadNow(batch))
		for _, got := range batch.Valid() {
			if bytes.Equal(got.Bytes(), b) {
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
	f.t.Fatalf("frame %x never arrived", b[14])
}

func drain(m *port.Mem) {
	b := port.NewBatch(64)
	for m.ReadNow(b) == nil && b.N > 0 {
	}
}

func tagOf(t *testing.T, b []byte) vntag.Tag {
	t.Helper()
	tag, err := vntag.ParseTag(b[12:])
	require.NoError(t, err)
	return tag
}

func vnic(last byte, prof string, epoch uint32) vic.VNIC {
	return vic.VNIC{Instance: vic.UUID{0xa1, last}, MAC: mac(last), Profile: prof, Epoch: epoch, Up: true}
}

// TestEndToEnd runs the control plane over the data plane: an IV agent and
// a VIS agent on ECP speakers over in-memory links, the real iv and vis
// cores behind them, the ECP frames next to the VNTag data frames on the
// same links. A vNIC is negotiated and gets a vEth bound to its profile;
// data flows VM → IV → VIS → IV → VM with the negotiated VIFs in the tags;
// then a refusal, a delete, a VIS restart with resync, and a migration.
func TestEndToEnd(t *testing.T) {
	f := newFabric(t, 2)
	iv0, iv1 := f.ivs[0], f.ivs[1]
	a, b, c := vnic(0x0a, "web", 1), vnic(0x0b, "web", 1), vnic(0x0c, "web", 1)

	// 1. Negotiation: A and B behind IV 0.
	iv0.agent.Request(a)
	na := f.bound(iv0, a.Instance)
	iv0.agent.Request(b)
	nb := f.bound(iv0, b.Instance)
	require.NotEqual(t, na.VIF, nb.VIF)
	for _, n := range []vic.IVVNIC{na, nb} {
		ve, ok := f.agent.VEth(n.Instance)
		require.True(t, ok)
		assert.Equal(t, n.VEth, ve.ID, "IV and VIS agree on the vEth")
		assert.Equal(t, n.VIF, ve.VIF, "IV and VIS agree on the VIF")
		assert.True(t, ve.Bound)
		assert.Equal(t, "web", f.store.Snapshot().Bindings[profile.VEthID(ve.ID)], "the vEth is bound to its profile")
		show, err := f.vis.ShowInterface(profile.VEthID(ve.ID))
		require.NoError(t, err)
		assert.Contains(t, show, "web")
		_, vif, ok := iv0.prog.Port(n.Instance)
		require.True(t, ok)
		assert.Equal(t, n.VIF, vif)
		st, ok := iv0.statusOf(n.Instance)
		require.True(t, ok)
		assert.Equal(t, vic.ResultSuccess, st.Result)
	}
	assert.Positive(t, f.down[0].ecp(), "the negotiation ran on the data link")

	// 2. Data: B speaks first (flooded), so the VIS learns it; then A → B
	// is known unicast. Upstream: d=0 svif = A's VIF. Downstream: d=1,
	// p=0, dvif = B's VIF, hair-pinned down the same link.
	assert.ElementsMatch(t, []vntag.VIF{na.VIF, nb.VIF}, f.listsReached(0), "the vif list came over vic")
	vmA, vmB := f.vm(iv0, a.Instance), f.vm(iv0, b.Instance)
	bcast := [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	f.send(vmB, vmA, frame(bcast, b.MAC, 1))
	_, upMark := iv0.up.data(0)
	_, downMark := f.down[0].data(0)
	f.send(vmA, vmB, frame(b.MAC, a.MAC, 2))
	ups, _ := iv0.up.data(upMark)
	require.Len(t, ups, 1)
	tag := tagOf(t, ups[0])
	assert.Equal(t, vntag.ToBridge, tag.Direction())
	assert.Equal(t, na.VIF, vntag.VIF(tag.SVIF()))
	downs, _ := f.down[0].data(downMark)
	require.Len(t, downs, 1)
	tag = tagOf(t, downs[0])
	assert.Equal(t, vntag.FromBridge, tag.Direction())
	assert.False(t, tag.Pointer())
	assert.Equal(t, nb.VIF, vntag.VIF(tag.DVIF()))
	cA, _ := f.vis.Counters(profile.VEthID(na.VEth))
	cB, _ := f.vis.Counters(profile.VEthID(nb.VEth))
	assert.Equal(t, uint64(1), cA.RxFrames)
	assert.Equal(t, uint64(2), cB.TxFrames+cB.RxFrames, "B sent one, got one")
	ivc, _ := iv0.core.Counters(na.VIF)
	assert.Equal(t, uint64(1), ivc.RxFrames)
	assert.Zero(t, iv0.core.UplinkCounters(iv.UplinkA).Drops[iv.DropNoTag], "the IV core never saw an ECP frame")
	pc, _ := f.vis.PortCounters(1)
	assert.Zero(t, pc.Drops[vis.DropNoTag], "the VIS core never saw an ECP frame")
	drain(vmA)

	// 3. Refusal: an unknown profile, and a disabled one.
	bad := vnic(0x0d, "nope", 1)
	iv0.agent.Request(bad)
	require.Eventually(t, func() bool { n, _ := iv0.agent.VNIC(bad.Instance); return n.State == vic.VIFRefused }, 5*time.Second, time.Millisecond)
	st, _ := iv0.statusOf(bad.Instance)
	assert.Equal(t, vic.ResultInvalid, st.Result, "PORT_PROFILE_RESPONSE_INVALID")
	assert.Equal(t, vic.ResultInvalid, vic.Result(0x102))
	assert.Equal(t, vic.ReasonUnknownProfile, st.Reason)
	off := vnic(0x0e, "off", 1)
	iv0.agent.Request(off)
	require.Eventually(t, func() bool { n, _ := iv0.agent.VNIC(off.Instance); return n.State == vic.VIFRefused }, 5*time.Second, time.Millisecond)
	st, _ = iv0.statusOf(off.Instance)
	assert.Equal(t, vic.ResultBadState, st.Result, "PORT_PROFILE_RESPONSE_BADSTATE")
	assert.Equal(t, vic.ReasonProfileDisabled, st.Reason)
	for _, u := range []vic.UUID{bad.Instance, off.Instance} {
		_, ok := f.agent.VEth(u)
		assert.False(t, ok)
		_, _, ok = iv0.prog.Port(u)
		assert.False(t, ok)
	}

	// 4. Delete B: gone from both agents, both cores and the store.
	iv0.agent.Delete(b.Instance)
	require.Eventually(t, func() bool { _, ok := f.agent.VEth(b.Instance); return !ok }, 5*time.Second, time.Millisecond)
	require.Eventually(t, func() bool { _, _, ok := iv0.prog.Port(b.Instance); return !ok }, 5*time.Second, time.Millisecond)
	_, ok := f.vis.Counters(profile.VEthID(nb.VEth))
	assert.False(t, ok, "the vEth left the VIS core")
	_, ok = iv0.core.PortOf(nb.VIF)
	assert.False(t, ok, "the VIF left the IV core")
	_, ok = f.store.Snapshot().Bindings[profile.VEthID(nb.VEth)]
	assert.False(t, ok, "the profile binding is gone")

	// C joins behind IV 0, for the rest of the test.
	iv0.agent.Request(c)
	nc := f.bound(iv0, c.Instance)
	vmC := f.vm(iv0, c.Instance)
	assert.ElementsMatch(t, []vntag.VIF{na.VIF, nc.VIF}, f.listsReached(0), "B left the list, C joined it")
	f.send(vmC, vmA, frame(bcast, c.MAC, 3))
	f.send(vmA, vmC, frame(c.MAC, a.MAC, 4))
	before, _ := f.vis.Counters(profile.VEthID(na.VEth))
	require.Equal(t, uint64(2), before.RxFrames)

	// 5. VIS restart: a new VIS machine over the same table, with a newer
	// session. IV 0 notices, re-announces its vNICs, and A keeps its vEth
	// id, its VIF and its counters.
	_, oldSession := iv0.agent.Session()
	f.agent.Close()
	f.startVIS(2000)
	require.Eventually(t, func() bool {
		st, sess := iv0.agent.Session()
		ve, ok := f.agent.VEth(a.Instance)
		return st == vic.SessionOpen && sess != oldSession && ok && ve.Bound && !ve.Stale
	}, 5*time.Second, time.Millisecond, "IV 0 never resynced with the restarted VIS")
	ve, _ := f.agent.VEth(a.Instance)
	assert.Equal(t, na.VEth, ve.ID, "same vEth after the restart")
	after, _ := f.vis.Counters(profile.VEthID(na.VEth))
	assert.Equal(t, before, after, "counters kept across the restart")
	f.send(vmA, vmC, frame(c.MAC, a.MAC, 5))
	after, _ = f.vis.Counters(profile.VEthID(na.VEth))
	assert.Equal(t, before.RxFrames+1, after.RxFrames)

	// 6. Migration: A moves to IV 1 (epoch 2); IV 0 lets go. Same vEth id,
	// same counters, a VIF on IV 1; A's frames now come up IV 1's link
	// with that VIF and reach C behind IV 0.
	before = after
	a2 := a
	a2.Epoch = 2
	iv1.agent.Request(a2)
	iv0.agent.Release(a.Instance)
	na2 := f.bound(iv1, a.Instance)
	assert.Equal(t, na.VEth, na2.VEth, "the vEth id moved with the VM")
	require.Eventually(t, func() bool { _, _, ok := iv0.prog.Port(a.Instance); return !ok }, 5*time.Second, time.Millisecond)
	ve, _ = f.agent.VEth(a.Instance)
	assert.Equal(t, vic.PortID(1), ve.Port)
	assert.Equal(t, na2.VIF, ve.VIF)
	after, _ = f.vis.Counters(profile.VEthID(na.VEth))
	assert.Equal(t, before, after, "counters kept across the migration")
	vmA2 := f.vm(iv1, a.Instance)
	_, upMark = iv1.up.data(0)
	f.send(vmA2, vmC, frame(c.MAC, a.MAC, 6))
	ups, _ = iv1.up.data(upMark)
	require.Len(t, ups, 1)
	assert.Equal(t, na2.VIF, vntag.VIF(tagOf(t, ups[0]).SVIF()))
	after, _ = f.vis.Counters(profile.VEthID(na.VEth))
	assert.Equal(t, before.RxFrames+1, after.RxFrames)
	cC, _ := f.vis.Counters(profile.VEthID(nc.VEth))
	assert.Equal(t, uint64(3), cC.TxFrames, "C got A's frames 4, 5 and 6")
}
