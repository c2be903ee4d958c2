package vdp_test

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vdp"
	"github.com/nivkit/niv/vdp/ecp"
)

// wire is one direction of an in-memory link: frames written are handed
// to the receiving Speaker by a goroutine (a Speaker must not be called
// back from its own WriteFrame).
type wire struct {
	ch   chan []byte
	mu   sync.Mutex
	down bool
}

func (w *wire) WriteFrame(b []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.down {
		w.ch <- append([]byte(nil), b...)
	}
	return nil
}

func (w *wire) cut() { w.mu.Lock(); w.down = true; w.mu.Unlock() }

func pump(w *wire, to *ecp.Speaker, done chan struct{}) {
	go func() {
		for {
			select {
			case f := <-w.ch:
				to.Receive(f)
			case <-done:
				return
			}
		}
	}()
}

type pair struct {
	st       *vdp.StationRunner
	br       *vdp.BridgeRunner
	bsp      *ecp.Speaker
	up, dn   *wire
	stEvents chan vdp.Action
	brEvents chan vdp.Action
	done     chan struct{}
}

// newPair is a station and a one-port bridge, each on its own Speaker,
// joined by an in-memory link; must run in a synctest bubble.
func newPair(t *testing.T, tm vdp.Timers) *pair {
	p := &pair{up: &wire{ch: make(chan []byte, 64)}, dn: &wire{ch: make(chan []byte, 64)},
		stEvents: make(chan vdp.Action, 64), brEvents: make(chan vdp.Action, 64), done: make(chan struct{})}
	cs := ecp.DefaultConfig([6]byte{2, 0, 0, 0, 0, 1})
	cs.RTE, cs.MaxRetries = tm.RTE, tm.R
	cb := cs
	cb.Addr = [6]byte{2, 0, 0, 0, 0, 2}
	ss, err := ecp.NewSpeaker(p.up, cs)
	require.NoError(t, err)
	bs, err := ecp.NewSpeaker(p.dn, cb)
	require.NoError(t, err)
	p.st = vdp.NewStationRunner(vdp.NewStation(vdp.StationConfig{Timers: tm}), ss, func(a vdp.Action) { p.stEvents <- a })
	p.br = vdp.NewBridgeRunner(vdp.NewBridge(vdp.BridgeConfig{Ports: 1, Timers: tm}), []vdp.Sender{bs}, func(a vdp.Action) { p.brEvents <- a })
	ss.Register(ecp.SubtypeVDP, p.st)
	bs.Register(ecp.SubtypeVDP, p.br.Port(0))
	p.bsp = bs
	pump(p.up, bs, p.done)
	pump(p.dn, ss, p.done)
	t.Cleanup(func() {
		p.st.Close()
		p.br.Close()
		ss.Close()
		bs.Close()
		close(p.done)
	})
	return p
}

func next(t *testing.T, ch chan vdp.Action) vdp.Action {
	t.Helper()
	select {
	case a := <-ch:
		return a
	case <-time.After(time.Hour):
		t.Fatal("no event within an hour of fake time")
	}
	return vdp.Action{}
}

// TestRunnerKeepAlives (synctest): after an association the station sends
// a keep-alive every 10·2^RKA µs, and the bridge's VSI lives on as long
// as they come.
func TestRunnerKeepAlives(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, tm)
		start := time.Now()
		require.NoError(t, p.st.Request(mgrA, assocReq(vdp.TypeAssociate, 100)))
		assert.Equal(t, vdp.TypeAssociate, next(t, p.brEvents).Mode)
		assert.Equal(t, vdp.TypeAssociate, next(t, p.stEvents).Mode)
		time.Sleep(10 * tm.StationKeepAlive())
		synctest.Wait()
		var ka uint64
		p.br.Do(func(b *vdp.Bridge) {
			e, ok := b.VSI(0, vdp.VSIIDUUID, uuidL1)
			require.True(t, ok)
			ka = e.Counters.KeepAlives
		})
		assert.EqualValues(t, 10, ka, "one keep-alive per 10·2^20 µs over %v", time.Since(start))
		assert.Empty(t, p.brEvents, "keep-alives change nothing")
	})
}

// TestRunnerBridgeExpiry (synctest): the station falls silent (its link
// is cut); after 1.5×((2R+1)·10·2^RTE + 10·2^RKA) µs the bridge
// de-associates.
func TestRunnerBridgeExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, tm)
		require.NoError(t, p.st.Request(mgrA, assocReq(vdp.TypeAssociate, 100)))
		next(t, p.brEvents)
		next(t, p.stEvents)
		p.up.cut()
		cut := time.Now()
		a := next(t, p.brEvents)
		assert.Zero(t, a.Mode)
		assert.Equal(t, vdp.ReasonKeepAlive, a.Reason)
		assert.Equal(t, tm.BridgeKeepAlive(), time.Since(cut))
	})
}

// TestRunnerResponseTimeout (synctest): with no bridge answering, the
// station drops the VSI after 1.5×((2R+1)·10·2^RTE + 10·2^RWD) µs
// (lldpad-peer.md measured 17.45 s at R 3, RTE 14, RWD 20).
func TestRunnerResponseTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, tm)
		p.up.cut()
		start := time.Now()
		require.NoError(t, p.st.Request(mgrA, assocReq(vdp.TypeAssociate, 100)))
		a := next(t, p.stEvents)
		assert.Equal(t, vdp.ReasonTimeout, a.Reason)
		assert.Equal(t, 17448960*time.Microsecond, time.Since(start))
	})
}

// TestRunnerUnsolicited (synctest): the bridge's keep-alive expiry reaches
// the station as an unsolicited De-Associate when only the station's
// keep-alives are lost (station → bridge cut, bridge → station up).
func TestRunnerUnsolicited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slow := tm
		slow.RKA = 22 // station keep-alives every 41.9 s, bridge timeout 63.6 s…
		p := newPair(t, tm)
		require.NoError(t, p.st.Request(mgrA, assocReq(vdp.TypeAssociate, 100)))
		next(t, p.brEvents)
		next(t, p.stEvents)
		p.st.SetTimers(slow) // …but the bridge keeps its 17.4 s timeout
		a := next(t, p.stEvents)
		assert.Equal(t, vdp.ReasonUnsolicited, a.Reason)
		assert.Zero(t, a.Mode)
	})
}

// TestRunnerResourceWait (synctest): a Decider that defers and never
// answers; 10·2^RWD µs after the request the station hears code 3
// ("unable to contact VSI manager") and drops the VSI.
func TestRunnerResourceWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPair(t, tm)
		p.br.Close()
		// A second bridge on the same link, whose Decider defers.
		br := vdp.NewBridgeRunner(vdp.NewBridge(vdp.BridgeConfig{Ports: 1, Timers: tm,
			Decider: vdp.DecideFunc(func(int, vdp.ManagerID, *vdp.VSI) vdp.Decision { return vdp.Decision{Pending: true} })}),
			[]vdp.Sender{p.bsp}, nil)
		defer br.Close()
		p.bsp.Register(ecp.SubtypeVDP, br.Port(0))
		start := time.Now()
		require.NoError(t, p.st.Request(mgrA, assocReq(vdp.TypeAssociate, 100)))
		a := next(t, p.stEvents)
		assert.Zero(t, a.Mode)
		assert.Equal(t, vdp.CodeNoVSIManager, a.Code)
		assert.Equal(t, tm.BridgeResourceWait(), time.Since(start))
	})
}

// sendRec is a Sender that keeps every ULPDU.
type sendRec struct {
	mu   sync.Mutex
	pdus [][]byte
}

func (s *sendRec) Send(_ ecp.Subtype, p []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pdus = append(s.pdus, append([]byte(nil), p...))
	return nil
}

func (s *sendRec) last(t *testing.T, n int) *vdp.VSI {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	require.Len(t, s.pdus, n)
	var p vdp.PDU
	require.NoError(t, p.Decode(s.pdus[n-1]))
	require.Len(t, p.VSIs, 1)
	return &p.VSIs[0]
}

// TestBridgeRunnerClock: with SetClock, the bridge's keep-alive timeout
// follows that clock: Tick de-associates the VSI (an unsolicited
// De-Associate, status 0) once the clock is 1.5×((2R+1)·10·2^RTE +
// 10·2^RKA) µs past the last request, not earlier; a keep-alive on the
// way restarts it. Under synctest the real timer has not fired.
func TestBridgeRunnerClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tx := &sendRec{}
		var acts []vdp.Action
		r := vdp.NewBridgeRunner(vdp.NewBridge(vdp.BridgeConfig{Ports: 1, Timers: tm}), []vdp.Sender{tx},
			func(a vdp.Action) { acts = append(acts, a) })
		defer r.Close()
		now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		r.SetClock(func() time.Time { return now })
		req := vdp.PDU{ManagerID: mgrA, VSIs: []vdp.VSI{*assocReq(vdp.TypeAssociate, 100)}}
		b, err := req.AppendBinary(nil)
		require.NoError(t, err)
		r.Port(0).Deliver(b)
		assert.True(t, tx.last(t, 1).Status.Response())
		ka := tm.BridgeKeepAlive()
		now = now.Add(ka / 2)
		r.Port(0).Deliver(b) // a keep-alive
		tx.last(t, 2)
		now = now.Add(ka - time.Nanosecond)
		r.Tick()
		tx.last(t, 2)
		now = now.Add(time.Nanosecond)
		r.Tick()
		v := tx.last(t, 3)
		assert.Equal(t, vdp.TypeDeAssociate, v.Mode)
		assert.Zero(t, v.Status, "unsolicited: no response bit")
		require.Len(t, acts, 2)
		assert.Equal(t, vdp.ReasonKeepAlive, acts[1].Reason)
		r.Do(func(br *vdp.Bridge) { assert.Zero(t, br.Len()) })
	})
}
