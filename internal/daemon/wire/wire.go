// Package wire opens the Linux interfaces the niv daemons run on: the
// IV–VIS links (AF_PACKET, VNTag, E-Tag and ECP frames only), plain trunk
// uplinks (every frame) and TAP vNICs, optionally inside another network
// namespace.
package wire

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/nivkit/niv/vic/port"
)

// LinkFilter accepts the frames of an IV–VIS link: VNTag (0x8926), E-Tag
// (0x893F) and the control plane's ECP (0x8940). The host's own traffic on
// the interface (IPv6 router solicitations, LLDP) stays away from the
// cores.
func LinkFilter() []bpf.Instruction {
	return []bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x8926, SkipTrue: 3},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x893F, SkipTrue: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x8940, SkipTrue: 1},
		bpf.RetConstant{Val: 0},
		bpf.RetConstant{Val: 0x40000},
	}
}

// OpenLink opens an IV–VIS link and returns it with the interface's MAC
// (the ECP speaker's source address). With xdp its frames go out through
// AF_XDP (port.PacketConfig.XDPTx).
func OpenLink(ifname string, xdp bool) (port.Port, [6]byte, error) {
	return open(ifname, LinkFilter(), xdp)
}

// OpenTrunk opens a plain uplink: every frame. With xdp, as OpenLink.
func OpenTrunk(ifname string, xdp bool) (port.Port, [6]byte, error) {
	return open(ifname, nil, xdp)
}

func open(ifname string, filter []bpf.Instruction, xdp bool) (port.Port, [6]byte, error) {
	var mac [6]byte
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, mac, fmt.Errorf("interface %s: %w", ifname, err)
	}
	copy(mac[:], ifi.HardwareAddr)
	p, err := port.OpenPacketWith(ifname, port.PacketConfig{Filter: filter, XDPTx: xdp})
	if err != nil {
		return nil, mac, err
	}
	return p, mac, nil
}

// OpenEVB opens an evb port's link: every frame (the VMs' untagged and
// VLAN-tagged frames, LLDP, ECP), with offloads (PACKET_VNET_HDR), so that
// the TCP super-frames and partial checksums of the VMs behind a macvlan
// or macvtap cross the VIS as they are.
func OpenEVB(ifname string) (port.Port, [6]byte, error) {
	var mac [6]byte
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, mac, fmt.Errorf("interface %s: %w", ifname, err)
	}
	copy(mac[:], ifi.HardwareAddr)
	p, err := port.OpenPacketWith(ifname, port.PacketConfig{Offload: true})
	if err != nil {
		return nil, mac, err
	}
	return p, mac, nil
}

// OpenTAP opens TAP device name, creating it if it does not exist, inside
// network namespace netns ("" for the daemon's own; a name under
// /var/run/netns or a path). The open file keeps working wherever the
// device is afterwards.
func OpenTAP(name, netns string) (*port.TAP, error) {
	if netns == "" {
		return port.OpenTAP(name)
	}
	var tap *port.TAP
	err := InNetns(netns, func() error {
		var err error
		tap, err = port.OpenTAP(name)
		return err
	})
	return tap, err
}

// InNetns runs f on a thread that is in network namespace ns.
func InNetns(ns string, f func() error) error {
	path := ns
	if path[0] != '/' {
		path = "/var/run/netns/" + ns
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return err
	}
	defer self.Close()
	target, err := os.Open(path)
	if err != nil {
		return err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("enter network namespace %s: %w", ns, err)
	}
	ferr := f()
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		// Stuck in the wrong namespace: let the thread end with the
		// goroutine rather than run anything else.
		runtime.LockOSThread()
		return fmt.Errorf("leave network namespace %s: %w", ns, err)
	}
	return ferr
}

// Session returns the session number of a new incarnation: the time in
// nanoseconds, so that a restarted daemon's session is above its previous
// one (a VIS refuses an Open older than the session it has open).
func Session() uint64 { return uint64(time.Now().UnixNano()) }
