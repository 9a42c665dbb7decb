package natsjs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pbxkit/pbxkit/internal/natstest"
	"github.com/pbxkit/pbxkit/natsjs"
	"github.com/pbxkit/pbxkit/phonet"
	"github.com/pbxkit/pbxkit/phonet/phonettest"
)

// testTTL is the lease TTL of the tests: small, so that expiries are
// quick, and a whole number of seconds as JetStream wants.
const testTTL = 2 * time.Second

// slack covers what the protocol's bound does not: the server's expiry
// timer, a snapshot and Creates, and a machine of 2 cores shared with
// other work running under -race.
const slack = 1500 * time.Millisecond

// registry sees every socket of every fake Target: it records when a
// subscriber is held by two Targets at once, and for how long.
type registry struct {
	mu       sync.Mutex
	holders  map[string][]string // subscriber → targets holding it
	since    map[string]time.Time
	overlaps int
	overlap  time.Duration // in all
	longest  time.Duration
}

func newRegistry() *registry {
	return &registry{holders: map[string][]string{}, since: map[string]time.Time{}}
}

func (r *registry) add(sub, target string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.holders[sub] = append(r.holders[sub], target)
	if len(r.holders[sub]) == 2 {
		r.overlaps++
		r.since[sub] = time.Now()
	}
}

func (r *registry) remove(sub, target string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	hs := r.holders[sub]
	i := slices.Index(hs, target)
	if i < 0 {
		return
	}
	r.holders[sub] = slices.Delete(hs, i, i+1)
	if len(r.holders[sub]) == 1 {
		d := time.Since(r.since[sub])
		r.overlap += d
		r.longest = max(r.longest, d)
	}
}

// forget drops every subscriber of a dead target: its sockets died with
// it.
func (r *registry) forget(target string) {
	r.mu.Lock()
	var subs []string
	for sub, hs := range r.holders {
		if slices.Contains(hs, target) {
			subs = append(subs, sub)
		}
	}
	r.mu.Unlock()
	for _, sub := range subs {
		r.remove(sub, target)
	}
}

// report returns the overlaps so far, those still open included.
func (r *registry) report() (n int, total, longest time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	total, longest = r.overlap, r.longest
	for sub, hs := range r.holders {
		if len(hs) > 1 {
			d := time.Since(r.since[sub])
			total += d
			longest = max(longest, d)
		}
	}
	return r.overlaps, total, longest
}

// held returns who holds each subscriber.
func (r *registry) held() map[string][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]string{}
	for sub, hs := range r.holders {
		if len(hs) > 0 {
			out[sub] = slices.Clone(hs)
		}
	}
	return out
}

// fakeTarget stands for a Hub: it counts its Adds and Removes, refuses
// the subscribers in refuse, and tells the registry. After kill it is a
// dead process: its sockets are gone and it hears nothing more.
type fakeTarget struct {
	name string
	reg  *registry

	mu      sync.Mutex
	subs    map[string]bool
	adds    int
	removes int
	refuse  map[string]bool
	dead    bool
}

func newTarget(name string, reg *registry) *fakeTarget {
	return &fakeTarget{name: name, reg: reg, subs: map[string]bool{}, refuse: map[string]bool{}}
}

func (f *fakeTarget) Add(ctx context.Context, sub string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if f.dead {
		return errors.New("dead")
	}
	if f.refuse[sub] {
		return fmt.Errorf("%s refused", sub)
	}
	if f.subs[sub] {
		return nil
	}
	f.subs[sub] = true
	f.adds++
	f.reg.add(sub, f.name)
	return nil
}

func (f *fakeTarget) Remove(sub string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dead || !f.subs[sub] {
		return
	}
	delete(f.subs, sub)
	f.removes++
	f.reg.remove(sub, f.name)
}

func (f *fakeTarget) kill() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for sub := range f.subs {
		f.reg.remove(sub, f.name)
	}
	clear(f.subs)
	f.dead = true
}

func (f *fakeTarget) counts() (held, adds, removes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs), f.adds, f.removes
}

// replica is one process: its connection, Target and Ownership.
type replica struct {
	name   string
	nc     *nats.Conn
	target *fakeTarget
	own    *natsjs.Ownership
	cancel context.CancelFunc
}

// kill ends the replica as a crash does: its sockets die with it, its
// connection drops, and its leases are left to expire.
func (r *replica) kill() {
	r.target.kill()
	r.nc.Close()
	r.cancel() // its Ownership stops; NATS cannot be told any more
}

func startReplica(t *testing.T, url, name string, reg *registry, subs []string) *replica {
	t.Helper()
	return startReplicaWith(t, url, name, newTarget(name, reg), subs)
}

func startReplicaWith(t *testing.T, url, name string, target natsjs.Target, subs []string) *replica {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond),
		nats.ReconnectJitter(0, 0))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	own, err := natsjs.NewOwnership(ctx, js, natsjs.OwnershipConfig{Replica: name, TTL: testTTL}, target, subs)
	require.NoError(t, err)
	t.Cleanup(func() { _ = own.Close() })
	ft, _ := target.(*fakeTarget)
	return &replica{name: name, nc: nc, target: ft, own: own, cancel: cancel}
}

func startServer(t *testing.T) *natstest.Server {
	t.Helper()
	srv, err := natstest.Start(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	return srv
}

// leakCheck registers goleak first, so that it runs after every other
// cleanup (connections closed, servers stopped).
func leakCheck(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
}

func managers(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("m%03d@crm.example", i)
	}
	return out
}

// awaitSpread waits until every subscriber is held by exactly one of rs,
// each holding want(held) true, and returns how long it took.
func awaitSpread(t *testing.T, reg *registry, subs []string, rs []*replica, within time.Duration, want func(held []int) bool) time.Duration {
	t.Helper()
	start := time.Now()
	var last string
	ok := assert.Eventually(t, func() bool {
		held := reg.held()
		var counts []int
		for _, r := range rs {
			n, _, _ := r.target.counts()
			counts = append(counts, n)
		}
		last = fmt.Sprintf("%d of %d held, per replica %v", len(held), len(subs), counts)
		if len(held) != len(subs) {
			return false
		}
		for _, hs := range held {
			if len(hs) != 1 {
				return false
			}
		}
		return want(counts)
	}, within, 20*time.Millisecond)
	require.True(t, ok, "not settled in %v: %s", within, last)
	return time.Since(start)
}

// evenSpread: every replica within ±10 % of an even share.
func evenSpread(n int) func([]int) bool {
	return func(counts []int) bool {
		mean := float64(n) / float64(len(counts))
		for _, c := range counts {
			if math.Abs(float64(c)-mean) > 0.1*mean {
				return false
			}
		}
		return true
	}
}

func anySpread([]int) bool { return true }

func noOverlap(t *testing.T, reg *registry) {
	t.Helper()
	n, total, longest := reg.report()
	t.Logf("overlaps: %d, %v in all, longest %v", n, total, longest)
	assert.Zero(t, n, "a subscriber held by two replicas at once")
}

// N managers over one, then two, then three replicas: each ends within
// ±10 % of an even share, and no manager is ever held twice.
func TestOwnershipSpreadsOverReplicas(t *testing.T) {
	leakCheck(t)
	srv := startServer(t)
	reg := newRegistry()
	subs := managers(60)

	var rs []*replica
	for i := range 3 {
		rs = append(rs, startReplica(t, srv.URL(), fmt.Sprintf("r%d", i+1), reg, subs))
		d := awaitSpread(t, reg, subs, rs, 4*testTTL+slack, evenSpread(len(subs)))
		var counts []int
		for _, r := range rs {
			counts = append(counts, len(r.own.Held()))
		}
		t.Logf("%d replicas: settled in %v, held %v", len(rs), d.Round(time.Millisecond), counts)
	}
	noOverlap(t, reg)
}

// A replica that dies has its managers taken by the others within
// 2×TTL (plus slack, see slack) of its death.
func TestOwnershipTakesOverADeadReplica(t *testing.T) {
	leakCheck(t)
	srv := startServer(t)
	reg := newRegistry()
	subs := managers(30)
	rs := []*replica{
		startReplica(t, srv.URL(), "r1", reg, subs),
		startReplica(t, srv.URL(), "r2", reg, subs),
		startReplica(t, srv.URL(), "r3", reg, subs),
	}
	awaitSpread(t, reg, subs, rs, 4*testTTL+slack, evenSpread(len(subs)))

	rs[2].kill()
	d := awaitSpread(t, reg, subs, rs[:2], 2*testTTL+slack, evenSpread(len(subs)))
	t.Logf("takeover of a dead replica's %d managers: %v (TTL %v, bound 2×TTL)", len(subs)/3, d.Round(time.Millisecond), testTTL)
	noOverlap(t, reg)
}

// Close hands over at once: the others take the managers without waiting
// for an expiry.
func TestOwnershipCloseHandsOver(t *testing.T) {
	leakCheck(t)
	srv := startServer(t)
	reg := newRegistry()
	subs := managers(30)
	rs := []*replica{startReplica(t, srv.URL(), "r1", reg, subs), startReplica(t, srv.URL(), "r2", reg, subs)}
	awaitSpread(t, reg, subs, rs, 4*testTTL+slack, evenSpread(len(subs)))

	start := time.Now()
	require.NoError(t, rs[1].own.Close())
	require.NoError(t, rs[1].own.Close(), "twice")
	held, _, removes := rs[1].target.counts()
	assert.Zero(t, held)
	assert.Equal(t, len(subs)/2, removes)
	assert.Empty(t, rs[1].own.Held())
	d := awaitSpread(t, reg, subs, rs[:1], testTTL, func(c []int) bool { return c[0] == len(subs) })
	t.Logf("handover: all held by r1 %v after Close began, %v after it returned (TTL %v)",
		time.Since(start).Round(time.Millisecond), d.Round(time.Millisecond), testTTL)
	noOverlap(t, reg)
}

// NATS away for less than TTL: nothing moves, the Targets keep their
// sockets, the leases are renewed when it is back.
func TestOwnershipKeepsSocketsThroughAShortOutage(t *testing.T) {
	leakCheck(t)
	srv := startServer(t)
	reg := newRegistry()
	subs := managers(20)
	rs := []*replica{startReplica(t, srv.URL(), "r1", reg, subs), startReplica(t, srv.URL(), "r2", reg, subs)}
	awaitSpread(t, reg, subs, rs, 4*testTTL+slack, evenSpread(len(subs)))
	before := reg.held()
	type tally struct{ adds, removes int }
	var was []tally
	var stats []natsjs.OwnershipStats
	for _, r := range rs {
		_, adds, removes := r.target.counts()
		was = append(was, tally{adds, removes})
		stats = append(stats, r.own.Stats())
	}

	srv.Stop()
	time.Sleep(testTTL / 2)
	assert.Equal(t, before, reg.held(), "while NATS is away")
	require.NoError(t, srv.Restart())
	time.Sleep(2 * testTTL) // several renewals
	assert.Equal(t, before, reg.held(), "after NATS is back")
	for i, r := range rs {
		_, adds, removes := r.target.counts()
		assert.Equal(t, was[i], tally{adds, removes}, r.name)
		assert.Equal(t, stats[i], r.own.Stats(), r.name)
	}
	noOverlap(t, reg)
}

// NATS away for longer than TTL: the leases are past their TTL; the
// holders renew them (the server had not expired them yet) or make them
// again, and nobody else takes them meanwhile.
func TestOwnershipReacquiresAfterALongOutage(t *testing.T) {
	leakCheck(t)
	srv := startServer(t)
	reg := newRegistry()
	subs := managers(20)
	rs := []*replica{startReplica(t, srv.URL(), "r1", reg, subs), startReplica(t, srv.URL(), "r2", reg, subs)}
	awaitSpread(t, reg, subs, rs, 4*testTTL+slack, evenSpread(len(subs)))
	before := reg.held()

	srv.Stop()
	time.Sleep(2 * testTTL)
	assert.Equal(t, before, reg.held(), "the sockets stay while NATS is away")
	require.NoError(t, srv.Restart())
	awaitSpread(t, reg, subs, rs, 4*testTTL+slack, anySpread)
	time.Sleep(2 * testTTL) // the quiet period is over, renewals went on
	assert.Equal(t, before, reg.held(), "nothing moved")
	renewed := 0
	for _, r := range rs {
		st := r.own.Stats()
		renewed += st.Renewed
		assert.Zero(t, st.Lost, r.name)
	}
	t.Logf("leases made again by their holders: %d of %d (the others renewed at their revision)", renewed, len(subs))
	noOverlap(t, reg)
}

// A refused Add gives the lease back at once; another replica takes the
// subscriber.
func TestOwnershipGivesBackARefusedLease(t *testing.T) {
	leakCheck(t)
	srv := startServer(t)
	reg := newRegistry()
	subs := managers(10)
	picky := newTarget("r1", reg)
	picky.refuse[subs[3]] = true
	rs := []*replica{startReplicaWith(t, srv.URL(), "r1", picky, subs)}
	require.Eventually(t, func() bool { return rs[0].own.Stats().Refused > 0 }, 4*testTTL, 20*time.Millisecond)
	assert.Eventually(t, func() bool { return len(rs[0].own.Held()) == len(subs)-1 }, 4*testTTL, 20*time.Millisecond)
	assert.NotContains(t, rs[0].own.Held(), subs[3])

	rs = append(rs, startReplica(t, srv.URL(), "r2", reg, subs))
	awaitSpread(t, reg, subs, rs, 4*testTTL+slack, evenSpread(len(subs)))
	assert.Contains(t, rs[1].own.Held(), subs[3])
	noOverlap(t, reg)
}

// Bad configuration is refused before anything is made.
func TestOwnershipConfig(t *testing.T) {
	leakCheck(t)
	srv := startServer(t)
	nc, err := nats.Connect(srv.URL())
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tg := newTarget("x", newRegistry())
	for _, cfg := range []natsjs.OwnershipConfig{
		{}, // no replica
		{Replica: "a", TTL: 1500 * time.Millisecond}, // not whole seconds
		{Replica: "a", TTL: 500 * time.Millisecond},
		{Replica: "a", Replicas: 7},
	} {
		_, err := natsjs.NewOwnership(ctx, js, cfg, tg, nil)
		assert.Error(t, err, "%+v", cfg)
	}
	o, err := natsjs.NewOwnership(ctx, js, natsjs.OwnershipConfig{Replica: "a", TTL: 3 * time.Second}, tg, nil)
	require.NoError(t, err)
	require.NoError(t, o.Close())
	_, err = natsjs.NewOwnership(ctx, js, natsjs.OwnershipConfig{Replica: "b", TTL: 4 * time.Second}, tg, nil)
	assert.ErrorContains(t, err, "TTL", "another TTL on the same bucket")
}

// leaseKey is a lease's key, as the package documents it.
func leaseKey(sub string) string {
	out := "lease."
	for i := range len(sub) {
		c := sub[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			out += string(c)
		} else {
			out += fmt.Sprintf("=%02X", c)
		}
	}
	return out
}

// A lease that vanished (expired, purged) is made again by its holder,
// which keeps the socket; a lease somebody else wrote is given up, its
// socket closed first, and taken back once it expires.
func TestOwnershipRenewalChecksTheRevision(t *testing.T) {
	leakCheck(t)
	srv := startServer(t)
	reg := newRegistry()
	subs := managers(5)
	r := startReplica(t, srv.URL(), "r1", reg, subs)
	awaitSpread(t, reg, subs, []*replica{r}, 4*testTTL, anySpread)
	js, err := jetstream.New(r.nc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	kv, err := js.KeyValue(ctx, natsjs.DefaultOwnersBucket)
	require.NoError(t, err)
	e, err := kv.Get(ctx, leaseKey(subs[1]))
	require.NoError(t, err, "the key format is the documented one")
	assert.True(t, strings.HasPrefix(string(e.Value()), "r1 "), "the holder's name and nonce: %q", e.Value())

	require.NoError(t, kv.Purge(ctx, leaseKey(subs[1])))
	require.Eventually(t, func() bool { return r.own.Stats().Renewed == 1 }, 2*testTTL, 10*time.Millisecond)
	_, adds, removes := r.target.counts()
	assert.Equal(t, []int{5, 0}, []int{adds, removes}, "the socket stayed")

	_, err = kv.Put(ctx, leaseKey(subs[2]), []byte("intruder"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return r.own.Stats().Lost == 1 }, 2*testTTL, 10*time.Millisecond)
	assert.NotContains(t, r.own.Held(), subs[2])
	_, _, removes = r.target.counts()
	assert.Equal(t, 1, removes, "the socket was closed")
	// The intruder's key expires after TTL; the replica takes it back.
	awaitSpread(t, reg, subs, []*replica{r}, 2*testTTL+slack, anySpread)
	assert.Contains(t, r.own.Held(), subs[2])
}

// hubTarget is a *phonet.Hub that tells the registry of its Adds and
// Removes: the emulator counts sockets but not per subscriber.
type hubTarget struct {
	*phonet.Hub
	name string
	reg  *registry
}

func (h hubTarget) Add(ctx context.Context, sub string) error {
	if err := h.Hub.Add(ctx, sub); err != nil {
		return err
	}
	h.reg.add(sub, h.name)
	return nil
}

func (h hubTarget) Remove(sub string) {
	h.Hub.Remove(sub) // returns once the socket is closed
	h.reg.remove(sub, h.name)
}

// Two replicas, each with a phonet Hub on the emulator, share its
// managers: one socket per manager at the emulator, each call's event
// delivered once; when one replica dies (its Hub and connection gone), the
// other opens its sockets within 2×TTL.
func TestOwnershipWithPhonetHubs(t *testing.T) {
	leakCheck(t)
	srv := startServer(t)
	const apiKey = "test-api-key"
	pbx := phonettest.NewServer(apiKey)
	t.Cleanup(pbx.Close)
	var users []phonettest.User
	var subs []string
	for i := range 8 {
		ext := fmt.Sprintf("%03d", i+1)
		users = append(users, phonettest.User{ID: i + 1, DisplayName: "Manager " + ext, Ext: ext,
			Email: "m" + ext + "@demo.example"})
		subs = append(subs, ext)
	}
	pbx.SetUsers(users)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	reg := newRegistry()
	events := make(chan *phonet.Event, 100)
	var readers sync.WaitGroup
	var rs []*replica
	var hubs []*phonet.Hub
	for i := range 2 {
		client, err := phonet.New(pbx.Domain, apiKey, phonet.WithBaseURL(pbx.BaseURL()))
		require.NoError(t, err)
		hub, err := client.Watch(ctx, nil)
		require.NoError(t, err)
		t.Cleanup(func() { _ = hub.Close(); readers.Wait() })
		readers.Go(func() {
			for ev := range hub.Events() {
				events <- ev
			}
		})
		name := fmt.Sprintf("r%d", i+1)
		rs = append(rs, startReplicaWith(t, srv.URL(), name, hubTarget{Hub: hub, name: name, reg: reg}, subs))
		hubs = append(hubs, hub)
	}
	// The most sockets the emulator ever had open at once.
	var most int
	var watching sync.WaitGroup
	stopWatching := make(chan struct{})
	t.Cleanup(func() {
		select {
		case <-stopWatching:
		default:
			close(stopWatching)
		}
		watching.Wait()
	})
	watching.Go(func() {
		for {
			select {
			case <-stopWatching:
				return
			case <-time.After(time.Millisecond):
				most = max(most, pbx.Sockets())
			}
		}
	})
	// waitHeld waits until the live hubs watch want managers each.
	waitHeld := func(hubs []*phonet.Hub, want []int) {
		t.Helper()
		require.Eventually(t, func() bool {
			var got []int
			for _, h := range hubs {
				got = append(got, len(h.Subscribers()))
			}
			return slices.Equal(got, want)
		}, 4*testTTL+slack, 10*time.Millisecond)
		require.NoError(t, pbx.AwaitSockets(ctx, len(subs)))
	}
	// once rings every manager and expects each call's dial exactly once.
	once := func() {
		t.Helper()
		want := map[string]string{}
		for _, ext := range subs {
			want[pbx.Incoming(ext, "+380501234567")] = ext
		}
		got := map[string]int{}
		for range len(subs) {
			select {
			case ev := <-events:
				got[ev.UUID]++
				assert.Equal(t, want[ev.UUID], ev.Subscriber)
			case <-ctx.Done():
				t.Fatal("events missing")
			}
		}
		select {
		case ev := <-events:
			t.Errorf("an event twice: %+v", ev)
		case <-time.After(300 * time.Millisecond):
		}
		for id := range want {
			assert.Equal(t, 1, got[id], "the call of %s", want[id])
		}
	}

	waitHeld(hubs, []int{4, 4})
	once()
	killed := time.Now()
	require.NoError(t, hubs[1].Close())
	reg.forget("r2")
	rs[1].nc.Close()
	rs[1].cancel()
	waitHeld(hubs[:1], []int{8})
	took := time.Since(killed)
	t.Logf("a dead replica's 4 sockets open on the other %v after its death (TTL %v)", took.Round(time.Millisecond), testTTL)
	assert.Less(t, took, 2*testTTL+slack)
	once()
	close(stopWatching)
	watching.Wait()
	t.Logf("most sockets open at the emulator at once: %d for %d managers", most, len(subs))
	assert.Equal(t, len(subs), pbx.Sockets())
	noOverlap(t, reg)
}

// The figures of docs/scale.md: 1,000 managers over three replicas with
// a lease TTL of 2 s, then of 10 s (the default); one replica killed. Run
// it with
//
//	go test -run '^$' -bench Ownership -benchtime 1x -count 5 ./natsjs/
//
// It reports how long the spread over three replicas took once the third
// started, the largest distance of a replica from an even share, the
// takeover of the dead replica's managers, the overlap seen by the
// Targets (subscriber-seconds held twice), and the leases the survivors
// lost (a renewal too late).
func BenchmarkOwnershipTakeover(b *testing.B) {
	const n = 1000
	for _, ttl := range []time.Duration{testTTL, natsjs.DefaultLeaseTTL} {
		b.Run(fmt.Sprintf("ttl=%v", ttl), func(b *testing.B) { benchTakeover(b, n, ttl) })
	}
}

func benchTakeover(b *testing.B, n int, ttl time.Duration) {
	subs := managers(n)
	for range b.N {
		b.StopTimer()
		func() {
			srv, err := natstest.Start(b.TempDir())
			require.NoError(b, err)
			defer srv.Stop()
			reg := newRegistry()
			var rs []*replica
			for i := range 3 {
				target := newTarget(fmt.Sprintf("r%d", i+1), reg)
				nc, err := nats.Connect(srv.URL(), nats.MaxReconnects(-1))
				require.NoError(b, err)
				defer nc.Close()
				js, err := jetstream.New(nc)
				require.NoError(b, err)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				own, err := natsjs.NewOwnership(ctx, js, natsjs.OwnershipConfig{Replica: target.name, TTL: ttl}, target, subs)
				require.NoError(b, err)
				defer own.Close()
				rs = append(rs, &replica{name: target.name, nc: nc, target: target, own: own, cancel: cancel})
			}
			start := time.Now()
			spread := waitSettled(b, reg, n, rs, evenSpread(n))
			b.ReportMetric(spread.Sub(start).Seconds(), "spread-s")
			var worst float64
			for _, r := range rs {
				c, _, _ := r.target.counts()
				mean := float64(n) / 3
				worst = max(worst, math.Abs(float64(c)-mean)/mean*100)
			}
			b.ReportMetric(worst, "off-even-%")
			killed := time.Now()
			rs[2].kill()
			done := waitSettled(b, reg, n, rs[:2], evenSpread(n))
			b.ReportMetric(done.Sub(killed).Seconds(), "takeover-s")
			_, total, _ := reg.report()
			b.ReportMetric(total.Seconds(), "overlap-s")
			lost := 0
			for _, r := range rs[:2] {
				lost += r.own.Stats().Lost
			}
			b.ReportMetric(float64(lost), "lost-leases") // renewals too late
		}()
	}
}

// waitSettled is awaitSpread for a benchmark: it returns when it settled.
func waitSettled(b *testing.B, reg *registry, n int, rs []*replica, want func([]int) bool) time.Time {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		held := reg.held()
		ok := len(held) == n
		for _, hs := range held {
			ok = ok && len(hs) == 1
		}
		var counts []int
		for _, r := range rs {
			c, _, _ := r.target.counts()
			counts = append(counts, c)
		}
		if ok && want(counts) {
			return time.Now()
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.Fatal("not settled in 60 s")
	return time.Time{}
}

// proxy forwards TCP connections to a NATS server until cut: then it
// drops them and refuses new ones, as a network partition of one replica
// does.
type proxy struct {
	ln     net.Listener
	to     string
	mu     sync.Mutex
	cut    bool
	conns  []net.Conn
	serves sync.WaitGroup
}

func startProxy(t *testing.T, to string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{ln: ln, to: strings.TrimPrefix(to, "nats://")}
	p.serves.Go(p.accept)
	t.Cleanup(func() {
		_ = ln.Close()
		p.partition(true)
		p.serves.Wait()
	})
	return p
}

func (p *proxy) URL() string { return "nats://" + p.ln.Addr().String() }

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.to)
		if err != nil {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		p.serves.Go(func() { _, _ = io.Copy(s, c); _ = s.Close() })
		p.serves.Go(func() { _, _ = io.Copy(c, s); _ = c.Close() })
	}
}

// partition cuts (true) or heals (false) the link.
func (p *proxy) partition(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for _, c := range p.conns {
			_ = c.Close()
		}
		p.conns = nil
	}
}

// One replica cut off from NATS while the others reach it: without
// Fence it keeps its sockets and overlaps the replica that takes its
// expired leases until it reconnects; with Fence it closes them before
// its leases expire, and nothing is held twice.
func TestOwnershipPartitionOfOneReplica(t *testing.T) {
	for _, fence := range []bool{false, true} {
		t.Run(fmt.Sprintf("fence=%v", fence), func(t *testing.T) {
			leakCheck(t)
			srv := startServer(t)
			px := startProxy(t, srv.URL())
			reg := newRegistry()
			subs := managers(10)
			cfg := natsjs.OwnershipConfig{TTL: testTTL, Fence: fence}
			cfg.Replica = "r1"
			r1 := startReplicaCfg(t, px.URL(), cfg, newTarget("r1", reg), subs)
			cfg.Replica = "r2"
			r2 := startReplicaCfg(t, srv.URL(), cfg, newTarget("r2", reg), subs)
			rs := []*replica{r1, r2}
			awaitSpread(t, reg, subs, rs, 4*testTTL+slack, evenSpread(len(subs)))

			cut := time.Now()
			px.partition(true)
			// r2 takes r1's managers once their leases expire.
			require.Eventually(t, func() bool {
				n, _, _ := r2.target.counts()
				return n == len(subs)
			}, 2*testTTL+slack, 10*time.Millisecond)
			t.Logf("r2 holds every manager %v after r1 was cut off", time.Since(cut).Round(time.Millisecond))
			time.Sleep(testTTL / 2)
			px.partition(false)
			// r1 learns its leases were taken, and the two share again.
			d := awaitSpread(t, reg, subs, rs, 4*testTTL+slack, evenSpread(len(subs)))
			t.Logf("even again %v after the link healed; r1: %+v", d.Round(time.Millisecond), r1.own.Stats())
			n, total, longest := reg.report()
			t.Logf("overlaps: %d, %v in all, longest %v", n, total.Round(time.Millisecond), longest.Round(time.Millisecond))
			if fence {
				assert.Zero(t, n, "a subscriber held by two replicas at once")
				assert.Equal(t, len(subs)/2, r1.own.Stats().Fenced)
			} else {
				assert.Equal(t, len(subs)/2, n, "r1's sockets overlapped r2's until it reconnected")
			}
		})
	}
}

func startReplicaCfg(t *testing.T, url string, cfg natsjs.OwnershipConfig, target *fakeTarget, subs []string) *replica {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond),
		nats.ReconnectJitter(0, 0))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	own, err := natsjs.NewOwnership(ctx, js, cfg, target, subs)
	require.NoError(t, err)
	t.Cleanup(func() { _ = own.Close() })
	return &replica{name: cfg.Replica, nc: nc, target: target, own: own, cancel: cancel}
}

// A second replica under a name in use takes nothing until the name is
// free.
func TestOwnershipReplicaNameInUse(t *testing.T) {
	leakCheck(t)
	srv := startServer(t)
	reg := newRegistry()
	subs := managers(6)
	first := startReplica(t, srv.URL(), "same", reg, subs)
	awaitSpread(t, reg, subs, []*replica{first}, 4*testTTL, anySpread)
	second := startReplicaWith(t, srv.URL(), "same", newTarget("same-2", reg), subs)
	time.Sleep(testTTL)
	n, adds, _ := second.target.counts()
	assert.Zero(t, n+adds, "the second took nothing while the name was in use")
	require.NoError(t, first.own.Close())
	awaitSpread(t, reg, subs, []*replica{second}, 2*testTTL, func(c []int) bool { return c[0] == len(subs) })
	noOverlap(t, reg)
}
