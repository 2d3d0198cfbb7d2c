package cmdutil

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spotctl/spotctl/flowstore"
)

// OpenCase opens a case for reading with a message a responder can act on.
func OpenCase(dir string) (*flowstore.Case, error) {
	if st, err := os.Stat(dir); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("case %s does not exist (create it with: spotctl ingest EVIDENCE -o %s)", dir, dir)
		}
		return nil, fmt.Errorf("case %s: %w", dir, err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("%s is a file, not a case directory (to read evidence, run: spotctl ingest %s -o CASE)", dir, dir)
	}
	c, err := flowstore.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("open case %s: %w", dir, err)
	}
	return c, nil
}

// TimeRange is the --since/--until window, [Since, Until) in Unix ns; a
// zero bound is open.
type TimeRange struct {
	SinceFlag, UntilFlag string
	Since, Until         int64
}

// Parse validates the flags. Accepted: RFC 3339 with or without fraction
// (2026-03-02T09:00:00Z, 2026-03-02T09:00:00.5+01:00), a UTC date and time
// without zone (2026-03-02T09:00:00 or "2026-03-02 09:00:00"), or a date
// (2026-03-02, midnight UTC).
func (r *TimeRange) Parse() error {
	var err error
	if r.Since, err = parseTime("--since", r.SinceFlag); err != nil {
		return err
	}
	if r.Until, err = parseTime("--until", r.UntilFlag); err != nil {
		return err
	}
	if r.Since != 0 && r.Until != 0 && r.Until <= r.Since {
		return FlagErrorf("--until must be after --since")
	}
	return nil
}

func parseTime(flag, s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UnixNano(), nil
		}
	}
	return 0, FlagErrorf("%s %q: want an RFC 3339 time such as 2026-03-02T09:00:00Z or a date such as 2026-03-02", flag, s)
}

// Contains reports whether instant t lies in the window.
func (r *TimeRange) Contains(t int64) bool {
	return (r.Since == 0 || t >= r.Since) && (r.Until == 0 || t < r.Until)
}

// Overlaps reports whether [first, last] meets the window.
func (r *TimeRange) Overlaps(first, last int64) bool {
	return (r.Since == 0 || last >= r.Since) && (r.Until == 0 || first < r.Until)
}
