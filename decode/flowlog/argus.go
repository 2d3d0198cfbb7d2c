package flowlog

import (
	"bytes"
	"fmt"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/flow"
)

// Argus column ids.
const (
	aStart = iota
	aLast
	aDur
	aProto
	aSrcAddr
	aSport
	aDstAddr
	aDport
	aState
	aSTos
	aTotPkts
	aTotBytes
	aSrcPkts
	aDstPkts
	aSrcBytes
	aDstBytes
	aSVlan
	aLabel
	nArgus
)

// argusColNames are ra's column titles (ra -s field names as printed in
// the header line); a few aliases cover other argus-client versions.
var argusColNames = map[string]int{
	"StartTime": aStart, "stime": aStart, "LastTime": aLast, "ltime": aLast,
	"Dur": aDur, "dur": aDur, "Proto": aProto, "proto": aProto,
	"SrcAddr": aSrcAddr, "saddr": aSrcAddr, "Sport": aSport, "sport": aSport,
	"DstAddr": aDstAddr, "daddr": aDstAddr, "Dport": aDport, "dport": aDport,
	"State": aState, "state": aState, "sTos": aSTos, "stos": aSTos,
	"TotPkts": aTotPkts, "pkts": aTotPkts, "TotBytes": aTotBytes, "bytes": aTotBytes,
	"SrcPkts": aSrcPkts, "spkts": aSrcPkts, "DstPkts": aDstPkts, "dpkts": aDstPkts,
	"SrcBytes": aSrcBytes, "sbytes": aSrcBytes, "DstBytes": aDstBytes, "dbytes": aDstBytes,
	"sVlan": aSVlan, "svlan": aSVlan, "Label": aLabel, "label": aLabel,
}

type argusLayout struct {
	col    [nArgus]int
	fields int
	sep    byte
}

// argusHeader recognises an Argus header line and its separator: the
// first of ',' or TAB, with StartTime (or LastTime), Proto, SrcAddr and
// DstAddr among the titles.
func argusHeader(b []byte, fields [][]byte) (argusLayout, [][]byte, bool) {
	var l argusLayout
	l.sep = ','
	if t := indexByte(b, '\t'); t >= 0 {
		if c := indexByte(b, ','); c < 0 || t < c {
			l.sep = '\t'
		}
	}
	fields, fits := splitFields(fields, b, l.sep, maxCSVFields)
	if !fits {
		return l, fields, false
	}
	for i := range l.col {
		l.col[i] = -1
	}
	l.fields = len(fields)
	for i, f := range fields {
		if id, ok := argusColNames[string(trimSpace(f))]; ok && l.col[id] < 0 {
			l.col[id] = i
		}
	}
	ok := (l.col[aStart] >= 0 || l.col[aLast] >= 0) && l.col[aProto] >= 0 && l.col[aSrcAddr] >= 0 && l.col[aDstAddr] >= 0
	return l, fields, ok
}

// readArgus reads an Argus ra listing with a header line (ra -L0 -c ,),
// including the CTU-13 style binetflow files.
//
// Argus records are bidirectional: SrcAddr is the side Argus took as the
// initiator. Packets/Bytes count what the source sent and OutPackets/
// OutBytes what it received, from SrcPkts/DstPkts and SrcBytes/DstBytes;
// where only totals and the source share are printed (binetflow: TotPkts,
// TotBytes, SrcBytes, SrcPkts) the reverse is total − source. With TotPkts
// but no per-side packet column (CTU-13's original binetflow) the packet
// split is unknown: Packets holds the total and OutPackets 0. Argus byte
// counts include link-layer headers.
func (r *reader) readArgus() {
	var lay argusLayout
	have := false
	for {
		ln, ok := r.nextLine()
		if !ok {
			return
		}
		if len(ln.b) == 0 {
			continue
		}
		// Header lines hold the SrcAddr title; testing for it first keeps
		// data lines from being split twice.
		if !have || bytes.Contains(ln.b, []byte("SrcAddr")) || bytes.Contains(ln.b, []byte("saddr")) {
			if l, f, isHdr := argusHeader(ln.b, r.fields); isHdr {
				r.fields = f
				lay, have = l, true
				continue
			}
		}
		if !have {
			r.fatal(ln.off, ln.no, fmt.Errorf("no Argus header line (StartTime, Proto, SrcAddr, DstAddr, …) before the first record: %w", decode.ErrNotEvidence))
			return
		}
		var fits bool
		r.fields, fits = splitFields(r.fields, ln.b, lay.sep, maxCSVFields)
		if !fits || len(r.fields) != lay.fields {
			r.bad(ln, ErrBadRecord, "%d fields, the header has %d", len(r.fields), lay.fields)
			continue
		}
		skip, msg := r.argusRecord(&lay)
		switch {
		case msg != "":
			r.bad(ln, ErrBadRecord, "%s", msg)
		case skip:
			r.st.Skipped++
		default:
			var label []byte
			if i := lay.col[aLabel]; i >= 0 {
				label = trimSpace(r.fields[i])
			}
			r.flow(label)
		}
	}
}

// argusRecord fills r.rec; skip marks a record that is not an IP flow
// (Argus management "man" records, ARP, LLC, …).
func (r *reader) argusRecord(lay *argusLayout) (skip bool, msg string) {
	f := r.fields
	get := func(id int) []byte {
		if i := lay.col[id]; i >= 0 {
			return trimSpace(f[i])
		}
		return nil
	}
	proto := get(aProto)
	if isNonIP(proto) {
		return true, ""
	}
	rec := &r.rec
	*rec = flow.Record{}
	var ok bool
	if rec.Proto, ok = protoNumber(proto, false); !ok {
		// An unknown name over non-IP addresses is some other layer-2
		// protocol; over IP addresses it is a name we do not know.
		if _, ipSrc := parseAddr(get(aSrcAddr)); !ipSrc {
			return true, ""
		}
		return false, badField("Proto", proto)
	}
	if rec.Src, ok = parseAddr(get(aSrcAddr)); !ok {
		return false, badField("SrcAddr", get(aSrcAddr))
	}
	if rec.Dst, ok = parseAddr(get(aDstAddr)); !ok {
		return false, badField("DstAddr", get(aDstAddr))
	}

	// Times: StartTime, then LastTime or StartTime+Dur.
	switch {
	case lay.col[aStart] >= 0:
		if rec.First, ok = parseTime(get(aStart), r.loc); !ok {
			return false, badArgusTime("StartTime", get(aStart))
		}
	default:
		if rec.First, ok = parseTime(get(aLast), r.loc); !ok {
			return false, badArgusTime("LastTime", get(aLast))
		}
	}
	rec.Last = rec.First
	switch {
	case lay.col[aLast] >= 0:
		if rec.Last, ok = parseTime(get(aLast), r.loc); !ok {
			return false, badArgusTime("LastTime", get(aLast))
		}
	case lay.col[aDur] >= 0 && len(get(aDur)) > 0:
		d, ok := parseSeconds(get(aDur))
		if !ok || d < 0 {
			return false, badField("Dur", get(aDur))
		}
		if rec.Last, ok = addNs(rec.First, d); !ok {
			return false, badField("Dur", get(aDur))
		}
	}

	// Ports. For ICMP Argus prints the type and code: as two decimal
	// columns (type in Sport, code in Dport; ICMPv6 in ra 3.0.8), or as a
	// hexadecimal Sport holding type in the low byte and code in the high
	// byte ("0x0303" port unreachable, "0x0008" echo request) with the
	// ICMP id in Dport. nfdump's convention: SrcPort 0, DstPort type*256+code.
	sp, dp := get(aSport), get(aDport)
	var sport, dport uint64
	if len(sp) > 0 {
		if sport, ok = parseHexOrUint(sp, 65535); !ok {
			return false, badField("Sport", sp)
		}
	}
	if len(dp) > 0 {
		if dport, ok = parseHexOrUint(dp, 65535); !ok {
			return false, badField("Dport", dp)
		}
	}
	if rec.Proto == flow.ProtoICMP || rec.Proto == flow.ProtoICMPv6 {
		var typ, code uint64
		if bytes.HasPrefix(sp, []byte("0x")) || bytes.HasPrefix(sp, []byte("0X")) {
			typ, code = sport&0xff, sport>>8
		} else {
			if sport > 255 || dport > 255 {
				return false, fmt.Sprintf("ICMP type %d / code %d out of range", sport, dport)
			}
			typ, code = sport, dport
		}
		rec.SrcPort, rec.DstPort = 0, uint16(typ<<8|code)
	} else {
		rec.SrcPort, rec.DstPort = uint16(sport), uint16(dport)
	}

	if b := get(aSTos); len(b) > 0 {
		v, ok := parseUint(b, 255)
		if !ok {
			return false, badField("sTos", b)
		}
		rec.ToS = uint8(v)
	}
	if b := get(aSVlan); len(b) > 0 {
		v, ok := parseHexOrUint(b, 65535)
		if !ok {
			return false, badField("sVlan", b)
		}
		rec.VLAN = uint16(v)
	}
	if rec.Proto == flow.ProtoTCP {
		rec.TCPFlags = argusFlags(get(aState))
	}

	var m string
	if rec.Packets, rec.OutPackets, m = argusSplit(lay, f, aTotPkts, aSrcPkts, aDstPkts); m != "" {
		return false, m
	}
	if rec.Bytes, rec.OutBytes, m = argusSplit(lay, f, aTotBytes, aSrcBytes, aDstBytes); m != "" {
		return false, m
	}
	return false, ""
}

// badArgusTime explains the usual cause of unreadable Argus times: ra's
// default time format has no date.
func badArgusTime(name string, b []byte) string {
	if len(b) >= 8 && b[2] == ':' && b[5] == ':' {
		return badField(name, b) + ": a time without a date (list with ra -u, or set RA_TIME_FORMAT=\"%Y/%m/%d %T.%f\")"
	}
	return badField(name, b)
}

// argusTitles names the columns in errors.
var argusTitles = [nArgus]string{
	aTotPkts: "TotPkts", aSrcPkts: "SrcPkts", aDstPkts: "DstPkts",
	aTotBytes: "TotBytes", aSrcBytes: "SrcBytes", aDstBytes: "DstBytes",
}

// argusSplit derives (source, destination) counters from whichever of the
// total, source and destination columns are present.
func argusSplit(lay *argusLayout, f [][]byte, tot, src, dst int) (s, d uint64, msg string) {
	var v [3]uint64
	var has [3]bool
	for k, id := range [3]int{tot, src, dst} {
		i := lay.col[id]
		if i < 0 {
			continue
		}
		b := trimSpace(f[i])
		if len(b) == 0 {
			continue
		}
		var ok bool
		if v[k], ok = parseUint(b, 1<<64-1); !ok {
			return 0, 0, badField(argusTitles[id], b)
		}
		has[k] = true
	}
	t, s, d := v[0], v[1], v[2]
	switch {
	case has[1] && has[2]:
		if has[0] && s+d != t {
			return 0, 0, fmt.Sprintf("%s %d + %s %d != %s %d", argusTitles[src], s, argusTitles[dst], d, argusTitles[tot], t)
		}
		return s, d, ""
	case has[1] && has[0]:
		if s > t {
			return 0, 0, fmt.Sprintf("%s %d > %s %d", argusTitles[src], s, argusTitles[tot], t)
		}
		return s, t - s, ""
	case has[2] && has[0]:
		if d > t {
			return 0, 0, fmt.Sprintf("%s %d > %s %d", argusTitles[dst], d, argusTitles[tot], t)
		}
		return t - d, d, ""
	case has[0]:
		return t, 0, "" // direction split unknown
	}
	return s, d, ""
}

// argusFlags reads the TCP flags of the source side from a CTU-style
// State ("SPA_SPA": source flags, '_', destination flags). Argus's own
// state names (CON, FIN, RST, …) carry no per-flag detail and give 0.
func argusFlags(state []byte) uint8 {
	i := indexByte(state, '_')
	if i < 0 {
		return 0
	}
	var fl uint8
	for _, c := range state[:i] {
		switch c {
		case 'F':
			fl |= flow.TCPFin
		case 'S':
			fl |= flow.TCPSyn
		case 'R':
			fl |= flow.TCPRst
		case 'P':
			fl |= flow.TCPPsh
		case 'A':
			fl |= flow.TCPAck
		case 'U':
			fl |= flow.TCPUrg
		case 'E':
			fl |= flow.TCPEce
		case 'C':
			fl |= flow.TCPCwr
		}
	}
	return fl
}
