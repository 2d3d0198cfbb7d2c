// Package export is `spotctl export`: the tables of a case as Parquet, CSV
// or JSON Lines files, partitioned by hour in the Hive layout, for DuckDB,
// pandas and Spark (docs/export.md).
package export

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmd/score"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmdutil"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/iostreams"
	"github.com/spotctl/spotctl/detect/filter"
	rparquet "github.com/spotctl/spotctl/report/parquet"
)

// Table names, also the directory names under each output directory.
const (
	TableFlows      = "flows"
	TableDNS        = "dns"
	TableFlowScores = "flow_scores"
	TableDNSScores  = "dns_scores"
)

// Tables lists every table in export order.
var Tables = []string{TableFlows, TableDNS, TableFlowScores, TableDNSScores}

// filterKind is the filter language each table is filtered with.
var filterKind = map[string]filter.Kind{
	TableFlows:      filter.Flow,
	TableDNS:        filter.DNS,
	TableFlowScores: filter.Flow | filter.Score,
	TableDNSScores:  filter.DNS | filter.Score,
}

// Options are the parsed flags of `spotctl export`.
type Options struct {
	IO          *iostreams.IOStreams
	Case        string
	ParquetDir  string
	CSVDir      string
	JSONLDir    string
	TablesFlag  string
	Scores      bool
	Force       bool
	Compression string
	Quiet       bool
	Window      cmdutil.TimeRange
	Filter      cmdutil.FilterFlags
	// Score carries the model flags (--seed, --topics, ...): scores are
	// computed exactly as spotctl score computes them.
	Score score.Options
	// RowGroupRows is the Parquet row group size (0: the default).
	RowGroupRows int

	tables  []string
	filters map[string]*filter.Filter
	codec   rparquet.Compression
}

// NewCmd builds `spotctl export`.
func NewCmd(ios *iostreams.IOStreams, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "export CASE (--parquet DIR | --csv DIR | --jsonl DIR)... [FILTER]",
		Short: "Write the tables of a case as Parquet, CSV or JSON Lines for DuckDB, pandas and Spark",
		Long: `Write the flows and DNS messages of a case (and, with --scores, every scored
flow and DNS response) as files that DuckDB, pandas, Spark or a spreadsheet
read directly. One file per table and per hour, in the Hive layout:

  DIR/flows/hour=2026-03-02T09/part-0.parquet
  DIR/dns/hour=2026-03-02T09/part-0.parquet
  DIR/flow_scores/hour=.../part-0.parquet   (--scores)
  DIR/dns_scores/hour=.../part-0.parquet    (--scores)

The hour is the UTC hour of a flow's first packet (of a DNS message's time);
rows are in time order within a file, ties in ingest order. Columns have the
names and meanings of the JSON that spotctl flows, dns and score print; in
Parquet, counters are unsigned integers, times are TIMESTAMP(NANOS, UTC),
addresses are strings, an unknown exporter or next hop is NULL, and DNS
answers are a list of {type, data}. Pages are zstd-compressed (--compression).
CSV and JSON Lines files are what --format csv and jsonl print.

Scores are computed as spotctl score flows|dns computes them, with the same
model flags (--seed, --topics, ...), over the whole case; every scored row is
written, not only the top N, with its rank.

Each table is written into a temporary directory next to DIR/TABLE and
renamed into place when complete: an interrupted export leaves no partial
table. An existing non-empty DIR/TABLE is an error unless --force, which
replaces it. The same case and flags give byte-identical files.

--since/--until and FILTER (docs/filter.md) select the rows written; the
filter must make sense for every table exported (choose them with --tables).
Layout, column types and guarantees: docs/export.md.

EXIT STATUS
  0  every table was written
  1  the case could not be read or a file not written; the table being
     written was removed, tables finished before it stay
  2  usage error, or a non-empty table directory without --force
  130  interrupted (the table being written was removed)`,
		Example: `  spotctl export case1 --parquet case1.parquet
  duckdb -c "SELECT src_ip, sum(bytes) FROM read_parquet('case1.parquet/flows/**/*.parquet', hive_partitioning=true) GROUP BY 1 ORDER BY 2 DESC LIMIT 10"
  spotctl export case1 --parquet out --csv out --scores --force
  spotctl export case1 --jsonl out --tables dns 'qname suffix example.com'
  spotctl export case1 --parquet out --since 2026-03-02T09:00:00Z --until 2026-03-02T10:00:00Z`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.validate(args); err != nil {
				if errors.Is(err, errChecked) {
					return nil
				}
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.ParquetDir, "parquet", "", "write Parquet files under DIR")
	f.StringVar(&opts.CSVDir, "csv", "", "write CSV files under DIR")
	f.StringVar(&opts.JSONLDir, "jsonl", "", "write JSON Lines files under DIR")
	f.StringVar(&opts.TablesFlag, "tables", "", "comma-separated tables to write: flows, dns, flow_scores, dns_scores (default: flows,dns, plus the score tables with --scores)")
	f.BoolVar(&opts.Scores, "scores", false, "also score the case and write flow_scores and dns_scores")
	f.BoolVar(&opts.Force, "force", false, "replace existing non-empty table directories")
	f.StringVar(&opts.Compression, "compression", "zstd", "Parquet page compression: zstd, snappy, none")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "no summary on stderr")
	f.StringVar(&opts.Window.SinceFlag, "since", "", "only flows active at or after this time, DNS messages at or after it (RFC 3339 or date, UTC)")
	f.StringVar(&opts.Window.UntilFlag, "until", "", "only flows active before this time, DNS messages before it")
	f.IntVar(&opts.RowGroupRows, "row-group-rows", 0, "rows per Parquet row group (default 131072)")
	opts.Filter.AddFlags(f)
	score.AddModelFlags(f, &opts.Score)
	score.AddDNSModelFlags(f, &opts.Score)
	return cmd
}

// errChecked ends a --check run successfully.
var errChecked = errors.New("filter checked")

func (o *Options) validate(args []string) error {
	tables, err := o.parseTables()
	if err != nil {
		return err
	}
	o.tables = tables
	if o.Filter.Check {
		for _, t := range tables {
			flt, err := o.Filter.Compile(args, filterKind[t])
			if err != nil {
				return tableFilterError(t, err)
			}
			if t == tables[len(tables)-1] {
				if err := cmdutil.CheckOnly(o.IO.Out, flt); err != nil {
					return err
				}
			}
		}
		return errChecked
	}
	if len(args) < 1 {
		return cmdutil.FlagErrorf("export needs a CASE")
	}
	o.Case = args[0]
	o.filters = map[string]*filter.Filter{}
	for _, t := range tables {
		flt, err := o.Filter.Compile(args[1:], filterKind[t])
		if err != nil {
			return tableFilterError(t, err)
		}
		if flt.String() != "any" {
			o.filters[t] = flt
		}
	}
	if o.ParquetDir == "" && o.CSVDir == "" && o.JSONLDir == "" {
		return cmdutil.FlagErrorf("give at least one of --parquet DIR, --csv DIR, --jsonl DIR")
	}
	if o.RowGroupRows < 0 {
		return cmdutil.FlagErrorf("--row-group-rows must not be negative")
	}
	if o.codec, err = rparquet.ParseCompression(o.Compression); err != nil {
		return &cmdutil.FlagError{Err: fmt.Errorf("--compression: %w", err)}
	}
	if err := o.Window.Parse(); err != nil {
		return err
	}
	if slices.Contains(tables, TableFlowScores) || slices.Contains(tables, TableDNSScores) {
		if err := o.Score.ValidateModel(); err != nil {
			return err
		}
	}
	return nil
}

// tableFilterError says which table a filter did not compile for: a DNS
// primitive cannot filter flows, so the user picks the tables.
func tableFilterError(table string, err error) error {
	var fe *cmdutil.FlagError
	if errors.As(err, &fe) {
		return &cmdutil.FlagError{Err: fmt.Errorf("table %s: %w (choose the tables the filter applies to with --tables)", table, fe.Err)}
	}
	return err
}

// parseTables resolves --tables and --scores into an ordered list.
func (o *Options) parseTables() ([]string, error) {
	want := map[string]bool{}
	if strings.TrimSpace(o.TablesFlag) == "" {
		want[TableFlows], want[TableDNS] = true, true
	} else {
		for _, t := range strings.Split(o.TablesFlag, ",") {
			t = strings.TrimSpace(t)
			if !slices.Contains(Tables, t) {
				return nil, cmdutil.FlagErrorf("--tables: unknown table %q (valid: %s)", t, strings.Join(Tables, ", "))
			}
			want[t] = true
		}
	}
	if o.Scores {
		want[TableFlowScores], want[TableDNSScores] = true, true
	}
	var out []string
	for _, t := range Tables {
		if want[t] {
			out = append(out, t)
		}
	}
	return out, nil
}

// outDirs groups the requested formats by output directory: several
// formats may share one directory (their files sit side by side).
func (o *Options) outDirs() []outDir {
	var dirs []outDir
	add := func(dir string, f format) {
		if dir == "" {
			return
		}
		clean := filepath.Clean(dir)
		for i := range dirs {
			if dirs[i].path == clean {
				dirs[i].formats = append(dirs[i].formats, f)
				return
			}
		}
		dirs = append(dirs, outDir{path: clean, formats: []format{f}})
	}
	add(o.ParquetDir, formatParquet)
	add(o.CSVDir, formatCSV)
	add(o.JSONLDir, formatJSONL)
	return dirs
}

// preflight refuses, before any work, what would fail or destroy data: a
// non-empty table directory without --force, a file where a directory is
// needed, an output directory that is the case itself.
func (o *Options) preflight(dirs []outDir) error {
	caseSt, caseErr := os.Stat(o.Case)
	for _, d := range dirs {
		if st, err := os.Stat(d.path); err == nil {
			if !st.IsDir() {
				return fmt.Errorf("output %s is a file, not a directory", d.path)
			}
			if caseErr == nil && os.SameFile(st, caseSt) {
				return cmdutil.FlagErrorf("output %s is the case directory; export next to it", d.path)
			}
		}
		for _, t := range o.tables {
			final := filepath.Join(d.path, t)
			st, err := os.Lstat(final)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				return err
			}
			if !st.IsDir() {
				return fmt.Errorf("%s exists and is not a directory", final)
			}
			ents, err := os.ReadDir(final)
			if err != nil {
				return err
			}
			if len(ents) > 0 && !o.Force {
				return cmdutil.FlagErrorf("%s already holds an export (%d entries): use --force to replace it, or another directory", final, len(ents))
			}
		}
	}
	return nil
}

// Run writes the export.
func Run(ctx context.Context, opts *Options) error {
	dirs := opts.outDirs()
	if err := opts.preflight(dirs); err != nil {
		return err
	}
	c, err := cmdutil.OpenCase(opts.Case)
	if err != nil {
		return err
	}
	defer c.Close()
	var formats []string
	for _, d := range dirs {
		for _, f := range d.formats {
			formats = append(formats, f.name())
		}
	}
	for _, t := range opts.tables {
		tw, err := newTableWriter(t, dirs, opts)
		if err != nil {
			return err
		}
		switch t {
		case TableFlows:
			err = exportFlows(ctx, c, opts, tw)
		case TableDNS:
			err = exportDNS(ctx, c, opts, tw)
		case TableFlowScores:
			err = exportFlowScores(ctx, c, opts, tw)
		case TableDNSScores:
			err = exportDNSScores(ctx, c, opts, tw)
		}
		if err == nil {
			err = tw.commit()
		}
		if err != nil {
			tw.abort()
			return fmt.Errorf("export %s: %w", t, err)
		}
		if !opts.Quiet {
			fmt.Fprintf(opts.IO.ErrOut, "%s: %d rows in %d hour partition(s) → %s (%s)\n",
				t, tw.rows, tw.parts, strings.Join(tw.finals(), ", "), strings.Join(formats, ", "))
		}
	}
	return nil
}
