package iv_test

import (
	"fmt"

	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vntag"
)

// An IV with two vNICs: a frame from one goes up tagged with its svif, even
// though it is for the other; a flood that comes down for a vif list
// reaches every member but its looped source.
func Example() {
	v := iv.New(iv.Config{Mode: vntag.ModeVNTag})
	web, _ := v.AddVNIC(iv.VNICConfig{VIF: 5})
	db, _ := v.AddVNIC(iv.VNICConfig{VIF: 6})
	v.SetVIFList(1, []vntag.VIF{5, 6}) // what the VIS programs

	frame := make([]byte, 60)
	copy(frame, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 5, 0x08, 0x06})
	tx := port.NewTx(64, 1<<16)
	v.Process(web, []port.Frame{port.FrameFrom(frame)}, 0, tx)
	up := tx.Frames[0].Bytes()
	tag, _ := vntag.ParseTag(up[12:])
	fmt.Printf("up: port %d, %d bytes, d=%d svif=%d\n", tx.Ports[0], len(up), tag.Direction(), tag.SVIF())

	// The VIS floods it back down: vif list 1, looped, source vif 5.
	down, _ := vntag.TagFields{Direction: vntag.FromBridge, Pointer: true, DVIF: 1, Looped: true, SVIF: 5}.Tag()
	hdr := vntag.TagHeader(up[12:20])
	hdr.SetWord(down)
	tx2 := port.NewTx(64, 1<<16)
	v.Process(iv.UplinkA, tx.Frames[:1], 0, tx2)
	for i, f := range tx2.Frames {
		fmt.Printf("down: to the vNIC of VIF 6: %v, %d bytes\n", tx2.Ports[i] == db, f.Len())
	}
	c, _ := v.Counters(5)
	fmt.Println("VIF 5:", c)
	// Output:
	// up: port 0, 66 bytes, d=0 svif=5
	// down: to the vNIC of VIF 6: true, 60 bytes
	// VIF 5: rx 1 frames 60 bytes, tx 0 frames 0 bytes, pruned 1
}
