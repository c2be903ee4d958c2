package vntaglayers_test

import (
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/internal/capture"
	"github.com/nivkit/niv/internal/needs"
	"github.com/nivkit/niv/vntag"
	"github.com/nivkit/niv/vntag/vntaglayers"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	require.NoError(t, err)
	return b
}

const ipv4 = "45000014000000004000fd00c0000201c0000202"

func types(ls []gopacket.Layer) []gopacket.LayerType {
	var out []gopacket.LayerType
	for _, l := range ls {
		out = append(out, l.LayerType())
	}
	return out
}

// parser is a DecodingLayerParser with our layers and gopacket's common
// payload layers.
type parser struct {
	eth     layers.Ethernet
	vn      vntaglayers.VNTag
	et      vntaglayers.ETag
	q       layers.Dot1Q
	ip4     layers.IPv4
	ip6     layers.IPv6
	arp     layers.ARP
	udp     layers.UDP
	payload gopacket.Payload
	p       *gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
}

func newParser() *parser {
	p := &parser{decoded: make([]gopacket.LayerType, 0, 8)}
	p.p = gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &p.eth, &p.vn, &p.et, &p.q, &p.ip4, &p.ip6, &p.arp, &p.udp, &p.payload)
	p.p.IgnoreUnsupported = true
	return p
}

func TestBothParsersDecodeThroughTheTags(t *testing.T) {
	cases := []struct {
		name  string
		frame string
		want  []gopacket.LayerType
		check func(t *testing.T, pk gopacket.Packet)
	}{
		{"V2: VNTag then 802.1Q then IPv4", "001122334455 00aabbccdd01 8926 81230000 8100 0064 0800 " + ipv4,
			[]gopacket.LayerType{layers.LayerTypeEthernet, vntaglayers.LayerTypeVNTag, layers.LayerTypeDot1Q, layers.LayerTypeIPv4},
			func(t *testing.T, pk gopacket.Packet) {
				v := pk.Layer(vntaglayers.LayerTypeVNTag).(*vntaglayers.VNTag)
				assert.Equal(t, vntag.FromBridge, v.Tag.Direction())
				assert.Equal(t, uint16(291), v.Tag.DVIF())
				assert.Equal(t, uint16(100), pk.Layer(layers.LayerTypeDot1Q).(*layers.Dot1Q).VLANIdentifier)
			}},
		{"E2: E-Tag then 802.1Q then IPv4", "001122334455 00aabbccdd01 893f a00000c50000 8100 0064 0800 " + ipv4,
			[]gopacket.LayerType{layers.LayerTypeEthernet, vntaglayers.LayerTypeETag, layers.LayerTypeDot1Q, layers.LayerTypeIPv4},
			func(t *testing.T, pk gopacket.Packet) {
				e := pk.Layer(vntaglayers.LayerTypeETag).(*vntaglayers.ETag)
				assert.Equal(t, uint8(5), e.ETag.PCP())
				assert.Equal(t, uint32(197), e.ETag.ECID())
			}},
		{"VLAN sandwich: 802.1Q, VNTag, 802.1Q, IPv4", "001122334455 00aabbccdd01 8100 00fa 8926 00000033 8100 00fa 0800 " + ipv4,
			[]gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeDot1Q, vntaglayers.LayerTypeVNTag, layers.LayerTypeDot1Q, layers.LayerTypeIPv4},
			func(t *testing.T, pk gopacket.Packet) {
				assert.Equal(t, uint16(51), pk.Layer(vntaglayers.LayerTypeVNTag).(*vntaglayers.VNTag).Tag.SVIF())
			}},
		{"E-Tag then IPv6/UDP", "001122334455 00aabbccdd01 893f 000000c50000 86dd 6000000000081140" + strings.Repeat("00", 32) + "9c409c4100080000",
			[]gopacket.LayerType{layers.LayerTypeEthernet, vntaglayers.LayerTypeETag, layers.LayerTypeIPv6, layers.LayerTypeUDP}, nil},
		{"VNTag then ARP", "ffffffffffff 00aabbccdd01 8926 00000005 0806 0001080006040001 00aabbccdd01 c0000201 000000000000 c0000202",
			[]gopacket.LayerType{layers.LayerTypeEthernet, vntaglayers.LayerTypeVNTag, layers.LayerTypeARP}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := unhex(t, tc.frame)
			pk := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
			require.Nil(t, pk.ErrorLayer())
			got := types(pk.Layers())
			if got[len(got)-1] == gopacket.LayerTypePayload {
				got = got[:len(got)-1]
			}
			assert.Equal(t, tc.want, got)
			if tc.check != nil {
				tc.check(t, pk)
			}

			p := newParser()
			require.NoError(t, p.p.DecodeLayers(data, &p.decoded))
			assert.Equal(t, tc.want, p.decoded)
		})
	}
}

// gopacket (github.com/gopacket/gopacket) leaves the EtherTypes it does not
// know as zero entries of layers.EthernetTypeMetadata (DecodeWith nil,
// LayerType zero). Importing vntaglayers fills exactly 0x8926 and 0x893F
// and leaves their neighbours as they are; after a tag, an EtherType
// gopacket does not know ends decoding as it does after Ethernet.
func TestRegistrationFillsOnlyItsEtherTypes(t *testing.T) {
	for et, want := range map[layers.EthernetType]gopacket.LayerType{
		vntaglayers.EthernetTypeVNTag: vntaglayers.LayerTypeVNTag,
		vntaglayers.EthernetTypeETag:  vntaglayers.LayerTypeETag,
	} {
		m := layers.EthernetTypeMetadata[et]
		require.NotNil(t, m.DecodeWith, "%#04x", uint16(et))
		assert.Equal(t, want, m.LayerType)
		assert.Equal(t, want, et.LayerType())
		assert.Equal(t, want.String(), et.String())
	}
	for _, et := range []layers.EthernetType{0x8925, 0x8927, 0x893e, 0x88b5} {
		m := layers.EthernetTypeMetadata[et]
		assert.Nil(t, m.DecodeWith, "%#04x", uint16(et))
		assert.Equal(t, gopacket.LayerTypeZero, et.LayerType(), "%#04x", uint16(et))
		assert.Equal(t, "UnknownEthernetType", et.String())
	}

	// VNTag, then the local experimental EtherType 0x88B5.
	data := unhex(t, "001122334455 00aabbccdd01 8926 00000005 88b5 0102030405060708")
	pk := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
	require.NotNil(t, pk.Layer(vntaglayers.LayerTypeVNTag), pk.String())
	require.NotNil(t, pk.ErrorLayer())
	assert.Contains(t, pk.ErrorLayer().Error().Error(), "EthernetType")

	p := newParser()
	require.NoError(t, p.p.DecodeLayers(data, &p.decoded))
	assert.Equal(t, []gopacket.LayerType{layers.LayerTypeEthernet, vntaglayers.LayerTypeVNTag}, p.decoded)
}

func TestTruncatedTagIsAnErrorNotAPanic(t *testing.T) {
	for _, frame := range []string{
		"001122334455 00aabbccdd01 8926 8123",
		"001122334455 00aabbccdd01 893f a00000c5",
		"001122334455 00aabbccdd01 8100 0064 8926 8123",
	} {
		data := unhex(t, frame)
		pk := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		require.NotNil(t, pk.ErrorLayer(), frame)
		assert.True(t, errors.Is(pk.ErrorLayer().Error(), vntag.ErrShortBuffer), "%v", pk.ErrorLayer().Error())
		assert.True(t, pk.Metadata().Truncated, "truncation is reported through DecodeFeedback")

		p := newParser()
		err := p.p.DecodeLayers(data, &p.decoded)
		require.ErrorIs(t, err, vntag.ErrShortBuffer)
		assert.True(t, p.p.Truncated)
	}
}

func TestLengthAfterVNTagIsLLC(t *testing.T) {
	pk := gopacket.NewPacket(unhex(t, "001122334455 00aabbccdd01 8926 00000005 0006 aaaa03000000"), layers.LayerTypeEthernet, gopacket.Default)
	assert.NotNil(t, pk.Layer(layers.LayerTypeLLC), pk.String())
}

// Serializing Ethernet, VNTag, Dot1Q, IPv4 and a payload gives the bytes of
// the spec's example V2.
func TestSerialize(t *testing.T) {
	// gopacket's Ethernet layer pads a frame to the 60-byte minimum.
	pad := strings.Repeat("00", 60-44)
	want := unhex(t, "001122334455 00aabbccdd01 8926 81230000 8100 0064 0800 "+ipv4+pad)
	down, err := vntag.Downstream(291)
	require.NoError(t, err)
	eth := &layers.Ethernet{DstMAC: want[0:6], SrcMAC: want[6:12], EthernetType: vntaglayers.EthernetTypeVNTag}
	vn := &vntaglayers.VNTag{Tag: down.WithEtherType(uint16(layers.EthernetTypeDot1Q))}
	q := &layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeIPv4}
	buf := gopacket.NewSerializeBuffer()
	payload := gopacket.Payload(want[24:44])
	require.NoError(t, gopacket.SerializeLayers(buf, gopacket.SerializeOptions{}, eth, vn, q, payload))
	assert.Equal(t, want, buf.Bytes())

	wantE := unhex(t, "001122334455 00aabbccdd01 893f 70c520ff1234 0800 "+ipv4+strings.Repeat("00", 60-42))
	e4, err := vntag.ETagFields{PCP: 3, DEI: true, IngressECIDBase: 0xc5, GRP: 2, ECIDBase: 0xff,
		IngressECIDExt: 0x12, ECIDExt: 0x34, EtherType: 0x0800}.ETag()
	require.NoError(t, err)
	buf = gopacket.NewSerializeBuffer()
	eth.EthernetType = vntaglayers.EthernetTypeETag
	require.NoError(t, gopacket.SerializeLayers(buf, gopacket.SerializeOptions{}, eth, &vntaglayers.ETag{ETag: e4}, gopacket.Payload(wantE[22:42])))
	assert.Equal(t, wantE, buf.Bytes())

	// And back: decoding what was serialized gives the same tag.
	pk := gopacket.NewPacket(buf.Bytes(), layers.LayerTypeEthernet, gopacket.Default)
	assert.Equal(t, e4, pk.Layer(vntaglayers.LayerTypeETag).(*vntaglayers.ETag).ETag)
}

// Every VNTag and E-Tag frame of the shared corpus decodes through both
// parsers with the tag values the corpus README records (from tshark).
func TestCorpusFrames(t *testing.T) {
	for _, c := range []struct {
		file      string
		tagged    int
		vntagSrc  uint16
		etagECIDs []uint32
	}{
		{"corpus/vntag-sv-decode-vntag-01.pcap", 5, 0, nil},
		{"corpus/vntag-in-vlan-zeek.pcap", 1, 51, nil},
		{"corpus/vntag-libpcap-mixed.pcap", 11, 0, nil},
		{"corpus/etag-sv-decode-etag-01.pcap", 1, 0, []uint32{211}},
		{"corpus/etag-sv-decode-etag-02.pcap", 1, 0, []uint32{216}},
	} {
		f, err := os.Open(needs.Shared(t, c.file))
		require.NoError(t, err)
		pks, err := capture.ReadAll(f)
		f.Close()
		require.NoError(t, err)
		tagged := 0
		p := newParser()
		for _, pk := range pks {
			packet := gopacket.NewPacket(pk.Data, layers.LayerTypeEthernet, gopacket.Default)
			_ = p.p.DecodeLayers(pk.Data, &p.decoded)
			if l := packet.Layer(vntaglayers.LayerTypeVNTag); l != nil {
				tagged++
				assert.Equal(t, c.vntagSrc, l.(*vntaglayers.VNTag).Tag.SVIF(), c.file)
				assert.Contains(t, p.decoded, vntaglayers.LayerTypeVNTag)
				assert.NotNil(t, packet.Layer(layers.LayerTypeIPv4), "%s frame %d decodes on to IPv4", c.file, pk.Number)
			}
			if l := packet.Layer(vntaglayers.LayerTypeETag); l != nil {
				assert.Equal(t, c.etagECIDs[tagged], l.(*vntaglayers.ETag).ETag.ECID())
				assert.True(t, l.(*vntaglayers.ETag).ETag.DEI(), "corpus E-Tags have E-DEI set")
				tagged++
				assert.Contains(t, p.decoded, vntaglayers.LayerTypeETag)
				assert.NotNil(t, packet.Layer(layers.LayerTypeTCP))
			}
		}
		assert.Equal(t, c.tagged, tagged, c.file)
	}
}

// The DecodingLayerParser path allocates nothing, for either tag.
func TestDecodingLayerParserNoAllocs(t *testing.T) {
	for _, frame := range []string{
		"001122334455 00aabbccdd01 8926 81230000 8100 0064 0800 " + ipv4,
		"001122334455 00aabbccdd01 893f 70c520ff1234 8100 0064 0800 " + ipv4,
	} {
		data := unhex(t, frame)
		p := newParser()
		var err error
		n := testing.AllocsPerRun(1000, func() { err = p.p.DecodeLayers(data, &p.decoded) })
		require.NoError(t, err)
		assert.Zero(t, n, frame)
		assert.Len(t, p.decoded, 4, "Ethernet, the tag, Dot1Q, IPv4 (protocol 253 stops the parser)")
	}
}
