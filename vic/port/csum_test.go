package port

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// refCsum is RFC 1071's checksum loop written out the plain way: the
// ones' complement sum of b's big-endian 16-bit words, an odd last byte
// padded with zero, folded to 16 bits.
func refCsum(b []byte) uint16 {
	var sum uint32
	for len(b) >= 2 {
		sum += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return uint16(sum)
}

// csumAdd and copyCsum agree with the plain loop over random data of
// every length up to a jumbo frame's and at every alignment of source and
// destination, and copyCsum copies exactly the source; all-ones data,
// whose sums carry at every step, too.
func TestCsumAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([]byte, 9100+16)
	dst := make([]byte, len(src)+16)
	check := func(name string, s []byte, doff int) {
		t.Helper()
		want := refCsum(s)
		if got := fold(csumAdd(0, s)); got != want {
			t.Fatalf("%s: csumAdd over %d bytes = %#04x, want %#04x", name, len(s), got, want)
		}
		for i := range dst {
			dst[i] = 0xa5
		}
		d := dst[doff : doff+len(s)+8]
		if got := fold(copyCsum(d, s)); got != want {
			t.Fatalf("%s: copyCsum over %d bytes (dst +%d) = %#04x, want %#04x", name, len(s), doff, got, want)
		}
		if !bytes.Equal(d[:len(s)], s) {
			t.Fatalf("%s: copyCsum copied %d bytes wrong (dst +%d)", name, len(s), doff)
		}
		if d[len(s)] != 0xa5 || doff > 0 && dst[doff-1] != 0xa5 {
			t.Fatalf("%s: copyCsum wrote outside the %d bytes (dst +%d)", name, len(s), doff)
		}
		// A sum carried on: the checksum of a header and a payload.
		hdr := src[:20]
		if got, want := fold(csumAdd(copyCsum(d, s), hdr)), fold(csumAdd(csumAdd(0, s), hdr)); got != want {
			t.Fatalf("%s: copyCsum carried on = %#04x, want %#04x", name, got, want)
		}
	}
	for range 3000 {
		for i := range src {
			src[i] = byte(rng.Uint32())
		}
		n := rng.IntN(9100)
		if rng.IntN(4) == 0 {
			n = rng.IntN(80)
		}
		off := rng.IntN(16)
		check("random", src[off:off+n], rng.IntN(16))
	}
	for i := range src {
		src[i] = 0xff
	}
	for n := range 200 {
		check("ones", src[n%7:n%7+n*37], n%5)
	}
}
