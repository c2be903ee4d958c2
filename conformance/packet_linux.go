//go:build linux

package conformance

import (
	"fmt"

	"github.com/nivkit/niv/vic/port"
)

// OpenWire opens an AF_PACKET port (port.OpenPacket, with no filter) on
// interface ifname: it reads every frame the interface receives exactly as
// it was on the wire, 802.1Q tags included (the port puts back the tag the
// kernel's VLAN offload took out), and writes whole frames out of it. It is
// the port the DUT target and the Daemon use by default.
func OpenWire(ifname string) (port.Port, error) {
	p, err := port.OpenPacket(ifname, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrDevice, ifname, err)
	}
	return p, nil
}
