package port_test

import (
	"fmt"

	"github.com/nivkit/niv/vic/port"
)

// An in-memory link: what one end writes, the other reads in a batch, each
// frame with headroom in front for a tag.
func ExamplePair() {
	vnic, vm := port.Pair("vnic", "vm", 0)
	frame := make([]byte, 60)
	copy(frame, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x06})
	vm.Write([]port.Frame{port.FrameFrom(frame)})

	b := port.NewBatch(64)
	if err := vnic.Read(b); err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range b.Valid() {
		fmt.Printf("%d bytes, %d bytes of headroom, EtherType %x\n", f.Len(), f.Off, f.Bytes()[12:14])
	}
	fmt.Println(vnic.Stats())
	// Output:
	// 60 bytes, 64 bytes of headroom, EtherType 0806
	// rx 1 frames 60 bytes, tx 0 frames 0 bytes, dropped rx 0 tx 0, errors 0
}
