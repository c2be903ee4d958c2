package dissect

import (
	"github.com/nivkit/niv/vdp/ecp"
	"github.com/nivkit/niv/vic"
)

// ECP field names. The ecp.* names are Wireshark 4.0's for its "ecp21"
// dissector (protocol filter ecp21, field prefix ecp.); tshark prints
// ecp.op and ecp.subtype in hex (0x0001), which is the same number.
const (
	ECPVersion = "ecp.ver"
	ECPOp      = "ecp.op"
	ECPSubtype = "ecp.subtype"
	ECPSeqNo   = "ecp.seqno"
)

// vic field names: niv's own (Wireshark has no dissector for vic, which
// rides in ECP subtype 2 and shows there as data). See vic/PROTOCOL.md.
const (
	VICCommand     = "vic.command"
	VICResponse    = "vic.response"
	VICReason      = "vic.reason"
	VICSession     = "vic.session"
	VICTxID        = "vic.txid"
	VICResult      = "vic.result"
	VICMode        = "vic.mode"
	VICMaxVIFs     = "vic.max_vifs"
	VICKeepaliveMS = "vic.keepalive_ms"
	VICPeerSession = "vic.peer_session"
	VICMAC         = "vic.mac"
	VICProfile     = "vic.profile"
	VICInstance    = "vic.instance"
	VICVLAN        = "vic.vlan"
	VICVIF         = "vic.vif"
	VICVEth        = "vic.veth"
	VICLink        = "vic.link"
	VICEpoch       = "vic.epoch"
	VICListID      = "vic.list_id"
	VICMember      = "vic.member"
	VICVersion     = "vic.version" // the version TLV: the highest vic version the sender speaks (version 2)
	// VICError is set, with the value 1, when an ECP subtype-2 payload
	// starts like a vic message but does not decode.
	VICError = "vic.error"
)

// ECPNames are the ECP fields Dissect produces, the ones the tshark
// differential tests compare.
var ECPNames = []string{ECPVersion, ECPOp, ECPSubtype, ECPSeqNo}

// VICNames are the vic fields Dissect produces.
var VICNames = []string{VICCommand, VICResponse, VICReason, VICSession, VICTxID, VICResult, VICMode, VICMaxVIFs,
	VICKeepaliveMS, VICPeerSession, VICMAC, VICProfile, VICInstance, VICVLAN, VICVIF, VICVEth, VICLink, VICEpoch, VICListID, VICMember, VICVersion, VICError}

// dissectECP decodes the ECP header at frame[off:] (after the EtherType)
// and, for subtype 2, the vic message in its payload.
func dissectECP(frame []byte, off int, f *Frame) {
	h, err := ecp.ParseHeader(frame[off:])
	if err != nil {
		f.fail("ECP", off-2, 2+ecp.HeaderLen, len(frame)-off+2)
		return
	}
	f.num(ECPVersion, uint64(h.Version))
	f.num(ECPOp, uint64(h.Op))
	f.num(ECPSubtype, uint64(h.Subtype))
	f.num(ECPSeqNo, uint64(h.Seq))
	if h.Op != ecp.OpRequest || h.Version != ecp.Version1 {
		return
	}
	if h.Subtype == ecp.SubtypeVDP {
		dissectVDP(frame[off+ecp.HeaderLen:], f)
		return
	}
	if h.Subtype != ecp.SubtypePECSP {
		return
	}
	payload := frame[off+ecp.HeaderLen:]
	var m vic.Message
	if err := vic.Decode(payload, &m); err != nil {
		if len(payload) >= 6 && [3]byte(payload[2:5]) == [3]byte(vic.Identifier[:3]) {
			f.num(VICError, 1)
		}
		return
	}
	f.num(VICCommand, uint64(m.Command))
	f.num(VICResponse, b2n(m.Response))
	f.num(VICReason, uint64(m.Reason))
	f.num(VICSession, m.Session)
	f.num(VICTxID, uint64(m.TxID))
	f.num(VICResult, uint64(m.Result))
	if m.Has(vic.FieldCaps) {
		f.num(VICMode, uint64(m.Caps.Mode))
		f.num(VICMaxVIFs, uint64(m.Caps.MaxVIFs))
		f.num(VICKeepaliveMS, uint64(m.Caps.KeepaliveMS))
	}
	if m.Has(vic.FieldPeerSession) {
		f.num(VICPeerSession, m.PeerSession)
	}
	if m.Has(vic.FieldVersion) {
		f.num(VICVersion, uint64(m.Version))
	}
	if m.Has(vic.FieldMAC) {
		f.Fields = append(f.Fields, Field{Name: VICMAC, Kind: MAC, Addr: m.MAC})
	}
	if m.Has(vic.FieldProfile) {
		f.text(VICProfile, m.Profile)
	}
	if m.Has(vic.FieldInstance) {
		n := len(f.scratch)
		f.scratch = append(f.scratch, m.Instance.String()...)
		f.text(VICInstance, f.scratch[n:])
	}
	if m.Has(vic.FieldVLAN) {
		f.num(VICVLAN, uint64(m.VLAN))
	}
	if m.Has(vic.FieldVIF) {
		f.num(VICVIF, uint64(m.VIF))
	}
	if m.Has(vic.FieldVEth) {
		f.num(VICVEth, uint64(m.VEth))
	}
	if m.Has(vic.FieldLink) {
		f.num(VICLink, b2n(m.Up))
	}
	if m.Has(vic.FieldEpoch) {
		f.num(VICEpoch, uint64(m.Epoch))
	}
	if m.Has(vic.FieldVIFList) {
		f.num(VICListID, uint64(m.ListID))
		for _, v := range m.Members {
			f.num(VICMember, uint64(v))
		}
	}
}
