package synth

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kind names a scenario that Options.Inject can add to the background.
type Kind string

// The injectable scenarios. Each is described, with its parameters and
// defaults, in the package documentation and in docs/synth.md.
const (
	Beacon    Kind = "beacon"     // periodic HTTPS check-ins to a rare external address
	Scan      Kind = "scan"       // TCP connect scan of workstations
	DNSTunnel Kind = "dns-tunnel" // long high-entropy subdomains of one domain through the resolver
	Exfil     Kind = "exfil"      // large upload to a rare external address at night
	DGA       Kind = "dga"        // many NXDOMAIN lookups of random names, one resolves
	Lateral   Kind = "lateral"    // SMB and SSH from one workstation to many others
)

// Kinds lists every scenario in a fixed order: what "all" expands to.
func Kinds() []Kind { return []Kind{Beacon, Scan, DNSTunnel, Exfil, DGA, Lateral} }

// Injection asks for one labelled malicious activity. Zero fields take the
// kind's default; fields that do not apply to the kind must stay zero.
type Injection struct {
	Kind Kind
	// Src is the attacker: a workstation name ("ws-0007") or its IPv4
	// address. Empty: a workstation chosen from the seed, different from
	// the other injections' attackers while there are enough.
	Src string
	// At is when the activity starts: "HH:MM" or "HH:MM:SS" (the first such
	// local time at or after Options.Start, in its location), "+DURATION"
	// (an offset from Options.Start) or an RFC 3339 time. Empty: the kind's
	// default (see DefaultAt).
	At string
	// For is the length of the activity window. Beacon: 0 runs to the end
	// of the capture. Others: 0 means the kind's default.
	For time.Duration
	// Interval is the beacon's check-in period (default 300 s) and the mean
	// gap between queries of dns-tunnel (3 s) and dga (2 s).
	Interval time.Duration
	// Jitter is the beacon's interval jitter as a fraction: each gap is
	// Interval × (1 ± Jitter), uniform. 0 means 0.1; negative means none.
	Jitter float64
	// Dst is the external address of beacon, exfil and the dga's live
	// name (IPv4). Empty: a fixed address in 203.0.113.128/25 that the
	// background never uses. An address the background uses is refused:
	// its flows could not be labelled exactly.
	Dst string
	// Port is the destination port of beacon and exfil (443).
	Port uint16
	// Domain is the dns-tunnel's domain, or the TLS server name of beacon
	// and exfil. Empty: a fixed fictional name per kind.
	Domain string
	// Bytes is the exfil volume (200 MB).
	Bytes int64
	// Conns is the number of exfil connections the volume is split over (2).
	Conns int
	// Targets is the number of victim workstations of scan (2) and
	// lateral (10); capped at the workstations available.
	Targets int
	// Ports is the scan's port list, e.g. "1-1024,3389" (default
	// DefaultScanPorts).
	Ports string
	// Count is the number of names the dga tries (300).
	Count int
}

// Defaults of the scenarios.
const (
	DefaultBeaconInterval = 300 * time.Second
	DefaultBeaconJitter   = 0.1
	DefaultTunnelFor      = 90 * time.Minute
	DefaultTunnelGap      = 3 * time.Second
	DefaultExfilFor       = 90 * time.Minute
	DefaultExfilBytes     = 200_000_000
	DefaultExfilConns     = 2
	DefaultScanTargets    = 2
	DefaultScanPorts      = "1-1024,1433,1521,2049,3306,3389,5432,5900,5985,8000,8080,8443,9000,9200"
	DefaultDGACount       = 300
	DefaultDGAGap         = 2 * time.Second
	DefaultLateralTargets = 10
)

// DefaultAt is the default start of each kind, in local time of
// Options.Start (beacon: the capture start plus a random phase).
var DefaultAt = map[Kind]string{
	Beacon:    "",
	Scan:      "14:10",
	DNSTunnel: "10:15",
	Exfil:     "02:00",
	DGA:       "08:50",
	Lateral:   "15:20",
}

// Default external ends and names. The addresses sit in the half of
// 203.0.113.0/24 the background never uses (its CDN pools take .1–.72), so
// every flow to them is injected.
var defaultDst = map[Kind]string{
	Beacon: "203.0.113.147",
	Exfil:  "203.0.113.211",
	DGA:    "203.0.113.173",
}

var defaultDomain = map[Kind]string{
	Beacon:    "static.cdn-metrics-sync.com",
	Exfil:     "upload.sharebin-drop.net",
	DNSTunnel: "t.nv3-relay.net",
}

// Maximum sizes accepted, to keep a mistyped parameter from asking for a
// capture nobody can store.
const (
	maxExfilBytes = 64 << 30
	maxInjectN    = 1_000_000
	// maxDNSQueries bounds a DNS scenario. Its upstream queries take ports
	// from the resolver's allocator, which walks about 28,000 ports before
	// it repeats one; staying well below that (with the background's own
	// upstream queries, a few thousand an hour) keeps every injected
	// 5-tuple unique within the activity, so the labels stay exact.
	maxDNSQueries = 20_000
)

// ParseInjections parses the --inject syntax: a comma-separated list of
// specs, each a kind optionally followed by ":key=value" parameters, e.g.
// "beacon:interval=60s:jitter=0.2,scan:ports=1-1024,3389,exfil:bytes=1GB".
// "all" stands for every kind with its defaults. A comma or colon piece that
// does not start a new kind or key continues the previous value, so port
// lists and clock times ("at=02:30") need no quoting. Keys: src, at, for,
// interval, jitter, dst, port, domain, bytes (k/M/G decimal, KiB/MiB/GiB
// binary), conns, targets, ports, count.
func ParseInjections(list string) ([]Injection, error) {
	var specs []string
	for _, piece := range strings.Split(list, ",") {
		p := strings.TrimSpace(piece)
		if p == "" {
			continue
		}
		if len(specs) > 0 && !startsSpec(p) {
			specs[len(specs)-1] += "," + p
			continue
		}
		specs = append(specs, p)
	}
	var out []Injection
	for _, s := range specs {
		if s == "all" {
			for _, k := range Kinds() {
				out = append(out, Injection{Kind: k})
			}
			continue
		}
		in, err := ParseInjection(s)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, nil
}

// startsSpec reports whether p begins a new spec (a kind name, alone or
// followed by ':').
func startsSpec(p string) bool {
	name, _, _ := strings.Cut(p, ":")
	if name == "all" {
		return true
	}
	return slices.Contains(Kinds(), Kind(name))
}

// ParseInjection parses one spec: "kind[:key=value[:key=value…]]".
func ParseInjection(spec string) (Injection, error) {
	parts := strings.Split(spec, ":")
	in := Injection{Kind: Kind(strings.TrimSpace(parts[0]))}
	if !slices.Contains(Kinds(), in.Kind) {
		return in, fmt.Errorf("%w: inject %q: unknown kind (want one of %s or all)", ErrOptions, parts[0], kindList())
	}
	var kv []string
	for _, p := range parts[1:] {
		if len(kv) > 0 && !strings.Contains(p, "=") {
			kv[len(kv)-1] += ":" + p // "at=02:30", RFC 3339 times
			continue
		}
		kv = append(kv, p)
	}
	seen := map[string]bool{}
	for _, p := range kv {
		k, v, ok := strings.Cut(p, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return in, fmt.Errorf("%w: inject %s: parameter %q: want key=value", ErrOptions, in.Kind, p)
		}
		if seen[k] {
			return in, fmt.Errorf("%w: inject %s: parameter %s given twice", ErrOptions, in.Kind, k)
		}
		seen[k] = true
		if err := in.set(k, strings.TrimSpace(v)); err != nil {
			return in, fmt.Errorf("%w: inject %s: %s=%q: %v", ErrOptions, in.Kind, k, v, err)
		}
	}
	return in, nil
}

func kindList() string {
	var s []string
	for _, k := range Kinds() {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

func (in *Injection) set(k, v string) error {
	var err error
	switch k {
	case "src":
		in.Src = v
	case "at":
		in.At = v
	case "for":
		in.For, err = time.ParseDuration(v)
	case "interval":
		in.Interval, err = time.ParseDuration(v)
	case "jitter":
		if p, ok := strings.CutSuffix(v, "%"); ok {
			in.Jitter, err = strconv.ParseFloat(p, 64)
			in.Jitter /= 100
		} else {
			in.Jitter, err = strconv.ParseFloat(v, 64)
		}
		if err == nil && in.Jitter == 0 {
			in.Jitter = -1 // an explicit 0: no jitter
		}
	case "dst":
		in.Dst = v
	case "port":
		var p uint64
		p, err = strconv.ParseUint(v, 10, 16)
		in.Port = uint16(p)
	case "domain":
		in.Domain = v
	case "bytes":
		in.Bytes, err = parseBytes(v)
	case "conns":
		in.Conns, err = strconv.Atoi(v)
	case "targets":
		in.Targets, err = strconv.Atoi(v)
	case "ports":
		in.Ports = v
	case "count":
		in.Count, err = strconv.Atoi(v)
	default:
		return fmt.Errorf("unknown parameter (want src, at, for, interval, jitter, dst, port, domain, bytes, conns, targets, ports or count)")
	}
	return err
}

// parseBytes reads a size: an integer with an optional k, M, G (powers of
// 1000) or KiB, MiB, GiB (powers of 1024) suffix, B optional.
func parseBytes(s string) (int64, error) {
	mult := int64(1)
	num := s
	for _, u := range []struct {
		suf string
		m   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"B", 1}} {
		if p, ok := strings.CutSuffix(s, u.suf); ok {
			num, mult = p, u.m
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil {
		return 0, err
	}
	if n < 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("size out of range")
	}
	return n * mult, nil
}

// applies lists which fields each kind takes.
var applies = map[Kind]string{
	Beacon:    "src at for interval jitter dst port domain",
	Scan:      "src at targets ports",
	DNSTunnel: "src at for interval domain",
	Exfil:     "src at for dst port domain bytes conns",
	DGA:       "src at interval dst count",
	Lateral:   "src at targets",
}

// paramKeys is the order parameters are written in.
var paramKeys = strings.Fields("src at for interval jitter dst port domain bytes conns targets ports count")

// params returns the injection's fields as key → value, non-zero only.
func (in *Injection) params() map[string]string {
	m := map[string]string{}
	put := func(k, v string, set bool) {
		if set {
			m[k] = v
		}
	}
	put("src", in.Src, in.Src != "")
	put("at", in.At, in.At != "")
	put("for", in.For.String(), in.For != 0)
	put("interval", in.Interval.String(), in.Interval != 0)
	put("jitter", strconv.FormatFloat(max(in.Jitter, 0), 'g', -1, 64), in.Jitter != 0)
	put("dst", in.Dst, in.Dst != "")
	put("port", strconv.Itoa(int(in.Port)), in.Port != 0)
	put("domain", in.Domain, in.Domain != "")
	put("bytes", strconv.FormatInt(in.Bytes, 10), in.Bytes != 0)
	put("conns", strconv.Itoa(in.Conns), in.Conns != 0)
	put("targets", strconv.Itoa(in.Targets), in.Targets != 0)
	put("ports", in.Ports, in.Ports != "")
	put("count", strconv.Itoa(in.Count), in.Count != 0)
	return m
}

// String returns the spec ParseInjection reads back to the same Injection.
func (in Injection) String() string {
	var b strings.Builder
	b.WriteString(string(in.Kind))
	m := in.params()
	for _, k := range paramKeys {
		if v, ok := m[k]; ok {
			b.WriteString(":" + k + "=" + v)
		}
	}
	return b.String()
}

// normalize checks one injection against the options and fills in the
// kind's defaults (except Src, which the generator chooses from the seed).
func (in Injection) normalize(o *Options) (Injection, error) {
	bad := func(format string, a ...any) (Injection, error) {
		return in, fmt.Errorf("%w: inject %s: %s", ErrOptions, in.Kind, fmt.Sprintf(format, a...))
	}
	ap, ok := applies[in.Kind]
	if !ok {
		return bad("unknown kind (want one of %s)", kindList())
	}
	takes := strings.Fields(ap)
	given := in.params()
	for _, k := range paramKeys {
		if _, ok := given[k]; ok && !slices.Contains(takes, k) {
			return bad("parameter %s does not apply (%s takes %s)", k, in.Kind, strings.Join(takes, ", "))
		}
	}
	nws := o.Hosts - len(serverRoles)
	if in.Src != "" {
		if _, err := workstationIndex(in.Src, nws); err != nil {
			return bad("src %q: %v", in.Src, err)
		}
	}
	if in.At == "" {
		in.At = DefaultAt[in.Kind]
	}
	if in.At != "" {
		t, err := resolveAt(in.At, o.Start)
		if err != nil {
			return bad("at %q: %v", in.At, err)
		}
		if t.Before(o.Start) {
			return bad("at %q is before the capture start %v", in.At, o.Start)
		}
	}
	if in.For < 0 || in.Interval < 0 {
		return bad("negative duration")
	}
	switch in.Kind {
	case Beacon:
		in.Interval = cmp0(in.Interval, DefaultBeaconInterval)
		if in.Interval < time.Second {
			return bad("interval %v: want at least 1s", in.Interval)
		}
		if in.Jitter == 0 {
			in.Jitter = DefaultBeaconJitter
		}
		if math.IsNaN(in.Jitter) || in.Jitter >= 1 {
			return bad("jitter %v: want less than 1", in.Jitter)
		}
	case DNSTunnel:
		in.For = cmp0(in.For, DefaultTunnelFor)
		in.Interval = cmp0(in.Interval, DefaultTunnelGap)
		if in.Interval > 0 && in.For/in.Interval > maxDNSQueries {
			return bad("%v at one query per %v is more than %d queries", in.For, in.Interval, maxDNSQueries)
		}
	case DGA:
		in.Interval = cmp0(in.Interval, DefaultDGAGap)
		in.Count = cmp0(in.Count, DefaultDGACount)
		if in.Count > maxDNSQueries {
			return bad("count %d: want at most %d", in.Count, maxDNSQueries)
		}
	case Exfil:
		in.For = cmp0(in.For, DefaultExfilFor)
		in.Bytes = cmp0(in.Bytes, DefaultExfilBytes)
		in.Conns = cmp0(in.Conns, DefaultExfilConns)
		if in.Bytes < 0 || in.Bytes > maxExfilBytes {
			return bad("bytes %d: want 1 to %d", in.Bytes, int64(maxExfilBytes))
		}
		if in.Conns < 1 || in.Conns > 64 {
			return bad("conns %d: want 1 to 64", in.Conns)
		}
		if in.Bytes < int64(in.Conns) {
			return bad("bytes %d: want at least one per connection", in.Bytes)
		}
	case Scan:
		in.Targets = cmp0(in.Targets, DefaultScanTargets)
		if in.Ports == "" {
			in.Ports = DefaultScanPorts
		}
		if _, err := parsePorts(in.Ports); err != nil {
			return bad("ports %q: %v", in.Ports, err)
		}
	case Lateral:
		in.Targets = cmp0(in.Targets, DefaultLateralTargets)
	}
	if in.Kind == DNSTunnel || in.Kind == DGA {
		if in.Interval < time.Millisecond {
			return bad("interval %v: want at least 1ms", in.Interval)
		}
	}
	if in.Count < 0 || in.Count > maxInjectN || in.Targets < 0 || in.Targets > maxInjectN {
		return bad("count or targets out of range")
	}
	if in.Kind == Scan || in.Kind == Lateral {
		if nws < 2 {
			return bad("needs at least two workstations (hosts ≥ %d)", MinHosts+1)
		}
	}
	if in.Kind == Beacon || in.Kind == Exfil {
		in.Port = cmp0(in.Port, 443)
	}
	if k := in.Kind; k == Beacon || k == Exfil || k == DGA {
		if in.Dst == "" {
			in.Dst = defaultDst[k]
		}
		a, err := netip.ParseAddr(in.Dst)
		if err != nil || !a.Is4() {
			return bad("dst %q: want an IPv4 address", in.Dst)
		}
		if a.IsPrivate() || a.IsLoopback() || a.IsMulticast() || a.IsUnspecified() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			return bad("dst %v: want an external unicast address", a)
		}
		if backgroundAddrs()[a.As4()] {
			return bad("dst %v is used by the background traffic: its flows could not be labelled exactly", a)
		}
	}
	if k := in.Kind; k == Beacon || k == Exfil || k == DNSTunnel {
		if in.Domain == "" {
			in.Domain = defaultDomain[k]
		}
		if err := checkDomain(in.Domain); err != nil {
			return bad("domain %q: %v", in.Domain, err)
		}
	}
	return in, nil
}

func cmp0[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// checkDistinct refuses two injections with the same external address or
// the same tunnel domain: their flows or DNS messages would match both
// activities' rules.
func checkDistinct(ins []Injection) error {
	dst := map[string]int{}
	dom := map[string]int{}
	for i, in := range ins {
		if in.Dst != "" {
			if j, ok := dst[in.Dst]; ok {
				return fmt.Errorf("%w: inject %s and %s (entries %d and %d) both use %s: give one another dst", ErrOptions, ins[j].Kind, in.Kind, j+1, i+1, in.Dst)
			}
			dst[in.Dst] = i
		}
		if in.Kind == DNSTunnel {
			d := strings.ToLower(in.Domain)
			if j, ok := dom[d]; ok {
				return fmt.Errorf("%w: dns-tunnel entries %d and %d both use %s: give one another domain", ErrOptions, j+1, i+1, d)
			}
			dom[d] = i
		}
	}
	return nil
}

// checkDomain accepts a host name of letters, digits and hyphens with at
// least two labels, short enough to leave room for tunnel data.
func checkDomain(d string) error {
	if len(d) > 80 {
		return fmt.Errorf("longer than 80 characters")
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return fmt.Errorf("want at least two labels")
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("bad label %q", l)
		}
		for _, c := range []byte(l) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("bad character %q", c)
			}
		}
	}
	if name := strings.ToLower(d); slices.ContainsFunc(backgroundZones(), func(z string) bool {
		return name == z || strings.HasSuffix(name, "."+z) || strings.HasSuffix(z, "."+name)
	}) {
		return fmt.Errorf("overlaps a zone the background uses")
	}
	return nil
}

// workstationIndex resolves "ws-0007" or "10.20.10.7" to a 0-based
// workstation index below nws.
func workstationIndex(s string, nws int) (int, error) {
	k := -1
	if n, ok := strings.CutPrefix(s, "ws-"); ok {
		v, err := strconv.Atoi(n)
		if err != nil {
			return 0, fmt.Errorf("not a workstation name")
		}
		k = v - 1
	} else if a, err := netip.ParseAddr(s); err == nil && a.Is4() {
		b := a.As4()
		if b[0] == 10 && b[1] == 20 && b[2] >= 10 && b[3] >= 1 && b[3] <= 250 {
			k = int(b[2]-10)*250 + int(b[3]) - 1
		}
	} else {
		return 0, fmt.Errorf("want a workstation name (ws-0001) or its IPv4 address")
	}
	if k < 0 || k >= nws {
		return 0, fmt.Errorf("no such workstation (the office has ws-0001 to ws-%04d, 10.20.10.1 on)", nws)
	}
	return k, nil
}

// resolveAt turns an At value into a time.
func resolveAt(s string, start time.Time) (time.Time, error) {
	if d, ok := strings.CutPrefix(s, "+"); ok {
		v, err := time.ParseDuration(d)
		if err != nil {
			return time.Time{}, err
		}
		if v < 0 {
			return time.Time{}, fmt.Errorf("negative offset")
		}
		return start.Add(v), nil
	}
	for _, layout := range []string{"15:04", "15:04:05"} {
		c, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		y, m, d := start.Date()
		t := time.Date(y, m, d, c.Hour(), c.Minute(), c.Second(), 0, start.Location())
		if t.Before(start) {
			t = time.Date(y, m, d+1, c.Hour(), c.Minute(), c.Second(), 0, start.Location())
		}
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want HH:MM, +DURATION or an RFC 3339 time")
	}
	return t, nil
}

// parsePorts reads "1-1024,3389,8080" into a sorted list without repeats.
func parsePorts(s string) ([]uint16, error) {
	var out []uint16
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		lo, hi, isRange := strings.Cut(f, "-")
		a, err := strconv.ParseUint(lo, 10, 16)
		if err != nil || a == 0 {
			return nil, fmt.Errorf("bad port %q", f)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 16); err != nil || b < a {
				return nil, fmt.Errorf("bad port range %q", f)
			}
		}
		for p := a; p <= b; p++ {
			out = append(out, uint16(p))
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// backgroundAddrs is the set of outside IPv4 addresses the fixed world
// uses (it does not depend on the seed).
var backgroundAddrs = sync.OnceValue(func() map[[4]byte]bool {
	var w world
	w.buildNames()
	m := map[[4]byte]bool{}
	for _, e := range w.ext {
		if e.ip4 != ([4]byte{}) {
			m[e.ip4] = true
		}
	}
	return m
})

// backgroundZones lists the registrable domains the background resolves.
var backgroundZones = sync.OnceValue(func() []string {
	z := []string{internalZone}
	for _, b := range brands {
		z = append(z, b.apex)
	}
	for _, c := range cdns {
		z = append(z, c[strings.IndexByte(c, '.')+1:])
	}
	for _, n := range nxNames {
		z = append(z, n[strings.IndexByte(n, '.')+1:])
	}
	return z
})
