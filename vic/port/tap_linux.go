//go:build linux

package port

import (
	"fmt"
	"sync"

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
	// queues are the device's queues when it has several
	// (TAPConfig.Queues), queues[0] being fdPort; nil with one.
	queues []*fdPort
	wmu    sync.Mutex // one multi-queue Write at a time: split is its
	split  [][]Frame  // frames of a Write by queue
	qports []Port     // queues as Ports, for Queues
}

// TAPConfig tunes OpenTAPWith.
type TAPConfig struct {
	// Offload opens the device with IFF_VNET_HDR and turns on checksum
	// and segmentation offload toward its reader.
	Offload bool
	// Queues, above 1, opens the device with IFF_MULTI_QUEUE and that
	// many queues, one descriptor each (one per core is the usual
	// choice). The kernel puts each frame the VM sends on one queue: the
	// queue its flow's frames were last written to, else one chosen by
	// hash. Run serves every queue with a goroutine of its own, all as
	// the same port; Write puts each frame on the queue of its flow (a
	// hash of its addresses and ports, the same both ways), so that a
	// flow stays on one queue in both directions. Read reads the first
	// queue only: a reader other than Run reads the others through
	// Queues.
	Queues int
	// QueueLen is the number of frames each queue holds for its reader
	// (the device's txqueuelen; 0: DefaultTAPQueueLen). Past that, the
	// kernel drops what the VM sends, and counts it as the VM's NIC's
	// tx_dropped.
	QueueLen int
}

// DefaultTAPQueueLen is the length of a TAP's queues unless TAPConfig
// says otherwise: 4,096 frames, for the reader's scheduling delays on a
// busy machine (the kernel's default for a TAP is 1,000, 50 ms of frames
// at 20,000 frames/s).
const DefaultTAPQueueLen = 4096

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
	if cfg.Queues <= 1 {
		p, err := openTAPQueue(name, cfg, 0)
		if err != nil {
			return nil, err
		}
		t := &TAP{fdPort: p}
		if err := t.setQueueLen(cfg.QueueLen); err != nil {
			t.Close()
			return nil, err
		}
		return t, nil
	}
	t := &TAP{split: make([][]Frame, cfg.Queues)}
	for q := range cfg.Queues {
		p, err := openTAPQueue(name, cfg, unix.IFF_MULTI_QUEUE)
		if err != nil {
			t.Close()
			return nil, err
		}
		name = p.name // the kernel's choice, if it chose
		t.queues = append(t.queues, p)
		t.qports = append(t.qports, p)
		if q == 0 {
			t.fdPort = p
		}
	}
	if err := t.setQueueLen(cfg.QueueLen); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// setQueueLen sets the device's txqueuelen (SIOCSIFTXQLEN), which sizes
// each queue's ring of frames for the reader; 0 means DefaultTAPQueueLen.
func (t *TAP) setQueueLen(n int) error {
	if n <= 0 {
		n = DefaultTAPQueueLen
	}
	ifr, err := unix.NewIfreq(t.name)
	if err != nil {
		return fmt.Errorf("port: tap %q: %w", t.name, err)
	}
	ifr.SetUint32(uint32(n))
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("port: tap %q: txqueuelen: %w", t.name, err)
	}
	defer unix.Close(fd)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFTXQLEN, ifr); err != nil {
		return fmt.Errorf("port: tap %q: SIOCSIFTXQLEN %d: %w", t.name, n, err)
	}
	return nil
}

// openTAPQueue opens a descriptor on TAP device name (one queue of it
// with IFF_MULTI_QUEUE in extra).
func openTAPQueue(name string, cfg TAPConfig, extra uint16) (*fdPort, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("port: tap %q: open /dev/net/tun: %w", name, err)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("port: tap %q: %w", name, err)
	}
	flags := uint16(unix.IFF_TAP|unix.IFF_NO_PI) | extra
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
	return p, nil
}

// Queues returns the device's queues as ports of their own, for a reader
// that serves each (Run does), or nil for a single-queue device. Writing
// to one puts frames on that queue; closing the TAP closes them all.
func (t *TAP) Queues() []Port { return t.qports }

// Write writes the frames in order, each on the queue of its flow (see
// TAPConfig.Queues), and returns how many it wrote.
func (t *TAP) Write(frames []Frame) (int, error) {
	if len(t.queues) <= 1 || len(frames) == 0 {
		return t.fdPort.Write(frames)
	}
	t.wmu.Lock()
	defer t.wmu.Unlock()
	n := len(t.queues)
	q0 := flowQueue(frames[0].Bytes(), n)
	same := true
	for i := range t.split {
		t.split[i] = t.split[i][:0]
	}
	for _, f := range frames {
		q := flowQueue(f.Bytes(), n)
		same = same && q == q0
		t.split[q] = append(t.split[q], f)
	}
	if same {
		return t.queues[q0].Write(frames)
	}
	done := 0
	var err error
	for q, fs := range t.split {
		if len(fs) == 0 {
			continue
		}
		k, werr := t.queues[q].Write(fs)
		done += k
		if err == nil {
			err = werr
		}
		clear(fs) // no frame kept past the Write
	}
	return done, err
}

// Stats returns the counters of all the device's queues together.
func (t *TAP) Stats() Stats {
	if len(t.queues) <= 1 {
		return t.fdPort.Stats()
	}
	var s Stats
	for _, q := range t.queues {
		s = s.add(q.Stats())
	}
	return s
}

// Close closes every queue of the device.
func (t *TAP) Close() error {
	if len(t.queues) == 0 {
		if t.fdPort == nil {
			return nil
		}
		return t.fdPort.Close()
	}
	var first error
	for _, q := range t.queues {
		if err := q.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

var _ Queued = (*TAP)(nil)
