// Package flowlog reads text flow logs: nfdump CSV (nfdump -o csv), Apache
// Spot's flow CSV, Argus listings (ra -c , and CTU binetflow files), and
// Zeek conn.log and dns.log in TSV and JSON-lines form. Flow records come
// out as flow.Record, Zeek DNS rows as flow.DNSMessage. Formats are
// recognised by content (Detect), never by file name; compression is
// undone before this package sees the bytes (decode/input).
//
// # Reading
//
// Read streams line by line with bounded memory: a line longer than
// Options.MaxLine (1 MiB) is reported and skipped. A bad line gives a
// *decode.Error naming the file, the byte offset of the line's start and,
// in the message, the line number; the line is skipped and reading goes
// on. Records are emitted in file order; a well-formed flow record costs no
// allocation (a DNS message costs its name and answer strings).
//
// # Times
//
// nfdump prints ts/te in the local time zone of the machine that ran it,
// with whole seconds; the shared test files were made on UTC machines.
// Spot's fork of nfdump forced UTC. Argus date-time columns are local time
// of the ra run too (CTU's test5 file starts at "1970/01/01 01:00:00", a
// capture at the epoch printed in CET). Options.Location names that zone
// (UTC by default); epoch columns (Zeek ts, ra -u) are absolute.
//
// # Field mapping
//
// nfdump CSV: ts/te → First/Last (td is ignored: nfdump 1.7.1 prints it
// wrapped around for records whose end precedes their start, which are kept
// as they are), sa/da, sp/dp (ICMP type*256+code already in dp), pr (nfdump's
// protocol names), flg, stos, ipkt/ibyt, opkt/obyt (reverse counters of
// biflows), in/out, sas/das, smk/dmk, nh, svln, ra (exporter). 0.0.0.0 in
// nh and ra means unknown and gives the zero Addr. The "Summary" trailer and
// "No matching flows" are skipped; a repeated header starts a new section.
//
// Spot CSV: the 27 columns of spot-nfdump. The flow start is not exported,
// only tr, the time the collector received the flow; First = tr and Last =
// tr + td, so that Spot's hour-of-day word (taken from tr) is reproduced.
// The split columns try..trs must agree with tr. A headerless file in that
// layout (rows of Spot's flow table) is read too.
//
// Argus: columns are found by their titles. Records are bidirectional:
// SrcAddr is the side Argus took as the initiator; Packets/Bytes count what
// it sent, OutPackets/OutBytes what it received (SrcPkts/DstPkts, or
// TotPkts−SrcPkts and TotBytes−SrcBytes for binetflow). Without a per-side
// packet count the total goes to Packets. ICMP "ports" become nfdump's
// type*256+code. Management ("man") and non-IP records (arp, llc, …) are
// skipped and counted in Stats.Skipped. The CTU Label goes to Meta.Label.
//
// Zeek conn.log: orig is the source; orig_pkts/orig_ip_bytes → Packets/
// Bytes and resp_pkts/resp_ip_bytes → OutPackets/OutBytes (ip_bytes, which
// include IP headers as NetFlow's counters do; the payload counters
// orig_bytes/resp_bytes are not used); ts → First, ts+duration → Last;
// tcp/udp/icmp → 6/17/1 (58 for IPv6), unknown_transport → ip_proto; ICMP
// type (id.orig_p) and code (id.resp_p) → DstPort type*256+code. TCPFlags
// come from the originator's history letters. service and conn_state are
// not kept; a "label" column (IoT-23) goes to Meta.Label.
//
// Zeek dns.log: one row is one query and its reply, emitted as one message:
// with an rcode it is a response (Response=true, TS = ts + rtt) carrying
// question, rcode, AA/TC/RD/RA (and AD/CD from Z), the answers and the
// minimum TTL; without one it is the unanswered query. The client is the
// originator. Zeek logs answer texts only, so each answer's type is
// inferred: addresses are A/AAAA, "TXT n …" is TXT (rewritten in dig's
// quoted style, as decode/dns renders it), names answer NS/CNAME/PTR/MX/
// SOA/SRV queries, other names are CNAMEs. FrameLen is 0 (unknown).
//
// Zeek escapes: in TSV, \xHH is a byte and \\ a backslash; "-" is unset and
// "(empty)" empty. In JSON, after JSON unescaping, \xHH (how Zeek writes
// bytes that are not UTF-8) is a byte as well.
package flowlog
