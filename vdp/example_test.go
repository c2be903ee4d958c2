package vdp_test

import (
	"fmt"
	"time"

	"github.com/nivkit/niv/vdp"
)

// Decoding lldpad's Associate request (vdp-ecp.md example L1) and turning
// it into the bridge's response.
func ExamplePDU_Decode() {
	req := []byte{
		0x0a, 0x10, 'b', 'l', 'a', 'b', 'l', 'a', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0x06, 0x21, 0x00, 0x00, 0x00, 0x05, 0x04, 0x05,
		0xa1, 0x41, 0x28, 0x57, 0x60, 0xf7, 0x4c, 0xe1, 0xe9, 0x5a, 0x21, 0x64, 0x94, 0x3f, 0x53, 0xaa,
		0x02, 0x00, 0x01, 0x52, 0x54, 0x00, 0x8e, 0xaa, 0x11, 0x00, 0x64,
		0, 0, 0, 0, // Ethernet padding
	}
	var p vdp.PDU
	if err := p.Decode(req); err != nil {
		panic(err)
	}
	v := &p.VSIs[0]
	f := v.Filters[0]
	fmt.Printf("%v type %d v%d %v %x filter %v %x vid %d\n", v.Mode, v.TypeID, v.TypeVersion, v.IDFormat, v.ID[:4], v.FilterFormat, f.MAC, f.VID)
	p.Response(vdp.ResponseStatus(vdp.CodeSuccess, false, false))
	resp, _ := p.AppendBinary(nil)
	fmt.Printf("response status %#02x, %d bytes\n", resp[20], len(resp))
	// Output:
	// Associate type 5 v4 UUID a1412857 filter MAC/VID 5254008eaa11 vid 100
	// response status 0x40, 53 bytes
}

// Walking the TLVs with the Decoder, as a bridge does to find the VSI
// TLV without decoding the rest.
func ExampleDecoder() {
	b := []byte{0x0a, 0x10, 'x', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xfe, 0x08, 0x0a, 0x6e, 0x76, 0x01, 'g', 'o', 'l', 'd'}
	d := vdp.NewDecoder(b)
	for d.Next() {
		switch d.Type() {
		case vdp.TypeManagerID:
			id := d.ManagerID()
			fmt.Printf("manager %q\n", id[:1])
		case vdp.TypeOrg:
			name, ok := d.Org().Profile()
			fmt.Println("profile", string(name), ok)
		}
	}
	fmt.Println(d.Err())
	// Output:
	// manager "x"
	// profile gold true
	// <nil>
}

// A station and a bridge machine exchanging one association directly (a
// driver would carry the VDPDUs over ECP): the bridge fills the wildcard
// VID.
func ExampleBridge() {
	now := time.Unix(0, 0)
	st := vdp.NewStation(vdp.StationConfig{})
	br := vdp.NewBridge(vdp.BridgeConfig{Ports: 1, Decider: vdp.AdmitAll(100)})
	req := &vdp.VSI{Mode: vdp.TypeAssociate, TypeID: 5, TypeVersion: 4, IDFormat: vdp.VSIIDMAC,
		ID: vdp.VSIIDFromMAC([6]byte{0x52, 0x54, 0, 1, 2, 3}), FilterFormat: vdp.FilterMACVID,
		Filters: []vdp.Filter{{MAC: [6]byte{0x52, 0x54, 0, 1, 2, 3}}}}
	for _, a := range st.Handle(vdp.Event{Kind: vdp.EvRequest, ManagerID: vdp.ManagerIDFromString("mgr"), VSI: req}, now) {
		for _, b := range br.Handle(vdp.Event{Kind: vdp.EvPDU, Port: 0, PDU: a.PDU}, now) {
			switch b.Kind {
			case vdp.ActState:
				fmt.Printf("bridge: port %d %v vid %d\n", b.Port, b.Mode, b.Filters[0].VID)
			case vdp.ActSend:
				for _, c := range st.Handle(vdp.Event{Kind: vdp.EvPDU, PDU: b.PDU}, now) {
					fmt.Printf("station: %v vid %d (%v)\n", c.Mode, c.Filters[0].VID, c.Reason)
				}
			}
		}
	}
	// Output:
	// station: Associate vid 100 (response)
	// bridge: port 0 Associate vid 100
}
