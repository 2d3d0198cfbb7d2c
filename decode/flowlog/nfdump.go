package flowlog

import (
	"bytes"
	"fmt"
	"time"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/flow"
)

// Column ids of nfdump's and Spot's CSV.
const (
	cTS = iota
	cTE
	cTD
	cSA
	cDA
	cSP
	cDP
	cPR
	cFLG
	cSTOS
	cIPKT
	cIBYT
	cOPKT
	cOBYT
	cIN
	cOUT
	cSAS
	cDAS
	cSMK
	cDMK
	cNH
	cSVLN
	cRA
	cTR
	cTRY  // Spot: year of tr
	cTRMo // Spot: month of tr (the first "trm")
	cTRD
	cTRH
	cTRMi // Spot: minute of tr (the second "trm")
	cTRS
	nCols
)

var nfColNames = map[string]int{
	"ts": cTS, "te": cTE, "td": cTD, "sa": cSA, "da": cDA, "sp": cSP, "dp": cDP, "pr": cPR,
	"flg": cFLG, "stos": cSTOS, "ipkt": cIPKT, "ibyt": cIBYT, "opkt": cOPKT, "obyt": cOBYT,
	"in": cIN, "out": cOUT, "sas": cSAS, "das": cDAS, "smk": cSMK, "dmk": cDMK, "nh": cNH,
	"svln": cSVLN, "ra": cRA, "tr": cTR, "try": cTRY, "trm": cTRMo, "trd": cTRD, "trh": cTRH,
	"trs": cTRS,
}

// spotHeader is the header line of spot-nfdump's CSV (spot-method.md §1.2).
const spotHeader = "tr,try,trm,trd,trh,trm,trs,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,dtos,dir,ra"

// nfdumpSummary is the first line of nfdump's trailer, and the header of
// the one numbers line after it.
const (
	nfdumpSummary       = "Summary"
	nfdumpSummaryHeader = "flows,bytes,packets,avg_bps,avg_pps,avg_bpp"
	nfdumpNoFlows       = "No matching flows"
)

// csvLayout maps column ids to field positions (-1: absent).
type csvLayout struct {
	col    [nCols]int
	fields int
}

// maxCSVFields bounds a CSV line's field count (nfdump's header has 48).
const maxCSVFields = 256

// layoutOf reads a header line. spot selects Spot's rules (tr first, the
// second "trm" is the minute).
func layoutOf(fields [][]byte, spot bool) (csvLayout, error) {
	var l csvLayout
	for i := range l.col {
		l.col[i] = -1
	}
	l.fields = len(fields)
	for i, f := range fields {
		id, ok := nfColNames[string(trimSpace(f))]
		if !ok {
			continue
		}
		if id == cTRMo && l.col[cTRMo] >= 0 {
			id = cTRMi
		}
		if l.col[id] >= 0 {
			return l, fmt.Errorf("column %q appears twice", f)
		}
		l.col[id] = i
	}
	need := []int{cTS, cTE, cSA, cDA, cSP, cDP, cPR, cIPKT, cIBYT}
	if spot {
		need = []int{cTR, cTD, cSA, cDA, cSP, cDP, cPR, cIPKT, cIBYT}
	}
	for _, id := range need {
		if l.col[id] < 0 {
			for name, v := range nfColNames {
				if v == id {
					return l, fmt.Errorf("no %q column", name)
				}
			}
		}
	}
	return l, nil
}

// isCSVHeader tells a header line from data: its first field is the
// format's first column name.
func isCSVHeader(fields [][]byte, spot bool) bool {
	if len(fields) < 2 {
		return false
	}
	first := string(trimSpace(fields[0]))
	if spot {
		return first == "tr"
	}
	return first == "ts"
}

// readNfdump reads nfdump -o csv output, or Spot's CSV when spot is set.
//
// Both may end with nfdump's summary trailer ("Summary", a header, one line
// of totals), which is skipped. A header line repeated later (files joined
// with cat) starts a new section with its own layout.
func (r *reader) readNfdump(spot bool) {
	var lay csvLayout
	have := false
	trailer := 0 // lines of the summary trailer still expected
	for {
		ln, ok := r.nextLine()
		if !ok {
			return
		}
		if len(ln.b) == 0 {
			continue
		}
		if trailer > 0 {
			trailer--
			if trailer == 1 && string(ln.b) == nfdumpSummaryHeader {
				continue
			}
			if trailer == 0 && bytes.Count(ln.b, []byte{','}) == 5 {
				continue
			}
			trailer = 0
		}
		if string(ln.b) == nfdumpSummary {
			trailer = 2
			continue
		}
		if string(ln.b) == nfdumpNoFlows {
			continue // what nfdump prints instead of records when there are none
		}
		var fits bool
		r.fields, fits = splitFields(r.fields, ln.b, ',', maxCSVFields)
		if !fits {
			r.bad(ln, ErrBadRecord, "more than %d fields", maxCSVFields)
			continue
		}
		if isCSVHeader(r.fields, spot) {
			l, err := layoutOf(r.fields, spot)
			if err != nil {
				if !have {
					r.fatal(ln.off, ln.no, fmt.Errorf("%s header: %v: %w", formatName(spot), err, decode.ErrNotEvidence))
					return
				}
				r.bad(ln, ErrBadHeader, "%v", err)
				continue
			}
			lay, have = l, true
			continue
		}
		if !have {
			if spot && len(r.fields) == 27 {
				// Spot's layout is fixed, so a headerless export (the
				// rows of Spot's flow table) is still readable.
				hdr, _ := splitFields(nil, []byte(spotHeader), ',', maxCSVFields)
				lay, _ = layoutOf(hdr, true)
				have = true
			} else {
				r.fatal(ln.off, ln.no, fmt.Errorf("no %s header before the first record: %w", formatName(spot), decode.ErrNotEvidence))
				return
			}
		}
		if len(r.fields) != lay.fields {
			r.bad(ln, ErrBadRecord, "%d fields, the header has %d", len(r.fields), lay.fields)
			continue
		}
		if msg := r.nfdumpRecord(&lay, spot); msg != "" {
			r.bad(ln, ErrBadRecord, "%s", msg)
			continue
		}
		r.flow(nil)
	}
}

func formatName(spot bool) string {
	if spot {
		return "Spot CSV"
	}
	return "nfdump CSV"
}

// nfdumpRecord fills r.rec from r.fields; it returns a problem description
// or "".
func (r *reader) nfdumpRecord(lay *csvLayout, spot bool) string {
	f := r.fields
	get := func(id int) []byte {
		if i := lay.col[id]; i >= 0 {
			return trimSpace(f[i])
		}
		return nil
	}
	rec := &r.rec
	*rec = flow.Record{}
	var ok bool
	if spot {
		if rec.First, ok = parseTime(get(cTR), r.loc); !ok {
			return badField("tr", get(cTR))
		}
		if msg := checkSplitTime(rec.First, r.loc, lay, f); msg != "" {
			return msg
		}
		td, ok := parseSeconds(get(cTD))
		if !ok {
			return badField("td", get(cTD))
		}
		if rec.Last, ok = addNs(rec.First, td); !ok {
			return badField("td", get(cTD))
		}
	} else {
		if rec.First, ok = parseTime(get(cTS), r.loc); !ok {
			return badField("ts", get(cTS))
		}
		if rec.Last, ok = parseTime(get(cTE), r.loc); !ok {
			return badField("te", get(cTE))
		}
	}
	if rec.Src, ok = parseAddr(get(cSA)); !ok {
		return badField("sa", get(cSA))
	}
	if rec.Dst, ok = parseAddr(get(cDA)); !ok {
		return badField("da", get(cDA))
	}
	v, ok := parseUint(get(cSP), 65535)
	if !ok {
		return badField("sp", get(cSP))
	}
	rec.SrcPort = uint16(v)
	if v, ok = parseUint(get(cDP), 65535); !ok {
		return badField("dp", get(cDP))
	}
	rec.DstPort = uint16(v)
	if rec.Proto, ok = protoNumber(get(cPR), true); !ok {
		return badField("pr", get(cPR))
	}
	if rec.Packets, ok = parseUint(get(cIPKT), 1<<64-1); !ok {
		return badField("ipkt", get(cIPKT))
	}
	if rec.Bytes, ok = parseUint(get(cIBYT), 1<<64-1); !ok {
		return badField("ibyt", get(cIBYT))
	}
	// Optional columns: absent means 0.
	opt := func(id int, name string, max uint64) (uint64, string) {
		b := get(id)
		if lay.col[id] < 0 {
			return 0, ""
		}
		v, ok := parseUint(b, max)
		if !ok {
			return 0, badField(name, b)
		}
		return v, ""
	}
	var msg string
	if v, msg = opt(cOPKT, "opkt", 1<<64-1); msg != "" {
		return msg
	}
	rec.OutPackets = v
	if v, msg = opt(cOBYT, "obyt", 1<<64-1); msg != "" {
		return msg
	}
	rec.OutBytes = v
	if v, msg = opt(cSTOS, "stos", 255); msg != "" {
		return msg
	}
	rec.ToS = uint8(v)
	if v, msg = opt(cIN, "in", 1<<32-1); msg != "" {
		return msg
	}
	rec.InIf = uint32(v)
	if v, msg = opt(cOUT, "out", 1<<32-1); msg != "" {
		return msg
	}
	rec.OutIf = uint32(v)
	if v, msg = opt(cSAS, "sas", 1<<32-1); msg != "" {
		return msg
	}
	rec.SrcAS = uint32(v)
	if v, msg = opt(cDAS, "das", 1<<32-1); msg != "" {
		return msg
	}
	rec.DstAS = uint32(v)
	if v, msg = opt(cSMK, "smk", 128); msg != "" {
		return msg
	}
	rec.SrcMask = uint8(v)
	if v, msg = opt(cDMK, "dmk", 128); msg != "" {
		return msg
	}
	rec.DstMask = uint8(v)
	if v, msg = opt(cSVLN, "svln", 65535); msg != "" {
		return msg
	}
	rec.VLAN = uint16(v)
	if lay.col[cFLG] >= 0 {
		if rec.TCPFlags, ok = parseTCPFlags(get(cFLG)); !ok {
			return badField("flg", get(cFLG))
		}
	}
	if lay.col[cNH] >= 0 {
		if rec.NextHop, ok = parseOptAddr(get(cNH)); !ok {
			return badField("nh", get(cNH))
		}
	}
	if lay.col[cRA] >= 0 {
		if rec.Exporter, ok = parseOptAddr(get(cRA)); !ok {
			return badField("ra", get(cRA))
		}
	}
	return ""
}

// checkSplitTime checks Spot's try..trs columns against tr: spot-ml reads
// the hour from trh, so a row whose parts disagree with tr is inconsistent.
func checkSplitTime(tr int64, loc *time.Location, lay *csvLayout, f [][]byte) string {
	t := time.Unix(0, tr).In(loc)
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	parts := [...]struct {
		id   int
		name string
		want int
	}{
		{cTRY, "try", year}, {cTRMo, "trm", int(month)}, {cTRD, "trd", day},
		{cTRH, "trh", hour}, {cTRMi, "trm", minute}, {cTRS, "trs", sec},
	}
	for _, p := range parts {
		i := lay.col[p.id]
		if i < 0 {
			continue
		}
		b := trimSpace(f[i])
		v, ok := parseUint(b, 9999)
		if !ok {
			return badField(p.name, b)
		}
		if int(v) != p.want {
			return fmt.Sprintf("column %s is %d but tr says %d", p.name, v, p.want)
		}
	}
	return ""
}

// parseOptAddr parses an address where nfdump prints 0.0.0.0 (or ::) for
// "not known"; those become the zero Addr.
func parseOptAddr(b []byte) (flow.Addr, bool) {
	if len(b) == 0 {
		return flow.Addr{}, true
	}
	a, ok := parseAddr(b)
	if !ok {
		return a, false
	}
	if a == flow.AddrFrom4([4]byte{}) {
		return flow.Addr{}, true
	}
	return a, true
}

// parseTCPFlags reads nfdump's flag string ("...AP.SF", one letter per set
// flag, in any position), or a number (decimal or 0x hex).
func parseTCPFlags(b []byte) (uint8, bool) {
	if v, ok := parseHexOrUint(b, 255); ok {
		return uint8(v), true
	}
	if len(b) == 0 || len(b) > 8 {
		return 0, false
	}
	var f uint8
	for _, c := range b {
		switch c {
		case '.':
		case 'C':
			f |= flow.TCPCwr
		case 'E':
			f |= flow.TCPEce
		case 'U':
			f |= flow.TCPUrg
		case 'A':
			f |= flow.TCPAck
		case 'P':
			f |= flow.TCPPsh
		case 'R':
			f |= flow.TCPRst
		case 'S':
			f |= flow.TCPSyn
		case 'F':
			f |= flow.TCPFin
		default:
			return 0, false
		}
	}
	return f, true
}

// addNs adds d to t, failing on overflow.
func addNs(t, d int64) (int64, bool) {
	s := t + d
	if (d > 0 && s < t) || (d < 0 && s > t) {
		return 0, false
	}
	return s, true
}

// badField describes an unparsable field, quoting at most 64 bytes of it.
func badField(name string, b []byte) string {
	if len(b) > 64 {
		return fmt.Sprintf("column %s: bad value %q…", name, b[:64])
	}
	return fmt.Sprintf("column %s: bad value %q", name, b)
}
