package flowstore

import (
	"errors"

	"github.com/spotctl/spotctl/decode/flow"
)

// flowView holds the flows columns FlowAt reads; a column missing from
// the file (an older segment) stays nil and reads as zero.
type flowView struct {
	first, last      []int64
	src, dst         []flow.Addr
	srcPort, dstPort []uint16
	proto, flags     []uint8
	tos              []uint8
	vlan             []uint16
	packets, bytes   []uint64
	evidence         []uint32

	// Sparse columns: usually absent (nil) in packet-capture segments.
	outPackets, outBytes []uint64
	exporter, nextHop    []flow.Addr
	obsDomain            []uint32
	srcAS, dstAS         []uint32
	inIf, outIf          []uint32
	srcMask, dstMask     []uint8
	endReason            []uint8
	sampling             []uint32
}

type dnsView struct {
	ts                     []int64
	client, server         []flow.Addr
	clientPort, serverPort []uint16
	transport              []uint8
	id                     []uint16
	response, opcode       []uint8
	rcode, flags           []uint8
	qname                  Strings
	hasQName               bool
	qtype, qclass, ancount []uint16
	answers                Strings
	hasAnswers             bool
	ttl, frameLen          []uint32
	evidence               []uint32
}

// Optional turns "column absent" (ErrNoColumn) from a typed accessor into
// a nil result without error, and passes every other error through. Use it
// for sparse columns, which a segment stores only when non-zero:
//
//	out, err := flowstore.Optional(t.Uint64(flowstore.ColOutBytes))
//	// out == nil: every row's out_bytes is 0
func Optional[T any](v T, err error) (T, error) {
	if errors.Is(err, ErrNoColumn) {
		var zero T
		return zero, nil
	}
	return v, err
}

func (t *Table) flowCols() (*flowView, error) {
	t.mu.Lock()
	v := t.flows
	t.mu.Unlock()
	if v != nil {
		return v, nil
	}
	v = &flowView{}
	var errs []error
	add := func(err error) { errs = append(errs, err) }
	var err error
	v.first, err = Optional(t.Int64(ColFirst))
	add(err)
	v.last, err = Optional(t.Int64(ColLast))
	add(err)
	v.src, err = Optional(t.Addr(ColSrcIP))
	add(err)
	v.dst, err = Optional(t.Addr(ColDstIP))
	add(err)
	v.srcPort, err = Optional(t.Uint16(ColSrcPort))
	add(err)
	v.dstPort, err = Optional(t.Uint16(ColDstPort))
	add(err)
	v.proto, err = Optional(t.Uint8(ColProto))
	add(err)
	v.flags, err = Optional(t.Uint8(ColTCPFlags))
	add(err)
	v.tos, err = Optional(t.Uint8(ColToS))
	add(err)
	v.vlan, err = Optional(t.Uint16(ColVLAN))
	add(err)
	v.packets, err = Optional(t.Uint64(ColPackets))
	add(err)
	v.bytes, err = Optional(t.Uint64(ColBytes))
	add(err)
	v.evidence, err = Optional(t.Uint32(ColEvidence))
	add(err)
	v.outPackets, err = Optional(t.Uint64(ColOutPackets))
	add(err)
	v.outBytes, err = Optional(t.Uint64(ColOutBytes))
	add(err)
	v.exporter, err = Optional(t.Addr(ColExporter))
	add(err)
	v.obsDomain, err = Optional(t.Uint32(ColObsDomain))
	add(err)
	v.srcAS, err = Optional(t.Uint32(ColSrcAS))
	add(err)
	v.dstAS, err = Optional(t.Uint32(ColDstAS))
	add(err)
	v.inIf, err = Optional(t.Uint32(ColInIf))
	add(err)
	v.outIf, err = Optional(t.Uint32(ColOutIf))
	add(err)
	v.nextHop, err = Optional(t.Addr(ColNextHop))
	add(err)
	v.srcMask, err = Optional(t.Uint8(ColSrcMask))
	add(err)
	v.dstMask, err = Optional(t.Uint8(ColDstMask))
	add(err)
	v.endReason, err = Optional(t.Uint8(ColEndReason))
	add(err)
	v.sampling, err = Optional(t.Uint32(ColSampling))
	add(err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.flows = v
	t.mu.Unlock()
	return v, nil
}

func at[T any](s []T, i int) T {
	if s == nil {
		var zero T
		return zero
	}
	return s[i]
}

// FlowAt fills every field of r with row i of a flows table. Columns
// absent from the file (sparse columns of a packet-capture segment, or
// columns newer than the segment) read as zero. It does not allocate.
func (t *Table) FlowAt(i int, r *flow.Record) error {
	if uint(i) >= uint(t.rows) {
		return t.errorf("row %d out of range [0,%d)", i, t.rows)
	}
	v, err := t.flowCols()
	if err != nil {
		return err
	}
	*r = flow.Record{
		First: at(v.first, i), Last: at(v.last, i),
		Src: at(v.src, i), Dst: at(v.dst, i),
		SrcPort: at(v.srcPort, i), DstPort: at(v.dstPort, i),
		Proto: at(v.proto, i), TCPFlags: at(v.flags, i), ToS: at(v.tos, i),
		VLAN:    at(v.vlan, i),
		Packets: at(v.packets, i), Bytes: at(v.bytes, i),
		Evidence:   at(v.evidence, i),
		OutPackets: at(v.outPackets, i), OutBytes: at(v.outBytes, i),
		Exporter: at(v.exporter, i), ObsDomain: at(v.obsDomain, i),
		SrcAS: at(v.srcAS, i), DstAS: at(v.dstAS, i),
		InIf: at(v.inIf, i), OutIf: at(v.outIf, i),
		NextHop: at(v.nextHop, i),
		SrcMask: at(v.srcMask, i), DstMask: at(v.dstMask, i),
		EndReason: at(v.endReason, i), Sampling: at(v.sampling, i),
	}
	return nil
}

func (t *Table) dnsCols() (*dnsView, error) {
	t.mu.Lock()
	v := t.dns
	t.mu.Unlock()
	if v != nil {
		return v, nil
	}
	v = &dnsView{}
	var errs []error
	add := func(err error) { errs = append(errs, err) }
	var err error
	v.ts, err = Optional(t.Int64(ColTS))
	add(err)
	v.client, err = Optional(t.Addr(ColClientIP))
	add(err)
	v.server, err = Optional(t.Addr(ColServerIP))
	add(err)
	v.clientPort, err = Optional(t.Uint16(ColClientPort))
	add(err)
	v.serverPort, err = Optional(t.Uint16(ColServerPort))
	add(err)
	v.transport, err = Optional(t.Uint8(ColTransport))
	add(err)
	v.id, err = Optional(t.Uint16(ColID))
	add(err)
	v.response, err = Optional(t.Uint8(ColResponse))
	add(err)
	v.opcode, err = Optional(t.Uint8(ColOpcode))
	add(err)
	v.rcode, err = Optional(t.Uint8(ColRcode))
	add(err)
	v.flags, err = Optional(t.Uint8(ColFlags))
	add(err)
	v.qname, err = t.Strings(ColQName)
	v.hasQName = err == nil
	add(ignoreMissing(err))
	v.qtype, err = Optional(t.Uint16(ColQType))
	add(err)
	v.qclass, err = Optional(t.Uint16(ColQClass))
	add(err)
	v.ancount, err = Optional(t.Uint16(ColANCount))
	add(err)
	v.answers, err = t.Bytes(ColAnswers)
	v.hasAnswers = err == nil
	add(ignoreMissing(err))
	v.ttl, err = Optional(t.Uint32(ColTTL))
	add(err)
	v.frameLen, err = Optional(t.Uint32(ColFrameLen))
	add(err)
	v.evidence, err = Optional(t.Uint32(ColEvidence))
	add(err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.dns = v
	t.mu.Unlock()
	return v, nil
}

func ignoreMissing(err error) error {
	if errors.Is(err, ErrNoColumn) {
		return nil
	}
	return err
}

// DNSAt fills m with row i of a dns table. QName and the answers' data are
// copies, safe to keep; m.Answers reuses m's slice capacity. Columns absent
// from the file read as zero. A malformed answers encoding is an error
// naming the row (the data passed its CRC, so the file was written that way).
func (t *Table) DNSAt(i int, m *flow.DNSMessage) error {
	if uint(i) >= uint(t.rows) {
		return t.errorf("row %d out of range [0,%d)", i, t.rows)
	}
	v, err := t.dnsCols()
	if err != nil {
		return err
	}
	answers := m.Answers[:0]
	*m = flow.DNSMessage{
		TS:     at(v.ts, i),
		Client: at(v.client, i), Server: at(v.server, i),
		ClientPort: at(v.clientPort, i), ServerPort: at(v.serverPort, i),
		Transport: at(v.transport, i), ID: at(v.id, i),
		Response: at(v.response, i) != 0,
		Opcode:   at(v.opcode, i), Rcode: at(v.rcode, i), Flags: at(v.flags, i),
		QType: at(v.qtype, i), QClass: at(v.qclass, i), ANCount: at(v.ancount, i),
		TTL: at(v.ttl, i), FrameLen: at(v.frameLen, i),
		Evidence: at(v.evidence, i),
	}
	if v.hasQName {
		m.QName = v.qname.At(i)
	}
	if v.hasAnswers {
		if b := v.answers.Bytes(i); len(b) > 0 {
			dec, err := flow.DecodeAnswers(b)
			if err != nil {
				return t.errorf("column %q row %d: %w", ColAnswers, i, err)
			}
			answers = append(answers, dec...)
		}
	}
	if len(answers) > 0 {
		m.Answers = answers
	}
	return nil
}
