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

	spillDir string

	// The flows columns are buffered row-aligned: row k of the current
	// chunk of column i is at flowBuf[i][k*width:], and all columns fill
	// up together, so AddFlow looks for room once per row, not once per
	// value. A full chunk is handed to each column's spill.
	flowRows  uint64
	flows     [fCount]*spill // sparse columns stay nil until a row has a non-zero value
	flowBuf   [fCount][]byte // chunkRows values each; nil with flows[i]
	chunkRows int            // rows in the current chunk
	chunkCap  int            // rows per chunk
	sparseOn  int            // sparse columns created so far

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
	w.spillDir = filepath.Join(w.tmp, "spill")
	if err := os.MkdirAll(w.spillDir, 0o755); err != nil {
		return nil, fmt.Errorf("new segment: %w", err)
	}
	mk := func(name string) (*spill, error) { return newSpill(filepath.Join(w.spillDir, name), &w.err, chunkSize) }
	// A chunk of the widest column (addr) is chunkSize bytes.
	w.chunkCap = max(1, chunkSize/TypeAddr.Width())
	for i, col := range flowSchema {
		if col.Sparse {
			continue // created by the first non-zero value (sparseCol)
		}
		if w.flows[i], err = newSpill(filepath.Join(w.spillDir, "flows."+col.Name), &w.err, 0); err != nil {
			return nil, err
		}
		w.flowBuf[i] = make([]byte, w.chunkCap*col.Type.Width())
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

// AddFlow appends one flow row. It allocates only when a sparse column
// (flow-export fields) gets its first non-zero value, once per column and
// segment.
func (w *SegmentWriter) AddFlow(r *flow.Record) error {
	if w.done {
		return ErrWriterDone
	}
	if w.err != nil {
		return w.err
	}
	if w.chunkRows == w.chunkCap {
		w.flushFlows()
	}
	k := w.chunkRows
	b := &w.flowBuf
	le := binary.LittleEndian
	le.PutUint64(b[fFirst][8*k:], uint64(r.First))
	le.PutUint64(b[fLast][8*k:], uint64(r.Last))
	copy(b[fSrc][16*k:], r.Src[:])
	copy(b[fDst][16*k:], r.Dst[:])
	le.PutUint16(b[fSrcPort][2*k:], r.SrcPort)
	le.PutUint16(b[fDstPort][2*k:], r.DstPort)
	b[fProto][k] = r.Proto
	b[fTCPFlags][k] = r.TCPFlags
	b[fToS][k] = r.ToS
	le.PutUint16(b[fVLAN][2*k:], r.VLAN)
	le.PutUint64(b[fPackets][8*k:], r.Packets)
	le.PutUint64(b[fBytes][8*k:], r.Bytes)
	le.PutUint32(b[fEvidence][4*k:], r.Evidence)
	// Packet-capture rows have no flow-export fields: one test, no writes.
	if w.sparseOn > 0 || hasExportFields(r) {
		w.addSparse(r, k)
	}
	w.chunkRows++
	w.flowRows++
	return w.err
}

// flushFlows hands the current chunk of every flows column to its spill.
func (w *SegmentWriter) flushFlows() {
	for i, s := range w.flows {
		if s != nil {
			s.put(w.flowBuf[i][:w.chunkRows*flowSchema[i].Type.Width()])
		}
	}
	w.chunkRows = 0
}

// hasExportFields reports whether any field stored in a sparse column is
// non-zero.
func hasExportFields(r *flow.Record) bool {
	return r.OutPackets|r.OutBytes|
		uint64(r.ObsDomain|r.SrcAS|r.DstAS|r.InIf|r.OutIf|r.Sampling|uint32(r.SrcMask|r.DstMask|r.EndReason)) != 0 ||
		r.Exporter != (flow.Addr{}) || r.NextHop != (flow.Addr{})
}

// addSparse stores r's flow-export fields at row k of the current chunk
// of the sparse columns that exist, creating a column the first time one
// of its values is non-zero. Once a column exists every row writes it
// (zeros included): chunks are reused and must not keep stale values.
func (w *SegmentWriter) addSparse(r *flow.Record, k int) {
	le := binary.LittleEndian
	if b := w.sparseCol(fOutPackets, r.OutPackets == 0); b != nil {
		le.PutUint64(b[8*k:], r.OutPackets)
	}
	if b := w.sparseCol(fOutBytes, r.OutBytes == 0); b != nil {
		le.PutUint64(b[8*k:], r.OutBytes)
	}
	if b := w.sparseCol(fExporter, r.Exporter == flow.Addr{}); b != nil {
		copy(b[16*k:], r.Exporter[:])
	}
	if b := w.sparseCol(fObsDomain, r.ObsDomain == 0); b != nil {
		le.PutUint32(b[4*k:], r.ObsDomain)
	}
	if b := w.sparseCol(fSrcAS, r.SrcAS == 0); b != nil {
		le.PutUint32(b[4*k:], r.SrcAS)
	}
	if b := w.sparseCol(fDstAS, r.DstAS == 0); b != nil {
		le.PutUint32(b[4*k:], r.DstAS)
	}
	if b := w.sparseCol(fInIf, r.InIf == 0); b != nil {
		le.PutUint32(b[4*k:], r.InIf)
	}
	if b := w.sparseCol(fOutIf, r.OutIf == 0); b != nil {
		le.PutUint32(b[4*k:], r.OutIf)
	}
	if b := w.sparseCol(fNextHop, r.NextHop == flow.Addr{}); b != nil {
		copy(b[16*k:], r.NextHop[:])
	}
	if b := w.sparseCol(fSrcMask, r.SrcMask == 0); b != nil {
		b[k] = r.SrcMask
	}
	if b := w.sparseCol(fDstMask, r.DstMask == 0); b != nil {
		b[k] = r.DstMask
	}
	if b := w.sparseCol(fEndReason, r.EndReason == 0); b != nil {
		b[k] = r.EndReason
	}
	if b := w.sparseCol(fSampling, r.Sampling == 0); b != nil {
		le.PutUint32(b[4*k:], r.Sampling)
	}
}

// sparseCol returns the chunk of sparse column i, or nil while the column
// does not exist and the value (zero reports whether it is zero) need not
// create it.
func (w *SegmentWriter) sparseCol(i int, zero bool) []byte {
	if b := w.flowBuf[i]; b != nil || zero {
		return b
	}
	return w.createSparse(i)
}

// createSparse creates sparse column i at its first non-zero value: the
// rows already spilled get zeros in the file, the rows of the current
// chunk zeros in the new chunk. So an all-zero column is never
// materialised, in memory or on disk. It returns nil after a failure (the
// writer's sticky error is then set and AddFlow reports it).
func (w *SegmentWriter) createSparse(i int) []byte {
	if w.err != nil {
		return nil
	}
	col := flowSchema[i]
	s, err := newSpill(filepath.Join(w.spillDir, "flows."+col.Name), &w.err, 0)
	if err != nil {
		w.err = fmt.Errorf("segment %d: column %s: %w", w.number, col.Name, err)
		return nil
	}
	buf := make([]byte, w.chunkCap*col.Type.Width()) // zeroed
	for pad := (w.flowRows - uint64(w.chunkRows)) * uint64(col.Type.Width()); pad > 0; {
		n := min(pad, uint64(len(buf)))
		s.put(buf[:n])
		pad -= n
	}
	w.flows[i], w.flowBuf[i] = s, buf
	w.sparseOn++
	return buf
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

// flowParts spills the last chunk and lists the flows columns to write:
// every core column and the sparse columns that were created (had a
// non-zero value).
func (w *SegmentWriter) flowParts() ([]filePart, error) {
	w.flushFlows()
	parts := make([]filePart, 0, fCount)
	for i, col := range flowSchema {
		s := w.flows[i]
		if s == nil {
			continue
		}
		if want := w.flowRows * uint64(col.Type.Width()); s.n != want {
			// A bug in AddFlow, not bad input: refuse to write a file
			// whose shape the reader would reject.
			return nil, fmt.Errorf("flows column %s has %d bytes, want %d for %d rows", col.Name, s.n, want, w.flowRows)
		}
		parts = append(parts, spillPart(s, col.Name, col.Type, EncodingPlain, 0))
	}
	return parts, nil
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
	flowParts, err := w.flowParts()
	if err != nil {
		return fmt.Errorf("commit segment %d: %w", w.number, err)
	}
	if err := writeColumnFile(filepath.Join(w.tmp, TableFlows+".col"), TableFlows, w.flowRows, flowParts); err != nil {
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
		err = atomicfile.Sync(f)
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
	w.flowBuf = [fCount][]byte{}
	return errors.Join(errs...)
}
