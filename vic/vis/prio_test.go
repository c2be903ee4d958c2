package vis_test

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

// withPrio sets the E-PCP and E-DEI of an upstream E-Tagged frame.
func withPrio(b []byte, pcp uint8, dei bool) []byte {
	b[14] = b[14]&0x0f | pcp<<5
	if dei {
		b[14] |= 0x10
	}
	return b
}

// ePrio returns the E-PCP and E-DEI of an E-Tagged frame the VIS sent.
func ePrio(t *testing.T, b []byte) (uint8, bool) {
	e := etagOf(t, b)
	return e.PCP(), e.DEI()
}

// cPrio returns the PCP and DEI of the 802.1Q tag right after the
// addresses.
func cPrio(t *testing.T, b []byte) (uint8, bool) {
	require.Equal(t, uint16(0x8100), binary.BigEndian.Uint16(b[12:]))
	tci := binary.BigEndian.Uint16(b[14:])
	return uint8(tci >> 13), tci&0x1000 != 0
}

// In E-Tag mode E-PCP and E-DEI carry the frame's priority and drop
// eligibility on the IV link, as a C-tag's PCP and DEI do (vntag.md):
// upstream they are the frame's ingress priority, downstream E-Tags and
// the uplink's 802.1Q tag carry it, CoS marking sets it, and a priority
// from the uplink's 802.1Q tag goes down as E-PCP.
func TestETagPriority(t *testing.T) {
	l := newLab(t, vntag.ModeETag, vis.Config{})
	l.from(0, 6, frame(bcast, macB, 1)) // B is learned
	l.send(l.uplink, dot1q(frame(bcast, macX, 1), 10))

	// A broadcast with E-PCP 5, E-DEI 1: every copy carries them.
	outs := l.send(0, withPrio(l.tag(frame(bcast, macA, 1), 5), 5, true))
	require.Len(t, outs, 3)
	for _, o := range outs[:2] {
		pcp, dei := ePrio(t, o.bytes)
		assert.Equal(t, uint8(5), pcp, "E-PCP of the list frame to port %d", o.port)
		assert.True(t, dei, "E-DEI of the list frame to port %d", o.port)
	}
	require.Equal(t, l.uplink, outs[2].port)
	pcp, dei := cPrio(t, outs[2].bytes)
	assert.Equal(t, uint8(5), pcp, "the uplink copy's PCP is the E-PCP")
	assert.True(t, dei, "and its DEI the E-DEI")

	// Known unicast, in a batch (the fast path) and alone.
	hair := withPrio(l.tag(frame(macB, macA, 2), 5), 3, false)
	outs = l.send(0, hair, hair, withPrio(l.tag(frame(macB, macA, 2), 5), 4, true))
	require.Len(t, outs, 3)
	for i, want := range []uint8{3, 3, 4} {
		pcp, dei := ePrio(t, outs[i].bytes)
		assert.Equal(t, want, pcp, "hairpin %d", i)
		assert.Equal(t, i == 2, dei, "hairpin %d", i)
	}
	outs = l.send(0, withPrio(l.tag(frame(macX, macA, 2), 5), 6, false))
	require.Len(t, outs, 1)
	pcp, _ = cPrio(t, outs[0].bytes)
	assert.Equal(t, uint8(6), pcp, "to the uplink: PCP from E-PCP")

	// From the uplink: PCP 6 and DEI go down as E-PCP and E-DEI, to a
	// known vEth (fast path) and to a list.
	down := dot1q(frame(macA, macX, 3), 6<<13|1<<12|10)
	outs = l.send(l.uplink, down, down)
	require.Len(t, outs, 2)
	for _, o := range outs {
		pcp, dei := ePrio(t, o.bytes)
		assert.Equal(t, uint8(6), pcp)
		assert.True(t, dei)
	}
	outs = l.send(l.uplink, dot1q(frame(bcast, macX, 3), 2<<13|10))
	require.Len(t, outs, 2)
	for _, o := range outs {
		pcp, _ := ePrio(t, o.bytes)
		assert.Equal(t, uint8(2), pcp)
	}

	// CoS marking (web's input policy sets CoS 5) sets E-PCP on the way
	// down and the uplink's PCP; E-DEI stays.
	l.configure("port-profile web\n  service-policy type qos input gold\n")
	outs = l.send(0, withPrio(l.tag(frame(macB, macA, 2), 5), 1, true))
	require.Len(t, outs, 1)
	pcp, dei = ePrio(t, outs[0].bytes)
	assert.Equal(t, uint8(5), pcp, "marked")
	assert.True(t, dei)
	outs = l.send(0, withPrio(l.tag(frame(macX, macA, 2), 5), 1, false))
	require.Len(t, outs, 1)
	pcp, _ = cPrio(t, outs[0].bytes)
	assert.Equal(t, uint8(5), pcp, "marked, to the uplink")
}
