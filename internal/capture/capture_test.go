package capture

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/internal/needs"
)

func TestOpenTellsFormatsByMagic(t *testing.T) {
	frame := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x08, 0x00}
	ci := gopacket.CaptureInfo{Timestamp: time.Unix(1, 0), CaptureLength: len(frame), Length: len(frame)}

	var pcap bytes.Buffer
	w := pcapgo.NewWriter(&pcap)
	require.NoError(t, w.WriteFileHeader(65535, layers.LinkTypeEthernet))
	require.NoError(t, w.WritePacket(ci, frame))

	var ng bytes.Buffer
	nw, err := pcapgo.NewNgWriter(&ng, layers.LinkTypeEthernet)
	require.NoError(t, err)
	require.NoError(t, nw.WritePacket(ci, frame))
	require.NoError(t, nw.Flush())

	for _, c := range []struct {
		in   []byte
		want Format
	}{{pcap.Bytes(), FormatPcap}, {ng.Bytes(), FormatPcapNG}} {
		r, f, err := Open(bytes.NewReader(c.in))
		require.NoError(t, err)
		assert.Equal(t, c.want, f)
		assert.Equal(t, layers.LinkTypeEthernet, r.LinkType())
		pk, err := ReadAll(bytes.NewReader(c.in))
		require.NoError(t, err)
		require.Len(t, pk, 1)
		assert.Equal(t, frame, pk[0].Data)
		assert.Equal(t, 1, pk[0].Number)
	}

	_, _, err = Open(bytes.NewReader([]byte("hello world")))
	require.ErrorIs(t, err, ErrFormat)
	_, _, err = Open(bytes.NewReader(nil))
	require.ErrorIs(t, err, ErrFormat)
}

// The corpus has a nanosecond pcap and a pcapng named .pcap.
func TestCorpusContainers(t *testing.T) {
	for _, c := range []struct {
		file   string
		format Format
		n      int
	}{
		{"corpus/vntag-zeek-nsec.pcap", FormatPcap, 3},
		{"corpus/vntag-libpcap-mixed.pcap", FormatPcapNG, 22},
		{"corpus/vntag-sv-decode-vntag-01.pcap", FormatPcap, 5},
	} {
		f, err := os.Open(needs.Shared(t, c.file))
		require.NoError(t, err)
		_, format, err := Open(f)
		require.NoError(t, err)
		assert.Equal(t, c.format, format, c.file)
		_, err = f.Seek(0, 0)
		require.NoError(t, err)
		pk, err := ReadAll(f)
		require.NoError(t, err)
		assert.Len(t, pk, c.n, c.file)
		f.Close()
	}
}

// A capture cut anywhere is either a shorter complete capture (cut between
// records) or an error; never a silently shorter read.
func TestCutCaptures(t *testing.T) {
	frame := make([]byte, 60)
	ci := gopacket.CaptureInfo{Timestamp: time.Unix(1, 0), CaptureLength: 60, Length: 60}
	var pcap, ng bytes.Buffer
	w := pcapgo.NewWriter(&pcap)
	require.NoError(t, w.WriteFileHeader(65535, layers.LinkTypeEthernet))
	nw, err := pcapgo.NewNgWriter(&ng, layers.LinkTypeEthernet)
	require.NoError(t, err)
	var pcapEnds, ngEnds []int
	for i := 0; i < 3; i++ {
		require.NoError(t, w.WritePacket(ci, frame))
		pcapEnds = append(pcapEnds, pcap.Len())
		require.NoError(t, nw.WritePacket(ci, frame))
		require.NoError(t, nw.Flush())
		ngEnds = append(ngEnds, ng.Len())
	}
	for _, c := range []struct {
		name string
		data []byte
		ends []int
	}{{"pcap", pcap.Bytes(), pcapEnds}, {"pcapng", ng.Bytes(), ngEnds}} {
		first := c.ends[0] - 60 // somewhere inside the first packet record
		for cut := first; cut <= len(c.data); cut++ {
			pk, err := ReadAll(bytes.NewReader(c.data[:cut]))
			complete := 0
			for _, e := range c.ends {
				if cut >= e {
					complete++
				}
			}
			assert.Len(t, pk, complete, "%s cut at %d", c.name, cut)
			atBoundary := false
			for _, e := range c.ends {
				atBoundary = atBoundary || cut == e
			}
			if atBoundary {
				assert.NoError(t, err, "%s cut at a record boundary %d", c.name, cut)
			} else {
				assert.Error(t, err, "%s cut inside a record at %d", c.name, cut)
			}
		}
	}
}
