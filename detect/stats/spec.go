// Package stats is the aggregation engine behind `spotctl stats`: nfdump's
// -s top-N statistics over flow and DNS columns. It is pure (no I/O): the
// caller hands it column slices and a selection of rows, and gets back the
// ranked groups. Grouping keys are fixed-width words in one arena and an
// open-addressing table, so aggregation allocates nothing per row.
package stats

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spotctl/spotctl/detect/filter"
)

// Field is a grouping field.
type Field uint8

// Flow fields, then DNS fields. Bin is the time bin of a timeline; it is
// added by Spec.Bin, not named in a spec.
const (
	SrcIP Field = iota + 1
	DstIP
	IP // either side: a flow counts once for its source and once for its destination
	SrcPort
	DstPort
	Port // either side
	Proto
	Flags
	SrcAS
	DstAS
	AS // either side
	VLAN
	Exporter
	QName
	Domain
	Client
	QType
	Rcode
	Bin
)

type fieldInfo struct {
	name   string // as given to -s
	column string // JSON name, as flows/dns use
	dns    bool
	addr   bool
	either bool
	str    bool
	need   filter.Need // the flow columns the field reads (none for DNS fields)
}

var fields = [...]fieldInfo{
	SrcIP:    {name: "srcip", column: "src_ip", addr: true, need: filter.NeedSrc},
	DstIP:    {name: "dstip", column: "dst_ip", addr: true, need: filter.NeedDst},
	IP:       {name: "ip", column: "ip", addr: true, either: true, need: filter.NeedSrc | filter.NeedDst},
	SrcPort:  {name: "srcport", column: "src_port", need: filter.NeedSrcPort},
	DstPort:  {name: "dstport", column: "dst_port", need: filter.NeedDstPort},
	Port:     {name: "port", column: "port", either: true, need: filter.NeedSrcPort | filter.NeedDstPort},
	Proto:    {name: "proto", column: "proto", need: filter.NeedProto},
	Flags:    {name: "flags", column: "tcp_flags", need: filter.NeedTCPFlags},
	SrcAS:    {name: "srcas", column: "src_as", need: filter.NeedSrcAS},
	DstAS:    {name: "dstas", column: "dst_as", need: filter.NeedDstAS},
	AS:       {name: "as", column: "as", either: true, need: filter.NeedSrcAS | filter.NeedDstAS},
	VLAN:     {name: "vlan", column: "vlan", need: filter.NeedVLAN},
	Exporter: {name: "exporter", column: "exporter", addr: true, need: filter.NeedExporter},
	QName:    {name: "qname", column: "qname", dns: true, str: true},
	Domain:   {name: "domain", column: "domain", dns: true, str: true},
	Client:   {name: "client", column: "client_ip", dns: true, addr: true},
	QType:    {name: "qtype", column: "qtype", dns: true},
	Rcode:    {name: "rcode", column: "rcode", dns: true},
	Bin:      {name: "bin", column: "bin"},
}

// Name is the field's -s name.
func (f Field) Name() string { return fields[f].name }

// Column is the field's JSON name (the name `spotctl flows`/`dns` use).
func (f Field) Column() string { return fields[f].column }

// DNS reports whether the field groups DNS messages rather than flows.
func (f Field) DNS() bool { return fields[f].dns }

// IsAddr reports whether the field is an address (and takes a mask).
func (f Field) IsAddr() bool { return fields[f].addr }

// IsString reports whether the field's values are strings (qname, domain).
func (f Field) IsString() bool { return fields[f].str }

// FieldNames lists the -s field names in help order.
func FieldNames() []string {
	var out []string
	for f := SrcIP; f < Bin; f++ {
		out = append(out, f.Name())
	}
	return out
}

// ParseField looks up a -s field name (JSON names are accepted too).
func ParseField(s string) (Field, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for f := SrcIP; f < Bin; f++ {
		if fields[f].name == s || fields[f].column == s {
			return f, nil
		}
	}
	return 0, fmt.Errorf("unknown statistic field %q (valid: %s)", s, strings.Join(FieldNames(), ", "))
}

// Order is what groups are ranked by.
type Order uint8

const (
	OrderFlows   Order = iota // flows (messages, for DNS)
	OrderPackets              // packets
	OrderBytes                // bytes
	OrderPPS                  // packets per second over the group's duration
	OrderBPS                  // bits per second over the group's duration
	OrderBPP                  // bytes per packet
)

var orderNames = [...]string{"flows", "packets", "bytes", "pps", "bps", "bpp"}

func (o Order) String() string { return orderNames[o] }

// ParseOrder looks up an order name; "messages" is flows for DNS.
func ParseOrder(s string) (Order, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "messages" || s == "count" {
		return OrderFlows, true
	}
	i := slices.Index(orderNames[:], s)
	return Order(i), i >= 0
}

// Part is one grouping field with optional address masks: prefix lengths
// kept for IPv4 (0..32) and IPv6 (0..128) addresses; -1 keeps all bits.
type Part struct {
	Field Field
	Mask4 int
	Mask6 int
}

// String renders the part as in a spec: srcip/24, dstip/24/64.
func (p Part) String() string {
	s := p.Field.Name()
	switch {
	case p.Mask6 < 0:
	case p.Mask4 == min(p.Mask6, 32):
		s += "/" + strconv.Itoa(p.Mask6)
	default:
		s += "/" + strconv.Itoa(p.Mask4) + "/" + strconv.Itoa(p.Mask6)
	}
	return s
}

// Spec is one statistic: what to group by, how to rank, how many groups.
type Spec struct {
	Parts []Part
	Order Order
	// Bin, when > 0, groups by the time bin of each record's first packet
	// (DNS: its timestamp) as well; the output is then a timeline: bins in
	// time order, Limit groups per bin.
	Bin time.Duration
	// Limit is the number of groups kept (per bin); 0 keeps all.
	Limit int
	// Post, when set, drops aggregated groups that do not match (-P).
	Post *Post
}

// DNS reports whether the spec groups DNS messages.
func (s *Spec) DNS() bool { return len(s.Parts) > 0 && s.Parts[0].Field.DNS() }

// Name is the spec as text: "srcip/24,dstport/bytes".
func (s *Spec) Name() string {
	names := make([]string, len(s.Parts))
	for i, p := range s.Parts {
		names[i] = p.String()
	}
	o := s.Order.String()
	if s.DNS() {
		o = "messages"
	}
	return strings.Join(names, ",") + "/" + o
}

// ParseSpec parses nfdump's -s syntax, extended to several fields and
// masks: FIELD[/MASK[/MASK6]][,FIELD...][/ORDER]. A single mask applies to
// both families, clipped to 32 bits for IPv4 (srcip/24, dstip/64); two
// masks are IPv4 then IPv6 (srcip/24/64). The order defaults to def.
func ParseSpec(s string, def Order) (Spec, error) {
	spec := Spec{Order: def}
	src := s
	if strings.TrimSpace(s) == "" {
		return spec, fmt.Errorf("empty statistic (want FIELD[/ORDER], e.g. srcip/bytes)")
	}
	// The order, if any, is the last /word of the whole spec.
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		if o, ok := ParseOrder(s[i+1:]); ok {
			spec.Order = o
			s = s[:i]
		}
	}
	for _, item := range strings.Split(s, ",") {
		segs := strings.Split(item, "/")
		f, err := ParseField(segs[0])
		if err != nil {
			return spec, err
		}
		p := Part{Field: f, Mask4: -1, Mask6: -1}
		if len(segs) > 3 {
			return spec, fmt.Errorf("statistic %q: too many /parts in %q (want FIELD[/MASK[/MASK6]][/ORDER], orders: %s)", src, item, strings.Join(orderNames[:], ", "))
		}
		var masks []int
		for _, m := range segs[1:] {
			if !f.IsAddr() {
				if _, ok := ParseOrder(m); ok {
					return spec, fmt.Errorf("statistic %q: the order goes at the end of the whole list", src)
				}
				return spec, fmt.Errorf("statistic %q: %s takes no mask (%q); orders: %s", src, f.Name(), m, strings.Join(orderNames[:], ", "))
			}
			n, err := strconv.Atoi(m)
			if err != nil || n < 0 || n > 128 {
				return spec, fmt.Errorf("statistic %q: bad mask or order %q (masks 0..128; orders: %s)", src, m, strings.Join(orderNames[:], ", "))
			}
			masks = append(masks, n)
		}
		switch len(masks) {
		case 1:
			p.Mask4, p.Mask6 = min(masks[0], 32), masks[0]
		case 2:
			if masks[0] > 32 {
				return spec, fmt.Errorf("statistic %q: IPv4 mask %d is more than 32", src, masks[0])
			}
			p.Mask4, p.Mask6 = masks[0], masks[1]
		}
		spec.Parts = append(spec.Parts, p)
	}
	return spec, spec.validate()
}

func (s *Spec) validate() error {
	if len(s.Parts) == 0 {
		return fmt.Errorf("a statistic needs at least one field")
	}
	dns := s.Parts[0].Field.DNS()
	either := 0
	for i, p := range s.Parts {
		if p.Field.DNS() != dns {
			return fmt.Errorf("statistic %s mixes flow and DNS fields (%s, %s)", s.Name(), s.Parts[0].Field.Name(), p.Field.Name())
		}
		if fields[p.Field].either {
			either++
		}
		for _, q := range s.Parts[:i] {
			if q.Field == p.Field {
				return fmt.Errorf("statistic %s names %s twice", s.Name(), p.Field.Name())
			}
		}
	}
	if either > 1 {
		return fmt.Errorf("statistic %s: at most one either-side field (ip, port, as)", s.Name())
	}
	if dns && s.Order != OrderFlows {
		return fmt.Errorf("statistic %s: DNS statistics count messages; order by messages (not %s)", s.Name(), s.Order)
	}
	if s.Limit < 0 {
		return fmt.Errorf("the number of groups must not be negative")
	}
	return nil
}

// Needs returns the flow columns the statistic reads: the grouped fields
// and the totals (first, last, packets, bytes).
func (s Spec) Needs() filter.Need {
	n := filter.NeedFirst | filter.NeedLast | filter.NeedPackets | filter.NeedBytes
	for _, p := range s.Parts {
		n |= fields[p.Field].need
	}
	return n
}
