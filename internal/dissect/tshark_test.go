package dissect

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/internal/capture"
	"github.com/nivkit/niv/internal/needs"
	"github.com/nivkit/niv/internal/tshark"
)

// diffFrame compares our dissection of one frame with tshark's, field by
// field over every field name we produce, and returns the differences.
func diffFrame(data []byte, ts tshark.Frame) []string {
	var f Frame
	Dissect(data, &f)
	var diffs []string
	for _, name := range Names {
		var ours []string
		for _, x := range f.Get(name) {
			ours = append(ours, tshark.Canonical(x.Value()))
		}
		var theirs []string
		for _, v := range ts[name] {
			theirs = append(theirs, tshark.Canonical(v))
		}
		if strings.Join(ours, ",") != strings.Join(theirs, ",") {
			diffs = append(diffs, fmt.Sprintf("%s: niv %v, tshark %v", name, ours, theirs))
		}
	}
	if f.Err != nil {
		diffs = append(diffs, "niv error: "+f.Err.Error())
	}
	return diffs
}

func writePcap(t *testing.T, frames [][]byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "frames.pcap")
	out, err := os.Create(path)
	require.NoError(t, err)
	w := pcapgo.NewWriter(out)
	require.NoError(t, w.WriteFileHeader(65535, layers.LinkTypeEthernet))
	for i, fr := range frames {
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(int64(i), 0), CaptureLength: len(fr), Length: len(fr)}
		require.NoError(t, w.WritePacket(ci, fr))
	}
	require.NoError(t, out.Close())
	return path
}

// TestDifferentialTshark: 10,000 random VNTag and E-Tag frames in random
// VLAN stackings, decoded by tshark and by niv, equal field for field.
// NIV_SEED replays a failing run.
func TestDifferentialTshark(t *testing.T) {
	bin := needs.Tool(t, "tshark")
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("NIV_SEED"); s != "" {
		var err error
		seed, err = strconv.ParseUint(s, 10, 64)
		require.NoError(t, err)
	}
	t.Logf("NIV_SEED=%d", seed)
	r := rand.New(rand.NewPCG(seed, 0x6e6976))

	const n = 10000
	frames := make([][]byte, n)
	var vn, et int
	for i := range frames {
		frames[i] = genFrame(r)
		var f Frame
		Dissect(frames[i], &f)
		if len(f.Get(VNTagDir)) > 0 {
			vn++
		}
		if len(f.Get(ETagPCP)) > 0 {
			et++
		}
	}
	t.Logf("%d frames: %d with a VNTag, %d with an E-Tag", n, vn, et)
	require.Greater(t, vn, n/3)
	require.Greater(t, et, n/5)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	got, err := tshark.Fields(ctx, bin, writePcap(t, frames), Names)
	require.NoError(t, err)
	require.Len(t, got, n)
	bad := 0
	for i, fr := range frames {
		if d := diffFrame(fr, got[i]); len(d) > 0 {
			bad++
			if bad <= 10 {
				t.Errorf("frame %d (% x):\n  %s", i+1, fr[:min(len(fr), 48)], strings.Join(d, "\n  "))
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d frames differ from tshark (NIV_SEED=%d)", bad, n, seed)
	}
}

// TestCorpusMatchesTshark: every frame of every capture in ../shared/corpus
// and ../shared/spec/pcaps, dissected by niv and by tshark, equal field for
// field.
func TestCorpusMatchesTshark(t *testing.T) {
	bin := needs.Tool(t, "tshark")
	files := []string{
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
	}
	total := 0
	for _, rel := range files {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			path := needs.Shared(t, rel)
			f, err := os.Open(path)
			require.NoError(t, err)
			defer f.Close()
			pk, err := capture.ReadAll(f)
			require.NoError(t, err)
			ts, err := tshark.Fields(context.Background(), bin, path, Names)
			require.NoError(t, err)
			require.Len(t, ts, len(pk))
			for i, p := range pk {
				if d := diffFrame(p.Data, ts[i]); len(d) > 0 {
					t.Errorf("frame %d:\n  %s", p.Number, strings.Join(d, "\n  "))
				}
			}
			total += len(pk)
		})
	}
	t.Logf("%d frames compared", total)
}
