// Command scale opens many Phonet subscriptions in one process and shows
// what they cost and how they come back after a server restart:
//
//   - the heap, stack and resident memory per idle subscription, fresh and
//     after the restarts;
//   - for each of several restarts, the reconnects per second, the
//     attempts the server saw while it was down, and when the last
//     subscription was back;
//   - the heap before and after a flood of events (100 per subscription by
//     default).
//
// The server is the Phonet emulator (phonettest) in a process of its own,
// this program run again with -serve, so that its memory and CPU are not
// counted. With no flags it is a smoke test of a few seconds:
//
//	go run ./examples/scale
//
// The figures of the README, 10,000 subscriptions and a million events:
//
//	go run ./examples/scale -subs 10000
//
// 10,000 subscriptions need about 10,100 open files in each process: the
// program raises its soft limit to the hard limit itself, and says so when
// the hard limit is too low. Each socket uses the package's default
// options; only the HTTP client is the program's, to count the TCP
// connection attempts.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/pbxkit/pbxkit/phonet"
)

func main() {
	log.SetFlags(0)
	var (
		subs     = flag.Int("subs", 50, "subscriptions to open")
		useHub   = flag.Bool("hub", false, "watch them with one Hub (Client.Watch) instead of one Subscribe each")
		restarts = flag.Int("restarts", 3, "server restarts")
		down     = flag.Duration("down", 500*time.Millisecond, "how long the server stays down at each restart")
		events   = flag.Int("events", 0, "events to push after the restarts; 0 is 100 per subscription")
		settle   = flag.Duration("settle", -1, "quiet time around the flood: before it, so that every connection has made its first ping; after it, so that no ping is in flight; -1 is 35 s from 10000 subscriptions, none below")
		memprof  = flag.String("memprofile", "", "write heap profiles to this file (after the restarts), and to .half and .after (during the events)")
		asServer = flag.Bool("serve", false, "be the server process (the program starts it itself)")
	)
	flag.Parse()
	if *memprof != "" {
		runtime.MemProfileRate = 4096 // fine enough to see a few hundred bytes a subscription
	}
	if *subs < 1 {
		log.Fatal("scale: -subs must be at least 1")
	}
	if *asServer {
		if err := serve(*subs); err != nil {
			log.Fatal("scale server: ", err)
		}
		return
	}
	if *events == 0 {
		*events = 100 * *subs
	}
	if *settle < 0 {
		*settle = 0
		if *subs >= 10000 {
			*settle = 35 * time.Second
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, config{subs: *subs, hub: *useHub, restarts: *restarts, down: *down, events: *events, memprof: *memprof, settle: *settle}); err != nil {
		log.Fatal("scale: ", err)
	}
}

type config struct {
	subs, restarts, events int
	hub                    bool
	down, settle           time.Duration
	memprof                string
}

// backIn bounds the wait for every subscription to come back; it only
// turns a hang into an error.
const backIn = 2 * time.Minute

func run(ctx context.Context, cfg config) error {
	limit, err := raiseFileLimit(cfg.subs + 64)
	if err != nil {
		return err
	}
	mode := "Subscribe"
	if cfg.hub {
		mode = "one Hub"
	}
	fmt.Printf("%d subscriptions (%s), %s, GOMAXPROCS %d, open file limit %s\n",
		cfg.subs, mode, runtime.Version(), runtime.GOMAXPROCS(0), fileLimit(limit))

	srv, err := startServer(cfg.subs)
	if err != nil {
		return err
	}
	defer srv.close()
	dl := &dials{}
	c, err := phonet.New(srv.domain, apiKey, phonet.WithBaseURL(srv.baseURL),
		phonet.WithHTTPClient(&http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: dl.DialContext}}))
	if err != nil {
		return err
	}

	base := measure()
	start := time.Now()
	open := openStreams
	if cfg.hub {
		open = openHub
	}
	f, err := open(ctx, c, cfg.subs)
	if err != nil {
		return err
	}
	defer f.close()
	if err := awaitSockets(ctx, srv, cfg.subs); err != nil {
		return err
	}
	dl.take()
	fmt.Printf("opened in %.1f s\n", time.Since(start).Seconds())
	fresh := measure().minus(base, cfg.subs)
	fmt.Printf("idle, per subscription: %v\n", fresh)

	var summaries []summary
	for i := range cfg.restarts {
		fmt.Printf("\nrestart %d: the server is down for %v\n", i+1, cfg.down)
		r, err := restartServer(ctx, srv, dl, cfg)
		if err != nil {
			return err
		}
		summaries = append(summaries, r.print())
		// One event each: every subscription is live again, and its
		// connection proved healthy.
		if _, err := srv.do("push 1"); err != nil {
			return err
		}
		actx, cancel := context.WithTimeout(ctx, backIn)
		err = f.awaitOne(actx)
		cancel()
		if err != nil {
			return err
		}
	}
	dl.take()
	afterRestarts := measure().minus(base, cfg.subs)
	fmt.Printf("\nidle after %d restarts, per subscription: %v\n", cfg.restarts, afterRestarts)
	if cfg.memprof != "" {
		if err := writeHeapProfile(cfg.memprof); err != nil {
			return err
		}
	}

	growth, err := flood(ctx, srv, f, cfg)
	if err != nil {
		return err
	}

	fmt.Println("\ntargets, set for -subs 10000:")
	verdict := func(ok bool) string {
		switch {
		case cfg.subs < 10000:
			return "not judged below 10000 subscriptions"
		case ok:
			return "met"
		}
		return "MISSED"
	}
	for _, m := range []struct {
		name string
		p    perSub
	}{{"fresh", fresh}, {"after restarts", afterRestarts}} {
		ok := m.p.heap+m.p.stack <= 40*1024 && (m.p.rss == 0 || m.p.rss <= 48*1024)
		fmt.Printf("  idle memory %s ≤ 40 KiB heap+stack, ≤ 48 KiB RSS: %.1f KiB, %.1f KiB: %s\n",
			m.name, (m.p.heap+m.p.stack)/1024, m.p.rss/1024, verdict(ok))
	}
	for i, s := range summaries {
		ok := s.back <= 20*time.Second && s.peak <= 0.10 && s.perSub10s <= 2
		fmt.Printf("  restart %d: back ≤ 20 s, ≤ 10%% in any 1 s, ≤ 2 attempts per subscription in 10 s: %.1f s, %.1f%%, %.2f: %s\n",
			i+1, s.back.Seconds(), 100*s.peak, s.perSub10s, verdict(ok))
	}
	fmt.Printf("  heap after %d events ≤ +1 MiB (both at rest): %+.1f KiB: %s\n", cfg.events, float64(growth)/1024, verdict(growth <= 1<<20))
	return nil
}

// restartServer takes the server down for cfg.down and back, and returns
// the connection attempts from the drop until every subscription is back.
func restartServer(ctx context.Context, srv *server, dl *dials, cfg config) (restart, error) {
	dl.take()
	watch := watchStalls()
	defer func() { _ = watch.end() }()
	r := restart{n: cfg.subs, drop: time.Now()}
	if _, err := srv.do("offline"); err != nil {
		return r, err
	}
	if err := awaitSockets(ctx, srv, 0); err != nil {
		return r, err
	}
	select {
	case <-time.After(time.Until(r.drop.Add(cfg.down))):
	case <-ctx.Done():
		return r, ctx.Err()
	}
	if _, err := srv.do("online"); err != nil {
		return r, err
	}
	r.online = time.Now()
	if err := awaitSockets(ctx, srv, cfg.subs); err != nil {
		return r, err
	}
	r.attempts = dl.take()
	r.stall = watch.end()
	return r, nil
}

// flood pushes cfg.events events, spread over every subscription, one
// round (an event to each) at a time: the next round goes once the last
// one arrived, so that the figure is what the subscriptions take in, not
// what the kernel buffers. It returns how much the heap grew from before
// the events to after them.
//
// What coder/websocket keeps for pings is not the events': a connection
// makes its table of pings in flight at its first ping (25 s after it
// connected, about 100 bytes that stay), and each ping holds a context and
// a timer until its pong. With cfg.settle, the heap is taken before the
// events once every connection has pinged (the last ones connected during
// the restarts), and after them once the pings the flood delayed have had
// their pongs, so that both are taken at rest.
func flood(ctx context.Context, srv *server, f fleet, cfg config) (int64, error) {
	var got atomic.Uint64
	f.consume(&got)
	if !sleep(ctx, cfg.settle) {
		return 0, ctx.Err()
	}
	before := measure()
	var half usage
	rounds := max(1, cfg.events/cfg.subs)
	start := time.Now()
	var sent uint64
	for i := range rounds {
		if i == rounds/2 {
			half = measure()
			if cfg.memprof != "" {
				if err := writeHeapProfile(cfg.memprof + ".half"); err != nil {
					return 0, err
				}
			}
		}
		reply, err := srv.do("push 1")
		if err != nil {
			return 0, err
		}
		n, err := strconv.ParseUint(reply, 10, 64)
		if err != nil {
			return 0, err
		}
		sent += n
		if err := awaitEvents(ctx, &got, f, sent); err != nil {
			return 0, err
		}
	}
	elapsed := time.Since(start)
	if !sleep(ctx, min(cfg.settle, 15*time.Second)) {
		return 0, ctx.Err()
	}
	after := measure()
	if cfg.memprof != "" {
		if err := writeHeapProfile(cfg.memprof + ".after"); err != nil {
			return 0, err
		}
	}
	fmt.Printf("\n%d events in %.1f s (%.0f/s), %d delivered, %d dropped by slow consumers\n",
		sent, elapsed.Seconds(), float64(sent)/elapsed.Seconds(), got.Load(), f.dropped())
	fmt.Printf("heap before %.1f MiB, halfway %.1f MiB, after %.1f MiB: %+.1f KiB in all, %+.1f KiB over the second half\n",
		mib(before.heap), mib(half.heap), mib(after.heap),
		float64(int64(after.heap)-int64(before.heap))/1024, float64(int64(after.heap)-int64(half.heap))/1024)
	return int64(after.heap) - int64(before.heap), nil
}

// sleep waits d, or until ctx ends: false then.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	select {
	case <-time.After(d):
		return true
	case <-ctx.Done():
		return false
	}
}

// awaitEvents waits until sent events were delivered or dropped. Events
// stuck for 10 s are lost: an error.
func awaitEvents(ctx context.Context, got *atomic.Uint64, f fleet, sent uint64) error {
	const stuck = 10 * time.Second
	last, since := uint64(0), time.Now()
	for {
		n := got.Load() + f.dropped()
		switch {
		case n >= sent:
			return nil
		case n != last:
			last, since = n, time.Now()
		case time.Since(since) > stuck:
			return fmt.Errorf("%d of %d events arrived; none for %v", n, sent, stuck)
		}
		select {
		case <-time.After(time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// awaitSockets waits until the server holds want live sockets.
func awaitSockets(ctx context.Context, srv *server, want int) error {
	deadline := time.Now().Add(backIn)
	for {
		n, err := srv.sockets()
		if err != nil {
			return err
		}
		if n == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the server holds %d sockets, want %d", n, want)
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func writeHeapProfile(path string) error {
	fh, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	return errors.Join(pprof.WriteHeapProfile(fh), fh.Close())
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

func fileLimit(n uint64) string {
	if n == 0 {
		return "unknown"
	}
	return strconv.FormatUint(n, 10)
}
