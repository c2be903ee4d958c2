package port_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/bpf"

	"github.com/nivkit/niv/vic/port"
)

func testFrame(n int, b byte) []byte {
	f := make([]byte, n)
	for i := range f {
		f[i] = b
	}
	copy(f[12:], []byte{0x88, 0xb5})
	return f
}

func TestMemPairInOrder(t *testing.T) {
	a, b := port.Pair("a", "b", 4)
	in := []port.Frame{port.FrameFrom(testFrame(60, 1)), port.FrameFrom(testFrame(61, 2)), port.FrameFrom(testFrame(1514, 3))}
	n, err := a.Write(in)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, 3, b.Pending())
	batch := port.NewBatch(2)
	require.NoError(t, b.Read(batch))
	require.Equal(t, 2, batch.N, "up to the batch's capacity")
	assert.Equal(t, testFrame(60, 1), batch.Frames[0].Bytes())
	assert.Equal(t, port.Headroom, batch.Frames[0].Off, "headroom in front")
	assert.Equal(t, testFrame(61, 2), batch.Frames[1].Bytes())
	require.NoError(t, b.Read(batch))
	require.Equal(t, 1, batch.N)
	assert.Equal(t, testFrame(1514, 3), batch.Valid()[0].Bytes())
	assert.Equal(t, port.Stats{TxFrames: 3, TxBytes: 60 + 61 + 1514}, a.Stats())
	assert.Equal(t, port.Stats{RxFrames: 3, RxBytes: 60 + 61 + 1514}, b.Stats())
	assert.Equal(t, "a", a.Name())
}

func TestMemPairFullDropsAndCounts(t *testing.T) {
	a, b := port.Pair("a", "b", 2)
	fs := []port.Frame{port.FrameFrom(testFrame(60, 1)), port.FrameFrom(testFrame(60, 2)), port.FrameFrom(testFrame(60, 3))}
	n, err := a.Write(fs)
	require.NoError(t, err, "a full queue drops like a NIC, it is not an error")
	assert.Equal(t, 3, n)
	assert.Equal(t, uint64(1), a.Stats().TxDropped)
	batch := port.NewBatch(8)
	require.NoError(t, b.ReadNow(batch))
	assert.Equal(t, 2, batch.N)
	require.NoError(t, b.ReadNow(batch))
	assert.Equal(t, 0, batch.N, "ReadNow does not wait")
	_, err = a.Write([]port.Frame{port.FrameFrom(make([]byte, port.MaxFrameLen+1))})
	assert.ErrorIs(t, err, port.ErrTooLong)
	// A frame larger than the reader's buffers is dropped and counted.
	_, err = a.Write([]port.Frame{port.FrameFrom(testFrame(3000, 4))})
	require.NoError(t, err)
	require.NoError(t, b.ReadNow(batch))
	assert.Equal(t, 0, batch.N)
	assert.Equal(t, uint64(1), b.Stats().RxDropped)
}

func TestMemCloseWakesReader(t *testing.T) {
	a, b := port.Pair("a", "b", 2)
	_, err := a.Write([]port.Frame{port.FrameFrom(testFrame(60, 1))})
	require.NoError(t, err)
	require.NoError(t, a.Close())
	batch := port.NewBatch(4)
	require.NoError(t, b.Read(batch), "what was queued before the close is delivered")
	assert.Equal(t, 1, batch.N)
	done := make(chan error, 1)
	go func() { done <- b.Read(batch) }()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, port.ErrClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("Read did not return after Close")
	}
	_, err = b.Write([]port.Frame{port.FrameFrom(testFrame(60, 1))})
	assert.ErrorIs(t, err, port.ErrClosed)
}

func TestMemNoAllocs(t *testing.T) {
	a, b := port.Pair("a", "b", 8)
	fs := []port.Frame{port.FrameFrom(testFrame(60, 1)), port.FrameFrom(testFrame(1500, 2))}
	batch := port.NewBatch(8)
	a.Write(fs) // allocate the queue's buffers
	b.Read(batch)
	allocs := testing.AllocsPerRun(1000, func() {
		a.Write(fs)
		b.Read(batch)
	})
	assert.Zero(t, allocs)
}

func TestBatchAndFrame(t *testing.T) {
	b := port.NewBatchSize(2, 100)
	assert.Equal(t, 2, b.Cap())
	assert.True(t, b.Put(1, testFrame(100, 7)))
	assert.False(t, b.Put(0, testFrame(101, 7)), "longer than the batch's frames")
	assert.False(t, b.Put(2, testFrame(60, 7)))
	f := b.Frames[1]
	assert.Equal(t, 100, f.Len())
	assert.GreaterOrEqual(t, cap(f.Buf)-len(f.Buf), port.Tailroom, "tailroom behind the frame")
	ff := port.FrameFrom([]byte{1, 2, 3})
	assert.Equal(t, []byte{1, 2, 3}, ff.Bytes())
	assert.Equal(t, port.Headroom, ff.Off)
}

func TestTx(t *testing.T) {
	tx := port.NewTx(3, 2*port.CopySize(100))
	assert.True(t, tx.Room(3, 2, 100))
	assert.False(t, tx.Room(4, 0, 0))
	assert.False(t, tx.Room(1, 3, 100))
	orig := port.FrameFrom(testFrame(60, 1))
	require.True(t, tx.Send(2, orig))
	c := tx.Copy(0, testFrame(40, 2))
	require.NotNil(t, c)
	assert.Equal(t, port.Headroom, c.Off)
	assert.Equal(t, testFrame(40, 2), c.Bytes())
	assert.GreaterOrEqual(t, cap(c.Buf)-len(c.Buf), 20, "room to pad to 60")
	require.NotNil(t, tx.Copy(0, testFrame(60, 3)))
	assert.Nil(t, tx.Copy(0, testFrame(60, 4)), "full")
	assert.False(t, tx.Send(0, orig))
	nf, _ := tx.Free()
	assert.Zero(t, nf)

	a0, b0 := port.Pair("a0", "b0", 8)
	a2, b2 := port.Pair("a2", "b2", 8)
	dropped, err := tx.WriteTo([]port.Port{a0, nil, a2})
	require.NoError(t, err)
	assert.Zero(t, dropped)
	assert.Equal(t, 0, tx.Len(), "written out and reset")
	assert.Equal(t, 2, b0.Pending())
	assert.Equal(t, 1, b2.Pending())
	tx.Send(1, orig)
	tx.Send(7, orig)
	dropped, err = tx.WriteTo([]port.Port{a0, nil})
	require.NoError(t, err)
	assert.Equal(t, 2, dropped, "no port 1, no port 7")
}

func TestNIVFilter(t *testing.T) {
	vm, err := bpf.NewVM(port.NIVFilter())
	require.NoError(t, err)
	for _, tc := range []struct {
		etherType []byte
		accept    bool
	}{
		{[]byte{0x89, 0x26}, true},
		{[]byte{0x89, 0x3f}, true},
		{[]byte{0x08, 0x00}, false},
		{[]byte{0x81, 0x00}, false},
	} {
		f := testFrame(60, 0)
		copy(f[12:], tc.etherType)
		n, err := vm.Run(f)
		require.NoError(t, err)
		assert.Equal(t, tc.accept, n > 0, "%x", tc.etherType)
	}
	vm, err = bpf.NewVM(port.EtherTypeFilter(0x88b5))
	require.NoError(t, err)
	n, _ := vm.Run(testFrame(60, 0))
	assert.Positive(t, n)
	f := testFrame(60, 0)
	f[13] = 0
	n, _ = vm.Run(f)
	assert.Zero(t, n)
}

// echoCore sends every frame back out of the port it came in on.
type echoCore struct{}

func (echoCore) Process(in int, frames []port.Frame, now int64, tx *port.Tx) int {
	for i, f := range frames {
		if !tx.Send(in, f) {
			return i
		}
	}
	return len(frames)
}

func TestRun(t *testing.T) {
	core0, peer0 := port.Pair("core0", "peer0", 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- port.Run(ctx, echoCore{}, []port.Port{core0, nil}, port.RunConfig{TxFrames: 2}) }()
	fs := []port.Frame{port.FrameFrom(testFrame(60, 1)), port.FrameFrom(testFrame(60, 2)), port.FrameFrom(testFrame(60, 3))}
	_, err := peer0.Write(fs)
	require.NoError(t, err)
	batch := port.NewBatch(8)
	var got [][]byte
	for len(got) < 3 {
		require.NoError(t, peer0.Read(batch))
		for _, f := range batch.Valid() {
			got = append(got, append([]byte(nil), f.Bytes()...))
		}
	}
	assert.Equal(t, [][]byte{testFrame(60, 1), testFrame(60, 2), testFrame(60, 3)}, got, "in order, across Tx flushes")
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
	_, err = peer0.Write(fs)
	assert.True(t, errors.Is(err, port.ErrClosed), "Run closed its ports")
}
