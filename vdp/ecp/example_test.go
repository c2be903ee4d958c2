package ecp_test

import (
	"fmt"

	"github.com/nivkit/niv/vdp/ecp"
)

// Decoding lldpad's 18-byte acknowledgement (vdp-ecp.md example L2).
func ExampleDecode() {
	frame := []byte{0x01, 0x80, 0xc2, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0x89, 0x40, 0x14, 0x01, 0x00, 0x01}
	p, err := ecp.Decode(frame)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Version, p.Op, p.Subtype, p.Seq, p.Check())
	// Output: 1 ack VDP 1 <nil>
}

// frameLog is a frame port that prints what is sent.
type frameLog struct{}

func (frameLog) WriteFrame(b []byte) error {
	p, _ := ecp.Decode(b)
	fmt.Printf("sent %v %v seq %d, %d bytes\n", p.Op, p.Subtype, p.Seq, len(b))
	return nil
}

// A Speaker on a frame port: Send queues a ULPDU and transmits it at
// once; a request from the peer is acknowledged and delivered.
func ExampleSpeaker() {
	s, err := ecp.NewSpeaker(frameLog{}, ecp.DefaultConfig([6]byte{2, 0, 0, 0, 0, 1}))
	if err != nil {
		panic(err)
	}
	defer s.Close()
	_ = s.Send(ecp.SubtypePECSP, []byte("hello"))
	// The peer acknowledges sequence 1 and sends a request of its own.
	peer := [6]byte{2, 0, 0, 0, 0, 2}
	ack, _ := ecp.AppendFrame(nil, ecp.NearestCustomerBridge, peer, ecp.Header{Version: 1, Op: ecp.OpAck, Subtype: ecp.SubtypePECSP, Seq: 1}, nil, false)
	s.Receive(ack)
	req, _ := ecp.AppendFrame(nil, ecp.NearestCustomerBridge, peer, ecp.Header{Version: 1, Subtype: ecp.SubtypePECSP, Seq: 9}, []byte("hi"), true)
	s.Receive(req)
	c := s.Counters()
	fmt.Println(c.TxPDUs, c.RxAcks, c.RxPDUs, c.TxAcks, s.Queued())
	// Output:
	// sent request PE-CSP seq 1, 60 bytes
	// sent ack PE-CSP seq 9, 60 bytes
	// 1 1 1 1 0
}
