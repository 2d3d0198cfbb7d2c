package pcap

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/spotctl/spotctl/decode"
	"github.com/spotctl/spotctl/decode/decodetest"
)

// boundaries walks a well-formed capture independently of the reader and
// returns the start offset of every record or block after the file header,
// plus the file length.
func boundaries(t *testing.T, b []byte) (headerLen int, bounds []int64) {
	t.Helper()
	if le.Uint32(b) == blockSHB {
		var bo binary.ByteOrder
		for off := 0; off < len(b); {
			if le.Uint32(b[off:]) == blockSHB {
				bo = binary.ByteOrder(le)
				if le.Uint32(b[off+8:]) != byteOrderMagic {
					bo = be
				}
			}
			n := int(bo.Uint32(b[off+4:]))
			if off == 0 {
				headerLen = n
			} else {
				bounds = append(bounds, int64(off))
			}
			off += n
		}
		return headerLen, append(bounds, int64(len(b)))
	}
	bo := binary.ByteOrder(le)
	if be.Uint32(b) == magicMicro || be.Uint32(b) == magicNano {
		bo = be
	}
	for off := 24; off < len(b); off += 16 + int(bo.Uint32(b[off+8:])) {
		bounds = append(bounds, int64(off))
	}
	return 24, append(bounds, int64(len(b)))
}

// TestTruncateEverywhere cuts small real captures at every byte offset. At
// each cut the reader must not panic, must return exactly the packets that
// lie wholly before the cut, and must then end cleanly (cut on a boundary)
// or with one truncation error at the start of the cut record.
func TestTruncateEverywhere(t *testing.T) {
	dir := filepath.Join(decodetest.SharedDir(t), "pcap")
	for _, name := range []string{"tcpdump_dns_udp.pcap", "zeek_dns53.pcap", "ndpi_dns.pcap", "zeek_pcapng-multi-interface.pcapng", "zeek_vlan-pcp-dei.pcapng"} {
		t.Run(name, func(t *testing.T) {
			full, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			whole := readClean(t, full)
			headerLen, bounds := boundaries(t, full)
			for cut := 0; cut <= len(full); cut++ {
				res, err := readAll(t, full[:cut])
				switch {
				case cut < 4:
					if !errors.Is(err, decode.ErrNotEvidence) {
						t.Fatalf("cut %d: NewReader = %v, want not evidence", cut, err)
					}
					continue
				case cut < headerLen:
					var de *decode.Error
					if !errors.As(err, &de) || de.Offset != 0 || !errors.Is(err, decode.ErrTruncated) || !errors.Is(err, ErrFatal) {
						t.Fatalf("cut %d: NewReader = %v, want truncation at 0", cut, err)
					}
					continue
				case err != nil:
					t.Fatalf("cut %d: NewReader: %v", cut, err)
				}
				// The record the cut falls in starts at the last boundary
				// at or before the cut.
				recStart := int64(-1)
				onBoundary := false
				for _, b := range bounds {
					if b == int64(cut) {
						onBoundary = true
					}
					if b <= int64(cut) {
						recStart = b
					}
				}
				if recStart < 0 {
					recStart = int64(headerLen)
					onBoundary = cut == headerLen
				}
				var want []got
				for _, p := range whole.Packets {
					if p.Offset < recStart || (onBoundary && p.Offset < int64(cut)) {
						want = append(want, p)
					}
				}
				if len(res.Packets) != len(want) {
					t.Fatalf("cut %d: %d packets, want %d", cut, len(res.Packets), len(want))
				}
				for i := range want {
					if res.Packets[i].Offset != want[i].Offset || res.Packets[i].TS != want[i].TS {
						t.Fatalf("cut %d: packet %d differs", cut, i)
					}
				}
				if onBoundary {
					if !res.CleanEOF || len(res.Errors) != 0 {
						t.Fatalf("cut %d on a boundary: errors %+v", cut, res.Errors)
					}
					continue
				}
				if res.CleanEOF || len(res.Errors) != 1 {
					t.Fatalf("cut %d: clean=%v errors %+v, want one truncation", cut, res.CleanEOF, res.Errors)
				}
				e := res.Errors[0]
				if e.Offset != recStart || !e.Fatal || !errors.Is(res.Raw[0], decode.ErrTruncated) {
					t.Fatalf("cut %d: error %+v, want truncation at %d", cut, e, recStart)
				}
			}
		})
	}
}
