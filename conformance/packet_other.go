//go:build !linux

package conformance

import (
	"fmt"

	"github.com/nivkit/niv/vic/port"
)

// OpenWire opens a port on a network interface; it needs Linux's AF_PACKET
// and returns port.ErrUnsupported elsewhere.
func OpenWire(ifname string) (port.Port, error) {
	return nil, fmt.Errorf("%w: %s: %w", ErrDevice, ifname, port.ErrUnsupported)
}
