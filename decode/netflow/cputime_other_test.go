//go:build !unix

package netflow

func cpuTime() int64 { return 0 }
