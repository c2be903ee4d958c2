package vntag_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vntag"
)

func TestMode(t *testing.T) {
	// The values are the vic capabilities TLV's (vic/PROTOCOL.md).
	assert.EqualValues(t, 1, vntag.ModeVNTag)
	assert.EqualValues(t, 2, vntag.ModeETag)
	for _, c := range []struct {
		m         vntag.Mode
		str, word string
		kind      vntag.Kind
		max       vntag.VIF
	}{
		{vntag.ModeVNTag, "VNTag", "vntag", vntag.KindVNTag, 4095},
		{vntag.ModeETag, "E-Tag", "etag", vntag.KindETag, 1<<20 - 1},
		{0, "Mode(0)", "Mode(0)", vntag.KindNone, 0},
	} {
		assert.Equal(t, c.str, c.m.String())
		assert.Equal(t, c.word, c.m.Word())
		assert.Equal(t, c.kind, c.m.Kind())
		assert.Equal(t, c.max, c.m.MaxVIF())
		if c.m != 0 {
			m, err := vntag.ParseMode(c.word)
			require.NoError(t, err)
			assert.Equal(t, c.m, m)
		}
	}
	_, err := vntag.ParseMode("VNTag")
	assert.Error(t, err)
}

func TestChannel(t *testing.T) {
	e, err := vntag.ETagFields{GRP: 2, ECIDBase: 0x123, ECIDExt: 0x45}.ETag()
	require.NoError(t, err)
	assert.Equal(t, e.Channel(), vntag.Channel(2, 0x45123))
	assert.Equal(t, uint32(2<<20|0x45123), vntag.Channel(2, 0x45123))
	assert.Equal(t, uint32(0xFFFFF), vntag.Channel(0, 0xFFFFF))
}
