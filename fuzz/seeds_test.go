package fuzz

import (
	"os"
	"path/filepath"
	"testing"

	"pgregory.net/rapid"

	"github.com/nivkit/niv/internal/capture"
	"github.com/nivkit/niv/internal/needs"
)

// specHeaders are the byte examples of ../shared/spec/vntag.md, from the
// TPID through the next EtherType.
var specHeaders = [][]byte{
	{0x89, 0x26, 0x00, 0x00, 0x00, 0x05, 0x08, 0x00},
	{0x89, 0x26, 0x81, 0x23, 0x00, 0x00, 0x81, 0x00},
	{0x89, 0x26, 0xc0, 0x42, 0x00, 0x00, 0x08, 0x00},
	{0x89, 0x26, 0xc0, 0x42, 0x80, 0x05, 0x08, 0x00},
	{0x89, 0x3f, 0x00, 0x00, 0x00, 0xc5, 0x00, 0x00, 0x08, 0x00},
	{0x89, 0x3f, 0xa0, 0x00, 0x00, 0xc5, 0x00, 0x00, 0x81, 0x00},
	{0x89, 0x3f, 0x00, 0xc5, 0x11, 0x23, 0x00, 0x00, 0x08, 0x00},
	{0x89, 0x3f, 0x70, 0xc5, 0x20, 0xff, 0x12, 0x34, 0x08, 0x00},
}

// specFrames returns the spec's byte examples in whole frames: addresses,
// the header, an IPv4 or VLAN-tagged body, padded to 60 bytes, and the
// same header behind an 802.1Q tag.
func specFrames() [][]byte {
	addrs := []byte{0x02, 0, 0, 0, 0, 0x0b, 0x02, 0, 0, 0, 0, 0x0a}
	var out [][]byte
	for _, h := range specHeaders {
		fr := append(append([]byte{}, addrs...), h...)
		if h[len(h)-2] == 0x81 {
			fr = append(fr, 0x00, 0x0a, 0x08, 0x00)
		}
		fr = append(fr, 0x45)
		fr = append(fr, make([]byte, max(0, 60-len(fr)))...)
		out = append(out, fr)
		inVLAN := append(append(append([]byte{}, addrs...), 0x81, 0x00, 0x00, 0x14), fr[12:]...)
		out = append(out, inVLAN)
	}
	return out
}

// captureFiles are the third-party captures and the spec's verification
// captures that seed the decoders' corpora.
var captureFiles = []string{
	"corpus/vntag-sv-decode-vntag-01.pcap",
	"corpus/vntag-zeek-nsec.pcap",
	"corpus/vntag-in-vlan-zeek.pcap",
	"corpus/vntag-libpcap-mixed.pcap",
	"corpus/etag-sv-decode-etag-01.pcap",
	"corpus/etag-sv-decode-etag-02.pcap",
	"corpus/lldp-evb-cdcp-tcpdump.pcap",
	"corpus/lldp-evb-cdcp-malformed-tcpdump.pcap",
	"spec/pcaps/vntag.pcap",
	"spec/pcaps/etag.pcap",
	"spec/pcaps/vdp22.pcap",
	"spec/pcaps/lldpad-vdp22-live.pcap",
}

// captureFrames returns every frame of the seed captures that are there.
// The captures are extra seeds: a clone without ../shared gets none, and
// every target still runs on the seeds written here (the spec's byte
// examples, hand-built messages and frames) and the crashers under
// testdata/fuzz. Under NIV_REQUIRE_ALL a missing capture fails, through
// needs.
func captureFrames(tb testing.TB) [][]byte {
	tb.Helper()
	return sharedFrames(tb, captureFiles...)
}

// sharedFrames returns the frames of those of the shared captures rels
// that are there (needs.SharedIfPresent: left out in a clone without
// ../shared, a failure under NIV_REQUIRE_ALL).
func sharedFrames(tb testing.TB, rels ...string) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, rel := range rels {
		path, ok := needs.SharedIfPresent(tb, rel)
		if !ok {
			continue
		}
		r, err := os.Open(path)
		if err != nil {
			tb.Fatal(err)
		}
		pk, err := capture.ReadAll(r)
		r.Close()
		if err != nil {
			tb.Fatalf("%s: %v", filepath.Base(path), err)
		}
		for _, p := range pk {
			out = append(out, p.Data)
		}
	}
	return out
}

// nivHeaders returns, for every seed frame, the bytes from each VNTag or
// E-Tag TPID on, so tag decoders get real tags as seeds.
func nivHeaders(frames [][]byte) [][]byte {
	var out [][]byte
	for _, fr := range frames {
		for i := 12; i+1 < len(fr); i++ {
			if (fr[i] == 0x89 && fr[i+1] == 0x26) || (fr[i] == 0x89 && fr[i+1] == 0x3f) {
				out = append(out, fr[i:min(len(fr), i+16)])
			}
		}
	}
	return out
}

// drawFrame draws a frame for a rapid property: one of seeds as it is, one
// of seeds with a few bytes changed or cut short, or arbitrary bytes. It
// returns a copy the caller may change.
func drawFrame(t *rapid.T, seeds [][]byte) []byte {
	if len(seeds) == 0 || rapid.IntRange(0, 9).Draw(t, "arbitrary") == 0 {
		return rapid.SliceOfN(rapid.Byte(), 0, 128).Draw(t, "bytes")
	}
	fr := append([]byte(nil), rapid.SampledFrom(seeds).Draw(t, "seed")...)
	switch rapid.IntRange(0, 3).Draw(t, "mutation") {
	case 1:
		for range rapid.IntRange(1, 4).Draw(t, "changes") {
			if len(fr) > 0 {
				fr[rapid.IntRange(0, len(fr)-1).Draw(t, "at")] = rapid.Byte().Draw(t, "byte")
			}
		}
	case 2:
		fr = fr[:rapid.IntRange(0, len(fr)).Draw(t, "cut")]
	}
	return fr
}
