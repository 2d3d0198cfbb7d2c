//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package lockfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

type impl struct{ path string }

// TryLock creates path exclusively. Without flock(2) the lock does not die
// with its process: a killed writer leaves the file behind and it must be
// removed by hand (the error says so).
func TryLock(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("%s: %w (remove the file if no writer is running)", path, ErrLocked)
		}
		return nil, fmt.Errorf("create lock %s: %w", path, err)
	}
	f.Close()
	return &Lock{impl{path: path}}, nil
}

// TryLockExisting is TryLock for a short check by a reader. Without
// flock a check cannot avoid creating the lock file, so this is TryLock.
func TryLockExisting(path string) (*Lock, error) { return TryLock(path) }

// Unlock releases the lock. Calling it more than once is harmless.
func (l *Lock) Unlock() error {
	if l == nil || l.path == "" {
		return nil
	}
	err := os.Remove(l.path)
	l.path = ""
	return err
}
