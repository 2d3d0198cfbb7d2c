package hostile

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
)

// Legit describes one Legit call in a case: its tag and port offset.
type LegitCall struct {
	Tag     string
	PortOff uint16
}

// Case is one hostile evidence set.
type Case struct {
	Name string
	// Build writes the evidence into dir and returns the paths to ingest,
	// in order. scale is the size knob (1 short, 10 long).
	Build func(dir string, scale int) ([]string, error)
	// Legit lists the legitimate exchanges written by Legit.
	Legit []LegitCall
	// Export is true when the legitimate exported flow is in the evidence.
	Export bool
	// Warn is true when the ingest must warn (exit 3), naming every
	// hostile file with an offset.
	Warn bool
	// Note is true when the ingest must print notes (malformed traffic,
	// exit 0) naming every hostile file with an offset.
	Note bool
	// Args are extra ingest flags.
	Args []string
}

// Cases are the hostile evidence sets of the suite.
func Cases() []Case {
	two := []LegitCall{{"before", 0}, {"after", 1}}
	return []Case{
		{Name: "dns-udp", Build: dnsCase(false), Legit: two, Note: true},
		{Name: "dns-tcp", Build: dnsCase(true), Legit: two, Note: true},
		{Name: "ipfix-abuse-pcap", Build: exportsInPcap(false), Legit: two, Export: true, Warn: true},
		{Name: "v9-abuse-pcap", Build: exportsInPcap(true), Legit: two, Export: true, Warn: true},
		{Name: "export-abuse-raw", Build: exportsRaw, Legit: two, Export: true, Warn: true},
		{Name: "template-flood-pcap", Build: floodPcap, Legit: two, Export: true, Warn: true},
		{Name: "template-flood-raw", Build: floodRaw, Legit: two, Export: true, Warn: true},
		{Name: "pcap-caplen-4G", Build: caplenCase, Legit: two, Warn: true},
		{Name: "pcapng-lying-lengths", Build: pcapngCase, Legit: []LegitCall{{"ng0", 0}, {"ng1", 1}, {"ng2", 2}, {"ng3", 3}, {"ng4", 4}, {"after", 5}}, Warn: true},
		{Name: "gzip-bomb", Build: gzipBomb, Legit: []LegitCall{{"before", 0}}, Warn: true},
		{Name: "unique-flows", Build: uniqueFlows, Legit: two},
		// The same flood with a smaller flow table: the bound the
		// operator can set when the default is too big for the machine.
		{Name: "unique-flows-max-flows-100k", Build: uniqueFlows, Legit: two, Args: []string{"--max-flows", "100000"}},
		{Name: "fragment-flood", Build: fragmentFlood, Legit: two, Warn: true},
	}
}

func writePcap(path string, body func(c *Conversation)) error {
	w, err := CreatePcap(path)
	if err != nil {
		return err
	}
	c := &Conversation{W: w}
	body(c)
	if err := w.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// HostileNames are DNS question names (raw wire bytes, starting at
// message offset 12) that break the rules.
func HostileNames() map[string][]byte {
	m := map[string][]byte{}
	m["pointer-to-itself"] = []byte{0xc0, 12}
	m["two-pointer-loop"] = []byte{3, 'a', 'b', 'c', 0xc0, 18, 0xc0, 12}
	long := []byte{64}
	long = append(long, make([]byte, 64)...)
	m["label-64"] = append(long, 0)
	m["label-191"] = append(append([]byte{191}, make([]byte, 191)...), 0)
	var n300 []byte
	for i := 0; i < 5; i++ {
		n300 = append(n300, 63)
		for j := 0; j < 63; j++ {
			n300 = append(n300, 'x')
		}
	}
	m["name-320"] = append(n300, 0)
	m["pointer-past-end"] = []byte{0xff, 0xff}
	m["no-terminator"] = []byte{10, 'a', 'b'}
	return m
}

// HostileDNS returns crafted DNS messages.
func HostileDNS() [][]byte {
	names := HostileNames()
	var out [][]byte
	id := uint16(0x7000)
	for _, k := range []string{"pointer-to-itself", "two-pointer-loop", "label-64", "label-191", "name-320", "pointer-past-end", "no-terminator"} {
		out = append(out, RawNameMessage(id, names[k], 0, nil))
		id++
	}
	// A chain of 2000 compression pointers, each to the one before it,
	// the first to the question name: legal per pointer, absurd in total.
	b := DNSHeader(nil, id, true, 1, 2, 0, 0)
	b = EncodeName(b, "chain")
	b = append(b, 0, 1, 0, 1)
	b = append(b, 0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60, byte(4000>>8), byte(4000&0xff))
	prev := 12
	for i := 0; i < 2000; i++ {
		at := len(b)
		b = append(b, byte(0xc0|prev>>8), byte(prev))
		prev = at
	}
	b = append(b, byte(0xc0|prev>>8), byte(prev), 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4)
	out = append(out, b)
	id++
	// 65535 answers claimed, none present; and 65535 of each section.
	out = append(out, RawNameMessage(id, EncodeName(nil, "many.example.com"), 65535, nil))
	id++
	m := DNSHeader(nil, id, true, 65535, 65535, 65535, 65535)
	out = append(out, m)
	id++
	// An answer whose rdlength runs past the message.
	out = append(out, RawNameMessage(id, EncodeName(nil, "rdlen.example.com"), 1, []byte{0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0xff, 0xff, 5, 'a'}))
	// A TXT answer with 255 character-strings of length 255 claimed in 10 bytes.
	out = append(out, RawNameMessage(id+1, EncodeName(nil, "txt.example.com"), 1, []byte{0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 10, 255, 1, 2, 3}))
	return out
}

var dnsAttacker = EP("192.0.2.66", 53000)

func dnsCase(tcp bool) func(string, int) ([]string, error) {
	return func(dir string, scale int) ([]string, error) {
		p := filepath.Join(dir, "dns.pcap")
		msgs := HostileDNS()
		return []string{p}, writePcap(p, func(c *Conversation) {
			Legit(c, "before", 0)
			for r := 0; r < 200*scale; r++ {
				if tcp {
					var segs [][]byte
					for _, m := range msgs {
						segs = append(segs, TCPFramed(m))
					}
					cl := dnsAttacker
					cl.Port += uint16(r)
					c.TCPStream(cl, LegitResolver, segs, segs)
				} else {
					for _, m := range msgs {
						c.UDP(dnsAttacker, LegitResolver, m)
						c.UDP(LegitResolver, dnsAttacker, m)
					}
				}
			}
			Legit(c, "after", 1)
		})
	}
}

func exportsInPcap(v9 bool) func(string, int) ([]string, error) {
	return func(dir string, scale int) ([]string, error) {
		p := filepath.Join(dir, "exports.pcap")
		return []string{p}, writePcap(p, func(c *Conversation) {
			Legit(c, "before", 0)
			if v9 {
				c.UDP(ExporterEP, CollectorEP, LegitV9(7))
			} else {
				c.UDP(ExporterEP, CollectorEP, LegitIPFIX(7))
			}
			for r := 0; r < 20*scale; r++ {
				msgs := AbusiveIPFIX(8)
				if v9 {
					msgs = AbusiveV9(8)
				}
				for _, m := range msgs {
					c.UDP(ExporterEP, CollectorEP, m)
				}
			}
			Legit(c, "after", 1)
		})
	}
}

func writeFile(path string, chunks [][]byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, b := range chunks {
		w.Write(b)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func legitPcap(dir, name string, calls ...LegitCall) (string, error) {
	p := filepath.Join(dir, name)
	return p, writePcap(p, func(c *Conversation) {
		for _, l := range calls {
			Legit(c, l.Tag, l.PortOff)
		}
	})
}

func exportsRaw(dir string, scale int) ([]string, error) {
	a, err := legitPcap(dir, "legit-before.pcap", LegitCall{"before", 0})
	if err != nil {
		return nil, err
	}
	msgs := [][]byte{LegitIPFIX(7)}
	for r := 0; r < 20*scale; r++ {
		msgs = append(msgs, AbusiveIPFIX(8)...)
	}
	ipfix := filepath.Join(dir, "abuse.ipfix")
	if err := writeFile(ipfix, msgs); err != nil {
		return nil, err
	}
	msgs = [][]byte{LegitV9(9)}
	for r := 0; r < 20*scale; r++ {
		msgs = append(msgs, AbusiveV9(10)...)
	}
	v9 := filepath.Join(dir, "abuse.v9")
	if err := writeFile(v9, msgs); err != nil {
		return nil, err
	}
	b, err := legitPcap(dir, "legit-after.pcap", LegitCall{"after", 1})
	return []string{a, ipfix, v9, b}, err
}

// FloodTemplates is the number of distinct templates of the flood cases.
const FloodTemplates = 1_000_000

func floodPcap(dir string, scale int) ([]string, error) {
	p := filepath.Join(dir, "flood.pcap")
	return []string{p}, writePcap(p, func(c *Conversation) {
		Legit(c, "before", 0)
		c.UDP(ExporterEP, CollectorEP, LegitIPFIX(7))
		TemplateFlood(FloodTemplates, 170, func(m []byte) { c.UDP(ExporterEP, CollectorEP, m) })
		// The legitimate template is long evicted or refused by now:
		// the legitimate record must have been decoded when it came.
		Legit(c, "after", 1)
	})
}

func floodRaw(dir string, scale int) ([]string, error) {
	a, err := legitPcap(dir, "legit-before.pcap", LegitCall{"before", 0})
	if err != nil {
		return nil, err
	}
	p := filepath.Join(dir, "flood.ipfix")
	f, err := os.Create(p)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriter(f)
	w.Write(LegitIPFIX(7))
	TemplateFlood(FloodTemplates, 8000, func(m []byte) { w.Write(m) })
	if err := w.Flush(); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	b, err := legitPcap(dir, "legit-after.pcap", LegitCall{"after", 1})
	return []string{a, p, b}, err
}

// caplenCase: legitimate traffic, then a record claiming 2^32-1 captured
// bytes; the file ends there for the reader. A second file carries on.
func caplenCase(dir string, scale int) ([]string, error) {
	p := filepath.Join(dir, "caplen.pcap")
	err := writePcap(p, func(c *Conversation) {
		Legit(c, "before", 0)
		c.W.Record(c.USec, 0xffffffff, 0xffffffff, make([]byte, 4096))
	})
	if err != nil {
		return nil, err
	}
	b, err := legitPcap(dir, "after.pcap", LegitCall{"after", 1})
	return []string{p, b}, err
}

// pcapng block writer.
type ngWriter struct{ b []byte }

func (w *ngWriter) block(typ uint32, body []byte) {
	n := 12 + (len(body)+3)&^3
	w.b = binary.LittleEndian.AppendUint32(w.b, typ)
	w.b = binary.LittleEndian.AppendUint32(w.b, uint32(n))
	w.b = append(w.b, body...)
	for len(body)%4 != 0 {
		w.b = append(w.b, 0)
		body = append(body, 0)
	}
	w.b = binary.LittleEndian.AppendUint32(w.b, uint32(n))
}

func (w *ngWriter) header() {
	shb := binary.LittleEndian.AppendUint32(nil, 0x1a2b3c4d)
	shb = append(shb, 1, 0, 0, 0)
	shb = binary.LittleEndian.AppendUint64(shb, 0xffffffffffffffff)
	w.block(0x0a0d0d0a, shb)
	idb := []byte{1, 0, 0, 0}
	idb = binary.LittleEndian.AppendUint32(idb, 262144)
	w.block(1, idb)
}

func (w *ngWriter) epb(usec int64, frame []byte) {
	ts := uint64(Base)*1e6 + uint64(usec)
	body := binary.LittleEndian.AppendUint32(nil, 0)
	body = binary.LittleEndian.AppendUint32(body, uint32(ts>>32))
	body = binary.LittleEndian.AppendUint32(body, uint32(ts))
	body = binary.LittleEndian.AppendUint32(body, uint32(len(frame)))
	body = binary.LittleEndian.AppendUint32(body, uint32(len(frame)))
	w.block(6, append(body, frame...))
}

// legitNg writes the legitimate traffic as pcapng EPBs, through a pcap
// conversation whose frames are re-wrapped.
func legitNg(w *ngWriter, tag string, off uint16) error {
	tmp, err := os.CreateTemp("", "ng-*.pcap")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	pw := NewPcapWriter(tmp)
	c := &Conversation{W: pw}
	Legit(c, tag, off)
	if err := pw.Close(); err != nil {
		return err
	}
	tmp.Close()
	raw, err := os.ReadFile(tmp.Name())
	if err != nil {
		return err
	}
	for b := raw[24:]; len(b) >= 16; {
		sec, us, n := binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:]), binary.LittleEndian.Uint32(b[8:])
		w.epb(int64(sec-Base)*1e6+int64(us), b[16:16+n])
		b = b[16+n:]
	}
	return nil
}

// pcapngCase writes one pcapng per lie, each starting with legitimate
// traffic, and a clean one after.
func pcapngCase(dir string, scale int) ([]string, error) {
	lies := []func(w *ngWriter){
		func(w *ngWriter) { // total length 2^32-4
			w.b = binary.LittleEndian.AppendUint32(w.b, 6)
			w.b = binary.LittleEndian.AppendUint32(w.b, 0xfffffffc)
			w.b = append(w.b, make([]byte, 64)...)
		},
		func(w *ngWriter) { // trailing length disagrees
			w.epb(5e6, UDP(nil, dnsAttacker, LegitResolver, []byte("x")))
			binary.LittleEndian.PutUint32(w.b[len(w.b)-4:], 0x1000)
			w.epb(6e6, UDP(nil, dnsAttacker, LegitResolver, []byte("y")))
		},
		func(w *ngWriter) { // length below the minimum, then not a multiple of 4
			w.b = binary.LittleEndian.AppendUint32(w.b, 6)
			w.b = binary.LittleEndian.AppendUint32(w.b, 8)
			w.b = append(w.b, make([]byte, 40)...)
		},
		func(w *ngWriter) { // EPB captured length beyond its block
			body := make([]byte, 20)
			binary.LittleEndian.PutUint32(body[12:], 0xffffff00)
			binary.LittleEndian.PutUint32(body[16:], 0xffffff00)
			w.block(6, append(body, make([]byte, 32)...))
			w.b = binary.LittleEndian.AppendUint32(w.b, 6)
			w.b = binary.LittleEndian.AppendUint32(w.b, 0x31) // odd length
			w.b = append(w.b, make([]byte, 60)...)
		},
		func(w *ngWriter) { // an IDB with an option claiming 65535 bytes, EPB for interface 7
			idb := []byte{1, 0, 0, 0, 0, 0, 4, 0, 2, 0, 0xff, 0xff, 'a', 'b', 'c', 'd'}
			w.block(1, idb)
			body := make([]byte, 20)
			binary.LittleEndian.PutUint32(body, 7)
			w.block(6, body)
			w.b = binary.LittleEndian.AppendUint32(w.b, 0x0a0d0d0a) // SHB of 2^31
			w.b = binary.LittleEndian.AppendUint32(w.b, 0x80000000)
			w.b = binary.LittleEndian.AppendUint32(w.b, 0x1a2b3c4d)
		},
	}
	var paths []string
	for i, lie := range lies {
		w := &ngWriter{}
		w.header()
		if err := legitNg(w, fmt.Sprintf("ng%d", i), uint16(i)); err != nil {
			return nil, err
		}
		lie(w)
		p := filepath.Join(dir, fmt.Sprintf("lie%d.pcapng", i))
		if err := os.WriteFile(p, w.b, 0o644); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	b, err := legitPcap(dir, "after.pcap", LegitCall{"after", 5})
	return append(paths, b), err
}

// GzipBombBytes is the decompressed size of the gzip bomb: 128 MiB at
// scale 1, 1 GiB when long.
func GzipBombBytes(scale int) int {
	if scale > 1 {
		return 1 << 30
	}
	return 1 << 27
}

// gzipBomb: a gzip'd pcap of legitimate traffic followed by 1 GiB of
// zeros (1 GiB compresses to about 1 MB): to the reader, 16-byte empty
// records at time 0, or whatever it makes of them.
func gzipBomb(dir string, scale int) ([]string, error) {
	p := filepath.Join(dir, "bomb.pcap.gz")
	f, err := os.Create(p)
	if err != nil {
		return nil, err
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	pw := NewPcapWriter(zw)
	c := &Conversation{W: pw}
	Legit(c, "before", 0)
	if err := pw.Close(); err != nil {
		return nil, err
	}
	zeros := make([]byte, 1<<20)
	for i := 0; i < GzipBombBytes(scale)>>20; i++ {
		if _, err := zw.Write(zeros); err != nil {
			return nil, err
		}
	}
	// A record claiming 2^32-1 bytes after the zeros: the warning's offset
	// proves the reader went through the whole bomb, streaming.
	var h [16]byte
	for i := 8; i < 16; i++ {
		h[i] = 0xff
	}
	zw.Write(h[:])
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return []string{p}, f.Close()
}

// UniqueFlows is the number of distinct SYNs at scale 1.
const UniqueFlows = 1_000_000

func uniqueFlows(dir string, scale int) ([]string, error) {
	p := filepath.Join(dir, "flows.pcap")
	return []string{p}, writePcap(p, func(c *Conversation) {
		Legit(c, "before", 0)
		dst := EP("198.51.100.99", 80)
		var buf []byte
		n := UniqueFlows * scale
		for i := 0; i < n; i++ {
			src := Endpoint{Addr4(uint32(i / 16)), uint16(1024 + i%16)}
			buf = TCP(buf[:0], src, dst, SYN, uint32(i), 0, nil)
			c.W.Frame(c.USec+int64(i), buf) // 1 µs apart
		}
		c.USec += int64(n) + 1000
		Legit(c, "after", 1)
	})
}

// Fragments is the number of never-completed fragments at scale 1.
const Fragments = 100_000

func fragmentFlood(dir string, scale int) ([]string, error) {
	p := filepath.Join(dir, "fragments.pcap")
	return []string{p}, writePcap(p, func(c *Conversation) {
		Legit(c, "before", 0)
		dst := EP("198.51.100.98", 0).IP
		var buf []byte
		data := make([]byte, 1480)
		n := Fragments * scale
		for i := 0; i < n; i++ {
			src := Addr4(uint32(i >> 12))
			// First fragments (more set) of distinct datagrams, and every
			// fourth one a middle fragment far out at 64 kB.
			off := uint16(0)
			if i%4 == 3 {
				off = 65000 &^ 7
			}
			buf = Fragment(buf[:0], src, dst, uint16(i), off, true, data[:min(len(data), 65535-20-int(off))])
			c.W.Frame(c.USec+int64(i)*10, buf)
		}
		c.USec += int64(n)*10 + 1000
		Legit(c, "after", 1)
	})
}
