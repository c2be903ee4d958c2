//go:build linux

package vis

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugeSlots allocates n MAC table slots and asks the kernel to back the
// table with transparent huge pages (madvise MADV_HUGEPAGE) before it is
// first touched. With 4 KiB pages a table of a million entries spans
// thousands of pages and nearly every lookup also misses the TLB; with
// 2 MiB pages it spans a few dozen. The advice is only a hint: where THP
// is off the table works the same, only slower.
func hugeSlots(n int) []macSlot {
	const huge = 2 << 20
	size := n * int(unsafe.Sizeof(macSlot{}))
	if size < 2*huge {
		return make([]macSlot, n)
	}
	extra := huge / int(unsafe.Sizeof(macSlot{}))
	all := make([]macSlot, n+extra)
	base := uintptr(unsafe.Pointer(&all[0]))
	skip := int((huge-base%huge)%huge) / int(unsafe.Sizeof(macSlot{}))
	slots := all[skip : skip+n : skip+n]
	mem := unsafe.Slice((*byte)(unsafe.Pointer(&slots[0])), size&^(huge-1))
	_ = unix.Madvise(mem, unix.MADV_HUGEPAGE)
	return slots
}
