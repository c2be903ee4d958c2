package vic_test

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vntag"
)

// nullIV and nullVIS are data paths that accept everything, so the
// benchmarks measure the protocol.
type nullIV struct{}

func (nullIV) BindVIF(vntag.VIF, vic.VNIC, uint32) error { return nil }
func (nullIV) UnbindVIF(vntag.VIF) error                 { return nil }
func (nullIV) SetVIFLink(vntag.VIF, bool) error          { return nil }
func (nullIV) SetVIFList(uint32, []vntag.VIF) error      { return nil }

type nullVIS struct{}

func (nullVIS) SetVEth(uint32, vic.VNIC) error              { return nil }
func (nullVIS) DeleteVEth(uint32) error                     { return nil }
func (nullVIS) BindVIF(vic.PortID, vntag.VIF, uint32) error { return nil }
func (nullVIS) UnbindVIF(vic.PortID, vntag.VIF) error       { return nil }
func (nullVIS) SetVEthLink(uint32, bool) error              { return nil }

func benchUUID(i int) vic.UUID {
	return vic.UUID{0xbe, 0x9c, 4: byte(i >> 24), 5: byte(i >> 16), 6: byte(i >> 8), 7: byte(i)}
}

const benchBatch = 8192 // VIF ids per IV port are limited; delete between batches

// BenchmarkAssociate measures associations end to end — an IVAgent and a
// VISAgent, each on an ecp.Speaker, joined by an in-memory link with a
// goroutine per direction, no loss: the IV asks for a vNIC (VIF-alloc),
// the VIS allocates a VIF and a vEth and answers, the IV programs its
// data path. Run with -cpu 1 for the one-core figure; assoc/s is
// associations per second, allocs/op allocations per association.
func BenchmarkAssociate(b *testing.B) {
	l := newLinkQ(b, 2*benchBatch, false)
	defer l.close()

	var bound atomic.Int64
	vis := vic.NewVISAgent(vic.VISConfig{Session: 2}, nil, nullVIS{}, nil)
	defer vis.Close()
	vis.AddPort(0, l.vis)
	iv := vic.NewIVAgent(vic.IVConfig{Session: 1}, l.iv, nullIV{}, func(a vic.Action) {
		if a.Kind == vic.ActStatus && a.Result == vic.ResultSuccess {
			bound.Add(1)
		}
	})
	defer iv.Close()
	for st, _ := iv.Session(); st != vic.SessionOpen; st, _ = iv.Session() {
		runtime.Gosched()
	}
	wait := func(c *atomic.Int64, n int64) {
		deadline := time.Now().Add(time.Minute)
		for c.Load() < n {
			if time.Now().After(deadline) {
				b.Fatalf("stuck at %d of %d", c.Load(), n)
			}
			runtime.Gosched()
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var paused time.Duration
	for done := 0; done < b.N; {
		n := min(benchBatch, b.N-done)
		target := bound.Load() + int64(n)
		for i := 0; i < n; i++ {
			iv.Request(vic.VNIC{Instance: benchUUID(done + i), MAC: [6]byte{2, 0, 0, 0, byte(i >> 8), byte(i)}, Profile: "web", Epoch: 1, Up: true})
		}
		wait(&bound, target)
		b.StopTimer()
		p := time.Now()
		for i := 0; i < n; i++ {
			iv.Delete(benchUUID(done + i))
		}
		for {
			if _, ok := vis.VEth(benchUUID(done + n - 1)); !ok {
				if x, ok := iv.VNIC(benchUUID(done + n - 1)); !ok || x.State != vic.VIFDeleting {
					break
				}
			}
			runtime.Gosched()
		}
		paused += time.Since(p)
		b.StartTimer()
		done += n
	}
	b.ReportMetric(float64(b.N)/(time.Since(start)-paused).Seconds(), "assoc/s")
}

// BenchmarkDecode: the VIF-alloc request of PROTOCOL.md (P2) into a
// reused Message.
func BenchmarkDecode(b *testing.B) {
	m := vic.Message{Command: vic.CmdVIFAlloc, Session: 1, TxID: 2,
		Present: vic.FieldMAC | vic.FieldProfile | vic.FieldInstance | vic.FieldVLAN | vic.FieldLink | vic.FieldEpoch,
		MAC:     [6]byte{0x52, 0x54, 0, 0x8e, 0xaa, 0x11}, Profile: []byte("web"), Instance: vic.UUID{1}, VLAN: 100, Up: true, Epoch: 1}
	p, _ := m.AppendBinary(nil)
	var out vic.Message
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		if err := vic.Decode(p, &out); err != nil {
			b.Fatal(err)
		}
	}
}
