package iv_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vntag"
)

var (
	macA  = []byte{0x02, 0, 0, 0, 0, 0x0a}
	macB  = []byte{0x02, 0, 0, 0, 0, 0x0b}
	bcast = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
)

// ethFrame builds an untagged 60-byte frame with EtherType 0x88B5 (local
// experimental) and a recognisable payload.
func ethFrame(dst, src []byte, payload byte) []byte {
	b := make([]byte, 60)
	copy(b, dst)
	copy(b[6:], src)
	b[12], b[13] = 0x88, 0xb5
	for i := 14; i < len(b); i++ {
		b[i] = payload
	}
	return b
}

// tagged returns frame with VNTag t pushed.
func tagged(t testing.TB, frame []byte, tag vntag.Tag) []byte {
	f := port.FrameFrom(frame)
	out, err := vntag.Push(f.Buf, f.Off, tag)
	if err != nil {
		panic(err) // the test frames always have headroom
	}
	return append([]byte(nil), out...)
}

func etagged(t *testing.T, frame []byte, e vntag.ETag) []byte {
	t.Helper()
	f := port.FrameFrom(frame)
	out, err := vntag.PushETag(f.Buf, f.Off, e)
	require.NoError(t, err)
	return append([]byte(nil), out...)
}

func mustTag(t *testing.T, f vntag.TagFields) vntag.Tag {
	t.Helper()
	tag, err := f.Tag()
	require.NoError(t, err)
	return tag
}

// process runs frames through the IV as arriving on port in and returns the
// Tx.
func process(t *testing.T, v *iv.IV, in int, frames ...[]byte) *port.Tx {
	t.Helper()
	fs := make([]port.Frame, len(frames))
	for i, b := range frames {
		fs[i] = port.FrameFrom(b)
	}
	tx := port.NewTx(256, 1<<20)
	require.Equal(t, len(frames), v.Process(in, fs, 0, tx))
	return tx
}

type testIV struct {
	*iv.IV
	a, b, c int // vNIC ports for VIF 5, 6, 7
}

func newIV(t *testing.T, mode vntag.Mode) testIV {
	v := iv.New(iv.Config{Mode: mode})
	var ti testIV
	var err error
	ti.IV = v
	ti.a, err = v.AddVNIC(iv.VNICConfig{VIF: 5})
	require.NoError(t, err)
	ti.b, err = v.AddVNIC(iv.VNICConfig{VIF: 6})
	require.NoError(t, err)
	ti.c, err = v.AddVNIC(iv.VNICConfig{VIF: 7, Fabric: iv.FabricB})
	require.NoError(t, err)
	return ti
}

func TestUpstreamPushesSVIFAndNeverSwitchesLocally(t *testing.T) {
	v := newIV(t, vntag.ModeVNTag)
	// A frame from VIF 5 to the MAC of another local vNIC still goes up.
	frame := ethFrame(macB, macA, 1)
	tx := process(t, v.IV, v.a, frame)
	require.Equal(t, 1, tx.Len())
	assert.Equal(t, iv.UplinkA, tx.Ports[0])
	tag, err := vntag.ParseTag(tx.Frames[0].Bytes()[12:])
	require.NoError(t, err)
	assert.Equal(t, vntag.ToBridge, tag.Direction())
	assert.Equal(t, uint16(5), tag.SVIF())
	assert.Equal(t, uint16(0), tag.DVIF())
	assert.False(t, tag.Pointer())
	assert.Equal(t, uint16(0x88b5), tag.EtherType())
	assert.Equal(t, frame[:12], tx.Frames[0].Bytes()[:12])
	assert.Equal(t, frame[12:], tx.Frames[0].Bytes()[18:])

	c, ok := v.Counters(5)
	require.True(t, ok)
	assert.Equal(t, uint64(1), c.RxFrames)
	assert.Equal(t, uint64(60), c.RxBytes)
	assert.Equal(t, uint64(1), v.UplinkCounters(iv.UplinkA).TxFrames)
	assert.Equal(t, uint64(66), v.UplinkCounters(iv.UplinkA).TxBytes)
}

func TestUpstreamETag(t *testing.T) {
	v := newIV(t, vntag.ModeETag)
	tx := process(t, v.IV, v.b, ethFrame(macB, macA, 1))
	require.Equal(t, 1, tx.Len())
	e, err := vntag.ParseETag(tx.Frames[0].Bytes()[12:])
	require.NoError(t, err)
	assert.Equal(t, uint32(6), e.ECID())
	assert.Equal(t, uint8(0), e.GRP())
	assert.Equal(t, uint32(0), e.IngressECID())
}

func TestTagInjectionDropped(t *testing.T) {
	for _, mode := range []vntag.Mode{vntag.ModeVNTag, vntag.ModeETag} {
		t.Run(mode.String(), func(t *testing.T) {
			v := newIV(t, mode)
			up, _ := vntag.Upstream(6) // VIF 5 pretends to be VIF 6
			e, _ := vntag.ETagForECID(6)
			plain := ethFrame(bcast, macA, 2)
			// Behind an 802.1Q tag too: the walker looks through VLAN tags.
			q := append(append(append([]byte(nil), plain[:12]...), 0x81, 0x00, 0x00, 0x0a), plain[12:]...)
			tx := process(t, v.IV, v.a, tagged(t, plain, up), etagged(t, plain, e), tagged(t, q, up), plain[:13])
			assert.Equal(t, 0, tx.Len(), "nothing goes up")
			c, _ := v.Counters(5)
			assert.Equal(t, uint64(3), c.Drops[iv.DropInjected])
			assert.Equal(t, uint64(1), c.Drops[iv.DropMalformed])
			assert.Equal(t, uint64(4), c.RxFrames)
		})
	}
}

func TestDownstreamUnicastPopsAndPads(t *testing.T) {
	v := newIV(t, vntag.ModeVNTag)
	down := mustTag(t, vntag.TagFields{Direction: vntag.FromBridge, DVIF: 6})
	short := ethFrame(macB, macA, 3)[:50] // the VIS may send a short inner frame
	tx := process(t, v.IV, iv.UplinkB, tagged(t, short, down))
	require.Equal(t, 1, tx.Len())
	assert.Equal(t, v.b, tx.Ports[0])
	got := tx.Frames[0].Bytes()
	require.Len(t, got, 60, "re-padded to the minimum after the pop")
	assert.Equal(t, short, got[:50])
	assert.Equal(t, make([]byte, 10), got[50:])
	c, _ := v.Counters(6)
	assert.Equal(t, uint64(1), c.TxFrames)
	assert.Equal(t, uint64(60), c.TxBytes)
}

func TestDownstreamDrops(t *testing.T) {
	v := newIV(t, vntag.ModeVNTag)
	plain := ethFrame(macB, macA, 4)
	up, _ := vntag.Upstream(6)
	toUnknown, _ := vntag.Downstream(99)
	badVer := mustTag(t, vntag.TagFields{Direction: vntag.FromBridge, DVIF: 6, Version: 1})
	list := mustTag(t, vntag.TagFields{Direction: vntag.FromBridge, Pointer: true, DVIF: 42})
	loopedSelf := mustTag(t, vntag.TagFields{Direction: vntag.FromBridge, DVIF: 6, Looped: true, SVIF: 6})
	e, _ := vntag.ETagForECID(6)
	tx := process(t, v.IV, iv.UplinkA,
		plain, etagged(t, plain, e), tagged(t, plain, up), tagged(t, plain, badVer),
		tagged(t, plain, toUnknown), tagged(t, plain, list), tagged(t, plain, loopedSelf), tagged(t, plain, up)[:16])
	assert.Equal(t, 0, tx.Len())
	c := v.UplinkCounters(iv.UplinkA)
	assert.Equal(t, uint64(8), c.RxFrames)
	assert.Equal(t, uint64(2), c.Drops[iv.DropNoTag])
	assert.Equal(t, uint64(2), c.Drops[iv.DropBadTag], "d=0 and version 1")
	assert.Equal(t, uint64(1), c.Drops[iv.DropUnknownVIF])
	assert.Equal(t, uint64(1), c.Drops[iv.DropUnknownList])
	assert.Equal(t, uint64(1), c.Drops[iv.DropMalformed])
	c6, _ := v.Counters(6)
	assert.Equal(t, uint64(1), c6.Drops[iv.DropSourceVIF])
}

func TestVIFListReplicatesAndPrunesSource(t *testing.T) {
	for _, mode := range []vntag.Mode{vntag.ModeVNTag, vntag.ModeETag} {
		t.Run(mode.String(), func(t *testing.T) {
			v := newIV(t, mode)
			list := uint32(42)
			if mode == vntag.ModeETag {
				list = vntag.Channel(1, 42)
			}
			require.NoError(t, v.SetVIFList(list, []vntag.VIF{7, 5, 6, 5, 1234}))
			members, ok := v.VIFList(list)
			require.True(t, ok)
			assert.Equal(t, []vntag.VIF{5, 6, 7, 1234}, members, "sorted, without duplicates")

			frame := ethFrame(bcast, macA, 5)
			var looped, plain []byte
			if mode == vntag.ModeETag {
				e, err := vntag.ETagFields{GRP: 1, ECIDBase: 42, IngressECIDBase: 5}.ETag()
				require.NoError(t, err)
				looped = etagged(t, frame, e)
				e, _ = e.WithIngressECID(0)
				plain = etagged(t, frame, e)
			} else {
				looped = tagged(t, frame, mustTag(t, vntag.TagFields{Direction: vntag.FromBridge, Pointer: true, DVIF: 42, Looped: true, SVIF: 5}))
				plain = tagged(t, frame, mustTag(t, vntag.TagFields{Direction: vntag.FromBridge, Pointer: true, DVIF: 42}))
			}
			tx := process(t, v.IV, iv.UplinkA, looped)
			assert.ElementsMatch(t, []int{v.b, v.c}, tx.Ports, "every member but the source")
			for _, f := range tx.Frames {
				assert.Equal(t, frame, f.Bytes())
			}
			c5, _ := v.Counters(5)
			assert.Equal(t, uint64(1), c5.Pruned)
			assert.Equal(t, uint64(0), c5.TxFrames)

			tx = process(t, v.IV, iv.UplinkA, plain)
			assert.ElementsMatch(t, []int{v.a, v.b, v.c}, tx.Ports, "not looped: every member")

			require.NoError(t, v.DeleteVIFList(list))
			tx = process(t, v.IV, iv.UplinkA, plain)
			assert.Equal(t, 0, tx.Len())
			assert.Equal(t, uint64(1), v.UplinkCounters(iv.UplinkA).Drops[iv.DropUnknownList])
		})
	}
}

func TestListMembersFollowAttachedVNICs(t *testing.T) {
	v := newIV(t, vntag.ModeVNTag)
	require.NoError(t, v.SetVIFList(9, []vntag.VIF{5, 8}))
	frame := tagged(t, ethFrame(bcast, macA, 6), mustTag(t, vntag.TagFields{Direction: vntag.FromBridge, Pointer: true, DVIF: 9}))
	tx := process(t, v.IV, iv.UplinkA, frame)
	assert.Equal(t, []int{v.a}, tx.Ports, "VIF 8 is not attached yet")
	p8, err := v.AddVNIC(iv.VNICConfig{VIF: 8})
	require.NoError(t, err)
	tx = process(t, v.IV, iv.UplinkA, frame)
	assert.ElementsMatch(t, []int{v.a, p8}, tx.Ports)
	require.NoError(t, v.RemoveVNIC(5))
	tx = process(t, v.IV, iv.UplinkA, frame)
	assert.Equal(t, []int{p8}, tx.Ports)
}

func TestFabricFailover(t *testing.T) {
	v := newIV(t, vntag.ModeVNTag)
	frame := ethFrame(macB, macA, 7)
	send := func(in int) int {
		tx := process(t, v.IV, in, frame)
		if tx.Len() == 0 {
			return -1
		}
		return tx.Ports[0]
	}
	assert.Equal(t, iv.UplinkA, send(v.a))
	assert.Equal(t, iv.UplinkB, send(v.c), "VIF 7 prefers fabric B")
	require.NoError(t, v.SetUplinkUp(iv.UplinkA, false))
	assert.Equal(t, iv.UplinkB, send(v.a), "fabric A down: fail over to B")
	u, err := v.ActiveUplink(5)
	require.NoError(t, err)
	assert.Equal(t, iv.UplinkB, u)
	require.NoError(t, v.SetUplinkUp(iv.UplinkB, false))
	assert.Equal(t, -1, send(v.a))
	c, _ := v.Counters(5)
	assert.Equal(t, uint64(1), c.Drops[iv.DropNoUplink])
	require.NoError(t, v.SetUplinkUp(iv.UplinkA, true))
	assert.Equal(t, iv.UplinkA, send(v.c), "B down: VIF 7 fails over to A")
	assert.Equal(t, iv.UplinkA, send(v.a), "A back: VIF 5 returns")
	assert.Error(t, v.SetUplinkUp(2, true))
}

func TestConfigErrors(t *testing.T) {
	v := iv.New(iv.Config{})
	_, err := v.AddVNIC(iv.VNICConfig{VIF: 0})
	assert.ErrorIs(t, err, iv.ErrVIF)
	_, err = v.AddVNIC(iv.VNICConfig{VIF: 4096})
	assert.ErrorIs(t, err, iv.ErrVIF)
	_, err = v.AddVNIC(iv.VNICConfig{VIF: 1})
	require.NoError(t, err)
	_, err = v.AddVNIC(iv.VNICConfig{VIF: 1})
	assert.ErrorIs(t, err, iv.ErrExists)
	assert.ErrorIs(t, v.RemoveVNIC(2), iv.ErrNotFound)
	assert.ErrorIs(t, v.SetVIFList(1<<14, nil), iv.ErrVIF)
	assert.ErrorIs(t, v.SetVIFList(1, []vntag.VIF{0}), iv.ErrVIF)
	assert.ErrorIs(t, v.DeleteVIFList(3), iv.ErrNotFound)
	e := iv.New(iv.Config{Mode: vntag.ModeETag})
	assert.ErrorIs(t, e.SetVIFList(42, nil), iv.ErrVIF, "E-Tag lists need GRP > 0")
	assert.NoError(t, e.SetVIFList(vntag.Channel(3, 42), []vntag.VIF{vntag.MaxECID}))
	_, err = e.AddVNIC(iv.VNICConfig{VIF: vntag.MaxECID + 1})
	assert.ErrorIs(t, err, iv.ErrVIF)
	// A frame on a port the IV does not have is counted, not lost silently.
	tx := process(t, v, 17, ethFrame(macA, macB, 1))
	assert.Equal(t, 0, tx.Len())
	assert.Equal(t, uint64(1), v.UplinkCounters(iv.UplinkA).Drops[iv.DropNoPort])
}

func TestTxFullStopsWithoutLoss(t *testing.T) {
	v := newIV(t, vntag.ModeVNTag)
	frames := []port.Frame{port.FrameFrom(ethFrame(macB, macA, 1)), port.FrameFrom(ethFrame(macB, macA, 2)), port.FrameFrom(ethFrame(macB, macA, 3))}
	tx := port.NewTx(2, 1<<16)
	n := v.Process(v.a, frames, 0, tx)
	assert.Equal(t, 2, n)
	tx.Reset()
	assert.Equal(t, 1, v.Process(v.a, frames[n:], 0, tx))
	assert.True(t, bytes.Equal(tx.Frames[0].Bytes()[20:21], []byte{3}))
	c, _ := v.Counters(5)
	assert.Equal(t, uint64(3), c.RxFrames)
}

func TestNoAllocs(t *testing.T) {
	for _, mode := range []vntag.Mode{vntag.ModeVNTag, vntag.ModeETag} {
		t.Run(mode.String(), func(t *testing.T) {
			v := newIV(t, mode)
			list := uint32(3)
			if mode == vntag.ModeETag {
				list = vntag.Channel(1, 3)
			}
			require.NoError(t, v.SetVIFList(list, []vntag.VIF{5, 6, 7}))
			plain := ethFrame(macB, macA, 1)
			var down, flood []byte
			if mode == vntag.ModeETag {
				e, _ := vntag.ETagForECID(6)
				down = etagged(t, plain, e)
				fe, _ := vntag.ETagFields{GRP: 1, ECIDBase: 3, IngressECIDBase: 5}.ETag()
				flood = etagged(t, plain, fe)
			} else {
				d, _ := vntag.Downstream(6)
				down = tagged(t, plain, d)
				flood = tagged(t, plain, mustTag(t, vntag.TagFields{Direction: vntag.FromBridge, Pointer: true, DVIF: 3, Looped: true, SVIF: 5}))
			}
			b := port.NewBatch(3)
			tx := port.NewTx(64, 1<<16)
			allocs := testing.AllocsPerRun(1000, func() {
				b.Put(0, plain)
				b.Put(1, down)
				b.Put(2, flood)
				v.Process(v.a, b.Frames[:1], 0, tx)
				v.Process(iv.UplinkA, b.Frames[1:3], 0, tx)
				tx.Reset()
			})
			assert.Zero(t, allocs)
		})
	}
}
