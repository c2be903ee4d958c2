package evb_test

import (
	"fmt"

	"github.com/nivkit/niv/vdp/evb"
)

// A station hears a bridge's EVB TLV (lldpad's, vdp-ecp.md §5) and works
// out what it sends back and what its ECP and VDP use.
func ExampleNegotiate() {
	bridge, err := evb.Parse([]byte{0x00, 0x80, 0xc2, 0x0d, 0x02, 0x00, 0x6e, 0x54, 0x14})
	if err != nil {
		panic(err)
	}
	local := evb.TLV{RRREQ: true, R: 3, RTE: 8, Mode: evb.ModeStation, RWD: 20, RKA: 20}
	use := evb.Negotiate(local, bridge)
	fmt.Printf("send % x; R %d RTE %d RWD %d RKA %d\n", use.AppendTLV(nil), use.R, use.RTE, use.RWD, use.RKA)
	// Output: send fe 09 00 80 c2 0d 02 04 6e b4 34; R 3 RTE 14 RWD 20 RKA 20
}
