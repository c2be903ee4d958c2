// Command ivvis shows VN-Link end to end: VMs behind an interface
// virtualizer (IV), switched by a virtual interface switch (VIS), the two
// joined by a link that carries real VNTag (or 802.1BR E-Tag) frames.
//
// By default it needs no privileges: the IV, the VIS and three small VMs run
// in this process on in-memory ports. First the IV's control plane asks the
// VIS's for a vEth for each vNIC (vic over ECP, on the same link, through
// vic/bind), which creates the vNICs on the IV and the vEths, bound to their
// port-profiles, on the VIS. Then VM A resolves VM B with ARP and pings
// it; both sit behind the same IV, so every frame goes up to the VIS and
// comes back down (hairpin). VM C is in another VLAN and sees nothing.
// Every data frame on the IV–VIS link is printed with its tag, then the
// counters of both sides. (-lab configures both sides by hand.)
//
//	go run ./examples/ivvis            # in-process, VNTag
//	go run ./examples/ivvis -etag      # in-process, E-Tag
//	sudo go run ./examples/ivvis -lab  # real namespaces, TAP vNICs, a veth link, ping
//
// With -lab (root, Linux, iproute2) the VMs are network namespaces with TAP
// vNICs, the link is a veth pair read and written through AF_PACKET, and the
// kernel's own ping runs between them.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/nivkit/niv/vntag"
)

func main() {
	lab := flag.Bool("lab", false, "build network namespaces, TAP vNICs and a veth link (needs root) and ping between the VMs")
	etag := flag.Bool("etag", false, "tag the link with 802.1BR E-Tags instead of VNTags")
	timeout := flag.Duration("timeout", 20*time.Second, "give up after this long")
	flag.Parse()

	mode := vntag.ModeVNTag
	if *etag {
		mode = vntag.ModeETag
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	var err error
	if *lab {
		err = runLab(ctx, os.Stdout, mode)
	} else {
		err = runInProcess(ctx, os.Stdout, mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ivvis:", err)
		os.Exit(1)
	}
}
