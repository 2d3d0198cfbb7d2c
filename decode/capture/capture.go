// Package capture turns packet captures into flow and DNS records in one
// pass: framing (decode/pcap) → frame parsing (decode/packet) → NetFlow-style
// flow assembly (decode/assemble) and, from the same packets, DNS messages
// on port 53 over UDP (fragments reassembled) and TCP (length-prefixed
// messages reassembled). One Pipeline reads any number of files in order, so
// rotated captures of one link are stitched: a flow that spans two files is
// one flow.
package capture

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/assemble"
	"github.com/spotctl/spotctl/decode/dns"
	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/decode/packet"
	"github.com/spotctl/spotctl/decode/pcap"
)

// Options configure a Pipeline.
type Options struct {
	Assemble assemble.Options
	// DNSStreams bounds the TCP connections on port 53 followed at once;
	// DNSStreamBuffer bounds the bytes buffered per direction.
	DNSStreams      int
	DNSStreamBuffer int
	// OnDatagram, when set, sees every complete UDP datagram (fragments
	// reassembled) with the time and the byte offset in its file of the
	// packet that completed it, e.g. to decode NetFlow exports. info and
	// payload are valid only during the call.
	OnDatagram func(ts, offset int64, info *packet.Info, payload []byte)
}

// DefaultOptions are the ingest defaults documented in the README.
func DefaultOptions() Options {
	return Options{
		Assemble: assemble.Options{
			ActiveTimeout:   assemble.DefaultActiveTimeout,
			InactiveTimeout: assemble.DefaultInactiveTimeout,
			MaxFlows:        assemble.DefaultMaxFlows,
		},
		DNSStreams:      4096,
		DNSStreamBuffer: 128 << 10,
	}
}

// FileStats describe what one evidence file held.
type FileStats struct {
	Format       string
	LinkTypes    []uint16
	Frames       uint64 // records in the capture
	IPPackets    uint64 // frames with an IPv4 or IPv6 header (counted in flows)
	NonIP        uint64 // frames without IP (ARP, LLDP, …): not flows
	Undecodable  uint64 // frames whose headers are damaged
	DNSMessages  uint64
	DNSMalformed uint64 // port-53 payloads that are not well-formed DNS (kept when the header parsed); each reported as a note
	// FragmentProblems counts fragmented datagrams the flow assembler
	// could not handle in full (assemble.Problem), each reported.
	FragmentProblems uint64
	First, Last      int64  // packet time span, Unix ns (0 when no packet)
	Errors           uint64 // framing problems reported through the ErrorFunc
}

// Kinds of the problems the pipeline reports itself (decode.Error.Kind);
// framing problems carry their reader's kinds.
const (
	KindMalformedDNS = "malformed DNS"
)

// Pipeline holds the state that outlives one file: the flow table, fragment
// and TCP reassembly.
type Pipeline struct {
	dec     packet.Decoder
	asm     *assemble.Assembler
	tcp     *dns.TCPReassembler
	emitDNS func(*flow.DNSMessage)
	msg     flow.DNSMessage

	// state of the packet being processed, for the DNS hooks
	ts       int64
	offset   int64
	frameLen uint32
	evidence uint32
	stats    *FileStats
	name     string
	onErr    decode.ErrorFunc
	abort    error // what onErr returned for a problem found inside Add
	onUDP    func(ts, offset int64, info *packet.Info, payload []byte)
	frames   atomic.Uint64 // frames read over all files, for progress
}

// Frames returns the number of frames read so far over all files. It is
// safe to call from another goroutine (the progress bar).
func (p *Pipeline) Frames() uint64 { return p.frames.Load() }

// New returns a Pipeline that hands finished flows to emitFlow and DNS
// messages to emitDNS. Both receive pointers valid only during the call.
// A nil emitDNS means DNS is not wanted: port-53 payloads are then neither
// parsed nor reported.
func New(opts Options, emitFlow func(*flow.Record), emitDNS func(*flow.DNSMessage)) *Pipeline {
	p := &Pipeline{emitDNS: emitDNS, onUDP: opts.OnDatagram}
	ao := opts.Assemble
	ao.OnDatagram = p.onDatagram
	ao.OnTCPSegment = p.onTCPSegment
	ao.OnProblem = p.onProblem
	p.asm = assemble.New(ao, emitFlow)
	p.tcp = dns.NewTCPReassembler(opts.DNSStreams, opts.DNSStreamBuffer)
	return p
}

// ReadFile reads every packet of one capture. evidence is the file's index
// in the case manifest. Framing problems go to onErr; if it returns an
// error, ReadFile stops and returns it. A framing error that loses sync ends
// the file (what was read before it is kept).
func (p *Pipeline) ReadFile(content io.Reader, name string, evidence uint32, onErr decode.ErrorFunc) (FileStats, error) {
	var st FileStats
	r, err := pcap.NewReader(content, name)
	if err != nil {
		// Not a capture at all is the caller's business (input sniffs
		// first); a damaged or cut header is evidence damage like any other.
		var de *decode.Error
		if errors.Is(err, decode.ErrNotEvidence) || !errors.As(err, &de) {
			return st, err
		}
		st.Errors++
		return st, onErr(de)
	}
	st.Format = r.Format()
	p.stats = &st
	p.evidence = evidence
	p.name, p.onErr, p.abort = name, onErr, nil
	defer func() { p.stats, p.onErr = nil, nil }()
	var info packet.Info
	for {
		pkt, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			st.Errors++
			var de *decode.Error
			if !errors.As(err, &de) {
				de = &decode.Error{File: name, Offset: r.Offset(), Err: err}
			}
			if cerr := onErr(de); cerr != nil {
				st.LinkTypes = r.LinkTypes()
				return st, cerr
			}
			if errors.Is(err, pcap.ErrFatal) {
				break
			}
			continue
		}
		st.Frames++
		p.frames.Add(1)
		if st.First == 0 || pkt.TS < st.First {
			st.First = pkt.TS
		}
		if pkt.TS > st.Last {
			st.Last = pkt.TS
		}
		if err := p.dec.Decode(pkt.LinkType, pkt.Data, &info); err != nil {
			if errors.Is(err, packet.ErrNotIP) {
				st.NonIP++
			} else {
				st.Undecodable++
			}
			continue
		}
		st.IPPackets++
		p.ts, p.offset, p.frameLen = pkt.TS, pkt.Offset, uint32(len(pkt.Data))
		p.asm.Add(pkt.TS, &info, pkt.WireLen, evidence)
		if p.abort != nil {
			st.LinkTypes = r.LinkTypes()
			return st, p.abort
		}
	}
	st.LinkTypes = r.LinkTypes()
	return st, nil
}

// Flush ends the input: every flow still open is exported.
func (p *Pipeline) Flush() { p.asm.Flush() }

// AssembleStats reports the flow table's counters.
func (p *Pipeline) AssembleStats() assemble.Stats { return p.asm.Stats() }

// TCPStats reports the DNS-over-TCP reassembler's counters.
func (p *Pipeline) TCPStats() dns.TCPStats { return p.tcp.Stats() }

func isDNSPort(info *packet.Info) bool { return info.SrcPort == 53 || info.DstPort == 53 }

func (p *Pipeline) onDatagram(ts int64, info *packet.Info, payload []byte) {
	if p.onUDP != nil {
		p.onUDP(ts, p.offset, info, payload)
	}
	if info.Proto != flow.ProtoUDP || !isDNSPort(info) || p.emitDNS == nil {
		return
	}
	p.parseDNS(ts, info, flow.ProtoUDP, payload)
}

func (p *Pipeline) onTCPSegment(ts int64, info *packet.Info) {
	if !isDNSPort(info) || p.emitDNS == nil {
		return
	}
	key := dns.StreamKey{Src: info.Src, Dst: info.Dst, SrcPort: info.SrcPort, DstPort: info.DstPort, VLAN: info.VLAN}
	syn := info.TCPFlags&flow.TCPSyn != 0
	fin := info.TCPFlags&flow.TCPFin != 0
	rst := info.TCPFlags&flow.TCPRst != 0
	p.tcp.Add(key, info.TCPSeq, syn, fin, rst, info.Payload, func(msg []byte) {
		p.parseDNS(ts, info, flow.ProtoTCP, msg)
	})
}

// report hands a problem found inside Add to the file's ErrorFunc; an
// error it returns stops ReadFile after the current packet.
func (p *Pipeline) report(e *decode.Error) {
	if p.onErr == nil || p.abort != nil {
		return
	}
	if err := p.onErr(e); err != nil {
		p.abort = err
	}
}

func (p *Pipeline) onProblem(pr assemble.Problem) {
	if p.stats != nil {
		p.stats.FragmentProblems++
	}
	sev := decode.Note
	if pr.Kind == assemble.TrackerFull || pr.Kind == assemble.ReassemblyMemory {
		sev = decode.Warning // one of our bounds, not the traffic: partial results
	}
	p.report(&decode.Error{File: p.name, Offset: p.offset, Err: pr, Kind: pr.Kind.String(), Severity: sev})
}

// malformedDNS reports a port-53 payload that is not well-formed DNS, as a
// note: the capture holds the packet intact, and what decoded is kept.
func (p *Pipeline) malformedDNS(info *packet.Info, transport uint8, kept bool, err error) {
	if p.stats != nil {
		p.stats.DNSMalformed++
	}
	proto, what := "UDP", "kept as far as it decoded"
	if transport == flow.ProtoTCP {
		proto = "TCP"
	}
	if !kept {
		what = "not kept"
	}
	p.report(&decode.Error{File: p.name, Offset: p.offset, Kind: KindMalformedDNS, Severity: decode.Note,
		Err: fmt.Errorf("malformed DNS message (%s %s → %s, %s): %w", proto,
			netipPort(info.Src, info.SrcPort), netipPort(info.Dst, info.DstPort), what, err)})
}

func netipPort(a flow.Addr, port uint16) string {
	if a.Is4() {
		return fmt.Sprintf("%s:%d", a, port)
	}
	return fmt.Sprintf("[%s]:%d", a, port)
}

func (p *Pipeline) parseDNS(ts int64, info *packet.Info, transport uint8, msg []byte) {
	m := &p.msg
	answers := m.Answers[:0]
	*m = flow.DNSMessage{Answers: answers}
	if err := dns.Parse(msg, m); err != nil {
		// A message without a whole header is not DNS at all: nothing
		// to keep. Otherwise the header and what decoded before the
		// damage is a row.
		p.malformedDNS(info, transport, len(msg) >= 12, err)
		if len(msg) < 12 {
			return
		}
	}
	m.TS = ts
	m.Transport = transport
	m.FrameLen = p.frameLen
	m.Evidence = p.evidence
	if m.Response {
		m.Client, m.ClientPort, m.Server, m.ServerPort = info.Dst, info.DstPort, info.Src, info.SrcPort
	} else {
		m.Client, m.ClientPort, m.Server, m.ServerPort = info.Src, info.SrcPort, info.Dst, info.DstPort
	}
	if p.stats != nil {
		p.stats.DNSMessages++
	}
	p.emitDNS(m)
}
