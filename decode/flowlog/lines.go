package flowlog

import (
	"errors"
	"io"
)

// lineReader hands out lines with the byte offset where each starts. Memory
// is bounded by max: the buffer grows up to max+1 bytes for one long line;
// a longer line is skipped to its newline and reported as too long. A
// source error other than io.EOF is sticky and ends the lines.
type lineReader struct {
	r          io.Reader
	buf        []byte
	start, end int   // unconsumed bytes are buf[start:end]
	base       int64 // file offset of buf[0]
	max        int
	eof        bool
	err        error // source error, not io.EOF
	empty      int   // consecutive empty reads
	lineNo     int64
}

const initialBuf = 64 << 10

func newLineReader(r io.Reader, max int) lineReader {
	n := initialBuf
	if max+1 < n {
		n = max + 1
	}
	return lineReader{r: r, buf: make([]byte, n), max: max}
}

// line is one line without its terminator ("\n" or "\r\n").
type line struct {
	b       []byte // valid until the next call
	off     int64  // offset of the line's first byte
	no      int64  // 1-based line number
	tooLong bool   // the line exceeded max; b is empty
}

// next returns the next line; ok is false at the end of the input (check
// err for a source error).
func (l *lineReader) next() (ln line, ok bool) {
	skipping := false // inside an over-long line
	var skipOff int64
	for {
		if i := indexByte(l.buf[l.start:l.end], '\n'); i >= 0 {
			s := l.start
			l.start += i + 1
			l.lineNo++
			if skipping {
				return line{off: skipOff, no: l.lineNo, tooLong: true}, true
			}
			return line{b: trimCR(l.buf[s : s+i]), off: l.base + int64(s), no: l.lineNo}, true
		}
		if l.eof || l.err != nil {
			if skipping {
				l.lineNo++
				l.start = l.end
				return line{off: skipOff, no: l.lineNo, tooLong: true}, true
			}
			if l.start < l.end { // last line without a newline
				s := l.start
				l.start = l.end
				l.lineNo++
				return line{b: trimCR(l.buf[s:l.end]), off: l.base + int64(s), no: l.lineNo}, true
			}
			return line{}, false
		}
		// No newline in the window: make room and read more.
		if l.start > 0 {
			copy(l.buf, l.buf[l.start:l.end])
			l.base += int64(l.start)
			l.end -= l.start
			l.start = 0
		}
		if l.end == len(l.buf) {
			if len(l.buf) <= l.max {
				n := 2 * len(l.buf)
				if n > l.max+1 {
					n = l.max + 1
				}
				nb := make([]byte, n)
				copy(nb, l.buf[:l.end])
				l.buf = nb
			} else {
				// The line is longer than max: drop what we have and
				// keep dropping until its newline.
				if !skipping {
					skipping, skipOff = true, l.base
				}
				l.base += int64(l.end)
				l.end = 0
			}
		}
		n, err := l.r.Read(l.buf[l.end:])
		l.end += n
		if err != nil {
			if errors.Is(err, io.EOF) {
				l.eof = true
			} else {
				l.err = err
			}
		} else if n == 0 {
			// A reader that neither returns data nor an error would
			// keep us here forever.
			if l.empty++; l.empty >= 100 {
				l.err = io.ErrNoProgress
			}
		} else {
			l.empty = 0
		}
	}
}

// offset is the number of content bytes consumed so far.
func (l *lineReader) offset() int64 { return l.base + int64(l.start) }

func trimCR(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == '\r' {
		return b[:len(b)-1]
	}
	return b
}
