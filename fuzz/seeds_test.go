package fuzz

import (
	"os"
	"path/filepath"
	"testing"

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

// captureFrames returns every frame of the seed captures. A missing shared
// folder skips the seeding (and fails under NIV_REQUIRE_ALL, through needs).
func captureFrames(f *testing.F) [][]byte {
	f.Helper()
	var out [][]byte
	for _, rel := range captureFiles {
		path := needs.Shared(f, rel)
		r, err := os.Open(path)
		if err != nil {
			f.Fatal(err)
		}
		pk, err := capture.ReadAll(r)
		r.Close()
		if err != nil {
			f.Fatalf("%s: %v", filepath.Base(path), err)
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
