//go:build unix

package nfcapd

import "syscall"

// cpuTime returns the process's user+system CPU time in ns. The benchmarks
// report records per CPU second next to records per wall second because the
// build machine is shared: wall time there measures the neighbours too.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
