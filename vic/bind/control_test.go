package bind_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vdp/ecp"
	"github.com/nivkit/niv/vic/bind"
	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vntag"
)

type frameLog struct{ frames [][]byte }

func (l *frameLog) WriteFrame(b []byte) error {
	l.frames = append(l.frames, append([]byte(nil), b...))
	return nil
}

// downFrame is a VNTag frame from the VIS for VIF vif.
func downFrame(t *testing.T, vif uint16, marker byte) []byte {
	tag, err := vntag.Downstream(vif)
	require.NoError(t, err)
	f := port.FrameFrom(frame(mac(byte(vif)), mac(0x99), marker))
	out, err := vntag.Push(f.Buf, f.Off, tag)
	require.NoError(t, err)
	return append([]byte(nil), out...)
}

// ecpRequest is an ECP request with sequence seq carrying a few bytes.
func ecpRequest(t *testing.T, seq uint16) []byte {
	b, err := ecp.AppendFrame(nil, ecp.NearestCustomerBridge, mac(0xf0),
		ecp.Header{Version: 1, Op: ecp.OpRequest, Subtype: ecp.SubtypePECSP, Seq: seq}, []byte{1, 2, 3}, true)
	require.NoError(t, err)
	return b
}

func frames(bs ...[]byte) []port.Frame {
	fs := make([]port.Frame, len(bs))
	for i, b := range bs {
		fs[i] = port.FrameFrom(b)
	}
	return fs
}

// TestControl sends a batch of VNTag data frames with ECP frames between
// them down an IV's uplink: through a Control the ECP frames reach the
// speaker (which acknowledges them) and the data frames reach the vNICs in
// order; straight into the core the ECP frames are dropped as untagged.
func TestControl(t *testing.T) {
	newIV := func() *iv.IV {
		c := iv.New(iv.Config{})
		for _, vif := range []vntag.VIF{5, 6} {
			_, err := c.AddVNIC(iv.VNICConfig{VIF: vif})
			require.NoError(t, err)
		}
		return c
	}
	batch := func() []port.Frame {
		return frames(downFrame(t, 5, 1), ecpRequest(t, 1), downFrame(t, 6, 2), downFrame(t, 5, 3), ecpRequest(t, 2))
	}

	core := newIV()
	log := &frameLog{}
	sp, err := ecp.NewSpeaker(log, ecp.DefaultConfig(mac(0xe0)))
	require.NoError(t, err)
	defer sp.Close()
	ctl := bind.NewControl(core)
	ctl.Attach(iv.UplinkA, sp)
	tx := port.NewTx(16, 1<<16)
	require.Equal(t, 5, ctl.Process(iv.UplinkA, batch(), 0, tx))
	require.Len(t, tx.Frames, 3)
	for i, want := range []struct {
		port   int
		marker byte
	}{{iv.FirstVNIC, 1}, {iv.FirstVNIC + 1, 2}, {iv.FirstVNIC, 3}} {
		assert.Equal(t, want.port, tx.Ports[i])
		assert.Equal(t, want.marker, tx.Frames[i].Bytes()[14], "data frames keep their order")
	}
	assert.Equal(t, uint64(2), sp.Counters().RxPDUs)
	assert.Equal(t, uint64(2), sp.Counters().TxAcks)
	require.Len(t, log.frames, 2)
	for i, b := range log.frames {
		p, err := ecp.Decode(b)
		require.NoError(t, err)
		assert.Equal(t, ecp.OpAck, p.Op)
		assert.Equal(t, uint16(i+1), p.Seq)
	}
	assert.Zero(t, core.UplinkCounters(iv.UplinkA).Drops[iv.DropNoTag])

	// A Tx with room for one frame: Process stops after the first data
	// frame and the caller goes on with the rest, as port.Run does.
	core2 := newIV()
	ctl2 := bind.NewControl(core2)
	sp2, err := ecp.NewSpeaker(&frameLog{}, ecp.DefaultConfig(mac(0xe0)))
	require.NoError(t, err)
	defer sp2.Close()
	ctl2.Attach(iv.UplinkA, sp2)
	fs := batch()
	var got []byte
	for len(fs) > 0 {
		small := port.NewTx(1, 1<<12)
		n := ctl2.Process(iv.UplinkA, fs, 0, small)
		require.Positive(t, n)
		for _, f := range small.Frames {
			got = append(got, f.Bytes()[14])
		}
		fs = fs[n:]
	}
	assert.Equal(t, []byte{1, 2, 3}, got)
	assert.Equal(t, uint64(2), sp2.Counters().Delivered+sp2.Counters().RxDuplicates)

	// Without Control the core counts both ECP frames as untagged.
	bare := newIV()
	bare.Process(iv.UplinkA, batch(), 0, port.NewTx(16, 1<<16))
	assert.Equal(t, uint64(2), bare.UplinkCounters(iv.UplinkA).Drops[iv.DropNoTag])

	// Other ports are not looked at: a vNIC's own 0x8940 frame is data.
	tx = port.NewTx(4, 1<<14)
	require.Equal(t, 1, ctl.Process(iv.FirstVNIC, frames(ecpRequest(t, 9)), 0, tx))
	require.Len(t, tx.Frames, 1)
	assert.Equal(t, iv.UplinkA, tx.Ports[0])
	assert.Equal(t, uint64(2), sp.Counters().RxPDUs)
}

// TestControlAllocs: data frames through a Control allocate nothing.
func TestControlAllocs(t *testing.T) {
	core := iv.New(iv.Config{})
	_, err := core.AddVNIC(iv.VNICConfig{VIF: 5})
	require.NoError(t, err)
	sp, err := ecp.NewSpeaker(&frameLog{}, ecp.DefaultConfig(mac(0xe0)))
	require.NoError(t, err)
	defer sp.Close()
	ctl := bind.NewControl(core)
	ctl.Attach(iv.UplinkA, sp)
	ctl.AttachLLDP(iv.UplinkA, sp) // any receiver: the data path must not change
	src := downFrame(t, 5, 1)
	fs := frames(src, src, src, src)
	tx := port.NewTx(16, 1<<16)
	allocs := testing.AllocsPerRun(100, func() {
		for i := range fs {
			fs[i].Off = port.Headroom
			fs[i].Buf = fs[i].Buf[:port.Headroom+copy(fs[i].Buf[port.Headroom:cap(fs[i].Buf)], src)]
		}
		tx.Reset()
		ctl.Process(iv.UplinkA, fs, 0, tx)
	})
	assert.Zero(t, allocs)
	uc := core.UplinkCounters(iv.UplinkA)
	assert.Zero(t, uc.Dropped())
	c, _ := core.Counters(5)
	assert.Positive(t, c.TxFrames)
}
