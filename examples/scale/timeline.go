package main

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"
)

// dials records every TCP connection attempt of the client: its sockets'
// handshakes and reconnects, as a server sees them.
type dials struct {
	dialer net.Dialer
	mu     sync.Mutex
	log    []dial
}

type dial struct {
	at time.Time
	ok bool
}

// DialContext records when the attempt started: the moment the socket's
// pacer let it go, which a busy machine would otherwise blur.
func (d *dials) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	at := time.Now()
	c, err := d.dialer.DialContext(ctx, network, addr)
	d.mu.Lock()
	d.log = append(d.log, dial{at: at, ok: err == nil})
	d.mu.Unlock()
	return c, err
}

// take returns the attempts recorded so far and forgets them, so that the
// log holds no memory when memory is measured.
func (d *dials) take() []dial {
	d.mu.Lock()
	defer d.mu.Unlock()
	log := d.log
	d.log = nil
	return log
}

// restart is what one server restart looked like from the client.
type restart struct {
	n            int
	drop, online time.Time // the server went offline, and came back
	attempts     []dial
	stall        time.Duration // the longest the client waited for a CPU meanwhile
}

// offsets returns the times of the successful (ok) or refused attempts,
// from the drop, sorted.
func (r restart) offsets(ok bool) []time.Duration {
	var out []time.Duration
	for _, a := range r.attempts {
		if a.ok == ok {
			out = append(out, a.at.Sub(r.drop))
		}
	}
	slices.Sort(out)
	return out
}

// summary is the figures of a restart that the targets speak of.
type summary struct {
	back, afterOnline time.Duration // the last reconnect, from the drop and from the server's return
	peak              float64       // the largest share of the reconnects in any 1 s window
	perSub10s         float64       // the most refused attempts per subscription in any 10 s window
	refused           int
}

func (r restart) summary() summary {
	ok, refused := r.offsets(true), r.offsets(false)
	var s summary
	if len(ok) > 0 {
		s.back = ok[len(ok)-1]
		s.afterOnline = s.back - r.online.Sub(r.drop)
		s.peak = float64(maxInWindow(ok, time.Second)) / float64(r.n)
	}
	s.refused = len(refused)
	s.perSub10s = float64(maxInWindow(refused, 10*time.Second)) / float64(r.n)
	return s
}

// maxInWindow returns the most of the sorted times in any window of
// length w.
func maxInWindow(times []time.Duration, w time.Duration) int {
	best, lo := 0, 0
	for hi := range times {
		for times[hi]-times[lo] >= w {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// print writes the timeline, one line per second from the drop, and the
// summary.
func (r restart) print() summary {
	ok, refused := r.offsets(true), r.offsets(false)
	last := time.Duration(0)
	if len(ok) > 0 {
		last = ok[len(ok)-1]
	}
	if len(refused) > 0 {
		last = max(last, refused[len(refused)-1])
	}
	perSecond := func(times []time.Duration) []int {
		out := make([]int, int(last/time.Second)+1)
		for _, t := range times {
			out[int(t/time.Second)]++
		}
		return out
	}
	okN, refusedN := perSecond(ok), perSecond(refused)
	fmt.Println("  second  reconnects  share  refused (server down)")
	for i := range okN {
		fmt.Printf("  %6d  %10d  %4.1f%%  %7d\n", i, okN[i], 100*float64(okN[i])/float64(r.n), refusedN[i])
	}
	s := r.summary()
	fmt.Printf("  all %d back %.1f s after the drop (%.1f s after the server returned); busiest 1 s window: %.1f%% of them\n",
		len(ok), s.back.Seconds(), s.afterOnline.Seconds(), 100*s.peak)
	fmt.Printf("  the down server saw %d attempts: at most %.2f per subscription in any 10 s\n", s.refused, s.perSub10s)
	fmt.Printf("  the client waited up to %v for a CPU meanwhile\n", r.stall.Round(time.Millisecond))
	return s
}
