package filter

import (
	"errors"
	"strconv"
	"time"
)

// parseTime reads an ISO-8601 time, possibly partial ("2024", "2024-07",
// "2024-07-11", "2024-07-11T09", "2024-07-11T09:15", with seconds and a
// fraction), with T, a space or nfdump's "." between date and time and "-"
// or "/" in the date. A missing part is the start of the period. The zone
// is UTC unless the string ends in Z or ±hh[:mm]. It returns Unix ms.
func parseTime(s string) (int64, error) {
	p := 0
	num := func(n int, what string) (int, error) {
		if p+n > len(s) {
			return 0, errors.New("missing " + what)
		}
		v := 0
		for i := 0; i < n; i++ {
			c := s[p+i]
			if c < '0' || c > '9' {
				return 0, errors.New("bad " + what)
			}
			v = v*10 + int(c-'0')
		}
		p += n
		return v, nil
	}
	year, err := num(4, "year")
	if err != nil {
		return 0, err
	}
	month, day, hour, minute, sec, nsec := 1, 1, 0, 0, 0, 0
	loc := time.UTC
	var dateSep byte
	fields := []struct {
		seps string
		dst  *int
		what string
	}{
		{"-/", &month, "month"}, {"", &day, "day"}, {"T .", &hour, "hour"}, {":", &minute, "minute"}, {":", &sec, "second"},
	}
	parsed := 0
	for i, f := range fields {
		if p >= len(s) || s[p] == 'Z' || s[p] == 'z' || (i >= 3 && (s[p] == '+' || s[p] == '-')) {
			break
		}
		c := s[p]
		ok := false
		if i == 1 {
			ok = c == dateSep
		} else {
			for j := 0; j < len(f.seps); j++ {
				ok = ok || c == f.seps[j]
			}
		}
		if !ok {
			return 0, errors.New("unexpected " + strconv.QuoteRune(rune(c)) + " before the " + f.what)
		}
		if i == 0 {
			dateSep = c
		}
		p++
		if *f.dst, err = num(2, f.what); err != nil {
			return 0, err
		}
		parsed++
	}
	if p < len(s) && (s[p] == '.' || s[p] == ',') && parsed == len(fields) {
		p++
		start := p
		frac := 0
		for p < len(s) && s[p] >= '0' && s[p] <= '9' {
			if p-start < 9 {
				frac = frac*10 + int(s[p]-'0')
			}
			p++
		}
		if p == start {
			return 0, errors.New("empty fraction")
		}
		for n := min(p-start, 9); n < 9; n++ {
			frac *= 10
		}
		nsec = frac
	}
	if p < len(s) {
		switch c := s[p]; {
		case c == 'Z' || c == 'z':
			p++
		case c == '+' || c == '-':
			p++
			hh, err := num(2, "zone hour")
			if err != nil {
				return 0, err
			}
			mm := 0
			if p < len(s) && s[p] == ':' {
				p++
			}
			if p < len(s) {
				if mm, err = num(2, "zone minute"); err != nil {
					return 0, err
				}
			}
			off := hh*3600 + mm*60
			if c == '-' {
				off = -off
			}
			if hh > 23 || mm > 59 {
				return 0, errors.New("bad zone offset")
			}
			loc = time.FixedZone("", off)
		}
	}
	if p != len(s) {
		return 0, errors.New("trailing " + strconv.Quote(s[p:]))
	}
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 {
		return 0, errors.New("field out of range")
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc)
	if t.Day() != day {
		return 0, errors.New("no such day")
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return 0, errors.New("year out of range")
	}
	return t.UnixMilli(), nil
}

// formatTime prints ms as the normalized UTC time of String.
func formatTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}
