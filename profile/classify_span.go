package profile

// span is an inclusive interval of a field's values.
type span struct{ lo, hi uint32 }
