package words

import (
	"strconv"
	"strings"
	"time"
)

const nsPerHour = int64(time.Hour)

// Clock gives the hour of day of Unix-nanosecond times in one time zone.
// Spot's hour token is the wall-clock hour of whatever zone the ingest
// printed (UTC for flows, the ingest host's zone for DNS); spotctl makes the
// zone explicit: UTC unless a *time.Location is given.
//
// A Clock caches the current zone period (offset and its validity bounds), so
// consecutive times need no zone lookup; it is not safe for concurrent use.
type Clock struct {
	loc        *time.Location
	start, end int64 // cached zone period in Unix seconds, [start, end)
	offset     int64 // seconds east of UTC in that period
}

// NewClock returns a clock for loc; nil means UTC.
func NewClock(loc *time.Location) *Clock {
	if loc == nil {
		loc = time.UTC
	}
	return &Clock{loc: loc, start: 1, end: 0}
}

// Hour returns the hour of day (0..23) of the Unix-nanosecond time ns.
func (c *Clock) Hour(ns int64) int {
	sec := floorDiv(ns, int64(time.Second))
	if c.loc != time.UTC {
		if sec < c.start || sec >= c.end {
			c.lookup(sec)
		}
		sec += c.offset
	}
	return int(floorMod(floorDiv(sec, 3600), 24))
}

func (c *Clock) lookup(sec int64) {
	t := time.Unix(sec, 0).In(c.loc)
	_, off := t.Zone()
	c.offset = int64(off)
	s, e := t.ZoneBounds()
	c.start, c.end = -1<<63, 1<<63-1
	if !s.IsZero() {
		c.start = s.Unix()
	}
	if !e.IsZero() {
		c.end = e.Unix()
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// SpotFrameTimeHour extracts the hour the way Spot's DNS word did from
// tshark's frame.time text (e.g. "May  12 2015 11:32:45.543421000 UTC"):
// split on runs of spaces, take token 3 and parse the digits before its first
// ':'. ok is false when the text has no such token.
func SpotFrameTimeHour(frameTime string) (hour int, ok bool) {
	tok, ok := spaceToken(frameTime, 3)
	if !ok {
		return 0, false
	}
	h, _, _ := strings.Cut(tok, ":")
	n, err := strconv.Atoi(h)
	if err != nil {
		return 0, false
	}
	return n, true
}

// spaceToken returns token i of s split on runs of ' ' with Java's
// String.split(" +") semantics: a leading run yields an empty first token.
func spaceToken(s string, i int) (string, bool) {
	for n := 0; ; n++ {
		j := strings.IndexByte(s, ' ')
		if j < 0 {
			if n == i && s != "" {
				return s, true
			}
			return "", false
		}
		if n == i {
			return s[:j], true
		}
		s = strings.TrimLeft(s[j:], " ")
	}
}
