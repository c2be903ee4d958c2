//go:build linux

package port

import (
	"fmt"
	"net"
	"sync"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Packet is an AF_PACKET (SOCK_RAW) socket bound to one network interface,
// such as one end of a veth pair: it reads every frame the interface
// receives that its BPF filter accepts, and writes whole frames out of it.
// Frames the socket itself sends are not read back (PACKET_IGNORE_OUTGOING).
//
// Frames are read as they were on the wire: on receive, Linux moves an
// outer 802.1Q or 802.1ad tag out of the frame into its metadata (VLAN
// offload) before packet sockets see it, so the socket asks for
// PACKET_AUXDATA and puts the tag back in front of the frame's type field,
// as libpcap does. A VIS uplink on a VLAN trunk therefore sees its frames'
// VLANs.
//
// The interface's MTU must leave room for the tags the link carries: a VNTag
// link between VMs of MTU 1500 needs 1506, an E-Tag link 1508, or the kernel
// refuses the largest frames (EMSGSIZE).
//
// A Read takes every frame ready, up to the batch's capacity, from the
// socket's receive ring (PACKET_RX_RING, TPACKET_V2; PacketConfig.RxRing):
// the frames stay where the kernel put them, each with Headroom bytes in
// front of it in its slot for the cores' tags, and the slots go back to the
// kernel when the next Read starts. Without the ring, one recvmmsg(2)
// copies them into the batch. A Write hands its frames to the socket with
// sendmmsg(2), as many per call as the socket's queue takes, or copies them
// into a transmit ring (PacketConfig.TxRing) and sends them with one
// send(2), or writes them through an AF_XDP socket (PacketConfig.XDPTx).
// A blocked Read or Write waits in Go's network poller, not on a thread of
// its own.
type Packet struct {
	*fdPort
	kmu sync.Mutex // one PACKET_STATISTICS read at a time
	// xskInvalid is the AF_XDP socket's refused descriptors counted so
	// far (XDP_STATISTICS counts from the socket's start); under kmu.
	xskInvalid uint64

	// rings are the receive and transmit rings, if the port has either;
	// ringFn is the receive ring's poller callback, made once.
	rings  *rings
	ringFn func(uintptr) bool
}

// PacketConfig tunes OpenPacketWith.
type PacketConfig struct {
	// Filter, if not nil, is attached (SO_ATTACH_FILTER) before the socket
	// is bound, so no frame it rejects is ever queued; NIVFilter accepts
	// VNTag and E-Tag frames only.
	Filter []bpf.Instruction
	// Offload turns on PACKET_VNET_HDR: each frame is read and written
	// with its virtio_net_hdr, so super-frames and frames with partial
	// checksums cross the interface as one frame (a veth pair carries
	// them between namespaces as they are). Both ends of a link must
	// agree; without it, a frame with an Offload is segmented to the
	// interface's MTU and checksummed in software before it is written.
	Offload bool
	// RcvBuf and SndBuf size the socket's queues in bytes (SO_RCVBUFFORCE,
	// SO_SNDBUFFORCE); 0 means DefaultSocketBuf. The kernel's default,
	// 212,992 bytes, holds a few hundred small frames, or three
	// super-frames.
	RcvBuf, SndBuf int
	// SegmentMTU is, with Offload, the IP MTU of the VMs whose frames
	// the link carries (default 1500). Over a veth whose MTU is larger,
	// TCP super-frames cross as one jumbo frame each, and a frame read
	// that is longer than this becomes a super-frame of segments this
	// size again; a link of this MTU gets segments.
	SegmentMTU int
	// RxRing chooses how frames are read. 0 (the default) or a positive
	// number: through a PACKET_RX_RING of that many slots (0: as many as
	// DefaultRxRingBytes holds; rounded up to whole blocks of at least
	// 128 KiB), each frame handed to the core where the kernel put it,
	// without a copy. A slot is as large as the interface's largest frame
	// when the port opens (a longer frame is dropped and counted), or with
	// Offload as a frame of SegmentMTU with a NIV tag and an 802.1Q tag (a
	// longer one is read from the socket's queue into the batch), and goes
	// back to the kernel when the next Read starts.
	// A negative number: with recvmmsg(2), a copy into the batch's
	// buffers.
	RxRing int
	// TxRing, if above 0, is the number of slots of a PACKET_TX_RING
	// (with PACKET_QDISC_BYPASS) that frames are written through: copied
	// into the ring, then sent with one send(2) per batch. 0 (the
	// default): sendmmsg(2).
	TxRing int
	// XDPTx writes the frames through an AF_XDP socket bound to the
	// interface's queue 0 in copy mode, instead of the AF_PACKET socket:
	// each frame is copied into the socket's memory and a batch is sent
	// with one sendto(2), without sendmmsg's per-message work or the
	// queueing discipline. As with PACKET_QDISC_BYPASS, packet captures on
	// this host's end of the interface do not see the frames leave (the
	// far end's do). AF_XDP carries no virtio_net_hdr, so every frame with
	// an Offload is finished in software first (segmented to the MTU,
	// checksummed): for links of a real MTU, not for super-frames. The
	// interface's frames must fit a 4 KiB chunk. It takes precedence over
	// TxRing.
	XDPTx bool
}

// DefaultSocketBuf is the size of an AF_PACKET port's receive and send
// queues unless PacketConfig says otherwise.
const DefaultSocketBuf = 8 << 20

// OpenPacket opens an AF_PACKET socket on interface ifname. If filter is
// not nil it is attached (SO_ATTACH_FILTER) before the socket is bound, so
// no frame the filter rejects is ever queued; NIVFilter accepts VNTag and
// E-Tag frames only.
func OpenPacket(ifname string, filter []bpf.Instruction) (*Packet, error) {
	return OpenPacketWith(ifname, PacketConfig{Filter: filter})
}

// OpenPacketWith is OpenPacket with options.
func OpenPacketWith(ifname string, cfg PacketConfig) (*Packet, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("port: packet %q: %w", ifname, err)
	}
	if cfg.XDPTx {
		cfg.TxRing = 0
	}
	var prog []unix.SockFilter
	if cfg.Filter != nil {
		raw, err := bpf.Assemble(cfg.Filter)
		if err != nil {
			return nil, fmt.Errorf("port: packet %q: filter: %w", ifname, err)
		}
		for _, r := range raw {
			prog = append(prog, unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K})
		}
	}
	// Protocol 0: nothing is queued until bind, so frames of other
	// interfaces, or frames the filter would reject, never get in.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("port: packet %q: socket: %w", ifname, err)
	}
	fail := func(what string, err error) (*Packet, error) {
		unix.Close(fd)
		return nil, fmt.Errorf("port: packet %q: %s: %w", ifname, what, err)
	}
	if prog != nil {
		fp := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
		if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fp); err != nil {
			return fail("SO_ATTACH_FILTER", err)
		}
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil {
		return fail("PACKET_IGNORE_OUTGOING", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_AUXDATA, 1); err != nil {
		return fail("PACKET_AUXDATA", err)
	}
	if cfg.Offload {
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VNET_HDR, 1); err != nil {
			return fail("PACKET_VNET_HDR", err)
		}
	}
	for _, b := range []struct {
		force, plain, size int
		name               string
	}{{unix.SO_RCVBUFFORCE, unix.SO_RCVBUF, cfg.RcvBuf, "SO_RCVBUF"}, {unix.SO_SNDBUFFORCE, unix.SO_SNDBUF, cfg.SndBuf, "SO_SNDBUF"}} {
		if b.size <= 0 {
			b.size = DefaultSocketBuf
		}
		// The FORCE options pass the system's limit, for root only.
		if unix.SetsockoptInt(fd, unix.SOL_SOCKET, b.force, b.size) != nil {
			if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, b.plain, b.size); err != nil {
				return fail(b.name, err)
			}
		}
	}
	segMTU := cfg.SegmentMTU
	if segMTU <= 0 {
		segMTU = 1500
	}
	var rg *rings
	if cfg.RxRing >= 0 || cfg.TxRing > 0 {
		maxLen := max(ifi.MTU+14+8, 1514)
		rxLen := maxLen
		if cfg.Offload {
			maxLen = MaxSuperFrameLen
			// Receive slots for the VMs' frames with the tags a link
			// adds (an E-Tag, 8 bytes, and an 802.1Q tag); a longer frame is
			// queued on the socket whole (PACKET_COPY_THRESH) and read
			// from there.
			rxLen = min(rxLen, segMTU+14+8+4)
			if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_COPY_THRESH, 1); err != nil {
				return fail("PACKET_COPY_THRESH", err)
			}
		}
		if rg, err = newRings(fd, rxLen, maxLen, cfg.RxRing, cfg.TxRing, cfg.Offload); err != nil {
			return fail("rings", err)
		}
	}
	// Start counting kernel drops from here (reading the statistics
	// resets them).
	_, _ = unix.GetsockoptTpacketStats(fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}
	if err := unix.Bind(fd, sa); err != nil {
		if rg != nil {
			unix.Munmap(rg.mem)
		}
		return fail("bind", err)
	}
	p, err := newFDPort(ifname, fd, "packet")
	if err != nil {
		if rg != nil {
			unix.Munmap(rg.mem)
		}
		return nil, err
	}
	p.mmsg = true
	p.vnet = cfg.Offload
	p.mtu = ifi.MTU
	p.segMTU = segMTU
	pk := &Packet{fdPort: p, rings: rg}
	if rg != nil && rg.rx != nil {
		rg.rx.segMTU, rg.rx.stats = p.segMTU, &p.stats
		pk.ringFn = pk.ringReady
	}
	if rg != nil && rg.tx != nil {
		p.txr = rg.tx
	}
	if cfg.XDPTx {
		if p.xsk, err = newXSKTx(ifi.Index, ifi.MTU+14+4); err != nil {
			pk.Close()
			return nil, fmt.Errorf("port: packet %q: XDPTx: %w", ifname, err)
		}
	}
	return pk, nil
}

// Read waits for frames and returns those ready, up to the batch's
// capacity. With a receive ring, the frames are where the kernel put them,
// valid until the next Read on the port, which gives their slots back to
// the kernel.
func (p *Packet) Read(b *Batch) error {
	if p.rings == nil || p.rings.rx == nil {
		return p.fdPort.Read(b)
	}
	return p.readRing(b)
}

// Write writes the frames in order (see Port), through the transmit ring
// if the port has one.
func (p *Packet) Write(frames []Frame) (int, error) {
	if p.rings == nil || p.rings.tx == nil {
		return p.fdPort.Write(frames)
	}
	return p.writeRing(frames)
}

// Close closes the socket; blocked reads and writes return ErrClosed.
// Stats keeps counting the drops the kernel reported until then. A
// receive ring stays mapped while frames of the last Read are out, until
// the next Read.
func (p *Packet) Close() error {
	p.Stats() // the kernel's drops so far, while the socket is open
	if p.rings != nil {
		p.closeRings()
	}
	err := p.fdPort.Close()
	if x := p.xsk; x != nil {
		// Closing the socket wakes a Write waiting for it; once the
		// Write in progress, if any, is over, the memory goes.
		x.file.Close()
		p.wmu <- struct{}{}
		x.unmap()
		<-p.wmu
	}
	return err
}

// Stats returns the port's counters, with the frames the kernel dropped
// since the last call (its queue was full) added to RxDropped and
// KernelDropped.
func (p *Packet) Stats() Stats {
	p.kmu.Lock()
	var st *unix.TpacketStats
	err := p.rc.Control(func(fd uintptr) {
		st, _ = unix.GetsockoptTpacketStats(int(fd), unix.SOL_PACKET, unix.PACKET_STATISTICS)
	})
	if err == nil && st != nil && st.Drops > 0 {
		p.stats.rxDropped.Add(uint64(st.Drops))
		p.stats.kernelDropped.Add(uint64(st.Drops))
	}
	if p.xsk != nil {
		// Descriptors the kernel refused: counted once each.
		if n := p.xsk.invalid(); n > p.xskInvalid {
			p.stats.txDropped.Add(n - p.xskInvalid)
			p.xskInvalid = n
		}
	}
	p.kmu.Unlock()
	return p.fdPort.Stats()
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
