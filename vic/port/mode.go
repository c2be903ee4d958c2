package port

// TagMode is the tag a link between an interface virtualizer and its
// switch carries.
type TagMode uint8

const (
	// VNTag is Cisco's VNTag (EtherType 0x8926): svif_id names the source
	// vif upstream, dvif_id the destination vif or vif list downstream.
	VNTag TagMode = iota
	// ETag is the IEEE 802.1BR E-Tag (EtherType 0x893F): the E-CID names
	// the extended port, GRP > 0 a multicast E-channel, Ingress_E-CID the
	// port to prune.
	ETag
)

// String returns "VNTag" or "E-Tag".
func (m TagMode) String() string {
	if m == ETag {
		return "E-Tag"
	}
	return "VNTag"
}
