package fuzz

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/nivkit/niv/vdp/ecp"
)

var ecpSentinels = []error{ecp.ErrShortBuffer, ecp.ErrEtherType}

// ecpFrames returns the ECP frames of the seed captures (lldpad's live
// sessions and the spec's examples), and the spec's and openlldp's ECP
// headers in frames of their own.
func ecpFrames(tb testing.TB) [][]byte {
	var out [][]byte
	for _, fr := range captureFrames(tb) {
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

// ecpMachine is the property of FuzzECPMachine and TestECPMachine: one
// ECP machine driven by a drawn sequence of events — frames received (the
// seed frames, mutated or not, arbitrary bytes after an ECP header, ACKs
// of what it sent), ULPDUs to send, timer expiries, BEGIN. After every
// event: at most two frames sent (an ACK and a request), the counters add
// up, every valid request is acknowledged and delivered at most once per
// sequence number, at most one ULPDU is outstanding and nothing accepted is
// lost (queued + confirmed + failed + refused = offered).
func ecpMachine(seeds [][]byte) func(*rapid.T) {
	peer := [6]byte{2, 0, 0, 0, 0, 2}
	return func(t *rapid.T) {
		cfg := ecp.DefaultConfig([6]byte{2, 0, 0, 0, 0, 1})
		cfg.QueueLen = rapid.IntRange(1, 4).Draw(t, "queue")
		cfg.MaxRetries = uint8(rapid.IntRange(0, ecp.MaxMaxRetries).Draw(t, "retries"))
		m, err := ecp.NewMachine(cfg)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Unix(0, 0)
		var offered, confirmed, failed, refused uint64
		var lastSent []byte // the newest request sent
		var acts []ecp.Action
		handle := func(ev ecp.Event) {
			acts = m.Handle(ev, now)
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
					if p, err := ecp.Decode(a.Frame); err == nil && p.Op == ecp.OpRequest {
						lastSent = append(lastSent[:0], a.Frame...)
					}
				}
			}
			if transmits > 2 {
				t.Fatalf("%d frames sent on one event", transmits)
			}
		}
		frame := func(body []byte) []byte {
			fr := append(append([]byte{}, ecp.NearestCustomerBridge[:]...), peer[:]...)
			return append(fr, body...)
		}
		t.Repeat(map[string]func(*rapid.T){
			"send": func(t *rapid.T) {
				st := rapid.SampledFrom([]ecp.Subtype{ecp.SubtypePECSP, ecp.SubtypeVDP}).Draw(t, "subtype")
				payload := rapid.SliceOfN(rapid.Byte(), 0, 64).Draw(t, "ulpdu")
				offered++
				handle(ecp.Event{Kind: ecp.EvSend, Subtype: st, Payload: payload})
			},
			"receive": func(t *rapid.T) {
				fr := drawFrame(t, seeds)
				if len(fr) >= 12 {
					copy(fr[6:12], peer[:])
				}
				handle(ecp.Event{Kind: ecp.EvFrame, Frame: fr})
			},
			"receiveBody": func(t *rapid.T) {
				body := rapid.SliceOfN(rapid.Byte(), 0, 80).Draw(t, "body")
				handle(ecp.Event{Kind: ecp.EvFrame, Frame: frame(append([]byte{0x89, 0x40}, body...))})
			},
			"ack": func(t *rapid.T) {
				p, err := ecp.Decode(lastSent)
				if err != nil {
					// Nothing sent yet: an empty step. A t.Skip here makes
					// rapid give up ("can't find a valid action") on a
					// fuzz input that draws nothing but acks.
					return
				}
				h := p.Header
				h.Op = ecp.OpAck
				ack, err := ecp.AppendFrame(nil, p.Src, peer, h, nil, rapid.Bool().Draw(t, "pad"))
				if err != nil {
					t.Fatal(err)
				}
				handle(ecp.Event{Kind: ecp.EvFrame, Frame: ack})
			},
			"timer": func(t *rapid.T) {
				now = now.Add(time.Duration(rapid.IntRange(0, 20000).Draw(t, "µs")) * time.Microsecond)
				handle(ecp.Event{Kind: ecp.EvTimer})
			},
			"begin": func(t *rapid.T) {
				handle(ecp.Event{Kind: ecp.EvBegin})
			},
			"": func(t *rapid.T) {
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
			},
		})
	}
}

// TestECPMachine checks ecpMachine on rapid's random sequences, on every
// go test run.
func TestECPMachine(t *testing.T) {
	rapid.Check(t, ecpMachine(ecpFrames(t)))
}

// FuzzECPMachine is ecpMachine as a coverage-guided fuzz target.
func FuzzECPMachine(f *testing.F) {
	f.Fuzz(rapid.MakeFuzz(ecpMachine(ecpFrames(f))))
}
