package dissect

import (
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vntag"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	require.NoError(t, err)
	return b
}

// The real Cisco Nexus 9396 frame of ../shared/corpus/VECTORS.md §7
// (Security Onion issue #1068), as tshark decoded it: VNTag src 20 in front
// of VLAN 101 and IPv4.
const nexusFrame = `00000c9ff065 6400f127f89e 8926
00000014 8100 0065 0800
450000b2401440007f06611e0a48fb700a4b4a10e48401bdd773e8e2f4f6341d50180202bdf5`

func TestNexusFrame(t *testing.T) {
	var f Frame
	Dissect(unhex(t, nexusFrame), &f)
	require.NoError(t, f.Err)
	want := map[string]string{
		EthDst: "00:00:0c:9f:f0:65", EthSrc: "64:00:f1:27:f8:9e", EthType: "0x8926",
		VNTagDir: "0", VNTagPtr: "0", VNTagDst: "0", VNTagLooped: "0", VNTagR: "0", VNTagVersion: "0",
		VNTagSrc: "20", VNTagEtype: "0x8100", VLANPriority: "0", VLANDEI: "0", VLANID: "101", VLANEtype: "0x0800",
	}
	got := map[string]string{}
	for _, x := range f.Fields {
		got[x.Name] = x.Value()
	}
	assert.Equal(t, want, got)
	assert.Equal(t, uint16(0x0800), f.Next)
	assert.Equal(t, 24, f.PayloadOffset)
}

func TestJSON(t *testing.T) {
	// V4 of the spec behind two 802.1Q tags: repeated names become arrays.
	frame := unhex(t, `ffffffffffff 020000000001 8100 a00a 8100 0014 8926 c0428005 0800 4500`)
	var f Frame
	Dissect(frame, &f)
	line := string(f.AppendJSON(nil, 7))
	assert.Equal(t, `{"frame": 7, "fields": {"eth.dst": "ff:ff:ff:ff:ff:ff", "eth.src": "02:00:00:00:00:01", "eth.type": "0x8100", `+
		`"vlan.priority": [5, 0], "vlan.dei": [0, 0], "vlan.id": [10, 20], "vlan.etype": ["0x8100", "0x8926"], `+
		`"vntag.dir": 1, "vntag.ptr": 1, "vntag.dst": 66, "vntag.looped": 1, "vntag.r": 0, "vntag.version": 0, "vntag.src": 5, "vntag.etype": "0x0800"}}`+"\n", line)
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(line), &v), "valid JSON")

	Dissect(frame[:20], &f)
	line = string(f.AppendJSON(nil, 8))
	require.NoError(t, json.Unmarshal([]byte(line), &v))
	assert.Equal(t, "vntag: 802.1Q at offset 16: buffer too short (need 6 bytes, have 4)", v["error"])
	assert.Equal(t, 10.0, v["fields"].(map[string]any)["vlan.id"], "what came before the error is kept")
}

func TestText(t *testing.T) {
	var f Frame
	Dissect(unhex(t, `ffffffffffff 020000000001 8100 a00a 8926 c0428005 893f 70c520ff1234 0800 4500`), &f)
	assert.Equal(t, "3 ff:ff:ff:ff:ff:ff > 02:00:00:00:00:01 802.1Q[priority=5 dei=0 id=10] "+
		"VNTag[dir=1 ptr=1 dst=66 looped=1 r=0 version=0 src=5] "+
		"E-Tag[pcp=3 dei=1 iecid_base=197 resv=0 group=2 ecid_base=255 iecid_ext=18 ecid_ext=52] type=0x0800 len=64\n",
		string(f.AppendText(nil, 3, 64)))

	Dissect(unhex(t, `ffffffffffff 020000000001 8926 c042`), &f)
	assert.Equal(t, "4 ff:ff:ff:ff:ff:ff > 02:00:00:00:00:01 len=16 error: vntag: VNTag at offset 12: buffer too short (need 8 bytes, have 4)\n",
		string(f.AppendText(nil, 4, 16)))
}

func TestQinQPairAsWiresharkShowsIt(t *testing.T) {
	var f Frame
	// 88a8 88a8 88a8: a pair (svid 10, cvid 20), then a single tag (id 21).
	Dissect(unhex(t, `001122334455 020000000001 88a8 a00a 88a8 0014 88a8 0015 0800`), &f)
	require.NoError(t, f.Err)
	vals := func(name string) []string {
		var s []string
		for _, x := range f.Get(name) {
			s = append(s, x.Value())
		}
		return s
	}
	assert.Equal(t, []string{"10"}, vals(ADSVID))
	assert.Equal(t, []string{"20"}, vals(ADCVID))
	assert.Equal(t, []string{"21"}, vals(ADID))
	assert.Equal(t, []string{"5", "0", "0"}, vals(ADPriority))
}

func TestLengthsAndInvalidTypes(t *testing.T) {
	var f Frame
	Dissect(unhex(t, `001122334455 020000000001 05dc`), &f)
	assert.Equal(t, "1500", f.Get(EthLen)[0].Value())
	Dissect(unhex(t, `001122334455 020000000001 0000`), &f)
	assert.Equal(t, "0x0000", f.Get(EthType)[0].Value(), "as Wireshark, 0 after the addresses is an EtherType")
	Dissect(unhex(t, `001122334455 020000000001 8926 00000005 0000`), &f)
	assert.Equal(t, "0", f.Get(VNTagLen)[0].Value(), "but a length after a VNTag")
	Dissect(unhex(t, `001122334455 020000000001 05dd`), &f)
	assert.Equal(t, "0x05dd", f.Get(EthInvalidLenType)[0].Value())
	Dissect(unhex(t, `001122334455 020000000001 8926 00000005 05dd`), &f)
	assert.Equal(t, "0x05dd", f.Get(VNTagEtype)[0].Value())
	Dissect(unhex(t, `001122334455 020000000001 8926 00000005 0040`), &f)
	assert.Equal(t, "64", f.Get(VNTagLen)[0].Value())
	Dissect(unhex(t, `001122334455 020000000001 893f 000000050000 0040`), &f)
	assert.Equal(t, "0x0040", f.Get(ETagEtype)[0].Value())
}

func TestTruncatedEverywhere(t *testing.T) {
	frame := unhex(t, `001122334455 020000000001 88a8 a00a 88a8 0014 9100 0001 8926 c0428005 893f 70c520ff1234 8100 0005 0800`)
	var f Frame
	Dissect(frame, &f)
	require.NoError(t, f.Err)
	for n := 0; n < len(frame); n++ {
		Dissect(frame[:n], &f)
		require.ErrorIs(t, f.Err, vntag.ErrShortBuffer, "cut at %d", n)
	}
}

func TestDissectAllocatesNothingOnceWarm(t *testing.T) {
	frame := unhex(t, nexusFrame)
	var f Frame
	Dissect(frame, &f)
	assert.Zero(t, testing.AllocsPerRun(100, func() { Dissect(frame, &f) }))
}

func TestJSONStringEscapes(t *testing.T) {
	got := string(appendJSONString(nil, []byte("a\"b\\c\x01\n\xffé")))
	assert.Equal(t, `"a\"b\\c\u0001\u000a\ufffdé"`, got)
	var s string
	require.NoError(t, json.Unmarshal([]byte(got), &s))
	assert.Equal(t, "a\"b\\c\x01\n\uFFFDé", s)
}
