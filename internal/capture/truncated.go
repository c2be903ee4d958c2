package capture

import (
	"encoding/binary"
	"io"
)

// records follows the record structure of a capture stream as it is read,
// so that a stream that ends inside a record reports io.ErrUnexpectedEOF.
// gopacket's pcapgo readers return a plain io.EOF when a file ends right
// after a pcap record header, or anywhere inside a pcapng block, which
// would make a capture cut short look complete.
type records struct {
	r        io.Reader
	pos      int64 // bytes read so far
	end      int64 // end of the current record; == pos between records
	hdr      []byte
	hdrN     int                     // bytes of the next record's header seen so far
	length   func(hdr []byte) uint32 // whole record length from its header
	minimumN uint32
}

// pcapRecords tracks a classic pcap stream: a 24-byte file header, then
// records of a 16-byte header and incl_len bytes.
func pcapRecords(r io.Reader, magic []byte) *records {
	order := binary.ByteOrder(binary.LittleEndian)
	if magic[0] == 0xA1 {
		order = binary.BigEndian
	}
	return &records{r: r, end: 24, hdr: make([]byte, 16), minimumN: 16,
		length: func(h []byte) uint32 { return 16 + order.Uint32(h[8:12]) }}
}

// pcapngRecords tracks a pcapng stream: blocks of type, length and body;
// a section header's byte-order magic sets the order of its section.
func pcapngRecords(r io.Reader) *records {
	big := false
	return &records{r: r, hdr: make([]byte, 12), minimumN: 12,
		length: func(h []byte) uint32 {
			if binary.LittleEndian.Uint32(h[0:4]) == 0x0A0D0D0A {
				big = binary.BigEndian.Uint32(h[8:12]) == 0x1A2B3C4D
			}
			if big {
				return binary.BigEndian.Uint32(h[4:8])
			}
			return binary.LittleEndian.Uint32(h[4:8])
		}}
}

func (t *records) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.feed(p[:n])
	if err == io.EOF && (t.hdrN > 0 || t.pos < t.end) {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (t *records) feed(b []byte) {
	for len(b) > 0 {
		if t.pos < t.end {
			skip := int(min(int64(len(b)), t.end-t.pos))
			t.pos += int64(skip)
			b = b[skip:]
			continue
		}
		c := copy(t.hdr[t.hdrN:], b)
		t.hdrN += c
		t.pos += int64(c)
		b = b[c:]
		if t.hdrN < len(t.hdr) {
			return
		}
		n := t.length(t.hdr)
		t.end = t.pos - int64(len(t.hdr)) + int64(n)
		if n < t.minimumN {
			t.end = t.pos // malformed; the reader itself will complain
		}
		t.hdrN = 0
	}
}
