package netflow

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/flow"
)

var exporter = flow.AddrFrom4([4]byte{192, 0, 2, 1})

// run decodes datagrams from one exporter in order and returns copies of
// the records and the errors.
func run(d *Decoder, dgs ...[]byte) ([]flow.Record, []error) {
	var recs []flow.Record
	var errs []error
	for _, p := range dgs {
		if err := d.Datagram(exporter, 2055, 0, p, 3, func(r *flow.Record) { recs = append(recs, *r) }); err != nil {
			errs = append(errs, err)
		}
	}
	return recs, errs
}

// one decodes datagrams and expects exactly one record and no error.
func one(t *testing.T, d *Decoder, dgs ...[]byte) flow.Record {
	t.Helper()
	return mustOne(t, d, dgs)
}

func mustOne(t *testing.T, d *Decoder, dgs [][]byte) flow.Record {
	t.Helper()
	recs, errs := run(d, dgs...)
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	return recs[0]
}

func a4(a, b, c, d byte) flow.Addr { return flow.AddrFrom4([4]byte{a, b, c, d}) }

func TestV5(t *testing.T) {
	const secs, nsecs, up = 1700000000, 250_000_000, 5000
	rec := v5Rec{src: [4]byte{10, 0, 0, 1}, dst: [4]byte{10, 0, 0, 2}, hop: [4]byte{10, 0, 0, 254}, in: 3, out: 4,
		pkts: 7, octets: 700, first: 1000, last: 4000, sport: 1234, dport: 80, flags: 0x1b, prot: 6, tos: 0x10,
		srcAS: 64512, dstAS: 15169, srcMask: 24, dstMask: 16}
	// First > sysUptime: the flow "started before boot" — the uint32
	// subtraction wraps it to 2^32 ms - 1000 before the export time minus
	// uptime, exactly as tshark and nfdump compute it.
	wrapped := rec
	wrapped.first, wrapped.last = 0xFFFFFC18, 4000 // -1000 ms as uint32
	d := NewDecoder(Options{})
	recs, errs := run(d, v5Msg(up, secs, nsecs, 1, 2, 0, rec, wrapped))
	if len(errs) != 0 || len(recs) != 2 {
		t.Fatalf("%d records, errors %v", len(recs), errs)
	}
	exportNs := int64(secs)*1e9 + nsecs
	want := flow.Record{
		First: exportNs - 4000*1e6, Last: exportNs - 1000*1e6,
		Src: a4(10, 0, 0, 1), Dst: a4(10, 0, 0, 2), SrcPort: 1234, DstPort: 80, Proto: 6, TCPFlags: 0x1b, ToS: 0x10,
		Packets: 7, Bytes: 700, Evidence: 3, Exporter: exporter, ObsDomain: 1<<8 | 2,
		SrcAS: 64512, DstAS: 15169, InIf: 3, OutIf: 4, NextHop: a4(10, 0, 0, 254), SrcMask: 24, DstMask: 16, Sampling: 1,
	}
	if recs[0] != want {
		t.Errorf("got  %+v\nwant %+v", recs[0], want)
	}
	if got, w := recs[1].First, exportNs-6000*1e6; got != w {
		t.Errorf("wrapped First = %d, want %d", got, w)
	}

	// Sampling from the header, applied on request.
	d = NewDecoder(Options{ApplySampling: true})
	recs, _ = run(d, v5Msg(up, secs, 0, 0, 0, 1<<14|100, rec))
	if r := recs[0]; r.Sampling != 100 || r.Packets != 700 || r.Bytes != 70000 {
		t.Errorf("sampled: Sampling %d Packets %d Bytes %d", r.Sampling, r.Packets, r.Bytes)
	}

	// A datagram cut inside its third record: two records and an error
	// at the cut record.
	d = NewDecoder(Options{})
	p := v5Msg(up, secs, 0, 0, 0, 0, rec, rec, rec)
	recs, errs = run(d, p[:len(p)-10])
	var de *DatagramError
	if len(recs) != 2 || len(errs) != 1 || !errors.As(errs[0], &de) || de.Offset != 24+2*48 || !errors.Is(errs[0], decode.ErrTruncated) {
		t.Errorf("truncated: %d records, errors %v", len(recs), errs)
	}

	// Padding after the records is counted, not an error.
	d = NewDecoder(Options{})
	recs, errs = run(d, cat(v5Msg(up, secs, 0, 0, 0, 0, rec), make([]byte, 6)))
	if len(recs) != 1 || len(errs) != 0 || d.Stats().TrailingBytes != 6 {
		t.Errorf("padding: %d records, %v, %+v", len(recs), errs, d.Stats())
	}
}

func TestV9Record(t *testing.T) {
	fields := []fld{{8, 4, 0}, {12, 4, 0}, {7, 2, 0}, {11, 2, 0}, {4, 1, 0}, {6, 1, 0}, {5, 1, 0},
		{1, 4, 0}, {2, 4, 0}, {22, 4, 0}, {21, 4, 0}, {10, 2, 0}, {14, 2, 0}, {16, 2, 0}, {17, 4, 0},
		{9, 1, 0}, {13, 1, 0}, {15, 4, 0}, {58, 2, 0}, {136, 1, 0}, {999, 3, 0}}
	data := cat(u32(0x0a000001), u32(0x0a000002), u16(1234), u16(53), u8(17), u8(0), u8(0xb8),
		u32(300), u32(3), u32(0xFFFFFF00), u32(200), u16(5), u16(6), u16(65000), u32(4200000000),
		u8(8), u8(32), u32(0x0a0000fe), u16(0x1064), u8(2), []byte{1, 2, 3})
	const up, secs = 100000, 1700000000
	d := NewDecoder(Options{})
	r := one(t, d, v9Msg(2, up, secs, 77, flowset(0, tmpl(256, fields...)), flowset(256, data, []byte{0, 0})))
	exportNs := int64(secs) * 1e9
	want := flow.Record{
		// start 0xFFFFFF00 is 256 ms "after" an uptime that wrapped: uint32
		// arithmetic puts it (up - start) mod 2^32 = up + 256 ms back.
		First: exportNs - (up+256)*1e6, Last: exportNs - (up-200)*1e6,
		Src: a4(10, 0, 0, 1), Dst: a4(10, 0, 0, 2), SrcPort: 1234, DstPort: 53, Proto: 17, ToS: 0xb8,
		Packets: 3, Bytes: 300, Evidence: 3, Exporter: exporter, ObsDomain: 77,
		SrcAS: 65000, DstAS: 4200000000, InIf: 5, OutIf: 6, NextHop: a4(10, 0, 0, 254), SrcMask: 8, DstMask: 32,
		VLAN: 0x064, EndReason: 2,
	}
	if r != want {
		t.Errorf("got  %+v\nwant %+v", r, want)
	}
	st := d.Stats()
	if st.V9Datagrams != 1 || st.Templates != 1 || st.Records != 1 || st.Errors != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestIPFIXTimes(t *testing.T) {
	const secs = 1700000000
	exportNs := int64(secs) * 1e9
	base := []fld{{8, 4, 0}, {12, 4, 0}}
	addrs := cat(u32(0x0a000001), u32(0x0a000002))
	ntp := func(unixNs int64) uint64 {
		s := uint64(unixNs/1e9 + 2208988800)
		frac := uint64(unixNs%1e9) << 32 / 1e9
		return s<<32 | (frac + 1) // +1: the fraction rounds down on the way back
	}
	start, end := int64(1699999990_123456789), int64(1699999995_987654321)
	for _, tc := range []struct {
		name        string
		fields      []fld
		values      []byte
		first, last int64
	}{
		{"seconds 150/151", []fld{{150, 4, 0}, {151, 4, 0}}, cat(u32(1699999990), u32(1699999995)), 1699999990e9, 1699999995e9},
		{"milliseconds 152/153", []fld{{152, 8, 0}, {153, 8, 0}}, cat(u64(1699999990123), u64(1699999995987)), 1699999990123e6, 1699999995987e6},
		{"microseconds 154/155", []fld{{154, 8, 0}, {155, 8, 0}}, cat(u64(ntp(start)), u64(ntp(end))), start / 1000 * 1000, end / 1000 * 1000},
		{"nanoseconds 156/157", []fld{{156, 8, 0}, {157, 8, 0}}, cat(u64(ntp(start)), u64(ntp(end))), start, end},
		{"delta microseconds 158/159", []fld{{158, 4, 0}, {159, 4, 0}}, cat(u32(5_000_000), u32(1_500)), exportNs - 5e9, exportNs - 1.5e6},
		{"start ms + duration ms", []fld{{152, 8, 0}, {161, 4, 0}}, cat(u64(1699999990123), u32(2500)), 1699999990123e6, 1699999992623e6},
		{"end ms + duration us", []fld{{153, 8, 0}, {162, 4, 0}}, cat(u64(1699999995987), u32(1000)), 1699999995986e6, 1699999995987e6},
		{"ms preferred over seconds", []fld{{150, 4, 0}, {152, 8, 0}, {151, 4, 0}, {153, 8, 0}}, cat(u32(1), u64(1699999990123), u32(2), u64(1699999995987)), 1699999990123e6, 1699999995987e6},
		{"no times: export time", nil, nil, exportNs, exportNs},
		{"sysInit in the record", []fld{{160, 8, 0}, {22, 4, 0}, {21, 4, 0}}, cat(u64(1699990000000), u32(1000), u32(2000)), 1699990001000e6, 1699990002000e6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(Options{})
			fs := append(append([]fld{}, base...), tc.fields...)
			r := one(t, d, ipfixMsg(secs, 1, flowset(2, tmpl(400, fs...)), flowset(400, addrs, tc.values)))
			// microseconds lose the low 11 bits of the fraction (< 0.5 µs)
			if r.First != tc.first || r.Last != tc.last {
				if !(strings.HasPrefix(tc.name, "micro") && abs(r.First-tc.first) < 1000 && abs(r.Last-tc.last) < 1000) {
					t.Errorf("First %s Last %s, want %s %s", ts(r.First), ts(r.Last), ts(tc.first), ts(tc.last))
				}
			}
		})
	}

	// sysUpTime-relative times need systemInitTimeMilliseconds from an
	// options record; without it the export time is used and counted.
	rel := []fld{{8, 4, 0}, {12, 4, 0}, {22, 4, 0}, {21, 4, 0}}
	data := flowset(401, addrs, u32(1000), u32(2500))
	d := NewDecoder(Options{})
	r := one(t, d, ipfixMsg(secs, 1, flowset(2, tmpl(401, rel...)), data))
	if r.First != exportNs || r.Last != exportNs || d.Stats().NoTimeBase != 1 {
		t.Errorf("without sysInit: %s %s, %+v", ts(r.First), ts(r.Last), d.Stats())
	}
	opt := ipfixOptTmpl(402, 1, fld{149, 4, 0}, fld{160, 8, 0})
	r = one(t, d, ipfixMsg(secs, 1, flowset(3, opt), flowset(402, u32(1), u64(1699990000000))), ipfixMsg(secs, 1, data))
	if r.First != 1699990001000e6 || r.Last != 1699990002500e6 {
		t.Errorf("with sysInit: %s %s", ts(r.First), ts(r.Last))
	}
	// The init time belongs to the observation domain: domain 2 has none.
	recs, _ := run(d, ipfixMsg(secs, 2, flowset(2, tmpl(401, rel...)), data))
	if recs[0].First != exportNs {
		t.Errorf("domain 2 used domain 1's init time: %s", ts(recs[0].First))
	}
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func ts(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }

func TestNTP(t *testing.T) {
	for _, tc := range []struct {
		v    uint64
		want int64
	}{
		{0, 0},
		{2208988800 << 32, 0}, // Unix epoch
		{(2208988800+1)<<32 | 1<<31, 1_500_000_000}, // 1.5 s
		{1 << 32, (1<<32 + 1 - 2208988800) * 1e9},   // era 1: 2036 + 1 s
	} {
		if got := ntpNs(tc.v, false); got != tc.want {
			t.Errorf("ntpNs(%#x) = %d, want %d", tc.v, got, tc.want)
		}
	}
}

func TestICMP(t *testing.T) {
	const secs = 1700000000
	addrs := cat(u32(0x0a000001), u32(0x0a000002))
	for _, tc := range []struct {
		name   string
		fields []fld
		values []byte
		proto  uint8
		sport  uint16
		dport  uint16
	}{
		{"IE 32", []fld{{4, 1, 0}, {32, 2, 0}}, cat(u8(1), u16(0x0800)), 1, 0, 0x0800},
		{"IE 139 v6", []fld{{4, 1, 0}, {139, 2, 0}}, cat(u8(58), u16(0x8100)), 58, 0, 0x8100},
		{"IE 176/177", []fld{{4, 1, 0}, {176, 1, 0}, {177, 1, 0}}, cat(u8(1), u8(3), u8(3)), 1, 0, 0x0303},
		// Cisco ASA: ports carry the ICMP id, the type/code elements win.
		{"ports and 176/177", []fld{{4, 1, 0}, {7, 2, 0}, {11, 2, 0}, {176, 1, 0}, {177, 1, 0}}, cat(u8(1), u16(0), u16(17549), u8(0), u8(0)), 1, 0, 0},
		// pmacctd: type*256+code already in the destination port.
		{"port only", []fld{{4, 1, 0}, {7, 2, 0}, {11, 2, 0}}, cat(u8(1), u16(0), u16(0x0800)), 1, 0, 0x0800},
		{"TCP ignores IE 32", []fld{{4, 1, 0}, {7, 2, 0}, {11, 2, 0}, {32, 2, 0}}, cat(u8(6), u16(1), u16(2), u16(0x0800)), 6, 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := append([]fld{{8, 4, 0}, {12, 4, 0}}, tc.fields...)
			r := one(t, NewDecoder(Options{}), ipfixMsg(secs, 1, flowset(2, tmpl(300, fs...)), flowset(300, addrs, tc.values)))
			if r.Proto != tc.proto || r.SrcPort != tc.sport || r.DstPort != tc.dport {
				t.Errorf("proto %d ports %d/%d, want %d %d/%d", r.Proto, r.SrcPort, r.DstPort, tc.proto, tc.sport, tc.dport)
			}
		})
	}
}

func TestAddressesAndPrecedence(t *testing.T) {
	const secs = 1700000000
	v6 := [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}
	// Both families in one template (Cisco ASR9k, pmacct_101): the
	// non-zero one is taken; both zero gives 0.0.0.0.
	fs := []fld{{8, 4, 0}, {27, 16, 0}, {12, 4, 0}, {28, 16, 0}, {15, 4, 0}, {62, 16, 0}}
	recs, errs := run(NewDecoder(Options{}), ipfixMsg(secs, 1, flowset(2, tmpl(300, fs...)), flowset(300,
		cat(u32(0), v6[:], u32(0x0a000002), make([]byte, 16), u32(0), v6[:]),
		cat(u32(0), make([]byte, 16), u32(0), make([]byte, 16), u32(0), make([]byte, 16)))))
	if len(errs) != 0 || len(recs) != 2 {
		t.Fatalf("%d records, %v", len(recs), errs)
	}
	if recs[0].Src != flow.Addr(v6) || recs[0].Dst != a4(10, 0, 0, 2) || recs[0].NextHop != flow.Addr(v6) {
		t.Errorf("dual: %s %s %s", recs[0].Src, recs[0].Dst, recs[0].NextHop)
	}
	if recs[1].Src != a4(0, 0, 0, 0) || recs[1].Dst != a4(0, 0, 0, 0) {
		t.Errorf("dual zero: %s %s", recs[1].Src, recs[1].Dst)
	}

	// Counter precedence: delta over total over post; BGP next hop only
	// without an IP next hop; VLAN 58 over 243 over 59.
	fs = []fld{{8, 4, 0}, {12, 4, 0}, {23, 8, 0}, {85, 8, 0}, {1, 8, 0}, {86, 8, 0}, {24, 8, 0},
		{18, 4, 0}, {59, 2, 0}, {243, 2, 0}}
	r := one(t, NewDecoder(Options{}), ipfixMsg(secs, 1, flowset(2, tmpl(301, fs...)), flowset(301,
		cat(u32(1), u32(2), u64(111), u64(222), u64(333), u64(44), u64(55), u32(0x0a0000fe), u16(7), u16(8)))))
	if r.Bytes != 333 || r.Packets != 44 || r.NextHop != a4(10, 0, 0, 254) || r.VLAN != 8 {
		t.Errorf("precedence: bytes %d packets %d hop %s vlan %d", r.Bytes, r.Packets, r.NextHop, r.VLAN)
	}
	// Reduced-size encoding (RFC 7011 6.2) and odd widths.
	fs = []fld{{8, 4, 0}, {12, 4, 0}, {1, 3, 0}, {2, 1, 0}, {10, 1, 0}, {16, 2, 0}, {6, 2, 0}}
	r = one(t, NewDecoder(Options{}), ipfixMsg(secs, 1, flowset(2, tmpl(302, fs...)), flowset(302,
		cat(u32(1), u32(2), []byte{1, 2, 3}, u8(9), u8(4), u16(65001), u16(0x0112)))))
	if r.Bytes != 0x010203 || r.Packets != 9 || r.InIf != 4 || r.SrcAS != 65001 || r.TCPFlags != 0x12 {
		t.Errorf("reduced size: %+v", r)
	}
	// A field of a width that makes no sense for its element is skipped.
	fs = []fld{{8, 16, 0}, {12, 4, 0}, {7, 9, 0}}
	r = one(t, NewDecoder(Options{}), ipfixMsg(secs, 1, flowset(2, tmpl(303, fs...)), flowset(303,
		cat(v6[:], u32(2), make([]byte, 9)))))
	if r.Src != (flow.Addr{}) || r.Dst != a4(0, 0, 0, 2) || r.SrcPort != 0 {
		t.Errorf("wrong widths: %+v", r)
	}
}

func TestBiflow(t *testing.T) {
	const secs = 1700000000
	fs := []fld{{8, 4, 0}, {12, 4, 0}, {2, 8, 0}, {1, 8, 0}, {2, 8, penReverse}, {1, 8, penReverse}, {6, 1, penReverse}, {1, 4, 9}}
	r := one(t, NewDecoder(Options{}), ipfixMsg(secs, 1, flowset(2, tmpl(300, fs...)), flowset(300,
		cat(u32(1), u32(2), u64(3), u64(300), u64(4), u64(4000), u8(0x12), u32(99)))))
	if r.Packets != 3 || r.Bytes != 300 || r.OutPackets != 4 || r.OutBytes != 4000 {
		t.Errorf("biflow: %d/%d out %d/%d", r.Packets, r.Bytes, r.OutPackets, r.OutBytes)
	}
	// NSEL initiator/responder octets (Cisco ASA).
	fs = []fld{{8, 4, 0}, {12, 4, 0}, {231, 4, 0}, {232, 4, 0}, {298, 8, 0}, {299, 8, 0}}
	r = one(t, NewDecoder(Options{}), v9Msg(1, 1, secs, 0, flowset(0, tmpl(300, fs...)), flowset(300,
		cat(u32(1), u32(2), u32(100), u32(200), u64(1), u64(2)))))
	if r.Packets != 1 || r.Bytes != 100 || r.OutPackets != 2 || r.OutBytes != 200 {
		t.Errorf("NSEL: %d/%d out %d/%d", r.Packets, r.Bytes, r.OutPackets, r.OutBytes)
	}
}

func TestVariableLength(t *testing.T) {
	const secs = 1700000000
	fs := []fld{{8, 4, 0}, {82, varLen, 0}, {12, 4, 0}, {96, varLen, 0}, {2, 4, 0}}
	long := make([]byte, 300)
	set := flowset(300,
		cat(u32(1), u8(3), []byte("eth"), u32(2), u8(0), u32(5)),
		cat(u32(3), u8(255), u16(300), long, u32(4), u8(1), []byte("x"), u32(6)),
		cat(u32(5), u8(200), make([]byte, 20)), // runs past the set
	)
	recs, errs := run(NewDecoder(Options{}), ipfixMsg(secs, 1, flowset(2, tmpl(300, fs...)), set))
	if len(recs) != 2 || recs[0].Dst != a4(0, 0, 0, 2) || recs[0].Packets != 5 || recs[1].Dst != a4(0, 0, 0, 4) || recs[1].Packets != 6 {
		t.Fatalf("records %+v", recs)
	}
	var de *DatagramError
	wantOff := 16 + 4 + len(tmpl(300, fs...)) + 4 + (4 + 1 + 3 + 4 + 1 + 4) + (4 + 3 + 300 + 4 + 2 + 4)
	if len(errs) != 1 || !errors.As(errs[0], &de) || de.Offset != wantOff || !errors.Is(errs[0], ErrMalformed) {
		t.Errorf("errors %v (want offset %d)", errs, wantOff)
	}
}

func TestSampling(t *testing.T) {
	const up, secs = 100000, 1700000000
	data := []fld{{8, 4, 0}, {12, 4, 0}, {2, 4, 0}, {1, 4, 0}}
	rec := cat(u32(1), u32(2), u32(10), u32(1000))

	// v9 options template, system scope (length 0 as Cisco sends it),
	// SAMPLING_INTERVAL 100: applies to the exporter's data.
	opt := v9OptTmpl(257, []fld{{1, 0, 0}}, []fld{{34, 4, 0}, {35, 1, 0}})
	d := NewDecoder(Options{ApplySampling: true})
	r := one(t, d, v9Msg(3, up, secs, 0, flowset(1, opt), flowset(257, u32(100), u8(2), []byte{0, 0, 0}),
		flowset(0, tmpl(256, data...)), flowset(256, rec)))
	if r.Sampling != 100 || r.Packets != 1000 || r.Bytes != 100000 {
		t.Errorf("v9 options sampling: %d %d %d", r.Sampling, r.Packets, r.Bytes)
	}
	if d.Stats().OptionsRecords != 1 || d.Stats().OptionsTemplates != 1 {
		t.Errorf("stats %+v", d.Stats())
	}

	// Samplers by id (FLOW_SAMPLER_ID 48 + FLOW_SAMPLER_RANDOM_INTERVAL 50,
	// as in akvorado_nfv9_options-*): the record names its sampler.
	opt = v9OptTmpl(258, []fld{{1, 4, 0}}, []fld{{48, 1, 0}, {49, 1, 0}, {50, 4, 0}})
	withID := append(append([]fld{}, data...), fld{48, 1, 0})
	d = NewDecoder(Options{})
	recs, errs := run(d, v9Msg(9, up, secs, 0, flowset(1, opt),
		flowset(258, cat(u32(0), u8(1), u8(2), u32(10)), cat(u32(0), u8(2), u8(2), u32(1000))),
		flowset(0, tmpl(256, withID...)), flowset(256, cat(rec, u8(2)), cat(rec, u8(1)), cat(rec, u8(9)))))
	if len(errs) != 0 || len(recs) != 3 || recs[0].Sampling != 1000 || recs[1].Sampling != 10 || recs[0].Packets != 10 {
		t.Fatalf("samplers: %v %+v", errs, recs)
	}
	if recs[2].Sampling != 1000 { // unknown id: the last interval the exporter gave
		t.Errorf("unknown sampler: %d", recs[2].Sampling)
	}

	// IPFIX 305/306: 1 packet selected, 99 skipped is 1 in 100; in the
	// data record itself.
	fs := append(append([]fld{}, data...), fld{305, 4, 0}, fld{306, 4, 0})
	r = one(t, NewDecoder(Options{}), ipfixMsg(secs, 1, flowset(2, tmpl(300, fs...)), flowset(300, cat(rec, u32(1), u32(99)))))
	if r.Sampling != 100 {
		t.Errorf("305/306: %d", r.Sampling)
	}
	// Nothing said: 0.
	r = one(t, NewDecoder(Options{}), ipfixMsg(secs, 1, flowset(2, tmpl(300, data...)), flowset(300, rec)))
	if r.Sampling != 0 {
		t.Errorf("unsampled: %d", r.Sampling)
	}
	// Saturation.
	sc := flow.Record{Packets: 1 << 60, Bytes: 5}
	scaleCounters(&sc, 1<<10)
	if sc.Packets != 1<<64-1 || sc.Bytes != 5<<10 {
		t.Errorf("saturation: %d %d", sc.Packets, sc.Bytes)
	}
}

func TestHeldData(t *testing.T) {
	const up, secs = 100000, 1700000000
	fs := []fld{{8, 4, 0}, {12, 4, 0}, {2, 4, 0}}
	data := v9Msg(2, up, secs, 5, flowset(300, cat(u32(1), u32(2), u32(3)), cat(u32(4), u32(5), u32(6))))
	tpl := v9Msg(1, up, secs, 5, flowset(0, tmpl(300, fs...)))

	// Data first (evidence 1), template later (evidence 2): decoded when
	// the template comes, keeping the data's evidence index.
	d := NewDecoder(Options{})
	var recs []flow.Record
	emit := func(r *flow.Record) { recs = append(recs, *r) }
	if err := d.Datagram(exporter, 2055, 0, data, 1, emit); err != nil || len(recs) != 0 {
		t.Fatalf("data: %v, %d records", err, len(recs))
	}
	if err := d.Datagram(exporter, 2055, 0, tpl, 2, emit); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Evidence != 1 || recs[1].Packets != 6 {
		t.Fatalf("late records %+v", recs)
	}
	if st := d.Stats(); st.HeldFlowsets != 1 || st.DecodedLate != 2 || st.Records != 2 {
		t.Errorf("stats %+v", st)
	}
	if err := d.Flush(); err != nil {
		t.Errorf("flush: %v", err)
	}

	// The template of another exporter port, or source id, does not
	// decode it.
	d = NewDecoder(Options{})
	recs = nil
	_ = d.Datagram(exporter, 2055, 0, data, 1, emit)
	_ = d.Datagram(exporter, 2056, 0, tpl, 1, emit)
	_ = d.Datagram(exporter, 2055, 0, v9Msg(1, up, secs, 6, flowset(0, tmpl(300, fs...))), 1, emit)
	err := d.Flush()
	var ue *UndecodableError
	if len(recs) != 0 || !errors.As(err, &ue) || ue.Records != 2 || ue.Flowsets != 1 || ue.Missing[0].TemplateID != 300 || ue.Missing[0].Domain != 5 {
		t.Fatalf("records %d, flush %v", len(recs), err)
	}
	if want := "undecodable: 2 data records in 1 flowsets (24 bytes) without template: v9 192.0.2.1:2055 domain 5 template 300 (1 flowsets)"; err.Error() != want {
		t.Errorf("flush error\n got %q\nwant %q", err, want)
	}
	if st := d.Stats(); st.UndecodableRecords != 2 || st.UndecodableFlowsets != 1 || d.Flush() != nil {
		t.Errorf("stats after flush %+v", st)
	}

	// MaxPending: what cannot be held is undecodable at once.
	d = NewDecoder(Options{MaxPending: 200})
	_, _ = run(d, data, data, data)
	if st := d.Stats(); st.HeldFlowsets != 1 || st.UndecodableFlowsets != 2 {
		t.Errorf("MaxPending: %+v", st)
	}
}

func TestWithdrawal(t *testing.T) {
	const secs = 1700000000
	fs := []fld{{8, 4, 0}, {12, 4, 0}}
	rec := cat(u32(1), u32(2))
	d := NewDecoder(Options{})
	recs, errs := run(d,
		ipfixMsg(secs, 1, flowset(2, tmpl(300, fs...), tmpl(301, fs...))),
		ipfixMsg(secs, 1, flowset(300, rec), flowset(301, rec)),
		ipfixMsg(secs, 1, flowset(2, u16(300), u16(0))), // withdraw 300
		ipfixMsg(secs, 1, flowset(300, rec), flowset(301, rec)),
		ipfixMsg(secs, 1, flowset(2, u16(2), u16(0))), // withdraw all data templates
		ipfixMsg(secs, 1, flowset(301, rec)),
	)
	if len(errs) != 0 || len(recs) != 3 {
		t.Fatalf("%d records, %v", len(recs), errs)
	}
	if st := d.Stats(); st.Withdrawals != 2 || st.HeldFlowsets != 2 || d.nTemplates != 0 {
		t.Errorf("stats %+v, %d templates", st, d.nTemplates)
	}
}

func TestTemplateRefresh(t *testing.T) {
	const secs = 1700000000
	a := []fld{{8, 4, 0}, {12, 4, 0}, {2, 4, 0}}
	b := []fld{{12, 4, 0}, {8, 4, 0}}
	d := NewDecoder(Options{})
	recs, errs := run(d,
		ipfixMsg(secs, 1, flowset(2, tmpl(300, a...)), flowset(300, cat(u32(1), u32(2), u32(3)))),
		ipfixMsg(secs, 1, flowset(2, tmpl(300, a...)), flowset(300, cat(u32(1), u32(2), u32(3)))),
		ipfixMsg(secs, 1, flowset(2, tmpl(300, b...)), flowset(300, cat(u32(1), u32(2)))),
	)
	if len(errs) != 0 || len(recs) != 3 || recs[2].Src != a4(0, 0, 0, 2) || recs[2].Packets != 0 {
		t.Fatalf("%v %+v", errs, recs)
	}
	if d.nTemplates != 1 || d.Stats().Templates != 3 {
		t.Errorf("%d templates, %+v", d.nTemplates, d.Stats())
	}
}

func TestNonFlowRecords(t *testing.T) {
	// A data template without addresses (counters of the exporter) gives
	// no flows; its records are counted.
	d := NewDecoder(Options{})
	recs, errs := run(d, ipfixMsg(1, 1, flowset(2, tmpl(300, fld{41, 8, 0}, fld{42, 8, 0})), flowset(300, u64(1), u64(2), u64(3), u64(4))))
	if len(recs) != 0 || len(errs) != 0 || d.Stats().NonFlowRecords != 2 {
		t.Errorf("%d records %v %+v", len(recs), errs, d.Stats())
	}
}
