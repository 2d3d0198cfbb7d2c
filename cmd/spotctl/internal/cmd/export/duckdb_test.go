package export_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spotctl/spotctl/decode/decodetest"
	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/flowstore"
)

// duckdbVersion is the @duckdb/node-api release the interop test runs
// (DuckDB 1.5.6).
const duckdbVersion = "1.5.6-r.1"

// duckdbModule returns a directory whose node_modules holds
// @duckdb/node-api, installing it once into the user cache directory
// (about 70 MB, a few seconds). A failed install skips the test, loudly:
// the registry may be unreachable on a developer's machine.
func duckdbModule(t *testing.T, npm string) string {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "spotctl", "duckdb-node-api-"+duckdbVersion)
	marker := filepath.Join(dir, "node_modules", "@duckdb", "node-api", "package.json")
	if b, err := os.ReadFile(marker); err == nil && bytes.Contains(b, []byte(`"version": "`+duckdbVersion+`"`)) {
		return dir
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	// Install beside the final directory and rename: a concurrent or
	// interrupted install never leaves a half module under the final name.
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".install-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, npm, "install", "--no-audit", "--no-fund", "--no-save", "--prefix", tmp, "@duckdb/node-api@"+duckdbVersion)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Logf("!!! npm install @duckdb/node-api@%s failed after %v: %v\n%s", duckdbVersion, time.Since(start).Round(time.Millisecond), err, out)
		t.Skipf("!!! DuckDB interop NOT TESTED: npm install failed (see log above)")
	}
	t.Logf("npm install @duckdb/node-api@%s: %v", duckdbVersion, time.Since(start).Round(time.Millisecond))
	if err := os.Rename(tmp, dir); err != nil && !exists(marker) {
		t.Fatalf("install into %s: %v", dir, err)
	}
	return dir
}

type duckResult struct {
	Columns []string `json:"columns"`
	Types   []string `json:"types"`
	Rows    [][]any  `json:"rows"`
}

// duckdb runs the queries in one DuckDB process.
func duckdb(t *testing.T, node, moduleDir, workDir string, queries ...string) []duckResult {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("testdata", "duckdb_query.cjs"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{script, moduleDir}, queries...)...)
	cmd.Dir = workDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node duckdb_query.cjs: %v\n%s", err, stderr.String())
	}
	var doc struct {
		Version string       `json:"version"`
		Results []duckResult `json:"results"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("DuckDB output: %v\n%s", err, out)
	}
	t.Logf("DuckDB %s: %d queries in %v", doc.Version, len(queries), time.Since(start).Round(time.Millisecond))
	if len(doc.Results) != len(queries) {
		t.Fatalf("%d results for %d queries", len(doc.Results), len(queries))
	}
	return doc.Results
}

// caseSums are computed from the case itself, not from the export.
type caseSums struct {
	flows, bytes, packets, exporters       uint64
	maxLastUS                              int64
	dns, responses, frameLen, answers, bad uint64
}

func sumCase(t *testing.T, dir string) caseSums {
	t.Helper()
	c, err := flowstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var s caseSums
	for _, seg := range c.Segments() {
		ft, err := seg.Flows()
		if err != nil {
			t.Fatal(err)
		}
		by, _ := ft.Uint64(flowstore.ColBytes)
		pk, _ := ft.Uint64(flowstore.ColPackets)
		last, _ := ft.Int64(flowstore.ColLast)
		exp, err := flowstore.Optional(ft.Addr(flowstore.ColExporter))
		if err != nil {
			t.Fatal(err)
		}
		for i := range ft.Rows() {
			s.flows++
			s.bytes += by[i]
			s.packets += pk[i]
			s.maxLastUS = max(s.maxLastUS, last[i]/1000)
			if exp != nil && exp[i] != (flow.Addr{}) {
				s.exporters++
			}
		}
		dt, err := seg.DNS()
		if err != nil {
			t.Fatal(err)
		}
		var m flow.DNSMessage
		for i := range dt.Rows() {
			m.Answers = m.Answers[:0]
			if err := dt.DNSAt(i, &m); err != nil {
				t.Fatal(err)
			}
			s.dns++
			s.frameLen += uint64(m.FrameLen)
			s.answers += uint64(len(m.Answers))
			if m.Response {
				s.responses++
			}
			if strings.HasPrefix(m.QName, "bad\xff\xfe") {
				s.bad++
			}
		}
	}
	return s
}

// num reads a DuckDB JSON value (big integers come as strings).
func num(t *testing.T, v any) string {
	t.Helper()
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case nil:
		return "NULL"
	}
	t.Fatalf("unexpected DuckDB value %#v", v)
	return ""
}

// TestDuckDBReadsExport reads the Parquet export with DuckDB and compares
// row counts, sums, NULLs, lists, hostile strings and the column types
// with what the case holds.
func TestDuckDBReadsExport(t *testing.T) {
	node := decodetest.Tool(t, "node", "nodejs")
	npm := decodetest.Tool(t, "npm", "npm")
	moduleDir := duckdbModule(t, npm)

	for name, casePath := range map[string]string{"demo": demoCase(t), "crafted": craftedCase(t)} {
		t.Run(name, func(t *testing.T) {
			out := t.TempDir()
			mustCLI(t, "export", casePath, "--parquet", out, "--scores")
			want := sumCase(t, casePath)
			scored := strings.Split(strings.TrimSpace(mustCLI(t, "score", "flows", casePath, "--all", "--format", "jsonl")), "\n")
			var best struct{ Score float64 }
			if err := json.Unmarshal([]byte(scored[0]), &best); err != nil {
				t.Fatal(err)
			}
			n := uint64(len(scored))
			dnsScored := strings.Count(mustCLI(t, "score", "dns", casePath, "--all", "--format", "jsonl"), "\n")

			src := func(table string) string {
				return fmt.Sprintf("read_parquet('%s/**/*.parquet', hive_partitioning=true)", table)
			}
			res := duckdb(t, node, moduleDir, out,
				"SELECT count(*), sum(bytes), sum(packets), count(exporter), epoch_us(max(last)), count(DISTINCT hour) FROM "+src("flows"),
				"SELECT count(*), sum(frame_len), sum(len(answers)), count(*) FILTER (WHERE response), count(*) FILTER (WHERE starts_with(qname, 'bad\\xff\\xfe')) FROM "+src("dns"),
				"SELECT count(*), sum(rank), min(score) FROM "+src("flow_scores"),
				"SELECT count(*) FROM "+src("dns_scores"),
				"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "+src("flows")+")",
				"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "+src("dns")+")",
			)
			parts := len(partitions(t, out, "flows", "parquet"))
			for _, c := range []struct {
				what string
				got  any
				want any
			}{
				{"flows count(*)", res[0].Rows[0][0], want.flows},
				{"flows sum(bytes)", res[0].Rows[0][1], want.bytes},
				{"flows sum(packets)", res[0].Rows[0][2], want.packets},
				{"flows count(exporter) (NULL when unknown)", res[0].Rows[0][3], want.exporters},
				{"flows epoch_us(max(last))", res[0].Rows[0][4], want.maxLastUS},
				{"flows count(DISTINCT hour)", res[0].Rows[0][5], parts},
				{"dns count(*)", res[1].Rows[0][0], want.dns},
				{"dns sum(frame_len)", res[1].Rows[0][1], want.frameLen},
				{"dns sum(len(answers))", res[1].Rows[0][2], want.answers},
				{"dns responses", res[1].Rows[0][3], want.responses},
				{"dns qnames with invalid UTF-8", res[1].Rows[0][4], want.bad},
				{"flow_scores count(*)", res[2].Rows[0][0], n},
				{"flow_scores sum(rank)", res[2].Rows[0][1], n * (n + 1) / 2},
				{"flow_scores min(score)", res[2].Rows[0][2], best.Score},
				{"dns_scores count(*)", res[3].Rows[0][0], dnsScored},
			} {
				g, w := num(t, c.got), fmt.Sprint(c.want)
				if f, ok := c.want.(float64); ok {
					w = strconv.FormatFloat(f, 'g', -1, 64)
				}
				if g != w {
					t.Errorf("%s: DuckDB %s, case %s", c.what, g, w)
				} else {
					t.Logf("%s: %s (DuckDB = case)", c.what, g)
				}
			}
			types := map[string]string{}
			for _, r := range append(res[4].Rows, res[5].Rows...) {
				types[num(t, r[0])] = num(t, r[1])
			}
			for col, typ := range map[string]string{
				"first": "TIMESTAMP WITH TIME ZONE", "src_ip": "VARCHAR", "src_port": "USMALLINT", "proto": "UTINYINT",
				"bytes": "UBIGINT", "src_as": "UINTEGER", "exporter": "VARCHAR", "hour": "VARCHAR",
				"ts": "TIMESTAMP WITH TIME ZONE", "response": "BOOLEAN", "answers": `STRUCT("type" VARCHAR, "data" VARCHAR)[]`,
			} {
				if types[col] != typ {
					t.Errorf("DuckDB type of %s: %q, want %q", col, types[col], typ)
				}
			}
		})
	}
}
