package netflow

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/decode/packet"
	"github.com/spotctl/spotctl/decode/pcap"
)

// datagram is one UDP payload of a capture.
type datagram struct {
	frame   int // 1-based, as tshark numbers frames
	ts      int64
	src     flow.Addr
	sport   uint16
	dport   uint16
	payload []byte
}

// udpPayloads reads every UDP datagram of a capture with our own framing
// reader and frame parser (decode/pcap, decode/packet).
func udpPayloads(tb testing.TB, path string) []datagram {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	r, err := pcap.NewReader(bytes.NewReader(raw), path)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	var out []datagram
	var pd packet.Decoder
	var info packet.Info
	for frame := 1; ; frame++ {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		if pd.Decode(p.LinkType, p.Data, &info) != nil || info.Proto != flow.ProtoUDP || info.Payload == nil || info.Fragment {
			continue
		}
		out = append(out, datagram{frame, p.TS, info.Src, info.SrcPort, info.DstPort, append([]byte(nil), info.Payload...)})
	}
	return out
}

// collect decodes datagrams in order and returns copies of the records.
func collect(tb testing.TB, d *Decoder, dgs []datagram, evidence uint32) ([]flow.Record, []error) {
	tb.Helper()
	var recs []flow.Record
	var errs []error
	for _, g := range dgs {
		if err := d.Datagram(g.src, g.sport, g.ts, g.payload, evidence, func(r *flow.Record) { recs = append(recs, *r) }); err != nil {
			errs = append(errs, err)
		}
	}
	return recs, errs
}
