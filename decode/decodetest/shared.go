// Package decodetest holds helpers for tests that read the shared real-world
// evidence (../shared/testdata beside the repository). It is imported by
// tests only.
package decodetest

import (
	"os"
	"path/filepath"
	"testing"
)

// RequireEnv names the environment variable that turns a missing shared
// test-data folder from a skip into a failure (CI sets it), so a broken
// checkout cannot pass by skipping everything.
const RequireEnv = "SPOTCTL_REQUIRE_SHARED"

// RepoRoot returns the repository root (the folder holding go.mod), found by
// walking up from the test's working directory.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatalf("getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatalf("no go.mod above the test's working directory")
		}
		dir = parent
	}
}

// SharedDir returns the absolute path of ../shared/testdata next to the
// repository, or skips the test with a clear message when it is absent (a
// user's clone). With SPOTCTL_REQUIRE_SHARED=1 a missing folder fails.
func SharedDir(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(filepath.Dir(RepoRoot(tb)), "shared", "testdata")
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		if os.Getenv(RequireEnv) != "" {
			tb.Fatalf("shared test data %s is missing and %s is set", dir, RequireEnv)
		}
		tb.Skipf("shared test data not found at %s (it sits beside the repository in the team's workspace); skipping", dir)
	}
	return dir
}

// SharedFiles returns the sorted absolute paths of the files in one
// subfolder of the shared test data (e.g. "pcap").
func SharedFiles(tb testing.TB, sub string) []string {
	tb.Helper()
	dir := filepath.Join(SharedDir(tb), sub)
	ents, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatalf("read %s: %v", dir, err)
	}
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out
}
