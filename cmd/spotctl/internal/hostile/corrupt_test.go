//go:build unix

package hostile

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmd/root"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmdutil"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/iostreams"
	"github.com/spotctl/spotctl/flowstore"
)

// caseCommand is one command that reads a case, and the tables it reads.
type caseCommand struct {
	name   string
	args   []string // CASE stands for the case directory, OUT for a fresh output directory
	tables []string
}

// caseCommands are every command that takes a case. eval is not one: it
// writes and reads its own cases. verify is checked apart (its job is to
// report corruption, on stdout).
var caseCommands = []caseCommand{
	{"info", []string{"info", "CASE"}, []string{flowstore.TableFlows, flowstore.TableDNS}},
	{"flows", []string{"flows", "CASE"}, []string{flowstore.TableFlows}},
	{"flows-filter", []string{"flows", "CASE", "--fields", "first,src_ip,dst_port,bytes", "proto udp and dst port 53"}, []string{flowstore.TableFlows}},
	{"dns", []string{"dns", "CASE"}, []string{flowstore.TableDNS}},
	{"stats-flows", []string{"stats", "CASE", "-s", "srcip/bytes", "-n", "5"}, []string{flowstore.TableFlows}},
	{"stats-dns", []string{"stats", "CASE", "-s", "domain", "-n", "5"}, []string{flowstore.TableDNS}},
	{"score-flows", []string{"score", "flows", "CASE", "--iterations", "3", "--top", "5"}, []string{flowstore.TableFlows}},
	{"score-dns", []string{"score", "dns", "CASE", "--iterations", "3", "--top", "5"}, []string{flowstore.TableDNS}},
	{"export", []string{"export", "CASE", "--jsonl", "OUT"}, []string{flowstore.TableFlows, flowstore.TableDNS}},
}

// cli runs spotctl in-process, as a pipe sees it.
func cli(args ...string) (stdout, stderr string, code int) {
	ios, _, out, errOut := iostreams.Test()
	code = root.Main(ios, args)
	return out.String(), errOut.String(), code
}

// run runs c on the case at dir and returns its exit code, stderr, and
// what it wrote: stdout, then every file under OUT with its content, with
// the case and output paths replaced by CASE and OUT.
func (c caseCommand) run(t *testing.T, dir string) (code int, stderr, output string) {
	t.Helper()
	outDir := filepath.Join(t.TempDir(), "out")
	args := slices.Clone(c.args)
	for i, a := range args {
		switch a {
		case "CASE":
			args[i] = dir
		case "OUT":
			args[i] = outDir
		}
	}
	stdout, stderr, code := cli(args...)
	var b strings.Builder
	b.WriteString(stdout)
	filepath.WalkDir(outDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(outDir, p)
		content, _ := os.ReadFile(p)
		fmt.Fprintf(&b, "\n== OUT/%s\n%s", rel, content)
		return nil
	})
	output = strings.ReplaceAll(strings.ReplaceAll(b.String(), dir, "CASE"), outDir, "OUT")
	return code, stderr, output
}

// files splits run's output into stdout and one entry per file.
func files(output string) map[string]string {
	m := map[string]string{}
	parts := strings.Split(output, "\n== OUT/")
	m[""] = parts[0]
	for _, p := range parts[1:] {
		name, content, _ := strings.Cut(p, "\n")
		m[name] = content
	}
	return m
}

// smallCase builds a case of two segments: a synthetic capture, then
// another one with an nfdump CSV export whose flows fill the sparse
// columns (AS numbers, interfaces, masks, next hop, reverse counters).
// Corruption goes into the second segment, so a command that printed the
// first segment's rows before reaching it would be caught.
func smallCase(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	p1, p2 := filepath.Join(dir, "a.pcap"), filepath.Join(dir, "b.pcap")
	// The second segment is days later than the first, so a command that
	// streams in time order meets its rows only after the first segment's
	// (more than any output buffer holds).
	for _, s := range []struct{ seed, path, packets, start string }{{"3", p1, "20000", "2026-03-02T00:00:00Z"}, {"4", p2, "3000", "2026-03-05T00:00:00Z"}} {
		if _, stderr, code := cli("synth", "--seed", s.seed, "--hosts", "6", "--packets", s.packets, "--start", s.start, "-o", s.path); code != 0 {
			t.Fatalf("synth: exit %d: %s", code, stderr)
		}
	}
	csv := filepath.Join(dir, "export.csv")
	var b strings.Builder
	b.WriteString("ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr\n")
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&b, "2026-03-05 10:%02d:00,2026-03-05 10:%02d:02,2.000,10.9.0.%d,198.51.100.%d,%d,443,TCP,...AP..F,0,0,9,930,2,120,9,10,64512,15169,24,16,0,0,192.168.0.99,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0.000,0.000,0.000,170.80.156.33,0/0,1,2026-03-05 10:%02d:03.000\n",
			i, i, i, i+1, 40000+i, i)
	}
	if err := os.WriteFile(csv, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	casePath := filepath.Join(dir, "case")
	for _, ev := range [][]string{{p1}, {p2, csv}} {
		if _, stderr, code := cli(append([]string{"ingest", "-q", "-o", casePath}, ev...)...); code != 0 {
			t.Fatalf("ingest %v: exit %d: %s", ev, code, stderr)
		}
	}
	return casePath
}

// copyCase copies a case directory (two levels: segments hold files).
func copyCase(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "case")
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

type damage struct {
	name  string
	table string // the table whose file is damaged
	// column is the column whose data is damaged, "" for the file header.
	column string
	apply  func(path string) error
	// want are substrings every refusal must print.
	want []string
}

// flipAt returns a damage that xors one byte at off.
func flipAt(off int64) func(string) error {
	return func(path string) error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		b[off] ^= 0x20
		return os.WriteFile(path, b, 0o644)
	}
}

// damages lists, for the last segment of casePath, a flipped byte in the
// middle of every part of every column of both tables, and whole-file
// damage: truncation, wrong magic, a future version.
func damages(t *testing.T, casePath string) (segDir string, ds []damage) {
	t.Helper()
	segs, _ := filepath.Glob(filepath.Join(casePath, "seg-*"))
	sort.Strings(segs)
	segDir = segs[len(segs)-1]
	seg := filepath.Base(segDir)
	for _, table := range []string{flowstore.TableFlows, flowstore.TableDNS} {
		path := filepath.Join(segDir, table+".col")
		tb, err := flowstore.OpenColumnFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range tb.Columns() {
			for i, p := range c.Parts {
				if p.Length == 0 {
					continue
				}
				off := int64(p.Offset + p.Length/2)
				ds = append(ds, damage{
					name: fmt.Sprintf("%s/%s/part%d", table, c.Name, i), table: table, column: c.Name, apply: flipAt(off),
					want: []string{filepath.Join(seg, table+".col"), "table " + table + ", ", fmt.Sprintf("column %q part %d at offset %d: checksum mismatch", c.Name, i, p.Offset)},
				})
			}
		}
		tb.Close()
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		size := st.Size()
		ds = append(ds,
			damage{name: table + "/truncated", table: table, apply: func(p string) error { return os.Truncate(p, size/2) },
				want: []string{table + ".col", "runs past the end of the", "truncated"}},
			damage{name: table + "/magic", table: table, apply: func(p string) error {
				b, _ := os.ReadFile(p)
				copy(b, "PK\x03\x04")
				return os.WriteFile(p, b, 0o644)
			}, want: []string{table + ".col", "header at offset 0: bad magic"}},
			damage{name: table + "/version", table: table, apply: func(p string) error {
				b, _ := os.ReadFile(p)
				binary.LittleEndian.PutUint32(b[4:], flowstore.ColumnFileVersion+1)
				return os.WriteFile(p, b, 0o644)
			}, want: []string{table + ".col", fmt.Sprintf("header at offset 4: unsupported format version: column file version %d, this build reads version %d", flowstore.ColumnFileVersion+1, flowstore.ColumnFileVersion)}},
		)
	}
	return segDir, ds
}

// TestCommandsRefuseCorruptCase damages one column (or one column file) of
// a case at a time and runs every command that reads cases on it. Each must
// either refuse, with exit 1, nothing on stdout and an error naming the
// file, table, column and offset, or, when it never reads what was
// damaged, print exactly what it prints for the sound case: no command
// computes on bytes that failed a check. Commands must refuse damage to
// every column they print or score.
func TestCommandsRefuseCorruptCase(t *testing.T) {
	clean := smallCase(t)
	cleanOut := map[string]string{}
	for _, c := range caseCommands {
		code, stderr, out := c.run(t, clean)
		if code != 0 || out == "" {
			t.Fatalf("%s on the sound case: exit %d, %d bytes out: %s", c.name, code, len(out), stderr)
		}
		cleanOut[c.name] = out
	}
	if _, _, code := cli("verify", clean, "--no-evidence"); code != 0 {
		t.Fatalf("verify of the sound case: exit %d", code)
	}
	_, ds := damages(t, clean)
	refused := map[string][]string{} // command → damages it refused
	columns := map[string]bool{}
	for _, d := range ds {
		t.Run(d.name, func(t *testing.T) {
			casePath := copyCase(t, clean)
			segs, _ := filepath.Glob(filepath.Join(casePath, "seg-*"))
			sort.Strings(segs)
			if err := d.apply(filepath.Join(segs[len(segs)-1], d.table+".col")); err != nil {
				t.Fatal(err)
			}
			if d.column != "" {
				columns[d.table+"/"+d.column] = true
			}
			// verify finds every damage and names it.
			out, _, code := cli("verify", casePath, "--no-evidence")
			if code != cmdutil.ExitError || !strings.Contains(out, `"status":"corrupt"`) {
				t.Errorf("verify: exit %d\n%s", code, out)
			}
			for _, c := range caseCommands {
				code, stderr, out := c.run(t, casePath)
				reads := slices.Contains(c.tables, d.table)
				switch {
				case code == cmdutil.ExitError:
					refused[c.name] = append(refused[c.name], d.name)
					// Nothing on stdout; files only if they are exactly
					// what the sound case gives (export keeps the tables
					// it finished before the damaged one) and none of the
					// damaged table.
					cleanFiles := files(cleanOut[c.name])
					for name, content := range files(out) {
						switch {
						case name == "" && content != "":
							t.Errorf("%s refused but printed %d bytes on stdout: %.200q", c.name, len(content), content)
						case name != "" && (strings.HasPrefix(name, d.table+"/") || content != cleanFiles[name]):
							t.Errorf("%s refused but left %s (%d bytes)", c.name, name, len(content))
						}
					}
					for _, w := range d.want {
						if !strings.Contains(stderr, w) {
							t.Errorf("%s: error %q does not say %q", c.name, strings.TrimSpace(stderr), w)
						}
					}
					if !reads {
						t.Errorf("%s refused damage to the %s table, which it does not read: %s", c.name, d.table, stderr)
					}
				case code == 0 && out == cleanOut[c.name]:
					// Never read the damaged bytes: the same output.
					if reads && d.column == "" {
						t.Errorf("%s did not notice a damaged %s.col (it reads that table)", c.name, d.table)
					}
				default:
					t.Errorf("%s: exit %d and %s output: computed on damaged data? stderr: %s", c.name, code,
						map[bool]string{true: "the same", false: "different"}[out == cleanOut[c.name]], stderr)
				}
			}
		})
	}
	// What each command must refuse: damage to any column it shows or
	// scores (and, for the table-wide damage, any table it reads).
	must := map[string][]string{
		"info":        {"flows/first/part0", "flows/last/part0", "flows/packets/part0", "flows/bytes/part0"},
		"score-flows": {"flows/src_ip/part0", "flows/dst_ip/part0", "flows/dst_port/part0", "flows/proto/part0", "flows/bytes/part0", "flows/packets/part0"},
		"score-dns":   {"dns/qname/part0", "dns/ts/part0", "dns/client_ip/part0", "dns/response/part0"},
		"stats-flows": {"flows/src_ip/part0", "flows/bytes/part0"},
		"stats-dns":   {"dns/qname/part0"},
	}
	for _, d := range ds {
		if d.column == "" {
			continue
		}
		switch d.table { // flows and dns print every column of their table
		case flowstore.TableFlows:
			must["flows"] = append(must["flows"], d.name)
		case flowstore.TableDNS:
			must["dns"] = append(must["dns"], d.name)
		}
	}
	for cmd, names := range must {
		for _, n := range names {
			if !slices.Contains(refused[cmd], n) {
				t.Errorf("%s did not refuse %s", cmd, n)
			}
		}
	}
	recordFigure(t, fmt.Sprintf("| damages | %d (%d column parts over %d columns, 3 whole-file damages per table) | | |", len(ds), len(ds)-6, len(columns)))
	for _, c := range caseCommands {
		recordFigure(t, fmt.Sprintf("| %s | `spotctl %s` | %d | %d |", c.name, strings.Join(c.args, " "), len(refused[c.name]), len(ds)-len(refused[c.name])))
	}
}
