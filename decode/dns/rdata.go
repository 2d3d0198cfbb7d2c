package dns

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
)

// Resource record types rendered as text.
const (
	TypeA     = 1
	TypeNS    = 2
	TypeCNAME = 5
	TypeSOA   = 6
	TypePTR   = 12
	TypeMX    = 15
	TypeTXT   = 16
	TypeAAAA  = 28
	TypeOPT   = 41
)

// appendRData appends the text form of r's data to dst (nothing for types
// we do not render). Names inside the data must keep their in-place bytes
// within RDLENGTH but may point anywhere in the message. Bytes left over
// inside RDLENGTH after the fields we render are ignored.
func appendRData(dst, msg []byte, r rr) ([]byte, error) {
	rd, end := r.rd, r.rd+r.rdlen
	var err error
	switch r.typ {
	case TypeA:
		if r.rdlen != 4 {
			return dst, badRData(rd, "A rdlength %d, want 4", r.rdlen)
		}
		for i := 0; i < 4; i++ {
			if i > 0 {
				dst = append(dst, '.')
			}
			dst = strconv.AppendUint(dst, uint64(msg[rd+i]), 10)
		}
	case TypeAAAA:
		if r.rdlen != 16 {
			return dst, badRData(rd, "AAAA rdlength %d, want 16", r.rdlen)
		}
		dst = netip.AddrFrom16([16]byte(msg[rd:end])).AppendTo(dst)
	case TypeNS, TypeCNAME, TypePTR:
		dst, _, err = readName(msg, rd, end, dst)
	case TypeMX:
		if r.rdlen < 3 {
			return dst, badRData(rd, "MX rdlength %d, need at least 3", r.rdlen)
		}
		n := len(dst)
		dst = strconv.AppendUint(dst, uint64(binary.BigEndian.Uint16(msg[rd:])), 10)
		dst = append(dst, ' ')
		if dst, _, err = readName(msg, rd+2, end, dst); err != nil {
			dst = dst[:n]
		}
	case TypeTXT:
		dst, err = appendTXT(dst, msg[rd:end], rd)
	case TypeSOA:
		n := len(dst)
		var p int
		if dst, p, err = readName(msg, rd, end, dst); err != nil {
			return dst, err
		}
		dst = append(dst, ' ')
		if dst, p, err = readName(msg, p, end, dst); err != nil {
			return dst[:n], err
		}
		if end-p < 20 {
			return dst[:n], badRData(p, "SOA needs 20 bytes of serial and timers, %d left", end-p)
		}
		for i := 0; i < 5; i++ {
			dst = append(dst, ' ')
			dst = strconv.AppendUint(dst, uint64(binary.BigEndian.Uint32(msg[p+4*i:])), 10)
		}
	}
	return dst, err
}

// appendTXT renders each character-string of a TXT record double-quoted,
// separated by one space, the way dig does: `"` and `\` are escaped with a
// backslash and bytes outside printable ASCII become \DDD (decimal). base is
// the offset of b in the message, for errors.
func appendTXT(dst, b []byte, base int) ([]byte, error) {
	n := len(dst)
	for p := 0; p < len(b); {
		l := int(b[p])
		if l > len(b)-p-1 {
			return dst[:n], badRData(base+p, "TXT string of %d bytes, %d left in rdata", l, len(b)-p-1)
		}
		if p > 0 {
			dst = append(dst, ' ')
		}
		dst = append(dst, '"')
		for _, c := range b[p+1 : p+1+l] {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20 || c > 0x7e:
				dst = append(dst, '\\', '0'+c/100, '0'+c/10%10, '0'+c%10)
			default:
				dst = append(dst, c)
			}
		}
		dst = append(dst, '"')
		p += 1 + l
	}
	return dst, nil
}

func badRData(off int, format string, args ...any) error {
	return &posError{off, fmt.Errorf("%w: "+format, append([]any{ErrBadRData}, args...)...)}
}
