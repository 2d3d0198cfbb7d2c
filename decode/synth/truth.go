package synth

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spotctl/spotctl/decode/flow"
)

// Truth says what Write injected: one Activity per Options.Inject entry, in
// that order. It is written as JSON Lines (WriteJSONL, ReadTruth) and
// labels flows and DNS messages of the capture (LabelFlow, LabelDNS).
type Truth struct {
	Activities []Activity
}

// Activity is one injected scenario as it came out on the wire.
type Activity struct {
	ID           int               // 1-based position in Options.Inject
	Kind         Kind              // beacon, scan, dns-tunnel, exfil, dga, lateral
	Description  string            // one sentence for people
	AttackerIP   netip.Addr        // the internal host that does it
	AttackerHost string            // its name (ws-0007)
	DstIPs       []netip.Addr      // where its traffic goes: C2 or drop address, scan or lateral victims, the resolver
	Proto        string            // "tcp" or "udp"
	Ports        []uint16          // destination ports, ascending
	Domain       string            // the DNS domain (DNS kinds) or TLS server name (beacon, exfil); "" when none
	Start, End   time.Time         // first and last injected packet (UTC); the planned start when Packets is 0
	Packets      int               // frames written
	Bytes        int               // their lengths summed
	Flows        int               // conversations started (TCP connections, UDP sockets pairs) as in Stats.Flows
	Params       map[string]string // the effective parameters (defaults filled in), as ParseInjection reads them
	Match        Match             // what LabelFlow and LabelDNS test
}

// Match is the exact rule that tells an injected flow or DNS message from
// background: a flow belongs to the activity when its time span overlaps
// [Start, End] and it matches one of the conversations in either direction;
// a DNS message when its time is in [Start, End], its client is one of
// DNS.Clients and its query name ends in one of DNS.Suffixes (at a label
// boundary, ASCII case ignored). The generator picks addresses and ports so
// that no background conversation matches: the rule labels exactly.
type Match struct {
	Conversations []Conversation
	DNS           *DNSMatch // nil for kinds without DNS
}

// Conversation is one key of Match: Src is the side that opened the
// conversation. An empty port list matches any port; lists are ascending.
type Conversation struct {
	SrcIP    netip.Addr `json:"src_ip"`
	DstIP    netip.Addr `json:"dst_ip"`
	Proto    uint8      `json:"proto"`
	SrcPorts []uint16   `json:"src_ports,omitempty"`
	DstPorts []uint16   `json:"dst_ports,omitempty"`
}

// DNSMatch is the DNS part of Match. Suffixes are lower case and ascending.
type DNSMatch struct {
	Clients  []netip.Addr `json:"clients"`
	Suffixes []string     `json:"suffixes"`
}

// timeLayout is the machine time format of every spotctl output: RFC 3339
// in UTC with exactly nine fraction digits.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// activityJSON fixes the JSON field names and order of an Activity.
type activityJSON struct {
	ID           int               `json:"id"`
	Kind         Kind              `json:"kind"`
	Description  string            `json:"description"`
	AttackerIP   netip.Addr        `json:"attacker_ip"`
	AttackerHost string            `json:"attacker_host"`
	DstIPs       []netip.Addr      `json:"dst_ips"`
	Proto        string            `json:"proto"`
	Ports        []uint16          `json:"ports"`
	Domain       string            `json:"domain,omitempty"`
	Start        string            `json:"start"`
	End          string            `json:"end"`
	Packets      int               `json:"packets"`
	Bytes        int               `json:"bytes"`
	Flows        int               `json:"flows"`
	Params       map[string]string `json:"params"`
	Match        matchJSON         `json:"match"`
}

type matchJSON struct {
	Conversations []Conversation `json:"conversations"`
	DNS           *DNSMatch      `json:"dns,omitempty"`
}

// MarshalJSON writes the truth-file form of a.
func (a Activity) MarshalJSON() ([]byte, error) {
	j := activityJSON{
		ID: a.ID, Kind: a.Kind, Description: a.Description,
		AttackerIP: a.AttackerIP, AttackerHost: a.AttackerHost,
		DstIPs: a.DstIPs, Proto: a.Proto, Ports: a.Ports, Domain: a.Domain,
		Start: a.Start.UTC().Format(timeLayout), End: a.End.UTC().Format(timeLayout),
		Packets: a.Packets, Bytes: a.Bytes, Flows: a.Flows, Params: a.Params,
		Match: matchJSON{Conversations: a.Match.Conversations, DNS: a.Match.DNS},
	}
	if j.DstIPs == nil {
		j.DstIPs = []netip.Addr{}
	}
	if j.Ports == nil {
		j.Ports = []uint16{}
	}
	if j.Params == nil {
		j.Params = map[string]string{}
	}
	if j.Match.Conversations == nil {
		j.Match.Conversations = []Conversation{}
	}
	return marshalNoEscape(j)
}

func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// UnmarshalJSON reads the truth-file form and normalises the lists
// (ascending ports, lower-case ascending suffixes) that matching relies on.
func (a *Activity) UnmarshalJSON(b []byte) error {
	var j activityJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return err
	}
	if j.Kind == "" {
		return errors.New("missing kind")
	}
	var err error
	var start, end time.Time
	if start, err = time.Parse(time.RFC3339Nano, j.Start); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	if end, err = time.Parse(time.RFC3339Nano, j.End); err != nil {
		return fmt.Errorf("end: %w", err)
	}
	if end.Before(start) {
		return fmt.Errorf("end %s before start %s", j.End, j.Start)
	}
	*a = Activity{
		ID: j.ID, Kind: j.Kind, Description: j.Description,
		AttackerIP: j.AttackerIP, AttackerHost: j.AttackerHost,
		DstIPs: j.DstIPs, Proto: j.Proto, Ports: sortPorts(j.Ports), Domain: j.Domain,
		Start: start.UTC(), End: end.UTC(),
		Packets: j.Packets, Bytes: j.Bytes, Flows: j.Flows, Params: j.Params,
		Match: Match{Conversations: j.Match.Conversations, DNS: j.Match.DNS},
	}
	for i := range a.Match.Conversations {
		c := &a.Match.Conversations[i]
		if !c.SrcIP.IsValid() || !c.DstIP.IsValid() {
			return fmt.Errorf("conversation %d: missing address", i+1)
		}
		c.SrcIP, c.DstIP = c.SrcIP.Unmap(), c.DstIP.Unmap()
		c.SrcPorts, c.DstPorts = sortPorts(c.SrcPorts), sortPorts(c.DstPorts)
	}
	if d := a.Match.DNS; d != nil {
		for i, c := range d.Clients {
			d.Clients[i] = c.Unmap()
		}
		for i, s := range d.Suffixes {
			d.Suffixes[i] = strings.TrimSuffix(strings.ToLower(s), ".")
		}
		slices.Sort(d.Suffixes)
		d.Suffixes = slices.Compact(d.Suffixes)
	}
	return nil
}

func sortPorts(p []uint16) []uint16 {
	slices.Sort(p)
	return slices.Compact(p)
}

// WriteJSONL writes one JSON object per activity, one per line.
func (t Truth) WriteJSONL(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for i := range t.Activities {
		b, err := t.Activities[i].MarshalJSON()
		if err != nil {
			return fmt.Errorf("truth activity %d: %w", i+1, err)
		}
		bw.Write(b)
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write truth: %w", err)
	}
	return nil
}

// maxTruthLine bounds one line of a truth file (a long DNS tunnel lists
// a few thousand ports).
const maxTruthLine = 64 << 20

// ReadTruth reads a truth file written by WriteJSONL. Blank lines are
// skipped; an error names the line.
func ReadTruth(r io.Reader) (Truth, error) {
	var t Truth
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxTruthLine)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var a Activity
		if err := json.Unmarshal(b, &a); err != nil {
			return t, fmt.Errorf("truth line %d: %w", line, err)
		}
		t.Activities = append(t.Activities, a)
	}
	if err := sc.Err(); err != nil {
		return t, fmt.Errorf("truth line %d: %w", line+1, err)
	}
	return t, nil
}

// ReadTruthFile reads the truth file at path.
func ReadTruthFile(path string) (Truth, error) {
	f, err := os.Open(path)
	if err != nil {
		return Truth{}, fmt.Errorf("read truth: %w", err)
	}
	defer f.Close()
	t, err := ReadTruth(f)
	if err != nil {
		return t, fmt.Errorf("read %s: %w", path, err)
	}
	return t, nil
}

// LabelFlow returns the kind of the first activity whose Match the flow
// satisfies, and whether there is one.
func (t Truth) LabelFlow(r *flow.Record) (Kind, bool) {
	if a := t.FlowActivity(r); a != nil {
		return a.Kind, true
	}
	return "", false
}

// FlowActivity returns the first activity whose Match the flow satisfies,
// or nil.
func (t Truth) FlowActivity(r *flow.Record) *Activity {
	src, dst := r.Src.Netip(), r.Dst.Netip()
	for i := range t.Activities {
		a := &t.Activities[i]
		if a.Packets == 0 || r.Last < a.Start.UnixNano() || r.First > a.End.UnixNano() {
			continue
		}
		for j := range a.Match.Conversations {
			if a.Match.Conversations[j].matches(src, dst, r) {
				return a
			}
		}
	}
	return nil
}

func (c *Conversation) matches(src, dst netip.Addr, r *flow.Record) bool {
	if r.Proto != c.Proto {
		return false
	}
	switch {
	case src == c.SrcIP && dst == c.DstIP:
		return hasPort(c.SrcPorts, r.SrcPort) && hasPort(c.DstPorts, r.DstPort)
	case src == c.DstIP && dst == c.SrcIP:
		return hasPort(c.DstPorts, r.SrcPort) && hasPort(c.SrcPorts, r.DstPort)
	}
	return false
}

func hasPort(list []uint16, p uint16) bool {
	if len(list) == 0 {
		return true
	}
	_, ok := slices.BinarySearch(list, p)
	return ok
}

// LabelDNS returns the kind of the first activity whose DNS match the
// message satisfies, and whether there is one.
func (t Truth) LabelDNS(m *flow.DNSMessage) (Kind, bool) {
	if a := t.DNSActivity(m); a != nil {
		return a.Kind, true
	}
	return "", false
}

// DNSActivity returns the first activity whose DNS match the message
// satisfies, or nil.
func (t Truth) DNSActivity(m *flow.DNSMessage) *Activity {
	var client netip.Addr
	var qname string
	for i := range t.Activities {
		a := &t.Activities[i]
		d := a.Match.DNS
		if d == nil || a.Packets == 0 || m.TS < a.Start.UnixNano() || m.TS > a.End.UnixNano() {
			continue
		}
		if !client.IsValid() {
			client = m.Client.Netip()
			qname = strings.TrimSuffix(m.QName, ".")
			if hasUpper(qname) {
				qname = strings.ToLower(qname)
			}
		}
		if !slices.Contains(d.Clients, client) {
			continue
		}
		// Try the name and every parent of it against the sorted suffixes.
		for s := qname; ; {
			if _, ok := slices.BinarySearch(d.Suffixes, s); ok {
				return a
			}
			i := strings.IndexByte(s, '.')
			if i < 0 {
				break
			}
			s = s[i+1:]
		}
	}
	return nil
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			return true
		}
	}
	return false
}
