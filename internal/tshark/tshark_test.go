package tshark

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/internal/needs"
)

func TestCanonical(t *testing.T) {
	assert.Equal(t, "2048", Canonical("0x0800"))
	assert.Equal(t, "197", Canonical("0x00c5"))
	assert.Equal(t, "291", Canonical("291"))
	assert.Equal(t, "00:11:22:33:44:55", Canonical("00:11:22:33:44:55"))
	assert.Equal(t, "text", Canonical("Text"))
}

// The spec's V1-V4 capture, as the spec's table says tshark prints it.
func TestFieldsOnTheSpecCapture(t *testing.T) {
	bin := needs.Tool(t, "tshark")
	frames, err := Fields(context.Background(), bin, needs.Shared(t, "spec/pcaps/vntag.pcap"),
		[]string{"vntag.dst", "vntag.src", "vlan.id", "vntag.etype"})
	require.NoError(t, err)
	require.Len(t, frames, 4)
	assert.Equal(t, Frame{"vntag.dst": {"0"}, "vntag.src": {"5"}, "vntag.etype": {"0x0800"}}, frames[0])
	assert.Equal(t, Frame{"vntag.dst": {"291"}, "vntag.src": {"0"}, "vlan.id": {"100"}, "vntag.etype": {"0x8100"}}, frames[1])

	_, err = Fields(context.Background(), bin, "/no/such/file.pcap", []string{"eth.dst"})
	require.Error(t, err)
}
