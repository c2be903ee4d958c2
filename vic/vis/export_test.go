package vis

// SetSlowOnly makes s take the general path for every frame.
func SetSlowOnly(s *VIS, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slowOnly = on
}
