package vdp

import (
	"encoding/binary"
	"net/netip"
	"strconv"
)

// VSI TLV value (802.1Qbg 41.2.2; types 1–4):
//
//	offset size field
//	     0    1 status
//	     1    3 VSI Type ID (big-endian)
//	     4    1 VSI Type Version
//	     5    1 VSIID format
//	     6   16 VSIID
//	    22    1 filter info format
//	    23    2 number of entries N (big-endian)
//	    25  N×s filter entries (s = 2, 8, 6 or 12 by format)
//
// Each entry ends in the PS/PCP/VID word:
//
//	 0                   1
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|PS | PCP |         VID         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	offStatus       = 0
	offTypeID       = 1
	offTypeVersion  = 4
	offIDFormat     = 5
	offID           = 6
	offFilterFormat = 22
	offCount        = 23
	// VSIFixedLen is the length of a VSI TLV value before its filter
	// entries; a VSI TLV's length is VSIFixedLen + N × entry size.
	VSIFixedLen = 25
	// ManagerIDLen is the length of the VSI Manager ID.
	ManagerIDLen = 16
	// VSIIDLen is the length of a VSIID, whatever its format.
	VSIIDLen = 16
	// MaxTypeID is the largest 24-bit VSI Type ID.
	MaxTypeID = 1<<24 - 1
	// MaxVID is the largest VID of a filter entry (4095 is reserved).
	MaxVID = 4094

	maskPS   = 0x8000
	shiftPCP = 12
	maskPCP  = 0x7000
	maskVID  = 0x0FFF
)

// ManagerID is the 16-byte VSI Manager ID (TLV type 5). vdptool puts up
// to 15 ASCII characters there, zero padded ("mgrid2=blabla"), or a UUID;
// lldpad puts libvirt's one-byte manager id in byte 0. tshark shows it as
// an IPv6 address (vdp21.manager_id).
type ManagerID [ManagerIDLen]byte

// ManagerIDFromString returns s (at most 16 bytes) zero padded, as
// vdptool encodes a name; longer strings are cut.
func ManagerIDFromString(s string) ManagerID {
	var m ManagerID
	copy(m[:], s)
	return m
}

// Status is the status byte that starts a VSI TLV (802.1Qbg 41.2.3):
//
//	bit 7     reserved
//	bit 6     response (0 in a request, 1 in the bridge's response)
//	bit 5     request: S, "migrating from" hint; response: Keep
//	bit 4     request: M, "migrating to" hint;   response: Hard error
//	bits 3..0 error code in a response (tshark: "Reason" in a request)
type Status uint8

const (
	// StatusResponse marks a bridge's response (tshark req_rsp).
	StatusResponse Status = 0x40
	// StatusKeep: in a response, the request was refused and the state
	// from before it stays.
	StatusKeep Status = 0x20
	// StatusHardError: in a response, the error is not transient.
	StatusHardError Status = 0x10
	// StatusMigrateFrom is the S bit of a request: the VSI is moving away
	// from this station (vdptool hints=from).
	StatusMigrateFrom Status = 0x20
	// StatusMigrateTo is the M bit of a request: the VSI is moving to
	// this station (vdptool hints=to).
	StatusMigrateTo Status = 0x10
	maskCode        Status = 0x0F
	maskReserved    Status = 0x80
)

// Response reports bit 6, set in a bridge's response.
func (s Status) Response() bool { return s&StatusResponse != 0 }

// Keep reports the Keep bit (responses).
func (s Status) Keep() bool { return s&StatusKeep != 0 }

// HardError reports the Hard error bit (responses).
func (s Status) HardError() bool { return s&StatusHardError != 0 }

// MigrateFrom reports the S bit (requests).
func (s Status) MigrateFrom() bool { return s&StatusMigrateFrom != 0 }

// MigrateTo reports the M bit (requests).
func (s Status) MigrateTo() bool { return s&StatusMigrateTo != 0 }

// Code returns the error code in bits 3..0.
func (s Status) Code() ErrorCode { return ErrorCode(s & maskCode) }

// ResponseStatus returns the status of a response with code c, with the
// Keep and Hard error bits as given.
func ResponseStatus(c ErrorCode, keep, hard bool) Status {
	s := StatusResponse | Status(c)&maskCode
	if keep {
		s |= StatusKeep
	}
	if hard {
		s |= StatusHardError
	}
	return s
}

// ErrorCode is the 4-bit error code of a response (802.1Qbg 41.2.3;
// lldpad vdp22_cmdresp and Wireshark agree on 0–5; 6–15 are unused).
type ErrorCode uint8

const (
	CodeSuccess               ErrorCode = 0
	CodeInvalidFormat         ErrorCode = 1
	CodeInsufficientResources ErrorCode = 2
	CodeNoVSIManager          ErrorCode = 3
	CodeOtherFailure          ErrorCode = 4
	CodeInvalidFilter         ErrorCode = 5
)

// String returns the text lldpad prints for the code ("Insufficient
// resources at bridge" …).
func (c ErrorCode) String() string {
	switch c {
	case CodeSuccess:
		return "Success"
	case CodeInvalidFormat:
		return "Invalid format"
	case CodeInsufficientResources:
		return "Insufficient resources at bridge"
	case CodeNoVSIManager:
		return "Unable to contact VSI manager"
	case CodeOtherFailure:
		return "Other failure"
	case CodeInvalidFilter:
		return "Invalid VID, GroupID or MAC address"
	}
	return "code(" + strconv.FormatUint(uint64(c), 10) + ")"
}

// VSIIDFormat is the VSIID format byte (802.1Qbg 41.2.6, Table 41-3).
type VSIIDFormat uint8

const (
	VSIIDIPv4  VSIIDFormat = 1
	VSIIDIPv6  VSIIDFormat = 2
	VSIIDMAC   VSIIDFormat = 3
	VSIIDLocal VSIIDFormat = 4
	// VSIIDUUID is what vdptool and libvirt always use.
	VSIIDUUID VSIIDFormat = 5
)

func (f VSIIDFormat) String() string {
	switch f {
	case VSIIDIPv4:
		return "IPv4"
	case VSIIDIPv6:
		return "IPv6"
	case VSIIDMAC:
		return "MAC"
	case VSIIDLocal:
		return "local"
	case VSIIDUUID:
		return "UUID"
	}
	return "format(" + strconv.FormatUint(uint64(f), 10) + ")"
}

// VSIID is the 16-byte VSI instance identifier; its format byte says how
// to read it.
type VSIID [VSIIDLen]byte

// VSIIDFromAddr returns the VSIID of an IPv4 address (IPv4-mapped, format
// VSIIDIPv4) or an IPv6 address (format VSIIDIPv6), and its format.
func VSIIDFromAddr(a netip.Addr) (VSIID, VSIIDFormat) {
	if a.Is4() {
		return VSIID(netip.AddrFrom16(a.As16()).As16()), VSIIDIPv4
	}
	return VSIID(a.As16()), VSIIDIPv6
}

// VSIIDFromMAC returns the VSIID of a MAC address (format VSIIDMAC): 10
// zero bytes then the MAC.
func VSIIDFromMAC(mac [6]byte) VSIID {
	var id VSIID
	copy(id[10:], mac[:])
	return id
}

// Addr returns the address of an IPv4 or IPv6 VSIID.
func (id VSIID) Addr(f VSIIDFormat) (netip.Addr, bool) {
	switch f {
	case VSIIDIPv4:
		a := netip.AddrFrom16(id)
		return a.Unmap(), a.Is4In6()
	case VSIIDIPv6:
		return netip.AddrFrom16(id), true
	}
	return netip.Addr{}, false
}

// MAC returns the MAC address of a MAC VSIID.
func (id VSIID) MAC() [6]byte { return [6]byte(id[10:]) }

// Check reports whether id is valid for format f, by lldpad's rules (see
// ErrVSIID); it returns ErrFormat for an unknown format.
func (id VSIID) Check(f VSIIDFormat) error {
	zero := id == VSIID{}
	switch f {
	case VSIIDIPv4:
		a := netip.AddrFrom16(id)
		if !a.Is4In6() || a.Unmap().IsUnspecified() {
			return ErrVSIID
		}
	case VSIIDIPv6, VSIIDUUID:
		if zero {
			return ErrVSIID
		}
	case VSIIDMAC:
		if [10]byte(id[:10]) != ([10]byte{}) || !validMAC(id.MAC()) {
			return ErrVSIID
		}
	case VSIIDLocal:
	default:
		return ErrFormat
	}
	return nil
}

func validMAC(m [6]byte) bool { return m != [6]byte{} && m[0]&1 == 0 }

// FilterFormat is the filter info format byte (802.1Qbg 41.2.8,
// Table 41-4). All entries of one VSI TLV have the same format.
type FilterFormat uint8

const (
	// FilterVID: PS/PCP/VID (2 bytes per entry).
	FilterVID FilterFormat = 1
	// FilterMACVID: MAC, PS/PCP/VID (8 bytes).
	FilterMACVID FilterFormat = 2
	// FilterGroupVID: GroupID, PS/PCP/VID (6 bytes).
	FilterGroupVID FilterFormat = 3
	// FilterGroupMACVID: GroupID, MAC, PS/PCP/VID (12 bytes).
	FilterGroupMACVID FilterFormat = 4
)

// EntryLen returns the size of one entry of the format, 0 for an unknown
// format.
func (f FilterFormat) EntryLen() int {
	switch f {
	case FilterVID:
		return 2
	case FilterMACVID:
		return 8
	case FilterGroupVID:
		return 6
	case FilterGroupMACVID:
		return 12
	}
	return 0
}

// HasMAC reports whether entries of the format carry a MAC address.
func (f FilterFormat) HasMAC() bool { return f == FilterMACVID || f == FilterGroupMACVID }

// HasGroup reports whether entries of the format carry a GroupID.
func (f FilterFormat) HasGroup() bool { return f == FilterGroupVID || f == FilterGroupMACVID }

// String returns tshark's name of the format ("VID", "MAC/VID",
// "GroupID/VID", "GroupID/MAC/VID").
func (f FilterFormat) String() string {
	switch f {
	case FilterVID:
		return "VID"
	case FilterMACVID:
		return "MAC/VID"
	case FilterGroupVID:
		return "GroupID/VID"
	case FilterGroupMACVID:
		return "GroupID/MAC/VID"
	}
	return "format(" + strconv.FormatUint(uint64(f), 10) + ")"
}

// Filter is one filter info entry. Which fields travel depends on the
// VSI's FilterFormat: GroupID in formats 3 and 4, MAC in 2 and 4; the
// PS/PCP/VID word in all.
type Filter struct {
	// GroupID is the 32-bit group identifier (non-zero; usable only when
	// both EVB TLVs advertise group-ID support).
	GroupID uint32
	// MAC is the VSI's MAC address.
	MAC [6]byte
	// PS says PCP is significant.
	PS bool
	// PCP is the 3-bit priority.
	PCP uint8
	// VID is the 12-bit VLAN ID; 0 in a request is the wildcard the
	// bridge fills in its response.
	VID uint16
}

// Word returns the entry's PS/PCP/VID word (vdptool's "VID" number:
// 0xb064 is PS 1, PCP 3, VID 100).
func (f Filter) Word() uint16 {
	w := uint16(f.PCP&7)<<shiftPCP | f.VID&maskVID
	if f.PS {
		w |= maskPS
	}
	return w
}

// SetWord sets PS, PCP and VID from a PS/PCP/VID word.
func (f *Filter) SetWord(w uint16) {
	f.PS, f.PCP, f.VID = w&maskPS != 0, uint8(w&maskPCP>>shiftPCP), w&maskVID
}

// Wildcard reports whether the entry's VID is 0, the bridge's to choose.
func (f Filter) Wildcard() bool { return f.VID == 0 }

// VSI is the value of a VSI TLV, types 1–4 (802.1Qbg 41.2.2).
type VSI struct {
	// Mode is the TLV type: TypePreAssociate, TypePreAssociateRR,
	// TypeAssociate or TypeDeAssociate (vdptool's "mode").
	Mode TLVType
	// Status is the status byte.
	Status Status
	// TypeID is the 24-bit VSI Type ID, which selects the VSI's network
	// configuration at the bridge.
	TypeID uint32
	// TypeVersion is the VSI Type Version.
	TypeVersion uint8
	// IDFormat says how to read ID.
	IDFormat VSIIDFormat
	// ID is the VSIID.
	ID VSIID
	// FilterFormat is the format of every entry in Filters.
	FilterFormat FilterFormat
	// Filters are the filter info entries (at least one).
	Filters []Filter
	// Org holds the organizationally defined TLVs that followed this VSI
	// TLV in the VDPDU (their Data aliases it), and that AppendBinary
	// writes after it.
	Org []Org
}

// Len returns the length of the VSI TLV's value.
func (v *VSI) Len() int { return VSIFixedLen + len(v.Filters)*v.FilterFormat.EntryLen() }

func (v *VSI) decode(t TLVType, b []byte) error {
	v.Mode = t
	v.Filters, v.Org = v.Filters[:0], v.Org[:0]
	if len(b) < VSIFixedLen {
		return ErrLength
	}
	v.Status = Status(b[offStatus])
	v.TypeID = uint32(b[offTypeID])<<16 | uint32(b[offTypeID+1])<<8 | uint32(b[offTypeID+2])
	v.TypeVersion = b[offTypeVersion]
	v.IDFormat = VSIIDFormat(b[offIDFormat])
	v.ID = VSIID(b[offID : offID+VSIIDLen])
	v.FilterFormat = FilterFormat(b[offFilterFormat])
	n := int(binary.BigEndian.Uint16(b[offCount:]))
	size := v.FilterFormat.EntryLen()
	switch {
	case v.IDFormat < VSIIDIPv4 || v.IDFormat > VSIIDUUID || size == 0:
		return ErrFormat
	case n == 0:
		return ErrNoFilters
	case len(b) != VSIFixedLen+n*size:
		return ErrLength
	}
	for e := b[VSIFixedLen:]; len(e) > 0; e = e[size:] {
		var f Filter
		i := 0
		if v.FilterFormat.HasGroup() {
			f.GroupID = binary.BigEndian.Uint32(e)
			i = 4
		}
		if v.FilterFormat.HasMAC() {
			f.MAC = [6]byte(e[i:])
			i += 6
		}
		f.SetWord(binary.BigEndian.Uint16(e[i:]))
		v.Filters = append(v.Filters, f)
	}
	return nil
}

// Check reports whether v is a VSI TLV lldpad accepts: a VSI mode, a
// known VSIID format with a valid VSIID (ErrVSIID), a known filter format
// (ErrFormat), at least one entry (ErrNoFilters), and entries that are
// valid for the format (ErrFilter: VID ≤ 4094, a unicast non-zero MAC, a
// non-zero GroupID, a VID 0 wildcard alone in a VID-format TLV). The
// reserved status bit must be clear (ErrRange).
func (v *VSI) Check() error {
	if !v.Mode.IsVSI() {
		return ErrType
	}
	if v.Status&maskReserved != 0 {
		return ErrRange
	}
	if err := v.ID.Check(v.IDFormat); err != nil {
		return err
	}
	if v.FilterFormat.EntryLen() == 0 {
		return ErrFormat
	}
	if len(v.Filters) == 0 {
		return ErrNoFilters
	}
	for _, f := range v.Filters {
		switch {
		case f.VID > MaxVID,
			v.FilterFormat.HasMAC() && !validMAC(f.MAC),
			v.FilterFormat.HasGroup() && f.GroupID == 0,
			v.FilterFormat == FilterVID && f.VID == 0 && len(v.Filters) > 1:
			return ErrFilter
		}
	}
	return nil
}

// AppendBinary appends the VSI TLV (header and value) and then its Org
// TLVs to b. It checks only what the wire cannot carry (ErrRange: Type ID
// over 24 bits, PCP over 7, VID over 4095, a value over 511 bytes;
// ErrFormat: an unknown filter format); Check says whether a peer will
// accept the TLV.
func (v *VSI) AppendBinary(b []byte) ([]byte, error) {
	if !v.Mode.IsVSI() {
		return b, ErrType
	}
	if v.TypeID > MaxTypeID {
		return b, &FieldError{Field: "VSI Type ID", Value: uint64(v.TypeID), Err: ErrRange}
	}
	size := v.FilterFormat.EntryLen()
	if size == 0 {
		return b, ErrFormat
	}
	for _, f := range v.Filters {
		if f.PCP > 7 {
			return b, &FieldError{Field: "PCP", Value: uint64(f.PCP), Err: ErrRange}
		}
		if f.VID > maskVID {
			return b, &FieldError{Field: "VID", Value: uint64(f.VID), Err: ErrRange}
		}
	}
	if len(v.Filters) > 0xFFFF {
		return b, &FieldError{Field: "filter entries", Value: uint64(len(v.Filters)), Err: ErrRange}
	}
	start := len(b)
	b, err := appendTLVHeader(b, v.Mode, v.Len())
	if err != nil {
		return b, err
	}
	b = append(b, byte(v.Status), byte(v.TypeID>>16), byte(v.TypeID>>8), byte(v.TypeID), v.TypeVersion, byte(v.IDFormat))
	b = append(b, v.ID[:]...)
	b = append(b, byte(v.FilterFormat), byte(len(v.Filters)>>8), byte(len(v.Filters)))
	for _, f := range v.Filters {
		if v.FilterFormat.HasGroup() {
			b = binary.BigEndian.AppendUint32(b, f.GroupID)
		}
		if v.FilterFormat.HasMAC() {
			b = append(b, f.MAC[:]...)
		}
		b = binary.BigEndian.AppendUint16(b, f.Word())
	}
	for i := range v.Org {
		if b, err = v.Org[i].AppendBinary(b); err != nil {
			return b[:start], err
		}
	}
	return b, nil
}

// Same reports whether v and w name the same VSI the way lldpad matches a
// response to its request: same Type ID, Type Version, VSIID format,
// VSIID and filter format, and entry by entry the same MAC (formats 2,
// 4), GroupID (3, 4), VID where v's VID is not the wildcard, and the
// whole PS/PCP/VID word where v's PS bit is set. v is the request.
func (v *VSI) Same(w *VSI) bool {
	if v.TypeID != w.TypeID || v.TypeVersion != w.TypeVersion || v.IDFormat != w.IDFormat ||
		v.ID != w.ID || v.FilterFormat != w.FilterFormat || len(v.Filters) != len(w.Filters) {
		return false
	}
	for i, f := range v.Filters {
		g := w.Filters[i]
		switch {
		case v.FilterFormat.HasMAC() && f.MAC != g.MAC,
			v.FilterFormat.HasGroup() && f.GroupID != g.GroupID,
			f.VID != 0 && f.VID != g.VID,
			f.PS && f.Word() != g.Word():
			return false
		}
	}
	return true
}
