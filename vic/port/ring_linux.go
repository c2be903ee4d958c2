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

// rings are an AF_PACKET port's PACKET_RX_RING and PACKET_TX_RING
// (TPACKET_V2), mapped into our memory in one mapping, receive ring first.
// The mapping goes away only when the port is closed and neither a Read
// (or the frames it handed out) nor a Write uses it.
type rings struct {
	mem []byte
	rx  *rxRing
	tx  *txRing

	mu      sync.Mutex // guards what follows and unmapping mem
	reading bool
	writing bool
	closed  bool
}

// ringLayout is the geometry of one ring: frameNr slots of frameSize bytes,
// perBlock of them in each block of blockSize bytes (a slot never spans
// blocks).
type ringLayout struct {
	frameSize, frameNr, perBlock, blockSize int
}

// newRingLayout lays out a ring for frames of up to maxLen bytes that start
// dataOff bytes into their slot: frames slots, or as many as fit in
// defBytes if frames is 0, rounded up to whole blocks.
func newRingLayout(dataOff, maxLen, frames, defBytes int) ringLayout {
	frameSize := (dataOff + maxLen + Tailroom + unix.TPACKET_ALIGNMENT - 1) &^ (unix.TPACKET_ALIGNMENT - 1)
	page := os.Getpagesize()
	// Blocks of a power of two pages (the kernel allocates them so), at
	// least 128 KiB, holding whole slots.
	blockSize := 128 << 10
	for blockSize < frameSize {
		blockSize *= 2
	}
	blockSize = (blockSize + page - 1) &^ (page - 1)
	perBlock := blockSize / frameSize
	if frames <= 0 {
		frames = min(defBytes/frameSize, maxRingFrames)
	}
	blocks := max((frames+perBlock-1)/perBlock, 1)
	return ringLayout{frameSize: frameSize, frameNr: blocks * perBlock, perBlock: perBlock, blockSize: blockSize}
}

func (l ringLayout) size() int { return l.frameNr / l.perBlock * l.blockSize }

func (l ringLayout) req() unix.TpacketReq {
	return unix.TpacketReq{Block_size: uint32(l.blockSize), Block_nr: uint32(l.frameNr / l.perBlock), Frame_size: uint32(l.frameSize), Frame_nr: uint32(l.frameNr)}
}

// slot returns slot i of the ring in mem.
func (l ringLayout) slot(mem []byte, i int) []byte {
	off := i/l.perBlock*l.blockSize + i%l.perBlock*l.frameSize
	return mem[off : off+l.frameSize : off+l.frameSize]
}

// rxRing is an AF_PACKET receive ring (PACKET_RX_RING, TPACKET_V2): the
// kernel writes each frame it delivers into the next slot of a ring mapped
// into our memory and flips the slot's status to TP_STATUS_USER; we hand
// the frame to the core where it lies and give the slot back
// (TP_STATUS_KERNEL) once the core and its Tx are done with it, which is
// when the next Read starts. Version 2 rather than 3: a V3 block reaches
// the reader only when it is full or its retire timer (at least 1 ms)
// fires, which holds back sparse traffic such as TCP's ACKs; V2 wakes the
// reader per frame. V2's slots have a fixed size: with PACKET_VNET_HDR
// they are sized for the VMs' frames, and a longer frame (a super-frame)
// is queued on the socket whole (PACKET_COPY_THRESH), its slot marked
// TP_STATUS_COPY, and read from there with recvmmsg(2) in its turn.
//
// A slot is laid out as the kernel fills it (net/packet/af_packet.c,
// tpacket_rcv): the tpacket2_hdr, a sockaddr_ll, the reserve we ask for
// (PACKET_RESERVE), the virtio_net_hdr when offloads are on, then the
// frame at tp_mac. The reserve makes the Frame's headroom: the Frame's
// buffer starts Headroom bytes in front of the frame (its first bytes hold
// the Offload, copied there from the kernel's header) and ends with the
// slot.
type rxRing struct {
	ringLayout
	mem    []byte
	head   int // the oldest slot we hold, or the next to read
	held   int // slots from head on that the last Read handed out
	vnet   bool
	segMTU int
	stats  *stats
}

// txRing is an AF_PACKET transmit ring (PACKET_TX_RING, TPACKET_V2): a
// Write copies each frame (behind its virtio_net_hdr with offloads) into
// the next free slot (TP_STATUS_AVAILABLE), marks it TP_STATUS_SEND_REQUEST
// and, after the batch, has the kernel send every marked slot with one
// send(2); the kernel marks a slot free again once the frame has left
// (its skb is freed). PACKET_QDISC_BYPASS skips the queueing discipline
// and PACKET_LOSS makes the kernel skip a malformed frame instead of
// stopping at it.
type txRing struct {
	ringLayout
	mem  []byte
	head int // the next slot to fill
	vnet bool
}

// txDataOff is where a frame goes in a transmit slot (TPACKET2_HDRLEN less
// the sockaddr_ll, without PACKET_TX_HAS_OFF).
const txDataOff = unix.SizeofTpacket2Hdr

// ringReserve is what we ask the kernel to keep free in front of each
// received frame (PACKET_RESERVE): with the tpacket2_hdr and sockaddr_ll
// before it, enough for Headroom bytes and a VLAN tag put back, without
// touching the slot's header.
const ringReserve = 48

// Ring sizes unless PacketConfig says otherwise.
const (
	// DefaultRxRingBytes is the memory of an AF_PACKET port's receive ring.
	DefaultRxRingBytes = 32 << 20
	// DefaultTxRingBytes is the memory of an AF_PACKET port's transmit
	// ring, when it has one.
	DefaultTxRingBytes = 16 << 20
	// maxRingFrames bounds the slots of a ring of small frames.
	maxRingFrames = 8192
)

// newRings sets up the rings asked for on fd (before bind) and maps them:
// a receive ring of rxFrames slots for frames of up to rxLen bytes if
// rxFrames >= 0 (0: as many as DefaultRxRingBytes holds), a transmit ring
// of txFrames slots for frames of up to txLen bytes if txFrames > 0.
func newRings(fd int, rxLen, txLen, rxFrames, txFrames int, vnet bool) (*rings, error) {
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V2); err != nil {
		return nil, fmt.Errorf("PACKET_VERSION: %w", err)
	}
	var rxl, txl ringLayout
	if txFrames > 0 {
		// Before any ring is set up (the kernel refuses PACKET_LOSS after).
		for _, o := range []int{unix.PACKET_QDISC_BYPASS, unix.PACKET_LOSS} {
			if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, o, 1); err != nil {
				return nil, fmt.Errorf("PACKET_QDISC_BYPASS/PACKET_LOSS: %w", err)
			}
		}
	}
	if rxFrames >= 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_RESERVE, ringReserve); err != nil {
			return nil, fmt.Errorf("PACKET_RESERVE: %w", err)
		}
		rxl = newRingLayout(ringMacOff(vnet), rxLen, rxFrames, DefaultRxRingBytes)
		req := rxl.req()
		if err := unix.SetsockoptTpacketReq(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
			return nil, fmt.Errorf("PACKET_RX_RING %d×%d: %w", rxl.frameNr, rxl.frameSize, err)
		}
	}
	if txFrames > 0 {
		hl := 0
		if vnet {
			hl = VNetHdrLen
		}
		txl = newRingLayout(txDataOff+hl, txLen, txFrames, DefaultTxRingBytes)
		req := txl.req()
		if err := unix.SetsockoptTpacketReq(fd, unix.SOL_PACKET, unix.PACKET_TX_RING, &req); err != nil {
			return nil, fmt.Errorf("PACKET_TX_RING %d×%d: %w", txl.frameNr, txl.frameSize, err)
		}
	}
	total := 0
	if rxFrames >= 0 {
		total += rxl.size()
	}
	if txFrames > 0 {
		total += txl.size()
	}
	mem, err := unix.Mmap(fd, 0, total, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("mmap rings: %w", err)
	}
	r := &rings{mem: mem}
	off := 0
	if rxFrames >= 0 {
		r.rx = &rxRing{ringLayout: rxl, mem: mem[:rxl.size()], vnet: vnet}
		off = rxl.size()
	}
	if txFrames > 0 {
		r.tx = &txRing{ringLayout: txl, mem: mem[off : off+txl.size()], vnet: vnet}
	}
	return r, nil
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
func (r *rxRing) slot(i int) []byte { return r.ringLayout.slot(r.mem, i) }

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
// batch's capacity, as frames of b. It stops early, reporting true, at a
// slot marked TP_STATUS_COPY: the frame was longer than a slot, and the
// kernel queued it whole on the socket, where the caller reads it into
// frame b.N (readQueued) before it calls fill again. The slot, which holds
// the frame cut short, is held like the others.
func (r *rxRing) fill(b *Batch) (copied bool) {
	for b.N < len(b.Frames) && r.held < r.frameNr {
		i := r.head + r.held
		if i >= r.frameNr {
			i -= r.frameNr
		}
		s := r.slot(i)
		st := atomic.LoadUint32(ringStatus(s))
		if st&unix.TP_STATUS_USER == 0 {
			break
		}
		if st&unix.TP_STATUS_COPY != 0 {
			r.held++
			return true
		}
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
	return false
}

// unmap releases the rings' memory once the port is closed and nothing
// uses it; the caller holds mu.
func (r *rings) unmapIfDone() {
	if r.closed && !r.reading && !r.writing && (r.rx == nil || r.rx.held == 0) && r.mem != nil {
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
	r := p.rings
	b.N = 0
	r.mu.Lock()
	if r.mem != nil {
		r.rx.release()
	}
	if r.closed {
		r.unmapIfDone()
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
	r.unmapIfDone()
	r.mu.Unlock()
	if err != nil && b.N == 0 {
		return p.wrap("read", err)
	}
	return nil
}

// ringReady is called by the poller when the socket may be readable; it
// returns false (wait again) while the ring has no frame for the batch.
func (p *Packet) ringReady(fd uintptr) bool {
	for p.rings.rx.fill(p.rb) {
		if !p.readQueued(int(fd), p.rb) {
			p.stats.rxDropped.Add(1)
		}
	}
	return p.rb.N > 0
}

// closeRings marks the rings closed and unmaps them unless a Read or a
// Write is running or the frames of the last Read are still out; that
// Read or Write, or the next, unmaps them then.
func (p *Packet) closeRings() {
	r := p.rings
	r.mu.Lock()
	r.closed = true
	r.unmapIfDone()
	r.mu.Unlock()
}

// writeRing is Write with a transmit ring.
func (p *Packet) writeRing(frames []Frame) (int, error) {
	r := p.rings
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return 0, p.wrap("write", ErrClosed)
	}
	r.writing = true
	r.mu.Unlock()
	n, err := p.fdPort.Write(frames)
	r.mu.Lock()
	r.writing = false
	r.unmapIfDone()
	r.mu.Unlock()
	return n, err
}

// writeTxRing is writeReady with a transmit ring: the frames from p.wn on
// go into free slots, then one send(2) has the kernel send them. It
// returns false (wait until the socket is writable) when the ring is full.
func (p *fdPort) writeTxRing(fd int) bool {
	t := p.txr
	queued := 0
	for p.wn < len(p.wframes) {
		s := t.slot(t.mem, t.head)
		st := atomic.LoadUint32(ringStatus(s))
		if st&(unix.TP_STATUS_SEND_REQUEST|unix.TP_STATUS_SENDING) != 0 {
			// The ring is full: send what is queued, which may free
			// this slot, else wait until the kernel frees one.
			if !p.kick(fd) {
				return true
			}
			queued = 0
			if st = atomic.LoadUint32(ringStatus(s)); st&(unix.TP_STATUS_SEND_REQUEST|unix.TP_STATUS_SENDING) != 0 {
				return false
			}
		}
		if st&unix.TP_STATUS_WRONG_FORMAT != 0 {
			p.stats.errors.Add(1)
		}
		f := p.wframes[p.wn]
		b := f.Bytes()
		d := s[txDataOff:]
		n := len(b)
		if t.vnet {
			// As writeMmsg: a super-frame crosses as one jumbo frame
			// with its partial checksum.
			o := f.Offload()
			o.GSOType, o.GSOSize, o.HdrLen = GSONone, 0, 0
			putVNetHdr(d[:VNetHdrLen], o)
			d = d[VNetHdrLen:]
			n += VNetHdrLen
		}
		if len(b) > len(d)-Tailroom {
			p.stats.txDropped.Add(1)
			p.werr = ErrTooLong
			if queued > 0 {
				p.kick(fd)
			}
			return true
		}
		copy(d, b)
		h := (*unix.Tpacket2Hdr)(unsafe.Pointer(&s[0]))
		h.Len = uint32(n)
		atomic.StoreUint32(ringStatus(s), unix.TP_STATUS_SEND_REQUEST)
		if t.head++; t.head == t.frameNr {
			t.head = 0
		}
		queued++
		p.stats.tx(len(b))
		p.wn++
	}
	if queued > 0 {
		p.kick(fd)
	}
	return true
}

// kick has the kernel send what is queued on a transmit ring: the slots
// marked TP_STATUS_SEND_REQUEST, or an AF_XDP socket's TX ring. It
// reports false, with p.werr set, when that failed for a reason other
// than a full queue, a busy device or frames left for the next call, such
// as the interface being down (ENETDOWN); the frames stay queued and go
// with a later send.
func (p *fdPort) kick(fd int) bool {
	for {
		_, _, e := unix.Syscall6(unix.SYS_SENDTO, uintptr(fd), 0, 0, unix.MSG_DONTWAIT, 0, 0)
		switch e {
		case 0, unix.EAGAIN, unix.EBUSY, unix.ENOBUFS:
			return true
		case unix.EINTR:
			continue
		}
		p.stats.errors.Add(1)
		p.werr = e
		return false
	}
}
