package iv_test

import (
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vntag"
	"github.com/nivkit/niv/vntag/vntaglayers"
)

// Benchmarks process batches of 64 frames and report ns/frame (allocs/op
// are per batch). The gopacket baseline does the least an IV written on
// gopacket would: decode the frame with a DecodingLayerParser and look the
// VIF up in a Go map.
//
//	go test ./vic/iv -run '^$' -bench . -benchmem

const batch = 64

func perFrame(b *testing.B, frames int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*frames), "ns/frame")
}

func benchIV(b *testing.B) (*iv.IV, []int) {
	v := iv.New(iv.Config{})
	var ports []int
	for vif := vntag.VIF(1); vif <= 64; vif++ {
		p, err := v.AddVNIC(iv.VNICConfig{VIF: vif})
		if err != nil {
			b.Fatal(err)
		}
		ports = append(ports, p)
	}
	return v, ports
}

func BenchmarkIVUpstream(b *testing.B) {
	v, ports := benchIV(b)
	frame := ethFrame(macB, macA, 1)
	bt := port.NewBatch(batch)
	tx := port.NewTx(batch, 1<<16)
	var core time.Duration
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for k := 0; k < batch; k++ {
			bt.Put(k, frame)
		}
		t0 := time.Now()
		v.Process(ports[3], bt.Frames, 0, tx)
		core += time.Since(t0)
		tx.Reset()
	}
	report(b, batch, core)
}

func BenchmarkIVDownstream(b *testing.B) {
	v, _ := benchIV(b)
	down, _ := vntag.Downstream(7)
	frame := tagged(nil, ethFrame(macB, macA, 1), down)
	bt := port.NewBatch(batch)
	tx := port.NewTx(batch, 1<<16)
	var core time.Duration
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for k := 0; k < batch; k++ {
			bt.Put(k, frame)
		}
		t0 := time.Now()
		v.Process(iv.UplinkA, bt.Frames, 0, tx)
		core += time.Since(t0)
		tx.Reset()
	}
	report(b, batch, core)
}

// BenchmarkIVFlood64 replicates a looped flood to a vif list of 64 VIFs
// (63 copies, the source pruned); ns/frame is per incoming frame.
func BenchmarkIVFlood64(b *testing.B) {
	v, _ := benchIV(b)
	vifs := make([]vntag.VIF, 64)
	for i := range vifs {
		vifs[i] = vntag.VIF(i + 1)
	}
	if err := v.SetVIFList(9, vifs); err != nil {
		b.Fatal(err)
	}
	tag, _ := vntag.TagFields{Direction: vntag.FromBridge, Pointer: true, DVIF: 9, Looped: true, SVIF: 1}.Tag()
	frame := tagged(nil, ethFrame(bcast, macA, 1), tag)
	bt := port.NewBatch(1)
	tx := port.NewTx(64, 64*port.CopySize(128))
	var core time.Duration
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		bt.Put(0, frame)
		t0 := time.Now()
		n := v.Process(iv.UplinkA, bt.Frames, 0, tx)
		core += time.Since(t0)
		if n != 1 || tx.Len() != 63 {
			b.Fatal(tx.Len())
		}
		tx.Reset()
	}
	report(b, 1, core)
}

// BenchmarkRefill is the part of the benchmarks above that is not the IV:
// copying 64 frames into the batch.
func BenchmarkRefill(b *testing.B) {
	frame := ethFrame(macB, macA, 1)
	bt := port.NewBatch(batch)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for k := 0; k < batch; k++ {
			bt.Put(k, frame)
		}
	}
	perFrame(b, batch)
}

// gopacket baseline, downstream: decode Ethernet/VNTag/payload, map
// dvif → vNIC port.
func BenchmarkGopacketDownstream(b *testing.B) {
	down, _ := vntag.Downstream(7)
	frame := tagged(nil, ethFrame(macB, macA, 1), down)
	byVIF := map[uint16]int{}
	for vif := uint16(1); vif <= 64; vif++ {
		byVIF[vif] = int(vif) + 1
	}
	var (
		eth     layers.Ethernet
		vt      vntaglayers.VNTag
		payload gopacket.Payload
	)
	p := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &vt, &payload)
	p.IgnorePanic = true
	p.IgnoreUnsupported = true
	decoded := make([]gopacket.LayerType, 0, 4)
	sum := 0
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for k := 0; k < batch; k++ {
			if err := p.DecodeLayers(frame, &decoded); err != nil {
				b.Fatal(err)
			}
			sum += byVIF[vt.Tag.DVIF()]
		}
	}
	perFrame(b, batch)
	sinkInt = sum
}

// gopacket baseline, upstream: decode Ethernet (to check for a tag) and
// serialize the VNTag layer in front of the payload.
func BenchmarkGopacketUpstream(b *testing.B) {
	frame := ethFrame(macB, macA, 1)
	var eth layers.Ethernet
	p := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth)
	p.IgnorePanic = true
	p.IgnoreUnsupported = true
	decoded := make([]gopacket.LayerType, 0, 4)
	buf := gopacket.NewSerializeBuffer()
	up, _ := vntag.Upstream(5)
	vt := &vntaglayers.VNTag{Tag: up.WithEtherType(0x88b5)}
	outer := &layers.Ethernet{EthernetType: vntaglayers.EthernetTypeVNTag}
	ls := []gopacket.SerializableLayer{outer, vt, nil}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for k := 0; k < batch; k++ {
			if err := p.DecodeLayers(frame, &decoded); err != nil {
				b.Fatal(err)
			}
			outer.SrcMAC, outer.DstMAC = eth.SrcMAC, eth.DstMAC
			pl := gopacket.Payload(eth.Payload)
			ls[2] = &pl
			if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{}, ls...); err != nil {
				b.Fatal(err)
			}
		}
	}
	perFrame(b, batch)
}

var sinkInt int

// report sets ns/frame (the whole loop, refilling the batch included) and
// core-ns/frame (the Process calls alone, timed around each batch).
func report(b *testing.B, frames int, core time.Duration) {
	n := float64(b.N * frames)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/frame")
	b.ReportMetric(float64(core.Nanoseconds())/n, "core-ns/frame")
}
