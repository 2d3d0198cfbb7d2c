package words

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// Popular is a set of popular domain labels, keyed the way Spot keyed its
// Alexa top-1M list: by the first label of each listed domain ("google" for
// google.com), compared with SplitDomain's domain label. First-label keying
// makes common words ("mail", "news") popular, as in Spot (spot-method.md
// §8.4); it is kept for word compatibility. A nil Popular is empty.
type Popular map[string]struct{}

// Has reports whether label is popular.
func (p Popular) Has(label string) bool {
	_, ok := p[label]
	return ok
}

// Add marks the first label of domain as popular (Java split('.')(0): the
// text before the first dot).
func (p Popular) Add(domain string) {
	first, _, _ := strings.Cut(domain, ".")
	if strings.TrimRight(domain, ".") == "" && domain != "" {
		return // only dots: Spot's split yields no label at all
	}
	p[first] = struct{}{}
}

// AddLabel marks one domain label as popular as is.
func (p Popular) AddLabel(label string) { p[label] = struct{}{} }

// maxPopularLine bounds one line of a popularity list; real entries are at
// most a few hundred bytes.
const maxPopularLine = 64 << 10

// ErrPopularLine marks a line of a popularity list without a domain field.
var ErrPopularLine = errors.New("no domain field (want rank,domain)")

// ReadPopular reads a "rank,domain" list: Tranco, Cisco Umbrella and the old
// Alexa top-1M all use this layout. Each line contributes the first label of
// its second comma-separated field; the rank is ignored, as Spot did. Blank
// lines, a UTF-8 byte-order mark and CR line ends are tolerated. A line
// without a domain field (where Spot crashed) or longer than 64 KiB gives an
// error naming the line and its byte offset; the labels read before it are
// returned with it.
func ReadPopular(r io.Reader) (Popular, error) {
	p := make(Popular)
	br := bufio.NewReaderSize(r, 64<<10)
	var off int64
	for line := 1; ; line++ {
		b, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			return p, fmt.Errorf("line %d (offset %d): longer than %d bytes", line, off, maxPopularLine)
		}
		if err != nil && err != io.EOF {
			return p, fmt.Errorf("line %d (offset %d): %w", line, off, err)
		}
		start := off
		off += int64(len(b))
		if line == 1 {
			b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
		}
		b = bytes.TrimRight(b, "\r\n")
		if len(bytes.TrimSpace(b)) > 0 {
			// Java's line.split(",") drops trailing empty fields, so "1," has none.
			_, rest, ok := bytes.Cut(b, []byte{','})
			dom, _, _ := bytes.Cut(rest, []byte{','})
			if !ok || len(bytes.TrimRight(rest, ",")) == 0 {
				return p, fmt.Errorf("line %d (offset %d): %w", line, start, ErrPopularLine)
			}
			p.Add(string(dom))
		}
		if err == io.EOF {
			return p, nil
		}
	}
}

// LearnRule decides, when no popularity list is given, which domains count
// as popular from the evidence itself: a domain label (SplitDomain's domain)
// is popular when at least Threshold(total) distinct clients queried it.
// Many independent clients asking for the same domain is the local analogue
// of a global top-sites list.
type LearnRule struct {
	MinClients  int     // never fewer distinct clients than this
	MinFraction float64 // and at least this fraction of all clients
}

// DefaultLearnRule: at least 3 distinct clients and at least 1 % of all
// clients seen in the DNS data. With fewer than 3 clients nothing is popular.
var DefaultLearnRule = LearnRule{MinClients: 3, MinFraction: 0.01}

// Threshold returns the number of distinct clients a domain needs when
// totalClients clients appear in the data: max(MinClients,
// ⌈MinFraction·totalClients⌉), and at least 1.
func (r LearnRule) Threshold(totalClients int) int {
	t := r.MinClients
	if f := math.Ceil(r.MinFraction * float64(totalClients)); f > float64(t) && !math.IsNaN(f) {
		if f > math.MaxInt32 {
			f = math.MaxInt32
		}
		t = int(f)
	}
	if t < 1 {
		t = 1
	}
	return t
}
