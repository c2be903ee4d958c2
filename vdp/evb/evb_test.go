package evb_test

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vdp/evb"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	require.NoError(t, err)
	return b
}

// TestLiveBytes: the EVB TLVs lldpad sent in the live run (vdp-ecp.md §5)
// and the one in tcpdump's evb.pcap (VECTORS.md §5) decode to their
// documented fields and re-encode to the same bytes.
func TestLiveBytes(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want evb.TLV
	}{
		{"lldpad bridge before the station", "fe 09 00 80 c2 0d 02 00 6e 54 14",
			evb.TLV{RRCAP: true, R: 3, RTE: 14, Mode: evb.ModeBridge, RWD: 20, RKA: 20}},
		{"lldpad bridge after", "fe 09 00 80 c2 0d 03 05 6e 74 34",
			evb.TLV{RRCAP: true, RRCTR: true, RRREQ: true, RRSTAT: 1, R: 3, RTE: 14, Mode: evb.ModeBridge, ROLRWD: true, RWD: 20, ROLRKA: true, RKA: 20}},
		{"lldpad station", "fe 09 00 80 c2 0d 03 05 6e b4 34",
			evb.TLV{RRCAP: true, RRCTR: true, RRREQ: true, RRSTAT: 1, R: 3, RTE: 14, Mode: evb.ModeStation, ROLRWD: true, RWD: 20, ROLRKA: true, RKA: 20}},
		{"station before a bridge (lldpad-peer.md)", "fe 09 00 80 c2 0d 00 07 6e 94 14",
			evb.TLV{RRREQ: true, RRSTAT: 3, R: 3, RTE: 14, Mode: evb.ModeStation, RWD: 20, RKA: 20}},
		{"tcpdump evb.pcap", "fe 09 00 80 c2 0d 02 00 f4 5f 1f",
			evb.TLV{RRCAP: true, R: 7, RTE: 20, Mode: evb.ModeBridge, RWD: 31, RKA: 31}},
		{"tcpdump lldp-infinite-loop-2.pcap", "fe 09 00 80 c2 0d 02 00 f5 5e 0f",
			evb.TLV{RRCAP: true, R: 7, RTE: 21, Mode: evb.ModeBridge, RWD: 30, RKA: 15}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := unhex(t, tt.hex)
			got, err := evb.Parse(b[2:])
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, b, got.AppendTLV(nil))
		})
	}
}

// TestParseErrors: the sentinels.
func TestParseErrors(t *testing.T) {
	_, err := evb.Parse(unhex(t, "0080c20d0200f45f"))
	assert.ErrorIs(t, err, evb.ErrShortBuffer)
	_, err = evb.Parse(unhex(t, "0080c20e0200f45f1f"))
	assert.ErrorIs(t, err, evb.ErrOUI)
	_, err = evb.Parse(unhex(t, "0080c20d0200f45f1f00"))
	assert.ErrorIs(t, err, evb.ErrLength)
	assert.ErrorIs(t, evb.TLV{RTE: 32}.Check(), evb.ErrRange)
	assert.ErrorIs(t, evb.TLV{R: 8}.Check(), evb.ErrRange)
}

// TestNegotiateOpenLLDP: Negotiate reproduces lldpad's replies in
// openlldp's qbg22 tests (VECTORS.md §6b). The local configurations are
// the tests' lldpad.conf values as the replies show them: a station with
// R 3, RTE 8, RWD 8, RKA 8 (RRREQ and SGID as each test sets them), and a
// bridge with R 5, RTE 6, RWD 24, RKA 24.
func TestNegotiateOpenLLDP(t *testing.T) {
	st := evb.TLV{Mode: evb.ModeStation, R: 3, RTE: 8, RWD: 8, RKA: 8}
	stRR := st
	stRR.RRREQ = true
	stGID := stRR
	stGID.SGID = true
	br := evb.TLV{Mode: evb.ModeBridge, R: 5, RTE: 6, RWD: 24, RKA: 24}
	brRR := br
	brRR.RRCAP = true
	brGID := brRR
	brGID.BGID = true
	tests := []struct {
		test        string
		local       evb.TLV
		sent, reply string
	}{
		{"ecp22/1, evb22/1", st, "00 00 00 40 00", "00 00 68 88 08"},
		{"evb22/3", stRR, "00 00 00 40 00", "00 04 68 88 08"},
		{"ecp22/2", stRR, "02 00 00 40 00", "02 04 68 88 08"},
		{"evb22/2", st, "02 00 00 40 00", "02 00 68 88 08"},
		{"evb22/21", stGID, "02 00 00 40 00", "02 0c 68 88 08"},
		{"ecp22/2 RRCTR", stRR, "03 04 00 00 00", "03 05 68 88 08"},
		{"ecp22/2 RRCTR 2", stRR, "03 05 00 00 00", "03 05 68 88 08"},
		{"ecp22/11 RTE 15", stRR, "03 05 6f 00 00", "03 05 6f 88 08"},
		{"evb22/3 station octet ignored", stRR, "00 04 00 40 00", "00 04 68 88 08"},
		{"evb22/5", stRR, "00 06 00 40 00", "00 04 68 88 08"},
		{"evb22/5 RRCTR", stRR, "03 04 00 40 00", "03 05 68 88 08"},
		{"evb22/7 RTE", stRR, "00 00 1f 40 00", "00 04 7f 88 08"},
		{"evb22/9 RKA", stRR, "00 00 00 04 1f", "00 04 68 88 3f"},
		{"evb22/11 RWD", stRR, "00 00 00 5f 00", "00 04 68 bf 08"},
		{"evb22/13 retries", stRR, "00 00 e0 40 00", "00 04 e8 88 08"},
		{"evb22/20", stRR, "06 00 00 40 00", "06 04 68 88 08"},
		{"evb22/22", stGID, "06 00 00 40 00", "06 0c 68 88 08"},
		{"evb22/20 RRCTR", stRR, "07 04 00 00 00", "07 05 68 88 08"},
		{"evb22/21 RRCTR", stGID, "03 0c 00 00 00", "03 0d 68 88 08"},
		{"evb22/22 GID", stGID, "07 0c 00 00 00", "07 0d 68 88 08"},
		{"evb22/23", stGID, "03 0d 00 00 00", "03 0d 68 88 08"},
		{"evb22/24", stGID, "07 0d 00 40 00", "07 0d 68 88 08"},
		{"evb22/30 bridge", br, "00 00 00 00 00", "00 00 a6 58 18"},
		{"evb22/30 bridge echoes", br, "00 01 00 80 00", "00 01 a6 58 18"},
		{"evb22/31", brRR, "00 01 00 80 00", "02 01 a6 58 18"},
		{"evb22/32", brGID, "00 01 00 80 00", "06 01 a6 58 18"},
		{"evb22/31 b", brRR, "02 00 00 00 00", "02 00 a6 58 18"},
		{"evb22/32 b", brGID, "06 00 00 00 00", "06 00 a6 58 18"},
		{"evb22/33", brGID, "00 0d 00 80 00", "07 0d a6 58 18"},
		{"evb22/33 b", brGID, "07 0e 00 00 00", "07 0e a6 58 18"},
	}
	for _, tt := range tests {
		t.Run(tt.test, func(t *testing.T) {
			peer, err := evb.Parse(append(unhex(t, "0080c20d"), unhex(t, tt.sent)...))
			require.NoError(t, err)
			got := evb.Negotiate(tt.local, peer)
			body := got.Body()
			assert.Equal(t, unhex(t, tt.reply), body[:], "reply to %s", tt.sent)
		})
	}
}

// TestDraft: the draft-0.2 EVB TLV of vdp-ecp.md §8 D3, with the values
// tshark 4.0.17 prints for it.
func TestDraft(t *testing.T) {
	b := unhex(t, "fe 0d 00 1b 3f 00 80 07 80 07 00 80 00 02 0e")
	d, err := evb.ParseDraft(b[2:])
	require.NoError(t, err)
	assert.Equal(t, evb.Draft{SupportedMode: evb.DraftModeSTD, SupportedCaps: evb.DraftCapRTE | evb.DraftCapECP | evb.DraftCapVDP,
		ConfiguredMode: 0x80, ConfiguredCaps: 7, SupportedVSIs: 128, ConfiguredVSIs: 2, RTE: 14}, d)
	assert.Equal(t, b, d.AppendTLV(nil))
	_, err = evb.ParseDraft(b[2:14])
	assert.ErrorIs(t, err, evb.ErrShortBuffer)
	_, err = evb.ParseDraft(unhex(t, "0080c20d 80 07 80 07 00 80 00 02 0e"))
	assert.ErrorIs(t, err, evb.ErrOUI)
}

// TestCDCP: the CDCP TLV of tcpdump's evb.pcap (VECTORS.md §5: Role 0,
// SComp 0, ChnCap 167, SCID 1 SVID 1) and encoding of several channels.
func TestCDCP(t *testing.T) {
	b := unhex(t, "fe 0b 00 80 c2 0e 00 00 00 a7 00 10 01")
	c, err := evb.ParseCDCP(b[2:])
	require.NoError(t, err)
	assert.False(t, c.Role)
	assert.False(t, c.SComp)
	assert.EqualValues(t, 167, c.ChnCap)
	require.Equal(t, 1, c.Len())
	assert.Equal(t, evb.Channel{SCID: 1, SVID: 1}, c.Channel(0))
	out, err := c.AppendCDCP(nil, []evb.Channel{{1, 1}})
	require.NoError(t, err)
	assert.Equal(t, b, out)

	chans := []evb.Channel{{1, 1}, {2, 100}, {4095, 4094}}
	out, err = evb.CDCP{Role: true, SComp: true, ChnCap: 3}.AppendCDCP(nil, chans)
	require.NoError(t, err)
	assert.Equal(t, unhex(t, "fe 11 0080c20e 88 00 0003 001001 002064 fffffe"), out)
	c, err = evb.ParseCDCP(out[2:])
	require.NoError(t, err)
	for i, ch := range chans {
		assert.Equal(t, ch, c.Channel(i))
	}
	_, err = evb.ParseCDCP(unhex(t, "0080c20e 00 00 00a7 0010"))
	assert.ErrorIs(t, err, evb.ErrLength)
	_, err = evb.CDCP{ChnCap: 4096}.AppendCDCP(nil, nil)
	assert.ErrorIs(t, err, evb.ErrRange)
	_, err = evb.CDCP{}.AppendCDCP(nil, []evb.Channel{{SCID: 4096}})
	assert.ErrorIs(t, err, evb.ErrRange)
}
