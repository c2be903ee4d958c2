package fuzz

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/nivkit/niv/vdp/evb"
	"github.com/nivkit/niv/vdp/lldp"
)

// lldpSeeds are LLDPDUs written for the project: lldpad's EVB TLVs from
// the live run (vdp-ecp.md §5), tcpdump's EVB and CDCP TLVs (VECTORS.md
// §5), a draft EVB TLV (§8 D3), each in a frame with the mandatory TLVs.
func lldpSeeds(tb testing.TB) [][]byte {
	var out [][]byte
	for _, tlvs := range []string{
		"fe090080c20d0200 6e5414", "fe090080c20d0305 6e7434", "fe090080c20d0305 6eb434", "fe090080c20d0007 6e9414",
		"fe090080c20d0200f45f1f fe0b0080c20e000000a7001001", "fe090080c20d0200f55e0f fe110080c20e88000003001001002064fffffe",
		"fe0d001b3f00800780070080 00020e", "fe0b0080c20e000000a70010",
	} {
		fr, err := lldp.AppendFrame(nil, lldp.NearestCustomerBridge, [6]byte{2, 0, 0, 0, 0, 2},
			[]byte{4, 2, 0, 0, 0, 0, 2}, []byte{3, 2, 0, 0, 0, 0, 2}, 120, seedBytes(tb, tlvs))
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, fr)
	}
	for _, fr := range sharedFrames(tb, "corpus/lldp-evb-cdcp-tcpdump.pcap", "corpus/lldp-evb-cdcp-malformed-tcpdump.pcap",
		"spec/pcaps/lldp.pcap", "spec/pcaps/lldpad-vdp22-live.pcap") {
		if len(fr) > 14 && fr[12] == 0x88 && fr[13] == 0xcc {
			out = append(out, fr)
		}
	}
	return out
}

// FuzzLLDP: the LLDP decoder and the EVB, draft EVB and CDCP parsers
// never panic, fail only with their sentinels, and what they accept
// re-encodes to the same bytes (reserved bits aside).
func FuzzLLDP(f *testing.F) {
	for _, fr := range lldpSeeds(f) {
		f.Add(fr)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p lldp.PDU
		if err := p.Decode(b); err != nil {
			if !errors.Is(err, lldp.ErrShortBuffer) && !errors.Is(err, lldp.ErrEtherType) && !errors.Is(err, lldp.ErrMandatory) {
				t.Fatalf("error %v", err)
			}
			return
		}
		for _, v := range p.Org {
			checkOrg(t, v)
		}
	})
}

func checkOrg(t *testing.T, v []byte) {
	if e, err := evb.Parse(v); err == nil {
		out := e.AppendTLV(nil)[2:]
		mask := []byte{0xff, 0xff, 0xff, 0xff, 0x07, 0x0f, 0xff, 0xff, 0x3f}
		for i := range out {
			if out[i] != v[i]&mask[i] {
				t.Fatalf("EVB round trip % x → % x", v, out)
			}
		}
		if e.Check() != nil {
			t.Fatalf("decoded EVB TLV fails Check: %+v", e)
		}
	} else if !errors.Is(err, evb.ErrShortBuffer) && !errors.Is(err, evb.ErrOUI) && !errors.Is(err, evb.ErrLength) {
		t.Fatal(err)
	}
	if d, err := evb.ParseDraft(v); err == nil {
		if out := d.AppendTLV(nil)[2:]; !bytes.Equal(out, v) {
			t.Fatalf("draft round trip % x → % x", v, out)
		}
	}
	if c, err := evb.ParseCDCP(v); err == nil {
		chans := make([]evb.Channel, c.Len())
		for i := range chans {
			chans[i] = c.Channel(i)
		}
		out, err := c.AppendCDCP(nil, chans)
		if err != nil {
			t.Fatalf("CDCP re-encode: %v", err)
		}
		out = out[2:]
		if len(out) != len(v) || out[4] != v[4]&0x88 || !bytes.Equal(out[8:], v[8:]) || out[6] != v[6]&0x0f || out[7] != v[7] {
			t.Fatalf("CDCP round trip % x → % x", v, out)
		}
	}
}

// FuzzLLDPAgent drives an EVB bridge agent with fuzzed frames and timer
// steps: it never panics, never sends more than one frame per event, and
// what it sends always parses with a TLV whose exponents are the larger
// of its own and the peer's.
func FuzzLLDPAgent(f *testing.F) {
	for _, fr := range lldpSeeds(f) {
		f.Add(append([]byte{0, byte(len(fr))}, fr...))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		local := evb.TLV{RRCAP: true, R: 3, RTE: 8, Mode: evb.ModeBridge, RWD: 20, RKA: 20}
		a, err := lldp.NewAgent(lldp.Config{Addr: [6]byte{2, 0, 0, 0, 0, 2}, EVB: local})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Unix(0, 0)
		a.Handle(lldp.Event{Kind: lldp.EvBegin}, now)
		for len(b) >= 2 {
			op, n := b[0]%3, min(int(b[1]), len(b)-2)
			arg := b[2 : 2+n]
			b = b[2+n:]
			var acts []lldp.Action
			switch op {
			case 0:
				acts = a.Handle(lldp.Event{Kind: lldp.EvFrame, Frame: arg}, now)
			case 1:
				now = now.Add(time.Duration(n) * 100 * time.Millisecond)
				acts = a.Handle(lldp.Event{Kind: lldp.EvTimer}, now)
			case 2:
				acts = a.Handle(lldp.Event{Kind: lldp.EvBegin}, now)
			}
			tx := 0
			for _, x := range acts {
				if x.Kind != lldp.ActTransmit {
					continue
				}
				tx++
				var p lldp.PDU
				if err := p.Decode(x.Frame); err != nil {
					t.Fatalf("sent a frame that does not decode: %v", err)
				}
				e, err := evb.Parse(p.Org[0])
				if err != nil || e.RTE < local.RTE || e.RWD < local.RWD || e.RKA < local.RKA || e.R < local.R {
					t.Fatalf("sent EVB %+v, %v", e, err)
				}
			}
			if tx > 1 {
				t.Fatalf("%d frames on one event", tx)
			}
		}
	})
}
