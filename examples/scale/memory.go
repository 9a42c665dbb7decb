package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
)

// usage is the process's memory at one moment, after a full collection.
type usage struct {
	heap, stack uint64 // live heap objects, goroutine stacks
	rss         uint64 // resident set; 0 where unknown
	goroutines  int
}

// measure collects garbage and returns what is left. It collects twice:
// a coder/websocket connection has a finalizer, so a dropped one is only
// freed by the collection after the one that found it unreachable. The
// heap is then returned to the operating system, so that the resident
// set shows what is live, not what the collector keeps for later.
func measure() usage {
	runtime.GC()
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return usage{heap: ms.HeapAlloc, stack: ms.StackInuse, rss: residentSet(), goroutines: runtime.NumGoroutine()}
}

// residentSet reads the resident set size from /proc; 0 elsewhere.
func residentSet() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(string(f[1]), 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}

// perSub is what each of n subscriptions added between base and u.
type perSub struct {
	heap, stack, rss float64 // bytes
	goroutines       float64
}

func (u usage) minus(base usage, n int) perSub {
	d := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) }
	return perSub{
		heap:       d(u.heap, base.heap),
		stack:      d(u.stack, base.stack),
		rss:        d(u.rss, base.rss),
		goroutines: float64(u.goroutines-base.goroutines) / float64(n),
	}
}

func (p perSub) String() string {
	rss := "RSS n/a"
	if p.rss != 0 {
		rss = fmt.Sprintf("RSS %.1f KiB", p.rss/1024)
	}
	return fmt.Sprintf("heap %.1f KiB + stack %.1f KiB = %.1f KiB, %s, %.1f goroutines",
		p.heap/1024, p.stack/1024, (p.heap+p.stack)/1024, rss, p.goroutines)
}
