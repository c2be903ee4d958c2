package vic_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vdp/ecp"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vntag"
)

// wire is one direction of an in-memory link: a goroutine hands each
// frame to the receiving speaker, like a port's reader. When down, frames
// are lost. It notes the vic commands it carries.
type wire struct {
	ch   chan []byte
	down *atomic.Bool
	note bool // note the vic messages carried
	mu   sync.Mutex
	seen []seenMsg
}

type seenMsg struct {
	at  time.Time
	cmd vic.Command
	rsp bool
	tx  uint32
}

// WriteFrame notes each vic message once (not its ECP retransmissions),
// whether the link is up or not.
func (w *wire) WriteFrame(b []byte) error {
	if p, err := ecp.Decode(b); w.note && err == nil && p.Op == ecp.OpRequest {
		var m vic.Message
		if vic.Decode(p.Payload, &m) == nil {
			w.mu.Lock()
			s := seenMsg{time.Now(), m.Command, m.Response, m.TxID}
			dup := false
			for _, x := range w.seen {
				dup = dup || (x.cmd == s.cmd && x.rsp == s.rsp && x.tx == s.tx)
			}
			if !dup {
				w.seen = append(w.seen, s)
			}
			w.mu.Unlock()
		}
	}
	if w.down.Load() {
		return nil
	}
	w.ch <- append([]byte(nil), b...)
	return nil
}

func (w *wire) count(cmd vic.Command, rsp bool) (n int, at []time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.seen {
		if s.cmd == cmd && s.rsp == rsp {
			n++
			at = append(at, s.at)
		}
	}
	return n, at
}

type link struct {
	up, down *wire // IV→VIS, VIS→IV
	iv, vis  *ecp.Speaker
	cut      atomic.Bool
	done     chan struct{}
}

func newLink(t testing.TB) *link { return newLinkQ(t, 0, true) }

// newLinkQ makes a link whose speakers queue up to queue ULPDUs (0: the
// default) and whose wires note vic messages when note is set.
func newLinkQ(t testing.TB, queue int, note bool) *link {
	l := &link{done: make(chan struct{})}
	l.up = &wire{ch: make(chan []byte, 4096), down: &l.cut, note: note}
	l.down = &wire{ch: make(chan []byte, 4096), down: &l.cut, note: note}
	cfg := func(last byte) ecp.Config {
		c := ecp.DefaultConfig([6]byte{2, 0, 0, 0, 0, last})
		c.QueueLen = queue
		return c
	}
	var err error
	l.iv, err = ecp.NewSpeaker(l.up, cfg(1))
	require.NoError(t, err)
	l.vis, err = ecp.NewSpeaker(l.down, cfg(2))
	require.NoError(t, err)
	go pump(l.up.ch, l.vis, l.done)
	go pump(l.down.ch, l.iv, l.done)
	return l
}

func pump(ch chan []byte, s *ecp.Speaker, done chan struct{}) {
	for {
		select {
		case fr := <-ch:
			s.Receive(fr)
		case <-done:
			return
		}
	}
}

func (l *link) close() {
	close(l.done)
	l.iv.Close()
	l.vis.Close()
}

// TestAgentTimers runs an IV agent and a VIS agent on ECP speakers under
// synctest's fake clock and checks every vic timer: the keepalive period,
// the IV's and the VIS's dead-peer time (Hold), the VIS's ResyncHold
// after a dead peer, the request timeout that re-sends Open while the
// link is down, and the resync that gives the same VIF and vEth back.
func TestAgentTimers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		timing := vic.Timing{Keepalive: time.Second, Hold: 3 * time.Second, RequestTimeout: 500 * time.Millisecond, ResyncHold: 10 * time.Second}
		l := newLink(t)
		defer l.close()
		fail := func(f string, a ...any) { t.Errorf(f, a...) }
		ivc, visc := newIVCore(vntag.ModeVNTag, fail), newVISCore(1, vntag.ModeVNTag, fail)
		start := time.Now()
		vis := vic.NewVISAgent(vic.VISConfig{Session: 2, Timing: timing}, nil, visc, nil)
		defer vis.Close()
		vis.AddPort(0, l.vis)
		iv := vic.NewIVAgent(vic.IVConfig{Session: 1, Timing: timing}, l.iv, ivc, nil)
		defer iv.Close()
		u := vic.UUID{7}
		iv.Request(vic.VNIC{Instance: u, MAC: [6]byte{2, 0, 0, 0, 0, 7}, Profile: "web", VLAN: 10, Epoch: 1, Up: true})
		synctest.Wait()
		x, ok := iv.VNIC(u)
		require.True(t, ok)
		require.Equal(t, vic.VIFBound, x.State)
		v, ok := vis.VEth(u)
		require.True(t, ok)
		assert.Equal(t, x.VIF, v.VIF)
		assert.Equal(t, x.VEth, v.ID)
		assert.Equal(t, u, ivc.vifs[x.VIF])

		// Keepalives: one a second, each answered.
		time.Sleep(5*time.Second + 500*time.Millisecond)
		synctest.Wait()
		n, at := l.up.count(vic.CmdKeepalive, false)
		require.Equal(t, 5, n)
		for i, a := range at {
			assert.Equal(t, time.Duration(i+1)*time.Second, a.Sub(start), "keepalive %d", i+1)
		}
		r, _ := l.down.count(vic.CmdKeepalive, true)
		assert.Equal(t, 5, r)

		// Cut the link at 5.5 s: both sides last heard the other at 5 s
		// and declare it dead at 5 s + Hold.
		l.cut.Store(true)
		time.Sleep(2*time.Second + 500*time.Millisecond - time.Nanosecond) // 7.999999999 s
		st, _ := iv.Session()
		assert.Equal(t, vic.SessionOpen, st)
		st, _ = vis.Session(0)
		assert.Equal(t, vic.SessionOpen, st)
		time.Sleep(time.Nanosecond) // 8 s
		synctest.Wait()
		st, _ = iv.Session()
		assert.Equal(t, vic.SessionOpening, st, "IV declares the VIS dead at last heard + Hold")
		st, _ = vis.Session(0)
		assert.Equal(t, vic.SessionOpening, st, "VIS declares the IV dead at last heard + 3 keepalive periods")
		v, _ = vis.VEth(u)
		assert.True(t, v.Bound && v.Stale, "the VIF is kept, stale, for ResyncHold")

		// ResyncHold after the dead peer (8 s + 10 s): unbound, vEth kept.
		time.Sleep(10*time.Second - time.Nanosecond)
		synctest.Wait()
		v, _ = vis.VEth(u)
		assert.True(t, v.Bound)
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		v, ok = vis.VEth(u)
		require.True(t, ok, "the vEth outlives its binding")
		assert.False(t, v.Bound)
		assert.Empty(t, visc.binds)

		// While the link is down the IV sends Open again every
		// RequestTimeout, from the moment it declared the VIS dead.
		opens, at := l.up.count(vic.CmdOpen, false)
		require.Equal(t, 1+21, opens) // the first, then 8 s, 8.5 s, ... 18 s
		for k, a := range at[1:] {
			assert.Equal(t, 8*time.Second+time.Duration(k)*500*time.Millisecond, a.Sub(start), "Open %d", k+2)
		}

		// Link back at 18 s: the IV's next Open (every 500 ms since 8 s)
		// goes through, the session opens and the vNIC is announced again;
		// it gets its vEth back and a VIF.
		l.cut.Store(false)
		time.Sleep(500 * time.Millisecond)
		synctest.Wait()
		st, _ = iv.Session()
		assert.Equal(t, vic.SessionOpen, st)
		x2, _ := iv.VNIC(u)
		v2, _ := vis.VEth(u)
		assert.Equal(t, vic.VIFBound, x2.State)
		assert.True(t, v2.Bound)
		assert.Equal(t, x.VEth, v2.ID, "same vEth id")
		assert.Equal(t, x2.VIF, v2.VIF)
		d, s, p := iv.Errors()
		assert.Zero(t, d+s+p)
		d, s, p = vis.Errors()
		assert.Zero(t, d+s+p)
	})
}
