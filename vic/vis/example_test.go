package vis_test

import (
	"fmt"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

// A VIS with two vEths behind one IV, both bound to port-profile web: B
// announces itself, then A's frame to B is hair-pinned back down the port
// it came in on, addressed to B's VIF.
func Example() {
	store := profile.NewMemStore()
	store.Update(func(tx *profile.Txn) error {
		tx.Bind(1, "web")
		tx.Bind(2, "web")
		return tx.Configure("port-profile web\n  switchport access vlan 10\n  state enabled\n")
	})
	s, _ := vis.New(vis.Config{Store: store})
	defer s.Close()
	ivPort, _ := s.AddIVPort("iv0", vntag.ModeVNTag, iv.New(iv.Config{}))
	s.AddVEth(1, ivPort, 5) // VM A behind svif 5
	s.AddVEth(2, ivPort, 6) // VM B behind svif 6

	send := func(dst, src byte, svif uint16) *port.Tx {
		frame := make([]byte, 60)
		copy(frame, []byte{0x02, 0, 0, 0, 0, dst, 0x02, 0, 0, 0, 0, src, 0x88, 0xb5})
		if dst == 0xff {
			copy(frame, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
		}
		f := port.FrameFrom(frame)
		up, _ := vntag.Upstream(svif)
		out, _ := vntag.Push(f.Buf, f.Off, up)
		tx := port.NewTx(16, 1<<16)
		s.Process(ivPort, []port.Frame{port.FrameFrom(out)}, 0, tx)
		return tx
	}
	send(0xff, 0x0b, 6) // B broadcasts: the VIS learns B on vEth 2
	tx := send(0x0b, 0x0a, 5)
	tag, _ := vntag.ParseTag(tx.Frames[0].Bytes()[12:])
	fmt.Printf("out of port %d: d=%d dvif=%d\n", tx.Ports[0], tag.Direction(), tag.DVIF())
	show, _ := s.ShowInterface(2)
	fmt.Print(show)
	// Output:
	// out of port 0: d=1 dvif=6
	// Vethernet2 is up
	//   Bound to svif 6 on port 0 (iv0, VNTag)
	//   Port-profile web, access VLAN 10
	//   Learned MACs: 1
	//   Input:  1 frames, 60 bytes
	//   Output: 1 frames, 60 bytes
	//   Drops:  0
}

// An evb port toward a hypervisor's VEPA, with the VSIs of two VMs on it:
// B announces itself, A's frame to B goes back out of the port it came in
// on (reflective relay), and a frame from a MAC with no VSI is dropped.
func ExampleVIS_AddEVBPort() {
	store := profile.NewMemStore()
	store.Update(func(tx *profile.Txn) error {
		tx.Bind(1, "web")
		tx.Bind(2, "web")
		return tx.Configure("port-profile web\n  switchport access vlan 10\n  state enabled\n")
	})
	s, _ := vis.New(vis.Config{Store: store})
	defer s.Close()
	evb := s.AddEVBPort("eth1")
	s.AddVSI(1, evb, 0, [6]byte{0x02, 0, 0, 0, 0, 0x0a}) // VM A, untagged on the link
	s.AddVSI(2, evb, 0, [6]byte{0x02, 0, 0, 0, 0, 0x0b}) // VM B

	send := func(dst, src byte) *port.Tx {
		frame := make([]byte, 60)
		copy(frame, []byte{0x02, 0, 0, 0, 0, dst, 0x02, 0, 0, 0, 0, src, 0x88, 0xb5})
		if dst == 0xff {
			copy(frame, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
		}
		tx := port.NewTx(16, 1<<16)
		s.Process(evb, []port.Frame{port.FrameFrom(frame)}, 0, tx)
		return tx
	}
	send(0xff, 0x0b) // B broadcasts: the VIS learns B on vEth 2
	tx := send(0x0b, 0x0a)
	fmt.Printf("A to B: %d frame out of port %d\n", tx.Len(), tx.Ports[0])
	fmt.Printf("spoofed: %d frames\n", send(0x0b, 0x66).Len())
	pc, _ := s.PortCounters(evb)
	fmt.Printf("dropped: %d (%v)\n", pc.Drops[vis.DropUnknownVSI], vis.DropUnknownVSI)
	// Output:
	// A to B: 1 frame out of port 0
	// spoofed: 0 frames
	// dropped: 1 (no VSI associated for source MAC and VID)
}
