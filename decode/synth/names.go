package synth

import (
	"math/rand/v2"
	"strings"
)

// brands is the fixed outside world the office browses, most popular
// first. The companies are the usual fictional ones (Microsoft's sample
// companies, film and TV firms, a few invented services); every name maps to
// documentation address space (RFC 5737, RFC 3849), so nothing in a capture
// points at a real organisation. subs lists the host names under the apex
// ("@" is the apex itself), most used first.
var brands = []struct {
	apex string
	subs string
}{
	{"contoso.com", "www,login,api,cdn,static,img,mail,@"},
	{"fabrikam.com", "www,api,static,img,video,@"},
	{"chirper.social", "www,api,img,video,static"},
	{"streamflix-video.net", "www,video,api,img,static"},
	{"northwindtraders.com", "www,shop,api,static"},
	{"newsdaily24.com", "www,img,static,api,video"},
	{"docsbox.io", "www,api,files,login"},
	{"quickmail.io", "www,mail,api,static"},
	{"codeforge.dev", "www,api,raw,static"},
	{"woodgrovebank.com", "www,login,api,static"},
	{"weatherwise.io", "www,api,img"},
	{"photogram-cdn.com", "img,static,video"},
	{"adventure-works.com", "www,shop,img"},
	{"tailspintoys.com", "www,shop,static"},
	{"wingtiptoys.com", "www,shop"},
	{"hooli.com", "www,search,mail,api,docs,login"},
	{"piedpiper.net", "www,api,files"},
	{"initech.com", "www,portal,mail"},
	{"globex.com", "www,api,status"},
	{"litwareinc.com", "www,update,docs"},
	{"proseware.com", "www,update,telemetry"},
	{"fourthcoffee.com", "www,order,img"},
	{"cloudnotes.app", "www,api,sync"},
	{"linkedpro.net", "www,api,img,static"},
	{"jslib-cdn.org", "cdn,@"},
	{"fontvault.net", "fonts,static"},
	{"adtrack-exchange.com", "ads,pixel,sync"},
	{"metrics-beacon.net", "collect,api"},
	{"mapquestly.com", "www,tiles,api"},
	{"paywise.com", "www,checkout,api"},
	{"shopzilla-mart.com", "www,img,cart"},
	{"alpineskihouse.com", "www,booking"},
	{"blueyonderairlines.com", "www,checkin,api"},
	{"margiestravel.com", "www,img"},
	{"cohowinery.com", "www,shop"},
	{"lucernepublishing.com", "www,reader,static"},
	{"treyresearch.net", "www,data"},
	{"wideworldimporters.com", "www,portal"},
	{"humongousinsurance.com", "www,claims,login"},
	{"relecloud.com", "www,api,status,console"},
	{"southridgevideo.com", "www,video"},
	{"graphicdesigninstitute.com", "www,learn"},
	{"cyberdyne-systems.com", "www,update"},
	{"aperture-science.com", "www,portal"},
	{"massive-dynamic.com", "www,research"},
	{"tyrell-corp.com", "www,careers"},
	{"vandelay-industries.com", "www,import"},
	{"umbrella-corp.net", "www,intranet"},
	{"oscorp.net", "www,labs"},
	{"dunder-mifflin.com", "www,paper,orders"},
	{"planet-express.com", "www,track"},
	{"wonka-industries.com", "www,shop"},
	{"soylent.io", "www,api"},
	{"acme-corp.com", "www,catalog,support"},
	{"bluth-company.com", "www"},
	{"sterling-cooper.com", "www"},
	{"prestige-worldwide.com", "www"},
	{"monsters-inc.net", "www,energy"},
	{"los-pollos-hermanos.com", "www,order"},
	{"gekko-partners.com", "www,markets"},
}

// Mistyped or dead names: the resolver answers NXDOMAIN. They sit in the
// popularity list like any other name.
var nxNames = []string{
	"www.contsoo.com", "fabrikam.cmo", "wwww.hooli.com", "api.docsbox.oi",
	"static.newsdaily42.com", "old.initech-legacy.com", "cdn.jslib-cnd.org",
}

// CDNs that the CNAMEd names point into, each with a pool of addresses.
var cdns = []string{"edge.nimbuscdn.net", "g.swiftedge.net", "a.orbitcache.com"}

// Names of the internal zone, answered by the resolver itself (AA set).
const internalZone = "corp.internal"

// dname is one DNS name the model knows about.
type dname struct {
	text   string
	wire   []byte // uncompressed wire form, root label included
	apex   int    // offset in wire where the zone (registrable domain) starts
	brand  int    // index into brands; -1 for CNAME targets and internal names
	cname  int    // index of the CNAME target in world.names; -1 when none
	a      []int  // indexes into world.ext of the A answers
	aaaa   []int  // indexes into world.ext of the AAAA answers
	ttl    uint32
	nx     bool
	local  bool // internal zone: the resolver is authoritative
	host   int  // local names: index of the internal host in world.hosts
	quic   bool // the site also speaks QUIC on UDP/443
	http   bool // reached over plain HTTP/80 rather than TLS
	bigTXT bool // TXT answer exceeds 1232 bytes: UDP answers are truncated (TC) and the client retries over TCP
	mx     bool // apex with MX records
}

// wireName encodes a presentation name (no trailing dot) as DNS labels.
func wireName(s string) []byte {
	var b []byte
	for _, l := range strings.Split(s, ".") {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

// apexOffset returns the wire offset of zone inside the wire form of name.
func apexOffset(name, zone string) int {
	if !strings.HasSuffix(name, zone) {
		return 0
	}
	return len(name) - len(zone)
}

// newName builds a dname for text in zone.
func newName(text, zone string, brand int) dname {
	return dname{text: text, wire: wireName(text), apex: apexOffset(text, zone), brand: brand, cname: -1}
}

// popularNames returns the browsable names in popularity order: the first
// host of every brand, then the second of every brand, and so on, with the
// NXDOMAIN names spread through the tail. The order is part of the model,
// not of the seed.
func popularNames() []dname {
	var out []dname
	split := make([][]string, len(brands))
	maxSubs := 0
	for i, b := range brands {
		split[i] = strings.Split(b.subs, ",")
		maxSubs = max(maxSubs, len(split[i]))
	}
	for depth := 0; depth < maxSubs; depth++ {
		for i, b := range brands {
			if depth >= len(split[i]) {
				continue
			}
			text := b.apex
			if s := split[i][depth]; s != "@" {
				text = s + "." + b.apex
			}
			out = append(out, newName(text, b.apex, i))
		}
	}
	// Spread the NXDOMAIN names from rank 40 on, every 20 ranks.
	for k, s := range nxNames {
		zone := s[strings.IndexByte(s, '.')+1:]
		n := newName(s, zone, -1)
		n.nx = true
		at := min(40+20*k, len(out))
		out = append(out[:at], append([]dname{n}, out[at:]...)...)
	}
	return out
}

// worldRand is the fixed stream that shapes the outside world (TTLs,
// CNAMEs, addresses). It does not depend on Options.Seed: the same names
// resolve the same way in every capture, so documents can cite them.
func worldRand() *rand.Rand { return rand.New(rand.NewPCG(0x5f07c71, 0x9e3779b97f4a7c15)) }
