package stats_test

import (
	"testing"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmd/root"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/iostreams"
)

// cli runs spotctl in-process, as a terminal (tty) or a pipe would see it.
func cli(t *testing.T, tty bool, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	ios.SetStdoutTTY(tty)
	code = root.Main(ios, args)
	return out.String(), errOut.String(), code
}
