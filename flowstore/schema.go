package flowstore

import "slices"

// Table names; the column file of a table is "<name>.col" in its segment.
const (
	TableFlows = "flows"
	TableDNS   = "dns"
)

// Column names of the flows table. They are also the JSON field names the
// CLI prints.
const (
	ColFirst    = "first"     // int64, Unix ns of the first packet
	ColLast     = "last"      // int64, Unix ns of the last packet
	ColSrcIP    = "src_ip"    // addr
	ColDstIP    = "dst_ip"    // addr
	ColSrcPort  = "src_port"  // uint16
	ColDstPort  = "dst_port"  // uint16 (ICMP: type*256+code)
	ColProto    = "proto"     // uint8
	ColTCPFlags = "tcp_flags" // uint8
	ColToS      = "tos"       // uint8
	ColVLAN     = "vlan"      // uint16
	ColPackets  = "packets"   // uint64
	ColBytes    = "bytes"     // uint64
	ColEvidence = "evidence"  // uint32, index into the segment's Manifest.Evidence (both tables)
)

// Sparse columns of the flows table: the fields flow-export evidence
// (NetFlow/IPFIX, nfcapd, flow logs) carries and packet captures leave
// zero. A segment stores one only if some row has a non-zero value in it;
// an absent column reads as zero (Table.FlowAt does this; with the typed
// accessors, wrap the call in Optional). See ColumnSpec.Sparse.
const (
	ColOutPackets = "out_packets" // uint64, reverse direction of a biflow (flow.Record.OutPackets)
	ColOutBytes   = "out_bytes"   // uint64, reverse direction of a biflow
	ColExporter   = "exporter"    // addr, exporting device
	ColObsDomain  = "obs_domain"  // uint32, NetFlow v9 source id / IPFIX observation domain
	ColSrcAS      = "src_as"      // uint32
	ColDstAS      = "dst_as"      // uint32
	ColInIf       = "in_if"       // uint32, input ifIndex
	ColOutIf      = "out_if"      // uint32, output ifIndex
	ColNextHop    = "next_hop"    // addr
	ColSrcMask    = "src_mask"    // uint8, source prefix length
	ColDstMask    = "dst_mask"    // uint8, destination prefix length
	ColEndReason  = "end_reason"  // uint8, IPFIX flowEndReason
	ColSampling   = "sampling"    // uint32, 1-in-N packet sampling; 0 unknown, 1 unsampled
)

// Column names of the dns table.
const (
	ColTS         = "ts"          // int64, Unix ns
	ColClientIP   = "client_ip"   // addr
	ColServerIP   = "server_ip"   // addr
	ColClientPort = "client_port" // uint16
	ColServerPort = "server_port" // uint16
	ColTransport  = "transport"   // uint8, flow.ProtoUDP or flow.ProtoTCP
	ColID         = "id"          // uint16
	ColResponse   = "response"    // uint8, 0 query, 1 response
	ColOpcode     = "opcode"      // uint8
	ColRcode      = "rcode"       // uint8
	ColFlags      = "flags"       // uint8, flow.DNSFlag* bits
	ColQName      = "qname"       // string, dict or plain encoded
	ColQType      = "qtype"       // uint16
	ColQClass     = "qclass"      // uint16
	ColANCount    = "ancount"     // uint16
	ColAnswers    = "answers"     // bytes, flow.EncodeAnswers
	ColTTL        = "ttl"         // uint32
	ColFrameLen   = "frame_len"   // uint32
)

// ColumnSpec names a column and its type as this build writes it.
type ColumnSpec struct {
	Name string
	Type Type
	// Sparse columns are left out of a segment in which every row is zero
	// (packet-capture evidence has no exporter, AS numbers, …): a column
	// that is absent reads as zero. Other columns are always written.
	Sparse bool
}

// Writer column order; the index constants below address the spill slices.
// The sparse columns come after the core ones, so a segment without them
// is byte for byte the file an older writer produced.
var flowSchema = []ColumnSpec{
	{ColFirst, TypeInt64, false}, {ColLast, TypeInt64, false},
	{ColSrcIP, TypeAddr, false}, {ColDstIP, TypeAddr, false},
	{ColSrcPort, TypeUint16, false}, {ColDstPort, TypeUint16, false},
	{ColProto, TypeUint8, false}, {ColTCPFlags, TypeUint8, false}, {ColToS, TypeUint8, false},
	{ColVLAN, TypeUint16, false},
	{ColPackets, TypeUint64, false}, {ColBytes, TypeUint64, false},
	{ColEvidence, TypeUint32, false},

	{ColOutPackets, TypeUint64, true}, {ColOutBytes, TypeUint64, true},
	{ColExporter, TypeAddr, true}, {ColObsDomain, TypeUint32, true},
	{ColSrcAS, TypeUint32, true}, {ColDstAS, TypeUint32, true},
	{ColInIf, TypeUint32, true}, {ColOutIf, TypeUint32, true},
	{ColNextHop, TypeAddr, true},
	{ColSrcMask, TypeUint8, true}, {ColDstMask, TypeUint8, true},
	{ColEndReason, TypeUint8, true},
	{ColSampling, TypeUint32, true},
}

const (
	fFirst = iota
	fLast
	fSrc
	fDst
	fSrcPort
	fDstPort
	fProto
	fTCPFlags
	fToS
	fVLAN
	fPackets
	fBytes
	fEvidence
	fOutPackets // first sparse column: see fSparse
	fOutBytes
	fExporter
	fObsDomain
	fSrcAS
	fDstAS
	fInIf
	fOutIf
	fNextHop
	fSrcMask
	fDstMask
	fEndReason
	fSampling
	fCount

	fSparse = fOutPackets // flowSchema[fSparse:] are the sparse columns
)

var dnsSchema = []ColumnSpec{
	{ColTS, TypeInt64, false},
	{ColClientIP, TypeAddr, false}, {ColServerIP, TypeAddr, false},
	{ColClientPort, TypeUint16, false}, {ColServerPort, TypeUint16, false},
	{ColTransport, TypeUint8, false}, {ColID, TypeUint16, false},
	{ColResponse, TypeUint8, false}, {ColOpcode, TypeUint8, false}, {ColRcode, TypeUint8, false}, {ColFlags, TypeUint8, false},
	{ColQName, TypeString, false},
	{ColQType, TypeUint16, false}, {ColQClass, TypeUint16, false}, {ColANCount, TypeUint16, false},
	{ColAnswers, TypeBytes, false},
	{ColTTL, TypeUint32, false}, {ColFrameLen, TypeUint32, false},
	{ColEvidence, TypeUint32, false},
}

// Indexes of dnsSchema; the two variable-length columns have their own
// writers and are skipped by the fixed-width spill slice.
const (
	dTS = iota
	dClient
	dServer
	dClientPort
	dServerPort
	dTransport
	dID
	dResponse
	dOpcode
	dRcode
	dFlags
	dQName
	dQType
	dQClass
	dANCount
	dAnswers
	dTTL
	dFrameLen
	dEvidence
	dCount
)

// FlowSchema returns the flows table's columns in file order: the core
// columns, then the sparse ones (present in a segment only when non-zero).
func FlowSchema() []ColumnSpec { return slices.Clone(flowSchema) }

// DNSSchema returns the dns table's columns in file order.
func DNSSchema() []ColumnSpec { return slices.Clone(dnsSchema) }
