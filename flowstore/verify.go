package flowstore

import (
	"errors"
	"fmt"

	"github.com/spotctl/spotctl/decode/flow"
)

// EachFlow calls fn for every flow row of every segment, in segment then
// row order. r is reused between calls: copy it to keep it. A non-nil
// error from fn stops the walk and is returned.
func (c *Case) EachFlow(fn func(s *Segment, row int, r *flow.Record) error) error {
	var r flow.Record
	for _, s := range c.Segments() {
		t, err := s.Flows()
		if err != nil {
			return err
		}
		for i := 0; i < t.Rows(); i++ {
			if err := t.FlowAt(i, &r); err != nil {
				return err
			}
			if err := fn(s, i, &r); err != nil {
				return err
			}
		}
	}
	return nil
}

// EachDNS calls fn for every DNS row of every segment, in segment then row
// order. m is reused between calls (its QName and answers are fresh
// copies each time).
func (c *Case) EachDNS(fn func(s *Segment, row int, m *flow.DNSMessage) error) error {
	var m flow.DNSMessage
	for _, s := range c.Segments() {
		t, err := s.DNS()
		if err != nil {
			return err
		}
		for i := 0; i < t.Rows(); i++ {
			m.Answers = m.Answers[:0]
			if err := t.DNSAt(i, &m); err != nil {
				return err
			}
			if err := fn(s, i, &m); err != nil {
				return err
			}
		}
	}
	return nil
}

// Verify checks every segment: both column files' headers, the CRC32C
// and structure of every column part, the row counts against the
// manifest, and that evidence indexes point into the manifest's evidence
// list. It reports every problem found, not just the first; nil means the
// case is sound.
func (c *Case) Verify() []error {
	var errs []error
	for _, s := range c.Segments() {
		errs = append(errs, s.Verify()...)
	}
	return errs
}

// Verify checks one segment; see Case.Verify.
func (s *Segment) Verify() []error {
	var errs []error
	for _, name := range []string{TableFlows, TableDNS} {
		t, err := s.table(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		terrs := t.Verify()
		errs = append(errs, terrs...)
		want := s.Manifest.Flows
		if name == TableDNS {
			want = s.Manifest.DNS
		}
		if uint64(t.Rows()) != want {
			errs = append(errs, fmt.Errorf("segment %d: %s has %d rows, manifest says %d: %w", s.Number, t.Path(), t.Rows(), want, ErrCorrupt))
		}
		if len(terrs) > 0 {
			continue
		}
		ev, err := t.Uint32(ColEvidence)
		if errors.Is(err, ErrNoColumn) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n := len(s.Manifest.Evidence)
		for i, e := range ev {
			if int64(e) >= int64(n) {
				errs = append(errs, fmt.Errorf("segment %d: %s row %d: evidence index %d, manifest lists %d evidence files: %w", s.Number, t.Path(), i, e, n, ErrCorrupt))
				break
			}
		}
	}
	return errs
}
