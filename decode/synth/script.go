package synth

import "encoding/binary"

// A script is a short conversation whose packets are all known when it
// starts: a DNS lookup (with the resolver's upstream query on a cache miss),
// an NTP poll, a run of pings. The packets are planned with their times,
// sorted, and emitted one per fire. When the last one is out the script
// may start a follow-up (the connection a lookup was for).

type spKind uint8

const (
	spDNS spKind = iota
	spNTP
	spEcho
)

type spkt struct {
	at           int64
	kind         spKind
	path         uint8 // index into script.paths
	sport, dport uint16
	newFlow      bool // first packet of a conversation (counts a flow)
	dns          dnsMsg
	// NTP
	ntpServer bool
	ntpOrigin int64
	ntpRef    int64
	stratum   uint8
	refID     [4]byte
	// echo
	echoType uint8
	echoID   uint16
	echoSeq  uint16
	echoLen  int
}

// follow is what a script starts when it is done.
type follow struct {
	kind uint8
	name int  // the name looked up
	rot  int  // answer rotation: the address the client picks
	six  bool // the client got an AAAA answer and prefers IPv6
	msg  dnsMsg
}

const (
	followNone uint8 = iota
	followWeb
	followIntranet
	followSMB
	followSSH
	followUpdate
	followDNSTCP // truncated UDP answer: retry the query over TCP
)

type script struct {
	h     *host // owner: its session count drops when the script ends
	pk    []spkt
	i     int
	paths [6]path
	np    int
	then  follow
}

func (g *gen) newScript(h *host) *script {
	var s *script
	if n := len(g.script); n > 0 {
		s = g.script[n-1]
		g.script = g.script[:n-1]
	} else {
		s = &script{}
	}
	s.h, s.pk, s.i, s.np, s.then = h, s.pk[:0], 0, 0, follow{}
	if h != nil {
		h.active++
	}
	return s
}

// addPath registers one direction of a conversation and returns its index.
func (s *script) addPath(p path) uint8 {
	s.paths[s.np] = p
	s.np++
	return uint8(s.np - 1)
}

func (s *script) add(p spkt) { s.pk = append(s.pk, p) }

// start sorts the packets by time (stable: planning order breaks ties) and
// schedules the script.
func (g *gen) startScript(s *script) {
	for i := 1; i < len(s.pk); i++ {
		for j := i; j > 0 && s.pk[j].at < s.pk[j-1].at; j-- {
			s.pk[j], s.pk[j-1] = s.pk[j-1], s.pk[j]
		}
	}
	if len(s.pk) == 0 {
		g.endScript(s, 0)
		return
	}
	g.schedule(s, s.pk[0].at)
}

func (s *script) fire(g *gen, now int64) int64 {
	p := &s.pk[s.i]
	s.i++
	if p.newFlow {
		proto := uint8(protoUDP)
		if p.kind == spEcho {
			proto = protoICMP
		}
		g.flowStarted(proto)
	}
	pa := &s.paths[p.path]
	switch p.kind {
	case spDNS:
		b := g.appendDNS(g.buf[l4Off+8:l4Off+8], &p.dns)
		g.countDNS(&p.dns)
		g.emitUDP(now, pa, p.sport, p.dport, len(b))
	case spNTP:
		b := appendNTP(g.buf[l4Off+8:l4Off+8], p.ntpServer, p.stratum, p.refID, p.ntpRef, p.ntpOrigin, now-20_000, now)
		g.emitUDP(now, pa, p.sport, p.dport, len(b))
	case spEcho:
		b := g.buf[l4Off:]
		b[0], b[1], b[2], b[3] = p.echoType, 0, 0, 0
		binary.BigEndian.PutUint16(b[4:], p.echoID)
		binary.BigEndian.PutUint16(b[6:], p.echoSeq)
		d := b[8 : 8+p.echoLen]
		if pa.v6 || s.h == nil || s.h.os != osWindows {
			// Linux ping: 8-byte timestamp, then bytes 0x10, 0x11, …
			binary.LittleEndian.PutUint64(d, uint64(now/1e3))
			for i := 8; i < len(d); i++ {
				d[i] = byte(i + 8)
			}
		} else {
			for i := range d {
				d[i] = 'a' + byte(i%23)
			}
		}
		proto := uint8(protoICMP)
		if pa.v6 {
			proto = protoICMPv6
		}
		g.emitL4(now, pa, proto, 8+p.echoLen)
	}
	if s.i < len(s.pk) {
		return s.pk[s.i].at
	}
	g.endScript(s, now)
	return -1
}

func (g *gen) countDNS(m *dnsMsg) {
	if !m.resp {
		g.stats.DNSQueries++
		return
	}
	g.stats.DNSResponses++
	if !m.tc && g.rcode(m) == rcodeNXDomain {
		g.stats.NXDomains++
	}
}

func (g *gen) endScript(s *script, now int64) {
	if s.h != nil {
		s.h.active--
	}
	then := s.then
	h := s.h
	s.h = nil
	g.script = append(g.script, s)
	if then.kind != followNone && h != nil {
		g.startFollow(h, now+30_000+h.rng.Int64N(400_000), then)
	}
}
