package decodetest

import (
	"os"
	"os/exec"
	"testing"
)

// RequireToolsEnv names the environment variable that turns a missing
// reference tool (tshark, editcap, nfdump) from a skip into a failure. CI
// installs the tools and sets it.
const RequireToolsEnv = "SPOTCTL_REQUIRE_TOOLS"

// Tool returns the path of a reference tool, or skips the test with a
// message when it is not installed (fails under SPOTCTL_REQUIRE_TOOLS).
func Tool(tb testing.TB, name, debianPackage string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv(RequireToolsEnv) != "" {
			tb.Fatalf("%s not found and %s is set (apt-get install %s)", name, RequireToolsEnv, debianPackage)
		}
		tb.Skipf("%s not installed (apt-get install %s); skipping cross-check", name, debianPackage)
	}
	return p
}
