package cmdutil

import "runtime/debug"

// version is set at link time: -ldflags "-X .../cmdutil.version=v1.2.3".
var version = ""

// Version is spotctl's version: the link-time value, else the module
// version from the build info, else "dev". It goes into every case manifest.
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
