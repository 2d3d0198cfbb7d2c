package input

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"unicode/utf8"
)

// signature names one kind of file by its leading bytes.
type signature struct {
	what  string
	match func(h []byte) bool
}

func prefix(p string) func([]byte) bool {
	return func(h []byte) bool { return bytes.HasPrefix(h, []byte(p)) }
}

// signatures is tried in order: binary magics first, then the flow formats
// spotctl may read in later versions, then text.
var signatures = []signature{
	{"a pcap capture", magic32(0xa1b2c3d4)},
	{"a pcap capture with nanosecond timestamps", magic32(0xa1b23c4d)},
	{"a pcapng capture", isPcapng},
	{"a modified-libpcap (Kuznetsov) capture", magic32(0xa1b2cd34)},
	{"a Solaris snoop capture", prefix("snoop\x00\x00\x00")},
	{"a Microsoft Network Monitor capture", prefix("GMBU")},
	{"gzip data", prefix("\x1f\x8b")},
	{"zstd data", prefix("\x28\xb5\x2f\xfd")},
	{"bzip2 data", func(h []byte) bool {
		return len(h) >= 4 && bytes.HasPrefix(h, []byte("BZh")) && h[3] >= '1' && h[3] <= '9'
	}},
	{"xz data", prefix("\xfd7zXZ\x00")},
	{"LZ4 data", prefix("\x04\x22\x4d\x18")},
	{"a ZIP archive", func(h []byte) bool {
		return bytes.HasPrefix(h, []byte("PK\x03\x04")) || bytes.HasPrefix(h, []byte("PK\x05\x06")) || bytes.HasPrefix(h, []byte("PK\x07\x08"))
	}},
	{"a 7-Zip archive", prefix("7z\xbc\xaf\x27\x1c")},
	{"a RAR archive", prefix("Rar!\x1a\x07")},
	{"a tar archive", func(h []byte) bool { return len(h) >= 262 && string(h[257:262]) == "ustar" }},
	{"a PNG image", prefix("\x89PNG\r\n\x1a\n")},
	{"a JPEG image", prefix("\xff\xd8\xff")},
	{"a GIF image", func(h []byte) bool {
		return bytes.HasPrefix(h, []byte("GIF87a")) || bytes.HasPrefix(h, []byte("GIF89a"))
	}},
	{"a PDF document", prefix("%PDF-")},
	{"an ELF executable", prefix("\x7fELF")},
	{"a Mach-O executable", func(h []byte) bool {
		return len(h) >= 4 && (magic32(0xfeedface)(h) || magic32(0xfeedfacf)(h) || binary.BigEndian.Uint32(h) == 0xcafebabe)
	}},
	{"an SQLite database", prefix("SQLite format 3\x00")},
	{"an nfdump nfcapd file", isNfcapd},
	{"NetFlow v5 export datagrams", isNetflowV5},
	{"NetFlow v9 export datagrams", isNetflowV9},
	{"IPFIX export messages", isIPFIX},
	{"a Windows executable", func(h []byte) bool { return bytes.HasPrefix(h, []byte("MZ")) && !isText(h) }},
}

// textSignatures refine plain text; tried in order on text only.
var textSignatures = []signature{
	{"a Zeek log", prefix("#separator")},
	{"an nfdump CSV export", prefix("ts,te,td,sa,da,")},
	{"an Argus flow listing", func(h []byte) bool {
		return bytes.HasPrefix(h, []byte("StartTime,")) || bytes.HasPrefix(h, []byte("StartTime\t"))
	}},
	{"JSON text", looksJSON},
	{"an HTML document", func(h []byte) bool {
		t := bytes.ToLower(bytes.TrimLeft(h, " \t\r\n\ufeff"))
		return bytes.HasPrefix(t, []byte("<!doctype html")) || bytes.HasPrefix(t, []byte("<html"))
	}},
	{"an XML document", func(h []byte) bool { return bytes.HasPrefix(bytes.TrimLeft(h, " \t\r\n\ufeff"), []byte("<?xml")) }},
	{"CSV text", looksCSV},
}

// Describe says what a file whose content starts with head looks like, for
// the message given when a file is not evidence: "a PNG image", "a ZIP
// archive", "an ELF executable", "plain text", "an nfdump nfcapd file",
// "NetFlow v5 export datagrams", … or "unknown data (first bytes 0x…)".
// It inspects at most the first 512 bytes.
func Describe(head []byte) string {
	if len(head) > sniffLen {
		head = head[:sniffLen]
	}
	if len(head) == 0 {
		return "an empty file"
	}
	for _, s := range signatures {
		if s.match(head) {
			return s.what
		}
	}
	if isText(head) {
		for _, s := range textSignatures {
			if s.match(head) {
				return s.what
			}
		}
		return "plain text"
	}
	return fmt.Sprintf("unknown data (first bytes 0x%x)", head[:min(len(head), 8)])
}

// isText accepts UTF-8 (a rune cut at the end of head is fine) without NUL
// bytes and with few control characters besides tab, newline, CR, form
// feed and escape.
func isText(h []byte) bool {
	control := 0
	for i := 0; i < len(h); {
		r, n := utf8.DecodeRune(h[i:])
		if r == utf8.RuneError && n == 1 {
			if !utf8.FullRune(h[i:]) {
				break // truncated rune at the end of the sniffed bytes
			}
			return false
		}
		switch {
		case r == 0:
			return false
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != '\f' && r != 0x1b, r == 0x7f:
			control++
		}
		i += n
	}
	return control*20 <= len(h) // at most 5 %
}

func looksJSON(h []byte) bool {
	t := bytes.TrimLeft(h, " \t\r\n\ufeff")
	if len(t) < 2 || (t[0] != '{' && t[0] != '[') {
		return false
	}
	u := bytes.TrimLeft(t[1:], " \t\r\n")
	if len(u) == 0 {
		return true
	}
	if t[0] == '{' {
		return u[0] == '"' || u[0] == '}'
	}
	return bytes.IndexByte([]byte("{[\"-0123456789tfn]"), u[0]) >= 0
}

// looksCSV: a first line with at least two commas.
func looksCSV(h []byte) bool {
	line, _, _ := bytes.Cut(h, []byte("\n"))
	return bytes.Count(line, []byte(",")) >= 2
}

// isNfcapd matches the nfdump file header: magic 0xA50C and layout version
// 1, 2 or 3 as 16-bit values in the writer's byte order.
func isNfcapd(h []byte) bool {
	if len(h) < 4 {
		return false
	}
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		if bo.Uint16(h) == 0xa50c {
			v := bo.Uint16(h[2:])
			return v >= 1 && v <= 3
		}
	}
	return false
}

// isNetflowV5: version 5, 1 to 30 records, and at least the 24-byte
// header.
func isNetflowV5(h []byte) bool {
	if len(h) < 24 || binary.BigEndian.Uint16(h) != 5 {
		return false
	}
	n := binary.BigEndian.Uint16(h[2:])
	return n >= 1 && n <= 30
}

// isNetflowV9: version 9 and a first flowset id that is a template (0),
// an options template (1) or data (>= 256).
func isNetflowV9(h []byte) bool {
	if len(h) < 24 || binary.BigEndian.Uint16(h) != 9 {
		return false
	}
	id := binary.BigEndian.Uint16(h[20:])
	return id <= 1 || id >= 256
}

// isIPFIX: version 10, a message length of at least the 16-byte header,
// and a first set id that is a template (2), an options template (3) or
// data (>= 256).
func isIPFIX(h []byte) bool {
	if len(h) < 20 || binary.BigEndian.Uint16(h) != 10 || binary.BigEndian.Uint16(h[2:]) < 16 {
		return false
	}
	id := binary.BigEndian.Uint16(h[16:])
	return id == 2 || id == 3 || id >= 256
}
