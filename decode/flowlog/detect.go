package flowlog

import (
	"bytes"
	"time"
)

// Detect names the flow-log format of content starting with head (the
// first few hundred bytes, already decompressed), by content only:
//
//   - nfdump CSV: the first line starts "ts,te,td,sa,da,".
//   - Spot CSV: the first line is Spot's 27-column header, or a headerless
//     row of that layout (date-time, its six parts, 27 fields).
//   - Argus: the first line is a ',' or TAB separated header with
//     StartTime (or LastTime), Proto, SrcAddr and DstAddr titles.
//   - Zeek TSV: "#separator " first; conn or dns by the #path line, else
//     by the #fields names.
//   - Zeek JSON: a first line starting with '{' that has "id.orig_h" (or
//     an "id" object) and a "ts"; conn or dns by "_path" or by the keys.
//
// Other Zeek logs (http.log, …) are not detected.
func Detect(head []byte) (Format, bool) {
	head = trimBOM(head)
	first := head
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		first = trimCR(head[:i])
	}
	switch {
	case bytes.HasPrefix(head, []byte("#separator ")):
		return detectZeekTSV(head)
	case bytes.HasPrefix(first, []byte("ts,te,td,sa,da,")):
		return NfdumpCSV, true
	case bytes.HasPrefix(first, []byte("tr,try,trm,trd,trh,trm,trs,td,sa,da,")):
		return SpotCSV, true
	case len(first) > 0 && first[0] == '{':
		return detectZeekJSON(first)
	}
	if _, _, ok := argusHeader(first, nil); ok {
		return ArgusCSV, true
	}
	if isSpotRow(first) {
		return SpotCSV, true
	}
	return "", false
}

func detectZeekTSV(head []byte) (Format, bool) {
	nl := bytes.IndexByte(head, '\n')
	if nl < 0 {
		return "", false
	}
	sep, ok := unescapeSeparator(trimCR(head[len("#separator "):nl]))
	if !ok {
		return "", false
	}
	var fields [][]byte
	for rest := head[nl+1:]; len(rest) > 0; {
		ln := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			ln, rest = trimCR(rest[:i]), rest[i+1:]
		} else {
			rest = nil // possibly cut short by the head's end
		}
		if len(ln) == 0 || ln[0] != '#' {
			break
		}
		name, val, _ := bytes.Cut(ln, []byte{sep})
		switch string(name) {
		case "#path":
			switch string(val) {
			case "conn":
				return ZeekConn, true
			case "dns":
				return ZeekDNS, true
			}
			return "", false
		case "#fields":
			fields = bytes.Split(val, []byte{sep})
		}
	}
	if fields == nil {
		return "", false
	}
	var seen [nZeek]bool
	for _, f := range fields {
		for _, part := range bytes.Fields(f) {
			if id, ok := zeekFieldIDs[string(part)]; ok {
				seen[id] = true
			}
		}
	}
	if !seen[zTS] || !seen[zOrigH] {
		return "", false
	}
	has := func(id int) bool { return seen[id] }
	switch {
	case has(zTransID) || has(zQType) || has(zQuery) || has(zRcode):
		return ZeekDNS, true
	case has(zConnState) || has(zOrigPkts) || has(zHistory) || has(zOrigIPBytes):
		return ZeekConn, true
	}
	return "", false
}

func detectZeekJSON(first []byte) (Format, bool) {
	has := func(key string) bool { return bytes.Contains(first, []byte(`"`+key+`"`)) }
	if !has("ts") || !(has("id.orig_h") || has("id") && has("orig_h")) {
		return "", false
	}
	switch {
	case bytes.Contains(first, []byte(`"_path":"conn"`)):
		return ZeekConnJSON, true
	case bytes.Contains(first, []byte(`"_path":"dns"`)):
		return ZeekDNSJSON, true
	case has("trans_id") || has("qtype") || has("query") || has("rcode"):
		return ZeekDNSJSON, true
	case has("conn_state") || has("orig_pkts") || has("history") || has("orig_ip_bytes") || has("duration"):
		return ZeekConnJSON, true
	}
	return "", false
}

// isSpotRow reports whether line is a headerless Spot CSV row: 27 fields,
// a "YYYY-MM-DD HH:MM:SS" time and its six numeric parts.
func isSpotRow(line []byte) bool {
	f, ok := splitFields(nil, line, ',', 28)
	if !ok || len(f) != 27 {
		return false
	}
	if _, ok := parseDateTime(f[0], time.UTC); !ok {
		return false
	}
	for _, p := range f[1:7] {
		if _, ok := parseUint(p, 9999); !ok {
			return false
		}
	}
	return true
}
