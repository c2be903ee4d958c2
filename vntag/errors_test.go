package vntag_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/nivkit/niv/vntag"
)

func TestTruncatedTags(t *testing.T) {
	v := unhex(t, specVNTag[3].wire)
	for n := 0; n < len(v); n++ {
		_, err := vntag.ParseTag(v[:n])
		require.ErrorIs(t, err, vntag.ErrShortBuffer)
		var de *vntag.DecodeError
		require.ErrorAs(t, err, &de)
		assert.Equal(t, vntag.TagHeaderLen, de.Need)
		assert.Equal(t, n, de.Have)
		_, err = vntag.TagHeaderOf(v[:n])
		require.ErrorIs(t, err, vntag.ErrShortBuffer)
		if n >= 2 {
			_, err = vntag.ParseTagBody(v[2:n])
			require.ErrorIs(t, err, vntag.ErrShortBuffer)
		}
	}
	e := unhex(t, specETag[3].wire)
	for n := 0; n < len(e); n++ {
		_, err := vntag.ParseETag(e[:n])
		require.ErrorIs(t, err, vntag.ErrShortBuffer)
		_, err = vntag.ETagHeaderOf(e[:n])
		require.ErrorIs(t, err, vntag.ErrShortBuffer)
		if n >= 2 {
			_, err = vntag.ParseETagBody(e[2:n])
			require.ErrorIs(t, err, vntag.ErrShortBuffer)
		}
	}
	assert.EqualError(t, func() error { _, err := vntag.ParseTag(v[:5]); return err }(),
		"vntag: VNTag at offset 0: buffer too short (need 8 bytes, have 5)")
}

func TestWrongEtherType(t *testing.T) {
	v := unhex(t, specVNTag[0].wire)
	e := unhex(t, specETag[0].wire)
	_, err := vntag.ParseTag(e)
	require.ErrorIs(t, err, vntag.ErrEtherType)
	_, err = vntag.TagHeaderOf(e)
	require.ErrorIs(t, err, vntag.ErrEtherType)
	_, err = vntag.ParseETag(append(v, 0, 0))
	require.ErrorIs(t, err, vntag.ErrEtherType)
	_, err = vntag.ETagHeaderOf(append(v, 0, 0))
	require.ErrorIs(t, err, vntag.ErrEtherType)
	var tg vntag.Tag
	require.ErrorIs(t, tg.UnmarshalBinary(e[:8]), vntag.ErrEtherType)
}

func TestReservedAndVersion(t *testing.T) {
	// r bit set: decoded and kept (Wireshark's vntag.r), refused by Validate.
	b := unhex(t, "89 26 00 00 40 05 08 00")
	tg, err := vntag.ParseTag(b)
	require.NoError(t, err)
	assert.True(t, tg.Reserved())
	require.ErrorIs(t, tg.Validate(), vntag.ErrReserved)
	out := make([]byte, vntag.TagHeaderLen)
	_, err = tg.Put(out)
	require.NoError(t, err)
	assert.Equal(t, b, out, "decode then encode keeps the reserved bit")

	b = unhex(t, "89 26 00 00 20 05 08 00") // version 2
	tg, err = vntag.ParseTag(b)
	require.NoError(t, err)
	assert.Equal(t, uint8(2), tg.Version())
	err = tg.Validate()
	require.ErrorIs(t, err, vntag.ErrVersion)
	assert.EqualError(t, err, "vntag: VNTag version 2: unsupported version (max 0)")

	eb := unhex(t, "89 3f 00 00 c0 c5 00 00 08 00") // Re- = 3
	et, err := vntag.ParseETag(eb)
	require.NoError(t, err)
	assert.Equal(t, uint8(3), et.Reserved())
	err = et.Validate()
	require.ErrorIs(t, err, vntag.ErrReserved)
	var fe *vntag.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "Re-", fe.Field)
	_, err = et.Put(out[:0:0])
	require.ErrorIs(t, err, vntag.ErrShortBuffer)
}

func TestFieldsOutOfRange(t *testing.T) {
	cases := []struct {
		name   string
		fields vntag.TagFields
		field  string
	}{
		{"dvif 16384", vntag.TagFields{DVIF: 16384}, "dvif_id"},
		{"svif 4096", vntag.TagFields{SVIF: 4096}, "svif_id"},
		{"version 4", vntag.TagFields{Version: 4}, "version"},
		{"direction 2", vntag.TagFields{Direction: 2}, "d"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.fields.Tag()
			require.ErrorIs(t, err, vntag.ErrRange)
			var fe *vntag.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.field, fe.Field)
		})
	}
	ecases := []struct {
		name   string
		fields vntag.ETagFields
		field  string
	}{
		{"pcp 8", vntag.ETagFields{PCP: 8}, "E-PCP"},
		{"ingress base 4096", vntag.ETagFields{IngressECIDBase: 4096}, "Ingress_E-CID_base"},
		{"resv 4", vntag.ETagFields{Reserved: 4}, "Re-"},
		{"grp 4", vntag.ETagFields{GRP: 4}, "GRP"},
		{"base 4096", vntag.ETagFields{ECIDBase: 4096}, "E-CID_base"},
	}
	for _, tc := range ecases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.fields.ETag()
			require.ErrorIs(t, err, vntag.ErrRange)
			var fe *vntag.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.field, fe.Field)
		})
	}
	_, err := vntag.TagFields{SVIF: 5000}.Tag()
	assert.EqualError(t, err, "vntag: VNTag svif_id 5000: value out of range (max 4095)")

	tg := mustTag(t, specVNTag[0].fields)
	_, err = tg.Put(make([]byte, 7))
	require.ErrorIs(t, err, vntag.ErrShortBuffer)
	_, err = tg.PutBody(make([]byte, 5))
	require.ErrorIs(t, err, vntag.ErrShortBuffer)
	et := mustETag(t, specETag[0].fields)
	_, err = et.Put(make([]byte, 9))
	require.ErrorIs(t, err, vntag.ErrShortBuffer)
	_, err = et.PutBody(make([]byte, 7))
	require.ErrorIs(t, err, vntag.ErrShortBuffer)
}

func TestUnmarshalRejectsTrailingBytes(t *testing.T) {
	var tg vntag.Tag
	require.ErrorIs(t, tg.UnmarshalBinary(append(unhex(t, specVNTag[0].wire), 0)), vntag.ErrTrailing)
	var et vntag.ETag
	require.ErrorIs(t, et.UnmarshalBinary(append(unhex(t, specETag[0].wire), 0)), vntag.ErrTrailing)
}

func TestViewSetters(t *testing.T) {
	b := unhex(t, specVNTag[0].wire)
	h, err := vntag.TagHeaderOf(b)
	require.NoError(t, err)
	down, err := vntag.Downstream(300)
	require.NoError(t, err)
	h.SetWord(down.WithEtherType(0x1234))
	assert.Equal(t, uint16(0x0800), h.EtherType(), "SetWord keeps the next EtherType")
	assert.Equal(t, uint16(300), h.DVIF())
	assert.Equal(t, vntag.FromBridge, h.Direction())
	h.SetTag(down.WithEtherType(0x1234))
	assert.Equal(t, down.WithEtherType(0x1234), h.Tag())
	assert.Equal(t, unhex(t, "89 26 81 2c 00 00 12 34"), b)

	eb := unhex(t, specETag[0].wire)
	eh, err := vntag.ETagHeaderOf(eb)
	require.NoError(t, err)
	e4 := mustETag(t, specETag[3].fields)
	eh.SetTCI(e4.WithEtherType(0xFFFF))
	assert.Equal(t, e4, eh.ETag())
	eh.SetETag(mustETag(t, specETag[1].fields))
	assert.Equal(t, unhex(t, specETag[1].wire), eb)
}

// Whatever the bytes, nothing panics, and errors are always one of the
// sentinels.
func TestArbitraryBytesNeverPanic(t *testing.T) {
	sentinels := []error{vntag.ErrShortBuffer, vntag.ErrEtherType, vntag.ErrNoTag, vntag.ErrNoRoom}
	isSentinel := func(err error) bool {
		for _, s := range sentinels {
			if errors.Is(err, s) {
				return true
			}
		}
		return false
	}
	rapid.Check(t, func(t *rapid.T) {
		b := rapid.SliceOfN(rapid.SampledFrom([]byte{0x81, 0x00, 0x88, 0xa8, 0x91, 0x89, 0x26, 0x3f, 0x08, 0x55}), 0, 64).Draw(t, "bytes")
		check := func(err error) {
			if err != nil && !isSentinel(err) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
		}
		_, err := vntag.ParseTag(b)
		check(err)
		_, err = vntag.ParseETag(b)
		check(err)
		_, _, err = vntag.FindTag(b)
		check(err)
		_, _, err = vntag.FrameTag(b)
		check(err)
		_, _, err = vntag.FrameETag(b)
		check(err)
		it := vntag.Tags(b)
		for it.Next() {
			_ = it.TCI()
		}
		check(it.Err())
		c := append([]byte(nil), b...)
		_, _, err = vntag.Pop(c)
		check(err)
		c = append([]byte(nil), b...)
		_, _, err = vntag.PopETag(c)
		check(err)
		start := rapid.IntRange(-2, len(b)+2).Draw(t, "start")
		_, err = vntag.PushAfter(append([]byte(nil), b...), start, rapid.IntRange(0, 3).Draw(t, "outer"), vntag.Tag{})
		check(err)
	})
}
