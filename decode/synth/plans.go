package synth

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
)

// startFollow starts the conversation a lookup (or a cache hit) was for.
func (g *gen) startFollow(h *host, at int64, f follow) {
	w := &g.w
	r := h.rng
	if f.kind == followDNSTCP {
		c := g.newConn(h, &w.resolver.node, h.has6 && w.resolver.has6 && r.IntN(2) == 0, 53)
		g.planDNSTCP(c, at, f.msg)
		g.schedule(c, at)
		return
	}
	d := &w.names[f.name]
	if d.nx {
		return
	}
	var srv *node
	if d.local {
		srv = &w.hosts[d.host].node
	} else {
		t := d
		if t.cname >= 0 {
			t = &w.names[t.cname]
		}
		if f.six && len(t.aaaa) > 0 {
			srv = &w.ext[t.aaaa[f.rot%len(t.aaaa)]]
		} else {
			srv = &w.ext[t.a[f.rot%len(t.a)]]
		}
	}
	six := f.six && srv.has6
	if six && !h.has6 {
		six = false
	}
	if !six && srv.ip4 == [4]byte{} {
		return
	}
	switch f.kind {
	case followWeb, followUpdate:
		if f.kind == followWeb && d.quic && r.IntN(2) == 0 {
			q := g.newQUIC(h, srv, six, d.text)
			g.schedule(q, at)
			return
		}
		conns := 1
		if f.kind == followWeb && r.IntN(10) < 3 {
			conns = 2 // browsers open a second connection for parallel fetches
		}
		for i := 0; i < conns; i++ {
			port := uint16(443)
			if d.http {
				port = 80
			}
			c := g.newConn(h, srv, six, port)
			if d.http {
				g.planHTTP(c, at, d.text, f.kind == followUpdate)
			} else {
				g.planHTTPS(c, d.text, f.kind == followUpdate)
			}
			g.schedule(c, at+int64(i)*(2e6+r.Int64N(30e6)))
		}
	case followIntranet:
		if r.IntN(100) == 0 {
			// An old bookmark to a retired service port: refused.
			c := g.newConn(h, srv, six, 8443)
			c.refused = true
			g.schedule(c, at)
			return
		}
		if r.IntN(4) == 0 {
			c := g.newConn(h, srv, six, 80)
			g.planHTTP(c, at, d.text, false)
			g.schedule(c, at)
			return
		}
		c := g.newConn(h, srv, six, 443)
		g.planHTTPS(c, d.text, false)
		g.schedule(c, at)
	case followSMB:
		c := g.newConn(h, srv, six, 445)
		g.planSMB(c)
		g.schedule(c, at)
	case followSSH:
		c := g.newConn(h, srv, six, 22)
		g.planSSH(c)
		g.schedule(c, at)
	}
}

// newConn returns a connection from h to srv:dport in state SYN with an
// empty plan. The server side is a Linux box (inside or out).
func (g *gen) newConn(h *host, srv *node, six bool, dport uint16) *tcpConn {
	c := g.allocConn()
	c.h = h
	h.active++
	g.initConn(c, h, h.rng, srv, six, dport)
	return c
}

// allocConn returns a reset connection from the free list.
func (g *gen) allocConn() *tcpConn {
	var c *tcpConn
	if n := len(g.conns); n > 0 {
		c = g.conns[n-1]
		g.conns = g.conns[:n-1]
	} else {
		c = &tcpConn{}
	}
	msgs, arena := c.msgs[:0], c.arena[:0]
	*c = tcpConn{msgs: msgs, arena: arena}
	return c
}

// initConn sets c up as a connection from h to srv:dport with every
// random choice drawn from r: addressing, sequence numbers, OS-typical
// windows and a close mode.
func (g *gen) initConn(c *tcpConn, h *host, r *rand.Rand, srv *node, six bool, dport uint16) {
	c.rng = r
	c.p[0], c.p[1] = g.pathPairR(h, srv, six, r)
	c.port = [2]uint16{h.ephemeral(), dport}
	c.seq = [2]uint32{r.Uint32(), r.Uint32()}
	c.os = [2]osKind{h.os, osLinux}
	c.near = [2]bool{true, srv.near}
	c.useTS = h.os != osWindows
	c.tsBase = [2]uint32{h.tsBase, r.Uint32()}
	c.mss = 1460
	if six {
		c.mss = 1440
	}
	if c.useTS {
		c.mss -= 12
	}
	if srv.near {
		c.rtt = 150_000 + r.Int64N(650_000)
		c.nsByte = 8 // 1 Gbit/s LAN
	} else {
		c.rtt = srv.rtt
		c.nsByte = int64(40 + r.IntN(360)) // 20–200 Mbit/s bottleneck
	}
	switch h.os {
	case osWindows:
		c.synWin[0], c.wscale[0], c.win[0] = 64240, 8, 1026
	case osMac:
		c.synWin[0], c.wscale[0], c.win[0] = 65535, 6, 2058
	default:
		c.synWin[0], c.wscale[0], c.win[0] = 64240, 7, 501
	}
	c.synWin[1], c.wscale[1], c.win[1] = 65160, 7, 509
	if six {
		c.synWin[1] = 64800
	}
	// How it ends: servers time idle keep-alive connections out; clients
	// close or, when a tab goes away, reset.
	switch x := r.IntN(100); {
	case x < 45:
		c.close = closeServerFin
		c.idle = 5e9 + r.Int64N(60e9)
	case x < 82:
		c.close = closeClientFin
		c.idle = 50e6 + r.Int64N(15e9)
	case x < 97:
		c.close = closeClientRst
		c.idle = 10e6 + r.Int64N(5e9)
	default:
		c.close = closeServerRst
		c.idle = 1e9 + r.Int64N(20e9)
	}
}

func (g *gen) freeConn(c *tcpConn) {
	c.h, c.rng = nil, nil
	g.conns = append(g.conns, c)
}

// msg appends a message whose prefix is arena[pre:] (already appended) and
// whose total length is pre-length + body.
func (c *tcpConn) msg(dir uint8, kind msgKind, pre, body int, delay int64) {
	c.msgs = append(c.msgs, message{dir: dir, kind: kind, pre: pre, end: len(c.arena), n: len(c.arena) - pre + body, delay: max(delay, 1000), fill: int(c.rng.Uint32())})
}

// serverTurn is the delay before the server's answer starts, after the
// client's message ended: the round trip plus processing time.
func (c *tcpConn) serverTurn(proc int64) int64 { return c.rtt + proc }

// think is a user's or application's pause before the next request.
func think(r *rand.Rand, median float64, sigma float64) int64 {
	return int64(median * math.Exp(sigma*r.NormFloat64()))
}

// respSize draws an HTTP response body size: log-normal around 5 KB with a
// heavy tail, plus rare large downloads; capped at 40 MB.
func respSize(r *rand.Rand, update bool) int {
	if update {
		if r.IntN(100) == 0 {
			return 2e6 + r.IntN(38e6)
		}
		return 300 + r.IntN(3000)
	}
	if r.IntN(5000) == 0 {
		return 1e6 + r.IntN(20e6)
	}
	return min(40e6, 200+int(5000*math.Exp(1.4*r.NormFloat64())))
}

// planHTTPS plans a TLS 1.3 session: handshake, then one or more
// request/response exchanges in application-data records.
func (g *gen) planHTTPS(c *tcpConn, sni string, update bool) {
	r := c.rng
	g.planTLSHandshake(c, sni, !update)
	n := 1 + int(r.ExpFloat64()*1.5)
	if update {
		n = 1
	}
	n = min(n, 12)
	for i := 0; i < n; i++ {
		delay := int64(20_000 + r.Int64N(200_000))
		if i > 0 {
			delay = think(r, 300e6, 1.2)
		}
		c.msg(0, mkTLS, len(c.arena), tlsWireLen(250+r.IntN(1200)), delay)
		c.msg(1, mkTLS, len(c.arena), tlsWireLen(respSize(r, update)), c.serverTurn(think(r, 8e6, 1)))
	}
}

// planTLSHandshake plans a TLS 1.3 handshake: ClientHello with sni,
// ServerHello and the encrypted server flight, the client's Finished.
func (g *gen) planTLSHandshake(c *tcpConn, sni string, alpnH2 bool) {
	r := c.rng
	pre := len(c.arena)
	var sid []byte
	c.arena, sid = appendClientHello(c.arena, r, sni, alpnH2)
	c.msg(0, mkRaw, pre, 0, 30_000+r.Int64N(300_000))
	var sidCopy [32]byte
	copy(sidCopy[:], sid)
	pre = len(c.arena)
	c.arena = appendServerHello(c.arena, r, sidCopy[:])
	c.msg(1, mkTLS, pre, tlsWireLen(2400+r.IntN(2800)), c.serverTurn(500_000+r.Int64N(4e6)))
	pre = len(c.arena)
	c.arena = append(c.arena, 0x14, 3, 3, 0, 1, 1) // ChangeCipherSpec, then Finished
	c.msg(0, mkTLS, pre, tlsWireLen(53), 50_000+r.Int64N(500_000))
}

// planHTTP plans plain HTTP/1.1 keep-alive requests.
func (g *gen) planHTTP(c *tcpConn, at int64, hostName string, update bool) {
	r := c.rng
	n := 1 + int(r.ExpFloat64())
	if update {
		n = 1
	}
	n = min(n, 8)
	for i := 0; i < n; i++ {
		delay := int64(20_000 + r.Int64N(200_000))
		if i > 0 {
			delay = think(r, 300e6, 1.2)
		}
		pre := len(c.arena)
		c.arena = appendHTTPRequest(c.arena, r, hostName, c.os[0])
		c.msg(0, mkRaw, pre, 0, delay)
		turn := c.serverTurn(think(r, 8e6, 1))
		size := respSize(r, update)
		pre = len(c.arena)
		// The Date header: the connection's start is close enough.
		c.arena = appendHTTPResponseHead(c.arena, at, size)
		c.msg(1, mkRaw, pre, size, turn)
	}
}

// planSMB plans a file read from the file server: sequential 64 KiB SMB2
// READs on an existing session (the session setup happened on an earlier
// connection that this capture does not hold).
func (g *gen) planSMB(c *tcpConn) {
	r := c.rng
	size := min(64<<20, 4096+int(30e3*math.Exp(1.5*r.NormFloat64())))
	var fid [16]byte
	for i := range fid {
		fid[i] = byte(r.Uint32())
	}
	tree, session := r.Uint32()&0xffff|1, r.Uint64()|1
	msgID := uint64(2 + r.IntN(50))
	for off := 0; off < size; off += 65536 {
		n := min(65536, size-off)
		delay := int64(30_000 + r.Int64N(150_000))
		if off == 0 {
			delay = 100_000 + r.Int64N(2e6)
		}
		pre := len(c.arena)
		c.arena = appendSMB2ReadRequest(c.arena, msgID, tree, session, fid, uint64(off), n)
		c.msg(0, mkRaw, pre, 0, delay)
		pre = len(c.arena)
		c.arena = appendSMB2ReadResponseHead(c.arena, msgID, tree, session, n)
		c.msg(1, mkRaw, pre, n, c.serverTurn(50_000+r.Int64N(500_000)))
		msgID++
	}
	c.close = closeClientFin
	c.idle = 1e9 + r.Int64N(30e9)
}

// planSSH plans an interactive SSH session: version exchange, key exchange
// in the clear, then encrypted keystrokes, echoes and command output.
func (g *gen) planSSH(c *tcpConn) {
	r := c.rng
	lan := c.rtt
	pre := len(c.arena)
	c.arena = append(c.arena, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"...)
	c.msg(1, mkRaw, pre, 0, lan+r.Int64N(2e6))
	pre = len(c.arena)
	if c.os[0] == osWindows {
		c.arena = append(c.arena, "SSH-2.0-PuTTY_Release_0.81\r\n"...)
	} else {
		c.arena = append(c.arena, "SSH-2.0-OpenSSH_9.6\r\n"...)
	}
	c.arena = appendKexInit(c.arena, r, false)
	c.msg(0, mkRaw, pre, 0, 100_000+r.Int64N(1e6))
	pre = len(c.arena)
	c.arena = appendKexInit(c.arena, r, true)
	c.msg(1, mkRaw, pre, 0, lan)
	pre = len(c.arena)
	c.arena = appendKexECDHInit(c.arena, r)
	c.msg(0, mkRaw, pre, 0, 200_000+r.Int64N(1e6))
	pre = len(c.arena)
	c.arena = appendKexECDHReply(c.arena, r)
	c.msg(1, mkRaw, pre, 0, lan+1e6+r.Int64N(3e6))
	pre = len(c.arena)
	c.arena = appendNewKeys(c.arena, r)
	c.msg(0, mkRaw, pre, 68, 200_000+r.Int64N(1e6)) // NEWKEYS + encrypted SERVICE_REQUEST
	c.msg(1, mkRaw, len(c.arena), 68, lan)          // SERVICE_ACCEPT
	c.msg(0, mkRaw, len(c.arena), 420, 1e6+r.Int64N(5e6))
	c.msg(1, mkRaw, len(c.arena), 36, lan+r.Int64N(3e6))
	c.msg(0, mkRaw, len(c.arena), 132, 1e6) // channel open, pty, shell
	c.msg(1, mkRaw, len(c.arena), 800+r.IntN(1500), lan+5e6+r.Int64N(40e6))
	keys := 20 + r.IntN(300)
	for i := 0; i < keys; i++ {
		c.msg(0, mkRaw, len(c.arena), 36, think(r, 180e6, 0.8))
		if r.IntN(12) == 0 {
			// Enter: the command's output.
			c.msg(1, mkRaw, len(c.arena), 36+int(400*math.Exp(1.5*r.NormFloat64())), lan+r.Int64N(20e6))
		} else {
			c.msg(1, mkRaw, len(c.arena), 36, lan+r.Int64N(300_000))
		}
	}
	c.close = closeClientFin
	c.idle = 100e6 + r.Int64N(2e9)
}

// planDNSTCP plans the retry of a truncated answer over TCP: one query
// and one answer, each with its 2-byte length prefix.
func (g *gen) planDNSTCP(c *tcpConn, at int64, q dnsMsg) {
	r := c.rng
	q.id = uint16(r.Uint32())
	pre := len(c.arena)
	c.arena = append(c.arena, 0, 0)
	c.arena = g.appendDNS(c.arena, &q)
	binary.BigEndian.PutUint16(c.arena[pre:], uint16(len(c.arena)-pre-2))
	c.msg(0, mkRaw, pre, 0, 20_000+r.Int64N(100_000))
	c.msgs[len(c.msgs)-1].dns = dnsQueryMsg
	a := q
	a.resp, a.ra = true, true
	a.edns = 0
	if q.edns != 0 {
		a.edns = 1232
	}
	ttl := int64(g.w.names[q.name].ttl)
	a.ttl = uint32(ttl - (at/1e9)%ttl)
	pre = len(c.arena)
	c.arena = append(c.arena, 0, 0)
	c.arena = g.appendDNS(c.arena, &a)
	binary.BigEndian.PutUint16(c.arena[pre:], uint16(len(c.arena)-pre-2))
	c.msg(1, mkRaw, pre, 0, c.serverTurn(50_000+r.Int64N(200_000)))
	c.msgs[len(c.msgs)-1].dns = dnsAnswerMsg
	c.close = closeClientFin
	c.idle = 20_000 + r.Int64N(200_000)
}
