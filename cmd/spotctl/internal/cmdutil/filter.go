package cmdutil

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/spotctl/spotctl/detect/filter"
)

// FilterFlags are -f FILE and --check, shared by every command that takes
// a filter (docs/filter.md).
type FilterFlags struct {
	File  string
	Check bool
}

// AddFlags registers -f and --check.
func (f *FilterFlags) AddFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&f.File, "filter-file", "f", "", "read the filter from FILE (nfdump syntax, # comments)")
	fs.BoolVar(&f.Check, "check", false, "only check the filter's syntax: exit 0 when valid, 2 with the error otherwise")
}

// Compile builds the filter from the command-line text (the trailing
// arguments, joined) or -f FILE; giving both is a usage error. A syntax
// error is a usage error (exit 2) that points at line and column.
func (f *FilterFlags) Compile(args []string, kind filter.Kind) (*filter.Filter, error) {
	text := strings.Join(args, " ")
	name := "filter"
	if f.File != "" {
		if strings.TrimSpace(text) != "" {
			return nil, FlagErrorf("give the filter either as arguments or with -f, not both")
		}
		b, err := os.ReadFile(f.File)
		if err != nil {
			return nil, FlagErrorf("-f: %v", err)
		}
		text, name = string(b), f.File
	}
	flt, err := filter.CompileNamed(name, text, kind)
	if err != nil {
		return nil, &FlagError{Err: err}
	}
	return flt, nil
}

// CheckOnly reports the outcome of --check on stdout and returns the
// command's result.
func CheckOnly(out interface{ Write([]byte) (int, error) }, flt *filter.Filter) error {
	fmt.Fprintf(out, "filter ok: %s\n", flt.String())
	return nil
}

// CaseAndFilter parses the arguments of a `COMMAND CASE [FILTER]` command:
// the case directory and the compiled filter. With --check every argument
// is filter text: the filter is checked and reported, and checked is true
// (the command is then done).
func (f *FilterFlags) CaseAndFilter(out interface{ Write([]byte) (int, error) }, command string, args []string, kind filter.Kind) (casePath string, flt *filter.Filter, checked bool, err error) {
	if f.Check {
		flt, err := f.Compile(args, kind)
		if err != nil {
			return "", nil, false, err
		}
		return "", flt, true, CheckOnly(out, flt)
	}
	if len(args) < 1 {
		return "", nil, false, FlagErrorf("%s needs a CASE", command)
	}
	flt, err = f.Compile(args[1:], kind)
	return args[0], flt, false, err
}
