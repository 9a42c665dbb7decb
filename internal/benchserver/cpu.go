package benchserver

import "testing"

// CPU starts counting this process's CPU time (user and system) and
// returns the function that stops and reports it as the "cpu-ns/op"
// metric of b. Call the returned function right after the b.Loop loop.
// With a [Process] server the figure is the client's CPU alone.
func CPU(b *testing.B) func() {
	start, ok := processCPU()
	return func() {
		end, _ := processCPU()
		if ok && b.N > 0 {
			b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
		}
	}
}
