package netflow

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spotctl/spotctl/decode/decodetest"
	"github.com/spotctl/spotctl/decode/flow"
)

func sharedPath(tb testing.TB, sub, name string) string {
	tb.Helper()
	return filepath.Join(decodetest.SharedDir(tb), sub, name)
}

// TestSharedCaptures decodes every capture of shared netflow-pcap/ alone:
// every UDP datagram in them is recognised as an export, the record counts
// are the ones tshark shows (TestSharedCapturesMatchTshark checks them
// record by record), and what needs a template from another file is held
// and reported by Flush, never an error or a panic.
func TestSharedCaptures(t *testing.T) {
	want := map[string]struct {
		records, undecodableFlowsets, undecodableRecords uint64
	}{
		"akvorado_icmp-data.pcap":             {0, 1, 2},
		"akvorado_icmp-template.pcap":         {2, 0, 0},
		"akvorado_ipfixprobe-data.pcap":       {0, 1, 0}, // IPFIX: no record count without the template
		"akvorado_ipfixprobe-templates.pcap":  {0, 0, 0},
		"akvorado_nfv5.pcap":                  {29, 0, 0},
		"akvorado_nfv9_data+templates.pcap":   {21, 0, 0},
		"akvorado_nfv9_data.pcap":             {0, 1, 4},
		"akvorado_nfv9_options-data.pcap":     {0, 1, 4},
		"akvorado_nfv9_options-template.pcap": {0, 0, 0},
		"akvorado_nfv9_template.pcap":         {0, 0, 0},
		"graylog_netflow5.pcap":               {4, 0, 0},
		"graylog_netflow9.pcap":               {21, 0, 0},
		"graylog_nprobe-netflow9.pcap":        {152, 0, 0},
		"graylog_pmacctd-netflow5.pcap":       {42, 0, 0},
		"ndpi_netflow-fritz.pcap":             {0, 0, 0},
		"ndpi_netflowv9.pcap":                 {0, 23, 159},
		"pmacct_100-IPFIXv10-CISCO.pcap":      {12, 0, 0},
		"pmacct_101-NFv9-CISCO.pcap":          {51, 0, 0},
	}
	files := decodetest.SharedFiles(t, "netflow-pcap")
	if len(files) != len(want) {
		t.Errorf("%d files in netflow-pcap, the table has %d", len(files), len(want))
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			w, ok := want[name]
			if !ok {
				t.Fatalf("no expectation for %s", name)
			}
			dgs := udpPayloads(t, path)
			for _, g := range dgs {
				if !IsExport(g.payload) {
					t.Errorf("frame %d: not recognised as an export", g.frame)
				}
			}
			d := NewDecoder(Options{})
			recs, errs := collect(t, d, dgs, 0)
			if len(errs) != 0 {
				t.Errorf("errors: %v", errs)
			}
			flushErr := d.Flush()
			st := d.Stats()
			if uint64(len(recs)) != w.records || st.Records != w.records || st.UndecodableFlowsets != w.undecodableFlowsets || st.UndecodableRecords != w.undecodableRecords {
				t.Errorf("%d records, stats %+v; want %+v", len(recs), st, w)
			}
			if (flushErr != nil) != (w.undecodableFlowsets > 0) {
				t.Errorf("flush: %v", flushErr)
			}
			for _, r := range recs {
				if r.Exporter != dgs[0].src && !strings.Contains(name, "nprobe") {
					t.Errorf("exporter %s, datagrams from %s", r.Exporter, dgs[0].src)
				}
			}
		})
	}
}

// TestNdpiWithoutTemplates: the data of ndpi_netflowv9.pcap never meets its
// templates; Flush says how much, in the words the responder will read.
func TestNdpiWithoutTemplates(t *testing.T) {
	d := NewDecoder(Options{})
	recs, errs := collect(t, d, udpPayloads(t, sharedPath(t, "netflow-pcap", "ndpi_netflowv9.pcap")), 0)
	if len(recs) != 0 || len(errs) != 0 {
		t.Fatalf("%d records, %v", len(recs), errs)
	}
	err := d.Flush()
	var ue *UndecodableError
	if !errors.As(err, &ue) || ue.Records != 159 || ue.Flowsets != 23 || len(ue.Missing) != 5 {
		t.Fatalf("flush: %v", err)
	}
	if !strings.HasPrefix(err.Error(), "undecodable: 159 data records in 23 flowsets (13176 bytes) without template: v9 192.168.2.134:48629 domain 1 template 258 (6 flowsets)") {
		t.Errorf("message: %s", err)
	}
}

// TestSharedPairs feeds template and data files of one exporter to one
// decoder, in both orders: the data decodes either way (held until the
// template comes), records keep the evidence index of the data's file, and
// options data sets the sampling of the exporter's flows.
func TestSharedPairs(t *testing.T) {
	for _, tc := range []struct {
		template, data string
		records        int
	}{
		{"akvorado_icmp-template.pcap", "akvorado_icmp-data.pcap", 2},
		{"akvorado_ipfixprobe-templates.pcap", "akvorado_ipfixprobe-data.pcap", 4},
		{"akvorado_nfv9_template.pcap", "akvorado_nfv9_data.pcap", 4},
	} {
		t.Run(tc.data, func(t *testing.T) {
			tpl := udpPayloads(t, sharedPath(t, "netflow-pcap", tc.template))
			data := udpPayloads(t, sharedPath(t, "netflow-pcap", tc.data))
			for _, dataFirst := range []bool{false, true} {
				d := NewDecoder(Options{})
				var recs []flow.Record
				var errs []error
				if dataFirst {
					recs, errs = collect(t, d, data, 1)
					r, e := collect(t, d, tpl, 2)
					recs, errs = append(recs, r...), append(errs, e...)
				} else {
					_, errs = collect(t, d, tpl, 1)
					r, e := collect(t, d, data, 2)
					recs, errs = append(recs, r...), append(errs, e...)
				}
				if len(errs) != 0 {
					t.Errorf("errors %v", errs)
				}
				if err := d.Flush(); err != nil {
					t.Errorf("flush: %v", err)
				}
				// The template file of the icmp pair has records of its own.
				own := 0
				for _, r := range recs {
					wantEv := uint32(2)
					if dataFirst {
						wantEv = 1
					}
					if r.Evidence != wantEv {
						own++
					}
				}
				if len(recs)-own != tc.records {
					t.Errorf("data first %v: %d records from the data file, want %d", dataFirst, len(recs)-own, tc.records)
				}
				if late := d.Stats().DecodedLate; dataFirst != (late == uint64(tc.records)) || (!dataFirst && late != 0) {
					t.Errorf("data first %v: %d decoded late", dataFirst, late)
				}
			}
		})
	}

	// Options data (sampler 1: random 1 in 30000) then the data template
	// and data naming sampler 1: the flows carry the interval.
	d := NewDecoder(Options{ApplySampling: true})
	var recs []flow.Record
	for i, name := range []string{"akvorado_nfv9_options-data.pcap", "akvorado_nfv9_options-template.pcap", "akvorado_nfv9_template.pcap", "akvorado_nfv9_data.pcap"} {
		r, errs := collect(t, d, udpPayloads(t, sharedPath(t, "netflow-pcap", name)), uint32(i))
		if len(errs) != 0 {
			t.Errorf("%s: %v", name, errs)
		}
		recs = append(recs, r...)
	}
	if len(recs) != 4 || d.Stats().OptionsRecords != 4 {
		t.Fatalf("%d records, %+v", len(recs), d.Stats())
	}
	for _, r := range recs {
		if r.Sampling != 30000 || r.Packets%30000 != 0 || r.Bytes%30000 != 0 || r.Packets == 0 {
			t.Errorf("sampling %d, packets %d, bytes %d", r.Sampling, r.Packets, r.Bytes)
		}
	}
}
