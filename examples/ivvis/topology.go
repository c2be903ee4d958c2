package main

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

// vm is one virtual machine of the demo.
type vm struct {
	name    string
	mac     net.HardwareAddr
	ip      netip.Addr
	veth    profile.VEthID
	vif     vntag.VIF
	profile string
}

// vms are the demo's VMs: A and B in VLAN 10 (port-profile web), C in
// VLAN 20 (port-profile db), all behind the one IV.
var vms = []vm{
	{"A", net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x0a}, netip.MustParseAddr("10.77.0.1"), 1, 1, "web"},
	{"B", net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x0b}, netip.MustParseAddr("10.77.0.2"), 2, 2, "web"},
	{"C", net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x0c}, netip.MustParseAddr("10.77.0.3"), 3, 3, "db"},
}

const profiles = `
port-profile web
  switchport mode access
  switchport access vlan 10
  state enabled
port-profile db
  switchport mode access
  switchport access vlan 20
  state enabled
`

// pair is an IV and a VIS wired as in the demo: the IV's uplink A is the
// VIS's port 0; VM i is the IV's port iv.FirstVNIC+i.
type pair struct {
	mode  vntag.Mode
	store *profile.MemStore
	iv    *iv.IV
	vis   *vis.VIS
}

func newPair(mode vntag.Mode, n int) (*pair, error) {
	p := &pair{mode: mode, store: profile.NewMemStore(), iv: iv.New(iv.Config{Mode: mode})}
	_, err := p.store.Update(func(tx *profile.Txn) error {
		for _, v := range vms[:n] {
			tx.Bind(v.veth, v.profile)
		}
		return tx.Configure(profiles)
	})
	if err != nil {
		return nil, err
	}
	if p.vis, err = vis.New(vis.Config{Store: p.store}); err != nil {
		return nil, err
	}
	// A single link: fabric B is not cabled.
	if err := p.iv.SetUplinkUp(iv.UplinkB, false); err != nil {
		return nil, err
	}
	ivPort, err := p.vis.AddIVPort("iv0", mode, p.iv)
	if err != nil {
		return nil, err
	}
	for i, v := range vms[:n] {
		pn, err := p.iv.AddVNIC(iv.VNICConfig{VIF: v.vif})
		if err != nil {
			return nil, err
		}
		if pn != iv.FirstVNIC+i {
			return nil, fmt.Errorf("vNIC %s got port %d", v.name, pn)
		}
		if err := p.vis.AddVEth(v.veth, ivPort, v.vif); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// counters renders both sides' counters for the VMs.
func (p *pair) counters(n int) string {
	var b strings.Builder
	b.WriteString("IV counters (per VIF; rx = from the vNIC, tx = to it):\n")
	for _, v := range vms[:n] {
		c, _ := p.iv.Counters(v.vif)
		fmt.Fprintf(&b, "  VIF %d (VM %s): %v\n", v.vif, v.name, c)
	}
	fmt.Fprintf(&b, "  uplink A: %v\n", p.iv.UplinkCounters(iv.UplinkA))
	b.WriteString("\nVIS, show interface:\n")
	for _, v := range vms[:n] {
		s, _ := p.vis.ShowInterface(v.veth)
		b.WriteString(indent(s))
	}
	return b.String()
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ") + "\n"
}

// describeTag explains the NIV tag of a frame on the link.
func describeTag(b []byte) string {
	kind, off, err := vntag.FindTag(b)
	if err != nil {
		return "no NIV tag"
	}
	if kind == vntag.KindETag {
		e := vntag.ETagHeader(b[off : off+vntag.ETagHeaderLen]).ETag()
		switch {
		case e.Multicast() && e.IngressECID() != 0:
			return fmt.Sprintf("E-Tag GRP=%d E-CID=%d Ingress_E-CID=%d  (flood to a multicast E-channel, the PE prunes E-CID %d)",
				e.GRP(), e.ECID(), e.IngressECID(), e.IngressECID())
		case e.Multicast():
			return fmt.Sprintf("E-Tag GRP=%d E-CID=%d  (flood to a multicast E-channel)", e.GRP(), e.ECID())
		default:
			return fmt.Sprintf("E-Tag E-CID=%d", e.ECID())
		}
	}
	t := vntag.TagHeader(b[off : off+vntag.TagHeaderLen]).Tag()
	switch {
	case t.Direction() == vntag.ToBridge:
		return fmt.Sprintf("VNTag d=0 svif=%d", t.SVIF())
	case t.Pointer() && t.Looped():
		return fmt.Sprintf("VNTag d=1 p=1 vif_list=%d l=1 svif=%d  (flood to a vif list, the IV prunes vif %d)", t.DVIF(), t.SVIF(), t.SVIF())
	case t.Pointer():
		return fmt.Sprintf("VNTag d=1 p=1 vif_list=%d  (flood to a vif list)", t.DVIF())
	default:
		return fmt.Sprintf("VNTag d=1 dvif=%d", t.DVIF())
	}
}
