package vic_test

import (
	"fmt"
	"time"

	"github.com/nivkit/niv/vic"
)

// A VIF-alloc request encoded and decoded again: what an IV sends over
// ECP subtype 2 when a VM's vNIC appears.
func ExampleMessage() {
	m := vic.Message{Command: vic.CmdVIFAlloc, Session: 1, TxID: 7,
		Present: vic.FieldMAC | vic.FieldProfile | vic.FieldInstance | vic.FieldLink | vic.FieldEpoch,
		MAC:     [6]byte{0x52, 0x54, 0, 0x8e, 0xaa, 0x11}, Profile: []byte("web"),
		Instance: vic.UUID{0xa1, 0x41, 0x28, 0x57}, Up: true, Epoch: 1}
	b, err := m.AppendBinary(nil)
	if err != nil {
		panic(err)
	}
	var got vic.Message
	if err := vic.Decode(b, &got); err != nil {
		panic(err)
	}
	fmt.Println(len(b), got.Command, string(got.Profile), got.Instance)
	// Output: 64 vif-alloc web a1412857-0000-0000-0000-000000000000
}

// The two machines joined directly, without ECP: the IV opens a session,
// asks for a vNIC, and both sides program their data paths.
func ExampleIVMachine() {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	iv := vic.NewIVMachine(vic.IVConfig{Session: 1})
	vis := vic.NewVISMachine(vic.VISConfig{Session: 2}, nil, now)
	var toVIS, toIV [][]byte
	var msg vic.Message
	show := func(side string, acts []vic.Action, out *[][]byte) {
		for _, a := range acts {
			switch a.Kind {
			case vic.ActSend:
				*out = append(*out, append([]byte(nil), a.Payload...))
			case vic.ActIVBind, vic.ActVISBind:
				fmt.Printf("%s %v VIF %d vEth %d\n", side, a.Kind, a.VIF, a.VEth)
			case vic.ActStatus:
				fmt.Printf("%s %v %v\n", side, a.Kind, a.Result)
			}
		}
	}
	show("IV", iv.Handle(vic.IVEvent{Kind: vic.IVTimer}, now), &toVIS)
	show("IV", iv.Handle(vic.IVEvent{Kind: vic.IVRequest, VNIC: vic.VNIC{Instance: vic.UUID{1}, Profile: "web", Epoch: 1, Up: true}}, now), &toVIS)
	for len(toVIS)+len(toIV) > 0 {
		for len(toVIS) > 0 {
			_ = vic.Decode(toVIS[0], &msg)
			toVIS = toVIS[1:]
			show("VIS", vis.Handle(vic.VISEvent{Kind: vic.VISReceive, Port: 0, Msg: &msg}, now), &toIV)
		}
		for len(toIV) > 0 {
			_ = vic.Decode(toIV[0], &msg)
			toIV = toIV[1:]
			show("IV", iv.Handle(vic.IVEvent{Kind: vic.IVReceive, Msg: &msg}, now), &toVIS)
		}
	}
	// Output:
	// VIS vis-bind VIF 1 vEth 1
	// IV iv-bind VIF 1 vEth 1
	// IV status success
}
