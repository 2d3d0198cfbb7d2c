//go:build unix

package assemble

import (
	"syscall"
	"testing"
)

// cpuTime returns the process's user+system CPU time in ns. Benchmarks
// report it per op next to wall time because the team's build machine is
// shared: wall time there measures the neighbours as much as the code.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func reportCPU(b *testing.B, start int64, ops int) {
	if end := cpuTime(); end > start && ops > 0 {
		b.ReportMetric(float64(end-start)/float64(ops), "cpu-ns/op")
	}
}
