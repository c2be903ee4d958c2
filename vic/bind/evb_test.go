package bind_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vdp"
	"github.com/nivkit/niv/vdp/ecp"
	"github.com/nivkit/niv/vdp/evb"
	"github.com/nivkit/niv/vdp/lldp"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/bind"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vic/vis"
)

const evbProfiles = `
port-profile type vethernet web
  switchport mode access
  switchport access vlan 10
  vdp vsi-type 5 version 1
  state enabled
port-profile type vethernet db
  switchport mode trunk
  switchport trunk allowed vlan 20,30
  switchport trunk native vlan 20
  state enabled
port-profile type vethernet trunk10
  switchport mode trunk
  switchport trunk allowed vlan 10,20
  switchport trunk native vlan 20
  state enabled
port-profile type vethernet off
  switchport access vlan 10
  vdp vsi-type 6 version 1
port-profile type vethernet small
  switchport access vlan 10
  vdp vsi-type 7 version 1
  max-ports 1
  state enabled
`

// chanWriter is an ecp.FrameWriter onto a channel.
type chanWriter chan []byte

func (w chanWriter) WriteFrame(b []byte) error {
	w <- append([]byte(nil), b...)
	return nil
}

// evbRig is a vis core with an EVBPlane of two evb ports, and a VDP
// station (niv's) on each, joined by in-memory links.
type evbRig struct {
	t      *testing.T
	store  *profile.MemStore
	core   *vis.VIS
	plane  *bind.EVBPlane
	st     [2]*vdp.StationRunner
	events [2]chan vdp.Action
	done   chan struct{}
}

func newEVBRig(t *testing.T, cfg bind.EVBConfig) *evbRig { return newEVBRigLLDP(t, cfg, nil) }

// newEVBRigLLDP is newEVBRig with an LLDP agent of configuration lc on
// each port (nil: none); the stations run none.
func newEVBRigLLDP(t *testing.T, cfg bind.EVBConfig, lc *lldp.Config) *evbRig {
	r := &evbRig{t: t, done: make(chan struct{})}
	r.store, r.core = evbCore(t)
	var err error
	var down, up [2]chanWriter
	var ports []bind.EVBPort
	for i := range 2 {
		down[i], up[i] = make(chanWriter, 256), make(chanWriter, 256)
		ports = append(ports, bind.EVBPort{Name: []string{"evb0", "evb1"}[i], W: down[i], ECP: ecp.DefaultConfig([6]byte{2, 0xb, 0, 0, 0, byte(i)}), LLDP: lc})
	}
	r.plane, err = bind.NewEVBPlane(r.core, r.store, cfg, ports...)
	require.NoError(t, err)
	for i := range 2 {
		sp, err := ecp.NewSpeaker(up[i], ecp.DefaultConfig([6]byte{2, 0x5, 0, 0, 0, byte(i)}))
		require.NoError(t, err)
		r.events[i] = make(chan vdp.Action, 256)
		ev := r.events[i]
		r.st[i] = vdp.NewStationRunner(vdp.NewStation(vdp.StationConfig{Timers: vdp.DefaultTimers}), sp,
			func(a vdp.Action) { a.Filters = append([]vdp.Filter(nil), a.Filters...); ev <- a })
		sp.Register(ecp.SubtypeVDP, r.st[i])
		cp := r.plane.Port(i)
		go func() { // station → bridge, through the Control in front of the core
			tx := port.NewTx(64, 1<<16)
			for {
				select {
				case b := <-up[i]:
					tx.Reset()
					r.plane.Core().Process(cp, []port.Frame{port.FrameFrom(b)}, time.Now().UnixNano(), tx)
				case <-r.done:
					return
				}
			}
		}()
		go func() { // bridge → station
			for {
				select {
				case b := <-down[i]:
					sp.Receive(b)
				case <-r.done:
					return
				}
			}
		}()
		t.Cleanup(func() { r.st[i].Close(); sp.Close() })
	}
	t.Cleanup(func() { close(r.done); r.plane.Close() })
	return r
}

var mgr = vdp.ManagerIDFromString("niv")

func vsiID(b byte) vdp.VSIID { return vdp.VSIID{0xa1, 0x41, 15: b} }

func vmMAC(b byte) [6]byte { return [6]byte{0x52, 0x54, 0, 0, 0, b} }

func request(mode vdp.TLVType, typ uint32, id byte, vid uint16) *vdp.VSI {
	return &vdp.VSI{Mode: mode, TypeID: typ, TypeVersion: 1, IDFormat: vdp.VSIIDUUID, ID: vsiID(id),
		FilterFormat: vdp.FilterMACVID, Filters: []vdp.Filter{{MAC: vmMAC(id), VID: vid}}}
}

// ask sends v from station i and returns the station's state change.
func (r *evbRig) ask(i int, v *vdp.VSI) vdp.Action {
	r.t.Helper()
	require.NoError(r.t, r.st[i].Request(mgr, v))
	select {
	case a := <-r.events[i]:
		return a
	case <-time.After(10 * time.Second):
		r.t.Fatal("no answer from the bridge")
	}
	return vdp.Action{}
}

func (r *evbRig) veth(id byte) (profile.VEthID, bool) {
	return r.plane.VEth(vdp.VSIIDUUID, vsiID(id))
}

// send runs frame b through the plane's core as arriving on evb port i.
func (r *evbRig) send(i int, b []byte) *port.Tx {
	tx := port.NewTx(64, 1<<16)
	r.plane.Core().Process(r.plane.Port(i), []port.Frame{port.FrameFrom(append(make([]byte, 0, 256), b...))}, time.Now().UnixNano(), tx)
	return tx
}

func evbFrame(dst, src [6]byte, vid uint16) []byte {
	b := append(append(dst[:], src[:]...), 0x81, 0, byte(vid>>8), byte(vid), 0x08, 0x00)
	return append(b, make([]byte, 46)...)
}

func TestEVBPlaneAssociateAndRelay(t *testing.T) {
	r := newEVBRig(t, bind.EVBConfig{})
	for _, id := range []byte{1, 2} {
		a := r.ask(0, request(vdp.TypeAssociate, 5, id, 10))
		require.Equal(t, vdp.TypeAssociate, a.Mode)
		require.Equal(t, vdp.CodeSuccess, a.Code)
	}
	v1, ok := r.veth(1)
	require.True(t, ok)
	assert.Equal(t, "web", r.store.Snapshot().Bindings[v1])
	vsi, ok := r.core.VSIOf(v1)
	require.True(t, ok)
	assert.Equal(t, vis.VSI{Port: r.plane.Port(0), VID: 10, MACs: [][6]byte{vmMAC(1)}, VLAN: 10}, vsi)

	// Reflective relay: VM 1 → VM 2 goes back out of evb0.
	r.send(0, evbFrame([6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, vmMAC(2), 10))
	tx := r.send(0, evbFrame(vmMAC(2), vmMAC(1), 10))
	require.Equal(t, 1, tx.Len())
	assert.Equal(t, r.plane.Port(0), tx.Ports[0])
	assert.Equal(t, evbFrame(vmMAC(2), vmMAC(1), 10), tx.Frames[0].Bytes())
	// Anti-spoof: a MAC not associated.
	assert.Zero(t, r.send(0, evbFrame(vmMAC(2), vmMAC(9), 10)).Len())
	pc, _ := r.core.PortCounters(r.plane.Port(0))
	assert.EqualValues(t, 1, pc.Drops[vis.DropUnknownVSI])
}

func TestEVBPlaneRefusals(t *testing.T) {
	r := newEVBRig(t, bind.EVBConfig{MaxVSIs: 3})
	cases := []struct {
		name string
		v    *vdp.VSI
		code vdp.ErrorCode
	}{
		{"unknown VSI type", request(vdp.TypeAssociate, 9, 1, 10), vdp.CodeOtherFailure},
		{"profile disabled", request(vdp.TypeAssociate, 6, 1, 10), vdp.CodeInsufficientResources},
		{"VID not in the profile", request(vdp.TypeAssociate, 5, 1, 20), vdp.CodeInvalidFilter},
		{"VID-only filter", &vdp.VSI{Mode: vdp.TypeAssociate, TypeID: 5, TypeVersion: 1, IDFormat: vdp.VSIIDUUID, ID: vsiID(1),
			FilterFormat: vdp.FilterVID, Filters: []vdp.Filter{{VID: 10}}}, vdp.CodeInvalidFormat},
	}
	for _, c := range cases {
		a := r.ask(0, c.v)
		assert.Equal(t, c.code, a.Code, c.name)
		assert.Zero(t, a.Mode, c.name)
		_, ok := r.veth(1)
		assert.False(t, ok, c.name)
	}
	// max-ports 1 of profile small: the second VSI of it has no room.
	require.Equal(t, vdp.CodeSuccess, r.ask(0, request(vdp.TypeAssociate, 7, 2, 10)).Code)
	assert.Equal(t, vdp.CodeInsufficientResources, r.ask(0, request(vdp.TypeAssociate, 7, 3, 10)).Code)
	// The MAC/VID of VSI 2 claimed by another VSIID.
	dup := request(vdp.TypeAssociate, 5, 4, 10)
	dup.Filters[0].MAC = vmMAC(2)
	assert.Equal(t, vdp.CodeInvalidFilter, r.ask(0, dup).Code)
	// MaxVSIs 3.
	require.Equal(t, vdp.CodeSuccess, r.ask(0, request(vdp.TypeAssociate, 5, 5, 10)).Code)
	require.Equal(t, vdp.CodeSuccess, r.ask(0, request(vdp.TypeAssociate, 5, 6, 10)).Code)
	assert.Equal(t, vdp.CodeInsufficientResources, r.ask(0, request(vdp.TypeAssociate, 5, 7, 10)).Code)
}

func TestEVBPlaneWildcardAndOrgProfile(t *testing.T) {
	r := newEVBRig(t, bind.EVBConfig{})
	a := r.ask(0, request(vdp.TypeAssociate, 5, 1, 0))
	require.Equal(t, vdp.CodeSuccess, a.Code)
	require.Len(t, a.Filters, 1)
	assert.EqualValues(t, 10, a.Filters[0].VID, "the wildcard filled from the profile's access VLAN")
	v1, _ := r.veth(1)
	vsi, _ := r.core.VSIOf(v1)
	assert.EqualValues(t, 10, vsi.VID)

	// By the niv port-profile TLV: profile db, whatever the type says.
	req := request(vdp.TypeAssociate, 9, 2, 0)
	org, err := vdp.ProfileOrg("db")
	require.NoError(t, err)
	req.Org = []vdp.Org{org}
	a = r.ask(0, req)
	require.Equal(t, vdp.CodeSuccess, a.Code)
	assert.EqualValues(t, 20, a.Filters[0].VID, "a trunk's native VLAN")
	v2, _ := r.veth(2)
	assert.Equal(t, "db", r.store.Snapshot().Bindings[v2])
	req = request(vdp.TypeAssociate, 9, 3, 30)
	req.Org = []vdp.Org{org}
	assert.Equal(t, vdp.CodeSuccess, r.ask(0, req).Code, "an allowed VLAN of the trunk")
	v3, _ := r.veth(3)
	vsi, _ = r.core.VSIOf(v3)
	assert.EqualValues(t, 30, vsi.VLAN)
}

func TestEVBPlaneMigrationAndDeassociate(t *testing.T) {
	r := newEVBRig(t, bind.EVBConfig{})
	require.Equal(t, vdp.CodeSuccess, r.ask(0, request(vdp.TypeAssociate, 5, 1, 10)).Code)
	require.Equal(t, vdp.CodeSuccess, r.ask(0, request(vdp.TypeAssociate, 5, 2, 10)).Code)
	r.send(0, evbFrame(vmMAC(2), vmMAC(1), 10))
	v1, _ := r.veth(1)
	before, _ := r.core.Counters(v1)
	require.EqualValues(t, 1, before.RxFrames)

	// The VM moves to the host behind evb1: its station associates the
	// same VSIID there. The first station hears an unsolicited
	// De-Associate.
	require.Equal(t, vdp.CodeSuccess, r.ask(1, request(vdp.TypeAssociate, 5, 1, 10)).Code)
	select {
	case a := <-r.events[0]:
		assert.Zero(t, a.Mode)
		assert.Equal(t, vdp.ReasonUnsolicited, a.Reason)
	case <-time.After(10 * time.Second):
		t.Fatal("no De-Associate on the first port")
	}
	moved, ok := r.veth(1)
	require.True(t, ok)
	assert.Equal(t, v1, moved, "the same vEth")
	c, _ := r.core.Counters(v1)
	assert.Equal(t, before, c, "its counters kept")
	vsi, _ := r.core.VSIOf(v1)
	assert.Equal(t, r.plane.Port(1), vsi.Port)
	assert.Zero(t, r.send(0, evbFrame(vmMAC(2), vmMAC(1), 10)).Len(), "no longer on evb0")
	assert.Equal(t, 1, r.send(1, evbFrame(vmMAC(2), vmMAC(1), 10)).Len(), "on evb1, to VM 2 on evb0")

	// De-associate: the vEth and its binding go.
	a := r.ask(1, request(vdp.TypeDeAssociate, 5, 1, 10))
	assert.Zero(t, a.Mode)
	require.Eventually(t, func() bool { _, ok := r.veth(1); return !ok }, 5*time.Second, time.Millisecond)
	_, ok = r.core.Counters(v1)
	assert.False(t, ok)
	_, bound := r.store.Snapshot().Bindings[v1]
	assert.False(t, bound)
	assert.Zero(t, r.send(1, evbFrame(vmMAC(2), vmMAC(1), 10)).Len())
	pc, _ := r.core.PortCounters(r.plane.Port(1))
	assert.EqualValues(t, 1, pc.Drops[vis.DropUnknownVSI])
}

// evbCore is a vis core on a store holding evbProfiles.
func evbCore(t *testing.T) (*profile.MemStore, *vis.VIS) {
	store := profile.NewMemStore()
	_, err := store.Update(func(tx *profile.Txn) error { return tx.Configure(evbProfiles) })
	require.NoError(t, err)
	core, err := vis.New(vis.Config{Store: store})
	require.NoError(t, err)
	t.Cleanup(core.Close)
	return store, core
}

// A VSI in the port's PVID is untagged on the link.
func TestEVBPlanePVID(t *testing.T) {
	store, core := evbCore(t)
	w := make(chanWriter, 64)
	plane, err := bind.NewEVBPlane(core, store, bind.EVBConfig{}, bind.EVBPort{Name: "evb0", W: w, ECP: ecp.DefaultConfig([6]byte{2, 0xb, 0, 0, 0, 0}), PVID: 10})
	require.NoError(t, err)
	defer plane.Close()
	for _, c := range []struct {
		id   byte
		vid  uint16
		code vdp.ErrorCode
	}{{1, 0, vdp.CodeSuccess}, {2, 10, vdp.CodeSuccess}} {
		d := plane.Decide(0, mgr, request(vdp.TypeAssociate, 5, c.id, c.vid))
		assert.Equal(t, c.code, d.Code)
		assert.EqualValues(t, 10, d.VID)
		v, ok := plane.VEth(vdp.VSIIDUUID, vsiID(c.id))
		require.True(t, ok)
		vsi, _ := core.VSIOf(v)
		assert.Zero(t, vsi.VID, "untagged on the link")
		assert.EqualValues(t, 10, vsi.VLAN)
	}
	// A trunk that carries VID 10 but whose native VLAN is 20: VID 10
	// untagged would land in VLAN 20.
	req := request(vdp.TypeAssociate, 9, 3, 10)
	org, _ := vdp.ProfileOrg("trunk10")
	req.Org = []vdp.Org{org}
	assert.Equal(t, vdp.CodeInvalidFilter, plane.Decide(0, mgr, req).Code)
}

// TestEVBPlaneLLDP: an evb port with an LLDP agent sends LLDPDUs with a
// bridge EVB TLV; a station's LLDPDU reaches the agent through the Control
// in front of the core (the core never sees it), and the negotiation
// gives the port's VDP timers.
func TestEVBPlaneLLDP(t *testing.T) {
	store := profile.NewMemStore()
	_, err := store.Update(func(tx *profile.Txn) error { return tx.Configure(evbProfiles) })
	require.NoError(t, err)
	core, err := vis.New(vis.Config{Store: store})
	require.NoError(t, err)
	t.Cleanup(core.Close)
	w := make(chanWriter, 64)
	addr := [6]byte{2, 0xb, 0, 0, 0, 1}
	plane, err := bind.NewEVBPlane(core, store, bind.EVBConfig{}, bind.EVBPort{Name: "evb0", W: w, ECP: ecp.DefaultConfig(addr),
		LLDP: &lldp.Config{EVB: evb.TLV{RRCAP: true, R: 3, RTE: 14, RWD: 20, RKA: 17}}})
	require.NoError(t, err)
	t.Cleanup(plane.Close)

	// The agent began: an LLDPDU from the port's address with the bridge TLV.
	var pdu lldp.PDU
	var sent evb.TLV
	select {
	case b := <-w:
		require.NoError(t, pdu.Decode(b))
		assert.Equal(t, addr, pdu.Src)
		require.Len(t, pdu.Org, 1)
		sent, err = evb.Parse(pdu.Org[0])
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("no LLDPDU from the evb port")
	}
	assert.Equal(t, evb.ModeBridge, sent.Mode)
	assert.True(t, sent.RRCAP)
	assert.EqualValues(t, 17, sent.RKA)

	// A station (RKA 20, R 5, RTE 16, RRREQ) heard through the Control.
	st, err := lldp.NewAgent(lldp.Config{Addr: [6]byte{2, 5, 0, 0, 0, 1}, EVB: evb.TLV{Mode: evb.ModeStation, RRREQ: true, R: 5, RTE: 16, RWD: 20, RKA: 20}})
	require.NoError(t, err)
	var frame []byte
	for _, a := range st.Handle(lldp.Event{Kind: lldp.EvBegin}, time.Now()) {
		if a.Kind == lldp.ActTransmit {
			frame = append(frame, a.Frame...)
		}
	}
	require.NotEmpty(t, frame)
	tx := port.NewTx(8, 1<<12)
	n := plane.Core().Process(plane.Port(0), []port.Frame{port.FrameFrom(frame)}, time.Now().UnixNano(), tx)
	assert.Equal(t, 1, n)
	assert.Zero(t, tx.Len())
	pc, _ := core.PortCounters(plane.Port(0))
	assert.Zero(t, pc.RxFrames, "the core never saw the LLDPDU")
	assert.Zero(t, pc.Drops[vis.DropLinkLocal])
	got, peer := plane.LLDP(0).EVB()
	assert.True(t, peer)
	assert.EqualValues(t, 20, got.RKA, "the larger RKA, the station's")
	assert.True(t, got.RRCTR, "reflective relay on: the station asked")
	// The port's ECP speaker retransmits at the negotiated R and RTE, the
	// station's larger ones (802.1Qbg 41.5.5.7).
	c := plane.Speaker(0).Config()
	assert.Equal(t, [2]uint8{16, 5}, [2]uint8{c.RTE, c.MaxRetries}, "speaker RTE, R")
}

// TestEVBPlaneBoundTimers: a VSI bound on a port with an LLDP agent is
// reported with the agent's EVB timers in use (here its own, RKA 22: no
// station TLV heard), which a daemon keeps to time the VSI's restore.
func TestEVBPlaneBoundTimers(t *testing.T) {
	var bound []bind.EVBVEth
	r := newEVBRigLLDP(t, bind.EVBConfig{Bound: func(v bind.EVBVEth) { bound = append(bound, v) }},
		&lldp.Config{EVB: evb.TLV{RRCAP: true, R: 3, RTE: 14, RWD: 20, RKA: 22}})
	a := r.ask(1, request(vdp.TypeAssociate, 5, 4, 0))
	require.Equal(t, vdp.CodeSuccess, a.Code)
	require.Len(t, bound, 1)
	assert.Equal(t, vdp.Timers{R: 3, RTE: 14, RWD: 20, RKA: 22}, bound[0].Timers)
}

// TestEVBPlaneHooks: VEthID numbers a VSI's vEth, Bound hears it bound
// with what a daemon records, Unbound hears it go.
func TestEVBPlaneHooks(t *testing.T) {
	var bound, unbound, asks []bind.EVBVEth
	asked := 0
	r := newEVBRig(t, bind.EVBConfig{
		VEthID: func(v bind.EVBVEth) (profile.VEthID, error) {
			asked++
			asks = append(asks, v)
			return profile.VEthID(40 + int(v.ID[15])), nil
		},
		Bound:   func(v bind.EVBVEth) { bound = append(bound, v) },
		Unbound: func(v bind.EVBVEth) { unbound = append(unbound, v) },
	})
	a := r.ask(0, request(vdp.TypeAssociate, 5, 3, 0))
	require.Equal(t, vdp.CodeSuccess, a.Code)
	v, ok := r.veth(3)
	require.True(t, ok)
	assert.EqualValues(t, 43, v)
	require.Len(t, bound, 1)
	b := bound[0]
	assert.EqualValues(t, 43, b.VEth)
	assert.Equal(t, "web", b.Profile)
	assert.EqualValues(t, 10, b.VID, "the wildcard filled")
	assert.Equal(t, [][6]byte{vmMAC(3)}, b.MACs)
	assert.Equal(t, vdp.DefaultTimers, b.Timers, "no LLDP agent: the plane's timers")
	assert.Equal(t, vsiID(3), b.ID)
	assert.Equal(t, mgr, b.Manager)
	assert.EqualValues(t, 5, b.TypeID)
	vsis := r.plane.VSIs()
	require.Len(t, vsis, 1)
	assert.EqualValues(t, 43, vsis[0].VEth.VEth)
	assert.Equal(t, vdp.TypeAssociate, vsis[0].Mode)

	r.ask(0, request(vdp.TypeDeAssociate, 5, 3, 0))
	require.Eventually(t, func() bool { _, ok := r.veth(3); return !ok }, 5*time.Second, 10*time.Millisecond)
	require.Len(t, unbound, 1)
	assert.EqualValues(t, 43, unbound[0].VEth)
	assert.Equal(t, 1, asked)
	require.Len(t, asks, 1)
	assert.Zero(t, asks[0].VEth, "asked before it has one")
	assert.Equal(t, "web", asks[0].Profile, "with the profile it was admitted to")
	assert.EqualValues(t, 10, asks[0].VID)
	assert.Equal(t, vsiID(3), asks[0].ID)
	assert.Equal(t, [][6]byte{vmMAC(3)}, asks[0].MACs)
	assert.Empty(t, r.plane.VSIs())
}

// TestEVBPlaneClock: with EVBConfig.Clock, the plane's timers follow that
// clock and fire on Tick: the VIS's unacknowledged answer is sent again
// after 10 µs × 2^RTE, and a VSI with no keep-alive is de-associated
// (unsolicited De-Associate, vEth removed) after the bridge's keep-alive
// timeout — neither a nanosecond earlier.
func TestEVBPlaneClock(t *testing.T) {
	store, core := evbCore(t)
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	out := make(chanWriter, 16)
	cfg := ecp.DefaultConfig([6]byte{2, 0xb, 0, 0, 0, 0})
	cfg.RTE = 20
	tm := vdp.Timers{R: 3, RTE: 20, RWD: 20, RKA: 20}
	plane, err := bind.NewEVBPlane(core, store, bind.EVBConfig{Timers: tm, Clock: clock},
		bind.EVBPort{Name: "evb0", W: out, ECP: cfg})
	require.NoError(t, err)
	defer plane.Close()

	st := [6]byte{2, 5, 0, 0, 0, 0}
	ncb := [6]byte{0x01, 0x80, 0xc2, 0, 0, 0}
	pdu, err := (&vdp.PDU{ManagerID: mgr, VSIs: []vdp.VSI{*request(vdp.TypeAssociate, 5, 1, 10)}}).AppendBinary(nil)
	require.NoError(t, err)
	req, err := ecp.AppendFrame(nil, ncb, st, ecp.Header{Version: 1, Op: ecp.OpRequest, Subtype: ecp.SubtypeVDP, Seq: 1}, pdu, true)
	require.NoError(t, err)
	plane.Speaker(0).Receive(req)
	got := func() (frames [][]byte) {
		for {
			select {
			case f := <-out:
				frames = append(frames, f)
			default:
				return frames
			}
		}
	}
	first := got()
	require.Len(t, first, 2, "the ack and the answer")
	answer := first[1]
	_, ok := plane.VEth(vdp.VSIIDUUID, vsiID(1))
	require.True(t, ok)

	now = now.Add(ecp.AckTimeout(20) - time.Nanosecond)
	plane.Tick()
	assert.Empty(t, got())
	now = now.Add(time.Nanosecond)
	plane.Tick()
	assert.Equal(t, [][]byte{answer}, got(), "the answer again, same sequence number")

	ack, err := ecp.AppendFrame(nil, ncb, st, ecp.Header{Version: 1, Op: ecp.OpAck, Subtype: ecp.SubtypeVDP, Seq: 1}, nil, true)
	require.NoError(t, err)
	plane.Speaker(0).Receive(ack)
	now = now.Add(tm.BridgeKeepAlive() - ecp.AckTimeout(20) - time.Nanosecond)
	plane.Tick()
	assert.Empty(t, got())
	_, ok = plane.VEth(vdp.VSIIDUUID, vsiID(1))
	require.True(t, ok)
	now = now.Add(time.Nanosecond)
	plane.Tick()
	sent := got()
	require.Len(t, sent, 1, "the unsolicited De-Associate")
	p, err := ecp.Decode(sent[0])
	require.NoError(t, err)
	var d vdp.PDU
	require.NoError(t, d.Decode(p.Payload))
	require.Len(t, d.VSIs, 1)
	assert.Equal(t, vdp.TypeDeAssociate, d.VSIs[0].Mode)
	assert.Zero(t, d.VSIs[0].Status)
	_, ok = plane.VEth(vdp.VSIIDUUID, vsiID(1))
	assert.False(t, ok, "its vEth removed")
}

// TestEVBPlaneTaken: Taken — another VIS of the fleet took the VSI —
// ends it here with an unsolicited De-Associate to its station; its vEth
// leaves the core and the store's bindings, and Unbound hears it with
// reason ReasonTaken and what the core had counted on it.
func TestEVBPlaneTaken(t *testing.T) {
	var unbound []bind.EVBVEth
	r := newEVBRig(t, bind.EVBConfig{Unbound: func(v bind.EVBVEth) { unbound = append(unbound, v) }})
	require.Equal(t, vdp.CodeSuccess, r.ask(0, request(vdp.TypeAssociate, 5, 1, 10)).Code)
	r.send(0, evbFrame(vmMAC(2), vmMAC(1), 10))
	r.send(0, evbFrame(vmMAC(2), vmMAC(1), 10))
	v1, ok := r.veth(1)
	require.True(t, ok)
	assert.False(t, r.plane.Taken(vdp.VSIIDUUID, vsiID(9)), "no such VSI")

	require.True(t, r.plane.Taken(vdp.VSIIDUUID, vsiID(1)))
	select {
	case a := <-r.events[0]:
		assert.Zero(t, a.Mode)
		assert.Equal(t, vdp.ReasonUnsolicited, a.Reason, "the station hears the bridge's De-Associate")
	case <-time.After(10 * time.Second):
		t.Fatal("no De-Associate to the station")
	}
	require.Eventually(t, func() bool { _, ok := r.veth(1); return !ok }, 5*time.Second, time.Millisecond)
	_, ok = r.core.Counters(v1)
	assert.False(t, ok, "the vEth left the core")
	_, bound := r.store.Snapshot().Bindings[v1]
	assert.False(t, bound)
	require.Len(t, unbound, 1)
	assert.Equal(t, v1, unbound[0].VEth)
	assert.Equal(t, vdp.ReasonTaken, unbound[0].Reason)
	assert.EqualValues(t, 2, unbound[0].Counters.RxFrames, "its last counts")
	assert.EqualValues(t, 1, r.plane.BridgeCounters().Taken)
	assert.Zero(t, r.send(0, evbFrame(vmMAC(2), vmMAC(1), 10)).Len(), "its frames are dropped now")
}

// TestEVBPlaneIDPending: a VEthID that answers vic.ErrIDPending (a fleet
// registry's round trip) defers the request — the machine does not
// answer, and no vEth is made — until IDReady, when the plane asks again,
// binds the VSI and the station gets its answer. An IDReady later than
// the resource wait delay (10·2^14 µs = 164 ms here) finds the station
// answered "unable to contact the VSI manager" (code 3): the late id is
// bound and at once undone, and the core has no vEth for a VSI the
// machine does not have.
func TestEVBPlaneIDPending(t *testing.T) {
	var mu sync.Mutex
	ready := map[vdp.VSIID]bool{}
	var unbound []bind.EVBVEth
	r := newEVBRig(t, bind.EVBConfig{
		Timers: vdp.Timers{R: 3, RTE: 8, RWD: 14, RKA: 20},
		VEthID: func(v bind.EVBVEth) (profile.VEthID, error) {
			mu.Lock()
			defer mu.Unlock()
			if !ready[v.ID] {
				return 0, vic.ErrIDPending
			}
			return profile.VEthID(70 + int(v.ID[15])), nil
		},
		Unbound: func(v bind.EVBVEth) { unbound = append(unbound, v) },
	})
	setReady := func(b byte) {
		mu.Lock()
		ready[vsiID(b)] = true
		mu.Unlock()
	}
	require.NoError(t, r.st[0].Request(mgr, request(vdp.TypeAssociate, 5, 1, 10)))
	select {
	case a := <-r.events[0]:
		t.Fatalf("answered before the id was there: %+v", a)
	case <-time.After(50 * time.Millisecond):
	}
	_, ok := r.veth(1)
	assert.False(t, ok, "no vEth while its id is pending")
	setReady(1)
	r.plane.IDReady(vdp.VSIIDUUID, vsiID(1))
	select {
	case a := <-r.events[0]:
		assert.Equal(t, vdp.CodeSuccess, a.Code)
		assert.Equal(t, vdp.TypeAssociate, a.Mode)
	case <-time.After(10 * time.Second):
		t.Fatal("no answer after IDReady")
	}
	v, ok := r.veth(1)
	require.True(t, ok)
	assert.EqualValues(t, 71, v)
	r.send(0, evbFrame(vmMAC(9), vmMAC(1), 10))
	c, _ := r.core.Counters(v)
	assert.EqualValues(t, 1, c.RxFrames, "its frames are taken in on its vEth")
	r.plane.IDReady(vdp.VSIIDUUID, vsiID(1)) // nothing pending: nothing happens
	_, ok = r.veth(1)
	assert.True(t, ok)

	// Too late: the machine answered code 3 after the resource wait delay.
	require.NoError(t, r.st[0].Request(mgr, request(vdp.TypeAssociate, 5, 2, 10)))
	select {
	case a := <-r.events[0]:
		assert.Equal(t, vdp.CodeNoVSIManager, a.Code)
	case <-time.After(10 * time.Second):
		t.Fatal("no answer after the resource wait delay")
	}
	setReady(2)
	r.plane.IDReady(vdp.VSIIDUUID, vsiID(2))
	_, ok = r.veth(2)
	assert.False(t, ok, "the late id is undone")
	_, ok = r.core.Counters(72)
	assert.False(t, ok, "no vEth in the core")
	_, bound := r.store.Snapshot().Bindings[72]
	assert.False(t, bound)
	require.Len(t, unbound, 1)
	assert.EqualValues(t, 72, unbound[0].VEth)
	assert.EqualValues(t, 1, r.plane.BridgeCounters().ResourceTimeouts)
}
