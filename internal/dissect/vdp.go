package dissect

import (
	"encoding/binary"
	"net/netip"

	"github.com/nivkit/niv/vdp"
	"github.com/nivkit/niv/vdp/evb"
	"github.com/nivkit/niv/vdp/lldp"
)

// VDP field names. The vdp21.* names are Wireshark 4.0's for its "vdp21"
// dissector, used where it decodes VDP22 right (vdp-ecp.md §6): TLV type
// and length, the Manager ID (shown as an IPv6 address, as tshark does),
// the status bits, Type ID, version, VSIID format, VSIID and filter
// format. niv differs from tshark in two ways, both following the
// standard: it decodes these fields for Pre-Associate TLVs too (tshark
// only names them), and it decodes the filter entries, which tshark's
// draft-2.1 dissector reads without the entry count and with PS/PCP masks
// 0x0800/0x0700; niv's entry fields are its own (vdp.filter.*).
const (
	VDPTLVType      = "vdp21.tlvtype"
	VDPTLVLen       = "vdp21.tlvlen"
	VDPManagerID    = "vdp21.manager_id"
	VDPMBit         = "vdp21.assoc.flags.mbit"
	VDPSBit         = "vdp21.assoc.flags.sbit"
	VDPReqRsp       = "vdp21.assoc.flags.req_rsp"
	VDPKeep         = "vdp21.assoc.flags.keep"
	VDPHardError    = "vdp21.assoc.flags.hard_error"
	VDPReason       = "vdp21.assoc.reason"
	VDPError        = "vdp21.assoc.error"
	VDPTypeID       = "vdp21.vsitypeid"
	VDPTypeVersion  = "vdp21.vsiversion"
	VDPIDFormat     = "vdp21.vsiidformat"
	VDPVSIID        = "vdp21.VSIID"
	VDPFilterFormat = "vdp21.filterformat"

	// niv's own VDP names.
	VDPEntries   = "vdp.filter.entries"
	VDPGroupID   = "vdp.filter.groupid"
	VDPMAC       = "vdp.filter.mac"
	VDPPS        = "vdp.filter.ps"
	VDPPCP       = "vdp.filter.pcp"
	VDPVID       = "vdp.filter.vid"
	VDPOrgOUI    = "vdp.org.oui"
	VDPProfile   = "vdp.profile"
	VDPMalformed = "vdp.malformed"
)

// EVB and CDCP field names in LLDP: niv's own, since tshark 4.0 names the
// ratified EVB (0x0D) and CDCP (0x0E) TLVs without decoding them; they
// follow tcpdump's field names. The draft EVB TLV's names are tshark's.
const (
	EVBBGID   = "evb.bgid"
	EVBRRCAP  = "evb.rrcap"
	EVBRRCTR  = "evb.rrctr"
	EVBSGID   = "evb.sgid"
	EVBRRREQ  = "evb.rrreq"
	EVBRRSTAT = "evb.rrstat"
	EVBR      = "evb.r"
	EVBRTE    = "evb.rte"
	EVBMode   = "evb.mode"
	EVBROLRWD = "evb.rol_rwd"
	EVBRWD    = "evb.rwd"
	EVBROLRKA = "evb.rol_rka"
	EVBRKA    = "evb.rka"

	CDCPRole   = "cdcp.role"
	CDCPSComp  = "cdcp.scomp"
	CDCPChnCap = "cdcp.chncap"
	CDCPSCID   = "cdcp.scid"
	CDCPSVID   = "cdcp.svid"

	DraftSubtype       = "lldp.ieee.802_1qbg.subtype"
	DraftSupportCaps   = "lldp.ieee.802_1qbg.evb_support_caps"
	DraftConfigureCaps = "lldp.ieee.802_1qbg.evb_configure_caps"
	DraftSupportedVSI  = "lldp.ieee.802_1qbg.evb_supported_vsi"
	DraftConfiguredVSI = "lldp.ieee.802_1qbg.evb_configured_vsi"
	DraftRetransTimer  = "lldp.ieee.802_1qbg.evb_retrans_timer"
)

// VDPNames are the vdp21.* fields, the ones compared with tshark.
var VDPNames = []string{VDPTLVType, VDPTLVLen, VDPManagerID, VDPMBit, VDPSBit, VDPReqRsp, VDPKeep, VDPHardError,
	VDPReason, VDPError, VDPTypeID, VDPTypeVersion, VDPIDFormat, VDPVSIID, VDPFilterFormat}

// DraftEVBNames are tshark's draft EVB TLV fields.
var DraftEVBNames = []string{DraftSubtype, DraftSupportCaps, DraftConfigureCaps, DraftSupportedVSI, DraftConfiguredVSI, DraftRetransTimer}

// dissectVDP decodes a VDPDU (an ECP subtype-1 request's payload).
func dissectVDP(b []byte, f *Frame) {
	d := vdp.NewDecoder(b)
	for d.Next() {
		t := d.Type()
		f.num(VDPTLVType, uint64(t))
		f.num(VDPTLVLen, uint64(len(d.Bytes())))
		switch {
		case t == vdp.TypeManagerID:
			m := d.ManagerID()
			if d.Err() != nil {
				break
			}
			n := len(f.scratch)
			f.scratch = netip.AddrFrom16(m).AppendTo(f.scratch)
			f.text(VDPManagerID, f.scratch[n:])
		case t.IsVSI():
			d.VSI(&f.vsi)
			if len(d.Bytes()) < vdp.VSIFixedLen {
				break
			}
			v := &f.vsi
			s := v.Status
			f.num(VDPReqRsp, b2n(s.Response()))
			if s.Response() {
				f.num(VDPKeep, b2n(s.Keep()))
				f.num(VDPHardError, b2n(s.HardError()))
				f.num(VDPError, uint64(s.Code()))
			} else {
				f.num(VDPMBit, b2n(s.MigrateTo()))
				f.num(VDPSBit, b2n(s.MigrateFrom()))
				f.num(VDPReason, uint64(s.Code()))
			}
			f.num(VDPTypeID, uint64(v.TypeID))
			f.num(VDPTypeVersion, uint64(v.TypeVersion))
			f.num(VDPIDFormat, uint64(v.IDFormat))
			n := len(f.scratch)
			for i, c := range v.ID {
				if i > 0 {
					f.scratch = append(f.scratch, ':')
				}
				f.scratch = append(f.scratch, hexDigits[c>>4], hexDigits[c&0xF])
			}
			f.text(VDPVSIID, f.scratch[n:])
			f.num(VDPFilterFormat, uint64(v.FilterFormat))
			if d.Err() != nil {
				break
			}
			f.num(VDPEntries, uint64(len(v.Filters)))
			for _, e := range v.Filters {
				if v.FilterFormat.HasGroup() {
					f.num(VDPGroupID, uint64(e.GroupID))
				}
				if v.FilterFormat.HasMAC() {
					f.Fields = append(f.Fields, Field{Name: VDPMAC, Kind: MAC, Addr: e.MAC})
				}
				f.num(VDPPS, b2n(e.PS))
				f.num(VDPPCP, uint64(e.PCP))
				f.num(VDPVID, uint64(e.VID))
			}
		case t == vdp.TypeOrg:
			o := d.Org()
			if d.Err() != nil {
				break
			}
			f.num(VDPOrgOUI, uint64(o.OUI[0])<<16|uint64(o.OUI[1])<<8|uint64(o.OUI[2]))
			if name, ok := o.Profile(); ok {
				f.text(VDPProfile, name)
			}
		}
		if d.Err() != nil {
			break
		}
	}
	if d.Err() != nil {
		f.num(VDPMalformed, 1)
	}
}

// dissectLLDP decodes the EVB, CDCP and draft EVB TLVs of an LLDPDU
// (frame[off:] is the first TLV).
func dissectLLDP(frame []byte, off int, f *Frame) {
	d := lldp.NewDecoder(frame[off:])
	for d.Next() {
		if d.Type() != lldp.TypeOrg {
			continue
		}
		v := d.Bytes()
		if len(v) < 4 {
			continue
		}
		switch {
		case [3]byte(v) == evb.OUI8021 && v[3] == evb.Subtype:
			e, err := evb.Parse(v)
			if err != nil {
				continue
			}
			f.num(EVBBGID, b2n(e.BGID))
			f.num(EVBRRCAP, b2n(e.RRCAP))
			f.num(EVBRRCTR, b2n(e.RRCTR))
			f.num(EVBSGID, b2n(e.SGID))
			f.num(EVBRRREQ, b2n(e.RRREQ))
			f.num(EVBRRSTAT, uint64(e.RRSTAT))
			f.num(EVBR, uint64(e.R))
			f.num(EVBRTE, uint64(e.RTE))
			f.num(EVBMode, uint64(e.Mode))
			f.num(EVBROLRWD, b2n(e.ROLRWD))
			f.num(EVBRWD, uint64(e.RWD))
			f.num(EVBROLRKA, b2n(e.ROLRKA))
			f.num(EVBRKA, uint64(e.RKA))
		case [3]byte(v) == evb.OUI8021 && v[3] == evb.CDCPSubtype:
			c, err := evb.ParseCDCP(v)
			if err != nil {
				continue
			}
			f.num(CDCPRole, b2n(c.Role))
			f.num(CDCPSComp, b2n(c.SComp))
			f.num(CDCPChnCap, uint64(c.ChnCap))
			for i := range c.Len() {
				ch := c.Channel(i)
				f.num(CDCPSCID, uint64(ch.SCID))
				f.num(CDCPSVID, uint64(ch.SVID))
			}
		case [3]byte(v) == evb.OUIDraft && v[3] == evb.DraftSubtype:
			dr, err := evb.ParseDraft(v)
			if err != nil {
				continue
			}
			f.num(DraftSubtype, 0)
			f.num(DraftSupportCaps, uint64(binary.BigEndian.Uint16([]byte{dr.SupportedMode, dr.SupportedCaps})))
			f.num(DraftConfigureCaps, uint64(dr.ConfiguredMode)<<8|uint64(dr.ConfiguredCaps))
			f.num(DraftSupportedVSI, uint64(dr.SupportedVSIs))
			f.num(DraftConfiguredVSI, uint64(dr.ConfiguredVSIs))
			f.num(DraftRetransTimer, uint64(dr.RTE))
		}
	}
}
