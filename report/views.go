package report

import (
	"strconv"

	"github.com/spotctl/spotctl/decode/flow"
)

func protoDisplay(v Value) string    { return ProtoName(v.U) }
func tcpFlagsDisplay(v Value) string { return TCPFlagsText(uint8(v.U)) }

// FlowColumns are the fields of a flow record, in output order. Their names
// are a contract (docs/json.md).
var FlowColumns = []Column{
	{Name: "first", Kind: Time},
	{Name: "last", Kind: Time},
	{Name: "src_ip", Kind: IP},
	{Name: "src_port", Kind: Uint},
	{Name: "dst_ip", Kind: IP},
	{Name: "dst_port", Kind: Uint},
	{Name: "proto", Kind: Uint, Display: protoDisplay},
	{Name: "packets", Kind: Uint},
	{Name: "bytes", Kind: Uint},
	{Name: "tcp_flags", Kind: Uint, Display: tcpFlagsDisplay},
	{Name: "tos", Kind: Uint},
	{Name: "vlan", Kind: Uint},
	// Flow-export evidence (NetFlow/IPFIX, nfcapd, flow logs); zero for captures.
	{Name: "out_packets", Kind: Uint, Extended: true},
	{Name: "out_bytes", Kind: Uint, Extended: true},
	{Name: "exporter", Kind: OptIP, Extended: true},
	{Name: "obs_domain", Kind: Uint, Extended: true},
	{Name: "src_as", Kind: Uint, Extended: true},
	{Name: "dst_as", Kind: Uint, Extended: true},
	{Name: "in_if", Kind: Uint, Extended: true},
	{Name: "out_if", Kind: Uint, Extended: true},
	{Name: "next_hop", Kind: OptIP, Extended: true},
	{Name: "src_mask", Kind: Uint, Extended: true},
	{Name: "dst_mask", Kind: Uint, Extended: true},
	{Name: "end_reason", Kind: Uint, Extended: true},
	{Name: "sampling", Kind: Uint, Extended: true},
}

// FlowRow fills row (len(FlowColumns)) from r.
func FlowRow(r *flow.Record, row []Value) {
	row[0] = Value{I: r.First}
	row[1] = Value{I: r.Last}
	row[2] = Value{P: r.Src}
	row[3] = Value{U: uint64(r.SrcPort)}
	row[4] = Value{P: r.Dst}
	row[5] = Value{U: uint64(r.DstPort)}
	row[6] = Value{U: uint64(r.Proto)}
	row[7] = Value{U: r.Packets}
	row[8] = Value{U: r.Bytes}
	row[9] = Value{U: uint64(r.TCPFlags)}
	row[10] = Value{U: uint64(r.ToS)}
	row[11] = Value{U: uint64(r.VLAN)}
	row[12] = Value{U: r.OutPackets}
	row[13] = Value{U: r.OutBytes}
	row[14] = Value{P: r.Exporter}
	row[15] = Value{U: uint64(r.ObsDomain)}
	row[16] = Value{U: uint64(r.SrcAS)}
	row[17] = Value{U: uint64(r.DstAS)}
	row[18] = Value{U: uint64(r.InIf)}
	row[19] = Value{U: uint64(r.OutIf)}
	row[20] = Value{P: r.NextHop}
	row[21] = Value{U: uint64(r.SrcMask)}
	row[22] = Value{U: uint64(r.DstMask)}
	row[23] = Value{U: uint64(r.EndReason)}
	row[24] = Value{U: uint64(r.Sampling)}
}

func qtypeDisplay(v Value) string { return TypeName(uint16(v.U)) }
func rcodeDisplay(v Value) string { return RcodeName(v.U) }
func qclassDisplay(v Value) string {
	switch v.U {
	case 1:
		return "IN"
	case 3:
		return "CH"
	case 4:
		return "HS"
	case 255:
		return "ANY"
	}
	return "CLASS" + strconv.FormatUint(v.U, 10)
}

// DNSColumns are the fields of a DNS message, in output order.
var DNSColumns = []Column{
	{Name: "ts", Kind: Time},
	{Name: "client_ip", Kind: IP},
	{Name: "client_port", Kind: Uint},
	{Name: "server_ip", Kind: IP},
	{Name: "server_port", Kind: Uint},
	{Name: "transport", Kind: String},
	{Name: "id", Kind: Uint},
	{Name: "response", Kind: Bool},
	{Name: "opcode", Kind: Uint},
	{Name: "rcode", Kind: Uint, Display: rcodeDisplay},
	{Name: "flags", Kind: String},
	{Name: "qname", Kind: String},
	{Name: "qtype", Kind: Uint, Display: qtypeDisplay},
	{Name: "qclass", Kind: Uint, Display: qclassDisplay},
	{Name: "ancount", Kind: Uint},
	{Name: "answers", Kind: Answers},
	{Name: "ttl", Kind: Uint},
	{Name: "frame_len", Kind: Uint},
}

// TransportName is "udp" or "tcp" for a DNS transport protocol number.
func TransportName(p uint8) string {
	switch p {
	case flow.ProtoUDP:
		return "udp"
	case flow.ProtoTCP:
		return "tcp"
	}
	return strconv.Itoa(int(p))
}

// DNSRow fills row (len(DNSColumns)) from m.
func DNSRow(m *flow.DNSMessage, row []Value) {
	row[0] = Value{I: m.TS}
	row[1] = Value{P: m.Client}
	row[2] = Value{U: uint64(m.ClientPort)}
	row[3] = Value{P: m.Server}
	row[4] = Value{U: uint64(m.ServerPort)}
	row[5] = Value{S: TransportName(m.Transport)}
	row[6] = Value{U: uint64(m.ID)}
	row[7] = Value{B: m.Response}
	row[8] = Value{U: uint64(m.Opcode)}
	row[9] = Value{U: uint64(m.Rcode)}
	row[10] = Value{S: DNSFlagsText(m.Flags)}
	row[11] = Value{S: m.QName}
	row[12] = Value{U: uint64(m.QType)}
	row[13] = Value{U: uint64(m.QClass)}
	row[14] = Value{U: uint64(m.ANCount)}
	row[15] = Value{A: m.Answers}
	row[16] = Value{U: uint64(m.TTL)}
	row[17] = Value{U: uint64(m.FrameLen)}
}
