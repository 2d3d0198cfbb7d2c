// Package evidence reads any evidence spotctl knows into flow and DNS
// records: packet captures (through decode/capture, with NetFlow exports
// found inside them decoded too), raw NetFlow v5/v9/IPFIX datagram files,
// nfdump's nfcapd files and text flow logs. One Pipeline reads a whole
// ingest run, in order, so rotated captures are stitched into one flow
// table and a NetFlow template seen in one file decodes data in the next.
package evidence

import (
	"errors"
	"fmt"
	"time"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/capture"
	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/decode/flowlog"
	"github.com/spotctl/spotctl/decode/input"
	"github.com/spotctl/spotctl/decode/netflow"
	"github.com/spotctl/spotctl/decode/nfcapd"
	"github.com/spotctl/spotctl/decode/packet"
)

// NetFlow modes for export datagrams found inside packet captures.
const (
	NetFlowAuto = "auto" // decode exports; their UDP packets are ordinary flows too
	NetFlowOff  = "off"  // exports are ordinary UDP traffic only
	NetFlowOnly = "only" // decode exports and keep nothing else of the capture (no packet flows, no DNS)
)

// Options configure a Pipeline.
type Options struct {
	Capture capture.Options
	NetFlow netflow.Options
	// NetFlowMode is NetFlowAuto, NetFlowOff or NetFlowOnly ("" is auto).
	NetFlowMode string
	// NetFlowPorts are UDP ports whose datagrams are always decoded as
	// exports (problems reported); elsewhere a datagram is decoded only
	// when its header validates (netflow.IsExport), whatever the port.
	NetFlowPorts []uint16
	// Location is the zone of wall-clock times without an offset in text
	// flow logs (nfdump CSV prints local time); nil is UTC.
	Location *time.Location
}

// DefaultOptions are the ingest defaults.
func DefaultOptions() Options {
	return Options{Capture: capture.DefaultOptions(), NetFlowMode: NetFlowAuto}
}

// FileStats describe one evidence file as read.
type FileStats struct {
	Format    string
	LinkTypes []uint16
	// Packets counts frames for captures, export datagrams for raw NetFlow
	// files, and flow records for nfcapd files and flow logs.
	Packets     uint64
	Flows       uint64 // flow records this file produced (exports and logs; captures: see the pipeline total)
	DNSMessages uint64
	First, Last int64 // time span, Unix ns; 0 when nothing was read
}

// Pipeline holds the state that outlives one file.
type Pipeline struct {
	opts     Options
	cap      *capture.Pipeline
	nf       *netflow.Decoder
	emitFlow func(*flow.Record)
	emitDNS  func(*flow.DNSMessage)
	ports    map[uint16]bool

	// per file
	name     string
	evidence uint32
	onErr    decode.ErrorFunc
	abort    error
	st       *FileStats
}

// New returns a Pipeline that hands records to emitFlow and emitDNS (both
// get pointers valid only during the call).
func New(opts Options, emitFlow func(*flow.Record), emitDNS func(*flow.DNSMessage)) (*Pipeline, error) {
	switch opts.NetFlowMode {
	case "":
		opts.NetFlowMode = NetFlowAuto
	case NetFlowAuto, NetFlowOff, NetFlowOnly:
	default:
		return nil, fmt.Errorf("netflow mode %q: want auto, off or only", opts.NetFlowMode)
	}
	p := &Pipeline{opts: opts, emitFlow: emitFlow, emitDNS: emitDNS, nf: netflow.NewDecoder(opts.NetFlow), ports: map[uint16]bool{}}
	for _, port := range opts.NetFlowPorts {
		p.ports[port] = true
	}
	co := opts.Capture
	capFlow, capDNS := emitFlow, emitDNS
	if opts.NetFlowMode == NetFlowOnly {
		// Nothing of the capture but its exports is kept: DNS is not even
		// parsed, so malformed DNS is not reported either.
		capFlow, capDNS = func(*flow.Record) {}, nil
	}
	if opts.NetFlowMode != NetFlowOff {
		co.OnDatagram = p.exportInCapture
	}
	p.cap = capture.New(co, capFlow, capDNS)
	return p, nil
}

// Frames returns the packets read so far from captures (for progress).
func (p *Pipeline) Frames() uint64 { return p.cap.Frames() }

// ReadFile reads one opened evidence file. Problems go to onErr (the read
// stops when it returns an error, which ReadFile returns).
func (p *Pipeline) ReadFile(ev *input.Evidence, name string, idx uint32, onErr decode.ErrorFunc) (FileStats, error) {
	st := FileStats{Format: ev.Format}
	p.name, p.evidence, p.onErr, p.abort, p.st = name, idx, onErr, nil, &st
	defer func() { p.st = nil }()
	span := func(r *flow.Record) {
		if st.First == 0 || r.First < st.First {
			st.First = r.First
		}
		if r.Last > st.Last {
			st.Last = r.Last
		}
	}
	countFlow := func(r *flow.Record) {
		st.Flows++
		span(r)
		p.emitFlow(r)
	}
	var err error
	switch ev.Kind {
	case input.KindCapture:
		var cs capture.FileStats
		cs, err = p.cap.ReadFile(ev.Content(), name, idx, onErr)
		st.LinkTypes, st.Packets, st.DNSMessages, st.First, st.Last = cs.LinkTypes, cs.Frames, cs.DNSMessages, cs.First, cs.Last
		if p.abort != nil {
			err = p.abort
		}
	case input.KindNetFlow:
		var ns netflow.Stats
		ns, err = netflow.ReadRaw(ev.Content(), name, idx, p.nf, countFlow, onErr)
		st.Packets = ns.Datagrams()
	case input.KindNfcapd:
		var ns nfcapd.Stats
		ns, err = nfcapd.Read(ev.Content(), name, idx, countFlow, onErr)
		st.Packets = ns.Flows
	case input.KindFlowLog:
		_, err = flowlog.Options{Location: p.opts.Location}.Read(ev.Content(), name, flowlog.Format(ev.Format), idx,
			func(r *flow.Record, _ flowlog.Meta) { countFlow(r) },
			func(m *flow.DNSMessage) {
				st.DNSMessages++
				if st.First == 0 || m.TS < st.First {
					st.First = m.TS
				}
				if m.TS > st.Last {
					st.Last = m.TS
				}
				p.emitDNS(m)
			}, onErr)
		st.Packets = st.Flows + st.DNSMessages
	default:
		return st, fmt.Errorf("%s: no reader for %q evidence", name, ev.Kind)
	}
	return st, err
}

// exportInCapture decodes a UDP datagram of a capture as a NetFlow/IPFIX
// export when it is one (a validated header, or a --netflow-ports port).
func (p *Pipeline) exportInCapture(ts, offset int64, info *packet.Info, payload []byte) {
	if p.abort != nil || info.Proto != flow.ProtoUDP {
		return
	}
	if !p.ports[info.DstPort] && !netflow.IsExport(payload) {
		return
	}
	err := p.nf.Datagram(info.Src, info.SrcPort, ts, payload, p.evidence, func(r *flow.Record) {
		if p.st != nil {
			p.st.Flows++
		}
		p.emitFlow(r)
	})
	if err == nil || p.onErr == nil {
		return
	}
	e := &decode.Error{File: p.name, Offset: offset, Err: fmt.Errorf("NetFlow export from %s:%d: %w", info.Src, info.SrcPort, err)}
	if cerr := p.onErr(e); cerr != nil {
		p.abort = cerr
	}
}

// Flush ends the evidence: open flows are exported, and NetFlow data that
// never met its template is reported through onErr (as a problem of the
// whole ingest, file "(all evidence)").
func (p *Pipeline) Flush(onErr decode.ErrorFunc) error {
	p.cap.Flush()
	if err := p.nf.Flush(); err != nil {
		var ue *netflow.UndecodableError
		if !errors.As(err, &ue) && onErr == nil {
			return err
		}
		if onErr != nil {
			return onErr(&decode.Error{File: "(all evidence)", Offset: -1, Err: err})
		}
	}
	return nil
}

// NetFlowStats reports the NetFlow decoder's counters over all evidence.
func (p *Pipeline) NetFlowStats() netflow.Stats { return p.nf.Stats() }
