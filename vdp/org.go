package vdp

// OUILen is the length of the OUI that starts an organizationally
// defined TLV.
const OUILen = 3

// Org is an organizationally defined TLV (type 127, 802.1Qbg 41.2.9): an
// OUI and bytes whose meaning the organization defines. The codec keeps
// such TLVs as they came and writes them back unchanged, so a bridge can
// echo a station's org TLVs in its response. Data aliases the VDPDU it
// was decoded from.
type Org struct {
	OUI  [3]byte
	Data []byte
}

// AppendBinary appends the TLV (header, OUI, data) to b.
func (o *Org) AppendBinary(b []byte) ([]byte, error) {
	b, err := appendTLVHeader(b, TypeOrg, OUILen+len(o.Data))
	if err != nil {
		return b, err
	}
	b = append(b, o.OUI[:]...)
	return append(b, o.Data...), nil
}

// niv's organizationally defined TLV: a port-profile name.
//
// niv has no IEEE-assigned OUI. It uses NivOUI, 0A-6E-76, which is in the
// CID (company ID) space: the second-least significant bit of the first
// octet (X, "locally administered") is set and the Y/Z bits are 0/1, so
// no IEEE-assigned OUI can collide with it. The TLV is
//
//	type 127 | length | OUI 0a 6e 76 | subtype 0x01 | name (1–39 bytes, UTF-8, no NUL)
//
// A station that sends it names the port profile its VSI wants (as
// 802.1Qbh's IFLA_PORT_PROFILE does, whose limit of 40 bytes with the NUL
// gives the 39); niv's bridge then picks the profile by name instead of
// by VSI Type ID and version. Other bridges skip it as an unknown
// organization's TLV; lldpad's bridge echoes it.
var NivOUI = [3]byte{0x0A, 0x6E, 0x76}

const (
	// NivSubtypeProfile is the subtype of niv's port-profile name TLV.
	NivSubtypeProfile = 0x01
	// MaxProfileName is the longest port-profile name the TLV carries.
	MaxProfileName = 39
)

// ProfileOrg returns niv's port-profile TLV for name; its Data is newly
// allocated. It fails with ErrRange for an empty name, a name longer than
// MaxProfileName or one holding a NUL byte.
func ProfileOrg(name string) (Org, error) {
	if err := checkProfile(name); err != nil {
		return Org{}, err
	}
	return Org{OUI: NivOUI, Data: append([]byte{NivSubtypeProfile}, name...)}, nil
}

func checkProfile[T string | []byte](name T) error {
	if len(name) == 0 || len(name) > MaxProfileName {
		return &FieldError{Field: "profile name length", Value: uint64(len(name)), Err: ErrRange}
	}
	for i := 0; i < len(name); i++ {
		if name[i] == 0 {
			return &FieldError{Field: "profile name NUL at", Value: uint64(i), Err: ErrRange}
		}
	}
	return nil
}

// Profile returns the port-profile name o carries, aliasing o.Data, and
// whether o is niv's port-profile TLV with a valid name.
func (o Org) Profile() ([]byte, bool) {
	if o.OUI != NivOUI || len(o.Data) < 1 || o.Data[0] != NivSubtypeProfile {
		return nil, false
	}
	name := o.Data[1:]
	if checkProfile(name) != nil {
		return nil, false
	}
	return name, true
}

// Profile returns the port-profile name of v's first niv port-profile
// TLV, aliasing the VDPDU, and whether there is one.
func (v *VSI) Profile() ([]byte, bool) {
	for _, o := range v.Org {
		if name, ok := o.Profile(); ok {
			return name, true
		}
	}
	return nil, false
}
