//go:build unix

package flowlog

import "syscall"

// cpuTime returns the process's user+system CPU time in ns. Benchmarks
// report rates per CPU second next to wall-clock rates because the build
// machine is shared: wall time there measures the neighbours too.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
