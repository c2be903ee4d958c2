//go:build linux

package port

import (
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rxRing is an AF_PACKET receive ring (PACKET_RX_RING, TPACKET_V2): the
// kernel writes each frame it delivers into the next slot of a ring mapped
// into our memory and flips the slot's status to TP_STATUS_USER; we hand
// the frame to the core where it lies and give the slot back
// (TP_STATUS_KERNEL) once the core and its Tx are done with it, which is
// when the next Read starts. Version 2 rather than 3: a V3 block reaches
// the reader only when it is full or its retire timer (at least 1 ms)
// fires, which holds back sparse traffic such as TCP's ACKs; V2 wakes the
// reader per frame. V2's slots have a fixed size, so a ring for
// super-frames (PACKET_VNET_HDR) has 64 KB slots.
//
// A slot is laid out as the kernel fills it (net/packet/af_packet.c,
// tpacket_rcv): the tpacket2_hdr, a sockaddr_ll, the reserve we ask for
// (PACKET_RESERVE), the virtio_net_hdr when offloads are on, then the
// frame at tp_mac. The reserve makes the Frame's headroom: the Frame's
// buffer starts Headroom bytes in front of the frame (its first bytes hold
// the Offload, copied there from the kernel's header) and ends with the
// slot.
type rxRing struct {
	mem       []byte
	frameSize int // bytes per slot
	frameNr   int // slots
	perBlock  int // slots per block
	blockSize int
	head      int // the oldest slot we hold, or the next to read
	held      int // slots from head on that the last Read handed out
	vnet      bool
	segMTU    int
	stats     *stats

	mu      sync.Mutex // guards reading, closed and unmapping mem
	reading bool
	closed  bool
}

// ringReserve is what we ask the kernel to keep free in front of each
// frame (PACKET_RESERVE): with the tpacket2_hdr and sockaddr_ll before it,
// enough for Headroom bytes and a VLAN tag put back, without touching the
// slot's header.
const ringReserve = 48

// Ring sizes unless PacketConfig says otherwise.
const (
	// DefaultRxRingBytes is the memory of an AF_PACKET port's receive ring.
	DefaultRxRingBytes = 32 << 20
	// maxRingFrames bounds the slots of a ring of small frames.
	maxRingFrames = 8192
)

// newRxRing sets up a PACKET_RX_RING on fd (before bind) and maps it.
// maxLen is the largest frame it must hold, frames the slots wanted (0:
// as many as DefaultRxRingBytes holds).
func newRxRing(fd int, maxLen, frames int, vnet bool) (*rxRing, error) {
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V2); err != nil {
		return nil, fmt.Errorf("PACKET_VERSION: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_RESERVE, ringReserve); err != nil {
		return nil, fmt.Errorf("PACKET_RESERVE: %w", err)
	}
	macOff := ringMacOff(vnet)
	frameSize := (macOff + maxLen + Tailroom + unix.TPACKET_ALIGNMENT - 1) &^ (unix.TPACKET_ALIGNMENT - 1)
	page := os.Getpagesize()
	// Blocks of a power of two pages (the kernel allocates them so), at
	// least 128 KiB, holding whole slots.
	blockSize := 128 << 10
	for blockSize < frameSize {
		blockSize *= 2
	}
	if blockSize%page != 0 {
		blockSize = (blockSize + page - 1) &^ (page - 1)
	}
	perBlock := blockSize / frameSize
	if frames <= 0 {
		frames = min(DefaultRxRingBytes/frameSize, maxRingFrames)
	}
	blocks := max((frames+perBlock-1)/perBlock, 1)
	req := unix.TpacketReq{Block_size: uint32(blockSize), Block_nr: uint32(blocks), Frame_size: uint32(frameSize), Frame_nr: uint32(blocks * perBlock)}
	if err := unix.SetsockoptTpacketReq(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return nil, fmt.Errorf("PACKET_RX_RING %d×%d: %w", blocks*perBlock, frameSize, err)
	}
	mem, err := unix.Mmap(fd, 0, blocks*blockSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("mmap rx ring: %w", err)
	}
	return &rxRing{mem: mem, frameSize: frameSize, frameNr: blocks * perBlock, perBlock: perBlock, blockSize: blockSize, vnet: vnet}, nil
}

// ringMacOff is where the kernel puts an Ethernet frame in a slot:
// TPACKET_ALIGN(TPACKET2_HDRLEN + 16) + reserve (+ the virtio_net_hdr),
// less the 14-byte MAC header.
func ringMacOff(vnet bool) int {
	const hdrLen = unix.SizeofTpacket2Hdr + unix.SizeofSockaddrLinklayer // TPACKET2_HDRLEN
	net := (hdrLen+16+unix.TPACKET_ALIGNMENT-1)&^(unix.TPACKET_ALIGNMENT-1) + ringReserve
	if vnet {
		net += VNetHdrLen
	}
	return net - 14
}

// slot returns slot i of the ring.
func (r *rxRing) slot(i int) []byte {
	off := i/r.perBlock*r.blockSize + i%r.perBlock*r.frameSize
	return r.mem[off : off+r.frameSize : off+r.frameSize]
}

func ringStatus(s []byte) *uint32 { return (*uint32)(unsafe.Pointer(&s[0])) }

// release gives the slots the last Read handed out back to the kernel.
func (r *rxRing) release() {
	for ; r.held > 0; r.held-- {
		atomic.StoreUint32(ringStatus(r.slot(r.head)), unix.TP_STATUS_KERNEL)
		if r.head++; r.head == r.frameNr {
			r.head = 0
		}
	}
}

// fill hands out every frame the kernel has put in the ring, up to the
// batch's capacity, as frames of b. It reports whether it found any.
func (r *rxRing) fill(b *Batch) bool {
	found := false
	for b.N < len(b.Frames) && r.held < r.frameNr {
		i := r.head + r.held
		if i >= r.frameNr {
			i -= r.frameNr
		}
		s := r.slot(i)
		if atomic.LoadUint32(ringStatus(s))&unix.TP_STATUS_USER == 0 {
			break
		}
		found = true
		h := (*unix.Tpacket2Hdr)(unsafe.Pointer(&s[0]))
		mac, n := int(h.Mac), int(h.Snaplen)
		if n < int(h.Len) || n < 14 || n > b.maxLen || mac < Headroom+unix.SizeofTpacket2Hdr+4 || mac+n > len(s) {
			// Cut short (longer than a slot, or than the batch takes),
			// or a runt: dropped, and the slot goes straight back if
			// no frame before it is still out.
			r.stats.rxDropped.Add(1)
			if r.held == 0 {
				atomic.StoreUint32(ringStatus(s), unix.TP_STATUS_KERNEL)
				if r.head++; r.head == r.frameNr {
					r.head = 0
				}
			} else {
				r.held++
			}
			continue
		}
		r.held++
		start := mac
		if h.Status&unix.TP_STATUS_VLAN_VALID != 0 {
			start -= 4
		}
		f := Frame{Buf: s[start-Headroom : mac+n], Off: Headroom}
		if r.vnet {
			copy(f.Buf[:VNetHdrLen], s[mac-VNetHdrLen:mac])
			rebaseVNetHdr(f.Buf, Headroom)
		} else {
			clearOffload(f.Buf)
		}
		if start != mac {
			// The kernel took the outer VLAN tag out (receive VLAN
			// offload): it goes back behind the addresses, as it was
			// on the wire (see Packet).
			tpid := uint16(0x8100)
			if h.Status&unix.TP_STATUS_VLAN_TPID_VALID != 0 && h.Vlan_tpid != 0 {
				tpid = h.Vlan_tpid
			}
			copy(s[start:start+12], s[mac:mac+12])
			binary.BigEndian.PutUint16(s[start+12:], tpid)
			binary.BigEndian.PutUint16(s[start+14:], h.Vlan_tci)
			n += 4
		}
		b.Frames[b.N] = f
		if r.vnet && n > r.segMTU+14 {
			markSuper(f, r.segMTU)
		}
		b.N++
		r.stats.rx(n)
	}
	return found
}

// unmap releases the ring's memory; the caller holds mu, and no frame of
// it is out.
func (r *rxRing) unmap() {
	if r.mem != nil {
		unix.Munmap(r.mem)
		r.mem = nil
	}
}

// readRing is Packet.Read with a receive ring: the slots of the previous
// Read go back to the kernel, then the frames in the ring, waiting in the
// poller while there are none.
func (p *Packet) readRing(b *Batch) error {
	p.rmu <- struct{}{}
	defer func() { <-p.rmu }()
	r := p.rx
	b.N = 0
	r.mu.Lock()
	if r.mem != nil {
		r.release()
	}
	if r.closed {
		r.unmap()
		r.mu.Unlock()
		return p.wrap("read", ErrClosed)
	}
	r.reading = true
	r.mu.Unlock()
	p.rb = b
	err := p.rc.Read(p.ringFn)
	p.rb = nil
	r.mu.Lock()
	r.reading = false
	if r.closed && b.N == 0 {
		r.release()
		r.unmap()
	}
	r.mu.Unlock()
	if err != nil && b.N == 0 {
		return p.wrap("read", err)
	}
	return nil
}

// ringReady is called by the poller when the socket may be readable; it
// returns false (wait again) while the ring is empty.
func (p *Packet) ringReady(uintptr) bool {
	// A frame found but dropped still ends the wait only if it was not
	// the only one: otherwise the batch would come back empty.
	p.rx.fill(p.rb)
	return p.rb.N > 0
}

// closeRing marks the ring closed and unmaps it unless a Read is running
// or the frames of the last one are still out; that Read, or the next,
// unmaps it then.
func (p *Packet) closeRing() {
	r := p.rx
	r.mu.Lock()
	r.closed = true
	if !r.reading && r.held == 0 {
		r.unmap()
	}
	r.mu.Unlock()
}
