package dissect

import (
	"context"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/internal/capture"
	"github.com/nivkit/niv/internal/needs"
	"github.com/nivkit/niv/internal/tshark"
	"github.com/nivkit/niv/vdp/ecp"
)

func vdpFrame(t *testing.T, hexPDU string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(hexPDU), ""))
	require.NoError(t, err)
	fr, err := ecp.AppendFrame(nil, ecp.NearestCustomerBridge, [6]byte{2, 0, 0, 0, 0, 1}, ecp.Header{Version: 1, Subtype: 1, Seq: 1}, b, true)
	require.NoError(t, err)
	return fr
}

func values(f *Frame, name string) string {
	var s []string
	for _, x := range f.Get(name) {
		s = append(s, x.Value())
	}
	return strings.Join(s, ",")
}

// TestVDPFields: vdp-ecp.md §8 L1, with tshark's values for the fields it
// decodes right, and niv's own entry fields with the true entry (MAC
// 52:54:00:8e:aa:11 VID 100, which tshark mis-decodes); S3, a
// Pre-Associate, which niv decodes and tshark only names; a niv
// port-profile org TLV.
func TestVDPFields(t *testing.T) {
	var f Frame
	Dissect(vdpFrame(t, "0a10626c61626c6100000000000000000000 0621 00 000005 04 05 a141285760f74ce1e95a2164943f53aa 02 0001 5254008eaa11 0064"+
		"fe0c 0a6e76 01 7765622d74696572"), &f)
	require.NoError(t, f.Err)
	for name, want := range map[string]string{
		VDPTLVType: "5,3,127", VDPTLVLen: "16,33,12", VDPManagerID: "626c:6162:6c61::", VDPMBit: "0", VDPSBit: "0", VDPReqRsp: "0",
		VDPReason: "0", VDPTypeID: "5", VDPTypeVersion: "4", VDPIDFormat: "5", VDPVSIID: "a1:41:28:57:60:f7:4c:e1:e9:5a:21:64:94:3f:53:aa",
		VDPFilterFormat: "2", VDPEntries: "1", VDPMAC: "52:54:00:8e:aa:11", VDPVID: "100", VDPPS: "0", VDPPCP: "0",
		VDPOrgOUI: "683638", VDPProfile: "web-tier", VDPKeep: "", VDPMalformed: "",
	} {
		assert.Equal(t, want, values(&f, name), name)
	}
	Dissect(vdpFrame(t, "0a10676f7465737400000000000000000000 021f 10 000042 02 01 00000000000000000000ffffc0000207 03 0001 00001000 8064"), &f)
	for name, want := range map[string]string{
		VDPTLVType: "5,1", VDPMBit: "1", VDPTypeID: "66", VDPIDFormat: "1", VDPGroupID: "4096", VDPPS: "1", VDPVID: "100",
	} {
		assert.Equal(t, want, values(&f, name), name)
	}
	Dissect(vdpFrame(t, "0a10626c61626c6100000000000000000000 0622 00 000005"), &f)
	assert.Equal(t, "1", values(&f, VDPMalformed))
	l1 := vdpFrame(t, "0a10626c61626c6100000000000000000000 0621 00 000005 04 05 a141285760f74ce1e95a2164943f53aa 02 0001 5254008eaa11 0064")
	Dissect(l1, &f)
	assert.Zero(t, testing.AllocsPerRun(100, func() { Dissect(l1, &f) }), "a reused Frame dissects VDP without allocating")
}

// TestVDPCapturesMatchTshark: the spec's VDP captures (synthetic S1–S6
// and the live lldpad sessions): every vdp21 field of every frame whose
// VSI TLVs are Associate or De-Associate (the ones tshark decodes) equals
// tshark's; for the others, the TLV types and lengths and the Manager ID.
func TestVDPCapturesMatchTshark(t *testing.T) {
	bin := needs.Tool(t, "tshark")
	for _, rel := range []string{"spec/pcaps/vdp22.pcap", "spec/pcaps/lldpad-vdp22-live.pcap", "spec/pcaps/lldpad-recipe-run.pcap"} {
		t.Run(rel, func(t *testing.T) {
			path := needs.Shared(t, rel)
			r, err := os.Open(path)
			require.NoError(t, err)
			pk, err := capture.ReadAll(r)
			r.Close()
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			ts, err := tshark.Fields(ctx, bin, path, VDPNames)
			require.NoError(t, err)
			require.Len(t, ts, len(pk))
			n := 0
			for i, p := range pk {
				var f Frame
				Dissect(p.Data, &f)
				names := VDPNames
				for _, x := range f.Get(VDPTLVType) {
					if x.Num == 1 || x.Num == 2 {
						names = []string{VDPTLVType, VDPTLVLen, VDPManagerID}
					}
				}
				if len(f.Get(VDPTLVType)) > 0 {
					n++
				}
				assert.Empty(t, diffNames(p.Data, ts[i], names), "frame %d", i+1)
			}
			assert.NotZero(t, n)
		})
	}
}

// TestLLDPFields: the EVB and CDCP TLVs of tcpdump's evb.pcap (fields
// as tcpdump prints them, VECTORS.md §5) and the draft EVB TLV of §8 D3
// with tshark's names and values.
var evbFrame = "0180c200000e 0800270df13c 88cc 0207040800270df13c 0407030800270df13c 06020078 fe090080c20d0200f45f1f fe0b0080c20e000000a7001001 fe0d001b3f0080078007008000020e 0000"

func TestLLDPFields(t *testing.T) {
	fr, err := hex.DecodeString(strings.ReplaceAll(evbFrame, " ", ""))
	require.NoError(t, err)
	var f Frame
	Dissect(fr, &f)
	require.NoError(t, f.Err)
	for name, want := range map[string]string{
		EVBRRCAP: "1", EVBBGID: "0", EVBR: "7", EVBRTE: "20", EVBMode: "1", EVBRWD: "31", EVBRKA: "31", EVBROLRWD: "0",
		CDCPRole: "0", CDCPChnCap: "167", CDCPSCID: "1", CDCPSVID: "1",
		DraftSupportCaps: "32775", DraftConfigureCaps: "32775", DraftSupportedVSI: "128", DraftConfiguredVSI: "2", DraftRetransTimer: "14",
	} {
		assert.Equal(t, want, values(&f, name), name)
	}
}

// TestDraftEVBMatchesTshark: the draft EVB TLV fields equal tshark's.
func TestDraftEVBMatchesTshark(t *testing.T) {
	bin := needs.Tool(t, "tshark")
	fr, err := hex.DecodeString(strings.ReplaceAll(evbFrame, " ", ""))
	require.NoError(t, err)
	ts, err := tshark.Fields(context.Background(), bin, writePcap(t, [][]byte{fr}), DraftEVBNames)
	require.NoError(t, err)
	assert.Empty(t, diffNames(fr, ts[0], DraftEVBNames))
	assert.NotEmpty(t, ts[0][DraftRetransTimer], "tshark decoded the TLV")
}
