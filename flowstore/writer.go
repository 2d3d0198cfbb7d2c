package flowstore

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spotctl/spotctl/decode/flow"
	"github.com/spotctl/spotctl/flowstore/internal/atomicfile"
	"github.com/spotctl/spotctl/flowstore/internal/lockfile"
)

// Bounds of the qname dictionary kept in memory while writing. Past
// either, the dictionary is dropped and the column is stored plain. At the
// defaults the dictionary costs at most ~40 MB (strings, map and list).
var (
	maxDictEntries = 1 << 18
	maxDictBytes   = 16 << 20
)

// SegmentWriter appends one segment. Rows go to per-column spill files in
// the segment's temp directory, so memory does not grow with the row count;
// Commit assembles the column files and publishes the segment with one
// rename. Use it from one goroutine. Typical use:
//
//	w, err := c.NewSegment()
//	if err != nil { return err }
//	defer w.Abort() // no-op after Commit
//	for ... { if err := w.AddFlow(&r); err != nil { return err } }
//	return w.Commit(&manifest)
type SegmentWriter struct {
	c      *Case
	lock   *lockfile.Lock
	number int
	tmp    string
	done   bool
	err    error // sticky: the first write failure

	flowRows uint64
	flows    [fCount]*spill

	dnsRows uint64
	dns     [dCount]*spill // nil at dQName and dAnswers
	qname   varSpill
	answers varSpill
	dict    qnameDict
	scratch []byte // answers encoding buffer
}

// qnameDict builds the dictionary encoding of qname alongside the plain
// one, until it outgrows its bounds. Ids are first-appearance order, so
// the output is deterministic.
type qnameDict struct {
	ids      *spill
	m        map[string]uint32
	list     []string
	bytes    int
	overflow bool
}

func (d *qnameDict) add(s string) {
	if d.overflow {
		return
	}
	id, ok := d.m[s]
	if !ok {
		if len(d.list) >= maxDictEntries || d.bytes+len(s) > maxDictBytes {
			// Too many distinct names to be worth a dictionary (DGA or
			// tunnelling traffic): free it, the plain spill has everything.
			d.overflow, d.m, d.list = true, nil, nil
			return
		}
		s = strings.Clone(s) // do not pin the caller's buffer
		id = uint32(len(d.list))
		d.m[s] = id
		d.list = append(d.list, s)
		d.bytes += len(s)
	}
	d.ids.u32(id)
}

// NewSegment starts a new segment. It takes the case's writer lock
// (ErrLocked if another writer has it), removes stale temp entries and
// picks the number after the highest committed segment.
func (c *Case) NewSegment() (w *SegmentWriter, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, fmt.Errorf("new segment: %w", ErrClosed)
	}
	lock, err := lockfile.TryLock(filepath.Join(c.dir, lockFileName))
	if err != nil {
		return nil, fmt.Errorf("new segment in %s: %w", c.dir, err)
	}
	w = &SegmentWriter{c: c, lock: lock}
	defer func() {
		if err != nil {
			w.release() // not w.cleanup: c.mu is held here
		}
	}()
	if _, err := atomicfile.RemoveTemps(c.dir); err != nil {
		return nil, fmt.Errorf("new segment in %s: remove stale temp files: %w", c.dir, err)
	}
	// Another process may have committed since Open.
	if err := c.refresh(); err != nil {
		return nil, err
	}
	w.number = 1
	if n := len(c.segs); n > 0 {
		w.number = c.segs[n-1].Number + 1
	}
	w.tmp = filepath.Join(c.dir, atomicfile.TempPrefix+segName(w.number))
	spillDir := filepath.Join(w.tmp, "spill")
	if err := os.MkdirAll(spillDir, 0o755); err != nil {
		return nil, fmt.Errorf("new segment: %w", err)
	}
	mk := func(name string) (*spill, error) { return newSpill(filepath.Join(spillDir, name), &w.err) }
	for i, col := range flowSchema {
		if w.flows[i], err = mk("flows." + col.Name); err != nil {
			return nil, err
		}
	}
	for i, col := range dnsSchema {
		if i == dQName || i == dAnswers {
			continue
		}
		if w.dns[i], err = mk("dns." + col.Name); err != nil {
			return nil, err
		}
	}
	for _, p := range []struct {
		dst  **spill
		name string
	}{
		{&w.qname.offs, "dns.qname.offsets"}, {&w.qname.heap, "dns.qname.heap"},
		{&w.answers.offs, "dns.answers.offsets"}, {&w.answers.heap, "dns.answers.heap"},
		{&w.dict.ids, "dns.qname.ids"},
	} {
		if *p.dst, err = mk(p.name); err != nil {
			return nil, err
		}
	}
	w.qname.offs.u64(0)
	w.answers.offs.u64(0)
	w.dict.m = map[string]uint32{}
	c.writer = w
	return w, nil
}

// Number is the segment number Commit will publish.
func (w *SegmentWriter) Number() int { return w.number }

// AddFlow appends one flow row. It does not allocate.
func (w *SegmentWriter) AddFlow(r *flow.Record) error {
	if w.done {
		return ErrWriterDone
	}
	if w.err != nil {
		return w.err
	}
	s := &w.flows
	s[fFirst].u64(uint64(r.First))
	s[fLast].u64(uint64(r.Last))
	s[fSrc].addr(&r.Src)
	s[fDst].addr(&r.Dst)
	s[fSrcPort].u16(r.SrcPort)
	s[fDstPort].u16(r.DstPort)
	s[fProto].u8(r.Proto)
	s[fTCPFlags].u8(r.TCPFlags)
	s[fToS].u8(r.ToS)
	s[fVLAN].u16(r.VLAN)
	s[fPackets].u64(r.Packets)
	s[fBytes].u64(r.Bytes)
	s[fEvidence].u32(r.Evidence)
	w.flowRows++
	return w.err
}

// AddDNS appends one DNS row. It allocates only for a qname not seen
// before in this segment (the dictionary keeps a copy).
func (w *SegmentWriter) AddDNS(m *flow.DNSMessage) error {
	if w.done {
		return ErrWriterDone
	}
	if w.err != nil {
		return w.err
	}
	s := &w.dns
	s[dTS].u64(uint64(m.TS))
	s[dClient].addr(&m.Client)
	s[dServer].addr(&m.Server)
	s[dClientPort].u16(m.ClientPort)
	s[dServerPort].u16(m.ServerPort)
	s[dTransport].u8(m.Transport)
	s[dID].u16(m.ID)
	var resp uint8
	if m.Response {
		resp = 1
	}
	s[dResponse].u8(resp)
	s[dOpcode].u8(m.Opcode)
	s[dRcode].u8(m.Rcode)
	s[dFlags].u8(m.Flags)
	w.qname.add(m.QName)
	w.dict.add(m.QName)
	s[dQType].u16(m.QType)
	s[dQClass].u16(m.QClass)
	s[dANCount].u16(m.ANCount)
	w.scratch = flow.EncodeAnswers(w.scratch[:0], m.Answers)
	w.answers.heap.str(unsafeString(w.scratch))
	w.answers.offs.u64(w.answers.heap.n)
	s[dTTL].u32(m.TTL)
	s[dFrameLen].u32(m.FrameLen)
	s[dEvidence].u32(m.Evidence)
	w.dnsRows++
	return w.err
}

// Rows reports the rows added so far (flows, dns).
func (w *SegmentWriter) Rows() (flows, dns uint64) { return w.flowRows, w.dnsRows }

func spillPart(s *spill, name string, typ Type, enc Encoding, part uint8) filePart {
	return filePart{e: dirEntry{name: name, typ: typ, enc: enc, part: part}, spill: s}
}

func (w *SegmentWriter) flowParts() []filePart {
	parts := make([]filePart, 0, fCount)
	for i, col := range flowSchema {
		parts = append(parts, spillPart(w.flows[i], col.Name, col.Type, EncodingPlain, 0))
	}
	return parts
}

func (w *SegmentWriter) dnsParts() []filePart {
	var parts []filePart
	for i, col := range dnsSchema {
		switch i {
		case dQName:
			parts = append(parts, w.qnameParts()...)
		case dAnswers:
			parts = append(parts,
				spillPart(w.answers.offs, col.Name, col.Type, EncodingPlain, 0),
				spillPart(w.answers.heap, col.Name, col.Type, EncodingPlain, 1))
		default:
			parts = append(parts, spillPart(w.dns[i], col.Name, col.Type, EncodingPlain, 0))
		}
	}
	return parts
}

// qnameParts picks the smaller of the dictionary and plain encodings (the
// dictionary only if it stayed within its bounds).
func (w *SegmentWriter) qnameParts() []filePart {
	d := &w.dict
	plainSize := w.qname.offs.n + w.qname.heap.n
	if !d.overflow {
		dictSize := d.ids.n + 8*uint64(len(d.list)+1) + uint64(d.bytes)
		if dictSize < plainSize {
			list := d.list
			return []filePart{
				spillPart(d.ids, ColQName, TypeString, EncodingDict, 0),
				{e: dirEntry{name: ColQName, typ: TypeString, enc: EncodingDict, part: 1}, gen: func(wr io.Writer) error {
					var b [8]byte
					off := uint64(0)
					for i := 0; i <= len(list); i++ {
						binary.LittleEndian.PutUint64(b[:], off)
						if _, err := wr.Write(b[:]); err != nil {
							return err
						}
						if i < len(list) {
							off += uint64(len(list[i]))
						}
					}
					return nil
				}},
				{e: dirEntry{name: ColQName, typ: TypeString, enc: EncodingDict, part: 2}, gen: func(wr io.Writer) error {
					for _, s := range list {
						if _, err := io.WriteString(wr, s); err != nil {
							return err
						}
					}
					return nil
				}},
			}
		}
	}
	return []filePart{
		spillPart(w.qname.offs, ColQName, TypeString, EncodingPlain, 0),
		spillPart(w.qname.heap, ColQName, TypeString, EncodingPlain, 1),
	}
}

func (w *SegmentWriter) spills() []*spill {
	out := make([]*spill, 0, fCount+dCount+3)
	out = append(out, w.flows[:]...)
	out = append(out, w.dns[:]...)
	return append(out, w.qname.offs, w.qname.heap, w.answers.offs, w.answers.heap, w.dict.ids)
}

// Commit writes the column files and m (with Segment, Flows and DNS set —
// on the caller's struct too) into the temp directory, fsyncs them and
// the directory, renames it to seg-NNNNNN and fsyncs the case directory.
// On any error before the rename the temp directory is removed and the
// case is unchanged. An error after the rename (fsync of the case
// directory) means the segment is visible but may not survive a power
// loss; it is then reported and kept.
func (w *SegmentWriter) Commit(m *Manifest) (err error) {
	if w.done {
		return ErrWriterDone
	}
	defer func() {
		if err != nil && !w.done {
			w.cleanup()
		}
	}()
	if w.err != nil {
		return fmt.Errorf("commit segment %d: %w", w.number, w.err)
	}
	if m == nil {
		m = &Manifest{}
	}
	if err := writeColumnFile(filepath.Join(w.tmp, TableFlows+".col"), TableFlows, w.flowRows, w.flowParts()); err != nil {
		return fmt.Errorf("commit segment %d: %w", w.number, err)
	}
	if err := writeColumnFile(filepath.Join(w.tmp, TableDNS+".col"), TableDNS, w.dnsRows, w.dnsParts()); err != nil {
		return fmt.Errorf("commit segment %d: %w", w.number, err)
	}
	if err := w.closeSpills(); err != nil {
		return fmt.Errorf("commit segment %d: %w", w.number, err)
	}
	if err := os.RemoveAll(filepath.Join(w.tmp, "spill")); err != nil {
		return fmt.Errorf("commit segment %d: %w", w.number, err)
	}
	m.Segment, m.Flows, m.DNS = w.number, w.flowRows, w.dnsRows
	m.normalize()
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("commit segment %d: manifest: %w", w.number, err)
	}
	if err := writeSynced(filepath.Join(w.tmp, manifestFileName), append(b, '\n')); err != nil {
		return fmt.Errorf("commit segment %d: %w", w.number, err)
	}
	if err := atomicfile.SyncDir(w.tmp); err != nil {
		return fmt.Errorf("commit segment %d: %w", w.number, err)
	}
	final := filepath.Join(w.c.dir, segName(w.number))
	if err := os.Rename(w.tmp, final); err != nil {
		return fmt.Errorf("commit segment %d: %w", w.number, err)
	}
	// Committed: from here on the segment exists whatever happens.
	w.done = true
	syncErr := atomicfile.SyncDir(w.c.dir)
	w.lock.Unlock()
	seg := &Segment{Number: w.number, Manifest: *m, dir: final}
	c := w.c
	c.mu.Lock()
	c.writer = nil
	if !c.closed {
		c.segs = append(c.segs, seg)
	}
	c.mu.Unlock()
	if syncErr != nil {
		return fmt.Errorf("segment %d committed but the case directory could not be synced: %w", w.number, syncErr)
	}
	return nil
}

func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func (w *SegmentWriter) closeSpills() error {
	var errs []error
	for _, s := range w.spills() {
		errs = append(errs, s.close())
	}
	return errors.Join(errs...)
}

// Abort discards the segment: the temp directory is removed and the lock
// released. After Commit it does nothing and returns nil.
func (w *SegmentWriter) Abort() error {
	if w.done {
		return nil
	}
	return w.cleanup()
}

// cleanup releases the writer and detaches it from its case.
func (w *SegmentWriter) cleanup() error {
	err := w.release()
	w.c.mu.Lock()
	if w.c.writer == w {
		w.c.writer = nil
	}
	w.c.mu.Unlock()
	return err
}

// release removes the temp directory and drops the lock.
func (w *SegmentWriter) release() error {
	w.done = true
	errs := []error{w.closeSpills()}
	if w.tmp != "" {
		errs = append(errs, os.RemoveAll(w.tmp))
	}
	errs = append(errs, w.lock.Unlock())
	w.dict.m, w.dict.list = nil, nil
	return errors.Join(errs...)
}
