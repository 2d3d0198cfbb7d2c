package nfcapd

import (
	"encoding/binary"
	"fmt"

	"github.com/spotctl/spotctl/decode/flow"
)

// Sampler ids with a special meaning (nfdump's exporter.h): samplers set on
// nfcapd's command line and the exporter-wide sampler of NetFlow v5 headers
// and v9/IPFIX options 34/35.
const (
	samplerOverwrite = -3 // nfcapd -s -N: applies to every flow of the exporter
	samplerDefault   = -2 // nfcapd -s N: applies when the exporter sends none
	samplerGeneric   = -1 // announced by the exporter for all its flows
)

// exporter is what the file says about one exporting device (sysid).
type exporter struct {
	addr     flow.Addr
	domain   uint32 // observation domain / source id / engine tag
	samplers []sampler
	// rate is the sampling interval for flows that name no sampler:
	// overwrite, else generic, else default; 0 when none is known.
	rate uint32
}

type sampler struct {
	id   int64
	rate uint32
}

// tables holds exporters and samplers by nfdump's internal exporter id. The
// id is 16 bits wide, so the map cannot outgrow 65536 entries; samplers are
// capped at maxSamplers.
type tables struct {
	exporters map[uint16]*exporter
	samplers  int
	lastID    uint16
	last      *exporter
}

func (t *tables) get(sysid uint16) *exporter {
	if t.last != nil && t.lastID == sysid {
		return t.last
	}
	e := t.exporters[sysid]
	if e != nil {
		t.last, t.lastID = e, sysid
	}
	return e
}

func (t *tables) getOrAdd(sysid uint16) *exporter {
	if e := t.get(sysid); e != nil {
		return e
	}
	if t.exporters == nil {
		t.exporters = make(map[uint16]*exporter)
	}
	e := &exporter{}
	t.exporters[sysid] = e
	t.last, t.lastID = e, sysid
	return e
}

// exporterInfoSize is exporter_info_record_t: header, version u32,
// ip_addr_t (16), sa_family u16, sysid u16, id u32.
const exporterInfoSize = 32

func (t *tables) addExporter(p []byte) error {
	if len(p) < exporterInfoSize {
		return fmt.Errorf("%w: exporter record of %d bytes, want %d", ErrCorrupt, len(p), exporterInfoSize)
	}
	le := binary.LittleEndian
	family := le.Uint16(p[24:])
	e := t.getOrAdd(le.Uint16(p[26:]))
	// sa_family differs between systems (AF_INET6 is 10 on Linux, 28 on
	// FreeBSD); AF_INET is 2 everywhere, and the layout tells the rest.
	e.addr = ipAddr(p[8:24], family != 2 && !v4InV6(p[8:24]))
	e.domain = le.Uint32(p[28:])
	return nil
}

// v4InV6 reports whether a stored ip_addr_t holds an IPv4 address: nfdump
// puts it in the low half with the first 8 bytes and the upper word zero.
func v4InV6(b []byte) bool {
	return binary.LittleEndian.Uint64(b) == 0 && binary.LittleEndian.Uint32(b[12:]) == 0
}

// ipAddr decodes nfdump's ip_addr_t (two host-order 64-bit words, IPv4 in
// the low 32 bits of the second word).
func ipAddr(b []byte, v6 bool) flow.Addr {
	le := binary.LittleEndian
	if !v6 {
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], le.Uint32(b[8:]))
		return flow.AddrFrom4(a)
	}
	return ip6(b)
}

// ip6 decodes an IPv6 address stored as two host-order 64-bit words, the
// first holding the most significant half.
func ip6(b []byte) flow.Addr {
	var a flow.Addr
	binary.BigEndian.PutUint64(a[0:], binary.LittleEndian.Uint64(b[0:]))
	binary.BigEndian.PutUint64(a[8:], binary.LittleEndian.Uint64(b[8:]))
	return a
}

// ip4 decodes an IPv4 address stored as a host-order 32-bit word.
func ip4(b []byte) flow.Addr {
	var a flow.Addr
	setIP4(&a, b)
	return a
}

// setIP4 and setIP6 write straight into a record field: the hot path
// decodes several addresses per record.
func setIP4(a *flow.Addr, b []byte) {
	*a = flow.Addr{10: 0xff, 11: 0xff}
	binary.BigEndian.PutUint32(a[12:], binary.LittleEndian.Uint32(b))
}

func setIP6(a *flow.Addr, b []byte) {
	binary.BigEndian.PutUint64(a[0:], binary.LittleEndian.Uint64(b[0:]))
	binary.BigEndian.PutUint64(a[8:], binary.LittleEndian.Uint64(b[8:]))
}

// Sampler record sizes: the legacy record (type 9) {id i32, interval u32,
// mode u16, exporter u16} and the 1.7 record (type 15) {exporter u16,
// algorithm u16, id i64, packet interval u32, packet space u32}.
const (
	samplerLegacySize = 16
	samplerSize       = 24
)

// addSampler records a sampler. It reports false when the table is full.
func (t *tables) addSampler(typ uint16, p []byte) (bool, error) {
	le := binary.LittleEndian
	var (
		sysid uint16
		id    int64
		rate  uint32
	)
	if typ == recSamplerLegacy {
		if len(p) < samplerLegacySize {
			return false, fmt.Errorf("%w: sampler record of %d bytes, want %d", ErrCorrupt, len(p), samplerLegacySize)
		}
		id = int64(int32(le.Uint32(p[4:])))
		rate = le.Uint32(p[8:])
		sysid = le.Uint16(p[14:])
	} else {
		if len(p) < samplerSize {
			return false, fmt.Errorf("%w: sampler record of %d bytes, want %d", ErrCorrupt, len(p), samplerSize)
		}
		sysid = le.Uint16(p[4:])
		id = int64(le.Uint64(p[8:]))
		// nfdump stores "1 in N" as packet interval 1, packet space N-1.
		interval, space := le.Uint32(p[16:]), le.Uint32(p[20:])
		if interval == 0 {
			rate = space
		} else {
			r := (uint64(interval) + uint64(space)) / uint64(interval)
			rate = uint32(min(r, 1<<32-1))
		}
	}
	e := t.getOrAdd(sysid)
	for i := range e.samplers {
		if e.samplers[i].id == id {
			e.samplers[i].rate = rate
			e.updateRate()
			return true, nil
		}
	}
	if t.samplers >= maxSamplers {
		return false, nil
	}
	t.samplers++
	e.samplers = append(e.samplers, sampler{id: id, rate: rate})
	e.updateRate()
	return true, nil
}

func (e *exporter) find(id int64) uint32 {
	for _, s := range e.samplers {
		if s.id == id {
			return s.rate
		}
	}
	return 0
}

func (e *exporter) updateRate() {
	for _, id := range [...]int64{samplerOverwrite, samplerGeneric, samplerDefault} {
		if r := e.find(id); r != 0 {
			e.rate = r
			return
		}
	}
	e.rate = 0
}

// sampling returns the interval for a flow of this exporter that names
// sampler id (hasID false when it names none). An overwrite sampler set on
// nfcapd's command line wins, as it does in nfcapd.
func (e *exporter) sampling(id int64, hasID bool) uint32 {
	if hasID && e.find(samplerOverwrite) == 0 {
		if r := e.find(id); r != 0 {
			return r
		}
	}
	return e.rate
}
