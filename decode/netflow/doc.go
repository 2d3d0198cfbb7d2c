// Package netflow decodes flow-export datagrams: NetFlow v5, NetFlow v9
// (RFC 3954) and IPFIX (RFC 7011, with RFC 5103 biflows), as found in UDP
// payloads of a capture or back to back in a raw datagram file. Records go
// out as flow.Record, one callback per flow record, carrying the exporter's
// address and observation domain. The decoder is written for hostile input:
// it never panics, never sizes an allocation from an unchecked wire count,
// and every loop consumes bytes.
//
// # Recognising exports
//
// Exports are recognised by content, not port: IsExport validates a whole
// datagram (version 5, 9 or 10; v5 count 1..30 with a length that matches
// it and unix_nsecs below one second; v9/IPFIX flowset ids that are legal and
// flowset lengths that tile the datagram exactly, the IPFIX message length
// equal to the payload). Detect does the same on the first bytes of a raw
// datagram file, and ReadRaw frames such a file: v5 messages are
// 24+48*count bytes, IPFIX messages carry their length, and v9 messages
// (which have no length field) end where the next 16-bit flowset id is in
// 2..255 — a reserved flowset id range that contains the version numbers
// 5, 9 and 10 of the next message header — or at the end of the file.
//
// # Template cache
//
// Templates live per session: (exporter address, exporter UDP port,
// version, observation domain / v9 source id). Within a session a template
// id names one template; a new definition under the same id replaces the
// old one (an identical refresh costs a byte comparison and nothing else),
// and an IPFIX withdrawal (field count 0) removes it. A template is
// compiled once into a list of (offset, length, action) steps, with the
// precedence between competing elements (octetDeltaCount over
// octetTotalCount over postOctetDeltaCount; nanoseconds over microseconds
// over milliseconds over seconds over sysUpTime-relative times) resolved at
// compile time, so decoding a record is one pass over the steps with no
// allocation.
//
// Everything the wire can make us store is capped (Options): sessions
// (MaxExporters), templates over all sessions (MaxTemplates), fields per
// template (MaxFields, checked before anything is allocated), the length of
// one record (a record must fit a 65535-byte datagram), samplers per
// session, and bytes of data held for missing templates (MaxPending). So a
// template with 65535 fields, or a flood of a million template ids or
// exporters, costs bounded memory; what is refused is counted in Stats and
// reported as an error.
//
// # Data before its template
//
// A data flowset whose template is unknown is copied and held, keyed by
// session and template id, together with its message header (the times
// needed to convert its records) and evidence index. When the template
// arrives — later in the same datagram, in a later datagram, or in a later
// file of the same ingest — the held flowsets are decoded at once, in
// arrival order, and their records emitted before anything else of the
// template's datagram. Flush, at the end of the evidence, turns what is
// still held into an UndecodableError ("undecodable: N data records in M
// flowsets without template"); for v9 N is estimated from the header counts
// (IPFIX headers carry no record count, so IPFIX flowsets are counted in
// flowsets and bytes only). When MaxPending is reached, further flowsets
// are counted as undecodable at once. Nothing is dropped without a count.
//
// # Times
//
// Record times are Unix nanoseconds. The base is the export header time;
// the receive time passed to Datagram is used only when the header time is
// zero (an exporter with no clock), because the header is the exporter's own
// statement and the reference dissectors (tshark, nfdump) use it too.
//
//   - v5 and v9 First/Last (and v9 elements 22/21) are milliseconds of
//     sysUptime: start = export time - ((sysUptime - First) mod 2^32) ms, the
//     subtraction done in uint32 so that an uptime counter that wrapped (or
//     a probe whose flows predate its "boot", softflowd without -a) still
//     gives the flow's real time. v5 headers have nanoseconds; v9 headers
//     have whole seconds only, so v9 relative times can be early by up to
//     999 ms, exactly as in tshark and nfdump.
//   - IPFIX 150/151 (seconds), 152/153 (milliseconds) are absolute;
//     154/155 (microseconds) and 156/157 (nanoseconds) are NTP timestamps
//     (seconds since 1900 and a 2^-32 fraction; seconds below 2^31 are read
//     as NTP era 1, after 2036).
//   - IPFIX 22/21 are milliseconds after systemInitTimeMilliseconds (IE 160),
//     which exporters send in an options record (softflowd) or in the data
//     record itself; it is remembered per session. A record with relative
//     times and no known IE 160 gets the export time and is counted
//     (Stats.NoTimeBase).
//   - 158/159 are microseconds before the export time; 161/162 durations
//     give the missing end (or start). A record with no time at all gets the
//     export time for both.
//
// # Sampling
//
// The sampling interval in force is recorded in flow.Record.Sampling (1 in
// N; 0 when the evidence says nothing, 1 when it says "unsampled"): from the
// data record itself (IE 34 samplingInterval, 50 samplerRandomInterval,
// 305/306 packet interval/space, 309/310 size/population), else the sampler
// the record names (IE 48 samplerId or 302 selectorId) as described by an
// options record of the same session, else the last interval any options
// record of the session gave, else (v5) the header's sampling field (mode
// and interval 0 there read as unsampled, 1). With
// Options.ApplySampling packets and bytes (both directions) are multiplied
// by it, saturating at 2^64-1.
//
// # Fields
//
// Addresses (8, 12, 27, 28; templates carrying both families take the
// non-zero one), ports (7, 11), protocol (4), TCP flags (6, low 8 bits), ToS
// (5), packets (2, 86, 24, NSEL 298), bytes (1, 85, 23, NSEL 231), input and
// output interface (10, 14), AS (16, 17), masks (9, 13, 29, 30), next hop
// (15, 62, else BGP 18, 63), VLAN (58, else 243, else 59), flowEndReason
// (136), ICMP type and code (32, 139, 176-179: DstPort = type*256+code,
// SrcPort 0, as nfdump does; the element wins over ports, which some
// exporters fill with the ICMP identifier; an exporter that sends no such
// element but puts type*256+code in the destination port, as pmacctd does,
// keeps it). RFC 5103 reverse elements (enterprise bit,
// PEN 29305) of 1/85 and 2/86, and NSEL responder counters 232/299, fill
// OutBytes/OutPackets. Any other element, enterprise-specific or variable
// length (255 / 0xFFFF escape), is skipped by its length. Data records of
// templates with no address element (statistics, not flows) are counted in
// Stats.NonFlowRecords and not emitted. NetFlow v5 has no templates: its
// 48-byte records give the same fields (16-bit interfaces and AS numbers),
// and ObsDomain is engine_type<<8 | engine_id, as nfdump keys v5 exporters.
// Records of raw datagram files have the zero Exporter: the address is not
// in the file.
//
// # Errors
//
// Datagram returns a *DatagramError (byte offset within the payload) for
// the first problem of a datagram and carries on with the rest of it when
// the flowset framing still holds; every record decoded before a problem is
// emitted. A flowset whose length runs past the datagram ends the datagram.
package netflow
