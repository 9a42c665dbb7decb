package main

import (
	"sync"
	"time"
)

// stalls watches how late a 10 ms ticker is seen: how long, at worst, the
// process waited for a CPU. On a busy machine reconnects then start in
// bunches whatever their pacing, and the timeline says so.
type stalls struct {
	stop, done chan struct{}
	once       sync.Once
	worst      time.Duration
}

func watchStalls() *stalls {
	s := &stalls{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		const tick = 10 * time.Millisecond
		t := time.NewTicker(tick)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				now := time.Now()
				s.worst = max(s.worst, now.Sub(last)-tick)
				last = now
			}
		}
	}()
	return s
}

// end stops the watch and returns the worst delay seen. It may be called
// again.
func (s *stalls) end() time.Duration {
	s.once.Do(func() { close(s.stop) })
	<-s.done
	return s.worst
}
