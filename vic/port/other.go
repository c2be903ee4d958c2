//go:build !linux

package port

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// TAP is a Linux TAP device; on this platform OpenTAP fails.
type TAP struct{ Port }

// OpenTAP fails with ErrUnsupported: TAP ports exist on Linux only.
func OpenTAP(name string) (*TAP, error) {
	return nil, fmt.Errorf("port: tap %q: %w", name, ErrUnsupported)
}

// Packet is an AF_PACKET socket; on this platform OpenPacket fails.
type Packet struct{ Port }

// OpenPacket fails with ErrUnsupported: AF_PACKET exists on Linux only.
func OpenPacket(ifname string, filter []bpf.Instruction) (*Packet, error) {
	return nil, fmt.Errorf("port: packet %q: %w", ifname, ErrUnsupported)
}

// TAPConfig tunes OpenTAPWith.
type TAPConfig struct {
	// Offload opens the device with IFF_VNET_HDR (Linux).
	Offload bool
}

// OpenTAPWith fails with ErrUnsupported: TAP ports exist on Linux only.
func OpenTAPWith(name string, _ TAPConfig) (*TAP, error) { return OpenTAP(name) }

// PacketConfig tunes OpenPacketWith.
type PacketConfig struct {
	Filter         []bpf.Instruction
	Offload        bool
	RcvBuf, SndBuf int
	SegmentMTU     int
	RxRing         int
	TxRing         int
	XDPTx          bool
}

// OpenPacketWith fails with ErrUnsupported: AF_PACKET exists on Linux only.
func OpenPacketWith(ifname string, cfg PacketConfig) (*Packet, error) {
	return OpenPacket(ifname, cfg.Filter)
}
