package input

import "io"

// OpenReader detects the format of evidence read from r, an already open
// stream such as standard input, named name in messages ("-" for standard
// input). Its size is unknown; nothing is closed at the end.
func OpenReader(name string, r io.Reader) (*Evidence, error) {
	return open(name, r, -1)
}
