package ecp_test

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vdp/ecp"
)

// recorder is a FrameWriter that keeps every frame and when it was sent.
type recorder struct {
	mu     sync.Mutex
	frames [][]byte
	at     []time.Time
}

func (r *recorder) WriteFrame(b []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.frames = append(r.frames, append([]byte(nil), b...))
	r.at = append(r.at, time.Now())
	return nil
}

func (r *recorder) sent() ([][]byte, []time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.frames...), append([]time.Time(nil), r.at...)
}

// upper records what a Speaker delivers and reports.
type upper struct {
	mu        sync.Mutex
	delivered []string
	failed    []string
	failedAt  []time.Time
	errs      []error
}

func (u *upper) Deliver(p []byte) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.delivered = append(u.delivered, string(p))
}

func (u *upper) Failed(p []byte, err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.failed = append(u.failed, string(p))
	u.failedAt = append(u.failedAt, time.Now())
	u.errs = append(u.errs, err)
}

func (u *upper) snapshot() (d, f []string, fat []time.Time, errs []error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.delivered...), append([]string(nil), u.failed...), append([]time.Time(nil), u.failedAt...), append([]error(nil), u.errs...)
}

// TestSpeakerRetransmissionTiming: under synctest's fake clock, a ULPDU
// nobody acknowledges is sent MaxRetries+1 times exactly 10 µs × 2^RTE
// apart and reported failed one timer after the last transmission —
// lldpad's measured schedule (4 frames 164 ms apart at RTE 14, R 3).
func TestSpeakerRetransmissionTiming(t *testing.T) {
	for _, tc := range []struct{ rte, r uint8 }{{0, 0}, {8, 3}, {14, 3}, {20, 7}} {
		synctest.Test(t, func(t *testing.T) {
			rec := &recorder{}
			cfg := ecp.DefaultConfig(station)
			cfg.RTE, cfg.MaxRetries = tc.rte, tc.r
			s, err := ecp.NewSpeaker(rec, cfg)
			require.NoError(t, err)
			defer s.Close()
			u := &upper{}
			s.Register(ecp.SubtypePECSP, u)
			start := time.Now()
			require.NoError(t, s.Send(ecp.SubtypePECSP, []byte("hello")))
			T := ecp.AckTimeout(tc.rte)
			time.Sleep(time.Duration(tc.r+1)*T + T/2)
			synctest.Wait()

			frames, at := rec.sent()
			require.Len(t, frames, int(tc.r)+1, "RTE %d R %d", tc.rte, tc.r)
			for i, fr := range frames {
				assert.Equal(t, time.Duration(i)*T, at[i].Sub(start), "transmission %d", i)
				assert.Equal(t, ecp.Header{Version: 1, Subtype: ecp.SubtypePECSP, Seq: 1}, header(t, fr))
			}
			_, failed, failedAt, errs := u.snapshot()
			require.Equal(t, []string{"hello"}, failed)
			assert.ErrorIs(t, errs[0], ecp.ErrNoAck)
			assert.Equal(t, time.Duration(tc.r+1)*T, failedAt[0].Sub(start))
			c := s.Counters()
			assert.EqualValues(t, tc.r, c.Retransmits)
			assert.EqualValues(t, 1, c.TxFailures)
			assert.Zero(t, s.Queued())
		})
	}
}

// link joins two Speakers through goroutines, like two ends of a wire. It
// drops the frames drop says to drop.
type link struct {
	ch   chan []byte
	drop func(fr []byte) bool
}

func (l *link) WriteFrame(b []byte) error {
	if l.drop != nil && l.drop(b) {
		return nil
	}
	l.ch <- append([]byte(nil), b...)
	return nil
}

func pump(ch chan []byte, s **ecp.Speaker, done chan struct{}) {
	for {
		select {
		case fr := <-ch:
			(*s).Receive(fr)
		case <-done:
			return
		}
	}
}

// TestSpeakerPairLossy: two Speakers over a link that drops every third
// frame in each direction; 50 ULPDUs arrive exactly once and in order,
// and the acknowledgement timers recover every loss.
func TestSpeakerPairLossy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n [2]int
		ab := &link{ch: make(chan []byte, 16), drop: func([]byte) bool { n[0]++; return n[0]%3 == 0 }}
		ba := &link{ch: make(chan []byte, 16), drop: func([]byte) bool { n[1]++; return n[1]%3 == 0 }}
		var a, b *ecp.Speaker
		var err error
		a, err = ecp.NewSpeaker(ab, ecp.DefaultConfig(station))
		require.NoError(t, err)
		b, err = ecp.NewSpeaker(ba, ecp.DefaultConfig(bridge))
		require.NoError(t, err)
		ua, ub := &upper{}, &upper{}
		a.Register(ecp.SubtypePECSP, ua)
		b.Register(ecp.SubtypePECSP, ub)
		done := make(chan struct{})
		go pump(ab.ch, &b, done)
		go pump(ba.ch, &a, done)
		var want []string
		for i := 0; i < 50; i++ {
			p := string(rune('A'+i%26)) + string(rune('a'+i/26))
			want = append(want, p)
			require.NoError(t, a.Send(ecp.SubtypePECSP, []byte(p)))
		}
		time.Sleep(time.Second)
		synctest.Wait()
		got, failed, _, _ := ub.snapshot()
		for i := range got {
			got[i] = got[i][:2] // strip padding
		}
		assert.Equal(t, want, got)
		assert.Empty(t, failed)
		ca, cb := a.Counters(), b.Counters()
		assert.Positive(t, ca.Retransmits)
		assert.EqualValues(t, 50, cb.Delivered)
		assert.EqualValues(t, cb.RxPDUs, cb.TxAcks)
		assert.EqualValues(t, cb.RxPDUs-50, cb.RxDuplicates)
		close(done)
		a.Close()
		b.Close()
		assert.ErrorIs(t, a.Send(2, nil), ecp.ErrClosed)
	})
}

// stepClock is a clock that moves only when told to.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *stepClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestSpeakerClock: with SetClock, the acknowledgement timer follows that
// clock: Tick retransmits once the clock has moved 10 µs × 2^RTE past the
// transmission, and not a nanosecond earlier, while the real timer (under
// synctest) has not fired.
func TestSpeakerClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		cfg := ecp.DefaultConfig(station)
		cfg.RTE, cfg.MaxRetries = 20, 1
		s, err := ecp.NewSpeaker(rec, cfg)
		require.NoError(t, err)
		defer s.Close()
		u := &upper{}
		s.Register(ecp.SubtypePECSP, u)
		clk := &stepClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
		s.SetClock(clk.Now)
		require.NoError(t, s.Send(ecp.SubtypePECSP, []byte("hello")))
		T := ecp.AckTimeout(20)
		count := func() int { f, _ := rec.sent(); return len(f) }
		s.Tick()
		require.Equal(t, 1, count(), "nothing due yet")
		clk.Add(T - time.Nanosecond)
		s.Tick()
		require.Equal(t, 1, count(), "one nanosecond early")
		clk.Add(time.Nanosecond)
		s.Tick()
		require.Equal(t, 2, count(), "retransmitted when due by the clock")
		frames, _ := rec.sent()
		assert.Equal(t, frames[0], frames[1], "the same PDU, the same sequence number")
		clk.Add(T)
		s.Tick()
		_, failed, _, errs := u.snapshot()
		require.Equal(t, []string{"hello"}, failed, "R 1: failed after the retransmission's timer")
		assert.ErrorIs(t, errs[0], ecp.ErrNoAck)
		assert.Equal(t, 2, count())
		assert.EqualValues(t, 1, s.Counters().Retransmits)
	})
}
