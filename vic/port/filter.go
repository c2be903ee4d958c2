package port

import "golang.org/x/net/bpf"

// NIVFilter returns a classic BPF program that accepts the Ethernet frames
// whose type field (offset 12) is a VNTag (0x8926) or an E-Tag (0x893F)
// and rejects every other frame: the filter for the link between an IV and
// its VIS, which keeps the host's own traffic on that interface (IPv6
// router solicitations, LLDP) away from the cores.
func NIVFilter() []bpf.Instruction {
	return []bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x8926, SkipTrue: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x893F, SkipTrue: 1},
		bpf.RetConstant{Val: 0},
		bpf.RetConstant{Val: 0x40000},
	}
}

// EtherTypeFilter returns a classic BPF program that accepts only frames
// whose type field is etherType.
func EtherTypeFilter(etherType uint16) []bpf.Instruction {
	return []bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(etherType), SkipFalse: 1},
		bpf.RetConstant{Val: 0x40000},
		bpf.RetConstant{Val: 0},
	}
}
