package registry

import (
	"crypto/sha1"

	"github.com/nivkit/niv/vdp"
	"github.com/nivkit/niv/vic"
)

// vsiNamespace is the name space (RFC 9562 5.5) of VSIInstance's
// name-based UUIDs: bf640225-6463-5f42-abdf-def630ba04d9, the version-5
// UUID of the name "niv.vdp.vsiid" in the URL name space (RFC 9562 6.6).
var vsiNamespace = vic.UUID{0xbf, 0x64, 0x02, 0x25, 0x64, 0x63, 0x5f, 0x42, 0xab, 0xdf, 0xde, 0xf6, 0x30, 0xba, 0x04, 0xd9}

// VSIInstance is the registry's instance key of the vEth of a VSI
// associated over VDP (an evb port's), the same on every VIS of a fleet:
//
//   - a VSIID in UUID format (802.1Qbg 41.2.7, VSIID format 5: what
//     libvirt sends, the VM's instance UUID from
//     <virtualport type='802.1Qbg'><parameters instanceid='…'/>) is the
//     key itself, as a vic vNIC's instance UUID is, so a VM's vEth is one
//     record whichever way its VIS learnt it;
//   - any other format (IPv4, IPv6, MAC, local) is keyed by the name-based
//     UUID (RFC 9562 5.5, version 5: SHA-1) of the format byte followed
//     by the VSIID's 16 bytes, in niv's own name space. Deterministic, so
//     two VISes key the same VSI alike; the format byte keeps a MAC
//     VSIID apart from a local one of the same bytes; a version-5 UUID
//     never equals a random (version 4) instance UUID.
func VSIInstance(f vdp.VSIIDFormat, id vdp.VSIID) vic.UUID {
	if f == vdp.VSIIDUUID {
		return vic.UUID(id)
	}
	h := sha1.New()
	h.Write(vsiNamespace[:])
	h.Write([]byte{byte(f)})
	h.Write(id[:])
	var u vic.UUID
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	return u
}
