package ecp_test

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vdp/ecp"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	require.NoError(t, err)
	return b
}

var (
	station = [6]byte{2, 0, 0, 0, 0, 1}
	bridge  = [6]byte{2, 0, 0, 0, 0, 2}
)

// frame builds DA SA then the given hex from the EtherType on, as the
// spec's examples are written.
func frame(t testing.TB, src [6]byte, fromType string) []byte {
	b := append(append([]byte{}, ecp.NearestCustomerBridge[:]...), src[:]...)
	return append(b, unhex(t, fromType)...)
}

// TestParseHeaderSpecExamples: the ECP headers of vdp-ecp.md §8 (L1, L2,
// S6) and of openlldp's qbg22 vectors (VECTORS.md §6a), with the values
// tshark 4.0.17 printed for them.
func TestParseHeaderSpecExamples(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want ecp.Header
	}{
		{"L1 station request", "10 01 00 01", ecp.Header{Version: 1, Op: ecp.OpRequest, Subtype: ecp.SubtypeVDP, Seq: 1}},
		{"L2 bridge ack", "14 01 00 01", ecp.Header{Version: 1, Op: ecp.OpAck, Subtype: ecp.SubtypeVDP, Seq: 1}},
		{"S6 PE-CSP request", "10 02 00 07", ecp.Header{Version: 1, Op: ecp.OpRequest, Subtype: ecp.SubtypePECSP, Seq: 7}},
		{"openlldp 2 request", "10 01 12 24", ecp.Header{Version: 1, Subtype: 1, Seq: 4644}},
		{"openlldp 2 ack", "14 01 12 24", ecp.Header{Version: 1, Op: ecp.OpAck, Subtype: 1, Seq: 4644}},
		{"openlldp 4 version 15", "f0 01 12 24", ecp.Header{Version: 15, Subtype: 1, Seq: 4644}},
		{"openlldp 5 subtype 15", "10 0f 12 24", ecp.Header{Version: 1, Subtype: 15, Seq: 4644}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := unhex(t, tt.hex)
			h, err := ecp.ParseHeader(b)
			require.NoError(t, err)
			assert.Equal(t, tt.want, h)
			out, err := h.AppendBinary(nil)
			require.NoError(t, err)
			assert.Equal(t, b, out, "re-encoding gives the same bytes")
		})
	}
}

func TestHeaderCheck(t *testing.T) {
	assert.NoError(t, ecp.Header{Version: 1, Op: ecp.OpAck}.Check())
	assert.ErrorIs(t, ecp.Header{Version: 15}.Check(), ecp.ErrVersion)
	assert.ErrorIs(t, ecp.Header{Version: 0}.Check(), ecp.ErrVersion)
	assert.ErrorIs(t, ecp.Header{Version: 1, Op: 2}.Check(), ecp.ErrOperation)
	assert.ErrorIs(t, ecp.Header{Version: 1, Op: 3}.Check(), ecp.ErrOperation)
}

func TestEncodeErrors(t *testing.T) {
	_, err := ecp.Header{Version: 16}.Put(make([]byte, 4))
	var fe *ecp.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "version", fe.Field)
	assert.ErrorIs(t, err, ecp.ErrRange)
	_, err = ecp.Header{Version: 1, Op: 4}.AppendBinary(nil)
	assert.ErrorIs(t, err, ecp.ErrRange)
	_, err = ecp.Header{Version: 1, Subtype: 1024}.AppendBinary(nil)
	assert.ErrorIs(t, err, ecp.ErrRange)
	_, err = ecp.Header{Version: 1}.Put(make([]byte, 3))
	assert.ErrorIs(t, err, ecp.ErrShortBuffer)
	_, err = ecp.AppendFrame(nil, station, bridge, ecp.Header{Version: 1}, make([]byte, ecp.MaxULPDU+1), true)
	assert.ErrorIs(t, err, ecp.ErrTooLong)
	_, err = ecp.ParseHeader([]byte{0x10, 0x01, 0x00})
	assert.Equal(t, ecp.ErrShortBuffer, err, "per-header parsing returns the bare sentinel")
}

func TestDecode(t *testing.T) {
	// L2: lldpad's unpadded 18-byte acknowledgement.
	p, err := ecp.Decode(frame(t, bridge, "89 40 14 01 00 01"))
	require.NoError(t, err)
	assert.Equal(t, ecp.NearestCustomerBridge, p.Dst)
	assert.Equal(t, bridge, p.Src)
	assert.Equal(t, ecp.Header{Version: 1, Op: ecp.OpAck, Subtype: 1, Seq: 1}, p.Header)
	assert.Empty(t, p.Payload)

	// S6: a PE-CSP request with an 8-byte payload.
	p, err = ecp.Decode(frame(t, station, "89 40 10 02 00 07 01 02 03 04 05 06 07 08"))
	require.NoError(t, err)
	assert.Equal(t, ecp.SubtypePECSP, p.Subtype)
	assert.Equal(t, []byte{1, 2, 3, 4, 5, 6, 7, 8}, p.Payload)

	for _, bad := range []struct {
		hex  string
		want error
		off  int
	}{
		{"89 40 14 01 00", ecp.ErrShortBuffer, 14},
		{"88 cc 14 01 00 01", ecp.ErrEtherType, 12},
	} {
		_, err := ecp.Decode(frame(t, bridge, bad.hex))
		var de *ecp.DecodeError
		require.ErrorAs(t, err, &de)
		assert.ErrorIs(t, err, bad.want)
		assert.Equal(t, bad.off, de.Offset)
	}
	_, err = ecp.Decode(make([]byte, 13))
	assert.ErrorIs(t, err, ecp.ErrShortBuffer)
}

func TestAppendFrame(t *testing.T) {
	// The 60-byte padded form of S6, byte for byte.
	b, err := ecp.AppendFrame(nil, ecp.NearestCustomerBridge, station,
		ecp.Header{Version: 1, Op: ecp.OpRequest, Subtype: ecp.SubtypePECSP, Seq: 7}, []byte{1, 2, 3, 4, 5, 6, 7, 8}, true)
	require.NoError(t, err)
	want := append(frame(t, station, "89 40 10 02 00 07 01 02 03 04 05 06 07 08"), make([]byte, 60-26)...)
	assert.Equal(t, want, b)
	// The unpadded 18-byte acknowledgement L2.
	b, err = ecp.AppendFrame(nil, ecp.NearestCustomerBridge, bridge, ecp.Header{Version: 1, Op: ecp.OpAck, Subtype: 1, Seq: 1}, nil, false)
	require.NoError(t, err)
	assert.Equal(t, frame(t, bridge, "89 40 14 01 00 01"), b)
}

func TestAckTimeout(t *testing.T) {
	assert.Equal(t, "10µs", ecp.AckTimeout(0).String())
	assert.Equal(t, "2.56ms", ecp.AckTimeout(8).String())
	assert.Equal(t, "163.84ms", ecp.AckTimeout(14).String())
	assert.Equal(t, "5h57m54.83648s", ecp.AckTimeout(31).String())
}

func TestNoAllocs(t *testing.T) {
	fr := frame(t, station, "89 40 10 02 00 07 01 02 03 04 05 06 07 08")
	buf := make([]byte, 0, 128)
	var sink ecp.PDU
	n := testing.AllocsPerRun(1000, func() {
		p, err := ecp.Decode(fr)
		if err != nil {
			panic(err)
		}
		sink = p
		h, _ := ecp.ParseHeader(fr[14:])
		buf, _ = ecp.AppendFrame(buf[:0], ecp.NearestCustomerBridge, station, h, p.Payload, true)
	})
	assert.Zero(t, n, "decode and encode allocate")
	assert.Equal(t, ecp.SubtypePECSP, sink.Subtype)
}

func TestStrings(t *testing.T) {
	assert.Equal(t, "request", ecp.OpRequest.String())
	assert.Equal(t, "ack", ecp.OpAck.String())
	assert.Equal(t, "reserved(3)", ecp.Op(3).String())
	assert.Equal(t, "VDP", ecp.SubtypeVDP.String())
	assert.Equal(t, "PE-CSP", ecp.SubtypePECSP.String())
	assert.Equal(t, "subtype(15)", ecp.Subtype(15).String())
	assert.True(t, errors.Is(&ecp.DecodeError{Err: ecp.ErrVersion}, ecp.ErrVersion))
	assert.Contains(t, (&ecp.DecodeError{Offset: 14, Need: 4, Have: 1, Err: ecp.ErrShortBuffer}).Error(), "need 4 bytes, have 1")
}
