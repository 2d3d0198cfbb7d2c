// Package lockfile provides an exclusive, non-blocking, inter-process lock
// on a file. On systems with flock(2) the lock dies with its process, so a
// killed writer never leaves a stale lock behind.
package lockfile

import "errors"

// ErrLocked is returned by TryLock when another holder has the lock.
var ErrLocked = errors.New("locked by another writer")

// Lock is a held lock; release it with Unlock.
type Lock struct {
	impl
}
