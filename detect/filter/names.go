package filter

import "strings"

// protoNames maps the protocol names accepted after "proto" to numbers
// (nfdump's common names plus IANA aliases).
var protoNames = map[string]uint64{
	"hopopt": 0, "icmp": 1, "igmp": 2, "ggp": 3, "ipip": 4, "ipencap": 4, "st": 5, "tcp": 6,
	"cbt": 7, "egp": 8, "igp": 9, "pup": 12, "udp": 17, "hmp": 20, "xns-idp": 22, "rdp": 27,
	"iso-tp4": 29, "dccp": 33, "xtp": 36, "ddp": 37, "idpr-cmtp": 38, "ipv6": 41, "ipv6-route": 43,
	"ipv6-frag": 44, "frag6": 44, "idrp": 45, "rsvp": 46, "gre": 47, "esp": 50, "ah": 51,
	"skip": 57, "icmp6": 58, "ipv6-icmp": 58, "icmpv6": 58, "ipv6-nonxt": 59, "ipv6-opts": 60,
	"rspf": 73, "vmtp": 81, "eigrp": 88, "ospf": 89, "ospfigp": 89, "ax.25": 93, "ipip4": 94,
	"etherip": 97, "encap": 98, "pim": 103, "ipcomp": 108, "vrrp": 112, "l2tp": 115,
	"isis": 124, "sctp": 132, "fc": 133, "mobility-header": 135, "udplite": 136,
	"mpls-in-ip": 137, "manet": 138, "hip": 139, "shim6": 140, "wesp": 141, "rohc": 142,
}

// protoName returns the canonical name of a protocol number for String, or "".
func protoName(n uint64) string {
	switch n {
	case 1:
		return "icmp"
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 47:
		return "gre"
	case 50:
		return "esp"
	case 51:
		return "ah"
	case 58:
		return "icmp6"
	case 132:
		return "sctp"
	}
	return ""
}

// qtypeNames maps DNS RR type mnemonics (RFC 1035 and the IANA registry) to
// numbers; matching is case-insensitive.
var qtypeNames = map[string]uint64{
	"a": 1, "ns": 2, "md": 3, "mf": 4, "cname": 5, "soa": 6, "mb": 7, "mg": 8, "mr": 9,
	"null": 10, "wks": 11, "ptr": 12, "hinfo": 13, "minfo": 14, "mx": 15, "txt": 16, "rp": 17,
	"afsdb": 18, "x25": 19, "isdn": 20, "rt": 21, "nsap": 22, "nsap-ptr": 23, "sig": 24,
	"key": 25, "px": 26, "gpos": 27, "aaaa": 28, "loc": 29, "nxt": 30, "srv": 33, "naptr": 35,
	"kx": 36, "cert": 37, "a6": 38, "dname": 39, "opt": 41, "apl": 42, "ds": 43, "sshfp": 44,
	"ipseckey": 45, "rrsig": 46, "nsec": 47, "dnskey": 48, "dhcid": 49, "nsec3": 50,
	"nsec3param": 51, "tlsa": 52, "smimea": 53, "hip": 55, "cds": 59, "cdnskey": 60,
	"openpgpkey": 61, "csync": 62, "zonemd": 63, "svcb": 64, "https": 65, "spf": 99,
	"tkey": 249, "tsig": 250, "ixfr": 251, "axfr": 252, "mailb": 253, "maila": 254,
	"any": 255, "*": 255, "uri": 256, "caa": 257, "ta": 32768, "dlv": 32769,
}

// rcodeNames maps DNS response code mnemonics (RFC 1035, 2136, 6895) to numbers.
var rcodeNames = map[string]uint64{
	"noerror": 0, "formerr": 1, "servfail": 2, "nxdomain": 3, "notimp": 4, "refused": 5,
	"yxdomain": 6, "yxrrset": 7, "nxrrset": 8, "notauth": 9, "notzone": 10, "dsotypeni": 11,
	"badvers": 16, "badsig": 16, "badkey": 17, "badtime": 18, "badmode": 19, "badname": 20,
	"badalg": 21, "badtrunc": 22, "badcookie": 23,
}

// numberName returns a canonical mnemonic for a value of a named table (the
// shortest, then alphabetically first name), or "".
func numberName(table map[string]uint64, n uint64) string {
	best := ""
	for name, v := range table {
		if v != n || name == "*" {
			continue
		}
		if best == "" || len(name) < len(best) || (len(name) == len(best) && name < best) {
			best = name
		}
	}
	return best
}

// primitives are the words that may start a term, for "did you mean".
var primitives = []string{
	"any", "ipv4", "ipv6", "inet", "inet6", "ip", "host", "net", "port", "proto", "flags",
	"packets", "bytes", "duration", "pps", "bps", "bpp", "first", "last", "icmp-type",
	"icmp-code", "vlan", "as", "tos", "mask", "in", "out", "if", "router", "exporter", "next",
	"src", "dst", "not", "qname", "qtype", "rcode", "client", "server", "response", "query",
	"score", "kind",
}

// suggest returns the closest word of cands to w within edit distance 2, or "".
func suggest(w string, cands []string) string {
	w = strings.ToLower(w)
	if len(w) > 64 {
		return ""
	}
	// Distance at most 2; on a tie a word the input is a prefix of wins
	// ("prot" suggests "proto" rather than "port").
	best, bestD := "", 6
	for _, c := range cands {
		d := 2 * editDistance(w, c)
		if strings.HasPrefix(c, w) {
			d--
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the optimal-string-alignment distance: insertions,
// deletions, substitutions and swaps of neighbours ("tpc" is 1 from "tcp").
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
