//go:build !unix

package nfcapd

func cpuTime() int64 { return 0 }
