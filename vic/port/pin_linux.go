//go:build linux

package port

import "golang.org/x/sys/unix"

// PinToCPU returns a RunConfig.Pin that binds the calling thread to CPU
// cpu (sched_setaffinity).
func PinToCPU(cpu int) func() error {
	return func() error {
		var set unix.CPUSet
		set.Set(cpu)
		return unix.SchedSetaffinity(0, &set)
	}
}
