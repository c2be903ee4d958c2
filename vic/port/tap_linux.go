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
// IFF_VNET_HDR is not used. With it the kernel could hand over 64 KB TCP
// segments and leave checksums to us; the IV would then have to segment
// and checksum in user space before the frames cross the VNTag link, whose
// MTU is the VM's plus the tag, because the AF_PACKET end of the link does
// not take them. Without it the kernel segments and checksums before the
// frame reaches the TAP, which is what a vNIC of MTU 1500 needs.
type TAP struct {
	*fdPort
}

// OpenTAP creates (or attaches to) the TAP device name; an empty name lets
// the kernel choose one (Name returns it). The device is created down;
// bring it up with ip link. Closing the port deletes a non-persistent
// device.
func OpenTAP(name string) (*TAP, error) {
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
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("port: tap %q: TUNSETIFF: %w", name, err)
	}
	p, err := newFDPort(ifr.Name(), fd, "tap")
	if err != nil {
		return nil, err
	}
	return &TAP{p}, nil
}
