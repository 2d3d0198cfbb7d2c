package flowstore

import "time"

// Manifest is a segment's provenance, stored as manifest.json beside its
// column files. The caller fills everything except Segment, Flows and DNS,
// which Commit sets. Unknown JSON fields are ignored when reading, so later
// versions may add fields.
type Manifest struct {
	Segment        int            `json:"segment"`
	SpotctlVersion string         `json:"spotctl_version"`
	IngestFlags    []string       `json:"ingest_flags"` // the ingest command's arguments other than the evidence paths
	Ingested       time.Time      `json:"ingested,omitzero"`
	Flows          uint64         `json:"flows"` // rows in flows.col
	DNS            uint64         `json:"dns"`   // rows in dns.col
	Evidence       []EvidenceFile `json:"evidence"`
}

// EvidenceFile describes one input file of the ingest run. The evidence
// column of both tables holds an index into Manifest.Evidence of the same
// segment.
type EvidenceFile struct {
	Path        string          `json:"path"`
	Size        int64           `json:"size"`
	SHA256      string          `json:"sha256"`      // lowercase hex of the file as stored (before decompression)
	Format      string          `json:"format"`      // detected format, e.g. "pcap", "pcapng", "netflow-v9"
	Compression string          `json:"compression"` // "" or e.g. "gzip"
	LinkTypes   []uint16        `json:"link_types"`  // LINKTYPE_* values seen, ascending
	Packets     uint64          `json:"packets"`     // frames (pcap) or datagrams/records (flow formats) read
	First       int64           `json:"first"`       // Unix ns of the first packet or flow; 0 when none
	Last        int64           `json:"last"`        // Unix ns of the last packet or flow; 0 when none
	ErrorCount  uint64          `json:"error_count"` // all problems, also those not listed in Errors
	Errors      []EvidenceError `json:"errors"`      // the first problems, capped by the caller
	// Notes are malformed traffic the file recorded intact (e.g. port-53
	// payloads that are not well-formed DNS): not problems of the
	// evidence, so not in ErrorCount. Absent when there were none.
	NoteCount uint64          `json:"note_count,omitempty"`
	Notes     []EvidenceError `json:"notes,omitempty"` // the first notes, capped by the caller
}

// EvidenceError is one problem in an evidence file (decode.Error's fields).
type EvidenceError struct {
	Offset  int64  `json:"offset"` // -1 when unknown
	Message string `json:"message"`
}

// normalize replaces nil slices by empty ones so that manifest.json always
// has the same shape ([] rather than null).
func (m *Manifest) normalize() {
	if m.IngestFlags == nil {
		m.IngestFlags = []string{}
	}
	if m.Evidence == nil {
		m.Evidence = []EvidenceFile{}
	}
	for i := range m.Evidence {
		e := &m.Evidence[i]
		if e.LinkTypes == nil {
			e.LinkTypes = []uint16{}
		}
		if e.Errors == nil {
			e.Errors = []EvidenceError{}
		}
	}
}
