package evb

// CDCP TLV value (802.1Qbg clause 42; layout as tcpdump's print-lldp.c
// decodes it, the oracle this package is tested against):
//
//	00 80 c2 0e | Role:1 res:3 SComp:1 res:3 | res:8 | res:4 ChnCap:12 | (SCID:12 SVID:12) …
//
// Role and SComp are single bits that tcpdump prints by name without
// interpreting them; ChnCap is the number of S-channels the sender
// supports; each 3-byte entry maps an S-channel ID to the S-VID that
// carries it (SCID 1 is the default channel, whose S-VID is 1).
const (
	// CDCPSubtype is the CDCP TLV's IEEE 802.1 subtype.
	CDCPSubtype = 0x0E
	// CDCPMinLen is the value length without channel entries (tcpdump's
	// LLDP_PRIVATE_8021_SUBTYPE_CDCP_MIN_LENGTH).
	CDCPMinLen = 8
	// CDCPEntryLen is the length of one SCID/SVID entry.
	CDCPEntryLen = 3
	// MaxCDCPEntries is how many entries fit the 9-bit LLDP length.
	MaxCDCPEntries = (511 - CDCPMinLen) / CDCPEntryLen

	bitRole  = 0x80
	bitSComp = 0x08
	mask12   = 0x0FFF
)

// Channel is one S-channel of a CDCP TLV.
type Channel struct {
	// SCID is the 12-bit S-channel ID.
	SCID uint16
	// SVID is the 12-bit S-VLAN ID carrying it.
	SVID uint16
}

// CDCP is the CDCP TLV. Entries aliases the parsed value; use Channel to
// read them without allocating.
type CDCP struct {
	Role  bool
	SComp bool
	// ChnCap is the 12-bit channel capacity.
	ChnCap uint16
	// Entries is the raw SCID/SVID list, CDCPEntryLen bytes per channel.
	Entries []byte
}

// ParseCDCP reads a CDCP TLV value (from the OUI on). It fails with
// ErrShortBuffer, ErrOUI or ErrLength (a list not a multiple of 3 bytes,
// which tcpdump shows as a hex dump).
func ParseCDCP(v []byte) (CDCP, error) {
	if len(v) < CDCPMinLen {
		return CDCP{}, ErrShortBuffer
	}
	if [3]byte(v) != OUI8021 || v[3] != CDCPSubtype {
		return CDCP{}, ErrOUI
	}
	if (len(v)-CDCPMinLen)%CDCPEntryLen != 0 {
		return CDCP{}, ErrLength
	}
	return CDCP{Role: v[4]&bitRole != 0, SComp: v[4]&bitSComp != 0,
		ChnCap: (uint16(v[6])<<8 | uint16(v[7])) & mask12, Entries: v[CDCPMinLen:]}, nil
}

// Len returns the number of channel entries.
func (c CDCP) Len() int { return len(c.Entries) / CDCPEntryLen }

// Channel returns entry i (0 ≤ i < Len).
func (c CDCP) Channel(i int) Channel {
	e := c.Entries[i*CDCPEntryLen:]
	w := uint32(e[0])<<16 | uint32(e[1])<<8 | uint32(e[2])
	return Channel{SCID: uint16(w >> 12), SVID: uint16(w & mask12)}
}

// AppendCDCP appends a whole CDCP LLDP TLV with the given channels. It
// fails with ErrRange when ChnCap, a SCID or a SVID exceeds 12 bits or
// there are more than MaxCDCPEntries channels; Entries is ignored.
func (c CDCP) AppendCDCP(b []byte, chans []Channel) ([]byte, error) {
	if c.ChnCap > mask12 || len(chans) > MaxCDCPEntries {
		return b, ErrRange
	}
	for _, ch := range chans {
		if ch.SCID > mask12 || ch.SVID > mask12 {
			return b, ErrRange
		}
	}
	n := CDCPMinLen + CDCPEntryLen*len(chans)
	b = append(b, 0xFE|byte(n>>8), byte(n), OUI8021[0], OUI8021[1], OUI8021[2], CDCPSubtype,
		bit(c.Role, bitRole)|bit(c.SComp, bitSComp), 0, byte(c.ChnCap>>8), byte(c.ChnCap))
	for _, ch := range chans {
		w := uint32(ch.SCID)<<12 | uint32(ch.SVID)
		b = append(b, byte(w>>16), byte(w>>8), byte(w))
	}
	return b, nil
}
