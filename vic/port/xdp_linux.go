//go:build linux

package port

import (
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// xskTx is the AF_XDP socket a Packet port with PacketConfig.XDPTx writes
// its frames through (Linux's Documentation/networking/af_xdp.rst): bound
// to queue 0 of the interface in copy mode (XDP_COPY), with a UMEM of
// fixed-size chunks, a TX ring that takes a descriptor per frame and a
// completion ring that gives each chunk back once its frame has left.
// A Write copies each frame into a free chunk, puts its descriptor on the
// TX ring and has the kernel send the ring with one sendto(2); the kernel
// builds an skb per frame from the chunk and hands it straight to the
// driver (__dev_direct_xmit: no queueing discipline, no packet taps), which
// skips the per-message work of sendmmsg(2) (the msghdr and iovec copies,
// the socket's header parsing and the qdisc layer).
//
// The socket takes no virtio_net_hdr, so the port finishes every frame
// with an Offload in software before it is written (segmented to the MTU
// and checksummed), as a link without offloads does. It has no RX ring and
// no XDP program: frames are still read through the AF_PACKET socket.
type xskTx struct {
	file *os.File
	rc   syscall.RawConn
	umem []byte
	ring []byte // the TX ring's mapping
	comp []byte // the completion ring's mapping
	fill []byte // the fill ring's mapping (unused, but the kernel wants one)

	// The rings' producer and consumer words and descriptors.
	txProd, txCons *uint32
	txDesc         []unix.XDPDesc
	cqProd, cqCons *uint32
	cqAddr         []uint64

	free []uint64 // chunks not on the TX ring (their UMEM offsets)
}

// XSK geometry: ring entries and UMEM chunks. A chunk is free, on the TX
// ring, or with the kernel until its completion; there are as many chunks
// as ring entries, so a free chunk always has an entry to go on.
const (
	xskRingSize = 2048
	xskChunk    = 4096
)

// newXSKTx opens the AF_XDP socket of interface index ifindex, for frames
// of up to maxLen bytes.
func newXSKTx(ifindex, maxLen int) (x *xskTx, err error) {
	if maxLen > xskChunk {
		return nil, fmt.Errorf("frames of %d bytes do not fit a %d-byte UMEM chunk: %w", maxLen, xskChunk, ErrTooLong)
	}
	fd, err := unix.Socket(unix.AF_XDP, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("socket(AF_XDP): %w", err)
	}
	x = &xskTx{}
	defer func() {
		if err != nil {
			x.unmap()
			unix.Close(fd)
		}
	}()
	if x.umem, err = unix.Mmap(-1, 0, xskRingSize*xskChunk, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE); err != nil {
		return nil, fmt.Errorf("mmap UMEM: %w", err)
	}
	reg := unix.XDPUmemReg{Addr: uint64(uintptr(unsafe.Pointer(&x.umem[0]))), Len: uint64(len(x.umem)), Size: xskChunk}
	if err := setsockopt(fd, unix.XDP_UMEM_REG, unsafe.Pointer(&reg), unsafe.Sizeof(reg)); err != nil {
		return nil, fmt.Errorf("XDP_UMEM_REG: %w", err)
	}
	for _, o := range []struct {
		opt, n int
		name   string
	}{{unix.XDP_UMEM_FILL_RING, 1, "XDP_UMEM_FILL_RING"}, {unix.XDP_UMEM_COMPLETION_RING, xskRingSize, "XDP_UMEM_COMPLETION_RING"}, {unix.XDP_TX_RING, xskRingSize, "XDP_TX_RING"}} {
		if err := unix.SetsockoptInt(fd, unix.SOL_XDP, o.opt, o.n); err != nil {
			return nil, fmt.Errorf("%s: %w", o.name, err)
		}
	}
	var off unix.XDPMmapOffsets
	olen := uint32(unsafe.Sizeof(off))
	if _, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_XDP, unix.XDP_MMAP_OFFSETS, uintptr(unsafe.Pointer(&off)), uintptr(unsafe.Pointer(&olen)), 0); e != 0 {
		return nil, fmt.Errorf("XDP_MMAP_OFFSETS: %w", e)
	}
	mapRing := func(o unix.XDPRingOffset, pgoff int64, n int, entry uintptr) ([]byte, unsafe.Pointer, error) {
		m, err := unix.Mmap(fd, pgoff, int(o.Desc)+n*int(entry), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
		if err != nil {
			return nil, nil, err
		}
		return m, unsafe.Pointer(&m[0]), nil
	}
	var base unsafe.Pointer
	if x.ring, base, err = mapRing(off.Tx, unix.XDP_PGOFF_TX_RING, xskRingSize, unsafe.Sizeof(unix.XDPDesc{})); err != nil {
		return nil, fmt.Errorf("mmap TX ring: %w", err)
	}
	x.txProd, x.txCons = (*uint32)(unsafe.Add(base, off.Tx.Producer)), (*uint32)(unsafe.Add(base, off.Tx.Consumer))
	x.txDesc = unsafe.Slice((*unix.XDPDesc)(unsafe.Add(base, off.Tx.Desc)), xskRingSize)
	if x.comp, base, err = mapRing(off.Cr, unix.XDP_UMEM_PGOFF_COMPLETION_RING, xskRingSize, 8); err != nil {
		return nil, fmt.Errorf("mmap completion ring: %w", err)
	}
	x.cqProd, x.cqCons = (*uint32)(unsafe.Add(base, off.Cr.Producer)), (*uint32)(unsafe.Add(base, off.Cr.Consumer))
	x.cqAddr = unsafe.Slice((*uint64)(unsafe.Add(base, off.Cr.Desc)), xskRingSize)
	if x.fill, _, err = mapRing(off.Fr, unix.XDP_UMEM_PGOFF_FILL_RING, 1, 8); err != nil {
		return nil, fmt.Errorf("mmap fill ring: %w", err)
	}
	x.free = make([]uint64, 0, xskRingSize)
	for i := xskRingSize - 1; i >= 0; i-- {
		x.free = append(x.free, uint64(i*xskChunk))
	}
	if err := unix.Bind(fd, &unix.SockaddrXDP{Flags: unix.XDP_COPY, Ifindex: uint32(ifindex)}); err != nil {
		return nil, fmt.Errorf("bind AF_XDP to queue 0: %w", err)
	}
	x.file = os.NewFile(uintptr(fd), "xdp")
	if x.rc, err = x.file.SyscallConn(); err != nil {
		x.file.Close()
		x.file = nil
		fd = -1
		return nil, err
	}
	return x, nil
}

func setsockopt(fd, opt int, v unsafe.Pointer, n uintptr) error {
	if _, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), unix.SOL_XDP, uintptr(opt), uintptr(v), n, 0); e != 0 {
		return e
	}
	return nil
}

// reclaim takes the chunks of frames that have left off the completion
// ring.
func (x *xskTx) reclaim() {
	prod, cons := atomic.LoadUint32(x.cqProd), *x.cqCons
	for ; cons != prod; cons++ {
		x.free = append(x.free, x.cqAddr[cons&(xskRingSize-1)])
	}
	atomic.StoreUint32(x.cqCons, cons)
}

// writeXSK is writeReady for a port that writes through AF_XDP: the
// frames from p.wn on, each copied into a free chunk and put on the TX
// ring, which sendto(2) has the kernel send (in copy mode a call may
// stop after a budget of frames, so it is called until the ring is
// empty). It returns true
// once every frame has left the ring (or a frame was refused, p.werr
// set), false to wait until the socket is writable: when the kernel took
// nothing while frames are in flight, whose completion wakes the wait.
func (p *fdPort) writeXSK(fd int) bool {
	x := p.xsk
	for {
		x.reclaim()
		prod := *x.txProd
		// A free chunk means a free ring entry: there are as many chunks
		// as entries, and a chunk on the ring is not free.
		for p.werr == nil && p.wn < len(p.wframes) && len(x.free) > 0 {
			b := p.wframes[p.wn].Bytes()
			if len(b) > xskChunk || p.mtu > 0 && len(b) > p.mtu+14+4 {
				// Longer than the interface takes (the veth's rule: the
				// MTU, the header and a VLAN tag's room).
				p.stats.txDropped.Add(1)
				p.werr = ErrTooLong
				break
			}
			a := x.free[len(x.free)-1]
			x.free = x.free[:len(x.free)-1]
			copy(x.umem[a:a+uint64(len(b))], b)
			x.txDesc[prod&(xskRingSize-1)] = unix.XDPDesc{Addr: a, Len: uint32(len(b))}
			prod++
			p.stats.tx(len(b))
			p.wn++
		}
		atomic.StoreUint32(x.txProd, prod)
		cons := atomic.LoadUint32(x.txCons)
		if cons == prod && (p.wn == len(p.wframes) || p.werr != nil) {
			return true
		}
		if cons != prod && !p.kick(fd) {
			return true
		}
		if atomic.LoadUint32(x.txCons) == cons {
			// No progress: no chunk free and none on the ring, or the
			// kernel took nothing.
			x.reclaim()
			if xskRingSize-len(x.free)-int(prod-cons) > 0 {
				return false // frames in flight: their completion wakes us
			}
			if p.closed.Load() {
				p.werr = ErrClosed
				return true
			}
			// The device's queue is stopped (the kernel said busy) and
			// no frame of ours is in flight to wake a wait: look again
			// shortly.
			time.Sleep(20 * time.Microsecond)
		}
	}
}

// invalid returns the descriptors the kernel refused since the socket
// opened (XDP_STATISTICS).
func (x *xskTx) invalid() uint64 {
	var st unix.XDPStatistics
	n := uint32(unsafe.Sizeof(st))
	err := x.rc.Control(func(fd uintptr) {
		unix.Syscall6(unix.SYS_GETSOCKOPT, fd, unix.SOL_XDP, unix.XDP_STATISTICS, uintptr(unsafe.Pointer(&st)), uintptr(unsafe.Pointer(&n)), 0)
	})
	if err != nil {
		return 0
	}
	return st.Tx_invalid_descs
}

// unmap releases the socket's memory; nothing may use it after.
func (x *xskTx) unmap() {
	for _, m := range []*[]byte{&x.ring, &x.comp, &x.fill, &x.umem} {
		if *m != nil {
			unix.Munmap(*m)
			*m = nil
		}
	}
}
