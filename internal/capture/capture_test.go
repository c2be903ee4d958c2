package capture

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
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
