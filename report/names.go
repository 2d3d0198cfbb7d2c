package report

import (
	"strconv"

	"github.com/spotctl/spotctl/decode/flow"
)

var protoNames = map[uint64]string{
	1: "ICMP", 2: "IGMP", 4: "IPIP", 6: "TCP", 17: "UDP", 41: "IPv6", 47: "GRE",
	50: "ESP", 51: "AH", 58: "ICMP6", 89: "OSPF", 103: "PIM", 112: "VRRP", 132: "SCTP",
}

// ProtoName is the short name of an IP protocol number ("TCP"), or the
// number itself when it has no common name.
func ProtoName(p uint64) string {
	if n, ok := protoNames[p]; ok {
		return n
	}
	return strconv.FormatUint(p, 10)
}

// TCPFlagsText renders TCP flags the way nfdump does: eight positions
// "CEUAPRSF", a dot where a flag is not set.
func TCPFlagsText(f uint8) string {
	const letters = "CEUAPRSF"
	var b [8]byte
	for i := 0; i < 8; i++ {
		if f&(0x80>>i) != 0 {
			b[i] = letters[i]
		} else {
			b[i] = '.'
		}
	}
	return string(b[:])
}

var dnsTypes = map[uint16]string{
	1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 13: "HINFO", 15: "MX", 16: "TXT",
	17: "RP", 18: "AFSDB", 24: "SIG", 25: "KEY", 28: "AAAA", 29: "LOC", 33: "SRV", 35: "NAPTR",
	39: "DNAME", 41: "OPT", 43: "DS", 44: "SSHFP", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY",
	50: "NSEC3", 51: "NSEC3PARAM", 52: "TLSA", 64: "SVCB", 65: "HTTPS", 99: "SPF",
	249: "TKEY", 250: "TSIG", 251: "IXFR", 252: "AXFR", 255: "ANY", 256: "URI", 257: "CAA",
}

// TypeName is a DNS RR type mnemonic ("AAAA"), or "TYPE65534" (RFC 3597)
// for one without a name.
func TypeName(t uint16) string {
	if n, ok := dnsTypes[t]; ok {
		return n
	}
	return "TYPE" + strconv.FormatUint(uint64(t), 10)
}

var rcodeNames = []string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"}

// RcodeName is a DNS response code mnemonic ("NXDOMAIN").
func RcodeName(r uint64) string {
	if r < uint64(len(rcodeNames)) {
		return rcodeNames[r]
	}
	return "RCODE" + strconv.FormatUint(r, 10)
}

// DNSFlagsText renders the DNS header flags dig-style: "aa tc rd ra ad cd",
// only those set.
func DNSFlagsText(f uint8) string {
	names := [...]struct {
		bit  uint8
		name string
	}{
		{flow.DNSFlagAA, "aa"}, {flow.DNSFlagTC, "tc"}, {flow.DNSFlagRD, "rd"},
		{flow.DNSFlagRA, "ra"}, {flow.DNSFlagAD, "ad"}, {flow.DNSFlagCD, "cd"},
	}
	var b []byte
	for _, n := range names {
		if f&n.bit != 0 {
			if len(b) > 0 {
				b = append(b, ' ')
			}
			b = append(b, n.name...)
		}
	}
	return string(b)
}

var linkTypeNames = map[uint16]string{
	0: "NULL", 1: "ETHERNET", 12: "RAW", 14: "RAW", 101: "RAW", 108: "LOOP", 113: "LINUX_SLL",
	228: "IPV4", 229: "IPV6", 276: "LINUX_SLL2",
}

// LinkTypeName is the LINKTYPE_ name of a pcap link type ("ETHERNET"), or
// "LINKTYPE_<n>" for one spotctl has no name for.
func LinkTypeName(lt uint16) string {
	if n, ok := linkTypeNames[lt]; ok {
		return n
	}
	return "LINKTYPE_" + strconv.FormatUint(uint64(lt), 10)
}
