package ecp_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vdp/ecp"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func newMachine(t testing.TB, cfg ecp.Config) *ecp.Machine {
	t.Helper()
	m, err := ecp.NewMachine(cfg)
	require.NoError(t, err)
	return m
}

func kinds(acts []ecp.Action) []ecp.ActionKind {
	out := []ecp.ActionKind{}
	for _, a := range acts {
		out = append(out, a.Kind)
	}
	return out
}

func header(t testing.TB, fr []byte) ecp.Header {
	t.Helper()
	p, err := ecp.Decode(fr)
	require.NoError(t, err)
	return p.Header
}

// TestTxSequence: the first ULPDU after BEGIN has sequence 1; one ULPDU is
// outstanding at a time; the next goes out when the matching ACK arrives;
// an ACK that does not match the outstanding sequence is ignored.
func TestTxSequence(t *testing.T) {
	m := newMachine(t, ecp.DefaultConfig(station))
	acts := m.Handle(ecp.Event{Kind: ecp.EvSend, Subtype: ecp.SubtypePECSP, Payload: []byte("one")}, t0)
	require.Equal(t, []ecp.ActionKind{ecp.ActTransmit}, kinds(acts))
	p, err := ecp.Decode(acts[0].Frame)
	require.NoError(t, err)
	assert.Equal(t, ecp.Header{Version: 1, Op: ecp.OpRequest, Subtype: ecp.SubtypePECSP, Seq: 1}, p.Header)
	assert.Len(t, acts[0].Frame, ecp.MinFrameLen, "requests are padded to 60 bytes")
	assert.Equal(t, "one", string(p.Payload[:3]))
	assert.Equal(t, ecp.TxWaitForAck, m.TxState())
	d, ok := m.Deadline()
	require.True(t, ok)
	assert.Equal(t, t0.Add(2560*time.Microsecond), d)

	// A second ULPDU waits.
	acts = m.Handle(ecp.Event{Kind: ecp.EvSend, Subtype: ecp.SubtypeVDP, Payload: []byte("two")}, t0)
	assert.Empty(t, acts)
	assert.Equal(t, 2, m.Queued())

	// A stray ACK (wrong sequence), and one with the right sequence but
	// the wrong subtype, change nothing.
	assert.Empty(t, m.Handle(ecp.Event{Kind: ecp.EvFrame, Frame: frame(t, bridge, "89 40 14 02 00 02")}, t0))
	assert.Empty(t, m.Handle(ecp.Event{Kind: ecp.EvFrame, Frame: frame(t, bridge, "89 40 14 01 00 01")}, t0))
	assert.EqualValues(t, 2, m.Counters().UnexpectedAcks)

	// The matching ACK confirms 1 and sends 2 at once.
	acts = m.Handle(ecp.Event{Kind: ecp.EvFrame, Frame: frame(t, bridge, "89 40 14 02 00 01")}, t0.Add(time.Microsecond))
	require.Equal(t, []ecp.ActionKind{ecp.ActConfirmed, ecp.ActTransmit}, kinds(acts))
	assert.EqualValues(t, 1, acts[0].Seq)
	assert.Equal(t, ecp.Header{Version: 1, Subtype: ecp.SubtypeVDP, Seq: 2}, header(t, acts[1].Frame))

	// Its ACK, again: the first is taken, a duplicate is unexpected.
	acts = m.Handle(ecp.Event{Kind: ecp.EvFrame, Frame: frame(t, bridge, "89 40 14 01 00 02")}, t0)
	require.Equal(t, []ecp.ActionKind{ecp.ActConfirmed}, kinds(acts))
	assert.Empty(t, m.Handle(ecp.Event{Kind: ecp.EvFrame, Frame: frame(t, bridge, "89 40 14 01 00 02")}, t0))
	assert.Equal(t, ecp.TxWaitForRequest, m.TxState())
	_, ok = m.Deadline()
	assert.False(t, ok)
	c := m.Counters()
	assert.EqualValues(t, 2, c.TxPDUs)
	assert.EqualValues(t, 5, c.RxAcks)
	assert.EqualValues(t, 3, c.UnexpectedAcks)
}

// TestTxWrapSkipsZero: after 65535 the sequence goes on at 1 (lldpad
// skips 0 on wrap).
func TestTxWrapSkipsZero(t *testing.T) {
	m := newMachine(t, ecp.DefaultConfig(station))
	var last uint16
	for i := 0; i < 65536; i++ {
		acts := m.Handle(ecp.Event{Kind: ecp.EvSend, Subtype: 1, Payload: []byte{1}}, t0)
		require.Len(t, acts, 1)
		h := header(t, acts[0].Frame)
		require.NotZero(t, h.Seq)
		if i > 0 {
			want := last + 1
			if want == 0 {
				want = 1
			}
			require.Equal(t, want, h.Seq)
		}
		last = h.Seq
		ack := h
		ack.Op = ecp.OpAck
		fr, err := ecp.AppendFrame(nil, ecp.NearestCustomerBridge, bridge, ack, nil, false)
		require.NoError(t, err)
		require.Equal(t, []ecp.ActionKind{ecp.ActConfirmed}, kinds(m.Handle(ecp.Event{Kind: ecp.EvFrame, Frame: fr}, t0)))
	}
	assert.EqualValues(t, 1, last)
}

// TestTxRetriesThenFails: with R retries the ULPDU goes out R+1 times, one
// acknowledgement timer apart, then it is dropped with ErrNoAck and the
// next queued one is sent with the next sequence number.
func TestTxRetriesThenFails(t *testing.T) {
	for _, r := range []uint8{0, 3, 7} {
		cfg := ecp.DefaultConfig(station)
		cfg.MaxRetries, cfg.RTE = r, 14
		m := newMachine(t, cfg)
		T := ecp.AckTimeout(14)
		now := t0
		acts := m.Handle(ecp.Event{Kind: ecp.EvSend, Subtype: 2, Payload: []byte("lost")}, now)
		require.Len(t, acts, 1)
		m.Handle(ecp.Event{Kind: ecp.EvSend, Subtype: 2, Payload: []byte("next")}, now)
		for i := 1; i <= int(r); i++ {
			// Early timer events do nothing.
			require.Empty(t, m.Handle(ecp.Event{Kind: ecp.EvTimer}, now.Add(T-time.Nanosecond)))
			now = now.Add(T)
			acts = m.Handle(ecp.Event{Kind: ecp.EvTimer}, now)
			require.Equal(t, []ecp.ActionKind{ecp.ActTransmit}, kinds(acts), "retry %d", i)
			assert.EqualValues(t, 1, header(t, acts[0].Frame).Seq, "a retransmission keeps its sequence number")
		}
		now = now.Add(T)
		acts = m.Handle(ecp.Event{Kind: ecp.EvTimer}, now)
		require.Equal(t, []ecp.ActionKind{ecp.ActFailed, ecp.ActTransmit}, kinds(acts))
		assert.ErrorIs(t, acts[0].Err, ecp.ErrNoAck)
		assert.Equal(t, "lost", string(acts[0].Payload))
		assert.EqualValues(t, 2, header(t, acts[1].Frame).Seq)
		c := m.Counters()
		assert.EqualValues(t, r+2, c.TxPDUs)
		assert.EqualValues(t, r, c.Retransmits)
		assert.EqualValues(t, 1, c.TxFailures)
	}
}

// TestRxAckEveryRequestDeliverOnce follows openlldp's ecp22 tests 2 and 3
// (VECTORS.md §6a): three requests with one sequence number get three
// ACKs "14 01 12 24" and one delivery; three with different numbers get
// three ACKs and three deliveries.
func TestRxAckEveryRequestDeliverOnce(t *testing.T) {
	m := newMachine(t, ecp.Config{Addr: station, NoPad: true})
	for i := 0; i < 3; i++ {
		acts := m.Handle(ecp.Event{Kind: ecp.EvFrame, Frame: frame(t, bridge, "89 40 10 01 12 24 00 00")}, t0)
		if i == 0 {
			require.Equal(t, []ecp.ActionKind{ecp.ActTransmit, ecp.ActDeliver}, kinds(acts))
			assert.Equal(t, []byte{0, 0}, acts[1].Payload)
		} else {
			require.Equal(t, []ecp.ActionKind{ecp.ActTransmit}, kinds(acts))
		}
		assert.Equal(t, frame(t, station, "89 40 14 01 12 24"), acts[0].Frame)
	}
	for i, h := range []string{"10 01 12 24 aa bb cc dd 00 00", "10 01 12 25 00 11 22 33 00 00", "10 01 12 26 44 55 66 77 00 00"} {
		acts := m.Handle(ecp.Event{Kind: ecp.EvFrame, Frame: frame(t, bridge, "89 40 "+h)}, t0)
		if i == 0 { // 0x1224 again: still a duplicate of the last one
			require.Equal(t, []ecp.ActionKind{ecp.ActTransmit}, kinds(acts))
		} else {
			require.Equal(t, []ecp.ActionKind{ecp.ActTransmit, ecp.ActDeliver}, kinds(acts))
		}
		assert.Equal(t, frame(t, station, "89 40 14 01 12 2"+string("456"[i])), acts[0].Frame)
	}
	c := m.Counters()
	assert.EqualValues(t, 6, c.RxPDUs)
	assert.EqualValues(t, 6, c.TxAcks)
	assert.EqualValues(t, 3, c.Delivered)
	assert.EqualValues(t, 3, c.RxDuplicates)
}

// TestRxDropsBadFrames follows openlldp's ecp22 tests 4 and 5: version 15
// and subtype 15 get no ACK; a valid request after them does. Operations
// 2 and 3 and short frames are dropped as well, each counted.
func TestRxDropsBadFrames(t *testing.T) {
	m := newMachine(t, ecp.Config{Addr: station, NoPad: true})
	for _, h := range []string{"f0 01 12 24 aa bb cc dd 00 00", "10 0f 12 25 aa bb cc dd 00 00", "18 01 12 26", "1c 01 12 26", "10 01 12"} {
		acts := m.Handle(ecp.Event{Kind: ecp.EvFrame, Frame: frame(t, bridge, "89 40 "+h)}, t0)
		require.Equal(t, []ecp.ActionKind{ecp.ActDropped}, kinds(acts), h)
	}
	acts := m.Handle(ecp.Event{Kind: ecp.EvFrame, Frame: frame(t, bridge, "89 40 10 01 12 27 44 55 66 77 00 00")}, t0)
	require.Equal(t, []ecp.ActionKind{ecp.ActTransmit, ecp.ActDeliver}, kinds(acts))
	assert.Equal(t, frame(t, station, "89 40 14 01 12 27"), acts[0].Frame)
	c := m.Counters()
	assert.EqualValues(t, 5, c.Dropped)
	assert.EqualValues(t, 1, c.DroppedVersion)
	assert.EqualValues(t, 1, c.DroppedSubtype)
	assert.EqualValues(t, 2, c.DroppedOperation)
	assert.EqualValues(t, 1, c.DroppedMalformed)
	assert.EqualValues(t, 1, c.RxPDUs)
}

// TestRxFirstAfterBegin: after BEGIN (port down/up, openlldp ecp22 test
// 30) the first request is new even when its sequence number equals the
// last one delivered before.
func TestRxFirstAfterBegin(t *testing.T) {
	m := newMachine(t, ecp.DefaultConfig(station))
	req := frame(t, bridge, "89 40 10 01 12 30 44 55 66 77 00 00")
	require.Len(t, m.Handle(ecp.Event{Kind: ecp.EvFrame, Frame: req}, t0), 2)
	require.Len(t, m.Handle(ecp.Event{Kind: ecp.EvFrame, Frame: req}, t0), 1)
	m.Handle(ecp.Event{Kind: ecp.EvBegin}, t0)
	assert.Equal(t, ecp.RxFirst, m.RxState())
	assert.Equal(t, []ecp.ActionKind{ecp.ActTransmit, ecp.ActDeliver}, kinds(m.Handle(ecp.Event{Kind: ecp.EvFrame, Frame: req}, t0)))
}

// TestBeginResendsOutstanding: BEGIN loses nothing accepted: the
// outstanding ULPDU goes out again, renumbered from 1.
func TestBeginResendsOutstanding(t *testing.T) {
	m := newMachine(t, ecp.DefaultConfig(station))
	m.Handle(ecp.Event{Kind: ecp.EvSend, Subtype: 2, Payload: []byte("a")}, t0)
	m.Handle(ecp.Event{Kind: ecp.EvSend, Subtype: 2, Payload: []byte("b")}, t0)
	ack := frame(t, bridge, "89 40 14 02 00 01")
	m.Handle(ecp.Event{Kind: ecp.EvFrame, Frame: ack}, t0) // confirms a, sends b as 2
	acts := m.Handle(ecp.Event{Kind: ecp.EvBegin}, t0)
	require.Equal(t, []ecp.ActionKind{ecp.ActTransmit}, kinds(acts))
	p, err := ecp.Decode(acts[0].Frame)
	require.NoError(t, err)
	assert.EqualValues(t, 1, p.Seq)
	assert.Equal(t, byte('b'), p.Payload[0])
}

func TestQueueLimits(t *testing.T) {
	cfg := ecp.DefaultConfig(station)
	cfg.QueueLen = 2
	m := newMachine(t, cfg)
	for i := 0; i < 3; i++ { // the outstanding one and two waiting
		for _, a := range m.Handle(ecp.Event{Kind: ecp.EvSend, Subtype: 2, Payload: []byte{byte(i)}}, t0) {
			require.NotEqual(t, ecp.ActFailed, a.Kind)
		}
	}
	acts := m.Handle(ecp.Event{Kind: ecp.EvSend, Subtype: 2, Payload: []byte{9}}, t0)
	require.Len(t, acts, 1)
	assert.ErrorIs(t, acts[0].Err, ecp.ErrQueueFull)
	acts = m.Handle(ecp.Event{Kind: ecp.EvSend, Subtype: 2, Payload: make([]byte, ecp.MaxULPDU+1)}, t0)
	assert.ErrorIs(t, acts[0].Err, ecp.ErrTooLong)
	acts = m.Handle(ecp.Event{Kind: ecp.EvSend, Subtype: 1024, Payload: nil}, t0)
	assert.ErrorIs(t, acts[0].Err, ecp.ErrRange)
	assert.EqualValues(t, 3, m.Counters().TxRefused)
	assert.Equal(t, 3, m.Queued())
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []ecp.Config{{RTE: 32}, {MaxRetries: 8}, {QueueLen: -1}, {Subtypes: []ecp.Subtype{1024}}} {
		_, err := ecp.NewMachine(cfg)
		assert.ErrorIs(t, err, ecp.ErrRange)
	}
}

// TestMachineNoAllocs: steady-state sending, acknowledging and receiving
// allocate nothing.
func TestMachineNoAllocs(t *testing.T) {
	a := newMachine(t, ecp.DefaultConfig(station))
	b := newMachine(t, ecp.DefaultConfig(bridge))
	payload := make([]byte, 100)
	buf := make([]byte, 0, 1600)
	step := func() {
		tx := a.Handle(ecp.Event{Kind: ecp.EvSend, Subtype: 2, Payload: payload}, t0)
		buf = append(buf[:0], tx[0].Frame...)
		acks := b.Handle(ecp.Event{Kind: ecp.EvFrame, Frame: buf}, t0)
		buf = append(buf[:0], acks[0].Frame...)
		a.Handle(ecp.Event{Kind: ecp.EvFrame, Frame: buf}, t0)
	}
	step()
	assert.Zero(t, testing.AllocsPerRun(1000, step))
	assert.EqualValues(t, 1002, b.Counters().Delivered, "AllocsPerRun runs once more to warm up")
}

// TestMachineSetTimers: a machine's R and RTE change between events; the
// outstanding ULPDU keeps its deadline and the next transmission is
// timed at the new RTE.
func TestMachineSetTimers(t *testing.T) {
	m, err := ecp.NewMachine(ecp.DefaultConfig(station))
	require.NoError(t, err)
	m.Handle(ecp.Event{Kind: ecp.EvSend, Subtype: ecp.SubtypeVDP, Payload: []byte("x")}, t0)
	require.NoError(t, m.SetTimers(20, 1))
	d, ok := m.Deadline()
	require.True(t, ok)
	assert.Equal(t, t0.Add(ecp.AckTimeout(8)), d, "the running timer keeps its deadline")
	m.Handle(ecp.Event{Kind: ecp.EvTimer}, d)
	d2, _ := m.Deadline()
	assert.Equal(t, d.Add(ecp.AckTimeout(20)), d2)
	acts := m.Handle(ecp.Event{Kind: ecp.EvTimer}, d2)
	require.NotEmpty(t, acts)
	assert.Equal(t, ecp.ActFailed, acts[0].Kind, "R 1: one retransmission, then the ULPDU fails")
	assert.Equal(t, [2]uint8{20, 1}, [2]uint8{m.Config().RTE, m.Config().MaxRetries})
	assert.ErrorIs(t, m.SetTimers(0, 8), ecp.ErrRange)
}
