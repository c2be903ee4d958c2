package fuzz

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/nivkit/niv/vdp"
	"github.com/nivkit/niv/vdp/ecp"
)

// vdpSeeds are VDPDUs written for the project: the examples of
// ../shared/spec/vdp-ecp.md §8 (L1, L4, S1, S3, S4 with their Manager ID
// TLVs), one with org TLVs (Cisco's and niv's port-profile TLV), one of
// each filter format with several entries, and openlldp's qbg22 filler
// ULPDUs. They are in this file, so they run without ../shared.
var vdpSeeds = []string{
	"0a10626c61626c6100000000000000000000 0621 00 000005 04 05 a141285760f74ce1e95a2164943f53aa 02 0001 5254008eaa11 0064",
	"0a106d67723100000000000000000000000 0 021b 00 123456 07 05 b5b5a2c60d554f3e9a5f0123456789ab 01 0001 b064",
	"0a10676f74657374000000000000000000000625000102030105 0f0e0d0c0b0a09080706050403020100 04 0001 00001000 525400010203 0000",
	"0a10676f7465737400000000000000000000 021f 10 000042 02 01 00000000000000000000ffffc0000207 03 0001 00001000 8064",
	"0a10676f7465737400000000000000000000 081b 00 000042 02 03 00000000000000000000525400010203 01 0001 0064 00000000",
	"0a10626c61626c6100000000000000000000 0621 00 000005 04 05 a141285760f74ce1e95a2164943f53aa 02 0001 5254008eaa11 0064" +
		"fe0a 00000c f1 05 0102030405 fe0c 0a6e76 01 7765622d74696572",
	"0a10780000000000000000000000000000000 61f 40 000001 01 04 00000000000000000000000000000000 01 0003 0064 b0c8 012c",
	"0a10780000000000000000000000000000000 631 00 000001 01 04 00000000000000000000000000000000 02 0003 020000000001 0064 020000000002 b0c8 020000000003 012c",
	"0a10780000000000000000000000000000000 62b 00 000001 01 04 00000000000000000000000000000000 03 0003 00000001 0064 00000002 b0c8 00000003 012c",
	"0a10780000000000000000000000000000000 63d 00 000001 01 04 00000000000000000000000000000000 04 0003 00000001 020000000001 0064 00000002 020000000002 b0c8 00000003 020000000003 012c",
	"0a0b0c0d", "aabbccdd0000", "001122330000", "445566770000",
}

func seedBytes(tb testing.TB, s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		tb.Fatalf("seed %q: %v", s, err)
	}
	return b
}

// vdpCaptureULPDUs returns the VDPDUs of the shared VDP captures, when
// they are there.
func vdpCaptureULPDUs(tb testing.TB) [][]byte {
	var out [][]byte
	for _, fr := range sharedFrames(tb, "spec/pcaps/vdp22.pcap", "spec/pcaps/lldpad-vdp22-live.pcap", "spec/pcaps/lldpad-recipe-run.pcap") {
		if len(fr) > ecp.FrameHeaderLen && binary.BigEndian.Uint16(fr[12:]) == ecp.EtherType {
			out = append(out, fr[ecp.FrameHeaderLen:])
		}
	}
	return out
}

var vdpSentinels = []error{vdp.ErrShortBuffer, vdp.ErrLength, vdp.ErrFormat, vdp.ErrNoFilters, vdp.ErrOrder}

// FuzzVDP: PDU.Decode never panics; an error wraps a sentinel; a VDPDU it
// accepts re-encodes to its own bytes (up to the End TLV or padding, when
// no unknown TLV was skipped), and that encoding decodes to the same PDU.
func FuzzVDP(f *testing.F) {
	for _, s := range vdpSeeds {
		f.Add(seedBytes(f, s))
	}
	for _, b := range vdpCaptureULPDUs(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p vdp.PDU
		err := p.Decode(b)
		if err != nil {
			for _, s := range vdpSentinels {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error %v wraps no sentinel", err)
		}
		out, err := p.AppendBinary(nil)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if p.Skipped == 0 {
			if !bytes.HasPrefix(b, out) {
				t.Fatalf("round trip\n in % x\nout % x", b, out)
			}
			if rest := b[len(out):]; len(rest) > 0 && rest[0] > 1 {
				t.Fatalf("decode stopped before % x", rest)
			}
		}
		var q vdp.PDU
		if err := q.Decode(out); err != nil {
			t.Fatalf("decode of the re-encoding: %v", err)
		}
		p.Skipped = 0
		if !reflect.DeepEqual(normalize(p), normalize(q)) {
			t.Fatalf("second decode differs:\n%+v\n%+v", p, q)
		}
		// The iterator sees the same TLVs.
		d := vdp.NewDecoder(b)
		n := 0
		for d.Next() {
			n++
		}
		if d.Err() != nil {
			t.Fatalf("Decoder: %v after PDU.Decode accepted", d.Err())
		}
		if want := 1 + len(p.Org) + countTLVs(&p); n != want+pSkipped(b) {
			t.Fatalf("Decoder saw %d TLVs, PDU %d", n, want)
		}
	})
}

func countTLVs(p *vdp.PDU) int {
	n := 0
	for i := range p.VSIs {
		n += 1 + len(p.VSIs[i].Org)
	}
	return n
}

func pSkipped(b []byte) int {
	var p vdp.PDU
	_ = p.Decode(b)
	return p.Skipped
}

// normalize makes empty and nil slices compare equal.
func normalize(p vdp.PDU) vdp.PDU {
	if len(p.Org) == 0 {
		p.Org = nil
	}
	if len(p.VSIs) == 0 {
		p.VSIs = nil
	}
	for i := range p.VSIs {
		v := p.VSIs[i]
		if len(v.Org) == 0 {
			v.Org = nil
		}
		for j := range v.Org {
			if len(v.Org[j].Data) == 0 {
				v.Org[j].Data = nil
			}
		}
		p.VSIs[i] = v
	}
	for j := range p.Org {
		if len(p.Org[j].Data) == 0 {
			p.Org[j].Data = nil
		}
	}
	return p
}

// TestVDPSeedsDecode: the project's VDPDU seeds (all but openlldp's
// fillers) are valid VDPDUs, so the fuzzer starts from real structure.
func TestVDPSeedsDecode(t *testing.T) {
	for i, s := range vdpSeeds[:10] {
		var p vdp.PDU
		if err := p.Decode(seedBytes(t, s)); err != nil || len(p.VSIs) != 1 {
			t.Errorf("seed %d: %v, %d VSIs", i, err, len(p.VSIs))
		}
	}
}
