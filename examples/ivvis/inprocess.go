package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vntag"
)

// logger prints the demo's events in the order they happen.
type logger struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *logger) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, args...)
}

// wiretap is a port that prints every frame written to it.
type wiretap struct {
	port.Port
	arrow string
	log   *logger
}

// Write prints each frame's tag and contents, then writes them.
func (w *wiretap) Write(frames []port.Frame) (int, error) {
	for _, f := range frames {
		b := f.Bytes()
		w.log.printf("  link %s %-58s %s\n", w.arrow, describeTag(b), summarize(inner(b)))
	}
	return w.Port.Write(frames)
}

// inner returns a copy of a link frame without its NIV tag.
func inner(b []byte) []byte {
	f := port.FrameFrom(b)
	if _, out, err := vntag.Pop(f.Bytes()); err == nil {
		return out
	}
	if _, out, err := vntag.PopETag(f.Bytes()); err == nil {
		return out
	}
	return b
}

// summarize describes an untagged frame in a few words.
func summarize(b []byte) string {
	p := gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.NoCopy)
	if a, ok := p.Layer(layers.LayerTypeARP).(*layers.ARP); ok {
		if a.Operation == layers.ARPRequest {
			return fmt.Sprintf("ARP who-has %v tell %v", net.IP(a.DstProtAddress), net.IP(a.SourceProtAddress))
		}
		return fmt.Sprintf("ARP %v is-at %v", net.IP(a.SourceProtAddress), net.HardwareAddr(a.SourceHwAddress))
	}
	if ic, ok := p.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4); ok {
		ip := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		return fmt.Sprintf("ICMP %v %v > %v seq %d", ic.TypeCode, ip.SrcIP, ip.DstIP, ic.Seq)
	}
	return fmt.Sprintf("%d bytes", len(b))
}

// simVM answers ARP and ping for its address on the far end of its vNIC
// and hands every other frame to inbox.
type simVM struct {
	vm
	nic      *port.Mem
	inbox    chan []byte
	received int
	log      *logger
}

func (v *simVM) run() {
	b := port.NewBatch(16)
	for {
		if err := v.nic.Read(b); err != nil {
			close(v.inbox)
			return
		}
		for _, f := range b.Valid() {
			frame := append([]byte(nil), f.Bytes()...)
			v.received++
			v.log.printf("  VM %s receives %s\n", v.name, summarize(frame))
			if reply := v.answer(frame); reply != nil {
				v.send(reply)
				continue
			}
			select {
			case v.inbox <- frame:
			default:
			}
		}
	}
}

func (v *simVM) send(frame []byte) {
	v.nic.Write([]port.Frame{port.FrameFrom(frame)})
}

// answer returns the reply to an ARP request or ping for the VM's address.
func (v *simVM) answer(b []byte) []byte {
	p := gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.Default)
	eth, _ := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	if a, ok := p.Layer(layers.LayerTypeARP).(*layers.ARP); ok && a.Operation == layers.ARPRequest &&
		net.IP(a.DstProtAddress).Equal(net.IP(v.ip.AsSlice())) {
		return arpFrame(layers.ARPReply, v.mac, v.ip.AsSlice(), a.SourceHwAddress, a.SourceProtAddress)
	}
	ic, ok := p.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
	if !ok || ic.TypeCode.Type() != layers.ICMPv4TypeEchoRequest {
		return nil
	}
	ip := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	if !ip.DstIP.Equal(net.IP(v.ip.AsSlice())) {
		return nil
	}
	return icmpFrame(layers.ICMPv4TypeEchoReply, v.mac, eth.SrcMAC, ip.DstIP, ip.SrcIP, ic.Id, ic.Seq, ic.Payload)
}

func serialize(ls ...gopacket.SerializableLayer) []byte {
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		panic(err) // the layers are built here; a failure is a bug in this file
	}
	out := buf.Bytes()
	if len(out) < 60 {
		out = append(out, make([]byte, 60-len(out))...)
	}
	return out
}

func arpFrame(op uint16, srcMAC net.HardwareAddr, srcIP []byte, dstMAC net.HardwareAddr, dstIP []byte) []byte {
	ethDst := dstMAC
	if op == layers.ARPRequest {
		ethDst = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
		dstMAC = net.HardwareAddr{0, 0, 0, 0, 0, 0}
	}
	return serialize(
		&layers.Ethernet{SrcMAC: srcMAC, DstMAC: ethDst, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: op, SourceHwAddress: srcMAC, SourceProtAddress: srcIP, DstHwAddress: dstMAC, DstProtAddress: dstIP})
}

func icmpFrame(typ uint8, srcMAC, dstMAC net.HardwareAddr, srcIP, dstIP net.IP, id, seq uint16, payload []byte) []byte {
	return serialize(
		&layers.Ethernet{SrcMAC: srcMAC, DstMAC: dstMAC, EthernetType: layers.EthernetTypeIPv4},
		&layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolICMPv4, SrcIP: srcIP, DstIP: dstIP},
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, 0), Id: id, Seq: seq},
		gopacket.Payload(payload))
}

// runInProcess runs the demo on in-memory ports.
func runInProcess(ctx context.Context, w io.Writer, mode vntag.Mode) error {
	log := &logger{w: w}
	// The link: IV uplink A <-> the VIS's IV port, each end printing the
	// data frames it sends. The control plane's ECP frames go through the
	// bare ends.
	ivUp, visDown := port.Pair("iv-uplink-a", "vis-iv0", 0)
	p, ctl, err := newNegotiatedPair(mode, ivUp, visDown)
	if err != nil {
		return err
	}
	defer p.vis.Close()
	defer ctl.close()
	ivPorts := []port.Port{&wiretap{ivUp, "↑", log}, nil}
	visPorts := make([]port.Port, ctl.visPort+1)
	visPorts[ctl.visPort] = &wiretap{visDown, "↓", log}
	sims := make([]*simVM, len(vms))
	for i, v := range vms {
		nic, vmEnd := port.Pair("vnic-"+v.name, "vm-"+v.name, 0)
		ivPorts = append(ivPorts, nic)
		sims[i] = &simVM{vm: v, nic: vmEnd, inbox: make(chan []byte, 16), log: log}
	}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); port.Run(runCtx, ctl.ivCore, ivPorts, port.RunConfig{}) }()
	go func() { defer wg.Done(); port.Run(runCtx, ctl.visCore, visPorts, port.RunConfig{}) }()
	for _, s := range sims {
		go s.run()
	}
	defer func() {
		stop()
		wg.Wait()
		for _, s := range sims {
			s.nic.Close()
		}
	}()

	a, b, c := sims[0], sims[1], sims[2]
	tagName := map[vntag.Mode]string{vntag.ModeVNTag: "VNTag (0x8926)", vntag.ModeETag: "IEEE 802.1BR E-Tag (0x893F)"}[mode]
	log.printf("niv: VMs behind an interface virtualizer (IV), switched by a virtual interface switch (VIS).\n")
	log.printf("The IV-VIS link carries %s frames; each one is printed (↑ IV to VIS, ↓ VIS to IV).\n\n", tagName)
	log.printf("0. The IV asks the VIS for a vEth for each vNIC (vic over ECP, 0x8940, on the same link)\n")
	if err := ctl.negotiate(ctx, log, p); err != nil {
		return err
	}
	log.printf("\n")
	for _, v := range vms {
		log.printf("  VM %s  %v  %-10v vEth%d  VIF %d  port-profile %s\n", v.name, v.mac, v.ip, v.veth, v.vif, v.profile)
	}
	log.printf("\nA and B (VLAN 10) sit behind the same IV, which never switches locally: every frame\n")
	log.printf("goes up to the VIS and comes back down the same link (hairpin). C is in VLAN 20.\n\n")

	log.printf("1. A asks who has %v (ARP broadcast)\n", b.ip)
	a.send(arpFrame(layers.ARPRequest, a.mac, a.ip.AsSlice(), nil, b.ip.AsSlice()))
	reply, err := await(ctx, a.inbox)
	if err != nil {
		return fmt.Errorf("no ARP reply from B: %w", err)
	}
	bMAC := net.HardwareAddr(reply[6:12])
	for seq := uint16(1); seq <= 3; seq++ {
		log.printf("\n%d. A pings B (seq %d)\n", seq+1, seq)
		a.send(icmpFrame(layers.ICMPv4TypeEchoRequest, a.mac, bMAC, a.ip.AsSlice(), b.ip.AsSlice(), 0x4e49, seq, []byte("niv ivvis demo")))
		if _, err := await(ctx, a.inbox); err != nil {
			return fmt.Errorf("no echo reply for seq %d: %w", seq, err)
		}
	}
	// Let anything still in flight arrive before reading counters.
	time.Sleep(50 * time.Millisecond)
	log.printf("\nC received %d frames: the VIS kept VLAN 10's broadcast out of VLAN 20.\n\n", c.received)
	log.printf("%s", p.counters(len(vms)))
	if c.received != 0 {
		return errors.New("VM C received VLAN 10 traffic")
	}
	log.printf("\nDone: ARP and 3 pings between A and B, all hair-pinned through the VIS.\n")
	return nil
}

// await returns the next frame of inbox, or fails after two seconds.
func await(ctx context.Context, inbox <-chan []byte) ([]byte, error) {
	t := time.NewTimer(2 * time.Second)
	defer t.Stop()
	select {
	case f, ok := <-inbox:
		if !ok {
			return nil, errors.New("port closed")
		}
		return f, nil
	case <-t.C:
		return nil, errors.New("timed out")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
