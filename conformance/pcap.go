package conformance

import (
	"bytes"
	"errors"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Frame is one frame of a case's capture: the port (pcapng interface
// name) it is sent or expected on, and its bytes.
type Frame struct {
	Port string
	Data []byte
}

// ReadCapture reads a multi-port pcapng capture: each packet's port is the
// name of the interface it was captured on. The frames come in file order.
func ReadCapture(r io.Reader) ([]Frame, error) {
	ng, err := pcapgo.NewNgReader(r, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		return nil, caseErr("not a pcapng capture: %v", err)
	}
	var out []Frame
	for {
		data, ci, err := ng.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, caseErr("frame %d: %v", len(out)+1, err)
		}
		intf, err := ng.Interface(ci.InterfaceIndex)
		if err != nil {
			return nil, caseErr("frame %d: %v", len(out)+1, err)
		}
		if intf.LinkType != layers.LinkTypeEthernet {
			return nil, caseErr("frame %d: interface %q is %v, not Ethernet", len(out)+1, intf.Name, intf.LinkType)
		}
		if intf.Name == "" {
			return nil, caseErr("frame %d: interface %d has no name", len(out)+1, ci.InterfaceIndex)
		}
		out = append(out, Frame{Port: intf.Name, Data: bytes.Clone(data)})
	}
}

// WriteCapture writes frames as a pcapng capture with one Ethernet
// interface per name in ports (in that order, whether or not a frame uses
// it), so that a reader sees every port of the case. Frame i gets the
// timestamp start + i µs.
func WriteCapture(w io.Writer, ports []string, frames []Frame, start time.Time) error {
	if len(ports) == 0 {
		return caseErr("a capture needs at least one interface")
	}
	first := pcapgo.NgInterface{Name: ports[0], LinkType: layers.LinkTypeEthernet, SnapLength: 65535}
	ng, err := pcapgo.NewNgWriterInterface(w, first, pcapgo.NgWriterOptions{
		SectionInfo: pcapgo.NgSectionInfo{Application: "niv conformance"},
	})
	if err != nil {
		return err
	}
	index := map[string]int{ports[0]: 0}
	for _, p := range ports[1:] {
		id, err := ng.AddInterface(pcapgo.NgInterface{Name: p, LinkType: layers.LinkTypeEthernet, SnapLength: 65535})
		if err != nil {
			return err
		}
		index[p] = id
	}
	for i, f := range frames {
		id, ok := index[f.Port]
		if !ok {
			return caseErr("frame %d: port %q is not an interface of the capture", i+1, f.Port)
		}
		ci := gopacket.CaptureInfo{
			Timestamp:      start.Add(time.Duration(i) * time.Microsecond),
			CaptureLength:  len(f.Data),
			Length:         len(f.Data),
			InterfaceIndex: id,
		}
		if err := ng.WritePacket(ci, f.Data); err != nil {
			return err
		}
	}
	return ng.Flush()
}
