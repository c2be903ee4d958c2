package vis_test

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
	"github.com/nivkit/niv/vntag/vntaglayers"
)

// Benchmarks process batches of 64 frames, as port.Run does, and report
// ns/frame; allocs/op are per batch. The gopacket baseline in the same file
// decodes the same frames with a DecodingLayerParser (Ethernet, VNTag,
// IPv4, UDP) and looks the source and destination up in a Go map keyed by
// MAC+VLAN: the least a switch written on gopacket would do per frame.
//
//	go test ./vic/vis -run '^$' -bench . -benchmem

const batch = 64

// benchFDB is a VIS with n learned MACs, half on vEth 1 and half on vEth 2
// (both VLAN 10, behind IV port 0), and a pool of upstream frames from a
// random MAC of vEth 1 to a random MAC of vEth 2.
type benchFDB struct {
	vis  *vis.VIS
	pool [][]byte
	srcs [][6]byte
	dsts [][6]byte
}

var fdbs = map[int]*benchFDB{}

// benchVIS returns a VIS with room for n MACs and one VNTag IV port, and
// the port's number; vEths ids are bound to profile "web" (access VLAN
// 10) but not yet added.
func benchVIS(b *testing.B, n int, ids ...profile.VEthID) (*vis.VIS, int) {
	return benchVISWith(b, n, "web", "port-profile web\n  switchport mode access\n  switchport access vlan 10\n  state enabled\n", ids...)
}

// benchVISWith is benchVIS with vEths ids bound to profile name, as
// config (port-profile commands) defines it.
func benchVISWith(b *testing.B, n int, name, config string, ids ...profile.VEthID) (*vis.VIS, int) {
	store := profile.NewMemStore()
	_, err := store.Update(func(tx *profile.Txn) error {
		for _, id := range ids {
			tx.Bind(id, name)
		}
		return tx.Configure(config)
	})
	require.NoError(b, err)
	v, err := vis.New(vis.Config{Store: store, MACTableSize: n + n/8})
	require.NoError(b, err)
	p, err := v.AddIVPort("iv0", vntag.ModeVNTag, iv.New(iv.Config{}))
	require.NoError(b, err)
	return v, p
}

// newMAC returns a random unicast, locally administered MAC not in seen,
// and adds it there.
func newMAC(r *rand.Rand, seen map[[6]byte]bool) [6]byte {
	for {
		var m [6]byte
		x := r.Uint64()
		for i := range m {
			m[i] = byte(x >> (8 * i))
		}
		m[0] = m[0]&^3 | 2
		if !seen[m] {
			seen[m] = true
			return m
		}
	}
}

func getFDB(b *testing.B, n int) *benchFDB {
	if f, ok := fdbs[n]; ok {
		return f
	}
	v, p := benchVIS(b, n, 1, 2)
	require.NoError(b, v.AddVEth(1, p, 5))
	require.NoError(b, v.AddVEth(2, p, 6))
	f := &benchFDB{vis: v}
	r := rand.New(rand.NewPCG(1, uint64(n)))
	seen := map[[6]byte]bool{}
	bt := port.NewBatch(batch)
	tx := port.NewTx(batch*4, 1<<20)
	k := 0
	flush := func() {
		for off := 0; off < k; {
			off += v.Process(p, bt.Frames[off:k], 0, tx)
			tx.Reset()
		}
		k = 0
	}
	for len(seen) < n {
		m := newMAC(r, seen)
		vif := uint16(5)
		if len(seen)%2 == 0 {
			vif = 6
			f.dsts = append(f.dsts, m)
		} else {
			f.srcs = append(f.srcs, m)
		}
		bt.Put(k, upVNTag(b, frame(bcast, m, 1), vif))
		k++
		if k == batch {
			flush()
		}
	}
	flush()
	macs := v.MACs(0)
	require.Len(b, macs, n)
	// The pool is one contiguous array read in order, as frames arrive in
	// a ring: what is random is the addresses, not where the frames are.
	mem := make([]byte, 0, (1<<16)*128)
	for i := 0; i < 1<<16; i++ {
		src, dst := f.srcs[r.IntN(len(f.srcs))], f.dsts[r.IntN(len(f.dsts))]
		fr := upVNTag(b, frame(dst, src, 80), 5)
		mem = append(mem, fr...)
		f.pool = append(f.pool, mem[len(mem)-len(fr):len(mem):len(mem)])
		mem = mem[:len(mem)+128-len(fr)]
	}
	fdbs[n] = f
	return f
}

func benchKnownUnicast(b *testing.B, n int) {
	f := getFDB(b, n)
	forwardPool(b, f.vis, 0, f.pool)
}

// forwardPool times v.Process on batches of 64 frames from pool (a power
// of two of them, taken in turn) arriving on port in, each of which must
// be forwarded, and reports ns/frame (report).
func forwardPool(b *testing.B, v *vis.VIS, in int, pool [][]byte) {
	bt := port.NewBatch(batch)
	tx := port.NewTx(batch*4, 1<<20)
	j := 0
	runtime.GC()
	var core time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k := 0; k < batch; k++ {
			bt.Put(k, pool[j])
			j = (j + 1) & (len(pool) - 1)
		}
		t0 := time.Now()
		v.Process(in, bt.Frames, 0, tx)
		core += time.Since(t0)
		if tx.Len() != batch {
			b.Fatalf("%d frames out of %d", tx.Len(), batch)
		}
		tx.Reset()
	}
	report(b, batch, core)
}

func BenchmarkVISKnownUnicast_10k(b *testing.B) { benchKnownUnicast(b, 10_000) }
func BenchmarkVISKnownUnicast_1M(b *testing.B)  { benchKnownUnicast(b, 1_000_000) }

// BenchmarkVISFromUplink_10k is known unicast the other way: 802.1Q
// frames (VLAN 10) from one of 5,000 MACs behind a plain uplink to one of
// 5,000 MACs of vEth 2 behind an IV, 10k learned MACs in all. The VIS
// learns the source on the uplink, pushes the vEth's downstream tag and
// takes the 802.1Q tag off (the vEth is an access port).
func BenchmarkVISFromUplink_10k(b *testing.B) {
	const n = 10_000
	v, p := benchVIS(b, n, 2)
	up := v.AddUplink("eth1")
	require.NoError(b, v.AddVEth(2, p, 6))
	r := rand.New(rand.NewPCG(2, n))
	// Each MAC learned where it lives: vEth 2, or the uplink.
	local, remote := learnMACs(b, v, r, n, func(m [6]byte, odd bool) (int, []byte) {
		if odd {
			return up, dot1q(frame(bcast, m, 1), 10)
		}
		return p, upVNTag(b, frame(bcast, m, 1), 6)
	})
	var pool [][]byte
	for range 1 << 12 {
		pool = append(pool, dot1q(frame(local[r.IntN(len(local))], remote[r.IntN(len(remote))], 80), 10))
	}
	forwardPool(b, v, up, pool)
}

// BenchmarkVISKnownUnicastTrunk_10k is BenchmarkVISKnownUnicast_10k
// between two trunk vEths (allowed VLANs 10 and 20, native 20): 802.1Q
// frames of VLAN 10, which the destination takes tagged. The VLAN comes
// from the source's allowed set (classifyIn) and the destination is
// checked frame by frame (decideOther) rather than in decideAccess's loop.
func BenchmarkVISKnownUnicastTrunk_10k(b *testing.B) {
	const n = 10_000
	v, p := benchVISWith(b, n, "trunk", "port-profile trunk\n  switchport mode trunk\n  switchport trunk allowed vlan 10,20\n  switchport trunk native vlan 20\n  state enabled\n", 1, 2)
	require.NoError(b, v.AddVEth(1, p, 5))
	require.NoError(b, v.AddVEth(2, p, 6))
	r := rand.New(rand.NewPCG(3, n))
	dsts, srcs := learnMACs(b, v, r, n, func(m [6]byte, odd bool) (int, []byte) {
		vif := uint16(6)
		if odd {
			vif = 5
		}
		return p, upVNTag(b, dot1q(frame(bcast, m, 1), 10), vif)
	})
	var pool [][]byte
	for range 1 << 12 {
		f := dot1q(frame(dsts[r.IntN(len(dsts))], srcs[r.IntN(len(srcs))], 80), 10)
		pool = append(pool, upVNTag(b, f, 5))
	}
	forwardPool(b, v, p, pool)
}

// learnMACs has v learn n random MACs from r, one frame each: the frame
// learn returns for the MAC, arriving on the port it names. Every other
// MAC is odd; learnMACs returns the even ones and the odd ones.
func learnMACs(b *testing.B, v *vis.VIS, r *rand.Rand, n int, learn func(m [6]byte, odd bool) (int, []byte)) (even, odd [][6]byte) {
	seen := map[[6]byte]bool{}
	bt := port.NewBatch(1)
	tx := port.NewTx(batch, 1<<20)
	for i := range n {
		m := newMAC(r, seen)
		if i%2 == 0 {
			even = append(even, m)
		} else {
			odd = append(odd, m)
		}
		in, f := learn(m, i%2 == 1)
		bt.Put(0, f)
		require.Equal(b, 1, v.Process(in, bt.Frames, 0, tx))
		tx.Reset()
	}
	require.Len(b, v.MACs(0), n)
	return even, odd
}

// BenchmarkRefill is the part of every VIS benchmark that is not the VIS:
// copying 64 input frames into the batch.
func BenchmarkRefill(b *testing.B) {
	f := getFDB(b, 10_000)
	bt := port.NewBatch(batch)
	j := 0
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for k := 0; k < batch; k++ {
			bt.Put(k, f.pool[j])
			j = (j + 1) & (len(f.pool) - 1)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/frame")
}

// gopacket baseline: decode Ethernet/VNTag/IPv4/UDP, then look up the
// source (learn) and the destination in a map[[8]byte]uint32.
func benchGopacket(b *testing.B, n int) {
	f := getFDB(b, n)
	fdb := make(map[[8]byte]uint32, n)
	key := func(m [6]byte, vlan uint16) (k [8]byte) {
		copy(k[:], m[:])
		binary.BigEndian.PutUint16(k[6:], vlan)
		return k
	}
	for i, m := range f.srcs {
		fdb[key(m, 10)] = uint32(i)
	}
	for i, m := range f.dsts {
		fdb[key(m, 10)] = uint32(i)
	}
	var (
		eth     layers.Ethernet
		vt      vntaglayers.VNTag
		ip4     layers.IPv4
		udp     layers.UDP
		payload gopacket.Payload
	)
	p := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &vt, &ip4, &udp, &payload)
	p.IgnorePanic = true
	decoded := make([]gopacket.LayerType, 0, 8)
	var hits uint32
	j := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k := 0; k < batch; k++ {
			frame := f.pool[j]
			j = (j + 1) & (len(f.pool) - 1)
			if err := p.DecodeLayers(frame, &decoded); err != nil {
				b.Fatal(err)
			}
			hits += fdb[key([6]byte(eth.SrcMAC), 10)]
			hits += fdb[key([6]byte(eth.DstMAC), 10)]
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/frame")
	sinkU32 = hits
}

var sinkU32 uint32

func BenchmarkGopacketDLPMap_10k(b *testing.B) { benchGopacket(b, 10_000) }
func BenchmarkGopacketDLPMap_1M(b *testing.B)  { benchGopacket(b, 1_000_000) }

// BenchmarkVISFlood64 floods a broadcast from one of 64 vEths behind one
// IV: the VIS sends one frame with a vif list (and one per uplink).
func BenchmarkVISFlood64(b *testing.B) {
	store := profile.NewMemStore()
	_, err := store.Update(func(tx *profile.Txn) error {
		for i := 1; i <= 64; i++ {
			tx.Bind(profile.VEthID(i), "web")
		}
		return tx.Configure("port-profile web\n  switchport mode access\n  switchport access vlan 10\n  max-ports 100\n  state enabled\n")
	})
	require.NoError(b, err)
	v, err := vis.New(vis.Config{Store: store})
	require.NoError(b, err)
	ivA := iv.New(iv.Config{})
	p, err := v.AddIVPort("iv0", vntag.ModeVNTag, ivA)
	require.NoError(b, err)
	for i := 1; i <= 64; i++ {
		require.NoError(b, v.AddVEth(profile.VEthID(i), p, vntag.VIF(i)))
	}
	in := upVNTag(b, frame(bcast, macA, 1), 1)
	bt := port.NewBatch(batch)
	// Room for the worst case the VIS reserves per frame (a copy for every
	// vEth), as port.Run's default Tx has.
	tx := port.NewTx(8192, 16<<20)
	var core time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k := 0; k < batch; k++ {
			bt.Put(k, in)
		}
		t0 := time.Now()
		n := v.Process(p, bt.Frames, 0, tx)
		core += time.Since(t0)
		if n != batch || tx.Len() != batch {
			b.Fatal(fmt.Sprint(n, tx.Len()))
		}
		tx.Reset()
	}
	report(b, batch, core)
}

// BenchmarkVISKnownUnicastHot is the 10k case with only 64 distinct frames,
// so that frames and table lines stay in cache: the compute floor.
func BenchmarkVISKnownUnicastHot(b *testing.B) {
	f := getFDB(b, 10_000)
	bt := port.NewBatch(batch)
	tx := port.NewTx(batch*4, 1<<20)
	runtime.GC()
	var core time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k := 0; k < batch; k++ {
			bt.Put(k, f.pool[k])
		}
		t0 := time.Now()
		f.vis.Process(0, bt.Frames, 0, tx)
		core += time.Since(t0)
		tx.Reset()
	}
	report(b, batch, core)
}

// report sets ns/frame (the whole loop, refilling the batch included) and
// core-ns/frame (the Process calls alone, timed around each batch).
func report(b *testing.B, frames int, core time.Duration) {
	n := float64(b.N * frames)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/frame")
	b.ReportMetric(float64(core.Nanoseconds())/n, "core-ns/frame")
}
