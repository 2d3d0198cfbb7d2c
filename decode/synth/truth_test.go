package synth

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spotctl/spotctl/decode/flow"
)

func a4(s string) flow.Addr { return flow.AddrFromNetip(addr(s)) }

// sampleTruth is a hand-made truth with one activity of each matching
// style: any port, listed ports, and DNS.
func sampleTruth() Truth {
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	return Truth{Activities: []Activity{
		{
			ID: 1, Kind: Scan, AttackerIP: addr("10.20.10.5"), Start: t0, End: t0.Add(time.Minute), Packets: 10,
			Match: Match{Conversations: []Conversation{{SrcIP: addr("10.20.10.5"), DstIP: addr("10.20.10.9"), Proto: 6}}},
		},
		{
			ID: 2, Kind: DNSTunnel, AttackerIP: addr("10.20.10.7"), Start: t0, End: t0.Add(time.Hour), Packets: 10,
			Match: Match{
				Conversations: []Conversation{
					{SrcIP: addr("10.20.10.7"), DstIP: addr("10.20.1.53"), Proto: 17, SrcPorts: []uint16{50001}, DstPorts: []uint16{53}},
					{SrcIP: addr("10.20.1.53"), DstIP: addr("192.0.2.53"), Proto: 17, SrcPorts: []uint16{33000, 40000, 41000}, DstPorts: []uint16{53}},
				},
				DNS: &DNSMatch{Clients: []netip.Addr{addr("10.20.10.7"), addr("10.20.1.53")}, Suffixes: []string{"t.nv3-relay.net"}},
			},
		},
		{ // no traffic: never matches
			ID: 3, Kind: Beacon, Start: t0, End: t0,
			Match: Match{Conversations: []Conversation{{SrcIP: addr("10.20.10.8"), DstIP: addr("203.0.113.147"), Proto: 6}}},
		},
	}}
}

func TestLabelFlow(t *testing.T) {
	tr := sampleTruth()
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC).UnixNano()
	rec := func(src, dst string, sp, dp uint16, proto uint8, first, last int64) *flow.Record {
		return &flow.Record{Src: a4(src), Dst: a4(dst), SrcPort: sp, DstPort: dp, Proto: proto, First: first, Last: last}
	}
	for _, c := range []struct {
		name string
		r    *flow.Record
		want Kind
	}{
		{"scan probe", rec("10.20.10.5", "10.20.10.9", 51000, 22, 6, t0+1e9, t0+2e9), Scan},
		{"scan answer", rec("10.20.10.9", "10.20.10.5", 22, 51000, 6, t0+1e9, t0+2e9), Scan},
		{"scan, UDP", rec("10.20.10.5", "10.20.10.9", 51000, 22, 17, t0+1e9, t0+2e9), ""},
		{"scan, before the window", rec("10.20.10.5", "10.20.10.9", 51000, 22, 6, t0-2e9, t0-1e9), ""},
		{"scan, overlaps the start", rec("10.20.10.5", "10.20.10.9", 51000, 22, 6, t0-2e9, t0), Scan},
		{"scan, after the window", rec("10.20.10.5", "10.20.10.9", 51000, 22, 6, t0+61e9, t0+62e9), ""},
		{"tunnel socket", rec("10.20.10.7", "10.20.1.53", 50001, 53, 17, t0+5e9, t0+6e9), DNSTunnel},
		{"tunnel answers", rec("10.20.1.53", "10.20.10.7", 53, 50001, 17, t0+5e9, t0+6e9), DNSTunnel},
		{"attacker's other lookup", rec("10.20.10.7", "10.20.1.53", 50002, 53, 17, t0+5e9, t0+6e9), ""},
		{"upstream leg", rec("10.20.1.53", "192.0.2.53", 40000, 53, 17, t0+5e9, t0+6e9), DNSTunnel},
		{"upstream answer", rec("192.0.2.53", "10.20.1.53", 53, 41000, 17, t0+5e9, t0+6e9), DNSTunnel},
		{"other upstream port", rec("10.20.1.53", "192.0.2.53", 40001, 53, 17, t0+5e9, t0+6e9), ""},
		{"other forwarder", rec("10.20.1.53", "192.0.2.54", 40000, 53, 17, t0+5e9, t0+6e9), ""},
		{"ports swapped", rec("10.20.1.53", "192.0.2.53", 53, 40000, 17, t0+5e9, t0+6e9), ""},
		{"no traffic activity", rec("10.20.10.8", "203.0.113.147", 50000, 443, 6, t0, t0), ""},
	} {
		got, ok := tr.LabelFlow(c.r)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("%s: LabelFlow = %q, %v; want %q", c.name, got, ok, c.want)
		}
	}
}

func TestLabelDNS(t *testing.T) {
	tr := sampleTruth()
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC).UnixNano()
	for _, c := range []struct {
		client, qname string
		ts            int64
		want          bool
	}{
		{"10.20.10.7", "abc.def.t.nv3-relay.net", t0 + 1e9, true},
		{"10.20.10.7", "ABC.T.NV3-Relay.NET", t0 + 1e9, true},
		{"10.20.10.7", "t.nv3-relay.net", t0 + 1e9, true},
		{"10.20.10.7", "abc.t.nv3-relay.net.", t0 + 1e9, true},
		{"10.20.1.53", "abc.t.nv3-relay.net", t0 + 1e9, true}, // the resolver's upstream query
		{"10.20.10.7", "xt.nv3-relay.net", t0 + 1e9, false},   // not at a label boundary
		{"10.20.10.7", "nv3-relay.net", t0 + 1e9, false},
		{"10.20.10.6", "abc.t.nv3-relay.net", t0 + 1e9, false},
		{"10.20.10.7", "abc.t.nv3-relay.net", t0 - 1, false},
		{"10.20.10.7", "abc.t.nv3-relay.net", t0 + 3601e9, false},
		{"10.20.10.7", "", t0 + 1e9, false},
	} {
		m := &flow.DNSMessage{TS: c.ts, Client: a4(c.client), QName: c.qname}
		kind, ok := tr.LabelDNS(m)
		if ok != c.want || ok && kind != DNSTunnel {
			t.Errorf("%s %q at %d: LabelDNS = %q, %v; want %v", c.client, c.qname, c.ts-t0, kind, ok, c.want)
		}
	}
}

// TestTruthRoundTrip: WriteJSONL then ReadTruth gives the same truth, for a
// generated one with every kind.
func TestTruthRoundTrip(t *testing.T) {
	_, st := generate(t, Options{Seed: 12, Hosts: 15, Start: busy, Duration: 20 * time.Minute, Inject: mustInject(t, allKinds)})
	var b bytes.Buffer
	if err := st.Truth.WriteJSONL(&b); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "\n"); n != len(Kinds()) {
		t.Fatalf("%d lines, want %d", n, len(Kinds()))
	}
	got, err := ReadTruth(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, st.Truth) {
		for i := range got.Activities {
			if !reflect.DeepEqual(got.Activities[i], st.Truth.Activities[i]) {
				t.Fatalf("activity %d differs after the round trip:\n got %+v\nwant %+v", i+1, got.Activities[i], st.Truth.Activities[i])
			}
		}
		t.Fatal("truth differs after the round trip")
	}
	var again bytes.Buffer
	if err := got.WriteJSONL(&again); err != nil || !bytes.Equal(again.Bytes(), b.Bytes()) {
		t.Fatalf("re-encoding differs (%v)", err)
	}
	path := filepath.Join(t.TempDir(), "t.jsonl")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if f, err := ReadTruthFile(path); err != nil || !reflect.DeepEqual(f, st.Truth) {
		t.Fatalf("ReadTruthFile: %v", err)
	}
	if _, err := ReadTruthFile(path + ".missing"); err == nil {
		t.Fatal("missing file read")
	}
}

func TestReadTruthErrors(t *testing.T) {
	good := `{"id":1,"kind":"scan","start":"2026-03-02T10:00:00.000000000Z","end":"2026-03-02T10:01:00.000000000Z","match":{"conversations":[{"src_ip":"10.20.10.5","dst_ip":"10.20.10.9","proto":6}]}}`
	for _, c := range []struct{ in, want string }{
		{good + "\n{", "truth line 2"},
		{"\n\n" + strings.Replace(good, `"kind":"scan",`, "", 1), "truth line 3: missing kind"},
		{strings.Replace(good, "2026-03-02T10:01", "2026-03-02T09:01", 1), "before start"},
		{strings.Replace(good, `"start":"2026-03-02T10:00:00.000000000Z"`, `"start":"yesterday"`, 1), "start"},
		{strings.Replace(good, `"src_ip":"10.20.10.5",`, "", 1), "missing address"},
		{strings.Replace(good, `"10.20.10.9"`, `"10.20.10.999"`, 1), "truth line 1"},
		{strings.Replace(good, `"proto":6`, `"proto":600`, 1), "truth line 1"},
	} {
		_, err := ReadTruth(strings.NewReader(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadTruth(%.60q…): %v, want an error containing %q", c.in, err, c.want)
		}
	}
	tr, err := ReadTruth(strings.NewReader(good + "\n\n" + good + "\n"))
	if err != nil || len(tr.Activities) != 2 {
		t.Fatalf("two good lines: %v, %d activities", err, len(tr.Activities))
	}
	// Lists are normalised for matching: ports sorted, suffixes lower case.
	messy := strings.Replace(good, `"proto":6}]}`, `"proto":17,"src_ports":[9,3,9,1]}],"dns":{"clients":["::ffff:10.20.10.5"],"suffixes":["B.Example.","a.example"]}}`, 1)
	tr, err = ReadTruth(strings.NewReader(messy))
	if err != nil {
		t.Fatal(err)
	}
	m := tr.Activities[0].Match
	if !reflect.DeepEqual(m.Conversations[0].SrcPorts, []uint16{1, 3, 9}) || !reflect.DeepEqual(m.DNS.Suffixes, []string{"a.example", "b.example"}) || m.DNS.Clients[0] != addr("10.20.10.5") {
		t.Fatalf("not normalised: %+v %+v", m.Conversations[0], *m.DNS)
	}
}

// TestTruthGolden pins the truth file of a small injected capture, so a
// change of the format shows up in review (go test -update).
func TestTruthGolden(t *testing.T) {
	in := mustInject(t, "beacon:interval=2m,scan:at=+3m:ports=20-25,80,443:targets=1,dns-tunnel:at=+4m:for=1m:interval=5s,exfil:at=+1m:for=1m:bytes=3MB,dga:at=+2m:count=4,lateral:at=+5m:targets=2")
	_, st := generate(t, Options{Seed: 1, Hosts: 12, Start: busy, Duration: 8 * time.Minute, Inject: in})
	var b bytes.Buffer
	if err := st.Truth.WriteJSONL(&b); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "truth.golden.jsonl")
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		gl, wl := strings.Split(b.String(), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("line %d differs (run go test -update if intended):\n got %s\nwant %s", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("truth has %d lines, golden %d", len(gl), len(wl))
	}
}
