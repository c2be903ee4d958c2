//go:build linux

package port

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// TAP is a Linux TAP device opened with IFF_TAP|IFF_NO_PI: every read(2)
// returns one whole Ethernet frame as the kernel sent it out of the device,
// every write(2) injects one as if it arrived on it. It is a VM's vNIC:
// move the device into a network namespace (the VM) and the IV reads what
// the VM sends.
//
// With TAPConfig.Offload the device is opened with IFF_VNET_HDR and told
// (TUNSETOFFLOAD) that its reader takes partial checksums and TCP and UDP
// super-frames (TSO4, TSO6, USO4, USO6 where the kernel has them): the VM's
// stack then hands over frames of up to 64 KB without segmenting or
// checksumming them, each with its virtio_net_hdr, which becomes the
// frame's Offload, and frames written to it may be super-frames too.
// Without it the kernel segments and checksums before the frame reaches
// the TAP, and a frame with an Offload written to it is finished in
// software first (Segmenter).
type TAP struct {
	*fdPort
}

// TAPConfig tunes OpenTAPWith.
type TAPConfig struct {
	// Offload opens the device with IFF_VNET_HDR and turns on checksum
	// and segmentation offload toward its reader.
	Offload bool
}

// Offload flags of TUNSETOFFLOAD (linux/if_tun.h) that x/sys/unix does not
// name.
const (
	tunFUSO4 = 0x20
	tunFUSO6 = 0x40
)

// OpenTAP creates (or attaches to) the TAP device name; an empty name lets
// the kernel choose one (Name returns it). The device is created down;
// bring it up with ip link. Closing the port deletes a non-persistent
// device.
func OpenTAP(name string) (*TAP, error) { return OpenTAPWith(name, TAPConfig{}) }

// OpenTAPWith is OpenTAP with options.
func OpenTAPWith(name string, cfg TAPConfig) (*TAP, error) {
	if len(name) >= unix.IFNAMSIZ {
		return nil, fmt.Errorf("port: tap %q: name longer than %d bytes", name, unix.IFNAMSIZ-1)
	}
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("port: tap %q: open /dev/net/tun: %w", name, err)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("port: tap %q: %w", name, err)
	}
	flags := uint16(unix.IFF_TAP | unix.IFF_NO_PI)
	if cfg.Offload {
		flags |= unix.IFF_VNET_HDR
	}
	ifr.SetUint16(flags)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("port: tap %q: TUNSETIFF: %w", name, err)
	}
	if cfg.Offload {
		if err := unix.IoctlSetPointerInt(fd, unix.TUNSETVNETHDRSZ, VNetHdrLen); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("port: tap %q: TUNSETVNETHDRSZ: %w", name, err)
		}
		off := unix.TUN_F_CSUM | unix.TUN_F_TSO4 | unix.TUN_F_TSO6 | unix.TUN_F_TSO_ECN
		// USO came with Linux 6.2; an older kernel refuses the flags.
		if err := unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, off|tunFUSO4|tunFUSO6); err != nil {
			if err := unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, off); err != nil {
				unix.Close(fd)
				return nil, fmt.Errorf("port: tap %q: TUNSETOFFLOAD: %w", name, err)
			}
		}
	}
	p, err := newFDPort(ifr.Name(), fd, "tap")
	if err != nil {
		return nil, err
	}
	p.vnet = cfg.Offload
	return &TAP{p}, nil
}
