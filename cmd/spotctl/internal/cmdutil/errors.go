// Package cmdutil holds what every command shares: the error kinds that
// decide the exit code, and the output flags.
package cmdutil

import (
	"errors"
	"fmt"
)

// Exit codes: a contract for scripts and CI jobs (spotctl help exit-codes).
// An unknown code must be read as a failure.
const (
	ExitOK          = 0   // success, including "nothing suspicious"
	ExitError       = 1   // failure: nothing usable, a corrupt case, an I/O error
	ExitUsage       = 2   // bad flags, arguments or filter
	ExitPartial     = 3   // some evidence had errors; everything readable was used and written
	ExitFindings    = 4   // results matched a --fail-on gate
	ExitInterrupted = 130 // interrupted (Ctrl-C)
)

// FlagError is a usage error: exit 2, and the command's usage line is shown.
type FlagError struct{ Err error }

func (e *FlagError) Error() string { return e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

// FlagErrorf builds a FlagError.
func FlagErrorf(format string, args ...any) error {
	return &FlagError{Err: fmt.Errorf(format, args...)}
}

// PartialError means the command finished and wrote its results, but some
// evidence could not be read completely (exit 3). The problems were already
// reported as warnings.
type PartialError struct{ Problems int }

func (e *PartialError) Error() string {
	if e.Problems == 1 {
		return "1 evidence problem (see warnings above); everything readable was used"
	}
	return fmt.Sprintf("%d evidence problems (see warnings above); everything readable was used", e.Problems)
}

// SilentError carries an exit code for a failure that was already reported.
type SilentError struct{ Code int }

func (e *SilentError) Error() string { return fmt.Sprintf("exit %d", e.Code) }

// ExitCode maps an error returned by a command to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var fe *FlagError
	var pe *PartialError
	var se *SilentError
	switch {
	case errors.As(err, &fe):
		return ExitUsage
	case errors.As(err, &pe):
		return ExitPartial
	case errors.As(err, &se):
		return se.Code
	}
	return ExitError
}
