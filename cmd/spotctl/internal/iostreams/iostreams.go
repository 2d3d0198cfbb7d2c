// Package iostreams is the only door to the terminal: the three streams and
// the facts about them (is stdout a terminal, how wide is it). Commands take
// an *IOStreams and never touch os.Stdout or isatty themselves, so every
// command runs in tests with plain buffers.
package iostreams

import (
	"bytes"
	"io"
	"os"

	"github.com/mattn/go-isatty"
)

// IOStreams holds the streams of one command invocation.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdoutTTY bool
	stderrTTY bool
}

// System returns the process's streams. SPOTCTL_FORCE_TTY=1 makes stdout
// and stderr count as terminals (for screenshots and tests of the table
// view through a pipe).
func System() *IOStreams {
	force := os.Getenv("SPOTCTL_FORCE_TTY") != ""
	return &IOStreams{
		In:        os.Stdin,
		Out:       os.Stdout,
		ErrOut:    os.Stderr,
		stdoutTTY: force || isTerminal(os.Stdout),
		stderrTTY: force || isTerminal(os.Stderr),
	}
}

func isTerminal(f *os.File) bool {
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// IsStdoutTTY reports whether results go to a terminal (table) or a pipe (JSON Lines).
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStderrTTY reports whether progress may be drawn.
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// SetStdoutTTY overrides the terminal fact (tests).
func (s *IOStreams) SetStdoutTTY(v bool) { s.stdoutTTY = v }

// SetStderrTTY overrides the terminal fact (tests).
func (s *IOStreams) SetStderrTTY(v bool) { s.stderrTTY = v }

// Test returns streams backed by buffers, with every terminal fact false.
func Test() (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}
