//go:build !unix

package flowlog

func cpuTime() int64 { return 0 }
