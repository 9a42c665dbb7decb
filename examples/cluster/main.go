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
// What is counted how is printed with the figures. Every socket costs
// about four open files in this one process (the replica's end, both ends
// of its door, the emulator's end): 1,000 managers need some 4,100.
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
	"text/tabwriter"
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
	printBalance(out, "balance", tr, pbx, reps, cfg.managers)

	g := newGenerator(pbx, tr, subs, cfg.rate)
	starts := []time.Time{time.Now()} // of each phase
	g.start()
	defer g.end() // when the run fails half-way
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
	g.setPhase(phaseTakeover)
	starts = append(starts, killed)
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
	g.setPhase(phaseAfterKill)
	starts = append(starts, time.Now())
	first, last := backAfter(tr.spells(), killed, starts[len(starts)-1])
	fmt.Fprintf(out, "takeover: every manager has a socket at the emulator again %.2f s after the kill (bound 2×TTL = %v, plus the dial pacer's time); the first of its managers had one again after %.2f s, the last after %.2f s\n",
		takeover.Seconds(), 2*cfg.ttl, first.Seconds(), last.Seconds())
	printBalance(out, "balance after the kill", tr, pbx, reps[:len(reps)-1], cfg.managers)
	if !sleep(ctx, cfg.phase) {
		return false, ctx.Err()
	}

	if cfg.rejoin {
		doors[len(doors)-1].reopen()
		back := time.Now()
		g.setPhase(phaseRejoin)
		starts = append(starts, back)
		r, err := startReplica(ctx, s, victim.name, doors[len(doors)-1])
		if err != nil {
			return false, err
		}
		reps[len(reps)-1] = r
		all = append(all, r)
		if err := waitFor(ctx, cfg.waitLimit, func() bool { return settled(tr, cfg.managers, names) }); err != nil {
			return false, fmt.Errorf("the rejoin: %w", err)
		}
		g.setPhase(phaseAfterRejoin)
		starts = append(starts, time.Now())
		fmt.Fprintf(out, "\nrejoined: %s started again under its name; even again %.2f s later\n",
			victim.name, time.Since(back).Seconds())
		printBalance(out, "balance after the rejoin", tr, pbx, reps, cfg.managers)
		if !sleep(ctx, cfg.phase) {
			return false, ctx.Err()
		}
	}

	g.end()
	starts = append(starts, time.Now()) // the end of the last phase
	if !sleep(ctx, settle) {            // the sockets' changes around the last pushes are known
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

	printEvents(out, ledger, got, tr, starts)
	fmt.Fprintf(out, "duplicates delivered: %d (events consumed more than once: %d); consumed in all: %d, of which %d the generator never pushed\n",
		t.duplicates, t.dupEvents, t.consumed, t.unknown)
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

// The phases of a run.
const (
	phaseBefore = iota
	phaseTakeover
	phaseAfterKill
	phaseRejoin
	phaseAfterRejoin
)

var phaseNames = [...]string{"before the kill", "kill → every manager held", "after the takeover",
	"rejoin → even again", "after the rejoin"}

// printEvents prints what became of the events pushed in each phase, and
// the managers left without a socket in it. starts holds when each phase
// began, and when the last one ended.
func printEvents(out io.Writer, ledger map[string]pushed, got map[string]int, tr *tracker, starts []time.Time) {
	fmt.Fprintf(out, "\ncall events the emulator pushed (start, answer, end), by phase of the run:\n")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-26s\tpushed\tto a socket\tconsumed\tlost\tto no socket\tconsumed\tat a change\tconsumed\tnot, with a socket\tmanagers left without a socket\tthe longest\t\n", "phase")
	spells := tr.spells()
	var sum tally
	for i := range len(starts) - 1 {
		part := map[string]pushed{}
		for k, p := range ledger {
			if p.phase == i {
				part[k] = p
			}
		}
		t := count(part, 0, got, 0, tr, settle)
		managers, longest := 0, time.Duration(0)
		for _, sp := range spells {
			if !sp.from.Before(starts[i]) && sp.from.Before(starts[i+1]) {
				managers++
				longest = max(longest, sp.to.Sub(sp.from))
			}
		}
		fmt.Fprintf(tw, "%-26s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.2f s\t\n", phaseNames[i], t.pushed, t.deliverable,
			t.delivered, t.lost(), t.noSocket, t.noSocketDelivered, t.atChange, t.atChangeDelivered, t.atChangeOpenLost, managers, longest.Seconds())
		sum.pushed += t.pushed
		sum.deliverable += t.deliverable
		sum.delivered += t.delivered
		sum.noSocket += t.noSocket
		sum.noSocketDelivered += t.noSocketDelivered
		sum.atChange += t.atChange
		sum.atChangeDelivered += t.atChangeDelivered
		sum.atChangeOpenLost += t.atChangeOpenLost
	}
	fmt.Fprintf(tw, "%-26s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\t\t\n", "in all", sum.pushed, sum.deliverable, sum.delivered,
		sum.lost(), sum.noSocket, sum.noSocketDelivered, sum.atChange, sum.atChangeDelivered, sum.atChangeOpenLost)
	_ = tw.Flush()
	fmt.Fprintf(out, "  to a socket: the manager had a socket open at the emulator, and none of its sockets opened or closed within %v of the push; lost: never consumed\n", settle)
	fmt.Fprintf(out, "  to no socket: none open, none opening or closing within %v: Phonet pushes such an event to nobody (a CRM finds the call in the history)\n", settle)
	fmt.Fprintf(out, "  at a change: a socket of the manager opened or closed within %v of the push: whether it could arrive is not judged; \"not, with a socket\": never consumed though a socket was open just before the push (one closing, say)\n", settle)
}

// backAfter returns when the first and the last manager that lost its
// socket between from and to had one again, after from.
func backAfter(spells []gap, from, to time.Time) (first, last time.Duration) {
	first = -1
	for _, sp := range spells {
		if sp.from.Before(from) || !sp.from.Before(to) {
			continue
		}
		d := sp.to.Sub(from)
		if first < 0 || d < first {
			first = d
		}
		last = max(last, d)
	}
	return max(first, 0), last
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
func printBalance(out io.Writer, title string, tr *tracker, pbx *phonettest.Server, reps []*replica, n int) {
	_, _, per := tr.view()
	doors := 0
	for _, k := range per {
		doors += k
	}
	mean := float64(n) / float64(len(reps))
	var parts []string
	worst := 0.0
	for _, r := range reps {
		k := per[r.name]
		parts = append(parts, fmt.Sprintf("%s %d (leases %d)", r.name, k, len(r.own.Held())))
		worst = max(worst, math.Abs(float64(k)-mean)/mean*100)
	}
	fmt.Fprintf(out, "%s: %s; at most %.1f %% off even; sockets through the doors %d, at the emulator %d\n",
		title, strings.Join(parts, ", "), worst, doors, pbx.Sockets())
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
