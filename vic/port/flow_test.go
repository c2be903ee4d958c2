package port

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
)

// flowFrame is an IPv4 (or IPv6) TCP frame from sport to dport.
func flowFrame(v6 bool, src, dst byte, sport, dport uint16) []byte {
	b := make([]byte, 14+40+20)
	et, l4 := uint16(0x0800), 14+20
	ip := b[14:]
	if v6 {
		et, l4 = 0x86dd, 14+40
		ip[0], ip[6] = 0x60, 6
		ip[23], ip[39] = src, dst
	} else {
		ip[0], ip[9] = 0x45, 6
		ip[15], ip[19] = src, dst
	}
	binary.BigEndian.PutUint16(b[12:], et)
	binary.BigEndian.PutUint16(b[l4:], sport)
	binary.BigEndian.PutUint16(b[l4+2:], dport)
	return b
}

// A flow's frames both ways go on one queue; flows that differ in a port
// spread over the queues; a frame that is not IP goes on queue 0.
func TestFlowQueue(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		used := map[int]int{}
		for p := uint16(0); p < 64; p++ {
			q := flowQueue(flowFrame(v6, 1, 2, 40000+p, 5201), 4)
			assert.Equal(t, q, flowQueue(flowFrame(v6, 2, 1, 5201, 40000+p), 4), "v6 %v port %d: the reply's queue", v6, p)
			assert.True(t, q >= 0 && q < 4)
			used[q]++
		}
		assert.Len(t, used, 4, "v6 %v: 64 flows over 4 queues: %v", v6, used)
	}
	assert.Zero(t, flowQueue([]byte{14: 0}, 4), "short")
	arp := make([]byte, 60)
	binary.BigEndian.PutUint16(arp[12:], 0x0806)
	assert.Zero(t, flowQueue(arp, 4))
	assert.Zero(t, flowQueue(flowFrame(false, 1, 2, 3, 4), 1))
	f := flowFrame(true, 1, 2, 3, 4)
	assert.Zero(t, testing.AllocsPerRun(100, func() { flowQueue(f, 4) }))
}
