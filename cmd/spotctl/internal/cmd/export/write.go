package export

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmdutil"
	"github.com/spotctl/spotctl/flowstore"
	"github.com/spotctl/spotctl/report"
	rparquet "github.com/spotctl/spotctl/report/parquet"
)

// format is one output file format.
type format uint8

const (
	formatParquet format = iota
	formatCSV
	formatJSONL
)

func (f format) name() string {
	switch f {
	case formatParquet:
		return "parquet"
	case formatCSV:
		return "csv"
	}
	return "jsonl"
}

// outDir is one output directory and the formats written into it.
type outDir struct {
	path    string
	formats []format
}

// sink is one table being written into one output directory: built under
// tmp, renamed to final by commit.
type sink struct {
	dir, tmp, final string
	formats         []format
}

// part is one open partition file.
type part struct {
	path string
	f    *os.File
	bw   *bufio.Writer // Parquet only: the report writers buffer themselves
	w    report.RowWriter
}

// tableWriter writes one table, partition by partition, into every output
// directory at once. Rows must come in time order: a partition, once
// closed, is never reopened.
type tableWriter struct {
	name   string
	cols   []report.Column
	fields []rparquet.Field
	opts   *Options
	sinks  []*sink

	open     []*part
	openHour int64
	hourDirs []string // of the open partition, to sync when it closes
	rows     int
	parts    int
}

// hourNS is one hour in Unix nanoseconds.
const hourNS = int64(time.Hour)

// tmpPrefix starts the name of a table under construction; a killed export
// leaves such a directory next to the tables (safe to delete).
const tmpPrefix = ".spotctl-export-"

func newTableWriter(name string, dirs []outDir, o *Options) (*tableWriter, error) {
	cols := columnsOf(name)
	tw := &tableWriter{name: name, cols: cols, fields: rparquet.Fields(cols, uintBits(name)), opts: o, openHour: math.MinInt64}
	for _, d := range dirs {
		if err := os.MkdirAll(d.path, 0o755); err != nil {
			tw.abort()
			return nil, err
		}
		tmp, err := os.MkdirTemp(d.path, tmpPrefix+name+"-")
		if err != nil {
			tw.abort()
			return nil, err
		}
		tw.sinks = append(tw.sinks, &sink{dir: d.path, tmp: tmp, final: filepath.Join(d.path, name), formats: d.formats})
	}
	return tw, nil
}

// uintBits gives each unsigned column the width the case stores it in, so
// that a port is a UINT16 in Parquet (pandas uint16, DuckDB USMALLINT);
// columns the case does not store (rank) are 64 bits.
func uintBits(table string) func(string) int {
	width := map[string]int{}
	schema := flowstore.FlowSchema()
	if table == TableDNS || table == TableDNSScores {
		schema = flowstore.DNSSchema()
	}
	for _, s := range schema {
		switch s.Type {
		case flowstore.TypeUint8:
			width[s.Name] = 8
		case flowstore.TypeUint16:
			width[s.Name] = 16
		case flowstore.TypeUint32:
			width[s.Name] = 32
		case flowstore.TypeUint64:
			width[s.Name] = 64
		}
	}
	return func(name string) int { return width[name] }
}

// hourOf is the partition of a time: its UTC hour, floor-divided so that
// times before 1970 fall in the right hour too.
func hourOf(ns int64) int64 {
	h := ns / hourNS
	if ns%hourNS < 0 {
		h--
	}
	return h
}

// partitionName is the Hive directory of an hour, e.g. hour=2026-03-02T09.
// No colon: Spark and Windows paths choke on them.
func partitionName(hour int64) string {
	return "hour=" + time.Unix(hour*3600, 0).UTC().Format("2006-01-02T15")
}

// write adds a row whose partition time is ns.
func (tw *tableWriter) write(ns int64, row []report.Value) error {
	h := hourOf(ns)
	if tw.open == nil || h != tw.openHour {
		if tw.open != nil && h < tw.openHour {
			return fmt.Errorf("internal error: rows out of time order (%s after %s)", partitionName(h), partitionName(tw.openHour))
		}
		if err := tw.closeParts(); err != nil {
			return err
		}
		if err := tw.openParts(h); err != nil {
			return err
		}
	}
	for _, p := range tw.open {
		if err := p.w.WriteRow(row); err != nil {
			return fmt.Errorf("write %s: %w", p.path, err)
		}
	}
	tw.rows++
	return nil
}

func (tw *tableWriter) openParts(h int64) error {
	tw.openHour = h
	tw.parts++
	tw.hourDirs = tw.hourDirs[:0]
	for _, s := range tw.sinks {
		dir := filepath.Join(s.tmp, partitionName(h))
		// Mkdir, not MkdirAll: the partition must be new.
		if err := os.Mkdir(dir, 0o755); err != nil {
			return err
		}
		tw.hourDirs = append(tw.hourDirs, dir)
		for _, f := range s.formats {
			path := filepath.Join(dir, "part-0."+f.name())
			fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err != nil {
				return err
			}
			p := &part{path: path, f: fh}
			tw.open = append(tw.open, p) // closed by closeParts or abort
			switch f {
			case formatParquet:
				p.bw = bufio.NewWriterSize(fh, 1<<20)
				pw, err := rparquet.NewWriter(p.bw, tw.fields, rparquet.Options{
					Compression:  tw.opts.codec,
					RowGroupRows: tw.opts.RowGroupRows,
					CreatedBy:    "spotctl " + cmdutil.Version(),
				})
				if err != nil {
					return err
				}
				p.w = pw
			case formatCSV:
				p.w = report.NewCSV(fh, tw.cols, report.Options{})
			case formatJSONL:
				p.w = report.NewJSONL(fh, tw.cols)
			}
		}
	}
	return nil
}

// closeParts finishes the open partition's files: footer or buffers
// flushed, data synced, file closed, directory synced.
func (tw *tableWriter) closeParts() error {
	var err error
	for _, p := range tw.open {
		if err == nil {
			err = p.finish()
		}
		if cerr := p.f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close %s: %w", p.path, cerr)
		}
	}
	tw.open = tw.open[:0]
	if err != nil {
		return err
	}
	for _, d := range tw.hourDirs {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}

func (p *part) finish() error {
	if err := p.w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", p.path, err)
	}
	if p.bw != nil {
		if err := p.bw.Flush(); err != nil {
			return fmt.Errorf("write %s: %w", p.path, err)
		}
	}
	if err := p.f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", p.path, err)
	}
	return nil
}

// commit finishes the last partition and moves each table directory into
// place. An existing table directory (empty, or any with --force, checked
// by preflight) is renamed away first and removed after.
func (tw *tableWriter) commit() error {
	if err := tw.closeParts(); err != nil {
		return err
	}
	for _, s := range tw.sinks {
		if err := syncDir(s.tmp); err != nil {
			return err
		}
		old := ""
		if _, err := os.Lstat(s.final); err == nil {
			old = s.tmp + ".old"
			if err := os.Rename(s.final, old); err != nil {
				return err
			}
		}
		if err := os.Rename(s.tmp, s.final); err != nil {
			if old != "" {
				os.Rename(old, s.final) // put the previous export back
			}
			return err
		}
		s.tmp = ""
		if err := syncDir(s.dir); err != nil {
			return err
		}
		if old != "" {
			if err := os.RemoveAll(old); err != nil {
				return fmt.Errorf("remove the replaced %s: %w", old, err)
			}
		}
	}
	return nil
}

// abort closes what is open and removes the temporary directories; the
// final table directories are untouched.
func (tw *tableWriter) abort() {
	for _, p := range tw.open {
		p.f.Close()
	}
	tw.open = nil
	for _, s := range tw.sinks {
		if s.tmp != "" {
			os.RemoveAll(s.tmp)
		}
	}
}

func (tw *tableWriter) finals() []string {
	out := make([]string, len(tw.sinks))
	for i, s := range tw.sinks {
		out[i] = s.final
	}
	return out
}

// syncDir makes a directory's entries durable. Some file systems cannot
// sync a directory; that is not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
