package words

import "strconv"

// DNSWord is Spot's eight-token DNS word (spot-method.md §3.3). Its text form
// is <TopDomain>_<FrameLenBin>_<Hour>_<SubdomainLenBin>_<EntropyBin>_<NumPartsBin>_<Type>_<Rcode>.
type DNSWord struct {
	TopDomain       uint8 // 0, 1 (popular) or 2 (user's domain)
	FrameLenBin     uint8 // ⌊log2 frame length⌋, 0 for 0
	Hour            uint8 // 0..23
	SubdomainLenBin uint8 // ⌊log2 subdomain length⌋, 0 for 0 and 1
	EntropyBin      uint8 // EntropyBin of the subdomain entropy, 0..19
	NumPartsBin     uint8 // ⌊log2 label count⌋, 0 for 0 and 1
	Type            int32 // record type as stored; −1 when absent
	Rcode           int32 // response code as stored; −1 when absent
}

// NewDNSWord builds the word of one DNS record from Spot's inputs: frame
// length, hour of day, the query name, its record type and response code
// (−1 for "absent", as Spot filled nulls), the user's domain label and the
// popular-domain set (may be nil).
func NewDNSWord(frameLen uint64, hour int, name string, qtype, rcode int32, userDomain string, popular Popular) DNSWord {
	info := ParseDomain(name, userDomain, popular)
	return DNSWordFromInfo(frameLen, hour, info, qtype, rcode)
}

// DNSWordFromInfo is NewDNSWord for an already parsed name.
func DNSWordFromInfo(frameLen uint64, hour int, info DomainInfo, qtype, rcode int32) DNSWord {
	return DNSWord{
		TopDomain:       uint8(info.TopDomain),
		FrameLenBin:     uint8(FloorLog2(frameLen)),
		Hour:            uint8(hour),
		SubdomainLenBin: uint8(FloorLog2(uint64(info.SubdomainLength))),
		EntropyBin:      uint8(EntropyBin(info.SubdomainEntropy)),
		NumPartsBin:     uint8(FloorLog2(uint64(info.NumParts))),
		Type:            qtype,
		Rcode:           rcode,
	}
}

// Key packs the word into 64 bits; DNSWordFromKey inverts it. Type and Rcode
// are stored biased by one so that −1 packs as 0. Layout (low to high):
// TopDomain 2, FrameLenBin 6, Hour 5, SubdomainLenBin 6, EntropyBin 5,
// NumPartsBin 6, Type+1 17, Rcode+1 17. Values outside those widths (a Type
// or Rcode below −1) are clamped to −1 by the packing, which callers avoid by
// passing wire values (0..65535) or −1.
func (w DNSWord) Key() uint64 {
	t, r := uint64(0), uint64(0)
	if w.Type >= -1 && w.Type <= 0xffff {
		t = uint64(w.Type + 1)
	}
	if w.Rcode >= -1 && w.Rcode <= 0xffff {
		r = uint64(w.Rcode + 1)
	}
	return uint64(w.TopDomain&3) | uint64(w.FrameLenBin&63)<<2 | uint64(w.Hour&31)<<8 |
		uint64(w.SubdomainLenBin&63)<<13 | uint64(w.EntropyBin&31)<<19 | uint64(w.NumPartsBin&63)<<24 |
		t<<30 | r<<47
}

// DNSWordFromKey is the inverse of DNSWord.Key.
func DNSWordFromKey(k uint64) DNSWord {
	return DNSWord{
		TopDomain:       uint8(k & 3),
		FrameLenBin:     uint8(k >> 2 & 63),
		Hour:            uint8(k >> 8 & 31),
		SubdomainLenBin: uint8(k >> 13 & 63),
		EntropyBin:      uint8(k >> 19 & 31),
		NumPartsBin:     uint8(k >> 24 & 63),
		Type:            int32(k>>30&0x1ffff) - 1,
		Rcode:           int32(k>>47&0x1ffff) - 1,
	}
}

// Append appends Spot's text form of the word to b.
func (w DNSWord) Append(b []byte) []byte {
	b = strconv.AppendUint(b, uint64(w.TopDomain), 10)
	b = append(b, '_')
	b = strconv.AppendUint(b, uint64(w.FrameLenBin), 10)
	b = append(b, '_')
	b = strconv.AppendUint(b, uint64(w.Hour), 10)
	b = append(b, '_')
	b = strconv.AppendUint(b, uint64(w.SubdomainLenBin), 10)
	b = append(b, '_')
	b = strconv.AppendUint(b, uint64(w.EntropyBin), 10)
	b = append(b, '_')
	b = strconv.AppendUint(b, uint64(w.NumPartsBin), 10)
	b = append(b, '_')
	b = strconv.AppendInt(b, int64(w.Type), 10)
	b = append(b, '_')
	return strconv.AppendInt(b, int64(w.Rcode), 10)
}

// String returns Spot's text form, e.g. "2_7_11_2_10_1_1_0".
func (w DNSWord) String() string { return string(w.Append(make([]byte, 0, 32))) }
