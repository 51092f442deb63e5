//go:build !linux

package netmeta

func cpuSeconds() float64 { return 0 }
