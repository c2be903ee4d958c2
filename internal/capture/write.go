package capture

import (
	"io"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// WritePcap writes frames as a classic Ethernet pcap (microsecond
// timestamps, frame i at i seconds after the epoch), the form tests hand
// to tshark and tcpdump.
func WritePcap(w io.Writer, frames [][]byte) error {
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return err
	}
	for i, fr := range frames {
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(int64(i), 0), CaptureLength: len(fr), Length: len(fr)}
		if err := pw.WritePacket(ci, fr); err != nil {
			return err
		}
	}
	return nil
}

// WritePcapFile writes frames to a new file at path with WritePcap.
func WritePcapFile(path string, frames [][]byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WritePcap(f, frames); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
