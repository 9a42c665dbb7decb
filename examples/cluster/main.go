// Command cluster runs pbxkit's scale-out on NATS JetStream and breaks
// it: R replicas of a CRM share the Phonet sockets of N managers through
// natsjs.Ownership leases, publish the managers' call events into one
// stream (natsjs.Publisher.Pump on each replica's phonet.Hub) and a
// checker consumes them (natsjs.Consume); a call generator rings random
// managers on the Phonet emulator at a steady rate; one replica is
// killed, as a crash kills it, and comes back. It prints:
//
//   - the balance (managers per replica) before the kill, after it, and
//     after the replica rejoined;
//   - the takeover time: from the kill until every manager has a socket
//     open at the emulator again;
//   - events lost (pushed to a manager who had a socket, never consumed)
//     and duplicates delivered (consumed more than once): both must be 0,
//     or the program exits 1;
//   - the time two replicas had a socket of the same manager open at
//     once, measured at the emulator.
//
// NATS is an embedded server (file storage in a temporary directory)
// unless -nats names a real one; the emulator runs in-process, and each
// replica reaches it through a door of its own (a reverse proxy) that
// notes every socket opening and closing: phonettest counts its sockets,
// but neither per manager nor over time. With no flags it is a smoke test
// of about 15 s:
//
//	go run ./examples/cluster
//
// The figures of the issue, 1,000 managers:
//
//	go run ./examples/cluster -managers 1000
//
// What is counted how is printed with the figures.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/internal/natstest"
	"github.com/pbxkit/pbxkit/natsjs"
	"github.com/pbxkit/pbxkit/phonet/phonettest"
)

type config struct {
	nats      string
	managers  int
	replicas  int
	ttl       time.Duration
	rate      float64
	phase     time.Duration
	rejoin    bool
	verbose   bool
	waitLimit time.Duration
}

func main() {
	log.SetFlags(0)
	var cfg config
	flag.StringVar(&cfg.nats, "nats", "", "NATS URL of a real server or cluster; empty runs an embedded server")
	flag.IntVar(&cfg.managers, "managers", 30, "managers on the emulator, one socket each")
	flag.IntVar(&cfg.replicas, "replicas", 3, "replicas of the CRM (at least 2: one is killed)")
	flag.DurationVar(&cfg.ttl, "ttl", 2*time.Second, "lease TTL, whole seconds (natsjs.OwnershipConfig.TTL)")
	flag.Float64Var(&cfg.rate, "rate", 0, "calls a second; 0 is one per 10 managers, at least 10")
	flag.DurationVar(&cfg.phase, "phase", 3*time.Second, "how long calls run before the kill, after the takeover and after the rejoin")
	flag.BoolVar(&cfg.rejoin, "rejoin", true, "bring the killed replica back and count the balance again")
	flag.BoolVar(&cfg.verbose, "v", false, "log the lease moves to stderr")
	flag.Parse()
	cfg.waitLimit = 2 * time.Minute
	if cfg.managers < 1 || cfg.replicas < 2 || cfg.phase <= 0 || cfg.rate < 0 {
		log.Fatal("cluster: want -managers ≥ 1, -replicas ≥ 2, -phase > 0, -rate ≥ 0")
	}
	if cfg.rate == 0 {
		cfg.rate = max(10, float64(cfg.managers)/10)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ok, err := run(ctx, cfg, os.Stdout)
	if err != nil {
		log.Fatal("cluster: ", err)
	}
	if !ok {
		os.Exit(1)
	}
}

const apiKey = "cluster-example-key"

// settle is how close to a socket of a manager opening or closing an
// event must be pushed for its fate not to be judged: the emulator
// registers a socket a moment after its handshake, and a closing socket
// reads nothing more once its close frame is sent.
const settle = 200 * time.Millisecond

func run(ctx context.Context, cfg config, out io.Writer) (bool, error) {
	var b [4]byte
	_, _ = rand.Read(b[:])
	runID := hex.EncodeToString(b[:])

	natsURL, where := cfg.nats, "NATS "+cfg.nats
	if natsURL == "" {
		dir, err := os.MkdirTemp("", "pbxkit-cluster")
		if err != nil {
			return false, err
		}
		defer os.RemoveAll(dir)
		srv, err := natstest.Start(dir)
		if err != nil {
			return false, err
		}
		defer srv.Stop()
		natsURL, where = srv.URL(), "embedded NATS (file storage)"
	}
	fmt.Fprintf(out, "%d managers, %d replicas, lease TTL %v, %.0f calls/s, %s, %s, GOMAXPROCS %d\n",
		cfg.managers, cfg.replicas, cfg.ttl, cfg.rate, where, runtime.Version(), runtime.GOMAXPROCS(0))

	pbx := phonettest.NewServer(apiKey)
	defer pbx.Close()
	var users []phonettest.User
	var subs []string
	for i := range cfg.managers {
		ext := strconv.Itoa(10000 + i)
		users = append(users, phonettest.User{ID: i + 1, DisplayName: "Manager " + ext, Ext: ext})
		subs = append(subs, ext)
	}
	pbx.SetUsers(users)
	tr := newTracker()

	s := setup{
		natsURL: natsURL, domain: pbx.Domain, apiKey: apiKey, subs: subs, ttl: cfg.ttl,
		bucket:   "pbxkit_cluster_example_" + runID,
		runLabel: "cluster-" + runID,
		// A stream of the example's own, each run a tenant of its own:
		// on a real NATS the runs do not meet, and the stream ages out.
		stream: natsjs.PublisherConfig{Stream: "PBXKIT_CLUSTER_EXAMPLE", Prefix: "pbxkit_cluster_example",
			Tenant: "run-" + runID, MaxAge: time.Hour},
	}
	if cfg.verbose {
		s.logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}

	// The checker: one durable consumer that counts every call event.
	cnc, cjs, err := connect(natsURL, s.runLabel+"-checker")
	if err != nil {
		return false, err
	}
	defer cnc.Close()
	if _, err := natsjs.NewPublisher(ctx, cjs, s.stream); err != nil { // makes the stream
		return false, err
	}
	rec := &received{counts: map[string]int{}}
	cctx, stopConsumer := context.WithCancel(ctx)
	consumed := make(chan error, 1)
	durable := "check-" + runID
	go func() {
		consumed <- natsjs.Consume(cctx, cjs, natsjs.ConsumerConfig{Stream: s.stream.Stream, Durable: durable,
			FilterSubject: s.stream.Prefix + "." + s.stream.Tenant + ".>"}, rec.update)
	}()
	defer func() {
		stopConsumer()
		<-consumed
		if cfg.nats != "" { // leave nothing behind on a real NATS but the stream, which ages out
			dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = cjs.DeleteConsumer(dctx, s.stream.Stream, durable)
			_ = cjs.DeleteKeyValue(dctx, s.bucket)
		}
	}()

	names := make([]string, cfg.replicas)
	doors := make([]*door, cfg.replicas)
	reps := make([]*replica, cfg.replicas)
	var all []*replica // every replica of the run, the dead included
	for i := range names {
		names[i] = fmt.Sprintf("replica-%d", i+1)
		doors[i] = newDoor(names[i], pbx.URL, tr)
		defer doors[i].close()
	}
	defer func() {
		for _, r := range all {
			r.kill()
		}
	}()
	begun := time.Now()
	for i, name := range names {
		r, err := startReplica(ctx, s, name, doors[i])
		if err != nil {
			return false, err
		}
		reps[i] = r
		all = append(all, r)
	}
	if err := waitFor(ctx, cfg.waitLimit, func() bool { return settled(tr, cfg.managers, names) }); err != nil {
		return false, fmt.Errorf("the first spread: %w", err)
	}
	fmt.Fprintf(out, "\nspread: every manager has one socket at the emulator %.2f s after the replicas started\n",
		time.Since(begun).Seconds())
	printBalance(out, "balance", tr, reps, cfg.managers)

	g := newGenerator(pbx, tr, subs, cfg.rate)
	g.start()
	if !sleep(ctx, cfg.phase) {
		return false, ctx.Err()
	}

	// The kill, between two events, once those before it were consumed:
	// what a crashed process had received and not yet published is lost
	// with it, and only Phonet's call history gives it back. That is not
	// what this measures.
	resume := g.pause()
	drainedIn := drain(ctx, g, rec, tr, 5*time.Second)
	victim := reps[len(reps)-1]
	leases := len(victim.own.Held())
	killed := time.Now()
	victim.kill()
	resume()
	fmt.Fprintf(out, "\nkilled %s after %v of calls (the events before it consumed in %v): its sockets dropped without a close frame, its NATS connection closed, its %d leases left to expire\n",
		victim.name, cfg.phase, drainedIn.Round(time.Millisecond), leases)
	live := names[:len(names)-1]
	if err := waitFor(ctx, cfg.waitLimit, func() bool { held, _, _ := tr.view(); return held == cfg.managers }); err != nil {
		return false, fmt.Errorf("the takeover: %w", err)
	}
	takeover := time.Since(killed)
	if err := waitFor(ctx, cfg.waitLimit, func() bool { return settled(tr, cfg.managers, live) }); err != nil {
		return false, fmt.Errorf("the takeover: %w", err)
	}
	fmt.Fprintf(out, "takeover: every manager has a socket at the emulator again %.2f s after the kill (bound 2×TTL = %v, plus the dial pacer's time)\n",
		takeover.Seconds(), 2*cfg.ttl)
	printBalance(out, "balance after the kill", tr, reps[:len(reps)-1], cfg.managers)
	if !sleep(ctx, cfg.phase) {
		return false, ctx.Err()
	}

	if cfg.rejoin {
		doors[len(doors)-1].reopen()
		back := time.Now()
		r, err := startReplica(ctx, s, victim.name, doors[len(doors)-1])
		if err != nil {
			return false, err
		}
		reps[len(reps)-1] = r
		all = append(all, r)
		if err := waitFor(ctx, cfg.waitLimit, func() bool { return settled(tr, cfg.managers, names) }); err != nil {
			return false, fmt.Errorf("the rejoin: %w", err)
		}
		fmt.Fprintf(out, "\nrejoined: %s started again under its name; even again %.2f s later\n",
			victim.name, time.Since(back).Seconds())
		printBalance(out, "balance after the rejoin", tr, reps, cfg.managers)
		if !sleep(ctx, cfg.phase) {
			return false, ctx.Err()
		}
	}

	g.end()
	if !sleep(ctx, settle) { // the sockets' changes around the last pushes are known
		return false, ctx.Err()
	}
	drain(ctx, g, rec, tr, 30*time.Second)
	if !sleep(ctx, time.Second) { // a duplicate would come now
		return false, ctx.Err()
	}
	ledger, calls := g.snapshot()
	got, total := rec.snapshot()
	t := count(ledger, calls, got, total, tr, settle)
	overlap, twiceManagers, most1, most := tr.overlap()

	var stats natsjs.PublisherStats
	var dropped uint64
	for _, r := range all {
		st := r.pub.Stats()
		stats.Stored += st.Stored
		stats.Duplicates += st.Duplicates
		dropped += r.hub.Dropped()
	}
	lostLeases := 0
	for _, r := range reps {
		lostLeases += r.own.Stats().Lost
	}

	fmt.Fprintf(out, "\ncall events pushed by the emulator (start, answer, end): %d, of %d calls\n", t.pushed, t.calls)
	fmt.Fprintf(out, "  to a manager with a socket open:    %6d  consumed %d, lost %d\n", t.deliverable, t.delivered, t.lost())
	fmt.Fprintf(out, "  to a manager with no socket:        %6d  consumed %d (Phonet pushes them to nobody; a CRM finds them in the call history)\n",
		t.noSocket, t.noSocketDelivered)
	fmt.Fprintf(out, "  within %v of a socket of the manager opening or closing: %d  consumed %d (not judged)\n",
		settle, t.atChange, t.atChangeDelivered)
	fmt.Fprintf(out, "  duplicates delivered:               %6d  (events consumed more than once: %d)\n", t.duplicates, t.dupEvents)
	fmt.Fprintf(out, "  consumed in all:                    %6d  (%d the generator never pushed)\n", t.consumed, t.unknown)
	fmt.Fprintf(out, "stream: %d stored, %d published again by a replica and dropped by the stream (Nats-Msg-Id); the Hubs dropped %d for a slow publisher\n",
		stats.Stored, stats.Duplicates, dropped)
	fmt.Fprintf(out, "held twice, at the emulator: %v in all (two replicas with a socket of one manager open at once), %d managers, at most %v for one; most sockets of one manager at once: %d\n",
		overlap.Round(time.Millisecond), twiceManagers, most1.Round(time.Millisecond), most)
	fmt.Fprintf(out, "leases the live replicas lost (a renewal too late): %d\n", lostLeases)

	ok := t.lost() == 0 && t.duplicates == 0
	fmt.Fprintln(out, "\nchecks:")
	fmt.Fprintf(out, "  events lost = 0: %d: %s\n", t.lost(), verdict(t.lost() == 0))
	fmt.Fprintf(out, "  duplicates delivered = 0: %d: %s\n", t.duplicates, verdict(t.duplicates == 0))
	fmt.Fprintf(out, "  takeover ≤ 2×TTL (%v): %.2f s: %s (not a failure: the bound is the leases', the sockets' dials come on top)\n",
		2*cfg.ttl, takeover.Seconds(), verdict(takeover <= 2*cfg.ttl))
	fmt.Fprintf(out, "  held twice: %v\n", overlap.Round(time.Millisecond))
	return ok, nil
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}

// settled: every manager has exactly one socket at the emulator, from one
// of the replicas named, none of which has more than its share.
func settled(tr *tracker, n int, names []string) bool {
	held, twice, per := tr.view()
	if held != n || twice != 0 {
		return false
	}
	share := int(math.Ceil(float64(n) / float64(len(names))))
	sum := 0
	for r, k := range per {
		if !slices.Contains(names, r) || k > share {
			return false
		}
		sum += k
	}
	return sum == n
}

// printBalance prints the sockets of each replica at the emulator, and
// the leases each Ownership holds.
func printBalance(out io.Writer, title string, tr *tracker, reps []*replica, n int) {
	_, _, per := tr.view()
	mean := float64(n) / float64(len(reps))
	var parts []string
	worst := 0.0
	for _, r := range reps {
		k := per[r.name]
		parts = append(parts, fmt.Sprintf("%s %d (leases %d)", r.name, k, len(r.own.Held())))
		worst = max(worst, math.Abs(float64(k)-mean)/mean*100)
	}
	fmt.Fprintf(out, "%s: %s; at most %.1f %% off even\n", title, strings.Join(parts, ", "), worst)
}

// drain waits until every event pushed to a manager with a socket (and
// not at a socket's change) was consumed, or limit; it returns how long
// it waited.
func drain(ctx context.Context, g *generator, rec *received, tr *tracker, limit time.Duration) time.Duration {
	start := time.Now()
	for time.Since(start) < limit && ctx.Err() == nil {
		ledger, calls := g.snapshot()
		got, total := rec.snapshot()
		if count(ledger, calls, got, total, tr, settle).lost() == 0 {
			break
		}
		sleep(ctx, 10*time.Millisecond)
	}
	return time.Since(start)
}

// waitFor polls cond every 5 ms until it holds, limit passes or ctx ends.
func waitFor(ctx context.Context, limit time.Duration, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("not done in " + limit.String())
		}
		if !sleep(ctx, 5*time.Millisecond) {
			return ctx.Err()
		}
	}
	return nil
}

// sleep waits d, or until ctx ends: false then.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
