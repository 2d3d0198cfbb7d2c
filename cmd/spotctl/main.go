// Command spotctl finds what is suspicious in network evidence: packet
// captures go into a memory-mapped case file, and Apache Spot's
// suspicious-connects method ranks what is rare. See README.md.
package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmd/root"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/iostreams"
)

func main() {
	os.Exit(run())
}

func run() int {
	ios := iostreams.System()
	// SPOTCTL_CPUPROFILE profiles one run (spotctl help environment): the
	// figures in docs/performance.md name where the time goes.
	if path := os.Getenv("SPOTCTL_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(ios.ErrOut, "spotctl: SPOTCTL_CPUPROFILE: %v\n", err)
			return 1
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	return root.Main(ios, os.Args[1:])
}
