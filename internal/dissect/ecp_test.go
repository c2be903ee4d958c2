package dissect

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/internal/capture"
	"github.com/nivkit/niv/internal/needs"
	"github.com/nivkit/niv/internal/tshark"
	"github.com/nivkit/niv/vdp/ecp"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vntag"
)

func diffNames(data []byte, ts tshark.Frame, names []string) []string {
	var f Frame
	Dissect(data, &f)
	var diffs []string
	for _, name := range names {
		var ours, theirs []string
		for _, x := range f.Get(name) {
			ours = append(ours, tshark.Canonical(x.Value()))
		}
		for _, v := range ts[name] {
			theirs = append(theirs, tshark.Canonical(v))
		}
		if strings.Join(ours, ",") != strings.Join(theirs, ",") {
			diffs = append(diffs, name+": niv "+strings.Join(ours, ",")+", tshark "+strings.Join(theirs, ","))
		}
	}
	if f.Err != nil {
		diffs = append(diffs, "niv error: "+f.Err.Error())
	}
	return diffs
}

// TestECPCapturesMatchTshark: every frame of the spec's ECP captures —
// the synthetic examples and the live lldpad sessions — decodes to the same
// ecp.ver, ecp.op, ecp.subtype and ecp.seqno in niv and in tshark's ecp21
// dissector (frames without ECP have none in either).
func TestECPCapturesMatchTshark(t *testing.T) {
	bin := needs.Tool(t, "tshark")
	total := 0
	for _, rel := range []string{"spec/pcaps/vdp22.pcap", "spec/pcaps/lldpad-vdp22-live.pcap", "spec/pcaps/lldpad-recipe-run.pcap"} {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			path := needs.Shared(t, rel)
			fh, err := os.Open(path)
			require.NoError(t, err)
			defer fh.Close()
			pk, err := capture.ReadAll(fh)
			require.NoError(t, err)
			ts, err := tshark.Fields(context.Background(), bin, path, ECPNames)
			require.NoError(t, err)
			require.Len(t, ts, len(pk))
			n := 0
			for i, p := range pk {
				if d := diffNames(p.Data, ts[i], ECPNames); len(d) > 0 {
					t.Errorf("frame %d:\n  %s", p.Number, strings.Join(d, "\n  "))
				}
				if len(ts[i][ECPSeqNo]) > 0 {
					n++
				}
			}
			require.Positive(t, n, "the capture has ECP frames")
			total += n
		})
	}
	t.Logf("%d ECP frames compared", total)
}

// ourECPFrames builds ECP frames with niv's encoders: every operation,
// versions 0, 1 and 15, several subtypes and sequence numbers, padded and
// unpadded, and the vic messages of vic/PROTOCOL.md as subtype-2 payloads.
func ourECPFrames(t *testing.T) (frames [][]byte, vicPayloads map[int][]byte) {
	src := [6]byte{2, 0, 0, 0, 0, 9}
	vicPayloads = map[int][]byte{}
	for _, ver := range []uint8{0, 1, 15} {
		for op := ecp.Op(0); op < 4; op++ {
			for _, st := range []ecp.Subtype{1, 2, 3, 15, 1023} {
				for _, seq := range []uint16{0, 1, 4644, 65535} {
					h := ecp.Header{Version: ver, Op: op, Subtype: st, Seq: seq}
					fr, err := ecp.AppendFrame(nil, ecp.NearestCustomerBridge, src, h, nil, seq%2 == 0)
					require.NoError(t, err)
					frames = append(frames, fr)
				}
			}
		}
	}
	msgs := []vic.Message{
		{Command: vic.CmdOpen, Session: 7, TxID: 1, Present: vic.FieldCaps | vic.FieldPeerSession,
			Caps: vic.Capabilities{Mode: vntag.ModeVNTag, MaxVIFs: 1024, KeepaliveMS: 1000}},
		{Command: vic.CmdVIFAlloc, Session: 7, TxID: 2, Present: vic.FieldMAC | vic.FieldProfile | vic.FieldInstance | vic.FieldVLAN | vic.FieldLink | vic.FieldEpoch,
			MAC: [6]byte{0x52, 0x54, 0, 0x8e, 0xaa, 0x11}, Profile: []byte("web"), Instance: vic.UUID{1, 2, 3}, VLAN: 100, Up: true, Epoch: 1},
		{Command: vic.CmdVIFAlloc, Response: true, Session: 9, TxID: 2, Result: vic.ResultSuccess,
			Present: vic.FieldInstance | vic.FieldVIF | vic.FieldVEth, Instance: vic.UUID{1, 2, 3}, VIF: 5, VEth: 42},
		{Command: vic.CmdVIFList, Session: 9, TxID: 3, Present: vic.FieldVIFList, ListID: 7, Members: []vntag.VIF{5, 6, 9}},
	}
	for i, m := range msgs {
		p, err := m.AppendBinary(nil)
		require.NoError(t, err)
		fr, err := ecp.AppendFrame(nil, ecp.NearestCustomerBridge, src, ecp.Header{Version: 1, Subtype: ecp.SubtypePECSP, Seq: uint16(100 + i)}, p, true)
		require.NoError(t, err)
		vicPayloads[len(frames)] = p
		frames = append(frames, fr)
	}
	return frames, vicPayloads
}

// TestOurECPMatchesTshark: tshark decodes niv's ECP frames as ecp21 with
// the header fields niv meant, and shows a vic message's bytes as the
// subtype-2 payload (data.data), exactly as niv encoded them.
func TestOurECPMatchesTshark(t *testing.T) {
	bin := needs.Tool(t, "tshark")
	frames, vicPayloads := ourECPFrames(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fields := append([]string{"frame.protocols", "data.data"}, ECPNames...)
	ts, err := tshark.Fields(ctx, bin, writePcap(t, frames), fields)
	require.NoError(t, err)
	require.Len(t, ts, len(frames))
	for i, fr := range frames {
		require.Contains(t, ts[i]["frame.protocols"][0], "ecp21", "frame %d", i+1)
		if d := diffNames(fr, ts[i], ECPNames); len(d) > 0 {
			t.Errorf("frame %d (% x):\n  %s", i+1, fr[12:18], strings.Join(d, "\n  "))
		}
		if p, ok := vicPayloads[i]; ok {
			require.Len(t, ts[i]["data.data"], 1, "frame %d", i+1)
			got := strings.ReplaceAll(ts[i]["data.data"][0], ":", "")
			// tshark's data runs to the end of the frame, padding included.
			assert.True(t, strings.HasPrefix(got, hex.EncodeToString(p)), "frame %d: tshark data %s, vic %x", i+1, got, p)
		}
	}
}

// TestVICFields: a vic message in an ECP frame shows with niv's vic.*
// names, and `niv decode --json` prints them.
func TestVICFields(t *testing.T) {
	frames, vicPayloads := ourECPFrames(t)
	var idx []int
	for i := range vicPayloads {
		idx = append(idx, i)
	}
	var f Frame
	for _, i := range idx {
		Dissect(frames[i], &f)
		require.NoError(t, f.Err)
		require.Len(t, f.Get(VICCommand), 1)
		require.Empty(t, f.Get(VICError))
	}
	Dissect(frames[len(frames)-1], &f)
	js := string(f.AppendJSON(nil, 1))
	assert.Contains(t, js, `"ecp.subtype": 2`)
	assert.Contains(t, js, `"vic.command": 7`)
	assert.Contains(t, js, `"vic.member": [5, 6, 9]`)
	Dissect(frames[len(frames)-3], &f)
	js = string(f.AppendJSON(nil, 1))
	assert.Contains(t, js, `"vic.mac": "52:54:00:8e:aa:11"`)
	assert.Contains(t, js, `"vic.vlan": 100`)
	assert.Contains(t, js, `"vic.profile": "web"`)
	assert.Contains(t, js, `"vic.instance": "01020300-0000-0000-0000-000000000000"`)
	assert.Contains(t, string(f.AppendText(nil, 1, 60)), `profile="web"`)

	// A damaged vic message is flagged, not decoded.
	bad := append([]byte(nil), frames[len(frames)-1]...)
	bad[18+6] = 9 // version 9
	Dissect(bad, &f)
	assert.Len(t, f.Get(VICError), 1)
	assert.Empty(t, f.Get(VICCommand))

	// A truncated ECP header is an error, as for the tags.
	Dissect(frames[0][:16], &f)
	assert.Error(t, f.Err)
}

// TestVICVersionTLV: the version TLV of vic version 2 (vic/PROTOCOL.md,
// §3 and example P6: `18 01 02`, type 12, length 1, version 2) shows as
// vic.version; a version-1 open, which has none, shows no vic.version.
func TestVICVersionTLV(t *testing.T) {
	p6 := []byte{
		0xfe, 0x16, 0x6e, 0x69, 0x76, 0x63, 0x01, 0x01, 0x00, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
		0x02, 0x06, 0x02, 0x00, 0x13, 0x88, 0x03, 0xe8,
		0x04, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x18, 0x01, 0x02,
	}
	frame := func(msg []byte) []byte {
		b := []byte{0x01, 0x80, 0xc2, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x89, 0x40, 0x10, 0x02, 0x00, 0x07}
		b = append(b, msg...)
		for len(b) < 60 {
			b = append(b, 0)
		}
		return b
	}
	var f Frame
	Dissect(frame(p6), &f)
	require.NoError(t, f.Err)
	require.Empty(t, f.Get(VICError))
	require.Len(t, f.Get(VICVersion), 1)
	assert.Equal(t, uint64(2), f.Get(VICVersion)[0].Num)
	assert.Contains(t, string(f.AppendJSON(nil, 1)), `"vic.version": 2`)
	assert.Contains(t, VICNames, VICVersion)

	v1 := append([]byte(nil), p6[:len(p6)-3]...) // P1: the same open without the TLV
	Dissect(frame(v1), &f)
	require.NoError(t, f.Err)
	require.Len(t, f.Get(VICCommand), 1)
	assert.Empty(t, f.Get(VICVersion))
}
