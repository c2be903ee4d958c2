package lldp_test

import (
	"fmt"
	"time"

	"github.com/nivkit/niv/vdp/evb"
	"github.com/nivkit/niv/vdp/lldp"
)

// An EVB bridge agent: BEGIN sends the first LLDPDU at once; the next
// ones follow msgFastTx apart.
func ExampleAgent() {
	a, err := lldp.NewAgent(lldp.Config{Addr: [6]byte{2, 0, 0, 0, 0, 2},
		EVB: evb.TLV{RRCAP: true, R: 3, RTE: 14, Mode: evb.ModeBridge, RWD: 20, RKA: 20}})
	if err != nil {
		panic(err)
	}
	now := time.Unix(0, 0)
	for _, act := range a.Handle(lldp.Event{Kind: lldp.EvBegin}, now) {
		fmt.Printf("sent %d bytes, EVB TLV % x\n", len(act.Frame), act.Frame[36:47])
	}
	next, _ := a.Deadline()
	fmt.Println("next in", next.Sub(now))
	// Output:
	// sent 60 bytes, EVB TLV fe 09 00 80 c2 0d 02 00 6e 54 14
	// next in 1s
}
