package netmeta

import "syscall"

// cpuSeconds is the CPU time the process has used (all threads: the
// worker, the garbage collector), so a benchmark can report packets per
// CPU-second however busy the machine is.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
