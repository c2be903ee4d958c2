package vic_test

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vntag"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	require.NoError(t, err)
	return b
}

var uuid1 = vic.UUID{0xa1, 0x41, 0x28, 0x57, 0x60, 0xf7, 0x4c, 0xe1, 0xe9, 0x5a, 0x21, 0x64, 0x94, 0x3f, 0x53, 0xaa}

// protocolExamples are the byte examples of vic/PROTOCOL.md §4, written
// there by hand from the layout tables (not produced by this encoder).
var protocolExamples = []struct {
	name string
	hex  string
	msg  vic.Message
}{
	{"P1 open request", `fe 16 6e 69 76 63 01 01 00 00 11 22 33 44 55 66 77 88 00 00 00 01 00 00
		02 06 01 00 04 00 03 e8
		04 08 00 00 00 00 00 00 00 00`,
		vic.Message{Command: vic.CmdOpen, Session: 0x1122334455667788, TxID: 1,
			Present: vic.FieldCaps | vic.FieldPeerSession, Caps: vic.Capabilities{Mode: vntag.ModeVNTag, MaxVIFs: 1024, KeepaliveMS: 1000}}},
	{"P2 vif-alloc request", `fe 16 6e 69 76 63 01 03 00 00 11 22 33 44 55 66 77 88 00 00 00 02 00 00
		06 06 52 54 00 8e aa 11
		08 03 77 65 62
		0a 10 a1 41 28 57 60 f7 4c e1 e9 5a 21 64 94 3f 53 aa
		0c 02 00 64
		12 01 01
		14 04 00 00 00 01`,
		vic.Message{Command: vic.CmdVIFAlloc, Session: 0x1122334455667788, TxID: 2,
			Present: vic.FieldMAC | vic.FieldProfile | vic.FieldInstance | vic.FieldVLAN | vic.FieldLink | vic.FieldEpoch,
			MAC:     [6]byte{0x52, 0x54, 0, 0x8e, 0xaa, 0x11}, Profile: []byte("web"), Instance: uuid1, VLAN: 100, Up: true, Epoch: 1}},
	{"P3 vif-alloc response", `fe 16 6e 69 76 63 01 03 80 00 99 aa bb cc dd ee ff 00 00 00 00 02 01 00
		0a 10 a1 41 28 57 60 f7 4c e1 e9 5a 21 64 94 3f 53 aa
		0c 02 00 64
		0e 02 00 05
		10 04 00 00 00 2a`,
		vic.Message{Command: vic.CmdVIFAlloc, Response: true, Session: 0x99aabbccddeeff00, TxID: 2, Result: vic.ResultSuccess,
			Present: vic.FieldInstance | vic.FieldVLAN | vic.FieldVIF | vic.FieldVEth, Instance: uuid1, VLAN: 100, VIF: 5, VEth: 42}},
	{"P4 refusal, unknown profile", `fe 16 6e 69 76 63 01 03 80 01 99 aa bb cc dd ee ff 00 00 00 00 02 01 02
		0a 10 a1 41 28 57 60 f7 4c e1 e9 5a 21 64 94 3f 53 aa`,
		vic.Message{Command: vic.CmdVIFAlloc, Response: true, Reason: vic.ReasonUnknownProfile, Session: 0x99aabbccddeeff00, TxID: 2,
			Result: vic.ResultInvalid, Present: vic.FieldInstance, Instance: uuid1}},
	{"P5 vif-list", `fe 16 6e 69 76 63 01 07 00 00 99 aa bb cc dd ee ff 00 00 00 00 03 00 00
		16 08 00 07 00 05 00 06 00 09`,
		vic.Message{Command: vic.CmdVIFList, Session: 0x99aabbccddeeff00, TxID: 3,
			Present: vic.FieldVIFList, ListID: 7, Members: []vntag.VIF{5, 6, 9}}},
	{"P6 open request, version 2, E-Tag, 5000 VIFs", `fe 16 6e 69 76 63 01 01 00 00 11 22 33 44 55 66 77 88 00 00 00 01 00 00
		02 06 02 00 13 88 03 e8
		04 08 00 00 00 00 00 00 00 00
		18 01 02`,
		vic.Message{Command: vic.CmdOpen, Session: 0x1122334455667788, TxID: 1,
			Present: vic.FieldCaps | vic.FieldPeerSession | vic.FieldVersion, Version: 2,
			Caps: vic.Capabilities{Mode: vntag.ModeETag, MaxVIFs: 5000, KeepaliveMS: 1000}}},
	{"P7 vif-alloc response, E-CID ext 42 base 5", `fe 16 6e 69 76 63 01 03 80 00 99 aa bb cc dd ee ff 00 00 00 00 02 01 00
		0a 10 a1 41 28 57 60 f7 4c e1 e9 5a 21 64 94 3f 53 aa
		0c 02 00 64
		0e 04 00 02 a0 05
		10 04 00 00 00 2a`,
		vic.Message{Command: vic.CmdVIFAlloc, Response: true, Session: 0x99aabbccddeeff00, TxID: 2, Result: vic.ResultSuccess,
			Present: vic.FieldInstance | vic.FieldVLAN | vic.FieldVIF | vic.FieldVEth, Instance: uuid1, VLAN: 100, VIF: 42<<12 | 5, VEth: 42}},
	{"P8 wide vif-list, GRP 2 E-CID 0x12345", `fe 16 6e 69 76 63 01 07 00 00 99 aa bb cc dd ee ff 00 00 00 00 03 00 00
		1a 0a 02 01 23 45 00 00 05 00 10 05`,
		vic.Message{Command: vic.CmdVIFList, Session: 0x99aabbccddeeff00, TxID: 3,
			Present: vic.FieldVIFList, ListID: vntag.Channel(2, 0x12345), Members: []vntag.VIF{5, 1<<12 | 5}}},
}

// A list that fits the version-1 TLV goes in it, GRP 1 E-channels
// included (as the E-CID alone), so that a version-1 IV reads it; the
// wide TLV is only for what version 1 cannot say.
func TestListEncodings(t *testing.T) {
	for _, c := range []struct {
		name string
		list uint32
		vifs []vntag.VIF
		wide bool
	}{
		{"VNTag vif_list_id", 7, []vntag.VIF{5, 6}, false},
		{"E-Tag GRP 1", vntag.Channel(1, 7), []vntag.VIF{5, 6}, false},
		{"E-Tag GRP 2", vntag.Channel(2, 7), []vntag.VIF{5}, true},
		{"E-Tag GRP 3", vntag.Channel(3, 7), nil, true},
		{"E-CID with an ext part", vntag.Channel(1, 1<<16|7), []vntag.VIF{5}, true},
		{"member with an ext part", vntag.Channel(1, 7), []vntag.VIF{5, 3<<12 | 5}, false},
		{"member above 16383", vntag.Channel(1, 7), []vntag.VIF{5, 5 << 12}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.wide, vic.WideList(c.list, c.vifs))
			m := vic.Message{Command: vic.CmdVIFList, Session: 1, TxID: 1, Present: vic.FieldVIFList, ListID: c.list, Members: c.vifs}
			b, err := m.AppendBinary(nil)
			require.NoError(t, err)
			typ := b[24] >> 1
			if c.wide {
				assert.Equal(t, byte(13), typ)
			} else {
				assert.Equal(t, byte(11), typ)
			}
			var got vic.Message
			require.NoError(t, vic.Decode(b, &got))
			want := c.list
			if !c.wide {
				want = c.list & vntag.MaxECID // TLV 11 has no GRP
			}
			assert.Equal(t, want, got.ListID)
			assert.Equal(t, len(c.vifs), len(got.Members))
		})
	}
	// The wide TLV holds 169 members, the version-1 TLV 254.
	m := vic.Message{Command: vic.CmdVIFList, Session: 1, TxID: 1, Present: vic.FieldVIFList, ListID: vntag.Channel(2, 7),
		Members: make([]vntag.VIF, vic.MaxWideListMembers+1)}
	for i := range m.Members {
		m.Members[i] = vntag.VIF(i + 1)
	}
	_, err := m.AppendBinary(nil)
	require.ErrorIs(t, err, vic.ErrRange)
	m.Members = m.Members[:vic.MaxWideListMembers]
	_, err = m.AppendBinary(nil)
	require.NoError(t, err)
}

func TestProtocolExamples(t *testing.T) {
	for _, ex := range protocolExamples {
		t.Run(ex.name, func(t *testing.T) {
			b := unhex(t, ex.hex)
			var m vic.Message
			require.NoError(t, vic.Decode(b, &m))
			assert.Equal(t, ex.msg, m)
			out, err := ex.msg.AppendBinary(nil)
			require.NoError(t, err)
			assert.Equal(t, b, out)
			// ECP pads short ULPDUs with zeros; the padding is ignored.
			require.NoError(t, vic.Decode(append(b, make([]byte, 7)...), &m))
			assert.Equal(t, ex.msg, m)
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	open := unhex(t, protocolExamples[0].hex)
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), open...)) }
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, vic.ErrNotVIC},
		{"zeros", make([]byte, 40), vic.ErrNotVIC},
		{"VDP manager-id first", unhex(t, "0a 10 62 6c 61 62 6c 61 00 00 00 00 00 00 00 00 00 00"), vic.ErrNotVIC},
		{"other identifier", mod(func(b []byte) []byte { b[4] = 0x77; return b }), vic.ErrNotVIC},
		{"command TLV too short", mod(func(b []byte) []byte { b[1] = 0x15; return b }), vic.ErrNotVIC},
		{"framing 2", mod(func(b []byte) []byte { b[6] = 2; return b }), vic.ErrVersion},
		{"command 0", mod(func(b []byte) []byte { b[7] = 0; return b }), vic.ErrCommand},
		{"command 10", mod(func(b []byte) []byte { b[7] = 10; return b }), vic.ErrCommand},
		{"reserved flag", mod(func(b []byte) []byte { b[8] = 0x01; return b }), vic.ErrReserved},
		{"reason 200", mod(func(b []byte) []byte { b[9] = 200; return b }), vic.ErrReserved},
		{"truncated TLV", open[:len(open)-1], vic.ErrShortBuffer},
		{"caps length 5", mod(func(b []byte) []byte { b[25] = 5; return b }), vic.ErrLength},
		{"caps mode 3", mod(func(b []byte) []byte { b[26] = 3; return b }), vic.ErrRange},
		{"caps reserved", mod(func(b []byte) []byte { b[27] = 1; return b }), vic.ErrReserved},
		{"caps 0 VIFs", mod(func(b []byte) []byte { b[28], b[29] = 0, 0; return b }), vic.ErrRange},
		{"duplicate caps", append(append([]byte(nil), open...), open[24:32]...), vic.ErrDuplicate},
		{"second command TLV", append(append([]byte(nil), open...), open[:24]...), vic.ErrDuplicate},
		{"missing peer session", open[:32], vic.ErrMissing},
		{"lone non-zero byte", append(append([]byte(nil), open...), 1), vic.ErrShortBuffer},
		{"VLAN 4095", append(unhex(t, protocolExamples[1].hex), 0x0c, 0x02, 0x0f, 0xff), vic.ErrDuplicate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m vic.Message
			err := vic.Decode(tt.b, &m)
			var de *vic.DecodeError
			require.ErrorAs(t, err, &de)
			assert.ErrorIs(t, err, tt.want)
		})
	}
	// Range checks of single TLVs on the alloc request: replace its VLAN,
	// and its link byte.
	alloc := unhex(t, protocolExamples[1].hex)
	const i = 24 + 8 + 5 + 18 // command, MAC, profile "web", instance
	for _, v := range [][2]byte{{0, 0}, {0x0f, 0xff}} {
		b := append([]byte(nil), alloc...)
		b[i+2], b[i+3] = v[0], v[1]
		var m vic.Message
		err := vic.Decode(b, &m)
		assert.ErrorIs(t, err, vic.ErrRange)
		var de *vic.DecodeError
		require.ErrorAs(t, err, &de)
		assert.EqualValues(t, 6, de.Type)
		assert.Equal(t, i, de.Offset)
	}
	b := append([]byte(nil), alloc...)
	b[len(b)-7] = 2 // link value
	var m vic.Message
	assert.ErrorIs(t, vic.Decode(b, &m), vic.ErrRange)
}

func TestUnknownTLVSkipped(t *testing.T) {
	b := unhex(t, protocolExamples[0].hex)
	b = append(b, 0x40, 0x03, 1, 2, 3) // type 32, length 3
	var m vic.Message
	require.NoError(t, vic.Decode(b, &m))
	assert.Equal(t, 1, m.Unknown)
	assert.Equal(t, vic.CmdOpen, m.Command)
}

func TestValidate(t *testing.T) {
	m := vic.Message{Command: vic.CmdVIFAlloc, Present: vic.FieldMAC | vic.FieldInstance | vic.FieldEpoch | vic.FieldLink}
	err := m.Validate()
	var fe *vic.FieldError
	require.ErrorAs(t, err, &fe)
	assert.ErrorIs(t, err, vic.ErrMissing)
	assert.Equal(t, vic.FieldProfile, fe.Field)
	for _, bad := range []string{"", "with space", strings.Repeat("x", 40), "é"} {
		m.Present |= vic.FieldProfile
		m.Profile = []byte(bad)
		assert.ErrorIs(t, m.Validate(), vic.ErrRange, "%q", bad)
	}
	m.Profile = []byte(strings.Repeat("x", 39))
	assert.NoError(t, m.Validate())
	m.Present |= vic.FieldVIFList
	m.Members = make([]vntag.VIF, 255)
	assert.ErrorIs(t, m.Validate(), vic.ErrRange)
	assert.ErrorIs(t, (&vic.Message{}).Validate(), vic.ErrCommand)
	ok := vic.Message{Command: vic.CmdVIFAlloc, Response: true, Result: vic.ResultSuccess, Present: vic.FieldInstance | vic.FieldVIF, VIF: 5}
	assert.ErrorIs(t, ok.Validate(), vic.ErrMissing, "a successful alloc response needs the vEth id")
}

func TestDecodeNoAllocs(t *testing.T) {
	var all [][]byte
	for _, ex := range protocolExamples {
		all = append(all, unhex(t, ex.hex))
	}
	var m vic.Message
	for _, b := range all {
		require.NoError(t, vic.Decode(b, &m))
	}
	buf := make([]byte, 0, 256)
	n := testing.AllocsPerRun(200, func() {
		for _, b := range all {
			if err := vic.Decode(b, &m); err != nil {
				panic(err)
			}
			buf, _ = m.AppendBinary(buf[:0])
		}
	})
	assert.Zero(t, n)
}

func TestStrings(t *testing.T) {
	assert.Equal(t, "vif-alloc", vic.CmdVIFAlloc.String())
	assert.Equal(t, "command(99)", vic.Command(99).String())
	assert.Equal(t, "insufficient-resources", vic.ResultInsufficientResources.String())
	assert.Equal(t, "result(0x0107)", vic.Result(0x107).String())
	assert.Equal(t, "vif-exhausted", vic.ReasonVIFExhausted.String())
	assert.Equal(t, "a1412857-60f7-4ce1-e95a-2164943f53aa", uuid1.String())
	assert.Equal(t, "port-profile", vic.FieldProfile.String())
	for r, want := range map[vic.Reason]vic.Result{
		vic.ReasonUnknownProfile: vic.ResultInvalid, vic.ReasonProfileDisabled: vic.ResultBadState,
		vic.ReasonMaxPorts: vic.ResultInsufficientResources, vic.ReasonVIFExhausted: vic.ResultInsufficientResources,
		vic.ReasonBadRequest: vic.ResultInvalid, vic.ReasonNone: vic.ResultSuccess,
	} {
		assert.Equal(t, want, r.Result(), r.String())
	}
	assert.True(t, errors.Is(&vic.FieldError{Err: vic.ErrRange}, vic.ErrRange))
}
