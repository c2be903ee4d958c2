package cli

import (
	"context"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/internal/capture"
	"github.com/nivkit/niv/internal/dissect"
	"github.com/nivkit/niv/internal/needs"
	"github.com/nivkit/niv/internal/tshark"
)

// TestDecodeVDPAndEVB: `niv decode --json` on lldpad's Associate request
// (vdp-ecp.md §8 L1, padded to 71 bytes as lldpad sends it) and an LLDPDU
// with lldpad's bridge EVB TLV (§5): the VDP fields under tshark's
// vdp21.* names with tshark's values, the filter entry under niv's own
// (the true MAC and VID, which tshark mis-decodes), the EVB fields under
// niv's evb.* names.
func TestDecodeVDPAndEVB(t *testing.T) {
	frames := []string{
		"0180c2000000 020000000001 8940 10010001 0a10626c61626c6100000000000000000000" +
			"0621 00 000005 04 05 a141285760f74ce1e95a2164943f53aa 02 0001 5254008eaa11 0064",
		"0180c2000000 020000000002 88cc 020704020000000002 040703020000000002 06020078 fe090080c20d02006e5414 0000" +
			"000000000000000000",
	}
	var bs [][]byte
	for _, s := range frames {
		b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
		require.NoError(t, err)
		bs = append(bs, b)
	}
	path := filepath.Join(t.TempDir(), "vdp.pcap")
	require.NoError(t, capture.WritePcapFile(path, bs))

	ours := decodeJSON(t, path)
	require.Len(t, ours, 2)
	for name, want := range map[string][]string{
		"vdp21.tlvtype": {"5", "3"}, "vdp21.tlvlen": {"16", "33"}, "vdp21.manager_id": {"626c:6162:6c61::"},
		"vdp21.vsitypeid": {"5"}, "vdp21.vsiversion": {"4"}, "vdp21.vsiidformat": {"5"}, "vdp21.filterformat": {"2"},
		"vdp.filter.mac": {"52:54:00:8e:aa:11"}, "vdp.filter.vid": {"100"},
	} {
		assert.Equal(t, want, values(ours[0].Fields[name]), name)
	}
	for name, want := range map[string][]string{
		"evb.rrcap": {"1"}, "evb.r": {"3"}, "evb.rte": {"14"}, "evb.mode": {"1"}, "evb.rwd": {"20"}, "evb.rka": {"20"},
	} {
		assert.Equal(t, want, values(ours[1].Fields[name]), name)
	}

	bin := needs.Tool(t, "tshark")
	theirs, err := tshark.Fields(context.Background(), bin, path, dissect.VDPNames)
	require.NoError(t, err)
	for _, name := range dissect.VDPNames {
		var want []string
		for _, v := range theirs[0][name] {
			want = append(want, tshark.Canonical(v))
		}
		assert.Equal(t, want, values(ours[0].Fields[name]), "tshark's %s", name)
	}
}
