package flowstore

import "unsafe"

// unsafeString views b as a string for a call that only reads it and does
// not keep it (spill.str copies the bytes).
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
