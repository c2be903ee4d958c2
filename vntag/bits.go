package vntag

// The fields of a VNTag as bits of its 32-bit word after the TPID
// (Tag.Word, TagFromWord), for code that checks or rewrites a tag in a
// wider word read straight from a frame: the 8 bytes from the TPID read
// big-endian hold the word shifted left by 16.
const (
	TagDirectionBit = 1 << 31          // d
	TagPointerBit   = 1 << 30          // p
	TagDVIFMask     = MaxDVIF << 16    // dvif_id
	TagLoopedBit    = 1 << 15          // l
	TagReservedBit  = 1 << 14          // r
	TagVersionMask  = MaxVersion << 12 // ver
	TagSVIFMask     = MaxSVIF          // svif_id
)

// The fields of an E-Tag as bits of its 48-bit E-TCI (ETag.TCI,
// ETagFromWord): the 8 bytes from the TPID read big-endian hold the E-TCI
// in their low 48 bits.
const (
	ETCIPCPMask             = MaxPCP << 45          // E-PCP
	ETCIDEIBit              = 1 << 44               // E-DEI
	ETCIIngressECIDBaseMask = MaxECIDBase << 32     // Ingress_E-CID_base
	ETCIReservedMask        = MaxETagReserved << 30 // Re-
	ETCIGRPMask             = MaxGRP << 28          // GRP
	ETCIECIDBaseMask        = MaxECIDBase << 16     // E-CID_base
	ETCIIngressECIDExtMask  = 0xff << 8             // Ingress_E-CID_ext
	ETCIECIDExtMask         = 0xff                  // E-CID_ext
)
