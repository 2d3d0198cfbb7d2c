//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package lockfile

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

type impl struct{ f *os.File }

// TryLock takes an exclusive flock on path, creating the file if needed.
// The file itself is never removed; only the kernel lock matters. The
// holder's process id is written into the file for error messages.
func TryLock(path string) (*Lock, error) {
	writable := true
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		// Read-only media (a case on a write-blocked disk): a read-only
		// descriptor can still be flocked.
		writable = false
		var rerr error
		if f, rerr = os.Open(path); rerr != nil {
			return nil, fmt.Errorf("open lock %s: %w", path, err)
		}
	}
	return lock(f, path, writable)
}

// TryLockExisting is TryLock for a short check by a reader: it neither
// creates the file nor writes to it, so opening a case modifies nothing.
func TryLockExisting(path string) (*Lock, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	return lock(f, path, false)
}

func lock(f *os.File, path string, writable bool) (*Lock, error) {
	var err error
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			if pid := holder(path); pid != "" {
				return nil, fmt.Errorf("%s: %w (pid %s)", path, ErrLocked, pid)
			}
			return nil, fmt.Errorf("%s: %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("flock %s: %w", path, err)
	}
	if writable {
		// Best effort: the pid is a diagnostic only.
		if f.Truncate(0) == nil {
			f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		}
	}
	return &Lock{impl{f: f}}, nil
}

func holder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) > 32 {
		return ""
	}
	s := strings.TrimSpace(string(b))
	if _, err := strconv.Atoi(s); err != nil {
		return ""
	}
	return s
}

// Unlock releases the lock. Calling it more than once is harmless.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	// Closing the descriptor drops the flock.
	err := l.f.Close()
	l.f = nil
	return err
}
