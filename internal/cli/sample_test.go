package cli

import (
	"bytes"
	"encoding/hex"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/internal/capture"
)

// samplePath is the capture the README's first command decodes.
const samplePath = "testdata/sample.pcapng"

var update = flag.Bool("update", false, "rewrite testdata/sample.pcapng from sampleFrames")

// sampleFrames returns the frames of the sample capture, built by hand from
// the byte examples of ../shared/spec/vntag.md (V1-V4, E1-E4) and from
// real-world layouts: the Zeek "VLAN sandwich", an S-tagged VNTag, the
// Cisco Nexus frame of ../shared/corpus/VECTORS.md §7, and a frame cut
// inside its VNTag. Its decode is checked against tshark (TestSampleMatchesTshark)
// and against the spec's tables (TestSampleSpecFields), not against an
// earlier run of niv.
func sampleFrames(t testing.TB) [][]byte {
	ip := "45000014000000004000fd00c0000201c0000202" // IPv4 192.0.2.1 → 192.0.2.2, protocol 253
	frame := func(s string) []byte {
		b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
		require.NoError(t, err)
		if len(b) < 60 && len(b) > 16 {
			b = append(b, make([]byte, 60-len(b))...)
		}
		return b
	}
	uni := "001122334455 00aabbccdd01"
	bcast := "ffffffffffff 00aabbccdd01"
	mcast := "01005e000001 00aabbccdd01"
	return [][]byte{
		frame(uni + " 8926 00000005 0800 " + ip),                     // V1
		frame(uni + " 8926 81230000 8100 0064 0800 " + ip),           // V2
		frame(bcast + " 8926 c0420000 0800 " + ip),                   // V3
		frame(bcast + " 8926 c0428005 0800 " + ip),                   // V4
		frame(uni + " 893f 000000c50000 0800 " + ip),                 // E1
		frame(uni + " 893f a00000c50000 8100 0064 0800 " + ip),       // E2
		frame(mcast + " 893f 00c511230000 0800 " + ip),               // E3
		frame(uni + " 893f 70c520ff1234 0800 " + ip),                 // E4
		frame(uni + " 8100 00fa 8926 00000033 8100 00fa 0800 " + ip), // VLAN sandwich
		frame(uni + " 88a8 a00a 8926 00000007 8100 0014 0800 " + ip), // S-tag, VNTag, C-tag
		frame(`00000c9ff065 6400f127f89e 8926 00000014 8100 0065 0800
			450000b2401440007f06611e0a48fb700a4b4a10e48401bdd773e8e2f4f6341d50180202bdf5`), // Nexus 9396
		frame(uni + " 8926 c042"), // cut inside the VNTag: left as it is, not padded
	}
}

func TestSampleIsCurrent(t *testing.T) {
	frames := sampleFrames(t)
	if *update {
		var buf bytes.Buffer
		w, err := pcapgo.NewNgWriter(&buf, layers.LinkTypeEthernet)
		require.NoError(t, err)
		for i, f := range frames {
			ci := gopacket.CaptureInfo{Timestamp: time.Date(2026, 11, 21, 0, 0, i, 0, time.UTC),
				CaptureLength: len(f), Length: len(f)}
			require.NoError(t, w.WritePacket(ci, f))
		}
		require.NoError(t, w.Flush())
		require.NoError(t, os.WriteFile(samplePath, buf.Bytes(), 0o644))
	}
	f, err := os.Open(samplePath)
	require.NoError(t, err)
	defer f.Close()
	pk, err := capture.ReadAll(f)
	require.NoError(t, err)
	require.Len(t, pk, len(frames), "regenerate with: go test ./internal/cli -run TestSampleIsCurrent -update")
	for i := range frames {
		require.Equal(t, frames[i], pk[i].Data, "frame %d; regenerate with -update", i+1)
	}
}
