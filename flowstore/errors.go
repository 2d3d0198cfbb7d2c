package flowstore

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spotctl/spotctl/flowstore/internal/lockfile"
)

var (
	// ErrNotCase: the directory has no case.json.
	ErrNotCase = errors.New("not a spotctl case")
	// ErrCaseExists: Create was pointed at an existing case.
	ErrCaseExists = errors.New("case already exists")
	// ErrNotEmpty: Create was pointed at a non-empty directory that is not a case.
	ErrNotEmpty = errors.New("directory is not empty and holds no case")
	// ErrLocked: another writer holds the case's lock.
	ErrLocked = lockfile.ErrLocked
	// ErrClosed: the case was closed.
	ErrClosed = errors.New("case is closed")
	// ErrWriterDone: the segment writer was already committed or aborted.
	ErrWriterDone = errors.New("segment writer already committed or aborted")
	// ErrNoColumn: the table has no column of that name (e.g. a segment
	// written before the column was introduced). Callers treat the column
	// as absent.
	ErrNoColumn = errors.New("no such column")
	// ErrColumnType: the column exists with another type than asked for.
	ErrColumnType = errors.New("column has another type")
	// ErrUnsupported: the column's type or encoding is newer than this build.
	ErrUnsupported = errors.New("column type or encoding not supported by this build")

	// The following are wrapped in a *CorruptError.

	// ErrBadMagic: the file does not start with the column file magic.
	ErrBadMagic = errors.New("bad magic")
	// ErrUnsupportedVersion: the file or case has a format version this build does not read.
	ErrUnsupportedVersion = errors.New("unsupported format version")
	// ErrTruncated: the file is shorter than its header says.
	ErrTruncated = errors.New("truncated")
	// ErrChecksum: stored and computed CRC32C differ.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrCorrupt: a structural rule of the format is broken.
	ErrCorrupt = errors.New("corrupt")
)

// CorruptError is a column file that fails a check. It names the place:
// file, segment, table, column (empty for the header) and the byte offset
// in the file where the bad structure starts.
type CorruptError struct {
	Path    string
	Segment int // 0 for a column file opened on its own
	Table   string
	Column  string
	Part    int // part of the column; -1 when not about one part
	Offset  int64
	Err     error
}

func (e *CorruptError) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	b.WriteString(": ")
	if e.Segment > 0 {
		fmt.Fprintf(&b, "segment %d, ", e.Segment)
	}
	if e.Table != "" {
		fmt.Fprintf(&b, "table %s, ", e.Table)
	}
	if e.Column == "" {
		b.WriteString("header")
	} else {
		fmt.Fprintf(&b, "column %q", e.Column)
		if e.Part >= 0 {
			fmt.Fprintf(&b, " part %d", e.Part)
		}
	}
	fmt.Fprintf(&b, " at offset %d: %v", e.Offset, e.Err)
	return b.String()
}

func (e *CorruptError) Unwrap() error { return e.Err }
