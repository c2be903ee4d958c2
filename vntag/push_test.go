package vntag_test

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/nivkit/niv/vntag"
)

// room says where a test frame sits in its buffer.
type room int

const (
	roomHead room = iota // headroom in front
	roomTail             // no headroom, spare capacity behind
	roomNone             // neither
)

// place copies frame into a buffer laid out as r says and returns the buffer
// and the frame's start.
func place(frame []byte, r room, extra int) ([]byte, int) {
	switch r {
	case roomHead:
		buf := make([]byte, extra+len(frame))
		copy(buf[extra:], frame)
		return buf, extra
	case roomTail:
		buf := make([]byte, len(frame), len(frame)+extra)
		copy(buf, frame)
		return buf, 0
	}
	return append([]byte(nil), frame...)[:len(frame):len(frame)], 0
}

type pushPopCase struct {
	tagLen  int
	push    func(buf []byte, start, outer int) ([]byte, error)
	pop     func(frame []byte) (popped []byte, rest []byte, err error)
	findTag func(frame []byte) (int, error)
}

// checkPushPop is the property behind TestPushPop*: pushing into any tag
// stack, keeping any number of outer VLAN tags outside, gives exactly the
// frame built by hand with the tag in that place; only the header moves when
// there is headroom; popping gives back the tag and the original frame.
func checkPushPop(t *rapid.T, c pushPopCase, hdr []byte, checkPopped func(*rapid.T, []byte)) {
	plain := drawPlainFrame(t)
	outer := rapid.IntRange(0, len(plain.vlans)).Draw(t, "outer")
	r := room(rapid.IntRange(0, 2).Draw(t, "room"))
	extra := rapid.IntRange(c.tagLen, c.tagLen+32).Draw(t, "extra")

	tagged := plain
	tagged.nOuter, tagged.niv = outer, hdr
	want := tagged.bytes()
	plainBytes := plain.bytes()

	buf, start := place(plainBytes, r, extra)
	got, err := c.push(buf, start, outer)
	if r == roomNone {
		if !assert.ErrorIs(t, err, vntag.ErrNoRoom) {
			t.FailNow()
		}
		return
	}
	require.NoError(t, err)
	require.Equal(t, want, got)
	if r == roomHead {
		// The payload did not move: the frame still ends where it ended.
		require.Same(t, &buf[len(buf)-1], &got[len(got)-1])
	}

	off, err := c.findTag(got)
	require.NoError(t, err)
	require.Equal(t, vntag.AddrLen+outer*vntag.VLANTagLen, off)

	popped, rest, err := c.pop(got)
	require.NoError(t, err)
	require.Equal(t, plainBytes, rest)
	require.Same(t, &got[len(got)-1], &rest[len(rest)-1], "pop moves only the header")
	checkPopped(t, popped)
}

func TestPushPopVNTag(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		fields := drawFields(t)
		tag, err := fields.Tag()
		require.NoError(t, err)
		require.Equal(t, fields, tag.Fields(), "fields survive packing")
		// The header as built from the fields by hand, bit by bit.
		w := uint32(fields.Direction)<<31 | uint32(fields.DVIF)<<16 | uint32(fields.Version)<<12 | uint32(fields.SVIF)
		for _, bit := range []struct {
			set bool
			pos uint
		}{{fields.Pointer, 30}, {fields.Looped, 15}, {fields.Reserved, 14}} {
			if bit.set {
				w |= 1 << bit.pos
			}
		}
		hdr := binary.BigEndian.AppendUint16(nil, vntag.EtherTypeVNTag)
		hdr = binary.BigEndian.AppendUint32(hdr, w)
		var popped vntag.Tag
		c := pushPopCase{
			tagLen: vntag.TagLen,
			push:   func(buf []byte, start, outer int) ([]byte, error) { return vntag.PushAfter(buf, start, outer, tag) },
			pop: func(frame []byte) ([]byte, []byte, error) {
				var rest []byte
				var err error
				popped, rest, err = vntag.Pop(frame)
				return nil, rest, err
			},
			findTag: func(frame []byte) (int, error) {
				k, off, err := vntag.FindTag(frame)
				if err == nil && k != vntag.KindVNTag {
					t.Fatalf("FindTag kind %v", k)
				}
				return off, err
			},
		}
		checkPushPop(t, c, hdr, func(t *rapid.T, _ []byte) {
			// The popped tag's next EtherType is the frame's own type
			// field, which the frame comparison checked.
			require.Equal(t, tag.WithEtherType(popped.EtherType()), popped)
		})
	})
}

func TestPushPopETag(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		fields := drawETagFields(t)
		e, err := fields.ETag()
		require.NoError(t, err)
		require.Equal(t, fields, e.Fields(), "fields survive packing")
		// The header as built from the fields by hand.
		full := binary.BigEndian.AppendUint16(nil, vntag.EtherTypeETag)
		dei := uint16(0)
		if fields.DEI {
			dei = 1 << 12
		}
		full = binary.BigEndian.AppendUint16(full, uint16(fields.PCP)<<13|dei|fields.IngressECIDBase)
		full = binary.BigEndian.AppendUint16(full, uint16(fields.Reserved)<<14|uint16(fields.GRP)<<12|fields.ECIDBase)
		full = append(full, fields.IngressECIDExt, fields.ECIDExt)
		var popped vntag.ETag
		c := pushPopCase{
			tagLen: vntag.ETagLen,
			push:   func(buf []byte, start, outer int) ([]byte, error) { return vntag.PushETagAfter(buf, start, outer, e) },
			pop: func(frame []byte) ([]byte, []byte, error) {
				var rest []byte
				var err error
				popped, rest, err = vntag.PopETag(frame)
				return nil, rest, err
			},
			findTag: func(frame []byte) (int, error) {
				k, off, err := vntag.FindTag(frame)
				if err == nil && k != vntag.KindETag {
					t.Fatalf("FindTag kind %v", k)
				}
				return off, err
			},
		}
		checkPushPop(t, c, full[:vntag.ETagLen], func(t *rapid.T, _ []byte) {
			require.Equal(t, e.WithEtherType(popped.EtherType()), popped)
		})
	})
}

// A VNTag and an E-Tag in one frame (an E-Tag cascade behind a VNTag link is
// not a real deployment, but a decoder must not mix them up): each Pop takes
// its own kind, whichever is outermost.
func TestPopFindsItsOwnKind(t *testing.T) {
	f := frameSpec{vlans: []vlanTag{{0x8100, 10}}, etherType: 0x0800, payload: make([]byte, 46)}
	base := f.bytes()
	buf, start := place(base, roomHead, 32)
	withV, err := vntag.Push(buf, start, mustTag(t, vntag.TagFields{SVIF: 7}))
	require.NoError(t, err)
	both, err := vntag.PushETag(buf, start-vntag.TagLen, mustETag(t, vntag.ETagFields{ECIDBase: 9}))
	require.NoError(t, err)
	require.Len(t, both, len(withV)+vntag.ETagLen)

	k, off, err := vntag.FindTag(both)
	require.NoError(t, err)
	assert.Equal(t, vntag.KindETag, k)
	assert.Equal(t, vntag.AddrLen, off)

	vt, rest, err := vntag.Pop(both)
	require.NoError(t, err)
	assert.Equal(t, uint16(7), vt.SVIF())
	et, rest, err := vntag.PopETag(rest)
	require.NoError(t, err)
	assert.Equal(t, uint16(9), et.ECIDBase())
	assert.Equal(t, base, rest)
}

func TestPushErrors(t *testing.T) {
	frame := frameSpec{etherType: 0x0800, payload: make([]byte, 46)}.bytes()
	buf, start := place(frame, roomHead, 8)

	_, err := vntag.PushAfter(buf, start, 1, vntag.Tag{})
	require.ErrorIs(t, err, vntag.ErrNoTag, "no outer VLAN tag to keep")

	_, err = vntag.Push(buf, len(buf)+1, vntag.Tag{})
	require.ErrorIs(t, err, vntag.ErrNoRoom)

	_, err = vntag.Push(buf, -1, vntag.Tag{})
	require.ErrorIs(t, err, vntag.ErrNoRoom)

	short := make([]byte, 20)
	_, err = vntag.Push(short, 8, vntag.Tag{})
	require.ErrorIs(t, err, vntag.ErrShortBuffer, "frame of 12 bytes has no type field")

	tight := append([]byte(nil), frame...)[:len(frame):len(frame)]
	_, err = vntag.Push(tight, 0, vntag.Tag{})
	require.ErrorIs(t, err, vntag.ErrNoRoom)
	assert.Equal(t, frame, tight, "a failed push leaves the frame as it was")
}

func TestPopErrors(t *testing.T) {
	untagged := frameSpec{vlans: []vlanTag{{0x8100, 5}}, etherType: 0x0800, payload: make([]byte, 42)}.bytes()
	orig := append([]byte(nil), untagged...)
	_, _, err := vntag.Pop(untagged)
	require.ErrorIs(t, err, vntag.ErrNoTag)
	_, _, err = vntag.PopETag(untagged)
	require.ErrorIs(t, err, vntag.ErrNoTag)
	assert.Equal(t, orig, untagged)

	tagged := frameSpec{niv: []byte{0x89, 0x26, 0, 0, 0, 5}, etherType: 0x0800}.bytes()
	for n := 0; n < len(tagged); n++ {
		_, _, err := vntag.Pop(tagged[:n])
		require.ErrorIs(t, err, vntag.ErrShortBuffer, "truncated to %d bytes", n)
	}
	_, _, err = vntag.Pop(tagged)
	require.NoError(t, err)
}

func TestPad(t *testing.T) {
	buf := make([]byte, 40, 64)
	for i := range buf {
		buf[i] = 0xEE
	}
	full := buf[:64]
	full[50] = 0xFF // stale byte that padding must clear
	got, err := vntag.Pad(buf)
	require.NoError(t, err)
	require.Len(t, got, vntag.MinFrameLen)
	assert.Equal(t, make([]byte, 20), got[40:])

	long := make([]byte, 70)
	got, err = vntag.Pad(long)
	require.NoError(t, err)
	assert.Len(t, got, 70)

	_, err = vntag.Pad(make([]byte, 10, 30))
	require.ErrorIs(t, err, vntag.ErrNoRoom)
}

// After a VNTag is popped, the freed bytes are headroom: the same buffer
// takes the next Push without moving the payload, back and forth.
func TestPopThenPushReusesHeadroom(t *testing.T) {
	frame := frameSpec{niv: []byte{0x89, 0x26, 0, 0, 0, 5}, etherType: 0x0800, payload: make([]byte, 46)}.bytes()
	for i := 0; i < 3; i++ {
		tag, plain, err := vntag.Pop(frame)
		require.NoError(t, err)
		// plain is frame[TagLen:]: frame is its buffer, with TagLen bytes of headroom.
		down, err := vntag.Downstream(tag.SVIF())
		require.NoError(t, err)
		frame, err = vntag.Push(frame, vntag.TagLen, down)
		require.NoError(t, err)
		require.Len(t, frame, len(plain)+vntag.TagLen)
	}
}
