// Package progress draws a one-line progress report on a terminal's stderr
// while a long command runs. Libraries only keep cheap counters; this
// package reads them on a ticker. It draws nothing when stderr is not a
// terminal or --quiet is given.
package progress

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Sample is what the bar shows at one tick.
type Sample struct {
	Done, Total int64  // bytes
	Packets     uint64 // frames read so far
	Label       string // current file
}

// Bar redraws a status line every interval from a sampling function.
type Bar struct {
	w      io.Writer
	sample func() Sample
	start  time.Time
	stop   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
	now    func() time.Time
}

// Start begins drawing to w (a terminal) until Stop.
func Start(w io.Writer, sample func() Sample) *Bar {
	b := &Bar{w: w, sample: sample, start: time.Now(), stop: make(chan struct{}), now: time.Now}
	b.wg.Add(1)
	go b.loop(200 * time.Millisecond)
	return b
}

func (b *Bar) loop(every time.Duration) {
	defer b.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			fmt.Fprint(b.w, "\r\x1b[K")
			return
		case <-t.C:
			fmt.Fprint(b.w, "\r\x1b[K"+Line(b.sample(), b.now().Sub(b.start)))
		}
	}
}

// Stop erases the line and returns when the drawing goroutine has ended.
// It may be called more than once, and on a nil Bar.
func (b *Bar) Stop() {
	if b == nil {
		return
	}
	b.once.Do(func() { close(b.stop) })
	b.wg.Wait()
}

// Line renders one status line (exported for tests).
func Line(s Sample, elapsed time.Duration) string {
	secs := elapsed.Seconds()
	if secs <= 0 {
		secs = 1e-9
	}
	pct := ""
	if s.Total > 0 {
		pct = fmt.Sprintf("%3.0f%% ", 100*float64(s.Done)/float64(s.Total))
	}
	total := "?"
	if s.Total > 0 {
		total = mb(s.Total)
	}
	return fmt.Sprintf("%s%s of %s, %.0f packets/s, %s/s  %s",
		pct, mb(s.Done), total, float64(s.Packets)/secs, mb(int64(float64(s.Done)/secs)), s.Label)
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
