// Package flowstore is the case store: a directory holding everything
// spotctl learned from a set of evidence, as memory-mapped, page-aligned,
// little-endian columns that reopen instantly, survive a killed writer and
// grow by appending one immutable segment per ingest run.
//
// docs/flowstore.md specifies the on-disk format byte by byte.
package flowstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spotctl/spotctl/flowstore/internal/atomicfile"
	"github.com/spotctl/spotctl/flowstore/internal/lockfile"
)

// Case file names and identity.
const (
	CaseFormat        = "spotctl-case"
	CaseFormatVersion = 1

	caseFileName     = "case.json"
	lockFileName     = "lock"
	manifestFileName = "manifest.json"
	segPrefix        = "seg-"
)

// CaseInfo is case.json. Create sets Format and FormatVersion; the caller
// supplies CreatedBy (the spotctl version string) and Created (its clock,
// so tests are deterministic).
type CaseInfo struct {
	Format        string    `json:"format"`
	FormatVersion int       `json:"format_version"`
	CreatedBy     string    `json:"created_by"`
	Created       time.Time `json:"created"`
}

// Case is an open case directory. Reading needs no lock; appending a
// segment takes the case's writer lock for the duration of the
// SegmentWriter.
type Case struct {
	dir  string
	info CaseInfo

	mu     sync.Mutex
	closed bool
	segs   []*Segment
	writer *SegmentWriter
}

// Segment is one committed ingest run.
type Segment struct {
	Number   int
	Manifest Manifest
	dir      string

	mu     sync.Mutex
	closed bool
	tables map[string]*Table
	errs   map[string]error
}

func segName(n int) string { return fmt.Sprintf("%s%06d", segPrefix, n) }

// parseSegName accepts only the canonical name of a segment number ≥ 1.
func parseSegName(name string) (int, bool) {
	digits, ok := strings.CutPrefix(name, segPrefix)
	if !ok || len(digits) < 6 || len(digits) > 9 {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 1 || segName(n) != name {
		return 0, false
	}
	return n, true
}

// Create makes a new case at dir. dir may not exist yet (parents are
// created) or may be an empty directory; an existing case gives
// ErrCaseExists and any other non-empty directory ErrNotEmpty, so Create
// never adopts or overwrites someone else's files.
func Create(dir string, info CaseInfo) (*Case, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create case: %w", err)
	}
	lock, err := lockfile.TryLock(filepath.Join(dir, lockFileName))
	if err != nil {
		return nil, fmt.Errorf("create case %s: %w", dir, err)
	}
	defer lock.Unlock()
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("create case: %w", err)
	}
	for _, e := range ents {
		switch name := e.Name(); {
		case name == caseFileName:
			return nil, fmt.Errorf("create case %s: %w", dir, ErrCaseExists)
		case name == lockFileName, strings.HasPrefix(name, atomicfile.TempPrefix):
			// Ours: the lock we hold, or leftovers of an interrupted Create.
		default:
			return nil, fmt.Errorf("create case %s: %w (found %q)", dir, ErrNotEmpty, name)
		}
	}
	if _, err := atomicfile.RemoveTemps(dir); err != nil {
		return nil, fmt.Errorf("create case %s: %w", dir, err)
	}
	info.Format, info.FormatVersion = CaseFormat, CaseFormatVersion
	info.Created = info.Created.UTC()
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("create case %s: %w", dir, err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, caseFileName), append(b, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("create case: %w", err)
	}
	return &Case{dir: dir, info: info}, nil
}

// Open opens an existing case. When no writer holds the case's lock, Open
// first removes ".tmp-*" entries a killed writer left behind; when one
// does (an ingest is running), they are left alone. Open reads case.json
// and every segment's manifest; column files are mapped on first use.
func Open(dir string) (*Case, error) {
	b, err := os.ReadFile(filepath.Join(dir, caseFileName))
	if errors.Is(err, fs.ErrNotExist) {
		if st, serr := os.Stat(dir); serr != nil {
			return nil, fmt.Errorf("open case: %w", serr)
		} else if !st.IsDir() {
			return nil, fmt.Errorf("open case %s: not a directory: %w", dir, ErrNotCase)
		}
		return nil, fmt.Errorf("open case %s: no %s: %w", dir, caseFileName, ErrNotCase)
	}
	if err != nil {
		return nil, fmt.Errorf("open case: %w", err)
	}
	var info CaseInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, fmt.Errorf("open case %s: read %s: %w", dir, caseFileName, err)
	}
	if info.Format != CaseFormat {
		return nil, fmt.Errorf("open case %s: %s has format %q, want %q: %w", dir, caseFileName, info.Format, CaseFormat, ErrNotCase)
	}
	if info.FormatVersion != CaseFormatVersion {
		return nil, fmt.Errorf("open case %s: %w: case format version %d, this build reads version %d", dir, ErrUnsupportedVersion, info.FormatVersion, CaseFormatVersion)
	}
	// Sweep only while holding the lock: a running writer's temp
	// directory looks exactly like a dead one's. The sweep is best effort:
	// leftovers never affect reading, and a case on read-only media must
	// still open (NewSegment sweeps again and reports failures).
	if lock, err := lockfile.TryLockExisting(filepath.Join(dir, lockFileName)); err == nil {
		atomicfile.RemoveTemps(dir)
		lock.Unlock()
	}
	c := &Case{dir: dir, info: info}
	if err := c.refresh(); err != nil {
		return nil, err
	}
	return c, nil
}

// refresh adds committed segments not yet known (e.g. written by another
// process since Open), keeping number order. c.mu must be held or c unshared.
func (c *Case) refresh() error {
	ents, err := os.ReadDir(c.dir)
	if err != nil {
		return fmt.Errorf("open case: %w", err)
	}
	known := map[int]bool{}
	for _, s := range c.segs {
		known[s.Number] = true
	}
	for _, e := range ents {
		n, ok := parseSegName(e.Name())
		if !ok || !e.IsDir() || known[n] {
			continue
		}
		s, err := loadSegment(filepath.Join(c.dir, e.Name()), n)
		if err != nil {
			return err
		}
		c.segs = append(c.segs, s)
	}
	slices.SortFunc(c.segs, func(a, b *Segment) int { return a.Number - b.Number })
	return nil
}

func loadSegment(dir string, n int) (*Segment, error) {
	p := filepath.Join(dir, manifestFileName)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("open segment %d: %w", n, err)
	}
	s := &Segment{Number: n, dir: dir}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&s.Manifest); err != nil {
		return nil, fmt.Errorf("open segment %d: read %s: %w", n, p, err)
	}
	if s.Manifest.Segment != n {
		return nil, fmt.Errorf("open segment %d: %s says segment %d: %w", n, p, s.Manifest.Segment, ErrCorrupt)
	}
	return s, nil
}

// Dir is the case directory.
func (c *Case) Dir() string { return c.dir }

// Info is the content of case.json.
func (c *Case) Info() CaseInfo { return c.info }

// Segments returns the committed segments in number order: those found
// by Open plus those committed through this Case since.
func (c *Case) Segments() []*Segment {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.segs)
}

// Close unmaps every column file and aborts an uncommitted segment writer.
// Slices obtained from the case's tables must not be used afterwards.
func (c *Case) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	w, segs := c.writer, c.segs
	c.mu.Unlock()
	var errs []error
	if w != nil {
		errs = append(errs, w.Abort())
	}
	for _, s := range segs {
		errs = append(errs, s.close())
	}
	return errors.Join(errs...)
}

// Dir is the segment directory.
func (s *Segment) Dir() string { return s.dir }

// Flows opens the segment's flows table.
func (s *Segment) Flows() (*Table, error) { return s.table(TableFlows) }

// DNS opens the segment's dns table.
func (s *Segment) DNS() (*Table, error) { return s.table(TableDNS) }

func (s *Segment) table(name string) (*Table, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("segment %d: %w", s.Number, ErrClosed)
	}
	if t := s.tables[name]; t != nil {
		return t, nil
	}
	if err := s.errs[name]; err != nil {
		return nil, err
	}
	t, err := openTable(filepath.Join(s.dir, name+".col"), s.Number, name)
	if err != nil {
		if s.errs == nil {
			s.errs = map[string]error{}
		}
		s.errs[name] = err
		return nil, err
	}
	if s.tables == nil {
		s.tables = map[string]*Table{}
	}
	s.tables[name] = t
	return t, nil
}

func (s *Segment) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	var errs []error
	for _, t := range s.tables {
		errs = append(errs, t.Close())
	}
	s.tables = nil
	return errors.Join(errs...)
}
