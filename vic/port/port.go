// Package port moves Ethernet frames in batches between the NIV forwarding
// cores (vic/iv, vic/vis) and the outside: an in-memory pair for tests and
// in-process demos, a Linux TAP device for a VM's vNIC, and an AF_PACKET
// socket bound to an interface (one end of a veth pair, a NIC) for the link
// between an interface virtualizer and its switch.
//
// # Frames and headroom
//
// A Frame is a window into a buffer that keeps free bytes in front of the
// frame (Headroom) and behind it, so that a core can push a VNTag, an E-Tag
// or an 802.1Q tag by moving only the 12 MAC address bytes
// (vntag.Push) and pad a short frame to 60 bytes (vntag.Pad) without
// copying the payload. Ports read into a Batch, whose frames all carry
// Headroom bytes of headroom and room for the largest frame. An AF_PACKET
// port with a receive ring hands out frames in the kernel's ring instead,
// with as much headroom, valid until its next Read.
//
// # Offloads
//
// TAPs opened with TAPConfig.Offload and AF_PACKET ports with
// PacketConfig.Offload read and write each frame with the kernel's
// virtio_net_hdr, kept as the frame's Offload (in the first bytes of its
// buffer, so that the cores' pushes and pops keep it right without knowing
// of it): a VM's 64 KB TCP super-frame with a partial checksum crosses the
// IV, the link and the VIS as one frame, and the policer counts the
// segments it stands for. A port without offloads, or a link whose MTU is
// too small, finishes such a frame in software first (Segmenter): what
// reaches a wire is always MTU-sized with its checksums right.
//
// # Cores and Tx
//
// A core (anything with the Core interface) processes the frames of one
// batch synchronously and appends what it sends to a Tx: a frame it
// rewrote in place, or a copy in the Tx's own arena when one input frame
// goes out several times (flooding). Run drives cores with one goroutine
// per port, not one per frame; a test or a pcap harness calls Process
// directly and reads the Tx. Nothing on that path allocates.
package port

import (
	"errors"
	"fmt"
)

const (
	// Headroom is the number of free bytes in front of every frame a port
	// reads: room for a VNTag or E-Tag and two VLAN tags, with the frame
	// start kept 8-byte aligned.
	Headroom = 64
	// MaxFrameLen is the largest frame a port reads or writes: a 9,000-byte
	// jumbo payload with its Ethernet header, two VLAN tags and an E-Tag.
	MaxFrameLen = 9216
	// Tailroom is the spare space kept behind a frame copied into a Tx, so
	// that a short frame can be padded to the 60-byte minimum in place.
	Tailroom = 64
	// DefaultFrameLen is the largest frame a batch from NewBatch holds: a
	// 1500-byte payload with its Ethernet header, two VLAN tags and an
	// E-Tag, rounded so that each buffer is 2 KiB.
	DefaultFrameLen = 2048 - Headroom - Tailroom
)

// Errors reported by ports. Every error a port returns wraps one of these
// or an operating-system error.
var (
	// ErrClosed is returned by Read and Write once the port, or its peer for
	// an in-memory pair, is closed.
	ErrClosed = errors.New("port: closed")
	// ErrTooLong is returned by Write for a frame longer than MaxFrameLen.
	ErrTooLong = errors.New("port: frame too long")
	// ErrUnsupported is returned when the platform has no such port
	// (TAP and AF_PACKET ports exist on Linux only).
	ErrUnsupported = errors.New("port: not supported on this platform")
)

// Frame is an Ethernet frame in a buffer: Buf[Off:] is the frame (from the
// destination MAC address, without FCS), Buf[:Off] is headroom, and
// Buf[len(Buf):cap(Buf)] is tailroom. The zero Frame is empty.
type Frame struct {
	Buf []byte
	Off int
}

// Bytes returns the frame's bytes.
func (f Frame) Bytes() []byte { return f.Buf[f.Off:] }

// Len returns the frame's length in bytes.
func (f Frame) Len() int { return len(f.Buf) - f.Off }

// FrameFrom returns a Frame holding a copy of b behind Headroom bytes of
// headroom and Tailroom bytes of tailroom. It allocates; tests and tools
// use it, data paths read into a Batch.
func FrameFrom(b []byte) Frame {
	buf := make([]byte, Headroom+len(b), Headroom+len(b)+Tailroom)
	copy(buf[Headroom:], b)
	return Frame{Buf: buf, Off: Headroom}
}

// Batch is a set of buffers a port reads frames into. After a successful
// Read, Frames[:N] hold the frames read, each with Headroom bytes of
// headroom. The buffers are allocated once, by NewBatch.
type Batch struct {
	// Frames are the frames read; only the first N are valid.
	Frames []Frame
	// N is the number of frames the last Read returned.
	N      int
	mem    []byte
	size   int // bytes per buffer
	maxLen int // largest frame
}

// NewBatch returns a batch of n buffers for frames of up to
// DefaultFrameLen bytes (MTU 1500 and its tags). Small buffers keep a
// batch within a few pages and the caches; use NewBatchSize for jumbo
// frames.
func NewBatch(n int) *Batch { return NewBatchSize(n, DefaultFrameLen) }

// NewBatchSize returns a batch of n buffers for frames of up to maxLen
// bytes (at most MaxSuperFrameLen, for ports with offloads). A frame a port reads that does not fit is
// dropped and counted (Stats.RxDropped).
func NewBatchSize(n, maxLen int) *Batch {
	if n < 1 {
		n = 1
	}
	if maxLen < 60 || maxLen > MaxSuperFrameLen {
		maxLen = MaxFrameLen
	}
	// An odd number of cache lines per buffer: with a power-of-two stride
	// the headers of a batch's frames would all fall in the same few sets
	// of the L1 cache and evict each other.
	size := (Headroom + maxLen + Tailroom + 63) &^ 63
	if size/64%2 == 0 {
		size += 64
	}
	return &Batch{Frames: make([]Frame, n), mem: make([]byte, n*size), size: size, maxLen: maxLen}
}

// Cap returns the number of frames the batch holds.
func (b *Batch) Cap() int { return len(b.Frames) }

// Valid returns the frames of the last Read.
func (b *Batch) Valid() []Frame { return b.Frames[:b.N] }

// slot returns the whole buffer of frame i, from its headroom on.
func (b *Batch) slot(i int) []byte {
	return b.mem[i*b.size : (i+1)*b.size : (i+1)*b.size]
}

// readBuf returns where a port reads frame i: behind the headroom, up to
// the batch's largest frame, plus one byte to tell a frame that filled the
// buffer from one that was cut short.
func (b *Batch) readBuf(i int) []byte {
	return b.slot(i)[Headroom : Headroom+b.maxLen+1]
}

// set records that frame i holds n bytes read into readBuf(i).
func (b *Batch) set(i, n int) {
	s := b.slot(i)
	clearOffload(s)
	b.Frames[i] = Frame{Buf: s[:Headroom+n], Off: Headroom}
}

// setAt records that frame i holds n bytes starting off bytes into its
// buffer (off >= Headroom).
func (b *Batch) setAt(i, off, n int) {
	s := b.slot(i)
	clearOffload(s)
	b.Frames[i] = Frame{Buf: s[:off+n], Off: off}
}

// setVNet is setAt for a frame read with its virtio_net_hdr, which the
// kernel wrote at the start of the buffer: it becomes the frame's Offload.
func (b *Batch) setVNet(i, off, n int) {
	s := b.slot(i)
	rebaseVNetHdr(s, off)
	b.Frames[i] = Frame{Buf: s[:off+n], Off: off}
}

// Put copies frame into buffer i of the batch and makes it frame i; it is
// how a harness or an in-memory port fills a batch. It reports false when
// i is out of range or the frame is longer than the batch's largest frame.
func (b *Batch) Put(i int, frame []byte) bool {
	if i < 0 || i >= len(b.Frames) || len(frame) > b.maxLen {
		return false
	}
	b.set(i, copy(b.readBuf(i), frame))
	return true
}

// Stats counts what a port moved. Ports update it atomically; Stats
// methods return a copy.
type Stats struct {
	RxFrames, RxBytes uint64
	TxFrames, TxBytes uint64
	// RxDropped counts frames the port could not deliver to a reader:
	// longer than the batch's buffers, or shorter than an Ethernet header,
	// or dropped by the kernel before the port could read them
	// (KernelDropped of them).
	RxDropped uint64
	// KernelDropped counts the frames of RxDropped the kernel dropped
	// because the socket's queue or ring was full (PACKET_STATISTICS).
	KernelDropped uint64
	// TxDropped counts frames Write refused: too long, queue full.
	TxDropped uint64
	// Errors counts failed system calls.
	Errors uint64
}

// add returns the sum of s and o.
func (s Stats) add(o Stats) Stats {
	return Stats{
		RxFrames: s.RxFrames + o.RxFrames, RxBytes: s.RxBytes + o.RxBytes,
		TxFrames: s.TxFrames + o.TxFrames, TxBytes: s.TxBytes + o.TxBytes,
		RxDropped: s.RxDropped + o.RxDropped, KernelDropped: s.KernelDropped + o.KernelDropped,
		TxDropped: s.TxDropped + o.TxDropped, Errors: s.Errors + o.Errors,
	}
}

// String renders the counters on one line.
func (s Stats) String() string {
	k := ""
	if s.KernelDropped > 0 {
		k = fmt.Sprintf(" (kernel %d)", s.KernelDropped)
	}
	return fmt.Sprintf("rx %d frames %d bytes, tx %d frames %d bytes, dropped rx %d%s tx %d, errors %d",
		s.RxFrames, s.RxBytes, s.TxFrames, s.TxBytes, s.RxDropped, k, s.TxDropped, s.Errors)
}

// Port is batched frame I/O on one interface.
//
// Read blocks until at least one frame is there, then returns as many as
// are ready, up to the batch's capacity, in b.Frames[:b.N]; they stay
// valid until the next Read on the same port (a port may hand out frames
// in its own memory rather than the batch's). Write sends
// frames in order and returns how many it sent; frames are not kept after
// it returns. Read and Write may be called concurrently with each other
// and with Close; Close makes blocked and later calls return ErrClosed.
type Port interface {
	Name() string
	Read(b *Batch) error
	Write(frames []Frame) (int, error)
	Stats() Stats
	Close() error
}
