package lldp_test

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vdp/evb"
	"github.com/nivkit/niv/vdp/lldp"
)

// link hands every frame written to the other runner, from a goroutine.
type link struct {
	mu   sync.Mutex
	to   *lldp.Runner
	ch   chan []byte
	sent []time.Time
	cut  bool
}

func (l *link) WriteFrame(b []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent = append(l.sent, time.Now())
	if !l.cut {
		l.ch <- append([]byte(nil), b...)
	}
	return nil
}

func (l *link) pump(done chan struct{}) {
	go func() {
		for {
			select {
			case f := <-l.ch:
				l.to.Receive(f)
			case <-done:
				return
			}
		}
	}()
}

// TestRunnerTimers (synctest): two runners (bridge and station) converge
// on the negotiated values; each sends 4 fast LLDPDUs a second apart after
// a change, then one per msgTxInterval; when the station falls silent the
// bridge ages it out after its TTL (TxInterval × TxHold + 1 s) and tells
// its listener.
func TestRunnerTimers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		done := make(chan struct{})
		defer close(done)
		up, down := &link{ch: make(chan []byte, 16)}, &link{ch: make(chan []byte, 16)}
		type ev struct {
			t    evb.TLV
			peer bool
			at   time.Time
		}
		brEv := make(chan ev, 16)
		ba, _ := lldp.NewAgent(lldp.Config{Addr: [6]byte{2, 0, 0, 0, 0, 2}, TxInterval: 10 * time.Second,
			EVB: evb.TLV{RRCAP: true, R: 3, RTE: 14, Mode: evb.ModeBridge, RWD: 20, RKA: 20}})
		sa, _ := lldp.NewAgent(lldp.Config{Addr: [6]byte{2, 0, 0, 0, 0, 1}, TxInterval: 10 * time.Second,
			EVB: evb.TLV{RRREQ: true, R: 3, RTE: 8, Mode: evb.ModeStation, RWD: 22, RKA: 20}})
		br := lldp.NewRunner(ba, down, func(t evb.TLV, peer bool) { brEv <- ev{t, peer, time.Now()} })
		st := lldp.NewRunner(sa, up, nil)
		defer br.Close()
		defer st.Close()
		up.to, down.to = br, st
		up.pump(done)
		down.pump(done)
		start := time.Now()
		br.Begin()
		st.Begin()
		synctest.Wait()
		e := <-brEv
		assert.True(t, e.peer)
		assert.Equal(t, [4]uint8{3, 14, 22, 20}, [4]uint8{e.t.R, e.t.RTE, e.t.RWD, e.t.RKA}, "the larger of each")
		s, _ := st.EVB()
		assert.Equal(t, e.t.RWD, s.RWD)

		time.Sleep(time.Minute)
		synctest.Wait()
		for len(brEv) > 0 { // the negotiation's changes
			require.True(t, (<-brEv).peer)
		}
		up.mu.Lock()
		var gaps []time.Duration
		for i := 1; i < len(up.sent); i++ {
			gaps = append(gaps, up.sent[i].Sub(up.sent[i-1]))
		}
		up.cut = true
		up.mu.Unlock()
		require.NotEmpty(t, gaps)
		assert.Equal(t, 10*time.Second, gaps[len(gaps)-1], "one LLDPDU per msgTxInterval once converged")
		assert.Contains(t, gaps, time.Second, "fast transmissions a second apart after a change")

		cut := time.Now()
		e = <-brEv
		assert.False(t, e.peer, "the station aged out")
		assert.LessOrEqual(t, e.at.Sub(cut), 41*time.Second)
		assert.Greater(t, e.at.Sub(start), time.Minute)
		b, peer := br.EVB()
		assert.False(t, peer)
		assert.EqualValues(t, 14, b.RTE)
		assert.EqualValues(t, 20, b.RWD, "back to the local value")
	})
}

// countWriter counts the frames written to it.
type countWriter struct {
	mu sync.Mutex
	n  int
}

func (w *countWriter) WriteFrame([]byte) error {
	w.mu.Lock()
	w.n++
	w.mu.Unlock()
	return nil
}

func (w *countWriter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// TestRunnerClock: on a clock that jumps (SetClock), Tick sends what is
// due by that clock and nothing earlier: the fast transmission 1 s after
// Begin, then the next one, and not before its second.
func TestRunnerClock(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	step := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	a, err := lldp.NewAgent(lldp.Config{Addr: [6]byte{2, 0, 0, 0, 0, 1}, EVB: evb.TLV{Mode: evb.ModeBridge, R: 3, RTE: 20, RWD: 20, RKA: 20}})
	require.NoError(t, err)
	w := &countWriter{}
	r := lldp.NewRunner(a, w, nil)
	defer r.Close()
	r.SetClock(clock)
	r.Begin()
	assert.Equal(t, 1, w.count(), "Begin sends at once")
	r.Tick()
	assert.Equal(t, 1, w.count(), "nothing due yet")
	step(999 * time.Millisecond)
	r.Tick()
	assert.Equal(t, 1, w.count(), "1 ms early")
	step(time.Millisecond)
	r.Tick()
	assert.Equal(t, 2, w.count(), "the first fast transmission, 1 s after Begin")
	step(10 * time.Second)
	r.Tick()
	r.Tick()
	assert.Equal(t, 3, w.count(), "one transmission per jump")
}
