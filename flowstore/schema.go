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
}

// Writer column order; the index constants below address the spill slices.
var flowSchema = []ColumnSpec{
	{ColFirst, TypeInt64}, {ColLast, TypeInt64},
	{ColSrcIP, TypeAddr}, {ColDstIP, TypeAddr},
	{ColSrcPort, TypeUint16}, {ColDstPort, TypeUint16},
	{ColProto, TypeUint8}, {ColTCPFlags, TypeUint8}, {ColToS, TypeUint8},
	{ColVLAN, TypeUint16},
	{ColPackets, TypeUint64}, {ColBytes, TypeUint64},
	{ColEvidence, TypeUint32},
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
	fCount
)

var dnsSchema = []ColumnSpec{
	{ColTS, TypeInt64},
	{ColClientIP, TypeAddr}, {ColServerIP, TypeAddr},
	{ColClientPort, TypeUint16}, {ColServerPort, TypeUint16},
	{ColTransport, TypeUint8}, {ColID, TypeUint16},
	{ColResponse, TypeUint8}, {ColOpcode, TypeUint8}, {ColRcode, TypeUint8}, {ColFlags, TypeUint8},
	{ColQName, TypeString},
	{ColQType, TypeUint16}, {ColQClass, TypeUint16}, {ColANCount, TypeUint16},
	{ColAnswers, TypeBytes},
	{ColTTL, TypeUint32}, {ColFrameLen, TypeUint32},
	{ColEvidence, TypeUint32},
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

// FlowSchema returns the flows table's columns in file order.
func FlowSchema() []ColumnSpec { return slices.Clone(flowSchema) }

// DNSSchema returns the dns table's columns in file order.
func DNSSchema() []ColumnSpec { return slices.Clone(dnsSchema) }
