package progress

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLine(t *testing.T) {
	got := Line(Sample{Done: 50e6, Total: 200e6, Packets: 1_000_000, Label: "a.pcap"}, 2*time.Second)
	want := " 25% 50.0 MB of 200.0 MB, 500000 packets/s, 25.0 MB/s  a.pcap"
	if got != want {
		t.Errorf("Line = %q, want %q", got, want)
	}
	if got := Line(Sample{Done: 1e6}, time.Second); !strings.Contains(got, "of ?") {
		t.Errorf("unknown total: %q", got)
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func TestStopTwiceAndNil(t *testing.T) {
	var w syncBuf
	b := Start(&w, func() Sample { return Sample{} })
	b.Stop()
	b.Stop()
	var nilBar *Bar
	nilBar.Stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	if !strings.HasSuffix(w.b.String(), "\r\x1b[K") {
		t.Errorf("the line is not erased at the end: %q", w.b.String())
	}
}
