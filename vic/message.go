package vic

import (
	"encoding/binary"
	"encoding/hex"
	"strconv"

	"github.com/nivkit/niv/vntag"
)

// A vic message is the ULPDU of one ECP subtype-2 request: a sequence of
// TLVs with 802.1-style 16-bit headers, the command TLV first.
//
//	TLV header:  type (7 bits) | length (9 bits) = bytes of value
//
//	command TLV (always first, type 127, length 22):
//	 0      1      2      3      4      5      6      7
//	+------+------+------+------+------+------+------+------+
//	| 0xFE | 0x16 | 0x6E   0x69   0x76 | 0x63 | ver  | cmd  |
//	+------+------+------+------+------+------+------+------+
//	|flags |reason|          session (sender's incarnation)  |
//	+------+------+------+------+------+------+------+------+
//	|   session (cont.)   |        transaction id           |
//	+------+------+------+------+------+------+------+------+
//	|   result (u16)      |  more TLVs ... type 0 or end of ULPDU
//	+------+------+------+
//
// vic/PROTOCOL.md describes every TLV byte by byte.

const (
	// Version is the highest vic protocol version this package speaks
	// (vic/PROTOCOL.md §6). It goes in the version TLV of an open and its
	// answer; the command TLV's framing byte stays 1 in every version.
	Version = 2
	// MaxProfileLen is the longest port-profile name: Linux's
	// PORT_PROFILE_MAX (40) less its terminating NUL.
	MaxProfileLen = 39
	// MaxVIF is the largest id a version-1 VIF or VIF-list TLV carries:
	// the 14-bit VNTag dvif_id. A vNIC's VIF is smaller: the VIS gives
	// out svif_ids (12 bits, vntag.MaxSVIF) in VNTag mode and E-CID bases
	// (MaxVIFETag) in E-Tag mode.
	MaxVIF = 1<<14 - 1
	// MaxVIFETag is the largest VIF id in E-Tag mode (12-bit E-CID base).
	MaxVIFETag = 1<<12 - 1
	// MaxListMembers is how many VIF ids one VIF-list TLV holds.
	MaxListMembers = 254
	// MaxWideListMembers is how many VIF ids one wide VIF-list TLV
	// (version 2) holds.
	MaxWideListMembers = (maxTLVLen - 4) / 3
	// MaxVIFsETag is the largest max VIFs an E-Tag IV of version 2 may
	// announce; the VIS then gives out E-CIDs with an ext part.
	MaxVIFsETag = 1<<16 - 1
	// MaxVLAN is the largest VLAN id a vNIC may ask for.
	MaxVLAN = 4094

	tlvEnd         = 0
	tlvCaps        = 1
	tlvPeerSession = 2
	tlvMAC         = 3
	tlvProfile     = 4
	tlvInstance    = 5
	tlvVLAN        = 6
	tlvVIF         = 7
	tlvVEth        = 8
	tlvLink        = 9
	tlvEpoch       = 10
	tlvVIFList     = 11
	tlvVersion     = 12
	tlvWideVIFList = 13
	tlvCommand     = 127

	commandLen   = 22
	framing      = 1
	maxTLVLen    = 1<<9 - 1
	flagResponse = 0x80
)

// Identifier is the first four value bytes of the command TLV: 6E-69-76
// ("niv"), a 24-bit organizationally-unique-identifier position whose
// first octet has the local bit set and the quadrant bits 11, so no IEEE
// assignment (OUI, CID) can ever equal it, followed by 0x63 ('c',
// control). A PE-CSP or VDP peer that sees a type-127 TLV with this
// identifier knows the PDU is niv's.
var Identifier = [4]byte{0x6E, 0x69, 0x76, 0x63}

// Command is a vic command code (command TLV byte 5).
type Command uint8

// Commands. "IV→VIS" names who sends the request; the other side answers
// with the same command and the response flag.
const (
	// CmdOpen (IV→VIS) opens a session: the IV's capabilities; the
	// answer carries the VIS's session and confirms the IV's.
	CmdOpen Command = 1
	// CmdKeepalive (either way) proves the sender alive; answered.
	CmdKeepalive Command = 2
	// CmdVIFAlloc (IV→VIS) asks for a vEth and VIF id for a vNIC: MAC,
	// port profile, VM instance UUID, epoch, link state, optional VLAN.
	// Sent again for every vNIC after a session (re)opens (resync).
	CmdVIFAlloc Command = 3
	// CmdVIFLink (IV→VIS) enables or disables a vNIC (its link state).
	CmdVIFLink Command = 4
	// CmdVIFDelete (IV→VIS) deletes a vNIC and its vEth.
	CmdVIFDelete Command = 5
	// CmdVIFRemove (VIS→IV) tells an IV a VIF is no longer its own (the
	// vNIC migrated to another IV).
	CmdVIFRemove Command = 6
	// CmdVIFList (VIS→IV) sets the members of a VIF list (for flooding).
	CmdVIFList Command = 7
	// CmdResyncDone (IV→VIS) says the IV has re-announced every vNIC it
	// has since the session opened.
	CmdResyncDone Command = 8
	// CmdVIFDetach (IV→VIS) says a vNIC left the IV (migrated away): the
	// VIS unbinds its VIF but keeps the vEth, its id, configuration and
	// counters, for the vNIC's next placement.
	CmdVIFDetach Command = 9
	maxCommand           = CmdVIFDetach
)

var commandNames = [...]string{"", "open", "keepalive", "vif-alloc", "vif-link", "vif-delete", "vif-remove", "vif-list", "resync-done", "vif-detach"}

func (c Command) String() string {
	if c >= 1 && c <= maxCommand {
		return commandNames[c]
	}
	return "command(" + strconv.FormatUint(uint64(c), 10) + ")"
}

// Result is a response's result code. The values are Linux's
// PORT_PROFILE_RESPONSE_* codes (linux/if_link.h), so a libvirt-style
// caller polling IFLA_PORT_RESPONSE sees familiar answers. Requests carry
// ResultNone.
type Result uint16

const (
	// ResultNone (0) is the result field of a request.
	ResultNone Result = 0
	// ResultSuccess is PORT_PROFILE_RESPONSE_SUCCESS (0x100).
	ResultSuccess Result = 0x100
	// ResultInProgress is PORT_PROFILE_RESPONSE_INPROGRESS (0x101).
	ResultInProgress Result = 0x101
	// ResultInvalid is PORT_PROFILE_RESPONSE_INVALID (0x102): a bad
	// request or an unknown port profile.
	ResultInvalid Result = 0x102
	// ResultBadState is PORT_PROFILE_RESPONSE_BADSTATE (0x103): the
	// profile is disabled, the session is not open, the request is stale
	// or the vNIC is not bound here.
	ResultBadState Result = 0x103
	// ResultInsufficientResources is
	// PORT_PROFILE_RESPONSE_INSUFFICIENT_RESOURCES (0x104): the VIS has
	// reached its maximum of vEths, or the IV port has no free VIF id.
	ResultInsufficientResources Result = 0x104
	// ResultError is PORT_PROFILE_RESPONSE_ERROR (0x105).
	ResultError Result = 0x105
)

func (r Result) String() string {
	switch r {
	case ResultNone:
		return "none"
	case ResultSuccess:
		return "success"
	case ResultInProgress:
		return "in-progress"
	case ResultInvalid:
		return "invalid"
	case ResultBadState:
		return "bad-state"
	case ResultInsufficientResources:
		return "insufficient-resources"
	case ResultError:
		return "error"
	}
	return "result(0x" + hex.EncodeToString([]byte{byte(r >> 8), byte(r)}) + ")"
}

// Reason refines a refusal (command TLV byte 7). Each reason goes with
// one Result, given by Reason.Result.
type Reason uint8

const (
	ReasonNone Reason = iota
	// ReasonUnknownProfile: no port profile of that name (ResultInvalid).
	ReasonUnknownProfile
	// ReasonProfileDisabled: the profile exists but is not enabled for
	// use (ResultBadState).
	ReasonProfileDisabled
	// ReasonMaxPorts: the VIS has as many vEths as it may, or the
	// port-profile as many as its max-ports (ResultInsufficientResources).
	ReasonMaxPorts
	// ReasonVIFExhausted: no free VIF id on the IV's port
	// (ResultInsufficientResources).
	ReasonVIFExhausted
	// ReasonBadRequest: the request is malformed or inconsistent
	// (ResultInvalid).
	ReasonBadRequest
	// ReasonStaleEpoch: the vNIC has since been placed behind another IV
	// with a newer epoch (ResultBadState).
	ReasonStaleEpoch
	// ReasonNoSession: the sender's session is not open on the receiver;
	// open it again (ResultBadState).
	ReasonNoSession
	// ReasonNotBound: the vNIC is not bound on this port
	// (ResultBadState).
	ReasonNotBound
	maxReason = ReasonNotBound
)

var reasonNames = [...]string{"none", "unknown-profile", "profile-disabled", "max-ports", "vif-exhausted", "bad-request", "stale-epoch", "no-session", "not-bound"}

func (r Reason) String() string {
	if r <= maxReason {
		return reasonNames[r]
	}
	return "reason(" + strconv.FormatUint(uint64(r), 10) + ")"
}

// Result returns the Linux-aligned result code that goes with r.
func (r Reason) Result() Result {
	switch r {
	case ReasonNone:
		return ResultSuccess
	case ReasonUnknownProfile, ReasonBadRequest:
		return ResultInvalid
	case ReasonMaxPorts, ReasonVIFExhausted:
		return ResultInsufficientResources
	case ReasonProfileDisabled, ReasonStaleEpoch, ReasonNoSession, ReasonNotBound:
		return ResultBadState
	}
	return ResultError
}

// maxVIF returns the largest max-VIFs a capabilities TLV may carry in mode
// m: version 1 allowed 16383 in VNTag mode, which the VIS takes as vifTop;
// version 2 allows 65535 in E-Tag mode.
func maxVIF(m vntag.Mode) uint16 {
	if m == vntag.ModeETag {
		return MaxVIFsETag
	}
	return MaxVIF
}

// vifTop returns the largest VIF id the VIS gives a vNIC on a port of
// mode m whose IV speaks version and holds maxVIFs. A VNTag vNIC's VIF is
// the svif_id of its upstream frames, 12 bits (vntag.MaxSVIF), although a
// dvif_id has 14. An E-Tag vNIC's is an E-CID base (12 bits), or, for a
// version-2 IV that holds more than 4095 VIFs, a whole 20-bit E-CID.
func vifTop(m vntag.Mode, version uint8, maxVIFs uint16) vntag.VIF {
	if m != vntag.ModeETag {
		return vntag.MaxSVIF
	}
	if version >= 2 && maxVIFs > MaxVIFETag {
		return vntag.MaxECID
	}
	return MaxVIFETag
}

// WideList reports whether the VIF list list with members needs the wide
// VIF-list TLV of version 2: a GRP 2 or 3 E-channel, or an id above
// MaxVIF. The list id is the core's: a VNTag vif_list_id, or in E-Tag mode
// the E-channel vntag.Channel(GRP, E-CID).
func WideList(list uint32, members []vntag.VIF) bool {
	if list>>20 > 1 || list&vntag.MaxECID > MaxVIF {
		return true
	}
	for _, v := range members {
		if v > MaxVIF {
			return true
		}
	}
	return false
}

// listOf returns the list id a received vif-list TLV names on a link of
// mode m: in E-Tag mode an id without GRP (TLV 11, as version 1 sends it)
// is the E-CID of a GRP 1 E-channel.
func listOf(m vntag.Mode, id uint32) uint32 {
	if m == vntag.ModeETag && id>>20 == 0 {
		return vntag.Channel(1, vntag.VIF(id))
	}
	return id
}

// UUID is a VM instance UUID (Linux IFLA_PORT_INSTANCE_UUID, 16 bytes in
// network order).
type UUID [16]byte

func (u UUID) String() string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// Capabilities is what an IV tells the VIS when it opens a session.
type Capabilities struct {
	// Mode is the tag the IV uses.
	Mode vntag.Mode
	// MaxVIFs is how many VIFs the IV can hold: 1..vntag.MaxSVIF in
	// VNTag mode (a version-1 IV's 16383 is taken as vntag.MaxSVIF),
	// 1..MaxVIFETag in E-Tag mode.
	MaxVIFs uint16
	// KeepaliveMS is the IV's keepalive period in milliseconds (1..65535);
	// the VIS declares the IV dead after three periods without a message.
	KeepaliveMS uint16
}

// Field names an optional TLV of a message; Message.Present is a set of
// them.
type Field uint16

const (
	FieldCaps Field = 1 << iota
	FieldPeerSession
	FieldMAC
	FieldProfile
	FieldInstance
	FieldVLAN
	FieldVIF
	FieldVEth
	FieldLink
	FieldEpoch
	FieldVIFList
	// FieldVersion is the version TLV (version 2).
	FieldVersion
)

var fieldNames = [...]string{"capabilities", "peer-session", "mac", "port-profile", "instance-uuid", "vlan", "vif", "veth", "link", "epoch", "vif-list", "version"}

func (f Field) String() string {
	for i, n := range fieldNames {
		if f == 1<<i {
			return n
		}
	}
	return "fields(0x" + hex.EncodeToString([]byte{byte(f >> 8), byte(f)}) + ")"
}

// tlvOf maps a field to its TLV type; the TLV type of bit i is i+1.
func tlvOf(f Field) uint8 {
	for i := uint8(0); i < 16; i++ {
		if f == 1<<i {
			return i + 1
		}
	}
	return 0
}

// Message is one vic message. Decode fills it reusing the storage of
// Profile and Members, so a Message reused for many decodes stops
// allocating.
type Message struct {
	Command  Command
	Response bool
	// Reason refines a refusal; zero in requests and successes.
	Reason Reason
	// Session is the sender's incarnation: a number the sender picks
	// anew each time it starts, so the receiver notices a restart.
	Session uint64
	// TxID identifies a request; the response carries the same value.
	TxID uint32
	// Result is ResultNone in requests.
	Result Result
	// Present says which of the fields below the message carries.
	Present Field

	Caps Capabilities
	// PeerSession is the receiver's incarnation as the sender knows it.
	PeerSession uint64
	MAC         [6]byte
	// Profile is the port-profile name (IFLA_PORT_PROFILE).
	Profile  []byte
	Instance UUID
	// VLAN is the access VLAN a vNIC asks for, or the VLAN its vEth got.
	VLAN uint16
	// VIF is a vNIC's VIF id: an svif_id in VNTag mode, an E-CID (ext << 12
	// | base) in E-Tag mode.
	VIF  vntag.VIF
	VEth uint32
	// Up is the vNIC's link state (enabled).
	Up bool
	// Epoch orders placements of one instance UUID: the hypervisor
	// raises it each time the vNIC is placed behind an IV (power-on,
	// each migration). Newer epochs win.
	Epoch uint32
	// ListID is a VIF list's id as the cores name it: a VNTag
	// vif_list_id, or in E-Tag mode the E-channel vntag.Channel(GRP,
	// E-CID). A list decoded from the version-1 TLV has no GRP (see
	// listOf).
	ListID  uint32
	Members []vntag.VIF
	// Version is the highest vic version the sender speaks (the version
	// TLV, FieldVersion), in an open and its answer.
	Version uint8
	// Unknown counts TLVs of types this version does not know, which
	// Decode skipped.
	Unknown int
}

// Has reports whether all fields in f are present.
func (m *Message) Has(f Field) bool { return m.Present&f == f }

// required lists the TLVs each command needs: [command][response].
// A refused response needs only what identifies the request.
var required = [maxCommand + 1][2]Field{
	CmdOpen:       {FieldCaps | FieldPeerSession, FieldPeerSession},
	CmdKeepalive:  {FieldPeerSession, FieldPeerSession},
	CmdVIFAlloc:   {FieldMAC | FieldProfile | FieldInstance | FieldEpoch | FieldLink, FieldInstance},
	CmdVIFLink:    {FieldInstance | FieldVIF | FieldLink | FieldEpoch, FieldInstance},
	CmdVIFDelete:  {FieldInstance | FieldEpoch, FieldInstance},
	CmdVIFRemove:  {FieldInstance | FieldVIF | FieldEpoch, FieldInstance},
	CmdVIFList:    {FieldVIFList, FieldVIFList},
	CmdResyncDone: {0, 0},
	CmdVIFDetach:  {FieldInstance | FieldEpoch, FieldInstance},
}

// requiredOnSuccess adds what a successful VIF-alloc response needs.
const allocSuccess = FieldInstance | FieldVIF | FieldVEth

func (m *Message) missing() Field {
	r := 0
	if m.Response {
		r = 1
	}
	need := required[m.Command][r]
	if m.Command == CmdVIFAlloc && m.Response && m.Result == ResultSuccess {
		need |= allocSuccess
	}
	return need &^ m.Present
}

func lowestBit(f Field) Field { return f & -f }

func validProfile(p []byte) bool {
	if len(p) == 0 || len(p) > MaxProfileLen {
		return false
	}
	for _, c := range p {
		if c < 0x21 || c > 0x7E {
			return false
		}
	}
	return true
}

// check validates ranges and returns the first field out of range.
func (m *Message) check() (Field, bool) {
	switch {
	case m.Command < 1 || m.Command > maxCommand:
		return 0, false
	case m.Has(FieldCaps) && (m.Caps.Mode < vntag.ModeVNTag || m.Caps.Mode > vntag.ModeETag || m.Caps.MaxVIFs == 0 ||
		m.Caps.MaxVIFs > maxVIF(m.Caps.Mode) || m.Caps.KeepaliveMS == 0):
		return FieldCaps, false
	case m.Has(FieldProfile) && !validProfile(m.Profile):
		return FieldProfile, false
	case m.Has(FieldVLAN) && (m.VLAN == 0 || m.VLAN > MaxVLAN):
		return FieldVLAN, false
	case m.Has(FieldVIF) && (m.VIF == 0 || m.VIF > vntag.MaxECID):
		return FieldVIF, false
	case m.Has(FieldVersion) && m.Version == 0:
		return FieldVersion, false
	case m.Has(FieldVEth) && m.VEth == 0:
		return FieldVEth, false
	case m.Has(FieldVIFList) && (len(m.Members) > MaxListMembers || m.ListID>>20 > vntag.MaxGRP ||
		WideList(m.ListID, m.Members) && len(m.Members) > MaxWideListMembers):
		return FieldVIFList, false
	}
	if m.Has(FieldVIFList) {
		for _, v := range m.Members {
			if v == 0 || v > vntag.MaxECID {
				return FieldVIFList, false
			}
		}
	}
	return 0, true
}

// Validate reports whether m can be encoded: a defined command, every
// value in range, every TLV the command needs present. It returns a
// *FieldError wrapping ErrRange or ErrMissing, or ErrCommand, or
// ErrReserved for a reason above ReasonNotBound.
func (m *Message) Validate() error {
	if m.Command < 1 || m.Command > maxCommand {
		return ErrCommand
	}
	if m.Reason > maxReason {
		return ErrReserved
	}
	if f, ok := m.check(); !ok {
		return &FieldError{Field: f, Err: ErrRange}
	}
	if f := m.missing(); f != 0 {
		return &FieldError{Field: lowestBit(f), Err: ErrMissing}
	}
	return nil
}

func appendTLV(b []byte, typ uint8, n int) []byte {
	return binary.BigEndian.AppendUint16(b, uint16(typ)<<9|uint16(n))
}

// AppendBinary appends m's encoding to b: the command TLV, then one TLV
// per present field in type order. It does not append an End TLV; the
// end of the ULPDU (or ECP's zero padding) ends the message.
func (m *Message) AppendBinary(b []byte) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return b, err
	}
	b = appendTLV(b, tlvCommand, commandLen)
	var flags byte
	if m.Response {
		flags = flagResponse
	}
	b = append(b, Identifier[0], Identifier[1], Identifier[2], Identifier[3], framing, byte(m.Command), flags, byte(m.Reason))
	b = binary.BigEndian.AppendUint64(b, m.Session)
	b = binary.BigEndian.AppendUint32(b, m.TxID)
	b = binary.BigEndian.AppendUint16(b, uint16(m.Result))
	if m.Has(FieldCaps) {
		b = appendTLV(b, tlvCaps, 6)
		b = append(b, byte(m.Caps.Mode), 0)
		b = binary.BigEndian.AppendUint16(b, m.Caps.MaxVIFs)
		b = binary.BigEndian.AppendUint16(b, m.Caps.KeepaliveMS)
	}
	if m.Has(FieldPeerSession) {
		b = binary.BigEndian.AppendUint64(appendTLV(b, tlvPeerSession, 8), m.PeerSession)
	}
	if m.Has(FieldMAC) {
		b = append(appendTLV(b, tlvMAC, 6), m.MAC[:]...)
	}
	if m.Has(FieldProfile) {
		b = append(appendTLV(b, tlvProfile, len(m.Profile)), m.Profile...)
	}
	if m.Has(FieldInstance) {
		b = append(appendTLV(b, tlvInstance, 16), m.Instance[:]...)
	}
	if m.Has(FieldVLAN) {
		b = binary.BigEndian.AppendUint16(appendTLV(b, tlvVLAN, 2), m.VLAN)
	}
	if m.Has(FieldVIF) {
		if m.VIF <= MaxVIF {
			b = binary.BigEndian.AppendUint16(appendTLV(b, tlvVIF, 2), uint16(m.VIF))
		} else {
			b = binary.BigEndian.AppendUint32(appendTLV(b, tlvVIF, 4), uint32(m.VIF))
		}
	}
	if m.Has(FieldVEth) {
		b = binary.BigEndian.AppendUint32(appendTLV(b, tlvVEth, 4), m.VEth)
	}
	if m.Has(FieldLink) {
		var up byte
		if m.Up {
			up = 1
		}
		b = append(appendTLV(b, tlvLink, 1), up)
	}
	if m.Has(FieldEpoch) {
		b = binary.BigEndian.AppendUint32(appendTLV(b, tlvEpoch, 4), m.Epoch)
	}
	if m.Has(FieldVIFList) && !WideList(m.ListID, m.Members) {
		b = binary.BigEndian.AppendUint16(appendTLV(b, tlvVIFList, 2+2*len(m.Members)), uint16(m.ListID&vntag.MaxECID))
		for _, v := range m.Members {
			b = binary.BigEndian.AppendUint16(b, uint16(v))
		}
	}
	if m.Has(FieldVersion) {
		b = append(appendTLV(b, tlvVersion, 1), m.Version)
	}
	if m.Has(FieldVIFList) && WideList(m.ListID, m.Members) {
		b = append(appendTLV(b, tlvWideVIFList, 4+3*len(m.Members)), byte(m.ListID>>20), byte(m.ListID>>16&0x0F), byte(m.ListID>>8), byte(m.ListID))
		for _, v := range m.Members {
			b = append(b, byte(v>>16), byte(v>>8), byte(v))
		}
	}
	return b, nil
}

// MarshalBinary returns m's encoding.
func (m *Message) MarshalBinary() ([]byte, error) { return m.AppendBinary(nil) }

// UnmarshalBinary is Decode.
func (m *Message) UnmarshalBinary(b []byte) error { return Decode(b, m) }

// tlvs iterates over the TLVs of a message, mdlayher/netlink style: Next
// advances, Err holds the first error and stops the iteration for good.
type tlvs struct {
	b     []byte
	off   int // offset of the current TLV
	next  int
	typ   uint8
	value []byte
	err   error
}

func (d *tlvs) Next() bool {
	if d.err != nil {
		return false
	}
	d.off = d.next
	rest := d.b[d.off:]
	if len(rest) < 2 {
		// A lone trailing byte can only be Ethernet padding.
		if len(rest) == 1 && rest[0] != 0 {
			d.err = &DecodeError{Offset: d.off, Err: ErrShortBuffer}
		}
		return false
	}
	h := binary.BigEndian.Uint16(rest)
	d.typ, d.value = uint8(h>>9), nil
	if d.typ == tlvEnd {
		return false // End TLV, or the start of the padding
	}
	n := int(h & maxTLVLen)
	if 2+n > len(rest) {
		d.err = &DecodeError{Offset: d.off, Type: d.typ, Err: ErrShortBuffer}
		return false
	}
	d.value = rest[2 : 2+n]
	d.next = d.off + 2 + n
	return true
}

func (d *tlvs) fail(err error) {
	if d.err == nil {
		d.err = &DecodeError{Offset: d.off, Type: d.typ, Err: err}
	}
}

// fixed lengths of the known TLVs; 0 means variable.
var fixedLen = [tlvWideVIFList + 1]int{tlvCaps: 6, tlvPeerSession: 8, tlvMAC: 6, tlvInstance: 16, tlvVLAN: 2, tlvVEth: 4, tlvLink: 1, tlvEpoch: 4, tlvVersion: 1}

// Decode reads the vic message at the start of b (an ECP subtype-2
// ULPDU, padding allowed) into m, replacing what m held but reusing the
// storage of m.Profile and m.Members. It checks the command TLV, every
// TLV's length and range, duplicates, and that the TLVs the command needs
// are there; it skips TLVs of unknown types. Errors are *DecodeError
// values wrapping the package's sentinels. With a reused Message it does
// not allocate on valid input.
func Decode(b []byte, m *Message) error {
	profile, members := m.Profile[:0], m.Members[:0]
	*m = Message{Profile: profile, Members: members}
	d := tlvs{b: b}
	if !d.Next() {
		if d.err != nil {
			return d.err
		}
		return &DecodeError{Err: ErrNotVIC}
	}
	v := d.value
	if d.typ != tlvCommand || len(v) != commandLen || [4]byte(v[0:4]) != Identifier {
		return &DecodeError{Type: d.typ, Err: ErrNotVIC}
	}
	if v[4] != framing {
		return &DecodeError{Type: tlvCommand, Err: ErrVersion}
	}
	m.Command = Command(v[5])
	if m.Command < 1 || m.Command > maxCommand {
		return &DecodeError{Type: tlvCommand, Err: ErrCommand}
	}
	if v[6]&^flagResponse != 0 || Reason(v[7]) > maxReason {
		return &DecodeError{Type: tlvCommand, Err: ErrReserved}
	}
	m.Response, m.Reason = v[6]&flagResponse != 0, Reason(v[7])
	m.Session = binary.BigEndian.Uint64(v[8:])
	m.TxID = binary.BigEndian.Uint32(v[16:])
	m.Result = Result(binary.BigEndian.Uint16(v[20:]))

	for d.Next() {
		v := d.value
		if d.typ == tlvCommand {
			d.fail(ErrDuplicate)
			break
		}
		if d.typ > tlvWideVIFList {
			m.Unknown++
			continue
		}
		f := Field(1) << (d.typ - 1)
		if d.typ == tlvWideVIFList {
			f = FieldVIFList // one of TLV 11 and 13, not both
		}
		if m.Present&f != 0 {
			d.fail(ErrDuplicate)
			break
		}
		if n := fixedLen[d.typ]; n != 0 && len(v) != n {
			d.fail(ErrLength)
			break
		}
		m.Present |= f
		switch d.typ {
		case tlvCaps:
			if v[1] != 0 {
				d.fail(ErrReserved)
			}
			m.Caps = Capabilities{Mode: vntag.Mode(v[0]), MaxVIFs: binary.BigEndian.Uint16(v[2:]), KeepaliveMS: binary.BigEndian.Uint16(v[4:])}
		case tlvPeerSession:
			m.PeerSession = binary.BigEndian.Uint64(v)
		case tlvMAC:
			m.MAC = [6]byte(v)
		case tlvProfile:
			m.Profile = append(m.Profile, v...)
		case tlvInstance:
			m.Instance = UUID(v)
		case tlvVLAN:
			m.VLAN = binary.BigEndian.Uint16(v)
		case tlvVIF:
			switch len(v) {
			case 2:
				m.VIF = vntag.VIF(binary.BigEndian.Uint16(v))
			case 4:
				m.VIF = vntag.VIF(binary.BigEndian.Uint32(v))
			default:
				d.fail(ErrLength)
			}
		case tlvVEth:
			m.VEth = binary.BigEndian.Uint32(v)
		case tlvLink:
			if v[0] > 1 {
				d.fail(ErrRange)
			}
			m.Up = v[0] == 1
		case tlvEpoch:
			m.Epoch = binary.BigEndian.Uint32(v)
		case tlvVIFList:
			if len(v) < 2 || len(v)%2 != 0 {
				d.fail(ErrLength)
				break
			}
			m.ListID = uint32(binary.BigEndian.Uint16(v))
			for i := 2; i < len(v); i += 2 {
				m.Members = append(m.Members, vntag.VIF(binary.BigEndian.Uint16(v[i:])))
			}
		case tlvVersion:
			m.Version = v[0]
		case tlvWideVIFList:
			if len(v) < 4 || (len(v)-4)%3 != 0 {
				d.fail(ErrLength)
				break
			}
			if v[0] > vntag.MaxGRP || v[1] > 0x0F {
				d.fail(ErrRange)
				break
			}
			m.ListID = uint32(v[0])<<20 | uint32(v[1])<<16 | uint32(v[2])<<8 | uint32(v[3])
			for i := 4; i < len(v); i += 3 {
				m.Members = append(m.Members, vntag.VIF(v[i])<<16|vntag.VIF(v[i+1])<<8|vntag.VIF(v[i+2]))
			}
		}
		if f, ok := m.check(); !ok {
			d.typ = tlvOf(f)
			d.fail(ErrRange)
		}
	}
	if d.err != nil {
		return d.err
	}
	if f := m.missing(); f != 0 {
		return &DecodeError{Type: tlvOf(lowestBit(f)), Offset: len(b), Err: ErrMissing}
	}
	return nil
}
