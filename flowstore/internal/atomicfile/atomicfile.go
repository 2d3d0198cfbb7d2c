// Package atomicfile writes files and directories so that a crash leaves
// either the old state or the new one, never a half-written file under the
// final name: write beside the target under a ".tmp-" name, fsync, rename,
// fsync the parent directory. Leftover ".tmp-" entries from a killed writer
// are removed with RemoveTemps.
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// TempPrefix starts the name of every temporary entry this package (and
// flowstore's segment writer) creates.
const TempPrefix = ".tmp-"

// WriteFile atomically replaces path with data.
func WriteFile(path string, data []byte, perm os.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, TempPrefix+base+"-*")
	if err != nil {
		return fmt.Errorf("create temp for %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if err = sync(f); err != nil {
		return fmt.Errorf("fsync %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return SyncDir(dir)
}

// SyncDir fsyncs a directory so that entries created or renamed in it are
// durable. File systems that cannot fsync a directory (EINVAL) are tolerated.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir %s: %w", dir, err)
	}
	err = sync(d)
	cerr := d.Close()
	if err != nil && !isUnsupportedSync(err) {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	if cerr != nil {
		return fmt.Errorf("close dir %s: %w", dir, cerr)
	}
	return nil
}

// RemoveTemps deletes every entry of dir whose name starts with TempPrefix
// and returns the names removed. Only call it while holding the directory's
// writer lock: a live writer's temp entry looks exactly like a stale one.
func RemoveTemps(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read dir %s: %w", dir, err)
	}
	var removed []string
	var errs []error
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), TempPrefix) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, e.Name())
	}
	return removed, errors.Join(errs...)
}

// NoSync turns every fsync of this package and of flowstore into a no-op.
// Only fuzz targets set it, so that a target that commits a segment per
// input runs hundreds of inputs a second instead of a few on a slow disk;
// durability is then not guaranteed, which those targets do not test.
var NoSync bool

// Sync fsyncs f unless NoSync is set.
func Sync(f *os.File) error { return sync(f) }

func sync(f *os.File) error {
	if NoSync {
		return nil
	}
	return f.Sync()
}
