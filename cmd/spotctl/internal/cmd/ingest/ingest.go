// Package ingest is `spotctl ingest`: evidence files in, one new committed
// segment of a case out.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmdutil"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/iostreams"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/progress"
	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/evidence"
	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/decode/input"
	"github.com/spotctl/spotctl/flowstore"
	"github.com/spotctl/spotctl/report/textsafe"
)

// Options are the parsed flags and dependencies of one ingest.
type Options struct {
	IO       *iostreams.IOStreams
	Paths    []string
	Case     string
	Evidence evidence.Options
	// NetFlowPorts is the --netflow-ports flag before parsing.
	NetFlowPorts []uint
	Strict       bool
	Quiet        bool
	Now          func() time.Time
}

// NewCmd builds `spotctl ingest`. runF replaces the run function in tests
// of flag parsing.
func NewCmd(ios *iostreams.IOStreams, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: ios, Evidence: evidence.DefaultOptions(), Now: time.Now}
	var logTZ string
	cmd := &cobra.Command{
		Use:   "ingest EVIDENCE... -o CASE",
		Short: "Read captures and flow exports into a case",
		Long: `Read packet captures into a case: a directory of memory-mapped columns that
every other command opens instantly.

EVIDENCE is any mix of files, directories (read recursively, in name order)
and - (standard input). Formats are recognised by their content: pcap (µs/ns,
either byte order) and pcapng, each optionally gzip- or zstd-compressed. Files
are read in the order given, as one link: a flow that continues from one
rotated capture into the next is one flow.

Flows follow NetFlow conventions: unidirectional, keyed by addresses, ports,
protocol and VLAN; ended by FIN/RST, the inactive timeout or the active
timeout. DNS messages on port 53 (UDP and TCP) are kept from the same pass.

Ingesting into an existing case adds a new segment; nothing already in the
case is rewritten. A killed ingest leaves the case as it was.

Problems are printed on stderr with their file and byte offset: "warning:"
for damaged evidence or a bound reached (a template cache, the fragment
tracker), "note:" for malformed traffic the evidence recorded intact (a
port-53 payload that is not well-formed DNS, fragments that overlap with
different bytes). At most 10 of each kind per file are printed; a last line
per kind counts the rest. The case manifest counts them all (spotctl info).

EXIT STATUS
  0  every file was read completely (notes, if any, were printed)
  1  nothing usable (no file could be read), or --strict and any warning
  2  usage error
  3  some evidence was damaged or a bound was reached: each problem was
     reported as a warning with file and byte offset, and everything
     readable was ingested`,
		Example: `  spotctl ingest capture.pcap -o case1
  spotctl ingest /evidence/rotated/ -o case1        # a directory of rotated captures
  zcat big.pcap.gz | spotctl ingest - -o case1`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmdutil.FlagErrorf("ingest needs at least one evidence file, directory or -")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Case == "" {
				return cmdutil.FlagErrorf("missing -o CASE: where to write the case")
			}
			a := opts.Evidence.Capture.Assemble
			if a.ActiveTimeout <= 0 || a.InactiveTimeout <= 0 {
				return cmdutil.FlagErrorf("timeouts must be positive")
			}
			if a.MaxFlows < 1 {
				return cmdutil.FlagErrorf("--max-flows must be at least 1")
			}
			switch opts.Evidence.NetFlowMode {
			case evidence.NetFlowAuto, evidence.NetFlowOff, evidence.NetFlowOnly:
			default:
				return cmdutil.FlagErrorf("--netflow %q: want auto, off or only", opts.Evidence.NetFlowMode)
			}
			for _, port := range opts.NetFlowPorts {
				if port == 0 || port > 65535 {
					return cmdutil.FlagErrorf("--netflow-ports: %d is not a UDP port", port)
				}
				opts.Evidence.NetFlowPorts = append(opts.Evidence.NetFlowPorts, uint16(port))
			}
			if logTZ != "" {
				loc, err := time.LoadLocation(logTZ)
				if err != nil {
					return cmdutil.FlagErrorf("--log-tz %q: %v", logTZ, err)
				}
				opts.Evidence.Location = loc
			}
			opts.Paths = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Case, "output", "o", "", "case directory to create or add to")
	a := &opts.Evidence.Capture.Assemble
	f.DurationVar(&a.ActiveTimeout, "active-timeout", a.ActiveTimeout, "export a flow that has lasted this long and start a new one")
	f.DurationVar(&a.InactiveTimeout, "inactive-timeout", a.InactiveTimeout, "export a flow idle this long")
	f.IntVar(&a.MaxFlows, "max-flows", a.MaxFlows, "most flows held open at once; when full the least recently seen is exported")
	f.StringVar(&opts.Evidence.NetFlowMode, "netflow", evidence.NetFlowAuto, "NetFlow/IPFIX exports inside captures: auto (decode them, and count their packets as flows too), off (plain UDP), only (keep only the exported flows)")
	f.UintSliceVar(&opts.NetFlowPorts, "netflow-ports", nil, "UDP ports whose datagrams are always decoded as exports (elsewhere only datagrams with a valid export header are)")
	f.BoolVar(&opts.Evidence.NetFlow.ApplySampling, "apply-sampling", false, "multiply NetFlow/IPFIX packet and byte counters by the exporter's sampling interval")
	f.StringVar(&logTZ, "log-tz", "", "time zone of text flow logs whose times carry no offset, e.g. nfdump CSV (default UTC)")
	f.BoolVar(&opts.Strict, "strict", false, "any evidence problem (warning) is fatal and nothing is written; notes are not")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "no progress and no summary on stderr (warnings still)")
	return cmd
}

// ingestMemoryLimit is the Go heap's soft limit during an ingest unless
// GOMEMLIMIT says otherwise. Ingest's live memory is bounded by design (the
// flow table, one block of each decoder, the writer's buffers: at most
// ≈ 250 MB with a million open flows); the limit makes the collector work
// harder near it instead of letting garbage from table growth double the
// resident size. A soft limit never fails an allocation.
const ingestMemoryLimit = 320 << 20

// Run ingests opts.Paths into opts.Case.
func Run(ctx context.Context, opts *Options) error {
	if os.Getenv("GOMEMLIMIT") == "" {
		prev := debug.SetMemoryLimit(ingestMemoryLimit)
		defer debug.SetMemoryLimit(prev)
	}
	ios := opts.IO
	files, err := input.Expand(opts.Paths)
	if err != nil {
		return cmdutil.FlagErrorf("%v", err)
	}
	if len(files) == 0 {
		return fmt.Errorf("no evidence files found in %s", strings.Join(opts.Paths, " "))
	}
	c, err := openOrCreate(opts.Case, opts.Now())
	if err != nil {
		return err
	}
	defer c.Close()
	seg, err := c.NewSegment()
	if err != nil {
		return fmt.Errorf("case %s: %w", opts.Case, err)
	}
	committed := false
	defer func() {
		if !committed {
			seg.Abort()
		}
	}()

	var (
		writeErr    error
		flows, msgs atomic.Uint64
	)
	pipe, err := evidence.New(opts.Evidence,
		func(r *flow.Record) {
			if writeErr == nil {
				writeErr = seg.AddFlow(r)
			}
			flows.Add(1)
		},
		func(m *flow.DNSMessage) {
			if writeErr == nil {
				writeErr = seg.AddDNS(m)
			}
			msgs.Add(1)
		})
	if err != nil {
		return cmdutil.FlagErrorf("%v", err)
	}

	var total int64
	for _, f := range files {
		if st, err := os.Stat(f); err == nil && f != "-" {
			total += st.Size()
		}
	}
	var (
		doneBytes atomic.Int64
		current   atomic.Pointer[input.Evidence]
		label     atomic.Value
	)
	label.Store("")
	var bar *progress.Bar
	if ios.IsStderrTTY() && !opts.Quiet {
		bar = progress.Start(ios.ErrOut, func() progress.Sample {
			done := doneBytes.Load()
			if ev := current.Load(); ev != nil {
				done += ev.RawBytesRead()
			}
			return progress.Sample{Done: done, Total: total, Packets: pipe.Frames(), Label: label.Load().(string)}
		})
	}
	defer func() { bar.Stop() }()

	man := &flowstore.Manifest{
		SpotctlVersion: cmdutil.Version(),
		IngestFlags:    flagList(opts),
		Ingested:       opts.Now().UTC(),
	}
	problems := 0
	usable := 0
	say := func(sev decode.Severity, msg string) {
		if bar != nil {
			fmt.Fprint(ios.ErrOut, "\r\x1b[K")
		}
		fmt.Fprintf(ios.ErrOut, "%s: %s\n", sev, textsafe.Terminal(msg))
	}
	warn := func(msg string) { say(decode.Warning, msg) }
	plog := newProblemLog(say)
	read := map[string]uint64{} // packets, datagrams or records read, by kind of evidence
	for i, path := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		label.Store(filepath.Base(path))
		ev, fileMan, err := readOne(pipe, path, uint32(i), opts, warn, plog, &problems, func(ev *input.Evidence) { current.Store(ev) })
		plog.done(path)
		current.Store(nil)
		if ev != nil {
			doneBytes.Add(fileMan.Size)
			read[ev.Kind] += fileMan.Packets
		}
		man.Evidence = append(man.Evidence, fileMan)
		if err != nil {
			if opts.Strict {
				return fmt.Errorf("--strict: %w", err)
			}
			continue
		}
		usable++
		if writeErr != nil {
			return fmt.Errorf("write case %s: %w", opts.Case, writeErr)
		}
	}
	err = pipe.Flush(func(e *decode.Error) error {
		plog.add(e)
		if e.Severity == decode.Note {
			return nil
		}
		problems++
		if opts.Strict {
			return e
		}
		return nil
	})
	plog.done(allEvidence)
	if err != nil {
		return fmt.Errorf("--strict: %w", err)
	}
	bar.Stop()
	bar = nil
	if writeErr != nil {
		return fmt.Errorf("write case %s: %w", opts.Case, writeErr)
	}
	if opts.Strict && problems > 0 {
		return fmt.Errorf("--strict: %d evidence problem(s); nothing was written", problems)
	}
	if usable == 0 {
		return fmt.Errorf("nothing usable in %d evidence file(s); the case was not changed", len(files))
	}
	if err := seg.Commit(man); err != nil {
		return fmt.Errorf("commit case %s: %w", opts.Case, err)
	}
	committed = true
	if !opts.Quiet {
		// Say what was read in the evidence's own unit: a packet count for
		// an nfcapd file would be a record count under a wrong name.
		var what []string
		for _, k := range []struct{ kind, unit string }{
			{input.KindCapture, "packets"}, {input.KindNetFlow, "export datagrams"},
			{input.KindNfcapd, "nfcapd records"}, {input.KindFlowLog, "log records"},
		} {
			if n, ok := read[k.kind]; ok {
				what = append(what, fmt.Sprintf("%d %s", n, k.unit))
			}
		}
		if len(what) == 0 {
			what = []string{"0 packets"}
		}
		fmt.Fprintf(ios.ErrOut, "ingested %d file(s), %s: %d flows, %d DNS messages → %s (segment %d)\n",
			usable, strings.Join(what, ", "), flows.Load(), msgs.Load(), textsafe.Terminal(opts.Case), man.Segment)
		if plog.notes > 0 {
			fmt.Fprintf(ios.ErrOut, "%d note(s) on malformed traffic in the evidence (kept as far as it decoded; the case manifest lists the first of each file)\n", plog.notes)
		}
	}
	if problems > 0 {
		return &cmdutil.PartialError{Problems: problems}
	}
	return nil
}

// maxListedErrors caps the problems (and, separately, the notes) listed
// per file in the manifest; all of them are counted.
const maxListedErrors = 100

// allEvidence is the file name of problems that concern the whole ingest
// (decode/evidence reports NetFlow data that never met its template so).
const allEvidence = "(all evidence)"

// readOne reads one evidence file through the pipeline and describes it for
// the manifest. A returned error means the file was unusable as a whole.
func readOne(pipe *evidence.Pipeline, path string, idx uint32, opts *Options, warn func(string), plog *problemLog, problems *int, opened func(*input.Evidence)) (*input.Evidence, flowstore.EvidenceFile, error) {
	em := flowstore.EvidenceFile{Path: path}
	if abs, err := filepath.Abs(path); err == nil && path != "-" {
		em.Path = abs
	}
	// Only the listed problems are formatted: a flood of them costs a
	// count each, not a message.
	note := func(off int64, err error) {
		*problems++
		em.ErrorCount++
		if len(em.Errors) < maxListedErrors {
			em.Errors = append(em.Errors, flowstore.EvidenceError{Offset: off, Message: err.Error()})
		}
	}
	var ev *input.Evidence
	var err error
	if path == "-" {
		// Standard input through the streams, not os.Stdin, so it is
		// testable like every other stream.
		ev, err = input.OpenReader("-", opts.IO.In)
	} else {
		ev, err = input.Open(path)
	}
	if err != nil {
		warn(err.Error())
		note(-1, err)
		return nil, em, err
	}
	defer ev.Close()
	opened(ev)
	em.Format, em.Compression = ev.Format, ev.Compression
	onErr := func(e *decode.Error) error {
		plog.add(e)
		if e.Severity == decode.Note {
			// Malformed traffic, recorded intact: counted and listed, but
			// neither a problem of the evidence nor a reason to stop.
			em.NoteCount++
			if len(em.Notes) < maxListedErrors {
				em.Notes = append(em.Notes, flowstore.EvidenceError{Offset: e.Offset, Message: e.Err.Error()})
			}
			return nil
		}
		note(e.Offset, e.Err)
		if opts.Strict {
			return e
		}
		return nil
	}
	st, rerr := pipe.ReadFile(ev, path, idx, onErr)
	sum, size, ferr := ev.Finish()
	em.SHA256, em.Size = sum, size
	em.LinkTypes = st.LinkTypes
	em.Packets = st.Packets
	em.First, em.Last = st.First, st.Last
	if ferr != nil {
		msg := fmt.Sprintf("%s: %v", path, ferr)
		warn(msg)
		note(-1, ferr)
	}
	if rerr != nil {
		var de *decode.Error
		if !errors.As(rerr, &de) { // not already reported through onErr
			warn(rerr.Error())
			note(-1, rerr)
		}
		return ev, em, rerr
	}
	return ev, em, nil
}

func openOrCreate(dir string, now time.Time) (*flowstore.Case, error) {
	if _, err := os.Stat(dir); err == nil {
		c, err := flowstore.Open(dir)
		if err != nil {
			return nil, fmt.Errorf("open case %s: %w", dir, err)
		}
		return c, nil
	}
	c, err := flowstore.Create(dir, flowstore.CaseInfo{CreatedBy: "spotctl " + cmdutil.Version(), Created: now.UTC()})
	if err != nil {
		return nil, fmt.Errorf("create case %s: %w", dir, err)
	}
	return c, nil
}

func flagList(opts *Options) []string {
	a := opts.Evidence.Capture.Assemble
	fl := []string{
		"--active-timeout=" + a.ActiveTimeout.String(),
		"--inactive-timeout=" + a.InactiveTimeout.String(),
		fmt.Sprintf("--max-flows=%d", a.MaxFlows),
	}
	if opts.Strict {
		fl = append(fl, "--strict")
	}
	fl = append(fl, "--netflow="+opts.Evidence.NetFlowMode)
	if len(opts.NetFlowPorts) > 0 {
		fl = append(fl, fmt.Sprintf("--netflow-ports=%v", opts.NetFlowPorts))
	}
	if opts.Evidence.NetFlow.ApplySampling {
		fl = append(fl, "--apply-sampling")
	}
	if loc := opts.Evidence.Location; loc != nil {
		fl = append(fl, "--log-tz="+loc.String())
	}
	sort.Strings(fl)
	return fl
}
