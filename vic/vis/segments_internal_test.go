package vis

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vic/port"
)

// Only a frame with a GSO type is a super-frame that the fast passes
// leave to the general path: a frame whose checksum is left to do (as
// every frame from a VM on a TAP with offloads is) stays on the fast path
// and counts as one frame.
func TestSuperFrameIsGSO(t *testing.T) {
	f := port.FrameFrom(make([]byte, 1000))
	require.True(t, f.SetOffload(port.Offload{Flags: port.OffloadNeedsCsum, CsumStart: 34, CsumOffset: 6}))
	assert.False(t, superFrame(&f), "checksum only")
	fs, bs := segments(&f, 1000)
	assert.Equal(t, [2]uint64{1, 1000}, [2]uint64{fs, bs})

	require.True(t, f.SetOffload(port.Offload{Flags: port.OffloadNeedsCsum, GSOType: port.GSOUDPL4,
		HdrLen: 42, GSOSize: 100, CsumStart: 34, CsumOffset: 6}))
	assert.True(t, superFrame(&f))
	fs, bs = segments(&f, 1000)
	assert.Equal(t, [2]uint64{10, 1000 + 9*42}, [2]uint64{fs, bs}, "958 bytes of payload in 10 segments")

	raw := port.Frame{Buf: make([]byte, 100)}
	raw.Buf[1] = 1 // a MAC address, not an Offload: no headroom
	assert.False(t, superFrame(&raw))
}
