package lldp_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/internal/capture"
	"github.com/nivkit/niv/internal/needs"
	"github.com/nivkit/niv/vdp/evb"
	"github.com/nivkit/niv/vdp/lldp"
)

var (
	reMode  = regexp.MustCompile(`EVB Mode: [^\[]*\[(\d+)\]`)
	rePair  = regexp.MustCompile(`([A-Za-z]+): ?(\d+)`)
	reFrame = regexp.MustCompile(`(?m)^\S`)
)

// tcpdumpView runs tcpdump -vv on the capture and returns, per frame, the
// EVB and CDCP fields it printed as "EVB BGID=0 RRCAP=1 …" and
// "CDCP Role=0 Scomp=0 ChnCap=167 SCID=1 SVID=1 …" lines (reserved bits
// left out).
func tcpdumpView(t *testing.T, path string, extra ...string) [][]string {
	bin := needs.Tool(t, "tcpdump")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, append([]string{"-nn", "-vv", "-r", path}, extra...)...).Output()
	require.NoError(t, err)
	text := string(out)
	starts := reFrame.FindAllStringIndex(text, -1)
	var frames [][]string
	for i, s := range starts {
		end := len(text)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		frames = append(frames, blocks(text[s[0]:end]))
	}
	return frames
}

func blocks(frame string) []string {
	var out []string
	for _, kind := range []string{"EVB", "CDCP"} {
		rest := frame
		for {
			i := strings.Index(rest, kind+" Subtype (")
			if i < 0 {
				break
			}
			rest = rest[i:]
			body := rest[strings.Index(rest, "\n")+1:]
			if j := strings.Index(body, "0x0000:"); j >= 0 {
				body = body[:j]
			}
			rest = rest[1:]
			body = reMode.ReplaceAllString(body, "Mode: $1")
			var kv []string
			for _, m := range rePair.FindAllStringSubmatch(body, -1) {
				if m[1] != "RES" {
					kv = append(kv, m[1]+"="+m[2])
				}
			}
			out = append(out, kind+" "+strings.Join(kv, " "))
		}
	}
	return out
}

func b01(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ourView is the same text from niv's decode of the frame.
func ourView(t *testing.T, frame []byte) []string {
	var p lldp.PDU
	if p.Decode(frame) != nil {
		return nil
	}
	var evbs, cdcps []string
	for _, v := range p.Org {
		if e, err := evb.Parse(v); err == nil {
			evbs = append(evbs, fmt.Sprintf("EVB BGID=%d RRCAP=%d RRCTR=%d SGID=%d RRREQ=%d RRSTAT=%d R=%d RTE=%d Mode=%d ROL=%d RWD=%d ROL=%d RKA=%d",
				b01(e.BGID), b01(e.RRCAP), b01(e.RRCTR), b01(e.SGID), b01(e.RRREQ), e.RRSTAT, e.R, e.RTE, e.Mode, b01(e.ROLRWD), e.RWD, b01(e.ROLRKA), e.RKA))
		}
		if c, err := evb.ParseCDCP(v); err == nil {
			s := fmt.Sprintf("CDCP Role=%d Scomp=%d ChnCap=%d", b01(c.Role), b01(c.SComp), c.ChnCap)
			for i := range c.Len() {
				ch := c.Channel(i)
				s += fmt.Sprintf(" SCID=%d SVID=%d", ch.SCID, ch.SVID)
			}
			cdcps = append(cdcps, s)
		}
	}
	return append(evbs, cdcps...)
}

func readFrames(t *testing.T, path string) [][]byte {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	pk, err := capture.ReadAll(f)
	require.NoError(t, err)
	var out [][]byte
	for _, p := range pk {
		out = append(out, p.Data)
	}
	return out
}

// TestTcpdumpCorpus: tcpdump's own EVB/CDCP captures (corpus
// lldp-evb-cdcp-tcpdump.pcap and its malformed sibling, whose 266-byte
// CDCP TLV carries 86 channels): niv's EVB and CDCP decode equals what
// tcpdump prints, frame by frame.
func TestTcpdumpCorpus(t *testing.T) {
	for _, rel := range []string{"corpus/lldp-evb-cdcp-tcpdump.pcap", "corpus/lldp-evb-cdcp-malformed-tcpdump.pcap"} {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			path := needs.Shared(t, rel)
			frames := readFrames(t, path)
			views := tcpdumpView(t, path)
			require.Len(t, views, len(frames))
			seen := 0
			for i, fr := range frames {
				ours := ourView(t, fr)
				if len(views[i]) == 0 && len(ours) == 0 {
					continue
				}
				seen++
				assert.Equal(t, views[i], ours, "frame %d", i+1)
			}
			assert.Equal(t, 1, seen, "one LLDPDU with EVB and CDCP TLVs")
		})
	}
}

// TestTcpdumpRandom: 500 LLDPDUs with random EVB and CDCP TLVs (0–20
// channels), built by niv, decode in tcpdump to the fields niv put in.
func TestTcpdumpRandom(t *testing.T) {
	needs.Tool(t, "tcpdump")
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("NIV_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("NIV_SEED=%d", seed)
	r := rand.New(rand.NewPCG(seed, 0x657662))
	var frames [][]byte
	for range 500 {
		e := evb.TLV{BGID: r.IntN(2) == 1, RRCAP: r.IntN(2) == 1, RRCTR: r.IntN(2) == 1, SGID: r.IntN(2) == 1,
			RRREQ: r.IntN(2) == 1, RRSTAT: evb.RRStat(r.IntN(4)), R: uint8(r.IntN(8)), RTE: uint8(r.IntN(32)),
			Mode: evb.Mode(r.IntN(4)), ROLRWD: r.IntN(2) == 1, RWD: uint8(r.IntN(32)), ROLRKA: r.IntN(2) == 1, RKA: uint8(r.IntN(32))}
		var chans []evb.Channel
		for range r.IntN(21) {
			chans = append(chans, evb.Channel{SCID: uint16(r.IntN(4096)), SVID: uint16(r.IntN(4096))})
		}
		c, err := evb.CDCP{Role: r.IntN(2) == 1, SComp: r.IntN(2) == 1, ChnCap: uint16(r.IntN(4096))}.AppendCDCP(nil, chans)
		require.NoError(t, err)
		fr, err := lldp.AppendFrame(nil, lldp.NearestCustomerBridge, [6]byte{2, 0, 0, 0, 0, 9},
			[]byte{lldp.ChassisMAC, 2, 0, 0, 0, 0, 9}, []byte{lldp.PortIfName, 'e', 't', 'h', '0'}, 120, e.AppendTLV(nil), c)
		require.NoError(t, err)
		frames = append(frames, fr)
	}
	path := filepath.Join(t.TempDir(), "lldp.pcap")
	require.NoError(t, capture.WritePcapFile(path, frames))
	views := tcpdumpView(t, path)
	require.Len(t, views, len(frames))
	for i, fr := range frames {
		ours := ourView(t, fr)
		require.Len(t, ours, 2)
		if !assert.Equal(t, views[i], ours, "frame %d", i+1) {
			break
		}
	}
}
