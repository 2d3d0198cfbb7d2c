package ingest

import (
	"fmt"

	"github.com/spotctl/spotctl/decode"
)

// Bounds of what ingest prints about evidence problems. Every problem is
// counted (manifest and summary); these only limit stderr, so that a file
// with a million bad records costs a screenful, not a million lines.
const (
	// printPerKind problems of one kind in one file are printed in full.
	printPerKind = 10
	// maxKindsPerFile distinct kinds are told apart per file; problems of
	// further kinds are grouped under otherKind. Kinds come from sentinel
	// errors, so this only matters for errors whose text varies.
	maxKindsPerFile = 16
	otherKind       = "other problems"
)

type groupKey struct {
	file string
	sev  decode.Severity
	kind string
}

// problemGroup is one (file, severity, kind) and what was seen of it.
type problemGroup struct {
	groupKey
	count       uint64
	first, last int64 // offsets of the first and last problem not printed; -1 when unknown
}

// problemLog prints evidence problems as they come, the first printPerKind
// of each (file, severity, kind) in full, and when a file is done one line
// per group with the number not printed. Its output is a function of the
// sequence of problems alone: groups are summarised in the order their
// first problem arrived.
type problemLog struct {
	print func(sev decode.Severity, msg string)

	groups map[groupKey]*problemGroup
	order  []*problemGroup
	kinds  map[string]int // distinct kinds per file

	warnings, notes uint64
}

func newProblemLog(print func(decode.Severity, string)) *problemLog {
	return &problemLog{print: print, groups: map[groupKey]*problemGroup{}, kinds: map[string]int{}}
}

// add counts e and prints it unless its group has been printed enough.
func (l *problemLog) add(e *decode.Error) {
	if e.Severity == decode.Note {
		l.notes++
	} else {
		l.warnings++
	}
	k := groupKey{file: e.File, sev: e.Severity, kind: e.KindName()}
	g := l.groups[k]
	if g == nil {
		if l.kinds[e.File] >= maxKindsPerFile {
			k.kind = otherKind
			g = l.groups[k]
		}
		if g == nil {
			l.kinds[e.File]++
			g = &problemGroup{groupKey: k, first: -1, last: -1}
			l.groups[k] = g
			l.order = append(l.order, g)
		}
	}
	g.count++
	if g.count <= printPerKind {
		l.print(e.Severity, e.Error())
		return
	}
	if g.count == printPerKind+1 {
		g.first = e.Offset
	}
	g.last = e.Offset
}

// done prints the summary line of every group of file that had more
// problems than were printed, and forgets the file's groups.
func (l *problemLog) done(file string) {
	kept := l.order[:0]
	for _, g := range l.order {
		if g.file != file {
			kept = append(kept, g)
			continue
		}
		if g.count > printPerKind {
			l.print(g.sev, g.summary())
		}
		delete(l.groups, g.groupKey)
	}
	clear(l.order[len(kept):])
	l.order = kept
	delete(l.kinds, file)
}

func (g *problemGroup) summary() string {
	n := g.count - printPerKind
	what := fmt.Sprintf("%d more %q %ss not shown (%d in all", n, g.kind, g.sev, g.count)
	switch {
	case g.first < 0 || g.last < 0:
		what += ")"
	case n == 1:
		what += fmt.Sprintf(", at offset %d)", g.first)
	default:
		what += fmt.Sprintf(", first at offset %d, last at offset %d)", g.first, g.last)
	}
	return fmt.Sprintf("%s: %s", g.file, what)
}
