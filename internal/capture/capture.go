// Package capture reads classic pcap (microsecond or nanosecond, either
// byte order) and pcapng files through one interface, telling them apart
// by their magic number rather than by their name: real captures are often
// pcapng files named .pcap.
package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// ErrFormat is returned when the input is neither pcap nor pcapng.
var ErrFormat = errors.New("capture: not a pcap or pcapng file")

// Reader returns the packets of a capture in order.
type Reader interface {
	// ReadPacketData returns the next packet's bytes and metadata, or
	// io.EOF after the last one.
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	// LinkType returns the link type of the capture (of its first
	// interface for pcapng).
	LinkType() layers.LinkType
}

// Format names a capture file format.
type Format string

// The formats Open recognises.
const (
	FormatPcap   Format = "pcap"
	FormatPcapNG Format = "pcapng"
)

// Open reads the capture's header from r and returns a Reader for its
// packets and the format it found. It fails with an error wrapping
// ErrFormat when r starts with neither format's magic.
func Open(r io.Reader) (Reader, Format, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %d bytes: %v", ErrFormat, len(magic), err)
	}
	switch binary.LittleEndian.Uint32(magic) {
	case 0x0A0D0D0A: // section header block, the same either byte order
		ng, err := pcapgo.NewNgReader(pcapngRecords(br), pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, FormatPcapNG, fmt.Errorf("capture: pcapng: %w", err)
		}
		return ng, FormatPcapNG, nil
	case 0xA1B2C3D4, 0xD4C3B2A1, 0xA1B23C4D, 0x4D3CB2A1:
		p, err := pcapgo.NewReader(pcapRecords(br, magic))
		if err != nil {
			return nil, FormatPcap, fmt.Errorf("capture: pcap: %w", err)
		}
		return p, FormatPcap, nil
	}
	return nil, "", fmt.Errorf("%w: magic % x", ErrFormat, magic)
}

// Packet is one packet of a capture with its position.
type Packet struct {
	// Number counts packets from 1, as Wireshark's frame.number does.
	Number int
	Data   []byte
	Info   gopacket.CaptureInfo
}

// ReadAll returns every packet of a capture.
func ReadAll(r io.Reader) ([]Packet, error) {
	cr, _, err := Open(r)
	if err != nil {
		return nil, err
	}
	var out []Packet
	for {
		data, ci, err := cr.ReadPacketData()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("capture: packet %d: %w", len(out)+1, err)
		}
		out = append(out, Packet{Number: len(out) + 1, Data: data, Info: ci})
	}
}
