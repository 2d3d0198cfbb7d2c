// Command spotctl finds what is suspicious in network evidence: packet
// captures go into a memory-mapped case file, and Apache Spot's
// suspicious-connects method ranks what is rare. See README.md.
package main

import (
	"os"

	"github.com/spotctl/spotctl/cmd/spotctl/internal/cmd/root"
	"github.com/spotctl/spotctl/cmd/spotctl/internal/iostreams"
)

func main() {
	os.Exit(root.Main(iostreams.System(), os.Args[1:]))
}
