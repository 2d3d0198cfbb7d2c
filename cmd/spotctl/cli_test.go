package main

// CLI tests as data. Each file testdata/cli/NAME.txtar is one invocation of
// spotctl, run in-process through root.Main with the streams a terminal or a
// pipe would give, and compared byte for byte with the expected stdout,
// stderr and exit code. The files are txtar archives (golang.org/x/tools/txtar's
// format, read by the small parser below so the module needs no new
// dependency): a header of "key: value" lines, then sections.
//
//	# What the case shows (comment lines start with #).
//	args: flows demo.case --limit 3 'proto udp'   (shell-style quoting)
//	mode: both                 tty, pipe or both (default both)
//	exit: 0                    expected exit code (default 0)
//	stdin: tiny.pcap           a fixture file fed to standard input (optional)
//	stderr-re: ^warning: .*    stderr must match this regexp instead of a section (optional)
//	-- tty/stdout --
//	…
//	-- tty/stderr --
//	…
//	-- pipe/stdout --
//	…
//
// A missing stdout or stderr section means that stream must be empty. In
// "tty" mode stdout is a terminal (table by default); stderr stays a pipe in
// both modes, because the ingest progress line is drawn on a timer and can
// never be golden. A section name ending in ".noeol" holds output without a
// final newline (txtar sections always end in one).
//
// Arguments and outputs name two directories by placeholder: $WORK, the
// shared fixtures (built once per run by fixtures(), and the working
// directory of every case, so fixtures are named relatively), and $TMP, an
// empty directory of the running case for what it writes. $VERSION stands
// for spotctl's version.
//
// Every run pins the environment: TZ=UTC and time.Local = UTC, COLUMNS=80,
// LINES=24, TERM=xterm, and NO_COLOR, CLICOLOR, CLICOLOR_FORCE,
// SPOTCTL_FORCE_TTY and SPOTCTL_CPUPROFILE unset (spotctl help environment);
// TestCLITimeZoneIndependent then runs every case again under
// America/New_York and expects the same bytes.
//
// To add a case, write its header and run
//
//	go test ./cmd/spotctl -run 'TestCLI$/^NAME$' -update     (or UPDATE_GOLDEN=1)
//
// which (re)writes the sections from what spotctl printed; review the diff.

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // TestCLITimeZoneIndependent must not depend on the host's zoneinfo

	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmd/root"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmdutil"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/iostreams"
)

var update = flag.Bool("update", false, "rewrite the expected output of the CLI cases in testdata/cli from what spotctl prints")

const cliDir = "testdata/cli"

func updating() bool { return *update || os.Getenv("UPDATE_GOLDEN") == "1" }

// cliCase is one testdata/cli file.
type cliCase struct {
	name     string
	path     string
	header   []byte // the comment and key lines, kept verbatim on update
	args     []string
	modes    []string // "tty", "pipe"
	exit     int
	stdin    string // fixture file fed to stdin
	stderrRE *regexp.Regexp
	sections map[string][]byte
}

func (c *cliCase) want(mode, stream string) []byte {
	if b, ok := c.sections[mode+"/"+stream]; ok {
		return b
	}
	if b, ok := c.sections[mode+"/"+stream+".noeol"]; ok {
		return bytes.TrimSuffix(b, []byte("\n"))
	}
	return nil
}

// loadCases reads every case file, sorted by name.
func loadCases(t *testing.T) []*cliCase {
	t.Helper()
	dir, err := filepath.Abs(cliDir) // cases run in the fixture directory
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no CLI cases in %s", cliDir)
	}
	slices.Sort(files)
	var cases []*cliCase
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := parseCase(f, b)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, c)
	}
	return cases
}

var sectionMarker = regexp.MustCompile(`^-- (\S+) --$`)

// parseCase reads one txtar case; errors name the file and line.
func parseCase(path string, data []byte) (*cliCase, error) {
	c := &cliCase{
		name:     strings.TrimSuffix(filepath.Base(path), ".txtar"),
		path:     path,
		modes:    []string{"tty", "pipe"},
		sections: map[string][]byte{},
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	i := 0
	seen := map[string]bool{}
	for ; i < len(lines); i++ {
		line := strings.TrimRight(string(lines[i]), "\n")
		if sectionMarker.MatchString(line) {
			break
		}
		c.header = append(c.header, lines[i]...)
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		key, val, ok := strings.Cut(trimmed, ":")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want 'key: value' or a # comment, got %q", path, i+1, line)
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if seen[key] {
			return nil, fmt.Errorf("%s:%d: %s given twice", path, i+1, key)
		}
		seen[key] = true
		var err error
		switch key {
		case "args":
			c.args, err = splitArgs(val)
		case "mode":
			switch val {
			case "both":
			case "tty", "pipe":
				c.modes = []string{val}
			default:
				err = fmt.Errorf("mode %q: want tty, pipe or both", val)
			}
		case "exit":
			c.exit, err = strconv.Atoi(val)
		case "stdin":
			c.stdin = val
		case "stderr-re":
			c.stderrRE, err = regexp.Compile(val)
		default:
			err = fmt.Errorf("unknown key %q (args, mode, exit, stdin, stderr-re)", key)
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, i+1, err)
		}
	}
	if !seen["args"] {
		return nil, fmt.Errorf("%s: no args line", path)
	}
	var name string
	for ; i < len(lines); i++ {
		line := strings.TrimRight(string(lines[i]), "\n")
		if m := sectionMarker.FindStringSubmatch(line); m != nil {
			name = m[1]
			base := strings.TrimSuffix(name, ".noeol")
			mode, stream, _ := strings.Cut(base, "/")
			if !slices.Contains(c.modes, mode) || (stream != "stdout" && stream != "stderr") {
				return nil, fmt.Errorf("%s:%d: section %q: want tty/stdout, tty/stderr, pipe/stdout or pipe/stderr of a mode the case runs in", path, i+1, name)
			}
			if _, dup := c.sections[name]; dup {
				return nil, fmt.Errorf("%s:%d: section %q given twice", path, i+1, name)
			}
			c.sections[name] = []byte{}
			continue
		}
		c.sections[name] = append(c.sections[name], lines[i]...)
	}
	return c, nil
}

// format writes a case back with new sections (on -update).
func (c *cliCase) format(got map[string][]byte) ([]byte, error) {
	var b bytes.Buffer
	b.Write(c.header)
	if len(c.header) > 0 && !bytes.HasSuffix(c.header, []byte("\n")) {
		b.WriteByte('\n')
	}
	for _, mode := range c.modes {
		for _, stream := range []string{"stdout", "stderr"} {
			key := mode + "/" + stream
			data := got[key]
			if len(data) == 0 || (stream == "stderr" && c.stderrRE != nil) {
				continue
			}
			for _, l := range strings.SplitAfter(string(data), "\n") {
				if sectionMarker.MatchString(strings.TrimSuffix(l, "\n")) {
					return nil, fmt.Errorf("%s: %s has a line that reads as a txtar marker: %q", c.name, key, l)
				}
			}
			if !bytes.HasSuffix(data, []byte("\n")) {
				key += ".noeol"
				data = append(slices.Clip(data), '\n')
			}
			fmt.Fprintf(&b, "-- %s --\n", key)
			b.Write(data)
		}
	}
	return b.Bytes(), nil
}

// splitArgs splits a command line as a POSIX shell would for the simple
// cases: blanks separate words, '…' quotes literally, "…" quotes with \" and
// \\ escapes, and a backslash outside quotes escapes the next character.
func splitArgs(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t':
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		case ch == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated ' at column %d", i+1)
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case ch == '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) && (s[j+1] == '"' || s[j+1] == '\\') {
					j++
				}
				cur.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated \" at column %d", i+1)
			}
			i = j
			inWord = true
		case ch == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		args = append(args, cur.String())
	}
	return args, nil
}

// pinEnv fixes every environment input spotctl (or a library under it)
// could read for output, for the rest of the test.
func pinEnv(t *testing.T, loc *time.Location) {
	t.Helper()
	for k, v := range map[string]string{"TZ": loc.String(), "COLUMNS": "80", "LINES": "24", "TERM": "xterm"} {
		t.Setenv(k, v)
	}
	for _, k := range []string{"NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "SPOTCTL_FORCE_TTY", "SPOTCTL_CPUPROFILE"} {
		t.Setenv(k, "") // restores the old value after the test
		os.Unsetenv(k)
	}
	prev := time.Local
	time.Local = loc
	t.Cleanup(func() { time.Local = prev })
}

// placeholders maps each directory a case may see to its placeholder,
// longest path first so a path inside another is replaced whole. Both the
// path as created and with symbolic links resolved are listed (os.Getwd
// may give either, e.g. /var vs /private/var on macOS).
type placeholders [][2]string

func newPlaceholders(dirs map[string]string) placeholders {
	var p placeholders
	for name, dir := range dirs {
		p = append(p, [2]string{dir, name})
		if real, err := filepath.EvalSymlinks(dir); err == nil && real != dir {
			p = append(p, [2]string{real, name})
		}
	}
	slices.SortFunc(p, func(a, b [2]string) int { return len(b[0]) - len(a[0]) })
	return p
}

func (p placeholders) expand(s string) string {
	for _, kv := range p {
		s = strings.ReplaceAll(s, kv[1], kv[0])
	}
	return s
}

func (p placeholders) hide(b []byte) []byte {
	for _, kv := range p {
		b = bytes.ReplaceAll(b, []byte(kv[0]), []byte(kv[1]))
	}
	// The version appears as "spotctl VERSION" (created_by) and
	// "spotctl version VERSION" (--version); a linker-set version must not
	// break the goldens.
	v := cmdutil.Version()
	b = bytes.ReplaceAll(b, []byte("spotctl version "+v), []byte("spotctl version $VERSION"))
	b = bytes.ReplaceAll(b, []byte("spotctl "+v), []byte("spotctl $VERSION"))
	return b
}

// runCase runs one case in one mode and returns what it printed, with the
// directories and version replaced by their placeholders.
func runCase(t *testing.T, c *cliCase, mode string, loc *time.Location) (stdout, stderr []byte, code int) {
	t.Helper()
	work := fixtures(t)
	pinEnv(t, loc)
	ph := newPlaceholders(map[string]string{"$WORK": work, "$TMP": t.TempDir()})
	t.Chdir(work)
	args := make([]string, len(c.args))
	for i, a := range c.args {
		args[i] = ph.expand(a)
	}
	ios, in, out, errOut := iostreams.Test()
	ios.SetStdoutTTY(mode == "tty")
	if c.stdin != "" {
		b, err := os.ReadFile(filepath.Join(work, c.stdin))
		if err != nil {
			t.Fatalf("stdin: %v", err)
		}
		in.Write(b)
	}
	code = root.Main(ios, args)
	return ph.hide(out.Bytes()), ph.hide(errOut.Bytes()), code
}

func TestCLI(t *testing.T) {
	cases := loadCases(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := map[string][]byte{}
			failed := false
			for _, mode := range c.modes {
				stdout, stderr, code := runCase(t, c, mode, time.UTC)
				got[mode+"/stdout"], got[mode+"/stderr"] = stdout, stderr
				if updating() {
					if code != c.exit {
						t.Errorf("%s: exit %d, but the case says exit: %d (fix the header by hand)\nstderr:\n%s", mode, code, c.exit, stderr)
					}
					continue
				}
				failed = !checkRun(t, c, mode, stdout, stderr, code) || failed
			}
			if updating() {
				b, err := c.format(got)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(c.path, b, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if failed {
				t.Logf("to accept spotctl's output as the new expectation: go test ./cmd/spotctl -run 'TestCLI$/^%s$' -update (an exit: line is edited by hand)", c.name)
			}
		})
	}
}

// checkRun compares one run with the case and reports every difference.
func checkRun(t *testing.T, c *cliCase, mode string, stdout, stderr []byte, code int) bool {
	t.Helper()
	ok := true
	if code != c.exit {
		t.Errorf("%s: exit %d, want %d", mode, code, c.exit)
		ok = false
	}
	if want := c.want(mode, "stdout"); !bytes.Equal(stdout, want) {
		t.Errorf("%s: stdout differs (- want, + got):\n%s", mode, lineDiff(want, stdout))
		ok = false
	}
	if c.stderrRE != nil {
		if !c.stderrRE.Match(stderr) {
			t.Errorf("%s: stderr does not match %q:\n%s", mode, c.stderrRE, stderr)
			ok = false
		}
	} else if want := c.want(mode, "stderr"); !bytes.Equal(stderr, want) {
		t.Errorf("%s: stderr differs (- want, + got):\n%s", mode, lineDiff(want, stderr))
		ok = false
	}
	return ok
}

// TestCLITimeZoneIndependent runs every case again with the local zone and
// TZ set to America/New_York: spotctl promises (spotctl help environment)
// that TZ changes no output, so the goldens must hold unchanged.
func TestCLITimeZoneIndependent(t *testing.T) {
	if updating() {
		t.Skip("goldens are being rewritten")
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range loadCases(t) {
		t.Run(c.name, func(t *testing.T) {
			for _, mode := range c.modes {
				stdout, stderr, code := runCase(t, c, mode, ny)
				checkRun(t, c, mode, stdout, stderr, code)
			}
		})
	}
}

// lineDiff is a line diff of two outputs (longest common subsequence),
// with up to three lines of context around each change and invisible bytes
// made visible, so a failing golden says what changed.
func lineDiff(want, got []byte) string {
	a := splitLines(want)
	b := splitLines(got)
	// lcs[i][j] = length of the LCS of a[i:] and b[j:]. Outputs here are
	// at most a few hundred lines.
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type op struct {
		kind byte // ' ', '-', '+'
		text string
	}
	var ops []op
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			ops = append(ops, op{' ', a[i]})
			i++
			j++
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, op{'-', a[i]})
			i++
		default:
			ops = append(ops, op{'+', b[j]})
			j++
		}
	}
	const context = 3
	var sb strings.Builder
	lastShown := -1
	for k, o := range ops {
		near := false
		for d := max(0, k-context); d <= min(len(ops)-1, k+context); d++ {
			if ops[d].kind != ' ' {
				near = true
				break
			}
		}
		if !near {
			continue
		}
		if lastShown >= 0 && k > lastShown+1 {
			sb.WriteString("@@ …\n")
		}
		lastShown = k
		fmt.Fprintf(&sb, "%c %s\n", o.kind, visible(o.text))
	}
	return sb.String()
}

// splitLines splits output into lines, keeping a missing final newline
// visible as a difference.
func splitLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	s := string(b)
	noEOL := !strings.HasSuffix(s, "\n")
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if noEOL {
		lines[len(lines)-1] += "⏎(no newline at end)"
	}
	return lines
}

// visible shows control bytes and invalid UTF-8 as Go escapes.
func visible(s string) string {
	q := strconv.Quote(s)
	q = q[1 : len(q)-1]
	return strings.ReplaceAll(q, `\"`, `"`)
}

func TestSplitArgs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`flows demo.case --limit 3`, []string{"flows", "demo.case", "--limit", "3"}},
		{`flows c 'proto udp and dst port 53'`, []string{"flows", "c", "proto udp and dst port 53"}},
		{`a "b \"c\" \\d" e\ f ''`, []string{"a", `b "c" \d`, "e f", ""}},
		{`  x   y  `, []string{"x", "y"}},
	} {
		got, err := splitArgs(tc.in)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("splitArgs(%s) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{`a 'b`, `a "b`} {
		if _, err := splitArgs(bad); err == nil {
			t.Errorf("splitArgs(%s): no error", bad)
		}
	}
}

// A case file round-trips through parseCase and format, and mistakes in
// its header are errors that name the line.
func TestParseCase(t *testing.T) {
	text := "# comment\nargs: flows c\nmode: both\nexit: 3\n-- tty/stdout --\nA\n-- pipe/stderr.noeol --\nB\n"
	c, err := parseCase("x.txtar", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if c.exit != 3 || !slices.Equal(c.args, []string{"flows", "c"}) || string(c.want("tty", "stdout")) != "A\n" ||
		string(c.want("pipe", "stderr")) != "B" || c.want("pipe", "stdout") != nil {
		t.Fatalf("parsed %+v", c)
	}
	out, err := c.format(map[string][]byte{"tty/stdout": []byte("A\n"), "pipe/stderr": []byte("B")})
	if err != nil || string(out) != text {
		t.Fatalf("format:\n%s\nwant\n%s", out, text)
	}
	for _, bad := range []string{
		"mode: tty\n",                             // no args
		"args: x\nmode: sometimes\n",              // bad mode
		"args: x\nexit: one\n",                    // bad exit
		"args: x\nargs: y\n",                      // twice
		"args: x\ncolour: red\n",                  // unknown key
		"args: x\nmode: pipe\n-- tty/stdout --\n", // section of a mode it does not run
		"args: x\n-- pipe/stdin --\n",             // unknown stream
	} {
		if _, err := parseCase("bad.txtar", []byte(bad)); err == nil {
			t.Errorf("parseCase(%q): no error", bad)
		}
	}
}

func TestLineDiff(t *testing.T) {
	want := []byte("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n")
	got := []byte("1\n2\n3\n4\n5\n6\n7\nEIGHT\n9\n10\n\x1b")
	d := lineDiff(want, got)
	wantDiff := "  5\n  6\n  7\n- 8\n+ EIGHT\n  9\n  10\n+ \\x1b⏎(no newline at end)\n"
	if d != wantDiff {
		t.Errorf("diff:\n%s\nwant:\n%s", d, wantDiff)
	}
}
