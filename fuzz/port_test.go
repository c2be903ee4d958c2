package fuzz

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/nivkit/niv/vic/port"
)

// FuzzSegmenter feeds frames with arbitrary offload metadata — what a VM
// hands a TAP with offloads, or a link delivers — to the Segmenter. It
// must never panic: it returns finished frames that fit maxLen, each with
// no offload left, or an error wrapping port.ErrOffload. A frame with no
// offload comes back as it is.
func FuzzSegmenter(f *testing.F) {
	// A TCP/IPv4 super-frame with a VNTag, and the same as IPv6.
	tcp4 := make([]byte, 14+6+20+20+3000)
	copy(tcp4[12:], []byte{0x89, 0x26, 0, 0, 0, 5, 0x08, 0x00, 0x45})
	binary.BigEndian.PutUint16(tcp4[22:], uint16(len(tcp4)-20))
	tcp4[20+9] = 6
	tcp4[20+20+12] = 5 << 4
	f.Add(tcp4, uint8(port.OffloadNeedsCsum), uint8(port.GSOTCPv4), uint16(60), uint16(1000), uint16(40), uint16(16), uint16(1514))
	tcp6 := make([]byte, 14+40+20+3000)
	copy(tcp6[12:], []byte{0x86, 0xdd, 0x60})
	tcp6[14+6] = 6
	tcp6[14+40+12] = 5 << 4
	f.Add(tcp6, uint8(port.OffloadNeedsCsum), uint8(port.GSOTCPv6), uint16(74), uint16(1000), uint16(54), uint16(16), uint16(0))
	f.Add(tcp4, uint8(port.OffloadNeedsCsum), uint8(port.GSOUDPL4), uint16(48), uint16(500), uint16(40), uint16(6), uint16(600))
	f.Add(tcp4[:80], uint8(port.OffloadNeedsCsum), uint8(0), uint16(0), uint16(0), uint16(40), uint16(16), uint16(0))
	s := port.NewSegmenter()
	f.Fuzz(func(t *testing.T, b []byte, flags, gso uint8, hdrLen, gsoSize, start, off, maxLen uint16) {
		if len(b) < 14 || len(b) > 12000 {
			return
		}
		fr := port.FrameFrom(b)
		o := port.Offload{Flags: flags, GSOType: gso, HdrLen: hdrLen, GSOSize: gsoSize, CsumStart: start, CsumOffset: off}
		fr.SetOffload(o)
		_ = fr.Offload().Segments(fr.Len())
		out, err := s.Finish(fr, int(maxLen))
		if err != nil {
			if !errors.Is(err, port.ErrOffload) {
				t.Fatalf("error %v does not wrap ErrOffload", err)
			}
			return
		}
		if fr.Offload().IsZero() {
			if len(out) != 1 || !bytes.Equal(out[0].Bytes(), b) {
				t.Fatal("a finished frame did not come back as it was")
			}
			return
		}
		for i, g := range out {
			if !g.Offload().IsZero() {
				t.Fatalf("segment %d still has an offload: %+v", i, g.Offload())
			}
			if maxLen > 0 && o.GSOType != 0 && g.Len() > int(maxLen) {
				t.Fatalf("segment %d: %d bytes, more than %d", i, g.Len(), maxLen)
			}
		}
	})
}
