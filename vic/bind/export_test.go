package bind

import "github.com/nivkit/niv/vntag"

// SetNextPark makes v the parking E-CID SetVEth gave last, so that a test
// reaches the end of the E-CID range without creating a million vEths.
func (s *VISProgrammer) SetNextPark(v vntag.VIF) {
	s.mu.Lock()
	s.nextPark = v
	s.mu.Unlock()
}
