package netflow

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/spotctl/spotctl/decode/flow"
)

// varLen is the IPFIX field length that announces a variable-length field.
const varLen = 0xFFFF

// maxRecordLen bounds the minimum length of one record: it must fit one
// flowset of a 65535-byte datagram.
const maxRecordLen = 65535 - 20 - 4

// penReverse is the private enterprise number RFC 5103 uses for reverse
// information elements.
const penReverse = 29305

// step is one compiled field: where it sits in a record and what to do
// with it. For variable-length templates off/len are filled per record.
type step struct {
	off uint16
	len uint16
	op  op
}

// fieldSpec is one field as the template declared it.
type fieldSpec struct {
	id  uint16
	len uint16
	pen uint32
}

// template is a compiled data or options template.
type template struct {
	id      uint16
	options bool
	raw     []byte // the template record as received, to recognise refreshes

	// steps holds the actions of the fields that matter, in record order.
	steps []step
	// For variable-length templates: every field's length (varLen for
	// variable ones) and the index of its step (-1 for skipped fields).
	variable bool
	lens     []uint16
	stepOf   []int16

	recLen int // fixed record length (variable: minimum length)

	isFlow    bool // has an address element: records become flows
	start     timeKind
	end       timeKind
	dur       timeKind
	samp      sampKind
	dualSrc   bool // both IPv4 and IPv6 source elements: take the non-zero one
	dualDst   bool
	dualHop   bool
	icmp      bool // has an ICMP type/code element
	icmpSplit bool // type and code come in separate elements (176-179)
	sampler   bool // has a sampler/selector id element
	sysInit   bool // data record carries IE 160
	nFields   int
	scopeLen  int // options: number of scope fields (v9 scope fields are skipped)
}

// parseFields reads n field specifiers from b (IPFIX form when ipfix, with
// enterprise numbers). It returns the specs and the bytes consumed, or an
// error when b is too short. n has been checked against MaxFields.
func parseFields(b []byte, n int, ipfix bool, specs []fieldSpec) ([]fieldSpec, int, error) {
	off := 0
	for i := 0; i < n; i++ {
		if len(b)-off < 4 {
			return specs, off, fmt.Errorf("%w: field %d of %d runs past the set (%d bytes left)", ErrMalformed, i+1, n, len(b)-off)
		}
		f := fieldSpec{id: binary.BigEndian.Uint16(b[off:]), len: binary.BigEndian.Uint16(b[off+2:])}
		off += 4
		if ipfix && f.id&0x8000 != 0 {
			if len(b)-off < 4 {
				return specs, off, fmt.Errorf("%w: enterprise number of field %d runs past the set", ErrMalformed, i+1)
			}
			f.id &= 0x7FFF
			f.pen = binary.BigEndian.Uint32(b[off:])
			off += 4
		}
		specs = append(specs, f)
	}
	return specs, off, nil
}

// compile builds a template from its field specs. scope is the number of
// leading scope fields (options templates); in v9 they are scope types, not
// elements, and are skipped.
func compile(id uint16, specs []fieldSpec, scope int, options, ipfix bool) (*template, error) {
	t := &template{id: id, options: options, nFields: len(specs), scopeLen: scope}
	for _, f := range specs {
		if f.len == varLen && ipfix {
			t.variable = true
			t.recLen++ // at least the one-byte length prefix
			continue
		}
		// A zero-length field carries nothing (Cisco's v9 "System" option
		// scope is sent that way); it is skipped like any unknown field.
		t.recLen += int(f.len)
	}
	if t.recLen == 0 {
		return nil, fmt.Errorf("%w: template %d: records would be empty", ErrTemplate, id)
	}
	if t.recLen > maxRecordLen {
		return nil, fmt.Errorf("%w: template %d: record length %d exceeds %d", ErrTemplate, id, t.recLen, maxRecordLen)
	}

	// First pass: decide the op of every field.
	ops := make([]op, len(specs))
	var have [opCount]bool
	for i, f := range specs {
		o := opSkip
		if !(options && !ipfix && i < scope) && f.len != varLen {
			o = opFor(f.id, f.pen, f.len)
		}
		if options {
			o = optionsOp(o)
		}
		ops[i] = o
		have[o] = true
	}
	// Second pass: precedence between elements that fill the same target,
	// decided once here so that record decoding never branches on it.
	demote := func(lo op, hi ...op) {
		for _, h := range hi {
			if have[h] {
				for i := range ops {
					if ops[i] == lo {
						ops[i] = opSkip
					}
				}
				have[lo] = false
				return
			}
		}
	}
	demote(opBytesTotal, opBytes)
	demote(opBytesPost, opBytes, opBytesTotal)
	demote(opBytesInit, opBytes, opBytesTotal, opBytesPost)
	demote(opPacketsTotal, opPackets)
	demote(opPacketsPost, opPackets, opPacketsTotal)
	demote(opPacketsInit, opPackets, opPacketsTotal, opPacketsPost)
	demote(opRevBytesTotal, opRevBytes)
	demote(opBytesResp, opRevBytes, opRevBytesTotal)
	demote(opRevPacketsTotal, opRevPackets)
	demote(opPacketsResp, opRevPackets, opRevPacketsTotal)
	demote(opBGPHop4, opHop4, opHop6)
	demote(opBGPHop6, opHop4, opHop6)
	demote(opVLANDot1q, opVLAN)
	demote(opVLANPost, opVLAN, opVLANDot1q)
	demote(opICMPType, opICMP)
	demote(opICMPCode, opICMP)
	demote(opSampPacketSpace, opSampInterval)
	demote(opSampPacketInterval, opSampInterval)
	demote(opSampSize, opSampInterval, opSampPacketInterval)
	demote(opSampPopulation, opSampInterval, opSampPacketInterval)
	demote(opSelectorID, opSamplerID)
	// times: the most precise absolute pair wins
	demote(opStartUs, opStartNs)
	demote(opStartMs, opStartNs, opStartUs)
	demote(opStartSec, opStartNs, opStartUs, opStartMs)
	demote(opStartSysUp, opStartNs, opStartUs, opStartMs, opStartSec)
	demote(opStartDeltaUs, opStartNs, opStartUs, opStartMs, opStartSec, opStartSysUp)
	demote(opEndUs, opEndNs)
	demote(opEndMs, opEndNs, opEndUs)
	demote(opEndSec, opEndNs, opEndUs, opEndMs)
	demote(opEndSysUp, opEndNs, opEndUs, opEndMs, opEndSec)
	demote(opEndDeltaUs, opEndNs, opEndUs, opEndMs, opEndSec, opEndSysUp)
	demote(opDurUs, opDurMs)

	// Elements that may legitimately appear twice (an exporter repeating a
	// field) keep their last occurrence: each target is written once per
	// step, so the later step simply overwrites. Nothing to do here.

	t.start = pickTime(have[:], opStartNs, opStartUs, opStartMs, opStartSec, opStartSysUp, opStartDeltaUs)
	t.end = pickTime(have[:], opEndNs, opEndUs, opEndMs, opEndSec, opEndSysUp, opEndDeltaUs)
	switch {
	case have[opDurMs]:
		t.dur = tkMs
	case have[opDurUs]:
		t.dur = tkUs
	}
	switch {
	case have[opSampInterval]:
		t.samp = skInterval
	case have[opSampPacketInterval] && have[opSampPacketSpace]:
		t.samp = skPacketIntervalSpace
	case have[opSampPacketInterval]:
		t.samp = skInterval // an interval alone reads as 1 in N
	case have[opSampSize] && have[opSampPopulation]:
		t.samp = skSizePopulation
	}
	t.dualSrc = have[opSrc4] && have[opSrc6]
	t.dualDst = have[opDst4] && have[opDst6]
	t.dualHop = (have[opHop4] && have[opHop6]) || (have[opBGPHop4] && have[opBGPHop6])
	t.isFlow = !options && (have[opSrc4] || have[opSrc6] || have[opDst4] || have[opDst6])
	t.icmp = have[opICMP] || have[opICMPType] || have[opICMPCode]
	t.icmpSplit = !have[opICMP] && t.icmp
	t.sampler = have[opSamplerID] || have[opSelectorID]
	t.sysInit = have[opSysInit]

	// Third pass: the steps.
	off := 0
	if t.variable {
		t.lens = make([]uint16, len(specs))
		t.stepOf = make([]int16, len(specs))
	}
	for i, f := range specs {
		o := ops[i]
		if t.variable {
			t.lens[i] = f.len
			t.stepOf[i] = -1
			if o != opSkip {
				t.stepOf[i] = int16(len(t.steps))
			}
		}
		if o != opSkip {
			t.steps = append(t.steps, step{off: uint16(off), len: f.len, op: o})
		}
		if !t.variable {
			off += int(f.len)
		}
	}
	return t, nil
}

func pickTime(have []bool, ns, us, ms, sec, sysUp, delta op) timeKind {
	switch {
	case have[ns]:
		return tkNs
	case have[us]:
		return tkUs
	case have[ms]:
		return tkMs
	case have[sec]:
		return tkSec
	case have[sysUp]:
		return tkSysUp
	case have[delta]:
		return tkDeltaUs
	}
	return tkNone
}

// define installs a template record (raw bytes, already parsed into specs)
// in session s. It returns the template in force for the id (nil when
// refused) and an error for refusals.
func (d *Decoder) define(s *session, id uint16, raw []byte, specs []fieldSpec, scope int, options, ipfix bool) (*template, error) {
	old := s.templates[id]
	if old != nil && old.options == options && bytes.Equal(old.raw, raw) {
		return old, nil // refresh
	}
	// The cap is checked before compiling, so that a flood of template
	// ids costs no allocation.
	if old == nil && d.nTemplates >= d.opts.MaxTemplates {
		d.stats.TemplatesRefused++
		return nil, errTemplateCap
	}
	t, err := compile(id, specs, scope, options, ipfix)
	if err != nil {
		d.stats.TemplatesRefused++
		return nil, err
	}
	if old == nil {
		d.nTemplates++
	}
	t.raw = append([]byte(nil), raw...)
	s.templates[id] = t
	return t, nil
}

// errTemplateCap is define's refusal for MaxTemplates (the caller words it).
var errTemplateCap = errors.New("template cap")

// withdraw removes template id (or, for id 2/3 in an IPFIX withdrawal, all
// data/options templates) from s.
func (d *Decoder) withdraw(s *session, id uint16, setID uint16) {
	d.stats.Withdrawals++
	if id == setID { // "all templates of this set type", RFC 7011 8.1
		for k, t := range s.templates {
			if t.options == (setID == 3) {
				delete(s.templates, k)
				d.nTemplates--
			}
		}
		return
	}
	if _, ok := s.templates[id]; ok {
		delete(s.templates, id)
		d.nTemplates--
	}
}

// templateSet parses a template flowset body (v9 id 0/1, IPFIX id 2/3) of
// session s (nil when no session slot was available) and decodes any data
// held for the templates it defines. base is the body's offset in the
// datagram. It returns the template records seen and the first error.
func (d *Decoder) templateSet(s *session, setID uint16, body []byte, base int, emit func(*flow.Record)) (int, error) {
	ipfix := setID >= 2
	options := setID == 1 || setID == 3
	var firstErr error
	// notef reports a problem; only the first of a set is formatted (a
	// flood of refused templates must not cost a message each).
	notef := func(off int, format string, args ...any) {
		if firstErr == nil {
			firstErr = d.fail(base+off, fmt.Errorf(format, args...))
		} else {
			d.stats.Errors++
		}
	}
	n := 0
	off := 0
	for {
		rest := body[off:]
		// Padding at the end of the set is shorter than any template record.
		minHdr := 4
		if options && !ipfix {
			minHdr = 6
		}
		if len(rest) < minHdr {
			break
		}
		id := binary.BigEndian.Uint16(rest)
		count := int(binary.BigEndian.Uint16(rest[2:]))
		if id == 0 && count == 0 {
			break // zero padding (id 0 is no template)
		}
		if ipfix && count == 0 {
			// Withdrawal: 4 bytes.
			if s != nil {
				d.withdraw(s, id, setID)
			}
			n++
			off += 4
			continue
		}
		hdr := 4
		scope := 0
		switch {
		case options && !ipfix:
			// v9: template id, scope length, option length, in bytes.
			sl, ol := count, int(binary.BigEndian.Uint16(rest[4:]))
			if sl%4 != 0 || ol%4 != 0 {
				notef(off, "%w: v9 options template %d: scope length %d and option length %d must be multiples of 4", ErrMalformed, id, sl, ol)
				return n, firstErr // cannot find the next record
			}
			scope, count, hdr = sl/4, (sl+ol)/4, 6
		case options:
			if len(rest) < 6 {
				notef(off, "%w: IPFIX options template %d cut short", ErrMalformed, id)
				return n, firstErr
			}
			scope, hdr = int(binary.BigEndian.Uint16(rest[4:])), 6
		}
		// Refuse an oversized template before allocating anything for it;
		// its length is still needed to find the next record.
		if count > d.opts.MaxFields {
			need := count * 4
			if ipfix {
				// enterprise fields make it longer: walk specs cheaply
				need = ipfixSpecLen(rest[hdr:], count)
			}
			if need < 0 || hdr+need > len(rest) {
				notef(off, "%w: template %d: %d fields run past the set", ErrMalformed, id, count)
				return n, firstErr
			}
			d.stats.TemplatesRefused++
			notef(off, "%w: template %d: %d fields exceed %d (MaxFields)", ErrTemplate, id, count, d.opts.MaxFields)
			off += hdr + need
			n++
			continue
		}
		var used int
		var err error
		d.specs, used, err = parseFields(rest[hdr:], count, ipfix, d.specs[:0])
		specs := d.specs
		if err != nil {
			notef(off, "template %d: %w", id, err)
			return n, firstErr
		}
		raw := rest[:hdr+used]
		off += hdr + used
		n++
		if options {
			d.stats.OptionsTemplates++
		} else {
			d.stats.Templates++
		}
		if id < 256 {
			d.stats.TemplatesRefused++
			notef(off-len(raw), "%w: template id %d is below 256", ErrTemplate, id)
			continue
		}
		if options && (scope == 0 || scope > count) {
			d.stats.TemplatesRefused++
			notef(off-len(raw), "%w: options template %d: %d scope fields of %d", ErrTemplate, id, scope, count)
			continue
		}
		if s == nil {
			d.stats.TemplatesRefused++
			notef(off-len(raw), "%w: template %d: %d exporters tracked (MaxExporters)", ErrTemplate, id, d.opts.MaxExporters)
			continue
		}
		t, err := d.define(s, id, raw, specs, scope, options, ipfix)
		if err == errTemplateCap {
			notef(off-len(raw), "%w: template %d: %d templates held (MaxTemplates)", ErrTemplate, id, d.nTemplates)
			continue
		}
		if err != nil {
			notef(off-len(raw), "%w", err)
			continue
		}
		if err := d.release(s, t, emit); err != nil {
			notef(off-len(raw), "%w", err)
		}
	}
	return n, firstErr
}

// ipfixSpecLen is the byte length of count IPFIX field specifiers at the
// start of b, or -1 when b is too short.
func ipfixSpecLen(b []byte, count int) int {
	off := 0
	for i := 0; i < count; i++ {
		if len(b)-off < 4 {
			return -1
		}
		ent := b[off]&0x80 != 0
		off += 4
		if ent {
			if len(b)-off < 4 {
				return -1
			}
			off += 4
		}
	}
	return off
}
