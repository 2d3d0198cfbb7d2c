package words

import "strconv"

// protoNames is nfdump's protocol name table with the padding spaces removed:
// Spot's flow words carry the protocol exactly as spot-nfdump printed it in
// the `pr` column (spot-method.md §1.2). Numbers 138 and above, and the
// entries nfdump itself prints as numbers, render as the decimal number.
var protoNames = [...]string{
	"0", "ICMP", "IGMP", "GGP", "IPIP", "ST", "TCP", "CBT", "EGP", "IGP",
	"BBN", "NVPII", "PUP", "ARGUS", "ENCOM", "XNET", "CHAOS", "UDP", "MUX", "DCN",
	"HMP", "PRM", "XNS", "Trnk1", "Trnk2", "Leaf1", "Leaf2", "RDP", "IRTP", "ISO-4",
	"NETBK", "MFESP", "MEINP", "DCCP", "3PC", "IDPR", "XTP", "DDP", "IDPR", "TP++",
	"IL", "IPv6", "SDRP", "Rte6", "Frag6", "IDRP", "RSVP", "GRE", "MHRP", "BNA",
	"ESP", "AH", "INLSP", "SWIPE", "NARP", "MOBIL", "TLSP", "SKIP", "ICMP6", "NOHE6",
	"OPTS6", "HOST", "CFTP", "NET", "SATNT", "KLAN", "RVD", "IPPC", "FS", "SATM",
	"VISA", "IPCV", "CPNX", "CPHB", "WSN", "PVP", "BSATM", "SUNND", "WBMON", "WBEXP",
	"ISOIP", "VMTP", "SVMTP", "VINES", "TTP", "NSIGP", "DGP", "TCF", "EIGRP", "OSPF",
	"S-RPC", "LARP", "MTP", "AX.25", "IPIP", "MICP", "SCCSP", "ETHIP", "ENCAP", "99",
	"GMTP", "IFMP", "PNNI", "PIM", "ARIS", "SCPS", "QNX", "A/N", "IPcmp", "SNP",
	"CpqPP", "IPXIP", "VRRP", "PGM", "0hop", "L2TP", "DDX", "IATP", "STP", "SRP",
	"UTI", "SMP", "SM", "PTP", "ISIS4", "FIRE", "CRTP", "CRUDP", "128", "IPLT",
	"SPS", "PIPE", "SCTP", "FC", "134", "MHEAD", "UDP-L", "MPLS",
}

// protoNumbers holds the decimal text of every protocol number at or above
// len(protoNames), so ProtoName never allocates.
var protoNumbers [256]string

func init() {
	for i := len(protoNames); i < 256; i++ {
		protoNumbers[i] = strconv.Itoa(i)
	}
}

// canonicalProto maps each protocol number to the smallest number with the
// same name (nfdump names 4 and 94 both "IPIP", 35 and 38 both "IDPR"), so
// that two flow words are equal exactly when their Spot strings are.
var canonicalProto [256]uint8

func init() {
	first := map[string]uint8{}
	for p := 0; p < 256; p++ {
		n := ProtoName(uint8(p))
		if _, ok := first[n]; !ok {
			first[n] = uint8(p)
		}
		canonicalProto[p] = first[n]
	}
}

// ProtoName returns the protocol token of a flow word ("TCP", "UDP", "ICMP",
// …, or the decimal number for protocols nfdump has no name for).
func ProtoName(p uint8) string {
	if int(p) < len(protoNames) {
		return protoNames[p]
	}
	return protoNumbers[p]
}
