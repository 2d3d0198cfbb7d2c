package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// docShape is one JSON shape as docs/json.md documents it: a "## `spotctl …`"
// section with a schema version and a field table.
type docShape struct {
	name    string
	version int
	fields  []string          // top-level fields in document order, includes resolved
	rows    map[string]string // field → the text of its table row (nested keys are named there)
	types   map[string]string // field → its type cell
	include []string          // "the fields of `spotctl X`" rows, in place
	order   []string          // fields and include markers in document order
}

var (
	docHeading  = regexp.MustCompile("^## .*?`(spotctl [^`]+)`")
	docVersion  = regexp.MustCompile(`(?i)schema version:?\s*\**(\d+)`)
	docInclude  = regexp.MustCompile("fields of `(spotctl [^`]+)`")
	docBacktick = regexp.MustCompile("`([^`]+)`")
	docIdent    = regexp.MustCompile(`[a-z_][a-z0-9_]*`)
	fieldName   = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
)

// parseJSONDoc reads the shapes of docs/json.md.
func parseJSONDoc(doc string) (map[string]*docShape, error) {
	shapes := map[string]*docShape{}
	var cur *docShape
	for n, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "## ") {
			cur = nil
			if m := docHeading.FindStringSubmatch(line); m != nil {
				cur = &docShape{name: m[1], rows: map[string]string{}, types: map[string]string{}}
				if shapes[cur.name] != nil {
					return nil, fmt.Errorf("docs/json.md:%d: %s documented twice", n+1, cur.name)
				}
				shapes[cur.name] = cur
			}
			continue
		}
		if cur == nil {
			continue
		}
		if m := docVersion.FindStringSubmatch(line); m != nil && cur.version == 0 {
			cur.version, _ = strconv.Atoi(m[1])
		}
		if !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		first := strings.TrimSpace(cells[0])
		if first == "field" || strings.HasPrefix(first, "---") {
			continue
		}
		if m := docInclude.FindStringSubmatch(first); m != nil {
			cur.order = append(cur.order, "<"+m[1]+">")
			continue
		}
		typ := ""
		if len(cells) > 1 {
			typ = strings.TrimSpace(cells[1])
		}
		for _, m := range docBacktick.FindAllStringSubmatch(first, -1) {
			if !fieldName.MatchString(m[1]) {
				return nil, fmt.Errorf("docs/json.md:%d: %q is not a field name", n+1, m[1])
			}
			if _, dup := cur.rows[m[1]]; dup {
				return nil, fmt.Errorf("docs/json.md:%d: %s: field %s documented twice", n+1, cur.name, m[1])
			}
			cur.rows[m[1]], cur.types[m[1]] = line, typ
			cur.order = append(cur.order, m[1])
		}
	}
	// Resolve "the fields of `spotctl X`" rows.
	var resolve func(s *docShape, depth int) ([]string, error)
	resolve = func(s *docShape, depth int) ([]string, error) {
		if depth > 3 {
			return nil, fmt.Errorf("%s: includes nest too deep", s.name)
		}
		var out []string
		for _, f := range s.order {
			if inc, ok := strings.CutPrefix(f, "<"); ok {
				other := shapes[strings.TrimSuffix(inc, ">")]
				if other == nil {
					return nil, fmt.Errorf("%s includes the fields of %s, which is not documented", s.name, inc)
				}
				fs, err := resolve(other, depth+1)
				if err != nil {
					return nil, err
				}
				for _, g := range fs {
					s.rows[g], s.types[g] = other.rows[g], other.types[g]
				}
				out = append(out, fs...)
				continue
			}
			out = append(out, f)
		}
		return out, nil
	}
	for _, s := range shapes {
		fs, err := resolve(s, 0)
		if err != nil {
			return nil, err
		}
		s.fields = fs
	}
	return shapes, nil
}

// shapeOf names the documented shape a case prints on stdout and the format
// it prints it in, or "" when it prints no records; ordered is false when
// --fields chose the order.
func shapeOf(args []string, mode string) (shape, format string, ordered bool) {
	format, ordered = "jsonl", true
	if mode == "tty" {
		format = "table"
	}
	header := true
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--format" && i+1 < len(args):
			format = args[i+1]
			i++
		case strings.HasPrefix(a, "--format="):
			format = strings.TrimPrefix(a, "--format=")
		case a == "--no-header":
			header = false
		case a == "--check":
			return "", format, false // validates a filter, prints no records
		case a == "--fields" || strings.HasPrefix(a, "--fields="):
			ordered = false
			if a == "--fields" {
				i++
			}
		case a == "--truth" && i+1 < len(args) && args[i+1] == "-":
			pos = append(pos, "<truth>")
			i++
		case strings.HasPrefix(a, "-"):
			if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") && !strings.Contains(a, "=") &&
				!slices.Contains([]string{"--no-header", "--check", "--all", "--strict", "-q", "--quiet", "--no-evidence", "--apply-sampling"}, a) {
				i++ // the flag's value
			}
		default:
			pos = append(pos, a)
		}
	}
	if len(pos) == 0 || !header && (format == "csv" || format == "tsv") || format == "spot" {
		return "", format, false
	}
	switch pos[0] {
	case "flows", "dns", "stats", "verify":
		shape = "spotctl " + pos[0]
	case "info":
		shape = "spotctl info"
		if format == "jsonl" {
			format = "json" // info prints one object either way
		}
	case "score":
		if len(pos) > 1 && (pos[1] == "flows" || pos[1] == "dns") {
			shape = "spotctl score " + pos[1]
		}
	case "synth":
		if slices.Contains(pos, "<truth>") {
			shape, format = "spotctl synth", "jsonl"
		}
	}
	return shape, format, ordered
}

// jsonObject is one JSON object's keys in order, with the nested keys below
// each.
type jsonObject struct {
	keys   []string
	nested map[string][]string
}

// readObjects reads a stream of JSON values (JSON Lines, or one array of
// objects) and returns each object's top-level keys in order and, per key,
// every key of the objects nested inside its value.
func readObjects(b []byte) ([]jsonObject, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var objs []jsonObject
	var value func(into *[]string) error
	value = func(into *[]string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				if into != nil {
					*into = append(*into, k.(string))
				}
				if err := value(into); err != nil {
					return err
				}
			}
			_, err = dec.Token()
		case json.Delim('['):
			for dec.More() {
				if err := value(into); err != nil {
					return err
				}
			}
			_, err = dec.Token()
		}
		return err
	}
	object := func() error {
		if tok, err := dec.Token(); err != nil {
			return err
		} else if tok != json.Delim('{') {
			return fmt.Errorf("want an object, got %v", tok)
		}
		o := jsonObject{nested: map[string][]string{}}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return err
			}
			key := k.(string)
			o.keys = append(o.keys, key)
			var inner []string
			if err := value(&inner); err != nil {
				return err
			}
			o.nested[key] = inner
		}
		objs = append(objs, o)
		_, err := dec.Token()
		return err
	}
	for {
		// A top-level array (--format json) holds the objects.
		if bytes.HasPrefix(bytes.TrimSpace(b), []byte("[")) && len(objs) == 0 {
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			for dec.More() {
				if err := object(); err != nil {
					return nil, err
				}
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			if _, err := dec.Token(); err != io.EOF {
				return nil, fmt.Errorf("data after the array")
			}
			return objs, nil
		}
		if !dec.More() {
			return objs, nil
		}
		if err := object(); err != nil {
			return nil, err
		}
	}
}

// TestJSONDocumented keeps docs/json.md and the output in step: every shape
// states a schema version, every key (and nested key) the CLI cases print
// in JSON, and every CSV/TSV header name, is documented for its shape, in
// the documented order; and every documented field of a record shape is
// printed by some case, so the document cannot list fields that do not
// exist.
func TestJSONDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/json.md")
	if err != nil {
		t.Fatal(err)
	}
	shapes, err := parseJSONDoc(string(doc))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"spotctl flows", "spotctl dns", "spotctl stats", "spotctl score flows", "spotctl score dns", "spotctl info", "spotctl verify", "spotctl synth"} {
		s := shapes[want]
		if s == nil {
			t.Errorf("docs/json.md has no section for `%s`", want)
			continue
		}
		if s.version < 1 {
			t.Errorf("docs/json.md: `%s` states no schema version", want)
		}
		if len(s.fields) == 0 {
			t.Errorf("docs/json.md: `%s` has no field table", want)
		}
	}
	printed := map[string]map[string]bool{}
	checked := 0
	for _, c := range loadCases(t) {
		for _, mode := range c.modes {
			name, format, ordered := shapeOf(c.args, mode)
			out := c.want(mode, "stdout")
			if name == "" || len(out) == 0 {
				continue
			}
			s := shapes[name]
			if s == nil {
				t.Errorf("%s (%s): prints %s, which docs/json.md does not document", c.name, mode, name)
				continue
			}
			if printed[name] == nil {
				printed[name] = map[string]bool{}
			}
			var objs []jsonObject
			switch format {
			case "json", "jsonl":
				if objs, err = readObjects(out); err != nil {
					t.Errorf("%s (%s): stdout is not %s: %v", c.name, mode, format, err)
					continue
				}
			case "csv", "tsv":
				sep := ","
				if format == "tsv" {
					sep = "\t"
				}
				head, _, _ := bytes.Cut(out, []byte("\n"))
				objs = []jsonObject{{keys: strings.Split(string(head), sep)}}
			default:
				continue
			}
			checked++
			for _, o := range objs {
				checkObject(t, fmt.Sprintf("%s (%s)", c.name, mode), s, o, ordered)
				for _, k := range o.keys {
					printed[name][k] = true
				}
			}
		}
	}
	if checked < 20 {
		t.Errorf("only %d CLI outputs were checked against docs/json.md", checked)
	}
	// Stats key fields depend on -s; the other shapes print all their
	// fields in some case.
	for name, s := range shapes {
		if name == "spotctl stats" {
			continue
		}
		for _, f := range s.fields {
			if !printed[name][f] {
				t.Errorf("docs/json.md documents `%s` field %s, but no CLI case prints it", name, f)
			}
		}
	}
}

// checkObject checks one printed object against its documented shape.
func checkObject(t *testing.T, where string, s *docShape, o jsonObject, ordered bool) {
	t.Helper()
	last := -1
	for _, k := range o.keys {
		i := slices.Index(s.fields, k)
		if i < 0 {
			t.Errorf("%s: field %q is not documented for `%s` in docs/json.md", where, k, s.name)
			continue
		}
		// Stats keys follow the order of -s/--group-by.
		if ordered && s.name != "spotctl stats" && i < last {
			t.Errorf("%s: field %q comes after %q, against the order of docs/json.md", where, k, s.fields[last])
		}
		last = max(last, i)
		if strings.HasPrefix(s.types[k], "map") {
			continue // free-form keys
		}
		named := map[string]bool{}
		for _, m := range docBacktick.FindAllStringSubmatch(s.rows[k], -1) {
			for _, id := range docIdent.FindAllString(m[1], -1) {
				named[id] = true
			}
		}
		for _, nk := range o.nested[k] {
			if !named[nk] {
				t.Errorf("%s: %s.%s is not named in the `%s` row of `%s` in docs/json.md", where, k, nk, k, s.name)
			}
		}
	}
}

func TestShapeOf(t *testing.T) {
	for _, tc := range []struct {
		args          string
		mode          string
		shape, format string
		ordered       bool
	}{
		{"flows demo.case --limit 3", "pipe", "spotctl flows", "jsonl", true},
		{"flows demo.case --limit 3", "tty", "spotctl flows", "table", true},
		{"flows --format csv demo.case", "tty", "spotctl flows", "csv", true},
		{"flows demo.case --fields dst_port,src_ip", "pipe", "spotctl flows", "jsonl", false},
		{"flows demo.case --format tsv --no-header", "pipe", "", "tsv", false},
		{"flows --check 'proto tcp'", "pipe", "", "jsonl", false},
		{"score flows demo.case --top 3 'dst port 53'", "pipe", "spotctl score flows", "jsonl", true},
		{"score flows demo.case --format spot", "pipe", "", "spot", false},
		{"info stdin.case", "pipe", "spotctl info", "json", true},
		{"synth --seed 2 -o x.pcap --truth -", "pipe", "spotctl synth", "jsonl", true},
		{"synth --seed 2 -o x.pcap", "pipe", "", "jsonl", true},
		{"--version", "pipe", "", "jsonl", false},
	} {
		args, err := splitArgs(tc.args)
		if err != nil {
			t.Fatal(err)
		}
		if shape, format, ordered := shapeOf(args, tc.mode); shape != tc.shape || format != tc.format || shape != "" && ordered != tc.ordered {
			t.Errorf("shapeOf(%s, %s) = %q, %q, %v; want %q, %q, %v", tc.args, tc.mode, shape, format, ordered, tc.shape, tc.format, tc.ordered)
		}
	}
}
