//go:build !linux

package vis

func hugeSlots(n int) []macSlot { return make([]macSlot, n) }
