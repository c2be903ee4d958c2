//go:build !linux

package cli

import (
	"fmt"
	"io"
)

func runBench(_ []string, _ io.Reader, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "niv bench: needs Linux (network namespaces, TAP devices, AF_PACKET)")
	return 1
}
