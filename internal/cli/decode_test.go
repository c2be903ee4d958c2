package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/internal/dissect"
	"github.com/nivkit/niv/internal/needs"
	"github.com/nivkit/niv/internal/tshark"
)

type decoded struct {
	Frame  int            `json:"frame"`
	Fields map[string]any `json:"fields"`
	Error  string         `json:"error"`
}

// decodeJSON runs `niv decode --json path` and parses its output.
func decodeJSON(t *testing.T, path string) []decoded {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run([]string{"decode", "--json", path}, nil, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	var out []decoded
	for _, line := range strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n") {
		var d decoded
		require.NoError(t, json.Unmarshal([]byte(line), &d), line)
		out = append(out, d)
	}
	return out
}

// values returns a JSON field's values as tshark.Canonical strings.
func values(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		var s []string
		for _, e := range x {
			s = append(s, values(e)...)
		}
		return s
	case float64:
		return []string{fmt.Sprint(uint64(x))}
	case string:
		return []string{tshark.Canonical(x)}
	}
	return []string{fmt.Sprintf("unexpected %T", v)}
}

// compareWithTshark decodes path with `niv decode --json` and with tshark
// and requires every field to agree; malformed frames must be malformed for
// both.
func compareWithTshark(t *testing.T, path string) int {
	bin := needs.Tool(t, "tshark")
	ours := decodeJSON(t, path)
	theirs, err := tshark.Fields(context.Background(), bin, path, append([]string{"_ws.malformed"}, dissect.Names...))
	require.NoError(t, err)
	require.Len(t, ours, len(theirs))
	for i, d := range ours {
		require.Equal(t, i+1, d.Frame)
		_, malformed := theirs[i]["_ws.malformed"]
		if d.Error != "" {
			assert.True(t, malformed, "frame %d: niv says %q, tshark finds no fault", d.Frame, d.Error)
			continue
		}
		for _, name := range dissect.Names {
			var want []string
			for _, v := range theirs[i][name] {
				want = append(want, tshark.Canonical(v))
			}
			assert.Equal(t, want, values(d.Fields[name]), "frame %d field %s", d.Frame, name)
		}
		for name := range d.Fields {
			assert.Contains(t, dissect.Names, name, "frame %d: field %s is not one of Wireshark's", d.Frame, name)
		}
	}
	return len(ours)
}

func TestSampleMatchesTshark(t *testing.T) {
	n := compareWithTshark(t, samplePath)
	assert.Equal(t, len(sampleFrames(t)), n)
}

func TestCorpusThroughTheCommand(t *testing.T) {
	for _, rel := range []string{
		"corpus/vntag-libpcap-mixed.pcap", // pcapng named .pcap, VNTag and untagged
		"corpus/vntag-zeek-nsec.pcap",     // nanosecond pcap
		"corpus/vntag-in-vlan-zeek.pcap",  // VLAN / VNTag / VLAN, truncated capture
		"corpus/etag-sv-decode-etag-02.pcap",
		"spec/pcaps/etag.pcap",
	} {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			compareWithTshark(t, needs.Shared(t, rel))
		})
	}
}

// The spec's tables: what tshark printed for V1-V4 and E1-E4, in the
// spec's column order.
func TestSampleSpecFields(t *testing.T) {
	d := decodeJSON(t, samplePath)
	vcols := []string{"vntag.dir", "vntag.ptr", "vntag.dst", "vntag.looped", "vntag.r", "vntag.version", "vntag.src", "vntag.etype", "vlan.id"}
	ecols := []string{"etag.pcp", "etag.dei", "etag.iecid_base", "etag.resv", "etag.group", "etag.ecid_base", "etag.iecid_ext", "etag.ecid_ext", "etag.etype", "vlan.id"}
	for i, want := range []string{
		"0 0 0 0 0 0 5 0x0800",
		"1 0 291 0 0 0 0 0x8100 100",
		"1 1 66 0 0 0 0 0x0800",
		"1 1 66 1 0 0 5 0x0800",
	} {
		assert.Equal(t, canonical(want), row(d[i], vcols), "V%d", i+1)
	}
	for i, want := range []string{
		"0 0 0x0000 0 0 0x00c5 0x00 0x00 0x0800",
		"5 0 0x0000 0 0 0x00c5 0x00 0x00 0x8100 100",
		"0 0 0x00c5 0 1 0x0123 0x00 0x00 0x0800",
		"3 1 0x00c5 0 2 0x00ff 0x12 0x34 0x0800",
	} {
		assert.Equal(t, canonical(want), row(d[4+i], ecols), "E%d", i+1)
	}
	assert.Contains(t, d[len(d)-1].Error, "buffer too short")
}

func canonical(s string) string {
	var out []string
	for _, f := range strings.Fields(s) {
		out = append(out, tshark.Canonical(f))
	}
	return strings.Join(out, " ")
}

func row(d decoded, cols []string) string {
	var out []string
	for _, c := range cols {
		out = append(out, values(d.Fields[c])...)
	}
	return strings.Join(out, " ")
}

func TestDecodeText(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"decode", samplePath}, nil, &stdout, &stderr), stderr.String())
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	require.Len(t, lines, len(sampleFrames(t)))
	assert.Equal(t, "4 ff:ff:ff:ff:ff:ff > 00:aa:bb:cc:dd:01 VNTag[dir=1 ptr=1 dst=66 looped=1 r=0 version=0 src=5] type=0x0800 len=60", lines[3])
	assert.Contains(t, lines[len(lines)-1], "error: vntag: VNTag at offset 12")
}

func TestDecodeStdin(t *testing.T) {
	data, err := os.ReadFile(samplePath)
	require.NoError(t, err)
	var a, b, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"decode", "--json", "-"}, bytes.NewReader(data), &a, &stderr))
	require.Equal(t, 0, run([]string{"decode", "--json", samplePath}, nil, &b, &stderr))
	assert.Equal(t, b.String(), a.String())
}

func TestDecodeFailures(t *testing.T) {
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 1, run([]string{"decode", "no/such/file.pcap"}, nil, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "no such file")

	stderr.Reset()
	notCapture := filepath.Join(t.TempDir(), "x.pcap")
	require.NoError(t, os.WriteFile(notCapture, []byte("this is not a capture"), 0o644))
	assert.Equal(t, 1, run([]string{"decode", notCapture}, nil, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "not a pcap or pcapng file")

	// A capture cut inside a record: the frames before it are printed, then
	// the read error, and the status says the file could not be read.
	data, err := os.ReadFile(samplePath)
	require.NoError(t, err)
	stdout.Reset()
	stderr.Reset()
	assert.Equal(t, 1, run([]string{"decode", "-"}, bytes.NewReader(data[:len(data)-40]), &stdout, &stderr))
	assert.Equal(t, len(sampleFrames(t))-1, strings.Count(stdout.String(), "\n"))
	assert.Contains(t, stderr.String(), fmt.Sprintf("frame %d", len(sampleFrames(t))))

	assert.Equal(t, 2, run([]string{"decode"}, nil, &stdout, &stderr))
	assert.Equal(t, 2, run([]string{"decode", "--bogus", "x"}, nil, &stdout, &stderr))
	assert.Equal(t, 2, run([]string{"frobnicate"}, nil, &stdout, &stderr))
	assert.Equal(t, 2, run(nil, nil, &stdout, &stderr))
	stdout.Reset()
	assert.Equal(t, 0, run([]string{"help"}, nil, &stdout, &stderr))
	assert.Contains(t, stdout.String(), "niv decode [--json] FILE")
}
