package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// An injector carries out one Options.Inject entry. It has its own random
// stream (seeded by Options.Seed and its position), so adding or removing an
// injection changes no other random choice; it shares with the background
// only the attacker's and the resolver's ephemeral port allocators, which is
// what keeps every injected 5-tuple apart from the background's.
type injector struct {
	id      int
	in      Injection
	r       *rand.Rand
	src     *host
	victims []*host
	dst     node // external end of beacon, exfil and the dga's live name
	start   int64
	end     int64 // end of the activity window; MaxInt64: open

	convs   []Conversation
	dns     *DNSMatch
	dstIPs  []netip.Addr
	ports   []uint16
	proto   string
	domain  string
	desc    string
	packets int
	bytes   int
	flows   int
	first   int64
	last    int64
}

func (j *injector) count(ts int64, n int) {
	if j.packets == 0 {
		j.first = ts
	}
	j.last = ts
	j.packets++
	j.bytes += n
}

// conv adds a conversation key and returns its index, for port lists
// filled in as the activity allocates sockets.
func (j *injector) conv(src, dst [4]byte, proto uint8, dports ...uint16) int {
	j.convs = append(j.convs, Conversation{SrcIP: netip.AddrFrom4(src), DstIP: netip.AddrFrom4(dst), Proto: proto, DstPorts: dports})
	return len(j.convs) - 1
}

func (j *injector) srcPort(conv int, p uint16) {
	j.convs[conv].SrcPorts = append(j.convs[conv].SrcPorts, p)
}

// injStream seeds injector i's random stream; "inj" keeps it apart from
// the host, network and filler streams.
func injStream(seed uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x696e6a<<32|uint64(i)))
}

// startInjections picks attackers and victims and schedules every
// injector. Attackers are distinct workstations while there are enough;
// victims avoid all attackers when they can.
func (g *gen) startInjections() {
	if len(g.o.Inject) == 0 {
		return
	}
	pick := rand.New(rand.NewPCG(g.o.Seed, 0x706c616e)) // "plan"
	ws := g.w.hosts[len(serverRoles):]
	nws := len(ws)
	attacker := map[int]bool{}
	idx := make([]int, len(g.o.Inject))
	for i, in := range g.o.Inject {
		if in.Src != "" {
			idx[i], _ = workstationIndex(in.Src, nws) // checked by normalize
			attacker[idx[i]] = true
		} else {
			idx[i] = -1
		}
	}
	for i := range g.o.Inject {
		if idx[i] >= 0 {
			continue
		}
		var free []int
		for k := 0; k < nws; k++ {
			if !attacker[k] {
				free = append(free, k)
			}
		}
		if len(free) == 0 {
			idx[i] = pick.IntN(nws)
		} else {
			idx[i] = free[pick.IntN(len(free))]
		}
		attacker[idx[i]] = true
	}
	for i, in := range g.o.Inject {
		j := &injector{id: i + 1, in: in, r: injStream(g.o.Seed, i), src: ws[idx[i]], end: math.MaxInt64}
		if in.Src == "" {
			j.in.Src = j.src.name
		}
		if in.At != "" {
			t, _ := resolveAt(in.At, g.o.Start) // checked by normalize
			j.start = t.UnixNano()
		} else {
			j.start = g.start + j.r.Int64N(int64(in.Interval))
		}
		if in.For > 0 {
			j.end = j.start + int64(in.For)
		}
		if in.Targets > 0 {
			j.victims = pickVictims(j.r, ws, idx[i], attacker, in.Targets)
		}
		if in.Dst != "" {
			a, _ := netip.ParseAddr(in.Dst)
			j.dst = node{role: roleExternal, ip4: a.As4(), ttl: uint8(64 - 8 - j.r.IntN(10)), rtt: int64(30e6 + j.r.Float64()*110e6)}
		}
		g.injs = append(g.injs, j)
		switch in.Kind {
		case Beacon:
			g.startBeacon(j)
		case Scan:
			g.startScan(j)
		case DNSTunnel:
			g.startTunnel(j)
		case Exfil:
			g.startExfil(j)
		case DGA:
			g.startDGA(j)
		case Lateral:
			g.startLateral(j)
		}
	}
}

// pickVictims chooses n workstations other than the attacker, avoiding
// every attacker while enough others remain.
func pickVictims(r *rand.Rand, ws []*host, self int, attacker map[int]bool, n int) []*host {
	var clean, other []int
	for k := range ws {
		switch {
		case k == self:
		case attacker[k]:
			other = append(other, k)
		default:
			clean = append(clean, k)
		}
	}
	r.Shuffle(len(clean), func(a, b int) { clean[a], clean[b] = clean[b], clean[a] })
	r.Shuffle(len(other), func(a, b int) { other[a], other[b] = other[b], other[a] })
	all := append(clean, other...)
	all = all[:min(n, len(all))]
	slices.Sort(all) // sweep in address order, as scanners do
	out := make([]*host, len(all))
	for i, k := range all {
		out[i] = ws[k]
	}
	return out
}

// injConn returns a TCP connection of injector j from its attacker to
// srv:dport. It does not count against the host's session limit.
func (g *gen) injConn(j *injector, srv *node, dport uint16) *tcpConn {
	c := g.allocConn()
	c.inj = j.id
	g.initConn(c, j.src, j.r, srv, false, dport)
	return c
}

// funcActor runs fn once at its time: the start of a scenario step.
type funcActor struct{ fn func(g *gen, now int64) }

func (a *funcActor) fire(g *gen, now int64) int64 {
	a.fn(g, now)
	return -1
}

func (g *gen) at(t int64, fn func(g *gen, now int64)) { g.schedule(&funcActor{fn: fn}, t) }

// ---- beacon ----

// beaconActor checks in with the C2 address every Interval ± Jitter, day
// and night: one short HTTPS connection per check-in with near-constant
// sizes (a task now and then makes one exchange larger).
type beaconActor struct{ j *injector }

func (g *gen) startBeacon(j *injector) {
	in := &j.in
	j.conv(j.src.ip4, j.dst.ip4, protoTCP, in.Port)
	j.dstIPs = []netip.Addr{netip.AddrFrom4(j.dst.ip4)}
	j.ports, j.proto, j.domain = []uint16{in.Port}, "tcp", in.Domain
	jit := max(in.Jitter, 0)
	j.desc = fmt.Sprintf("%s checks in with %v:%d over TLS (server name %s) every %v ± %g %%, day and night",
		j.src.name, j.dstIPs[0], in.Port, in.Domain, in.Interval, jit*100)
	g.schedule(&beaconActor{j: j}, j.start)
}

func (a *beaconActor) fire(g *gen, now int64) int64 {
	j := a.j
	if now >= j.end {
		return -1
	}
	r := j.r
	c := g.injConn(j, &j.dst, j.in.Port)
	g.planTLSHandshake(c, j.in.Domain, false)
	c.msg(0, mkTLS, len(c.arena), tlsWireLen(190+r.IntN(40)), 20_000+r.Int64N(200_000))
	task := r.IntN(30) == 0
	resp := 64 + r.IntN(16)
	if task {
		resp = 2000 + r.IntN(30000)
	}
	c.msg(1, mkTLS, len(c.arena), tlsWireLen(resp), c.serverTurn(2e6+r.Int64N(8e6)))
	if task {
		// The task's output goes back in a second request.
		c.msg(0, mkTLS, len(c.arena), tlsWireLen(400+r.IntN(8000)), 200e6+r.Int64N(2e9))
		c.msg(1, mkTLS, len(c.arena), tlsWireLen(64+r.IntN(16)), c.serverTurn(2e6+r.Int64N(8e6)))
	}
	c.close = closeClientFin
	c.idle = 5e6 + r.Int64N(60e6)
	g.schedule(c, now)
	jit := max(j.in.Jitter, 0)
	return now + int64(float64(j.in.Interval)*(1+jit*(2*r.Float64()-1)))
}

// ---- scan ----

// scanActor is a TCP connect scan: one probe every ~3 ms (about 300 a
// second), victim after victim, ports in random order. Closed ports answer
// RST-ACK; open ones complete the handshake and the scanner resets.
type scanActor struct {
	j     *injector
	ports []uint16
	order []uint16
	vi    int
	pi    int
}

// Ports a workstation of each OS listens on.
var openPorts = [3][]uint16{
	osWindows: {135, 139, 445, 3389, 5040},
	osLinux:   {22, 111},
	osMac:     {22, 5000, 7000},
}

func (g *gen) startScan(j *injector) {
	ports, _ := parsePorts(j.in.Ports) // checked by normalize
	for _, v := range j.victims {
		j.conv(j.src.ip4, v.ip4, protoTCP)
		j.dstIPs = append(j.dstIPs, netip.AddrFrom4(v.ip4))
	}
	j.ports, j.proto = ports, "tcp"
	j.desc = fmt.Sprintf("%s connect-scans %d TCP ports on %d workstation(s): closed ports answer RST, open ones complete the handshake",
		j.src.name, len(ports), len(j.victims))
	a := &scanActor{j: j, ports: ports}
	a.shuffle()
	g.schedule(a, j.start)
}

func (a *scanActor) shuffle() {
	a.order = append(a.order[:0], a.ports...)
	a.j.r.Shuffle(len(a.order), func(x, y int) { a.order[x], a.order[y] = a.order[y], a.order[x] })
}

func (a *scanActor) fire(g *gen, now int64) int64 {
	j := a.j
	if a.vi >= len(j.victims) {
		return -1
	}
	v := j.victims[a.vi]
	port := a.order[a.pi]
	c := g.injConn(j, &v.node, port)
	if slices.Contains(openPorts[v.os], port) {
		c.close = closeClientRst
		c.idle = 50_000 + j.r.Int64N(300_000)
	} else {
		c.refused = true
	}
	g.schedule(c, now)
	a.pi++
	if a.pi == len(a.order) {
		a.pi = 0
		a.vi++
		a.shuffle()
		return now + 200e6 + j.r.Int64N(800e6) // next host
	}
	return now + 100_000 + int64(j.r.ExpFloat64()*3e6)
}

// ---- dns-tunnel ----

// tunnelActor sends data in the names of TXT, NULL and CNAME queries for
// long base32 subdomains of the tunnel domain, all from one UDP socket to
// the internal resolver (as iodine does); every query misses the cache, so
// the resolver forwards it upstream. Answers carry data back: base64 TXT
// strings, NULL bytes or base32 CNAME targets, with TTL 0.
type tunnelActor struct {
	j       *injector
	cf, cr  path // the client socket's two directions, for the whole session
	port    uint16
	started bool // the socket's first query went out (counts the flow)
	zone    []byte
	qbuf    []byte // reused name and answer buffers
	abuf    []byte
	up      [2]int // conversation index per forwarder
}

func (g *gen) startTunnel(j *injector) {
	res := g.w.resolver
	a := &tunnelActor{j: j, zone: wireName(strings.ToLower(j.in.Domain))}
	j.conv(j.src.ip4, res.ip4, protoUDP, 53)
	for k, u := range g.w.upDNS {
		a.up[k] = j.conv(res.ip4, g.w.ext[u].ip4, protoUDP, 53)
	}
	j.dns = &DNSMatch{Clients: []netip.Addr{netip.AddrFrom4(j.src.ip4), netip.AddrFrom4(res.ip4)}, Suffixes: []string{strings.ToLower(j.in.Domain)}}
	j.dstIPs = []netip.Addr{netip.AddrFrom4(res.ip4)}
	j.ports, j.proto, j.domain = []uint16{53}, "udp", strings.ToLower(j.in.Domain)
	j.desc = fmt.Sprintf("%s tunnels data through the resolver %v in TXT, NULL and CNAME queries for long base32 subdomains of %s, one query every %v on average for %v",
		j.src.name, j.dstIPs[0], j.domain, j.in.Interval, j.in.For)
	g.at(j.start, func(g *gen, now int64) {
		a.cf, a.cr = g.pathPairR(j.src, &g.w.resolver.node, false, j.r)
		a.port = j.src.ephemeral()
		j.srcPort(0, a.port)
		g.schedule(a, now)
	})
}

func (a *tunnelActor) fire(g *gen, now int64) int64 {
	j := a.j
	if now >= j.end {
		return -1
	}
	r := j.r
	// Two or three labels of 40–60 characters, within the 253 a name holds.
	q := a.qbuf[:0]
	room := 253 - (len(a.zone) - 2) - 1
	for n := 2 + r.IntN(2); n > 0 && room >= 41; n-- {
		l := min(40+r.IntN(21), room-1)
		q = append(q, byte(l))
		q = appendEncoded(q, r, base32Set, l)
		room -= l + 1
	}
	zone := len(q)
	q = append(q, a.zone...)
	var qt uint16
	ans := a.abuf[:0]
	switch x := r.IntN(10); {
	case x < 6:
		qt = dnsTypeTXT
		ans = appendEncoded(ans, r, base64Set, 4*(10+r.IntN(50)))
	case x < 8:
		qt = dnsTypeNULL
		ans = appendRand(ans, r, 20+r.IntN(300))
	default:
		qt = dnsTypeCNAME
		l := 30 + r.IntN(31)
		ans = appendEncoded(append(ans, byte(l)), r, base32Set, l)
	}
	a.qbuf, a.abuf = q, ans // the messages are copied into the script's arena
	s := g.newRaw(j.id)
	m := injMsg{id: uint16(r.Uint32()), qname: q, zone: zone, qtype: qt, edns: 4096, ans: ans}
	g.planExchange(j, s, now, &a.cf, &a.cr, a.port, !a.started, m, a.up)
	a.started = true
	g.startRaw(s)
	gap := int64(r.ExpFloat64() * float64(j.in.Interval))
	return now + max(gap, 200_000)
}

// planExchange plans one query of injector j's attacker through the
// resolver, which misses its cache and asks a forwarder: the client's
// query, the upstream query and answer, the resolver's answer. q holds the
// question and the answer data (q.resp unset); cf and cr are the client's
// legs from cport. ups are the conversation indexes of the upstream legs,
// per forwarder, that collect the resolver's source ports.
func (g *gen) planExchange(j *injector, s *rawUDP, t int64, cf, cr *path, cport uint16, newFlow bool, q injMsg, ups [2]int) {
	r := j.r
	w := &g.w
	res := w.resolver
	k := r.IntN(len(w.upDNS))
	up := &w.ext[w.upDNS[k]]
	s.paths[0], s.paths[1] = g.pathPairR(res, up, false, r)
	uport := res.ephemeral()
	j.srcPort(ups[k], uport)

	off := len(s.arena)
	s.arena = appendInjDNS(s.arena, &q)
	s.add(t, cf, cport, 53, off, rawQuery, newFlow)

	uq := q
	uq.id, uq.edns, uq.do = uint16(r.Uint32()), 1232, true
	tu := t + 80_000 + r.Int64N(150_000)
	off = len(s.arena)
	s.arena = appendInjDNS(s.arena, &uq)
	s.add(tu, &s.paths[0], uport, 53, off, rawQuery, true)

	kind := uint8(rawAnswer)
	if q.nx {
		kind = rawNXAnswer
	}
	ua := uq
	ua.resp, ua.ra = true, true
	tua := tu + up.rtt + r.Int64N(2e6)
	off = len(s.arena)
	s.arena = appendInjDNS(s.arena, &ua)
	s.add(tua, &s.paths[1], 53, uport, off, kind, false)

	ca := q
	ca.resp, ca.ra = true, true
	if ca.edns != 0 {
		ca.edns = 1232
	}
	off = len(s.arena)
	s.arena = appendInjDNS(s.arena, &ca)
	s.add(tua+30_000+r.Int64N(120_000), cr, 53, cport, off, kind, false)
}

// ---- exfil ----

// startExfil opens Conns TLS connections to the drop address a few
// seconds apart; each uploads its share in 1 MiB chunks, each answered by
// a small status record, paced so the upload spreads over the window (a
// throttled sync tool).
func (g *gen) startExfil(j *injector) {
	in := &j.in
	j.conv(j.src.ip4, j.dst.ip4, protoTCP, in.Port)
	j.dstIPs = []netip.Addr{netip.AddrFrom4(j.dst.ip4)}
	j.ports, j.proto, j.domain = []uint16{in.Port}, "tcp", in.Domain
	j.desc = fmt.Sprintf("%s uploads %d bytes to %v:%d (server name %s) over %d TLS connection(s) in %v",
		j.src.name, in.Bytes, j.dstIPs[0], in.Port, in.Domain, in.Conns, in.For)
	t := j.start
	for k := 0; k < in.Conns; k++ {
		share := in.Bytes / int64(in.Conns)
		if k == 0 {
			share += in.Bytes % int64(in.Conns)
		}
		g.at(t, func(g *gen, now int64) { g.exfilConn(j, now, share) })
		t += 1e9 + j.r.Int64N(8e9)
	}
}

const exfilChunk = 1 << 20

func (g *gen) exfilConn(j *injector, now int64, share int64) {
	r := j.r
	c := g.injConn(j, &j.dst, j.in.Port)
	g.planTLSHandshake(c, j.in.Domain, true)
	chunks := max(1, int((share+exfilChunk-1)/exfilChunk))
	slot := float64(j.in.For) / float64(chunks)
	for k := 0; k < chunks; k++ {
		n := int(min(exfilChunk, share-int64(k)*exfilChunk))
		delay := int64(20_000 + r.Int64N(200_000))
		if k > 0 {
			// Pause so that chunks start about one slot apart: the slot less
			// the time the last chunk took on the wire (a flight of at most
			// 64 segments per round trip, and the bottleneck).
			segs := exfilChunk/c.mss + 1
			busy := float64(c.rtt)*float64(segs/64+2) + float64(exfilChunk)*float64(c.nsByte)
			delay = max(delay, int64(slot*(0.8+0.4*r.Float64())-busy))
		}
		c.msg(0, mkTLS, len(c.arena), tlsWireLen(n), delay)
		c.msg(1, mkTLS, len(c.arena), tlsWireLen(30+r.IntN(40)), c.serverTurn(5e6+r.Int64N(30e6)))
	}
	c.close = closeClientFin
	c.idle = 100e6 + r.Int64N(900e6)
	g.schedule(c, now)
}

// ---- dga ----

// dgaActor looks up Count random-looking names under common TLDs through
// the resolver, as the OS resolver would (a new socket per query); all but
// the last answer NXDOMAIN. The last resolves to the live address, and the
// malware connects to it over TLS.
type dgaActor struct {
	j    *injector
	n    int
	up   [2]int
	cl   int // conversation index of the client legs
	name []byte
}

var dgaTLDs = []string{"com", "net", "org", "info", "biz", "ru", "top", "xyz"}

func (g *gen) startDGA(j *injector) {
	res := g.w.resolver
	a := &dgaActor{j: j}
	a.cl = j.conv(j.src.ip4, res.ip4, protoUDP, 53)
	for k, u := range g.w.upDNS {
		a.up[k] = j.conv(res.ip4, g.w.ext[u].ip4, protoUDP, 53)
	}
	j.conv(j.src.ip4, j.dst.ip4, protoTCP, 443)
	j.dns = &DNSMatch{Clients: []netip.Addr{netip.AddrFrom4(j.src.ip4), netip.AddrFrom4(res.ip4)}}
	j.dstIPs = []netip.Addr{netip.AddrFrom4(res.ip4), netip.AddrFrom4(j.dst.ip4)}
	j.ports, j.proto = []uint16{53, 443}, "udp,tcp"
	j.desc = fmt.Sprintf("%s looks up %d random names through the resolver %v, NXDOMAIN but the last, which resolves to %v; then it connects there over TLS",
		j.src.name, j.in.Count, res.ip4Addr(), j.dst.ip4Addr())
	g.schedule(a, j.start)
}

func (a *dgaActor) fire(g *gen, now int64) int64 {
	j := a.j
	r := j.r
	h := j.src
	// 8–20 letters and now and then a digit, under one of the TLDs; never
	// a name the background uses (so the labels stay exact).
	var q []byte
	var zone int
	var domain string
	for {
		n := 8 + r.IntN(13)
		q = append(a.name[:0], byte(n))
		for i := 0; i < n; i++ {
			if r.IntN(12) == 0 {
				q = append(q, byte('0'+r.IntN(10)))
			} else {
				q = append(q, byte('a'+r.IntN(26)))
			}
		}
		zone = len(q)
		tld := dgaTLDs[r.IntN(len(dgaTLDs))]
		q = append(q, byte(len(tld)))
		q = append(q, tld...)
		q = append(q, 0)
		a.name = q
		domain = string(q[1:zone]) + "." + tld
		if !slices.Contains(backgroundZones(), domain) {
			break
		}
	}
	j.dns.Suffixes = append(j.dns.Suffixes, domain)
	a.n++
	last := a.n == j.in.Count
	m := injMsg{id: uint16(r.Uint32()), qname: q, zone: zone, qtype: dnsTypeA, nx: !last, ttl: 900}
	if h.os != osWindows {
		m.edns = 1232
	}
	if last {
		m.ttl = 300
		m.ans = j.dst.ip4[:]
		j.domain = domain
	}
	s := g.newRaw(j.id)
	s.paths[2], s.paths[3] = g.pathPairR(h, &g.w.resolver.node, false, r)
	port := h.ephemeral()
	j.srcPort(a.cl, port)
	g.planExchange(j, s, now, &s.paths[2], &s.paths[3], port, true, m, a.up)
	answered := s.pk[len(s.pk)-1].at
	g.startRaw(s)
	if last {
		g.at(answered+30_000+r.Int64N(400_000), func(g *gen, now int64) {
			c := g.injConn(j, &j.dst, 443)
			g.planTLSHandshake(c, domain, false)
			c.msg(0, mkTLS, len(c.arena), tlsWireLen(300+r.IntN(200)), 20_000+r.Int64N(200_000))
			c.msg(1, mkTLS, len(c.arena), tlsWireLen(1000+r.IntN(4000)), c.serverTurn(5e6+r.Int64N(20e6)))
			c.close = closeClientFin
			c.idle = 50e6 + r.Int64N(2e9)
			g.schedule(c, now)
		})
		return -1
	}
	return now + max(int64(r.ExpFloat64()*float64(j.in.Interval)), 1e6)
}

func (n *node) ip4Addr() netip.Addr { return netip.AddrFrom4(n.ip4) }

// ---- lateral ----

// startLateral visits each victim in turn, 20–90 s apart: SMB reads from
// Windows workstations (their admin shares), SSH sessions on Linux and
// macOS ones.
func (g *gen) startLateral(j *injector) {
	ports := map[uint16]bool{}
	t := j.start
	for _, v := range j.victims {
		port := uint16(445)
		if v.os != osWindows {
			port = 22
		}
		ports[port] = true
		j.conv(j.src.ip4, v.ip4, protoTCP, port)
		j.dstIPs = append(j.dstIPs, v.ip4Addr())
		g.at(t, func(g *gen, now int64) {
			c := g.injConn(j, &v.node, port)
			if port == 445 {
				g.planSMB(c)
			} else {
				g.planSSH(c)
			}
			g.schedule(c, now)
		})
		t += 20e9 + j.r.Int64N(70e9)
	}
	for _, p := range []uint16{22, 445} {
		if ports[p] {
			j.ports = append(j.ports, p)
		}
	}
	j.proto = "tcp"
	j.desc = fmt.Sprintf("%s moves laterally to %d workstation(s): SMB reads from Windows admin shares, SSH sessions on Linux and macOS",
		j.src.name, len(j.victims))
}

// truth returns the injectors' activities as the run produced them.
func (g *gen) truth() Truth {
	var t Truth
	loc := time.UTC
	for _, j := range g.injs {
		a := Activity{
			ID: j.id, Kind: j.in.Kind, Description: j.desc,
			AttackerIP: j.src.ip4Addr(), AttackerHost: j.src.name,
			DstIPs: slices.Clone(j.dstIPs), Proto: j.proto, Ports: slices.Clone(j.ports), Domain: j.domain,
			Packets: j.packets, Bytes: j.bytes, Flows: j.flows,
			Params: j.in.params(),
		}
		if a.Description == "" {
			a.Description = fmt.Sprintf("%s: %s from %s (no traffic within the capture)", j.in.Kind, j.in, j.src.name)
		}
		if j.packets > 0 {
			a.Start, a.End = time.Unix(0, j.first).In(loc), time.Unix(0, j.last).In(loc)
		} else {
			a.Start = time.Unix(0, j.start).In(loc)
			a.End = a.Start
		}
		for _, c := range j.convs {
			c.SrcPorts = sortPorts(slices.Clone(c.SrcPorts))
			c.DstPorts = slices.Clone(c.DstPorts)
			a.Match.Conversations = append(a.Match.Conversations, c)
		}
		if j.dns != nil {
			d := &DNSMatch{Clients: slices.Clone(j.dns.Clients), Suffixes: slices.Clone(j.dns.Suffixes)}
			slices.Sort(d.Suffixes)
			d.Suffixes = slices.Compact(d.Suffixes)
			a.Match.DNS = d
		}
		t.Activities = append(t.Activities, a)
	}
	return t
}
