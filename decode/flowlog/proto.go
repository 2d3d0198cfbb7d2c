package flowlog

// nfdumpProtos is nfdump's protocol name table (src/lib/output_util.c,
// protoList): index = IP protocol number. nfdump prints these names in its
// CSV (and Spot's fork strips the spaces); numbers at and above its length
// are printed as digits. Some entries are digits too ("0", "99", "128",
// "134"). Two names occur twice (IDPR 35/38, and IPIP is 4 while 94 is
// "OS"); like nfdump's own ProtoNum, the lowest number wins.
var nfdumpProtos = [...]string{
	"0", "ICMP", "IGMP", "GGP", "IPIP", "ST", "TCP", "CBT", "EGP", "IGP",
	"BBN", "NVPII", "PUP", "ARGUS", "ENCOM", "XNET", "CHAOS", "UDP", "MUX", "DCN",
	"HMP", "PRM", "XNS", "Trnk1", "Trnk2", "Leaf1", "Leaf2", "RDP", "IRTP", "ISO-4",
	"NETBK", "MFESP", "MEINP", "DCCP", "3PC", "IDPR", "XTP", "DDP", "IDPR", "TP++",
	"IL", "IPv6", "SDRP", "Rte6", "Frag6", "IDRP", "RSVP", "GRE", "MHRP", "BNA",
	"ESP", "AH", "INLSP", "SWIPE", "NARP", "MOBIL", "TLSP", "SKIP", "ICMP6", "NOHE6",
	"OPTS6", "HOST", "CFTP", "NET", "SATNT", "KLAN", "RVD", "IPPC", "FS", "SATM",
	"VISA", "IPCV", "CPNX", "CPHB", "WSN", "PVP", "BSATM", "SUNND", "WBMON", "WBEXP",
	"ISOIP", "VMTP", "SVMTP", "VINES", "TTP", "NSIGP", "DGP", "TCF", "EIGRP", "OSPF",
	"S-RPC", "LARP", "MTP", "AX.25", "OS", "MICP", "SCCSP", "ETHIP", "ENCAP", "99",
	"GMTP", "IFMP", "PNNI", "PIM", "ARIS", "SCPS", "QNX", "A/N", "IPcmp", "SNP",
	"CpqPP", "IPXIP", "VRRP", "PGM", "0hop", "L2TP", "DDX", "IATP", "STP", "SRP",
	"UTI", "SMP", "SM", "PTP", "ISIS4", "FIRE", "CRTP", "CRUDP", "128", "IPLT",
	"SPS", "PIPE", "SCTP", "FC", "134", "MHEAD", "UDP-L", "MPLS",
}

// ianaProtos are the lower-case keywords of /etc/protocols that Argus (and
// other tools) print, for the protocols seen in practice.
var ianaProtos = map[string]uint8{
	"hopopt": 0, "ip": 0, "icmp": 1, "igmp": 2, "ggp": 3, "ipencap": 4, "ipv4": 4, "st": 5,
	"tcp": 6, "egp": 8, "igp": 9, "pup": 12, "udp": 17, "hmp": 20, "xns-idp": 22, "rdp": 27,
	"iso-tp4": 29, "dccp": 33, "xtp": 36, "ddp": 37, "idpr-cmtp": 38, "ipv6": 41,
	"ipv6-route": 43, "ipv6-frag": 44, "idrp": 45, "rsvp": 46, "gre": 47, "esp": 50, "ah": 51,
	"skip": 57, "ipv6-icmp": 58, "icmp6": 58, "icmpv6": 58, "ipv6-nonxt": 59, "ipv6-opts": 60,
	"rspf": 73, "vmtp": 81, "eigrp": 88, "ospf": 89, "ospfigp": 89, "ax.25": 93, "ipip": 94,
	"etherip": 97, "encap": 98, "pim": 103, "ipcomp": 108, "vrrp": 112, "l2tp": 115,
	"isis": 124, "sctp": 132, "fc": 133, "mobility-header": 135, "udplite": 136,
	"mpls-in-ip": 137, "manet": 138, "hip": 139, "shim6": 140, "wesp": 141, "rohc": 142,
	"ethernet": 143,
}

// nonIPProtos are Argus's names for flows that are not IP (their "addresses"
// may be MAC addresses): they cannot become flow records.
var nonIPProtos = map[string]bool{
	"arp": true, "rarp": true, "llc": true, "eapol": true, "man": true, "ipx": true,
	"stp": true, "lldp": true, "cdp": true, "lacp": true, "vlan": true, "mpls": true,
	"ppp": true, "pppoe": true, "isis-l2": true, "aarp": true, "ether": true,
}

// protoNumber maps a protocol field (digits, an nfdump name or an IANA
// keyword) to its number. The two name tables disagree on a few names
// ("IPIP" is 4 in nfdump and 94 in /etc/protocols), so the caller says which
// tool wrote the field: nfdump's table is tried first for nfdump and Spot
// CSV, the IANA keywords first for Argus.
func protoNumber(b []byte, nfdumpFirst bool) (uint8, bool) {
	b = trimSpace(b)
	if v, ok := parseUint(b, 255); ok {
		return uint8(v), true
	}
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	if nfdumpFirst {
		if v, ok := nfdumpProto(b); ok {
			return v, true
		}
		return ianaProto(b)
	}
	if v, ok := ianaProto(b); ok {
		return v, true
	}
	return nfdumpProto(b)
}

func nfdumpProto(b []byte) (uint8, bool) {
	for i, name := range nfdumpProtos {
		if equalFold(b, name) {
			return uint8(i), true
		}
	}
	return 0, false
}

func ianaProto(b []byte) (uint8, bool) {
	var low [16]byte
	if len(b) > len(low) {
		return 0, false
	}
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		low[i] = c
	}
	v, ok := ianaProtos[string(low[:len(b)])]
	return v, ok
}

// isNonIP reports whether an Argus protocol name is a non-IP flow.
func isNonIP(b []byte) bool {
	if len(b) > 16 {
		return false
	}
	var low [16]byte
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		low[i] = c
	}
	return nonIPProtos[string(low[:len(b)])]
}

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		x, y := b[i], s[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
