package lldp_test

import (
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vdp/evb"
	"github.com/nivkit/niv/vdp/lldp"
)

var t0 = time.Unix(1_000_000, 0)

func evbOf(t *testing.T, frame []byte) string {
	t.Helper()
	var p lldp.PDU
	require.NoError(t, p.Decode(frame))
	for _, v := range p.Org {
		if _, err := evb.Parse(v); err == nil {
			return hex.EncodeToString(v[4:])
		}
	}
	t.Fatal("no EVB TLV")
	return ""
}

func frames(acts []lldp.Action) [][]byte {
	var out [][]byte
	for _, a := range acts {
		if a.Kind == lldp.ActTransmit {
			out = append(out, append([]byte(nil), a.Frame...))
		}
	}
	return out
}

// TestAgentsReproduceLLDPad: a niv bridge agent and a niv station agent
// configured as lldpad was in the live run (RTE 14, R 3, RWD 20, RKA 20;
// bridge RRCAP, station RRREQ) send the EVB TLV bytes lldpad sent before
// and after the exchange (vdp-ecp.md §5), and both end with R 3, RTE 14,
// RWD 20, RKA 20 in use.
func TestAgentsReproduceLLDPad(t *testing.T) {
	br, err := lldp.NewAgent(lldp.Config{Addr: [6]byte{2, 0, 0, 0, 0, 2},
		EVB: evb.TLV{RRCAP: true, R: 3, RTE: 14, Mode: evb.ModeBridge, RWD: 20, RKA: 20}})
	require.NoError(t, err)
	st, err := lldp.NewAgent(lldp.Config{Addr: [6]byte{2, 0, 0, 0, 0, 1},
		EVB: evb.TLV{RRREQ: true, R: 3, RTE: 14, Mode: evb.ModeStation, RWD: 20, RKA: 20}})
	require.NoError(t, err)

	bf := frames(br.Handle(lldp.Event{Kind: lldp.EvBegin}, t0))
	require.Len(t, bf, 1)
	assert.Equal(t, "02006e5414", evbOf(t, bf[0]), "bridge before hearing the station")
	assert.Len(t, bf[0], 60)
	sf := frames(st.Handle(lldp.Event{Kind: lldp.EvBegin}, t0))
	assert.Equal(t, "00076e9414", evbOf(t, sf[0]), "station before hearing the bridge")

	acts := st.Handle(lldp.Event{Kind: lldp.EvFrame, Frame: bf[0]}, t0)
	require.Equal(t, lldp.ActEVB, acts[0].Kind)
	assert.True(t, acts[0].Peer)
	sf = frames(acts)
	require.Len(t, sf, 1, "a change is sent at once")
	assert.Equal(t, "02046eb434", evbOf(t, sf[0]), "station, bridge heard: bridge octet copied, ROL set")
	// Exchange until neither has anything new to send.
	var lastB, lastS string
	for i := 0; len(sf) > 0 && i < 10; i++ {
		lastS = evbOf(t, sf[0])
		bf = frames(br.Handle(lldp.Event{Kind: lldp.EvFrame, Frame: sf[0]}, t0))
		if len(bf) == 0 {
			break
		}
		lastB = evbOf(t, bf[0])
		sf = frames(st.Handle(lldp.Event{Kind: lldp.EvFrame, Frame: bf[0]}, t0))
	}
	assert.Equal(t, "03056e7434", lastB, "bridge after")
	assert.Equal(t, "03056eb434", lastS, "station after")
	for _, a := range []*lldp.Agent{br, st} {
		e, peer := a.EVB()
		assert.True(t, peer)
		assert.Equal(t, [4]uint8{3, 14, 20, 20}, [4]uint8{e.R, e.RTE, e.RWD, e.RKA})
	}
}

// TestAgentTimers: fast transmissions after BEGIN, then the tx interval;
// the peer ages out after its TTL and the EVB parameters fall back to the
// local ones; a TTL-0 LLDPDU removes the peer at once; shutdown sends TTL
// 0.
func TestAgentTimers(t *testing.T) {
	a, err := lldp.NewAgent(lldp.Config{Addr: [6]byte{2, 0, 0, 0, 0, 2}, TxInterval: 30 * time.Second,
		EVB: evb.TLV{R: 3, RTE: 8, Mode: evb.ModeBridge, RWD: 20, RKA: 20}})
	require.NoError(t, err)
	assert.EqualValues(t, 121, a.TTL())
	now := t0
	var sent []time.Duration
	a.Handle(lldp.Event{Kind: lldp.EvBegin}, now)
	sent = append(sent, 0)
	for range 8 {
		d, ok := a.Deadline()
		require.True(t, ok)
		now = d
		if len(frames(a.Handle(lldp.Event{Kind: lldp.EvTimer}, now))) == 1 {
			sent = append(sent, now.Sub(t0))
		}
	}
	assert.Equal(t, []time.Duration{0, 1e9, 2e9, 3e9, 4e9, 34e9, 64e9, 94e9, 124e9}, sent)

	peer, _ := lldp.AppendFrame(nil, lldp.NearestCustomerBridge, [6]byte{2, 0, 0, 0, 0, 1}, []byte{4, 2, 0, 0, 0, 0, 1},
		[]byte{3, 2, 0, 0, 0, 0, 1}, 5, evb.TLV{Mode: evb.ModeStation, R: 5, RTE: 10, RWD: 21, RKA: 22, RRREQ: true}.AppendTLV(nil))
	acts := a.Handle(lldp.Event{Kind: lldp.EvFrame, Frame: peer}, now)
	require.NotEmpty(t, acts)
	assert.Equal(t, lldp.ActEVB, acts[0].Kind)
	assert.Equal(t, [4]uint8{5, 10, 21, 22}, [4]uint8{acts[0].EVB.R, acts[0].EVB.RTE, acts[0].EVB.RWD, acts[0].EVB.RKA})
	d, _ := a.Deadline()
	assert.Equal(t, now.Add(time.Second), d, "a change is followed by fast transmissions")
	// Age-out 5 s later.
	var lost bool
	for i := 0; i < 10 && !lost; i++ {
		d, _ = a.Deadline()
		for _, x := range a.Handle(lldp.Event{Kind: lldp.EvTimer}, d) {
			if x.Kind == lldp.ActEVB && !x.Peer {
				lost = true
				assert.Equal(t, now.Add(5*time.Second), d)
				assert.EqualValues(t, 8, x.EVB.RTE)
			}
		}
	}
	assert.True(t, lost)
	assert.EqualValues(t, 1, a.Counters().AgeoutsTotal)

	a.Handle(lldp.Event{Kind: lldp.EvFrame, Frame: peer}, d)
	bye := append([]byte(nil), peer...)
	bye[14+9+9+2] = 0 // the TTL value
	bye[14+9+9+3] = 0
	acts = a.Handle(lldp.Event{Kind: lldp.EvFrame, Frame: bye}, d)
	require.NotEmpty(t, acts)
	assert.False(t, acts[0].Peer)
	assert.EqualValues(t, 1, a.Counters().ShutdownReceived)

	f := frames(a.Handle(lldp.Event{Kind: lldp.EvShutdown}, d))
	require.Len(t, f, 1)
	var p lldp.PDU
	require.NoError(t, p.Decode(f[0]))
	assert.Zero(t, p.TTL)
	_, ok := a.Deadline()
	assert.False(t, ok)
}

// TestDecodeErrors: frames the agent discards.
func TestDecodeErrors(t *testing.T) {
	var p lldp.PDU
	assert.ErrorIs(t, p.Decode([]byte{1, 2}), lldp.ErrShortBuffer)
	good, _ := lldp.AppendFrame(nil, lldp.NearestCustomerBridge, [6]byte{2}, []byte{4, 1}, []byte{3, 1}, 9)
	require.NoError(t, p.Decode(good))
	bad := append([]byte(nil), good...)
	bad[12] = 0x08
	assert.ErrorIs(t, p.Decode(bad), lldp.ErrEtherType)
	bad = append([]byte(nil), good[:14]...)
	bad = append(bad, 0x04, 0x02, 3, 1) // Port ID first
	assert.ErrorIs(t, p.Decode(bad), lldp.ErrMandatory)
	bad = append([]byte(nil), good[:18]...)
	bad = append(bad, 0x04, 0x09, 3)
	assert.ErrorIs(t, p.Decode(bad), lldp.ErrShortBuffer)
}

// TestAgentNeighbor: the agent keeps what the peer's last LLDPDU said —
// its source, Chassis ID, Port ID, TTL and System Name (802.1AB 8.5.2,
// 8.5.3, 8.5.4, 8.5.6) — with or without an EVB TLV; a newer LLDPDU
// replaces it, and it goes when the TTL runs out (counted as an ageout)
// or a TTL-0 LLDPDU says the peer is shutting down. Receiving allocates
// nothing once the buffers have grown.
func TestAgentNeighbor(t *testing.T) {
	br, err := lldp.NewAgent(lldp.Config{Addr: [6]byte{2, 0, 0, 0, 0, 2}, EVB: evb.TLV{RRCAP: true, R: 3, RTE: 14, Mode: evb.ModeBridge, RWD: 20, RKA: 20}})
	require.NoError(t, err)
	br.Handle(lldp.Event{Kind: lldp.EvBegin}, t0)
	_, ok := br.Neighbor()
	assert.False(t, ok, "nobody heard yet")

	src := [6]byte{0x52, 0x54, 0, 0xaa, 0xbb, 0x01}
	chassis := append([]byte{lldp.ChassisMAC}, src[:]...)
	portID := append([]byte{lldp.PortIfName}, "eth0"...)
	name := "kvm-host-a"
	sysName := append([]byte{lldp.TypeSystemName << 1, byte(len(name))}, name...)
	evbTLV := evb.TLV{RRREQ: true, R: 3, RTE: 14, Mode: evb.ModeStation, RWD: 20, RKA: 20}.AppendTLV(nil)
	fr, err := lldp.AppendFrame(nil, lldp.NearestCustomerBridge, src, chassis, portID, 120, sysName, evbTLV)
	require.NoError(t, err)
	// The bytes as 802.1AB lays them out: chassis TLV 02 07 04 <mac>, port
	// TLV 04 05 05 "eth0", TTL 06 02 00 78, System Name 0a 0a "kvm-host-a".
	assert.Equal(t, "020704525400aabb01"+"04050565746830"+"06020078"+"0a0a"+hex.EncodeToString([]byte(name)), hex.EncodeToString(fr[14:14+9+7+4+12]))

	br.Handle(lldp.Event{Kind: lldp.EvFrame, Frame: fr}, t0)
	n, ok := br.Neighbor()
	require.True(t, ok)
	assert.Equal(t, src, n.Src)
	assert.Equal(t, chassis, n.ChassisID)
	assert.Equal(t, portID, n.PortID)
	assert.EqualValues(t, 120, n.TTL)
	assert.Equal(t, name, string(n.SystemName))
	assert.Equal(t, t0, n.Heard)

	// A newer LLDPDU without System Name or EVB TLV replaces it all.
	fr2, err := lldp.AppendFrame(nil, lldp.NearestCustomerBridge, src, chassis, []byte{lldp.PortMAC, 1, 2, 3, 4, 5, 6}, 30)
	require.NoError(t, err)
	t1 := t0.Add(10 * time.Second)
	br.Handle(lldp.Event{Kind: lldp.EvFrame, Frame: fr2}, t1)
	n, ok = br.Neighbor()
	require.True(t, ok)
	assert.Equal(t, []byte{lldp.PortMAC, 1, 2, 3, 4, 5, 6}, n.PortID)
	assert.EqualValues(t, 30, n.TTL)
	assert.Empty(t, n.SystemName)
	assert.Equal(t, t1, n.Heard)

	allocs := testing.AllocsPerRun(100, func() { br.Handle(lldp.Event{Kind: lldp.EvFrame, Frame: fr}, t1) })
	assert.Zero(t, allocs, "receiving an LLDPDU")
	br.Handle(lldp.Event{Kind: lldp.EvFrame, Frame: fr2}, t1)

	// TTL 30 from t1: aged out at t1+30 s (the EVB peer's TTL of 120 s
	// from t1 runs out later and counts as the same remote system's).
	d, ok := br.Deadline()
	require.True(t, ok)
	assert.False(t, d.After(t1.Add(30*time.Second)))
	br.Handle(lldp.Event{Kind: lldp.EvTimer}, t1.Add(30*time.Second))
	_, ok = br.Neighbor()
	assert.False(t, ok, "aged out")
	assert.EqualValues(t, 1, br.Counters().AgeoutsTotal)

	// Heard again, then a shutdown LLDPDU.
	br.Handle(lldp.Event{Kind: lldp.EvFrame, Frame: fr}, t1)
	_, ok = br.Neighbor()
	require.True(t, ok)
	bye, err := lldp.AppendFrame(nil, lldp.NearestCustomerBridge, src, chassis, portID, 0)
	require.NoError(t, err)
	br.Handle(lldp.Event{Kind: lldp.EvFrame, Frame: bye}, t1)
	_, ok = br.Neighbor()
	assert.False(t, ok, "shut down")
}
