package synth

import (
	"math"
	"math/rand/v2"
	"time"
)

// hourly is the daily activity curve of people at work: the relative rate
// of user-driven sessions by local hour (weekdays), 1.0 at the busiest
// hour. It is interpolated between hour midpoints, shifted per host by up
// to ±75 minutes (people arrive and leave at different times) and scaled by
// weekendFactor on Saturdays and Sundays. Machine traffic (NTP polls,
// update checks) ignores it, which is what keeps nights from being silent.
var hourly = [24]float64{
	0.03, 0.02, 0.02, 0.02, 0.02, 0.04, // 00–05
	0.10, 0.30, 0.70, 0.95, 1.00, 0.95, // 06–11
	0.55, 0.85, 0.95, 0.95, 0.85, 0.60, // 12–17
	0.30, 0.18, 0.12, 0.09, 0.06, 0.04, // 18–23
}

const weekendFactor = 0.12

// curve returns the activity level (0..1] of host h at time now.
func (g *gen) curve(now int64, h *host) float64 {
	t := time.Unix(0, now-h.shift).In(g.o.Start.Location())
	x := float64(t.Hour()) + float64(t.Minute())/60 + float64(t.Second())/3600 - 0.5
	fl := math.Floor(x)
	i0 := (int(fl) + 24) % 24
	f := x - fl
	v := hourly[i0]*(1-f) + hourly[(i0+1)%24]*f
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		v *= weekendFactor
	}
	return v
}

// Rates of the background model.
const (
	userGap     = 75e9   // mean gap between a workstation user's sessions at the busiest hour (ns)
	ntpPoll     = 1024e9 // NTP poll interval of every host and of the NTP server upstream
	updateEvery = 3600e9 // mean interval of a host's update check
	maxActive   = 24     // sessions in flight per host; more wait (browser connection limits)
)

// userActor drives one workstation's user: a Poisson stream of candidate
// sessions at the peak rate, each kept with probability curve(now)
// (thinning), so the kept sessions follow the daily curve exactly.
type userActor struct{ h *host }

func (a *userActor) fire(g *gen, now int64) int64 {
	h := a.h
	if h.rng.Float64() < g.curve(now, h) && h.active < maxActive {
		g.userSession(h, now)
	}
	return now + int64(h.rng.ExpFloat64()*userGap) + 1
}

// timerActor is a host's periodic machine traffic.
type timerActor struct {
	h    *host
	kind uint8
}

const (
	timerNTP uint8 = iota
	timerUpdate
	timerNTPUpstream
)

func (a *timerActor) fire(g *gen, now int64) int64 {
	h := a.h
	r := h.rng
	switch a.kind {
	case timerNTP:
		if h.active < maxActive {
			g.ntpPoll(h, &g.w.ntp.node, now, false)
		}
		return now + int64(ntpPoll*(0.97+0.06*r.Float64()))
	case timerNTPUpstream:
		up := &g.w.ext[g.w.upNTP[r.IntN(len(g.w.upNTP))]]
		g.ntpPoll(h, up, now, true)
		return now + int64(ntpPoll*(0.97+0.06*r.Float64()))
	default:
		if h.active < maxActive {
			g.resolveThen(h, now, g.w.update[h.os], followUpdate)
		}
		return now + int64(updateEvery*(0.8+0.4*r.Float64()))
	}
}

// startBackground schedules every host's actors at random phases.
func (g *gen) startBackground() {
	g.resCache = make([]int64, len(g.w.names)*4)
	for _, h := range g.w.hosts {
		r := h.rng
		if h.role == roleWorkstation {
			g.schedule(&userActor{h: h}, g.start+int64(r.ExpFloat64()*userGap))
		}
		if h.role != roleNTP {
			g.schedule(&timerActor{h: h, kind: timerNTP}, g.start+r.Int64N(int64(ntpPoll)))
		} else {
			g.schedule(&timerActor{h: h, kind: timerNTPUpstream}, g.start+r.Int64N(int64(ntpPoll)))
		}
		if h.role == roleWorkstation || h.role == roleJump || h.role == roleFiles {
			g.schedule(&timerActor{h: h, kind: timerUpdate}, g.start+r.Int64N(int64(updateEvery)))
		}
	}
}

// pathPair returns both directions between internal host h and peer n.
func (g *gen) pathPair(h *host, n *node, six bool) (fwd, rev path) {
	return g.pathPairR(h, n, six, h.rng)
}

// pathPairR is pathPair drawing the IP IDs and flow labels from r.
func (g *gen) pathPairR(h *host, n *node, six bool, r *rand.Rand) (fwd, rev path) {
	fwd.srcMAC = h.mac
	if n.near {
		fwd.dstMAC = n.mac
	} else {
		fwd.dstMAC = g.w.gateway.mac
	}
	fwd.vlan = h.vlan
	fwd.v6 = six
	if six {
		fwd.src, fwd.dst = h.ip6, n.ip6
	} else {
		copy(fwd.src[12:], h.ip4[:])
		copy(fwd.dst[12:], n.ip4[:])
	}
	rev = fwd.reverse()
	fwd.ttl, rev.ttl = h.ttl, n.ttl
	fwd.ipid, rev.ipid = uint16(r.Uint32()), uint16(r.Uint32())
	if six {
		fwd.flowLabel, rev.flowLabel = r.Uint32()&0xfffff, r.Uint32()&0xfffff
	}
	return fwd, rev
}

// userSession starts one user-driven session on workstation h.
func (g *gen) userSession(h *host, now int64) {
	r := h.rng
	w := &g.w
	x := r.Float64()
	switch {
	case x < 0.66:
		g.visit(h, now)
	case x < 0.74:
		g.resolveThen(h, now, w.local[roleIntranet], followIntranet)
	case x < 0.81:
		g.resolveThen(h, now, w.local[roleFiles], followSMB)
	case x < 0.83:
		if h.os != osWindows || r.IntN(4) == 0 {
			g.resolveThen(h, now, w.local[roleJump], followSSH)
		}
	case x < 0.86:
		g.ping(h, now)
	case x < 0.93:
		g.dnsOnly(h, now)
	case x < 0.94:
		// WPAD auto-discovery: NXDOMAIN from the internal zone.
		g.lookup(h, now, w.wpad, -1, []uint16{dnsTypeA}, follow{})
	default:
		g.visit(h, now)
	}
}

// visit browses one site: its main name, then up to three other names
// of the same brand (page resources), each resolved and fetched.
func (g *gen) visit(h *host, now int64) {
	r := h.rng
	name := int(h.zipf.Uint64())
	g.resolveThen(h, now, name, followWeb)
	b := g.w.names[name].brand
	if b < 0 {
		return
	}
	rel := g.w.brandNames[b]
	t := now
	for k := r.IntN(4); k > 0 && len(rel) > 1; k-- {
		t += 50e6 + r.Int64N(900e6)
		if o := rel[r.IntN(len(rel))]; o != name {
			g.resolveThen(h, t, o, followWeb)
		}
	}
}

// dnsOnly is a lookup nobody connects after: reverse lookups of colleagues'
// machines, mail and SPF/verification records.
func (g *gen) dnsOnly(h *host, now int64) {
	r := h.rng
	w := &g.w
	switch x := r.IntN(10); {
	case x < 3:
		g.lookup(h, now, -1, r.IntN(len(w.hosts)), []uint16{dnsTypePTR}, follow{})
	case x < 6:
		g.lookup(h, now, w.apexes[r.IntN(len(w.apexes))], -1, []uint16{dnsTypeMX}, follow{})
	default:
		g.lookup(h, now, w.apexes[r.IntN(len(w.apexes))], -1, []uint16{dnsTypeTXT}, follow{})
	}
}

// resolveThen looks name up unless the host's cache still holds it, then
// starts the follow-up.
func (g *gen) resolveThen(h *host, at int64, name int, kind uint8) {
	r := h.rng
	if h.cache[name] > at {
		g.startFollow(h, at, follow{kind: kind, name: name, rot: r.IntN(4), six: g.prefer6(h, name)})
		return
	}
	qt := []uint16{dnsTypeA}
	if h.has6 || r.IntN(10) == 0 {
		qt = append(qt, dnsTypeAAAA)
	}
	g.lookup(h, at, name, -1, qt, follow{kind: kind, name: name})
}

// prefer6 says whether h connects to name over IPv6 (happy eyeballs
// usually wins for IPv6 when both families answer).
func (g *gen) prefer6(h *host, name int) bool {
	if !h.has6 {
		return false
	}
	d := &g.w.names[name]
	if d.local {
		return g.w.hosts[d.host].has6 && h.rng.IntN(10) < 7
	}
	if d.cname >= 0 {
		d = &g.w.names[d.cname]
	}
	return len(d.aaaa) > 0 && h.rng.IntN(10) < 7
}

// cacheKey indexes the resolver cache: one slot per name and query type.
func cacheKey(name int, qt uint16) int {
	k := 0
	switch qt {
	case dnsTypeAAAA:
		k = 1
	case dnsTypeMX:
		k = 2
	case dnsTypeTXT:
		k = 3
	}
	return name*4 + k
}

// lookup plans a DNS exchange of h with the internal resolver: one query
// per qtype (A and AAAA go out together), the resolver's upstream query on a
// cache miss, and the answers; then starts then.
func (g *gen) lookup(h *host, at int64, name, ptr int, qtypes []uint16, then follow) {
	w := &g.w
	r := h.rng
	res := w.resolver
	rr := res.rng
	s := g.newScript(h)
	six := h.has6 && res.has6 && r.IntN(2) == 0
	cf, cr := g.pathPair(h, &res.node, six)
	pc, ps := s.addPath(cf), s.addPath(cr)
	var edns uint16
	if h.os != osWindows {
		edns = 1232
	}
	sameSock := h.os != osWindows // glibc sends A and AAAA from one socket
	port := h.ephemeral()
	t := at
	var last int64
	for k, qt := range qtypes {
		if k > 0 {
			t += 15_000 + r.Int64N(150_000)
			if !sameSock {
				port = h.ephemeral()
			}
		}
		q := dnsMsg{id: uint16(r.Uint32()), name: name, ptr: ptr, qtype: qt, rd: true, edns: edns}
		s.add(spkt{at: t, kind: spDNS, path: pc, sport: port, dport: 53, newFlow: k == 0 || !sameSock, dns: q})
		resp := q
		resp.resp, resp.ra = true, true
		tr := t + 60_000 + r.Int64N(250_000)
		switch {
		case name < 0 || w.names[name].local:
			resp.aa = true
			resp.ttl = 1200
			if name >= 0 {
				resp.ttl = w.names[name].ttl
			}
		case qt == dnsTypeTXT && w.names[name].bigTXT:
			// Kept warm by the mail gateway's SPF checks: always cached.
			ttl := int64(w.names[name].ttl)
			resp.ttl = uint32(ttl - (t/1e9)%ttl)
			resp.tc = true
			then = follow{kind: followDNSTCP, name: name, msg: q}
		default:
			key := cacheKey(name, qt)
			if exp := g.resCache[key]; exp > t {
				resp.ttl = uint32((exp - t + 1e9 - 1) / 1e9)
				resp.rot = rr.IntN(4)
				break
			}
			up := &w.ext[w.upDNS[rr.IntN(len(w.upDNS))]]
			uf, ur := g.pathPair(res, up, false)
			pu, pd := s.addPath(uf), s.addPath(ur)
			uport := res.ephemeral()
			uq := dnsMsg{id: uint16(rr.Uint32()), name: name, qtype: qt, rd: true, edns: 1232, do: true}
			tu := t + 80_000 + rr.Int64N(150_000)
			s.add(spkt{at: tu, kind: spDNS, path: pu, sport: uport, dport: 53, newFlow: true, dns: uq})
			ua := uq
			ua.resp, ua.ra = true, true
			ua.ttl = w.names[name].ttl
			ua.rot = rr.IntN(4)
			tua := tu + up.rtt + rr.Int64N(2e6)
			s.add(spkt{at: tua, kind: spDNS, path: pd, sport: 53, dport: uport, dns: ua})
			g.resCache[key] = tua + int64(ua.ttl)*1e9
			resp.ttl, resp.rot = ua.ttl, ua.rot
			tr = tua + 30_000 + r.Int64N(120_000)
		}
		s.add(spkt{at: tr, kind: spDNS, path: ps, sport: 53, dport: port, dns: resp})
		if qt == dnsTypeA {
			then.rot = resp.rot
			if name >= 0 {
				h.cache[name] = tr + int64(resp.ttl)*1e9
			}
		}
		last = max(last, tr)
	}
	if name >= 0 && w.names[name].nx {
		then.kind = followNone
	}
	if then.kind != followNone && then.kind != followDNSTCP {
		then.six = g.prefer6(h, name)
	}
	s.then = then
	_ = last
	g.startScript(s)
}

// ntpPoll plans one NTP request and reply between h and server n.
func (g *gen) ntpPoll(h *host, n *node, at int64, upstream bool) {
	r := h.rng
	s := g.newScript(h)
	f, b := g.pathPair(h, n, false)
	pf, pb := s.addPath(f), s.addPath(b)
	port := uint16(123) // ntpd and chrony use 123 as source port; Windows too
	if h.os == osMac {
		port = h.ephemeral()
	}
	rtt := n.rtt
	if n.near {
		rtt = 150_000 + r.Int64N(400_000)
	}
	s.add(spkt{at: at, kind: spNTP, path: pf, sport: port, dport: 123, newFlow: true})
	reply := spkt{at: at + rtt, kind: spNTP, path: pb, sport: 123, dport: port, ntpServer: true, ntpOrigin: at, ntpRef: at - r.Int64N(int64(ntpPoll)), stratum: 3}
	if upstream {
		reply.stratum = 2
		reply.refID = [4]byte{'G', 'P', 'S', 0}
	} else {
		up := &g.w.ext[g.w.upNTP[0]]
		reply.refID = up.ip4
	}
	s.add(reply)
	g.startScript(s)
}

// ping plans an echo session: the gateway, a server or an outside address.
func (g *gen) ping(h *host, at int64) {
	r := h.rng
	w := &g.w
	var n *node
	switch x := r.IntN(10); {
	case x < 3:
		n = &w.gateway
	case x < 6:
		n = &w.hosts[r.IntN(len(serverRoles))].node
	default:
		n = &w.ext[r.IntN(len(w.ext))]
	}
	six := h.has6 && n.has6 && (n.ip4 == [4]byte{} || r.IntN(2) == 0)
	if !six && n.ip4 == [4]byte{} {
		return // an IPv6-only outside address and an IPv4-only host
	}
	s := g.newScript(h)
	f, b := g.pathPair(h, n, six)
	pf, pb := s.addPath(f), s.addPath(b)
	rtt := n.rtt
	if n.near {
		rtt = 200_000 + r.Int64N(600_000)
	}
	count, size := 4, 32
	if h.os != osWindows || six {
		count, size = 3+r.IntN(8), 56
	}
	req, rep := uint8(8), uint8(0)
	if six {
		req, rep = 128, 129
	}
	h.echoID++
	t := at
	for i := 0; i < count; i++ {
		s.add(spkt{at: t, kind: spEcho, path: pf, newFlow: i == 0, echoType: req, echoID: h.echoID, echoSeq: uint16(i + 1), echoLen: size})
		s.add(spkt{at: t + rtt + r.Int64N(rtt/10+1), kind: spEcho, path: pb, echoType: rep, echoID: h.echoID, echoSeq: uint16(i + 1), echoLen: size})
		t += 1e9 + r.Int64N(2e6)
	}
	g.startScript(s)
}
