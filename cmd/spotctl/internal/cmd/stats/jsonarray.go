package stats

import "io"

// jsonArray turns the JSON Lines of several statistics into one JSON array,
// so that --format json prints one document however many -s are given (the
// rows tell their statistic apart by "stat"). It streams: each line's
// newline is held back until the next object starts or the array closes.
type jsonArray struct {
	w       io.Writer
	started bool
	pending bool // a line ended; its separator is not written yet
	buf     []byte
}

func (j *jsonArray) Write(p []byte) (int, error) {
	b := j.buf[:0]
	for _, c := range p {
		if c == '\n' {
			j.pending = true
			continue
		}
		switch {
		case !j.started:
			b = append(b, "[\n"...)
			j.started = true
		case j.pending:
			b = append(b, ",\n"...)
		}
		j.pending = false
		b = append(b, c)
	}
	j.buf = b
	if _, err := j.w.Write(b); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close ends the array ("[]" when there were no rows).
func (j *jsonArray) Close() error {
	end := "\n]\n"
	if !j.started {
		end = "[]\n"
	}
	_, err := io.WriteString(j.w, end)
	return err
}
