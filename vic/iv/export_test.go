package iv

// SetFastPath turns the fast paths of v on (the default) or off, so that
// tests can compare them with the general path.
func SetFastPath(v *IV, on bool) {
	v.mu.Lock()
	v.noFast = !on
	v.mu.Unlock()
}
