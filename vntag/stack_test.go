package vntag_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/nivkit/niv/vntag"
)

type seen struct {
	kind vntag.Kind
	off  int
}

func walk(frame []byte) ([]seen, vntag.TagIter) {
	var s []seen
	it := vntag.Tags(frame)
	for it.Next() {
		s = append(s, seen{it.Kind(), it.Offset()})
	}
	return s, it
}

func TestTagIterStacks(t *testing.T) {
	// The Zeek "VLAN sandwich" of ../shared/corpus/vntag-in-vlan-zeek.pcap:
	// 802.1Q 250, VNTag src 51, 802.1Q 250, IPv4.
	sandwich := unhex(t, "000000000002 000000000001 8100 00fa 8926 00000033 8100 00fa 0800 4500")
	got, it := walk(sandwich)
	require.NoError(t, it.Err())
	assert.Equal(t, []seen{{vntag.KindDot1Q, 12}, {vntag.KindVNTag, 16}, {vntag.KindDot1Q, 22}}, got)
	assert.Equal(t, uint16(0x0800), it.EtherType())
	assert.Equal(t, 28, it.PayloadOffset())

	k, off, err := vntag.FindTag(sandwich)
	require.NoError(t, err)
	assert.Equal(t, vntag.KindVNTag, k)
	assert.Equal(t, 16, off)
	h, off, err := vntag.FrameTag(sandwich)
	require.NoError(t, err)
	assert.Equal(t, 16, off)
	assert.Equal(t, uint16(51), h.SVIF())
	assert.Equal(t, uint16(0x8100), h.EtherType())

	tg, rest, err := vntag.Pop(append([]byte(nil), sandwich...))
	require.NoError(t, err)
	assert.Equal(t, uint16(51), tg.SVIF())
	assert.Equal(t, unhex(t, "000000000002 000000000001 8100 00fa 8100 00fa 0800 4500"), rest)
}

func TestTagIterProperty(t *testing.T) {
	// Any stack of VLAN tags with an optional NIV tag anywhere in it walks
	// back exactly as built.
	rapid.Check(t, func(t *rapid.T) {
		f := drawPlainFrame(t)
		f.nOuter = rapid.IntRange(0, len(f.vlans)).Draw(t, "nOuter")
		var want []seen
		off := vntag.AddrLen
		nivKind := rapid.SampledFrom([]vntag.Kind{vntag.KindNone, vntag.KindVNTag, vntag.KindETag}).Draw(t, "niv")
		switch nivKind {
		case vntag.KindVNTag:
			f.niv = []byte{0x89, 0x26, 1, 2, 3, 4}
		case vntag.KindETag:
			f.niv = []byte{0x89, 0x3f, 1, 2, 3, 4, 5, 6}
		}
		for i, v := range f.vlans {
			if i == f.nOuter && f.niv != nil {
				want = append(want, seen{nivKind, off})
				off += nivKind.Len()
			}
			want = append(want, seen{vntag.KindOf(v.tpid), off})
			off += vntag.VLANTagLen
		}
		if f.nOuter >= len(f.vlans) && f.niv != nil {
			want = append(want, seen{nivKind, off})
			off += nivKind.Len()
		}
		b := f.bytes()
		got, it := walk(b)
		require.NoError(t, it.Err())
		require.Equal(t, want, got)
		require.Equal(t, f.etherType, it.EtherType())
		require.Equal(t, off+2, it.PayloadOffset())

		// Cut anywhere inside the stack: the walk stops with ErrShortBuffer.
		cut := rapid.IntRange(0, off+1).Draw(t, "cut")
		_, it = walk(b[:cut])
		require.ErrorIs(t, it.Err(), vntag.ErrShortBuffer)
		assert.Equal(t, uint16(0), it.EtherType())
	})
}

func TestFindTagErrorsAreBareSentinels(t *testing.T) {
	_, _, err := vntag.FindTag(unhex(t, "000000000002 000000000001 0800"))
	assert.Equal(t, vntag.ErrNoTag, err)
	_, _, err = vntag.FindTag(unhex(t, "000000000002 000000000001 8100 00"))
	assert.Equal(t, vntag.ErrShortBuffer, err)

	_, _, err = vntag.FrameETag(unhex(t, "000000000002 000000000001 8926 00000000 0800"))
	require.ErrorIs(t, err, vntag.ErrNoTag)
	var de *vntag.DecodeError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, 18, de.Offset, "where the walk ended")

	it := vntag.Tags(unhex(t, "000000000002 000000000001 8100 00"))
	assert.False(t, it.Next())
	assert.EqualError(t, it.Err(), "vntag: 802.1Q at offset 12: buffer too short (need 6 bytes, have 3)")
	it = vntag.Tags(unhex(t, "0000"))
	assert.False(t, it.Next())
	assert.EqualError(t, it.Err(), "vntag: Ethernet at offset 0: buffer too short (need 14 bytes, have 2)")
}

func TestKinds(t *testing.T) {
	for _, c := range []struct {
		tpid uint16
		kind vntag.Kind
		n    int
	}{
		{0x8100, vntag.KindDot1Q, 4}, {0x88A8, vntag.KindDot1AD, 4}, {0x9100, vntag.KindQinQ, 4},
		{0x8926, vntag.KindVNTag, 6}, {0x893F, vntag.KindETag, 8}, {0x0800, vntag.KindNone, 0},
	} {
		assert.Equal(t, c.kind, vntag.KindOf(c.tpid))
		assert.Equal(t, c.n, c.kind.Len())
		assert.Equal(t, c.n == 4, c.kind.IsVLAN())
		assert.Equal(t, c.n > 4, c.kind.IsNIV())
	}
}
