//go:build linux

package port_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vic/port"
	"golang.org/x/sys/unix"
)

// A port that writes through AF_XDP (XDPTx): one Write of 5,000 frames,
// more than the socket's TX ring and memory hold at once, arrives whole and
// in order at the far end; a frame longer than the link's MTU ends a Write
// with ErrTooLong and is counted, after the frames before it have left;
// writing allocates nothing; after Close, a Write fails with ErrClosed.
func TestPacketXDPTx(t *testing.T) {
	pa, pb := ringPair(t, "nxdp", port.PacketConfig{XDPTx: true})

	const total = 5000
	out := make([]port.Frame, total)
	for i := range out {
		out[i] = port.FrameFrom(ringFrame(i, 60+i%1500))
	}
	n, err := pa.Write(out)
	require.NoError(t, err)
	require.Equal(t, total, n)
	batch := port.NewBatch(256)
	for next := 0; next < total; {
		readWithin(t, pb, batch, 5*time.Second)
		for _, f := range batch.Valid() {
			require.Equal(t, ringFrame(next, 60+next%1500), f.Bytes(), "frame %d", next)
			next++
		}
	}
	st := pa.Stats()
	assert.Equal(t, uint64(total), st.TxFrames)
	assert.Zero(t, st.TxDropped)
	assert.Zero(t, pb.Stats().RxDropped)

	// The veth's MTU is 1600: a 1614-byte frame fits (a VLAN tag's room
	// beside the header, as the veth allows), 1700 bytes do not.
	long := []port.Frame{port.FrameFrom(ringFrame(1, 200)), port.FrameFrom(ringFrame(2, 1614)), port.FrameFrom(ringFrame(3, 1700)), port.FrameFrom(ringFrame(4, 200))}
	n, err = pa.Write(long)
	assert.ErrorIs(t, err, port.ErrTooLong)
	assert.Equal(t, 2, n)
	assert.Equal(t, uint64(1), pa.Stats().TxDropped)
	for got := 0; got < 2; {
		readWithin(t, pb, batch, 5*time.Second)
		for _, f := range batch.Valid() {
			assert.Equal(t, long[got].Bytes(), f.Bytes())
			got++
		}
	}

	few := out[:64]
	assert.Zero(t, testing.AllocsPerRun(50, func() {
		if n, err := pa.Write(few); err != nil || n != len(few) {
			t.Fatalf("wrote %d: %v", n, err)
		}
	}), "allocations per Write")

	require.NoError(t, pa.Close())
	_, err = pa.Write(few)
	assert.True(t, errors.Is(err, port.ErrClosed), "%v", err)
}

// Every frame of a Write has left when it returns: the kernel sends at
// most 32 frames of an AF_XDP TX ring per sendto(2) in copy mode, so the
// port sends until the ring is empty, and 1,000 frames written once all
// arrive, with no later Write to push them out.
func TestPacketXDPTxLeavesNothingOnRing(t *testing.T) {
	pa, pb := ringPair(t, "nxdr", port.PacketConfig{XDPTx: true})
	out := make([]port.Frame, 1000)
	for i := range out {
		out[i] = port.FrameFrom(ringFrame(i, 1000))
	}
	n, err := pa.Write(out)
	require.NoError(t, err)
	require.Equal(t, len(out), n)
	batch := port.NewBatch(256)
	for got := 0; got < len(out); {
		readWithin(t, pb, batch, 3*time.Second)
		for _, f := range batch.Valid() {
			require.Equal(t, out[got].Bytes(), f.Bytes(), "frame %d", got)
			got++
		}
	}
}

// With the interface down, a Write through AF_XDP ends with ENETDOWN
// (counted in Errors) rather than waiting or spinning; once the interface
// is up again, frames written then arrive.
func TestPacketXDPTxLinkDown(t *testing.T) {
	a, b := vethPair(t, "nxdd")
	pa, err := port.OpenPacketWith(a, port.PacketConfig{XDPTx: true})
	require.NoError(t, err)
	defer pa.Close()
	pb, err := port.OpenPacketWith(b, port.PacketConfig{Filter: port.NIVFilter()})
	require.NoError(t, err)
	defer pb.Close()

	run(t, "ip", "link", "set", a, "down")
	out := []port.Frame{port.FrameFrom(ringFrame(1, 300)), port.FrameFrom(ringFrame(2, 300))}
	done := make(chan error, 1)
	go func() { _, err := pa.Write(out); done <- err }()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, unix.ENETDOWN)
	case <-time.After(5 * time.Second):
		t.Fatal("a Write on a down interface did not return")
	}
	assert.NotZero(t, pa.Stats().Errors)

	run(t, "ip", "link", "set", a, "up")
	want := ringFrame(3, 400)
	deadline := time.Now().Add(10 * time.Second)
	for {
		// The veth takes its carrier back a little after it is up.
		_, err := pa.Write([]port.Frame{port.FrameFrom(want)})
		if err == nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "Write still failing once the interface is up: %v", err)
		time.Sleep(20 * time.Millisecond)
	}
	batch := port.NewBatch(16)
	for seen := false; !seen; {
		// The frames left on the ring while it was down may come first.
		readWithin(t, pb, batch, 5*time.Second)
		for _, f := range batch.Valid() {
			seen = seen || bytes.Equal(f.Bytes(), want)
		}
	}
}
