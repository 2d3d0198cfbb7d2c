package filter

// Need is a set of FlowColumns fields. A caller that maps columns from a
// case loads only those a filter reads (Filter.Needs): every column loaded
// is paged in and checksummed, so a filter on two columns of a 25-column
// table should not pay for the other 23.
type Need uint32

// The FlowColumns fields, one bit each.
const (
	NeedFirst Need = 1 << iota
	NeedLast
	NeedSrc
	NeedDst
	NeedSrcPort
	NeedDstPort
	NeedProto
	NeedTCPFlags
	NeedToS
	NeedVLAN
	NeedPackets
	NeedBytes
	NeedOutPackets
	NeedOutBytes
	NeedExporter
	NeedNextHop
	NeedSrcAS
	NeedDstAS
	NeedInIf
	NeedOutIf
	NeedSrcMask
	NeedDstMask
	NeedScore
	// NeedAll is every field.
	NeedAll = NeedScore<<1 - 1
)

// Has reports whether every field of x is in n.
func (n Need) Has(x Need) bool { return n&x == x }

// Needs returns the FlowColumns fields the filter reads; the others may be
// left nil without changing what Select and MatchFlowColumns return.
func (f *Filter) Needs() Need {
	var n Need
	var walk func(*node)
	walk = func(nd *node) {
		if nd == nil {
			return
		}
		for _, k := range nd.kids {
			walk(k)
		}
		l := nd.leaf
		if l == nil {
			return
		}
		for _, fl := range l.fields {
			n |= fieldNeeds(fl)
		}
		if l.icmp || l.test == tkFlags {
			n |= NeedProto // icmp-type/code imply proto icmp, flags imply tcp
		}
	}
	walk(f.root)
	return n
}

func fieldNeeds(f field) Need {
	switch f {
	case fFirst:
		return NeedFirst
	case fLast:
		return NeedLast
	case fSrcPort:
		return NeedSrcPort
	case fDstPort, fICMPType, fICMPCode:
		return NeedDstPort // nfdump keeps ICMP type and code in the destination port
	case fProto:
		return NeedProto
	case fFlags:
		return NeedTCPFlags
	case fToS:
		return NeedToS
	case fVLAN:
		return NeedVLAN
	case fPackets:
		return NeedPackets
	case fBytes:
		return NeedBytes
	case fOutPackets:
		return NeedOutPackets
	case fOutBytes:
		return NeedOutBytes
	case fSrcAS:
		return NeedSrcAS
	case fDstAS:
		return NeedDstAS
	case fInIf:
		return NeedInIf
	case fOutIf:
		return NeedOutIf
	case fSrcMask:
		return NeedSrcMask
	case fDstMask:
		return NeedDstMask
	case fDuration:
		return NeedFirst | NeedLast
	case fPPS:
		return NeedFirst | NeedLast | NeedPackets
	case fBPS:
		return NeedFirst | NeedLast | NeedBytes
	case fBPP:
		return NeedPackets | NeedBytes
	case fSrcIP, fIPv4, fIPv6:
		return NeedSrc
	case fDstIP:
		return NeedDst
	case fExporter:
		return NeedExporter
	case fNextHop:
		return NeedNextHop
	case fScore:
		return NeedScore
	}
	return 0 // DNS fields and kind are not columns of FlowColumns
}

// Keep returns a copy of c with the fields outside n set to nil.
func (c *FlowColumns) Keep(n Need) *FlowColumns {
	k := *c
	drop := func(need Need, clear func()) {
		if !n.Has(need) {
			clear()
		}
	}
	drop(NeedFirst, func() { k.First = nil })
	drop(NeedLast, func() { k.Last = nil })
	drop(NeedSrc, func() { k.Src = nil })
	drop(NeedDst, func() { k.Dst = nil })
	drop(NeedSrcPort, func() { k.SrcPort = nil })
	drop(NeedDstPort, func() { k.DstPort = nil })
	drop(NeedProto, func() { k.Proto = nil })
	drop(NeedTCPFlags, func() { k.TCPFlags = nil })
	drop(NeedToS, func() { k.ToS = nil })
	drop(NeedVLAN, func() { k.VLAN = nil })
	drop(NeedPackets, func() { k.Packets = nil })
	drop(NeedBytes, func() { k.Bytes = nil })
	drop(NeedOutPackets, func() { k.OutPackets = nil })
	drop(NeedOutBytes, func() { k.OutBytes = nil })
	drop(NeedExporter, func() { k.Exporter = nil })
	drop(NeedNextHop, func() { k.NextHop = nil })
	drop(NeedSrcAS, func() { k.SrcAS = nil })
	drop(NeedDstAS, func() { k.DstAS = nil })
	drop(NeedInIf, func() { k.InIf = nil })
	drop(NeedOutIf, func() { k.OutIf = nil })
	drop(NeedSrcMask, func() { k.SrcMask = nil })
	drop(NeedDstMask, func() { k.DstMask = nil })
	drop(NeedScore, func() { k.Score = nil })
	return &k
}
