//go:build linux

package conformance

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nivkit/niv/vic/port"
)

// OpenWire opens an AF_PACKET socket on interface ifname that reads every
// frame the interface receives exactly as it was on the wire, 802.1Q tags
// included, and writes whole frames out of it. It is the port the DUT
// target and the Daemon use by default.
//
// On receive the Linux kernel moves an outer 802.1Q/802.1ad tag out of the
// frame into the packet's metadata before packet sockets see it; a plain
// read(2) (as port.OpenPacket does) returns the frame without its VLAN
// tag. OpenWire asks for PACKET_AUXDATA and puts the tag back, as libpcap
// does, so that a conformance case sees the VLAN tags it sent.
func OpenWire(ifname string) (port.Port, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrDevice, ifname, err)
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: socket: %v", ErrDevice, ifname, err)
	}
	fail := func(what string, err error) (port.Port, error) {
		unix.Close(fd)
		return nil, fmt.Errorf("%w: %s: %s: %v", ErrDevice, ifname, what, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_AUXDATA, 1); err != nil {
		return fail("PACKET_AUXDATA", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil {
		return fail("PACKET_IGNORE_OUTGOING", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
		return fail("bind", err)
	}
	w := &wire{name: ifname, f: os.NewFile(uintptr(fd), ifname)}
	w.buf = make([]byte, port.MaxFrameLen+4)
	w.oob = make([]byte, unix.CmsgSpace(int(unsafe.Sizeof(unix.TpacketAuxdata{}))))
	return w, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// wire is an AF_PACKET port that restores VLAN tags.
type wire struct {
	name string
	f    *os.File

	rmu      sync.Mutex
	buf, oob []byte
	wmu      sync.Mutex
	rx, tx   atomic.Uint64
	rxb, txb atomic.Uint64
	drops    atomic.Uint64
	closed   atomic.Bool
}

func (w *wire) Name() string { return w.name }

func (w *wire) Stats() port.Stats {
	return port.Stats{RxFrames: w.rx.Load(), RxBytes: w.rxb.Load(), TxFrames: w.tx.Load(), TxBytes: w.txb.Load(), RxDropped: w.drops.Load()}
}

// Close closes the socket; blocked and later calls return port.ErrClosed.
func (w *wire) Close() error {
	if w.closed.Swap(true) {
		return nil
	}
	return w.f.Close()
}

func (w *wire) closedErr(err error) error {
	if w.closed.Load() || errors.Is(err, os.ErrClosed) {
		return port.ErrClosed
	}
	return err
}

// Read waits for at least one frame and reads those ready, up to the
// batch's capacity.
func (w *wire) Read(b *port.Batch) error {
	w.rmu.Lock()
	defer w.rmu.Unlock()
	rc, err := w.f.SyscallConn()
	if err != nil {
		return w.closedErr(err)
	}
	b.N = 0
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		for b.N < b.Cap() {
			n, oobn, _, _, err := unix.Recvmsg(int(fd), w.buf[4:], w.oob, 0)
			switch {
			case err == unix.EINTR:
				continue
			case err == unix.EAGAIN:
				return b.N > 0
			case err != nil:
				rerr = err
				return true
			}
			frame := w.restore(n, oobn)
			if len(frame) < 14 || !b.Put(b.N, frame) {
				w.drops.Add(1)
				continue
			}
			b.N++
			w.rx.Add(1)
			w.rxb.Add(uint64(len(frame)))
		}
		return true
	})
	if err != nil {
		return w.closedErr(err)
	}
	return rerr
}

// restore returns the frame just read into w.buf[4:4+n], with the VLAN
// tag the kernel took out put back after the MAC addresses.
func (w *wire) restore(n, oobn int) []byte {
	frame := w.buf[4 : 4+n]
	msgs, err := unix.ParseSocketControlMessage(w.oob[:oobn])
	if err != nil || n < 12 {
		return frame
	}
	for _, m := range msgs {
		if m.Header.Level != unix.SOL_PACKET || m.Header.Type != unix.PACKET_AUXDATA ||
			len(m.Data) < int(unsafe.Sizeof(unix.TpacketAuxdata{})) {
			continue
		}
		aux := (*unix.TpacketAuxdata)(unsafe.Pointer(&m.Data[0]))
		if aux.Status&unix.TP_STATUS_VLAN_VALID == 0 {
			continue
		}
		tpid := uint16(0x8100)
		if aux.Status&unix.TP_STATUS_VLAN_TPID_VALID != 0 && aux.Vlan_tpid != 0 {
			tpid = aux.Vlan_tpid
		}
		// Move the addresses 4 bytes forward, into the room kept in front.
		copy(w.buf[:12], w.buf[4:16])
		binary.BigEndian.PutUint16(w.buf[12:], tpid)
		binary.BigEndian.PutUint16(w.buf[14:], aux.Vlan_tci)
		return w.buf[:4+n]
	}
	return frame
}

// Write writes the frames in order, one write(2) each.
func (w *wire) Write(frames []port.Frame) (int, error) {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	rc, err := w.f.SyscallConn()
	if err != nil {
		return 0, w.closedErr(err)
	}
	sent := 0
	for _, f := range frames {
		b := f.Bytes()
		if len(b) > port.MaxFrameLen {
			return sent, port.ErrTooLong
		}
		var werr error
		err := rc.Write(func(fd uintptr) bool {
			for {
				_, err := unix.Write(int(fd), b)
				switch {
				case err == unix.EINTR:
					continue
				case err == unix.EAGAIN || err == unix.ENOBUFS:
					return false
				}
				werr = err
				return true
			}
		})
		if err != nil {
			return sent, w.closedErr(err)
		}
		if werr != nil {
			return sent, fmt.Errorf("%w: %s: write: %v", ErrDevice, w.name, werr)
		}
		sent++
		w.tx.Add(1)
		w.txb.Add(uint64(len(b)))
	}
	return sent, nil
}
