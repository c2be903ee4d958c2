package profile

// secureMACs holds the source MACs port security learned on one vEth, up to
// the profile's maximum. Up to linearMACs addresses are kept in a slice and
// scanned; more go in a map sized for the maximum when the policy is applied,
// so learning never allocates per frame.
type secureMACs struct {
	max   int
	list  []uint64
	index map[uint64]struct{}
}

const linearMACs = 16

func macKey(m [6]byte) uint64 {
	return uint64(m[0])<<40 | uint64(m[1])<<32 | uint64(m[2])<<24 | uint64(m[3])<<16 | uint64(m[4])<<8 | uint64(m[5])
}

// reset forgets every learned MAC and prepares room for max.
func (s *secureMACs) reset(max int) {
	s.max = max
	if max <= linearMACs {
		s.list, s.index = make([]uint64, 0, max), nil
		return
	}
	s.list, s.index = nil, make(map[uint64]struct{}, max)
}

// learn reports whether mac is known or could be learned now.
func (s *secureMACs) learn(mac [6]byte) bool {
	k := macKey(mac)
	if s.index != nil {
		if _, ok := s.index[k]; ok {
			return true
		}
		if len(s.index) >= s.max {
			return false
		}
		s.index[k] = struct{}{}
		return true
	}
	for _, x := range s.list {
		if x == k {
			return true
		}
	}
	if len(s.list) >= s.max {
		return false
	}
	s.list = append(s.list, k)
	return true
}

// count returns the number of learned MACs.
func (s *secureMACs) count() int {
	if s.index != nil {
		return len(s.index)
	}
	return len(s.list)
}
