package synth

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"
)

// Options configures one synthetic capture. The zero value is valid and
// gives the defaults.
type Options struct {
	// Seed selects the office: hosts, their habits and every random choice.
	// The same seed and options always give byte-identical output.
	Seed uint64
	// Hosts is the number of internal hosts including the five servers
	// (resolver, NTP, file, intranet web, SSH jump host); 0 means 50.
	Hosts int
	// Start is the time of day zero; the zero time means DefaultStart
	// (a Monday, midnight UTC). The daily curve follows Start's location.
	Start time.Time
	// Duration is the captured span. 0 means 24h, unless Packets is set,
	// in which case the capture runs until Packets packets are written.
	Duration time.Duration
	// Packets stops the capture after exactly this many packets; 0 means
	// no packet limit.
	Packets int
	// IPv6Share is the fraction of workstations that also use IPv6
	// (0 means 0.1, a negative value means none; the resolver and the
	// intranet server are dual-stack whenever any workstation is).
	IPv6Share float64
	// Inject adds labelled malicious activities to the background, each
	// with its own random stream; Stats.Truth says what came out. They
	// share the attacker's and the resolver's ephemeral port allocators
	// (as the operating system would), so no background conversation ever
	// shares a 5-tuple with an injected one; everything else in the
	// background stays as it is without them.
	Inject []Injection
}

// Defaults applied to zero Options fields.
const (
	DefaultHosts     = 50
	DefaultDuration  = 24 * time.Hour
	DefaultIPv6Share = 0.1
	// MinHosts is the five servers plus one workstation.
	MinHosts = 6
	// MaxHosts bounds the 10.20.0.0/16 workstation range.
	MaxHosts = maxHosts
)

// DefaultStart is the start time used when Options.Start is zero: a fixed
// date, never the clock, so that output is reproducible.
var DefaultStart = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// Stats summarises what Write produced.
type Stats struct {
	Packets int // frames written
	Bytes   int // sum of frame lengths (every frame is captured whole)
	// Flows counts conversations started: TCP connections (counted at the
	// SYN), UDP exchanges (one socket pair: a DNS lookup, an NTP poll, a
	// QUIC connection) and ICMP echo sessions.
	Flows                     int
	TCPConns, UDPFlows, Pings int
	DNSQueries, DNSResponses  int // DNS messages on the wire, UDP and TCP, client and upstream
	NXDomains                 int // responses with RCODE NXDOMAIN
	IPv6Packets, VLANPackets  int
	First, Last               time.Time // timestamps of the first and last frame; zero when none
	// Truth describes the injected activities, one per Options.Inject
	// entry; empty without injections.
	Truth Truth
}

// pcapTimeLimit is the first time a classic pcap record cannot hold.
var pcapTimeLimit = time.Unix(1<<32, 0)

// ErrOptions marks invalid Options.
var ErrOptions = errors.New("invalid synth options")

func (o Options) normalize() (_ Options, err error) {
	if o.Hosts == 0 {
		o.Hosts = DefaultHosts
	}
	if o.Hosts < MinHosts || o.Hosts > MaxHosts {
		return o, fmt.Errorf("%w: hosts %d: want %d to %d", ErrOptions, o.Hosts, MinHosts, MaxHosts)
	}
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	if o.Start.Before(time.Unix(0, 0)) || !o.Start.Before(pcapTimeLimit) {
		return o, fmt.Errorf("%w: start %v: classic pcap holds 1970 to 2106 only", ErrOptions, o.Start)
	}
	if o.Duration < 0 {
		return o, fmt.Errorf("%w: negative duration %v", ErrOptions, o.Duration)
	}
	if o.Packets < 0 {
		return o, fmt.Errorf("%w: negative packet limit %d", ErrOptions, o.Packets)
	}
	if o.Duration == 0 && o.Packets == 0 {
		o.Duration = DefaultDuration
	}
	if math.IsNaN(o.IPv6Share) || o.IPv6Share > 1 {
		return o, fmt.Errorf("%w: IPv6 share %v: want at most 1", ErrOptions, o.IPv6Share)
	}
	if o.IPv6Share == 0 {
		o.IPv6Share = DefaultIPv6Share
	}
	if o.IPv6Share < 0 {
		o.IPv6Share = 0
	}
	if len(o.Inject) > 0 {
		inj := make([]Injection, len(o.Inject))
		for i, in := range o.Inject {
			if inj[i], err = in.normalize(&o); err != nil {
				return o, err
			}
		}
		if err := checkDistinct(inj); err != nil {
			return o, err
		}
		o.Inject = inj
	}
	return o, nil
}

// Write writes a classic pcap (nanosecond timestamps, Ethernet, snaplen
// 262144) of synthetic office traffic to w, in timestamp order, and
// returns what it wrote. It holds only the conversations in flight, never
// the capture. On a write error it stops and returns the stats so far with
// the error.
func Write(w io.Writer, opts Options) (Stats, error) {
	o, err := opts.normalize()
	if err != nil {
		return Stats{}, err
	}
	g := newGen(w, o)
	g.run()
	return g.result(), g.pw.err
}

// actor is anything that emits packets over time: background host
// activities, conversations, and later the injected scenarios. fire runs at
// the time it was scheduled for; it emits at most one packet stamped now
// and returns when it next wants to run (≥ now), or a negative value when it
// is finished. The one-packet rule keeps the output in timestamp order with
// nothing buffered.
type actor interface {
	fire(g *gen, now int64) int64
}

// event is a pending actor in the scheduler. seq breaks timestamp ties in
// scheduling order, so the output never depends on heap internals.
type event struct {
	at  int64
	seq uint64
	a   actor
}

// gen is the state of one Write call.
type gen struct {
	o        Options
	start    int64
	end      int64 // first excluded timestamp; MaxInt64 when only Packets bounds the run
	limit    int
	pw       pcapWriter
	buf      []byte
	fill     []byte // pseudo-random payload source, len fillSize+maxSeg
	queue    []event
	seq      uint64
	stats    Stats
	first    int64
	last     int64
	w        world
	conns    []*tcpConn // free list
	quics    []*quicConn
	script   []*script
	resCache []int64 // the resolver's cache: expiry per (name, qtype), see cacheKey

	inj  int         // 1-based injector whose packet is being emitted; 0 for background
	injs []*injector // one per Options.Inject entry
	raws []*rawUDP   // free list
	// tap, when set (tests), sees every frame with the injector it
	// belongs to (0: background).
	tap func(ts int64, frame []byte, inj int)
}

const fillSize = 1 << 20

func newGen(w io.Writer, o Options) *gen {
	g := &gen{
		o:     o,
		start: o.Start.UnixNano(),
		end:   math.MaxInt64,
		limit: o.Packets,
		buf:   make([]byte, bufSize),
	}
	if o.Duration > 0 && int64(o.Duration) < math.MaxInt64-g.start {
		g.end = g.start + int64(o.Duration)
	}
	// Classic pcap seconds are 32-bit: stop before they wrap.
	g.end = min(g.end, pcapTimeLimit.UnixNano())
	g.pw.w = bufio.NewWriterSize(w, 1<<20)
	fr := rand.New(rand.NewPCG(o.Seed, 0x66696c6c)) // "fill"
	g.fill = make([]byte, fillSize+2048)
	for i := 0; i+8 <= len(g.fill); i += 8 {
		v := fr.Uint64()
		for k := 0; k < 8; k++ {
			g.fill[i+k] = byte(v >> (8 * k))
		}
	}
	g.w.buildNames()
	g.w.buildLocal()
	g.w.buildHosts(&g.o)
	return g
}

// filler writes pseudo-random bytes (encrypted-looking payload) for
// stream offset off into dst.
func (g *gen) filler(dst []byte, off int) {
	for len(dst) > 0 {
		o := off % fillSize
		k := copy(dst, g.fill[o:fillSize])
		dst = dst[k:]
		off += k
	}
}

func (g *gen) schedule(a actor, at int64) {
	g.seq++
	g.queue = append(g.queue, event{at: at, seq: g.seq, a: a})
	// sift up
	q := g.queue
	i := len(q) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !less(&q[i], &q[p]) {
			break
		}
		q[i], q[p] = q[p], q[i]
		i = p
	}
}

func less(a, b *event) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

// pop removes the earliest event.
func (g *gen) pop() event {
	q := g.queue
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q[last] = event{}
	q = q[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(q) {
			break
		}
		m := l
		if r := l + 1; r < len(q) && less(&q[r], &q[l]) {
			m = r
		}
		if !less(&q[m], &q[i]) {
			break
		}
		q[i], q[m] = q[m], q[i]
		i = m
	}
	g.queue = q
	return top
}

func (g *gen) run() {
	g.pw.writeHeader()
	g.startBackground()
	g.startInjections()
	for len(g.queue) > 0 && g.pw.err == nil {
		if g.limit > 0 && g.stats.Packets >= g.limit {
			break
		}
		ev := g.pop()
		if ev.at >= g.end {
			break
		}
		g.inj = 0
		next := ev.a.fire(g, ev.at)
		if next >= 0 {
			if next < ev.at {
				next = ev.at // actors never go back in time
			}
			g.schedule(ev.a, next)
		}
	}
	g.pw.flush()
}

// record writes one frame. Callers emit at most one per fire.
func (g *gen) record(ts int64, frame []byte) {
	if g.stats.Packets == 0 {
		g.first = ts
	}
	g.last = ts
	g.stats.Packets++
	g.stats.Bytes += len(frame)
	g.pw.writeRecord(ts, frame)
	if g.inj != 0 {
		g.injs[g.inj-1].count(ts, len(frame))
	}
	if g.tap != nil {
		g.tap(ts, frame, g.inj)
	}
}

func (g *gen) flowStarted(proto uint8) {
	if g.inj != 0 {
		g.injs[g.inj-1].flows++
	}
	g.stats.Flows++
	switch proto {
	case protoTCP:
		g.stats.TCPConns++
	case protoUDP:
		g.stats.UDPFlows++
	default:
		g.stats.Pings++
	}
}

func (g *gen) result() Stats {
	s := g.stats
	if s.Packets > 0 {
		s.First = time.Unix(0, g.first).In(g.o.Start.Location())
		s.Last = time.Unix(0, g.last).In(g.o.Start.Location())
	}
	s.Truth = g.truth()
	return s
}
