package fuzz

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/nivkit/niv/vdp/ecp"
)

var ecpSentinels = []error{ecp.ErrShortBuffer, ecp.ErrEtherType}

// ecpFrames returns the ECP frames of the seed captures (lldpad's live
// sessions and the spec's examples), and the spec's and openlldp's ECP
// headers in frames of their own.
func ecpFrames(f *testing.F) [][]byte {
	var out [][]byte
	for _, fr := range captureFrames(f) {
		if len(fr) >= 14 && binary.BigEndian.Uint16(fr[12:]) == ecp.EtherType {
			out = append(out, fr)
		}
	}
	hdr := append(append([]byte{}, ecp.NearestCustomerBridge[:]...), 2, 0, 0, 0, 0, 1, 0x89, 0x40)
	for _, h := range [][]byte{{0x10, 0x01, 0x12, 0x24, 0, 0}, {0x14, 0x01, 0x12, 0x24}, {0xf0, 0x01, 0x12, 0x24}, {0x10, 0x0f, 0x12, 0x24}, {0x18, 0x02}} {
		out = append(out, append(append([]byte{}, hdr...), h...))
	}
	return out
}

// FuzzECP: Decode never panics; a frame it accepts re-encodes to the
// same bytes; a frame it refuses gets an error wrapping a sentinel.
func FuzzECP(f *testing.F) {
	for _, fr := range ecpFrames(f) {
		f.Add(fr)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ecp.Decode(b)
		if err != nil {
			ok := false
			for _, s := range ecpSentinels {
				ok = ok || errors.Is(err, s)
			}
			if !ok {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		out, err := ecp.AppendFrame(nil, p.Dst, p.Src, p.Header, p.Payload, false)
		if len(p.Payload) > ecp.MaxULPDU {
			if !errors.Is(err, ecp.ErrTooLong) {
				t.Fatalf("long payload: %v", err)
			}
			return
		}
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("round trip: %v\n in % x\nout % x", err, b, out)
		}
	})
}

// FuzzECPMachine drives one ECP machine with a fuzzed sequence of events
// — received frames (seeded with real ones), ULPDUs to send, timer
// expiries, BEGIN — and checks that it never panics and that its
// counters and queue stay consistent: every valid request is
// acknowledged, delivered at most once per sequence number, at most one
// ULPDU is outstanding, nothing accepted is lost (queued + confirmed +
// failed = offered).
func FuzzECPMachine(f *testing.F) {
	for _, fr := range ecpFrames(f) {
		f.Add(append([]byte{1, byte(len(fr))}, fr...))
	}
	f.Add([]byte{0, 3, 2, 'a', 'b', 2, 200, 2, 200, 2, 200, 2, 200, 2, 200})
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg := ecp.DefaultConfig([6]byte{2, 0, 0, 0, 0, 1})
		cfg.QueueLen = 4
		m, err := ecp.NewMachine(cfg)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Unix(0, 0)
		var offered, confirmed, failed, refused uint64
		for len(b) >= 2 {
			op, n := b[0]%4, int(b[1])
			b = b[2:]
			n = min(n, len(b))
			arg := b[:n]
			var acts []ecp.Action
			switch op {
			case 0:
				st := ecp.SubtypePECSP
				if len(arg) > 0 && arg[0]&1 == 1 {
					st = ecp.SubtypeVDP
				}
				offered++
				acts = m.Handle(ecp.Event{Kind: ecp.EvSend, Subtype: st, Payload: arg}, now)
			case 1:
				b = b[n:]
				fr := append(append([]byte{}, ecp.NearestCustomerBridge[:]...), 2, 0, 0, 0, 0, 2)
				fr = append(fr, arg...)
				if len(arg) >= 1 && arg[0] == 0xAC {
					// An ACK for the newest ULPDU sent: its sequence number
					// is the number of first transmissions (barring BEGIN).
					c := m.Counters()
					fr = append(fr[:12], 0x89, 0x40, 0x14, 0x02, 0, 0)
					binary.BigEndian.PutUint16(fr[16:], uint16(c.TxPDUs-c.Retransmits))
				}
				acts = m.Handle(ecp.Event{Kind: ecp.EvFrame, Frame: fr}, now)
				arg = nil
			case 2:
				now = now.Add(time.Duration(n) * 100 * time.Microsecond)
				acts = m.Handle(ecp.Event{Kind: ecp.EvTimer}, now)
			case 3:
				acts = m.Handle(ecp.Event{Kind: ecp.EvBegin}, now)
			}
			if op != 1 {
				b = b[n:]
			}
			transmits := 0
			for _, a := range acts {
				switch a.Kind {
				case ecp.ActConfirmed:
					confirmed++
				case ecp.ActFailed:
					if errors.Is(a.Err, ecp.ErrNoAck) {
						failed++
					} else {
						refused++
					}
				case ecp.ActTransmit:
					transmits++
				}
			}
			if transmits > 2 {
				t.Fatalf("%d frames sent on one event", transmits)
			}
			c := m.Counters()
			if c.Dropped != c.DroppedMalformed+c.DroppedVersion+c.DroppedOperation+c.DroppedSubtype {
				t.Fatalf("dropped counters: %+v", c)
			}
			if c.TxAcks != c.RxPDUs || c.Delivered+c.RxDuplicates != c.RxPDUs {
				t.Fatalf("receive counters: %+v", c)
			}
			if uint64(m.Queued())+confirmed+failed+refused != offered {
				t.Fatalf("queued %d + confirmed %d + failed %d + refused %d != offered %d", m.Queued(), confirmed, failed, refused, offered)
			}
			if m.Queued() > cfg.QueueLen+1 {
				t.Fatalf("queue %d", m.Queued())
			}
		}
	})
}
