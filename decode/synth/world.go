package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

type role uint8

const (
	roleWorkstation role = iota
	roleResolver
	roleNTP
	roleFiles
	roleIntranet
	roleJump
	roleGateway
	roleExternal
)

type osKind uint8

const (
	osWindows osKind = iota
	osLinux
	osMac
)

// node is one IP endpoint as the capture sees it.
type node struct {
	role role
	os   osKind
	mac  [6]byte
	ip4  [4]byte
	ip6  [16]byte
	has6 bool
	vlan uint16 // access VLAN of an internal host; its frames are tagged on the trunk
	ttl  uint8  // TTL / hop limit of its packets at the capture point
	rtt  int64  // capture point ↔ node round trip (ns); internal hosts use a per-conversation LAN RTT
	near bool   // on the captured LAN (internal)
	name string // host name (internal) or "" (external)
}

// host is an internal node with its own behaviour: a random stream, a
// resolver cache, an ephemeral port allocator and a limit on concurrent
// sessions.
type host struct {
	node
	idx        int
	rng        *rand.Rand
	zipf       *rand.Zipf
	cache      []int64 // per name: local DNS cache expiry (ns); 0 = not cached
	portLo     uint16
	portHi     uint16
	nextPort   uint16
	portStride int
	active     int    // sessions in flight
	shift      int64  // the host's personal offset of the daily curve (ns)
	tsBase     uint32 // TCP timestamp clock offset
	echoID     uint16
}

// ephemeral returns the next local port. Windows hands ports out in
// sequence; Linux, macOS and the resolver look random. Both walk the whole
// range before repeating (a stride coprime with its size), so two live
// conversations of one host never share a 5-tuple.
func (h *host) ephemeral() uint16 {
	size := int(h.portHi - h.portLo)
	p := h.nextPort
	h.nextPort = h.portLo + uint16((int(p-h.portLo)+h.portStride)%size)
	return p
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Fixed internal addressing: one flat 10.20.0.0/16 LAN (gateway .0.1,
// servers in 10.20.1.0/24, workstations from 10.20.10.1) and fd00:20::/64 for
// the hosts that also speak IPv6.
var (
	gatewayIP4 = [4]byte{10, 20, 0, 1}
	serverIP4  = map[role][4]byte{
		roleResolver: {10, 20, 1, 53},
		roleNTP:      {10, 20, 1, 123},
		roleFiles:    {10, 20, 1, 45},
		roleIntranet: {10, 20, 1, 80},
		roleJump:     {10, 20, 1, 22},
	}
	serverName = map[role]string{
		roleResolver: "dns1",
		roleNTP:      "ntp",
		roleFiles:    "files",
		roleIntranet: "intranet",
		roleJump:     "jump",
	}
)

// serverRoles is the order of the fixed servers at the start of the host list.
var serverRoles = []role{roleResolver, roleNTP, roleFiles, roleIntranet, roleJump}

const (
	labVLAN  = 30 // every 16th workstation sits on a tagged lab VLAN
	maxHosts = 50000
)

// Workstation NIC vendors (OUIs) by OS, servers are virtual machines.
var (
	ouiWindows = [][3]byte{{0x3c, 0xd9, 0x2b}, {0x54, 0xee, 0x75}, {0x00, 0x14, 0x22}, {0x3c, 0xa9, 0xf4}}
	ouiLinux   = [][3]byte{{0x00, 0x14, 0x22}, {0x3c, 0xa9, 0xf4}}
	ouiMac     = [][3]byte{{0xa4, 0x83, 0xe7}, {0xf0, 0x18, 0x98}}
	ouiServer  = [3]byte{0x00, 0x50, 0x56}
	ouiGateway = [3]byte{0x00, 0x1b, 0x54}
)

func randMAC(r *rand.Rand, oui [3]byte) [6]byte {
	x := r.Uint32()
	return [6]byte{oui[0], oui[1], oui[2], byte(x >> 16), byte(x >> 8), byte(x)}
}

func ip6(prefix [8]byte, iid uint64) [16]byte {
	var a [16]byte
	copy(a[:8], prefix[:])
	for i := 0; i < 8; i++ {
		a[15-i] = byte(iid >> (8 * i))
	}
	return a
}

var (
	lanPrefix6   = [8]byte{0xfd, 0x00, 0x00, 0x20, 0, 0, 0, 0}
	docPrefix6   = [8]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0}
	upstreamDNS4 = [][4]byte{{192, 0, 2, 53}, {192, 0, 2, 54}}
	upstreamNTP4 = [][4]byte{{192, 0, 2, 123}, {192, 0, 2, 124}}
)

// world is the fixed network: internal hosts, the gateway, the outside
// endpoints and the DNS names that lead to them.
type world struct {
	names      []dname
	popular    int // names[:popular] are browsed, most popular first
	txt        map[int][]string
	ext        []node
	upDNS      []int // ext indexes of the resolver's forwarders
	upNTP      []int
	gateway    node
	hosts      []*host
	resolver   *host
	ntp        *host
	files      *host
	intranet   *host
	jump       *host
	local      map[role]int // role → name index of its internal name
	wpad       int          // name index of wpad.corp.internal (NXDOMAIN)
	update     [3]int       // per OS: name index of its update service
	brandNames [][]int      // per brand: indexes of its browsed names
	apexes     []int        // names that answer MX and TXT
}

func (w *world) addExt(ip4 [4]byte, v6 bool, ip6a [16]byte, r *rand.Rand, idx map[string]int) int {
	key := fmt.Sprint(ip4, v6, ip6a)
	if i, ok := idx[key]; ok {
		return i
	}
	initTTL := []uint8{64, 64, 64, 128, 255}[r.IntN(5)]
	n := node{
		role: roleExternal,
		ip4:  ip4,
		ip6:  ip6a,
		has6: v6,
		ttl:  initTTL - uint8(6+r.IntN(14)),
		rtt:  int64(4e6 + r.Float64()*r.Float64()*140e6),
	}
	w.ext = append(w.ext, n)
	idx[key] = len(w.ext) - 1
	return len(w.ext) - 1
}

// buildNames fills the fixed part of the world: names, answers, outside
// endpoints. It uses worldRand only, never the options' seed.
func (w *world) buildNames() {
	r := worldRand()
	idx := map[string]int{}
	w.txt = map[int][]string{}
	w.names = popularNames()
	w.popular = len(w.names)

	// CDN address pools: 8 IPv4 and 4 IPv6 addresses each in 203.0.113.0/24
	// and 2001:db8:cd00+k::/64.
	type pool struct{ a, aaaa []int }
	pools := make([]pool, len(cdns))
	for k := range cdns {
		for j := 0; j < 8; j++ {
			pools[k].a = append(pools[k].a, w.addExt([4]byte{203, 0, 113, byte(k*32 + j + 1)}, false, [16]byte{}, r, idx))
		}
		p6 := docPrefix6
		p6[4], p6[5] = 0xcd, byte(k)
		for j := 0; j < 4; j++ {
			pools[k].aaaa = append(pools[k].aaaa, w.addExt([4]byte{}, true, ip6(p6, uint64(j+1)), r, idx))
		}
	}
	next4 := 0 // direct sites take addresses from 198.51.100.1–254 in turn
	ttls := []uint32{60, 300, 300, 600, 1800, 3600, 3600, 14400, 86400}
	for i := 0; i < w.popular; i++ {
		n := &w.names[i]
		n.ttl = ttls[r.IntN(len(ttls))]
		if n.nx {
			n.ttl = 900 // negative TTL (SOA minimum)
			continue
		}
		isApex := n.apex == 0
		switch {
		case !isApex && r.Float64() < 0.35:
			k := r.IntN(len(cdns))
			t := newName(strings.ReplaceAll(n.text, ".", "-")+"."+cdns[k], cdns[k][strings.IndexByte(cdns[k], '.')+1:], -1)
			t.ttl = []uint32{20, 30, 60}[r.IntN(3)]
			off := r.IntN(8)
			for j := 0; j < 2+r.IntN(3); j++ {
				t.a = append(t.a, pools[k].a[(off+j)%8])
			}
			if r.Float64() < 0.6 {
				t.aaaa = append(t.aaaa, pools[k].aaaa[off%4], pools[k].aaaa[(off+1)%4])
			}
			w.names = append(w.names, t)
			n.cname = len(w.names) - 1
			n = &w.names[i] // append may have moved the slice
		default:
			for j := 0; j < 1+r.IntN(2); j++ {
				next4 = next4%254 + 1
				n.a = append(n.a, w.addExt([4]byte{198, 51, 100, byte(next4)}, false, [16]byte{}, r, idx))
			}
			if r.Float64() < 0.45 {
				p6 := docPrefix6
				p6[4], p6[5] = byte(n.brand>>8), byte(n.brand)
				n.aaaa = append(n.aaaa, w.addExt([4]byte{}, true, ip6(p6, uint64(1+r.IntN(0x200))), r, idx))
			}
		}
		n.quic = !isApex && r.Float64() < 0.2 && n.brand < 24
		n.http = r.Float64() < 0.06
	}
	// Every brand apex answers MX and TXT (mail lookups by the mail
	// gateway, SPF/verification checks). Apexes not browsed are added here.
	for b := range brands {
		apex := brands[b].apex
		ni := -1
		for i := 0; i < w.popular; i++ {
			if w.names[i].text == apex {
				ni = i
			}
		}
		if ni < 0 {
			n := newName(apex, apex, b)
			n.ttl = 3600
			w.names = append(w.names, n)
			ni = len(w.names) - 1
		}
		n := &w.names[ni]
		w.apexes = append(w.apexes, ni)
		n.mx = true
		n.bigTXT = r.Float64() < 0.12
		txt := []string{"v=spf1 include:_spf." + apex + " ip4:198.51.100.0/24 -all"}
		count := 1 + r.IntN(3)
		if n.bigTXT {
			count = 24 + r.IntN(8)
		}
		for j := 0; j < count; j++ {
			txt = append(txt, fmt.Sprintf("%s-verification=%s", []string{"site", "domain", "ms", "docusign", "atlassian"}[r.IntN(5)], token(r, 43)))
		}
		w.txt[ni] = txt
	}
	for _, a := range upstreamDNS4 {
		w.upDNS = append(w.upDNS, w.addExt(a, false, [16]byte{}, r, idx))
	}
	for _, a := range upstreamNTP4 {
		w.upNTP = append(w.upNTP, w.addExt(a, false, [16]byte{}, r, idx))
	}
	// The upstream services sit a few milliseconds away.
	for _, i := range append(append([]int{}, w.upDNS...), w.upNTP...) {
		w.ext[i].rtt = int64(6e6 + r.Float64()*20e6)
	}
	w.brandNames = make([][]int, len(brands))
	for i := 0; i < w.popular; i++ {
		if b := w.names[i].brand; b >= 0 && !w.names[i].nx {
			w.brandNames[b] = append(w.brandNames[b], i)
		}
	}
	w.update = [3]int{w.find("update.litwareinc.com"), w.find("update.cyberdyne-systems.com"), w.find("update.proseware.com")}
}

// token returns n characters of base64url-looking text.
func token(r *rand.Rand, n int) string {
	const set = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, n)
	for i := range b {
		b[i] = set[r.IntN(len(set))]
	}
	return string(b)
}

func (w *world) find(text string) int {
	for i := range w.names {
		if w.names[i].text == text {
			return i
		}
	}
	panic("synth: name " + text + " missing from the model") // a bug in the fixed tables, caught by every test
}

// buildHosts creates the internal hosts from the seed.
func (w *world) buildHosts(o *Options) {
	base := rand.New(rand.NewPCG(o.Seed, 0x6e6574)) // "net"
	w.gateway = node{role: roleGateway, mac: randMAC(base, ouiGateway), ip4: gatewayIP4, ip6: ip6(lanPrefix6, 1), has6: true, ttl: 64, near: true, name: "gw"}

	nws := o.Hosts - len(serverRoles)
	n6 := 0
	if o.IPv6Share > 0 {
		n6 = int(math.Ceil(o.IPv6Share * float64(nws)))
	}
	v6 := make([]bool, nws)
	for _, i := range base.Perm(nws)[:n6] {
		v6[i] = true
	}
	for i := 0; i < o.Hosts; i++ {
		h := &host{idx: i, rng: rand.New(rand.NewPCG(o.Seed, 0x686f7374<<20|uint64(i)))}
		r := h.rng
		h.near = true
		if i < len(serverRoles) {
			h.role = serverRoles[i]
			h.os = osLinux
			h.mac = randMAC(r, ouiServer)
			h.ip4 = serverIP4[h.role]
			h.name = serverName[h.role]
			h.has6 = n6 > 0 && (h.role == roleResolver || h.role == roleIntranet)
			h.ip6 = ip6(lanPrefix6, uint64(h.ip4[2])<<8|uint64(h.ip4[3]))
		} else {
			k := i - len(serverRoles)
			h.role = roleWorkstation
			switch x := r.Float64(); {
			case x < 0.7:
				h.os = osWindows
				h.mac = randMAC(r, ouiWindows[r.IntN(len(ouiWindows))])
			case x < 0.9:
				h.os = osLinux
				h.mac = randMAC(r, ouiLinux[r.IntN(len(ouiLinux))])
			default:
				h.os = osMac
				h.mac = randMAC(r, ouiMac[r.IntN(len(ouiMac))])
			}
			h.ip4 = [4]byte{10, 20, byte(10 + k/250), byte(k%250 + 1)}
			h.name = fmt.Sprintf("ws-%04d", k+1)
			h.has6 = v6[k]
			h.ip6 = ip6(lanPrefix6, r.Uint64()|1) // random (privacy) interface id
			if k%16 == 7 {
				h.vlan = labVLAN
			}
		}
		h.ttl = 64
		switch h.os {
		case osWindows:
			h.ttl = 128
			h.portLo, h.portHi = 49152, 65535
		case osLinux:
			h.portLo, h.portHi = 32768, 60999
		default:
			h.portLo, h.portHi = 49152, 65535
		}
		size := int(h.portHi - h.portLo)
		h.nextPort = h.portLo + uint16(r.IntN(size))
		h.portStride = 1
		if h.os != osWindows {
			for h.portStride = size/3 + r.IntN(size/3); gcd(h.portStride, size) != 1; h.portStride++ {
			}
		}
		h.shift = int64((r.Float64()*2 - 1) * 75 * 60 * 1e9)
		h.tsBase = r.Uint32()
		h.echoID = uint16(r.Uint32())
		h.cache = make([]int64, len(w.names))
		h.zipf = rand.NewZipf(r, 1.15, 2, uint64(w.popular-1))
		w.hosts = append(w.hosts, h)
		switch h.role {
		case roleResolver:
			w.resolver = h
		case roleNTP:
			w.ntp = h
		case roleFiles:
			w.files = h
		case roleIntranet:
			w.intranet = h
		case roleJump:
			w.jump = h
		}
	}
}

// buildLocal adds the names of the internal zone.
func (w *world) buildLocal() {
	w.local = map[role]int{}
	for _, rl := range serverRoles {
		n := newName(serverName[rl]+"."+internalZone, internalZone, -1)
		n.local = true
		n.ttl = 1200
		n.host = len(w.local) // servers are the first hosts, in serverRoles order
		w.names = append(w.names, n)
		w.local[rl] = len(w.names) - 1
	}
	n := newName("wpad."+internalZone, internalZone, -1)
	n.local, n.nx, n.ttl = true, true, 300
	w.names = append(w.names, n)
	w.wpad = len(w.names) - 1
}
