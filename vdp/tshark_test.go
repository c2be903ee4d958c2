package vdp_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/internal/capture"
	"github.com/nivkit/niv/internal/needs"
	"github.com/nivkit/niv/internal/tshark"
	"github.com/nivkit/niv/vdp"
	"github.com/nivkit/niv/vdp/ecp"
)

// randomPDU draws a VDPDU over every mode, status, VSIID format and
// filter format, with 1–4 entries and 0–2 org TLVs.
func randomPDU(r *rand.Rand) vdp.PDU {
	var p vdp.PDU
	for i := range p.ManagerID {
		p.ManagerID[i] = byte(r.IntN(256))
	}
	v := vdp.VSI{
		Mode:         vdp.TLVType(1 + r.IntN(4)),
		Status:       vdp.Status(r.IntN(128)),
		TypeID:       uint32(r.IntN(1 << 24)),
		TypeVersion:  uint8(r.IntN(256)),
		IDFormat:     vdp.VSIIDFormat(1 + r.IntN(5)),
		FilterFormat: vdp.FilterFormat(1 + r.IntN(4)),
	}
	for i := range v.ID {
		v.ID[i] = byte(r.IntN(256))
	}
	for range 1 + r.IntN(4) {
		f := vdp.Filter{PS: r.IntN(2) == 1, PCP: uint8(r.IntN(8)), VID: uint16(r.IntN(4095))}
		if v.FilterFormat.HasGroup() {
			f.GroupID = r.Uint32()
		}
		if v.FilterFormat.HasMAC() {
			f.MAC = [6]byte{2, byte(r.IntN(256)), 0, 0, byte(r.IntN(256)), byte(r.IntN(256))}
		}
		v.Filters = append(v.Filters, f)
	}
	for range r.IntN(3) {
		o := vdp.Org{OUI: [3]byte{byte(r.IntN(256)), 0, byte(r.IntN(256))}, Data: make([]byte, r.IntN(20))}
		v.Org = append(v.Org, o)
	}
	p.VSIs = []vdp.VSI{v}
	return p
}

func writePcap(t *testing.T, frames [][]byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vdp.pcap")
	require.NoError(t, capture.WritePcapFile(path, frames))
	return path
}

func b01(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// tsharkView is what tshark 4.0.17's vdp21 dissector shows of p where it
// is right (vdp-ecp.md §6): TLV types and lengths, the Manager ID, and
// for Associate and De-Associate TLVs the status bits, Type ID, version,
// VSIID format, VSIID and filter format. Filter entries are left out
// (mis-decode 1 and 2); Pre-Associate bodies are not decoded (3).
func tsharkView(p *vdp.PDU) map[string]string {
	m := map[string][]string{}
	add := func(k string, v ...string) { m[k] = append(m[k], v...) }
	add("vdp21.tlvtype", "5")
	add("vdp21.tlvlen", "16")
	add("vdp21.manager_id", netip.AddrFrom16(p.ManagerID).String())
	for _, v := range p.VSIs {
		add("vdp21.tlvtype", strconv.Itoa(int(v.Mode)))
		add("vdp21.tlvlen", strconv.Itoa(v.Len()))
		if v.Mode == vdp.TypeAssociate || v.Mode == vdp.TypeDeAssociate {
			s := v.Status
			add("vdp21.assoc.flags.req_rsp", b01(s.Response()))
			if s.Response() {
				add("vdp21.assoc.flags.keep", b01(s.Keep()))
				add("vdp21.assoc.flags.hard_error", b01(s.HardError()))
				add("vdp21.assoc.error", strconv.Itoa(int(s.Code())))
			} else {
				add("vdp21.assoc.flags.mbit", b01(s.MigrateTo()))
				add("vdp21.assoc.flags.sbit", b01(s.MigrateFrom()))
				add("vdp21.assoc.reason", strconv.Itoa(int(s.Code())))
			}
			add("vdp21.vsitypeid", strconv.Itoa(int(v.TypeID)))
			add("vdp21.vsiversion", strconv.Itoa(int(v.TypeVersion)))
			add("vdp21.vsiidformat", strconv.Itoa(int(v.IDFormat)))
			var ids []string
			for _, c := range v.ID {
				ids = append(ids, fmt.Sprintf("%02x", c))
			}
			add("vdp21.VSIID", strings.Join(ids, ":"))
			add("vdp21.filterformat", strconv.Itoa(int(v.FilterFormat)))
		}
		for _, o := range v.Org {
			add("vdp21.tlvtype", "127")
			add("vdp21.tlvlen", strconv.Itoa(3+len(o.Data)))
		}
	}
	out := map[string]string{}
	for k, v := range m {
		out[k] = strings.Join(v, ",")
	}
	return out
}

var tsharkFields = []string{"vdp21.tlvtype", "vdp21.tlvlen", "vdp21.manager_id", "vdp21.assoc.flags.req_rsp",
	"vdp21.assoc.flags.keep", "vdp21.assoc.flags.hard_error", "vdp21.assoc.error", "vdp21.assoc.flags.mbit",
	"vdp21.assoc.flags.sbit", "vdp21.assoc.reason", "vdp21.vsitypeid", "vdp21.vsiversion", "vdp21.vsiidformat",
	"vdp21.VSIID", "vdp21.filterformat"}

// TestTshark: the §8 examples and 2,000 random VDPDUs, encoded by niv in
// ECP frames and decoded by tshark, agree on every field tshark decodes
// right. NIV_SEED replays a run.
func TestTshark(t *testing.T) {
	bin := needs.Tool(t, "tshark")
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("NIV_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("NIV_SEED=%d", seed)
	r := rand.New(rand.NewPCG(seed, 0x766470))
	var pdus []vdp.PDU
	for _, ex := range specPDUs {
		pdus = append(pdus, ex.want)
	}
	for range 2000 {
		pdus = append(pdus, randomPDU(r))
	}
	var frames [][]byte
	for i := range pdus {
		b, err := pdus[i].AppendBinary(nil)
		require.NoError(t, err)
		fr, err := ecp.AppendFrame(nil, ecp.NearestCustomerBridge, [6]byte{2, 0, 0, 0, 0, 1},
			ecp.Header{Version: 1, Subtype: ecp.SubtypeVDP, Seq: uint16(i + 1)}, b, true)
		require.NoError(t, err)
		frames = append(frames, fr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	got, err := tshark.Fields(ctx, bin, writePcap(t, frames), tsharkFields)
	require.NoError(t, err)
	require.Len(t, got, len(frames))
	bad := 0
	for i := range pdus {
		want := tsharkView(&pdus[i])
		for _, k := range tsharkFields {
			var g []string
			for _, v := range got[i][k] {
				g = append(g, tshark.Canonical(v))
			}
			var w []string
			if want[k] != "" {
				for _, v := range strings.Split(want[k], ",") {
					w = append(w, tshark.Canonical(v))
				}
			}
			if !assert.Equal(t, w, g, "frame %d field %s: % x", i+1, k, frames[i]) {
				bad++
			}
		}
		if bad > 10 {
			t.FailNow()
		}
	}
}
