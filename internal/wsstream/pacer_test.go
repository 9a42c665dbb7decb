package wsstream

import (
	"container/heap"
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
)

func TestPacerRateScalesWithItsStreams(t *testing.T) {
	t.Parallel()
	p := NewPacer()
	r, b := p.Rate()
	assert.Equal(t, float64(DefaultMinDialRate), r)
	assert.Equal(t, DefaultMinDialRate/10, b)
	assert.Zero(t, p.Spread())

	var leaves []func()
	for range 10000 {
		leaves = append(leaves, p.join())
	}
	assert.Equal(t, 10000, p.Streams())
	r, b = p.Rate()
	assert.InDelta(t, 10000/12.0, r, 1e-9)
	assert.Equal(t, 83, b)
	assert.InDelta(t, float64(DefaultReturnWindow), float64(p.Spread()), float64(time.Microsecond))

	leaves[0]()
	leaves[0]() // leaving twice counts once
	assert.Equal(t, 9999, p.Streams())
	for _, leave := range leaves[1:] {
		leave()
	}
	assert.Zero(t, p.Streams())
	r, b = p.Rate()
	assert.Equal(t, float64(DefaultMinDialRate), r)
	assert.Equal(t, DefaultMinDialRate/10, b)

	// A hundred streams: the floor rules, and they come back within the
	// one second a lone stream would take.
	for range 100 {
		p.join()
	}
	assert.Equal(t, time.Second, p.Spread())
}

func TestFixedPacerDoesNotScale(t *testing.T) {
	t.Parallel()
	_, err := NewFixedPacer(0, 1)
	require.Error(t, err)
	_, err = NewFixedPacer(1, 0)
	require.Error(t, err)

	p, err := NewFixedPacer(50, 5)
	require.NoError(t, err)
	for range 1000 {
		p.join()
	}
	r, b := p.Rate()
	assert.Equal(t, 50.0, r)
	assert.Equal(t, 5, b)
	assert.Equal(t, 20*time.Second, p.Spread())
}

// restartSim plays a server restart against n streams on one scaling
// pacer, in simulated time with the streams' own waits (waitCeil, a seeded
// jitter) and the pacer's own token bucket: every stream drops at 0, and
// the server refuses connections until down. It returns when each attempt
// happened and when each stream was back.
func restartSim(t *testing.T, n int, down time.Duration, seed uint64) (attempts, backs []time.Duration) {
	t.Helper()
	p := NewPacer()
	s := &Stream[int]{cfg: Config[int]{Pacer: p, BackoffMin: DefaultBackoffMin, BackoffMax: DefaultBackoffMax}}
	for range n {
		p.join()
	}
	rnd := rand.New(rand.NewPCG(seed, seed))
	draw := func(ceil time.Duration) time.Duration { return time.Duration(rnd.Int64N(int64(ceil) + 1)) }
	epoch := time.Unix(1_700_000_000, 0)

	// Each stream is, in turn, at the pacer (arrival) or dialling.
	q := &simQueue{}
	exp := make([]int, n)
	for i := range n {
		heap.Push(q, simEvent{at: draw(s.waitCeil(0)), stream: i, arrive: true})
		exp[i] = 1
	}
	for q.Len() > 0 {
		ev := heap.Pop(q).(simEvent)
		if ev.arrive {
			delay, _ := p.delay(epoch.Add(ev.at))
			heap.Push(q, simEvent{at: ev.at + delay, stream: ev.stream})
			continue
		}
		attempts = append(attempts, ev.at)
		if ev.at >= down {
			backs = append(backs, ev.at)
			continue
		}
		// Refused at once: back off, then queue at the pacer again.
		wait := draw(s.waitCeil(exp[ev.stream]))
		exp[ev.stream] = min(exp[ev.stream]+1, 64)
		heap.Push(q, simEvent{at: ev.at + wait, stream: ev.stream, arrive: true})
	}
	return attempts, backs
}

type simEvent struct {
	at     time.Duration
	stream int
	arrive bool // at the pacer; otherwise dialling
}

type simQueue []simEvent

func (q simQueue) Len() int           { return len(q) }
func (q simQueue) Less(i, j int) bool { return q[i].at < q[j].at }
func (q simQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)        { *q = append(*q, x.(simEvent)) }
func (q *simQueue) Pop() any {
	old := *q
	ev := old[len(old)-1]
	*q = old[:len(old)-1]
	return ev
}

// maxInWindow returns the most times (sorted) that fall in any window of
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

func TestARestartUnderTenThousandStreamsIsSpread(t *testing.T) {
	t.Parallel()
	const n = 10000
	for _, down := range []time.Duration{0, 3 * time.Second, 10 * time.Second, 30 * time.Second} {
		for seed := range uint64(3) {
			attempts, backs := restartSim(t, n, down, seed)
			require.Len(t, backs, n)
			// All are back within 20 s of the server's return, and of the
			// drop itself after a quick restart.
			last := backs[len(backs)-1]
			assert.LessOrEqual(t, last-down, 20*time.Second, "down %v, seed %d: the last stream is back at %v", down, seed, last)
			if down <= 3*time.Second {
				assert.LessOrEqual(t, last, 20*time.Second, "down %v, seed %d: the last stream is back at %v", down, seed, last)
			}
			peak := maxInWindow(backs, time.Second)
			assert.LessOrEqual(t, peak, n/10, "down %v, seed %d: %d back in one second", down, seed, peak)
			// While it is down the server sees at most 2 attempts per
			// stream in any 10 s.
			var refused []time.Duration
			for _, a := range attempts {
				if a < down {
					refused = append(refused, a)
				}
			}
			worst := maxInWindow(refused, 10*time.Second)
			assert.LessOrEqual(t, worst, 2*n, "down %v, seed %d", down, seed)
			t.Logf("down %v, seed %d: last back at %v, at most %.1f%% back in one second, %.2f attempts per stream in the worst 10 s while down",
				down, seed, last.Round(time.Millisecond), 100*float64(peak)/n, float64(worst)/n)
		}
	}
}

func TestALongOutageSeesFewAttempts(t *testing.T) {
	t.Parallel()
	for _, n := range []int{10000, 50} {
		attempts, backs := restartSim(t, n, 2*time.Minute, 1)
		require.Len(t, backs, n)
		var refused []time.Duration
		for _, a := range attempts {
			if a < 2*time.Minute {
				refused = append(refused, a)
			}
		}
		// The pacer bounds a big fleet; a small one's backoff does, after
		// its first few attempts.
		assert.LessOrEqual(t, maxInWindow(refused[len(refused)/2:], 10*time.Second), 2*n, "n=%d", n)
	}
}

// fakeClock is a reconnect loop's clock that never waits: it records the
// waits asked of it.
type fakeClock struct {
	mu    sync.Mutex
	waits []time.Duration
	woke  []time.Time // when each wait returned
}

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) bool {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	c.woke = append(c.woke, time.Now())
	c.mu.Unlock()
	return ctx.Err() == nil
}

func (c *fakeClock) recorded() ([]time.Duration, []time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...), append([]time.Time(nil), c.woke...)
}

func testURL(s *httptest.Server) string { return "ws" + strings.TrimPrefix(s.URL, "http") }

func testConfig(url string, p *Pacer, clock *fakeClock) Config[string] {
	return Config[string]{
		Vendor: "test",
		URL:    url,
		Pacer:  p,
		Decode: func(_ websocket.MessageType, data []byte, emit func(string)) error {
			emit(string(data))
			return nil
		},
		BackoffMin:   time.Millisecond,
		BackoffMax:   8 * time.Millisecond,
		HealthyAfter: time.Hour, // only a message proves health here
		sleep:        clock.sleep,
		jitter:       func(ceil time.Duration) time.Duration { return ceil }, // the ceilings, to compare
	}
}

func TestHealthResetsTheBackoffAndTheFirstWaitIsSpread(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		hits int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		n := hits
		mu.Unlock()
		switch n {
		case 2, 3:
			http.Error(w, "restarting", http.StatusServiceUnavailable)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		if n != 4 { // 4 accepts and drops, saying nothing
			if c.Write(r.Context(), websocket.MessageText, []byte("hello")) != nil {
				return
			}
		}
		if n == 6 {
			_, _, _ = c.Read(context.Background()) // until the client goes
			return
		}
		_ = c.Close(websocket.StatusGoingAway, "restart")
	}))
	defer srv.Close()

	p := NewPacer()
	for range 5000 {
		defer p.join()() // a big fleet's pacer: its spread is 12 s
	}
	clock := &fakeClock{}
	s, err := Start(t.Context(), testConfig(testURL(srv), p, clock))
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, 5001, p.Streams())
	for connects := 0; connects < 4; { // the first, 4, 5 and 6
		select {
		case n := <-s.Notices():
			if n.Kind == voip.NoticeConnected {
				connects++
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the stream did not reconnect")
		}
	}

	waits, _ := clock.recorded()
	var backoffs []time.Duration
	for _, w := range waits {
		if w > 0 { // the pacer's turns came at once: its bucket was full
			backoffs = append(backoffs, w)
		}
	}
	spread := p.Spread()
	require.Len(t, backoffs, 5)
	// 1 delivered a message and dropped: the first wait is the spread. 2
	// and 3 refused, 4 said nothing: those back off. 5 delivered a message
	// again: the backoff starts over.
	assert.InDelta(t, float64(spread), float64(backoffs[0]), float64(time.Microsecond))
	assert.Equal(t, []time.Duration{2 * time.Millisecond, 4 * time.Millisecond, 8 * time.Millisecond}, backoffs[1:4])
	assert.InDelta(t, float64(spread), float64(backoffs[4]), float64(time.Microsecond))

	require.NoError(t, s.Close())
	assert.Equal(t, 5000, p.Streams(), "a stopped stream leaves its pacer")
}

func TestThePacerIsWaitedBeforeTheConnectTimeoutStarts(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		_, _, _ = c.Read(context.Background())
	}))
	defer srv.Close()

	// One turn an hour, and the only one taken: the next stream's turn is
	// an hour away, far beyond its connect timeout.
	p, err := NewFixedPacer(1.0/3600, 1)
	require.NoError(t, err)
	d, _ := p.delay(time.Now())
	require.Zero(t, d)

	clock := &fakeClock{}
	cfg := testConfig(testURL(srv), p, clock)
	cfg.ConnectTimeout = time.Minute
	var deadline time.Time
	cfg.Dial = func(ctx context.Context, u string, opts *websocket.DialOptions) (*websocket.Conn, *http.Response, error) {
		deadline, _ = ctx.Deadline()
		return websocket.Dial(ctx, u, opts)
	}
	s, err := Start(t.Context(), cfg)
	require.NoError(t, err, "a wait at the pacer must not fail the attempt")
	defer s.Close()

	waits, woke := clock.recorded()
	require.Len(t, waits, 1)
	assert.Greater(t, waits[0], cfg.ConnectTimeout, "the turn was an hour away")
	// The attempt's timeout started once the wait was over.
	assert.False(t, deadline.Add(-cfg.ConnectTimeout).Before(woke[0]), "the connect timeout started before the pacer's turn")
}

func TestStreamsJoinAndLeaveTheirPacer(t *testing.T) {
	t.Parallel()
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		_, _, _ = c.Read(context.Background())
	}))
	defer ok.Close()
	refused := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer refused.Close()

	p := NewPacer()
	clock := &fakeClock{}
	a, err := Start(t.Context(), testConfig(testURL(ok), p, clock))
	require.NoError(t, err)
	b, err := Start(t.Context(), testConfig(testURL(ok), p, clock))
	require.NoError(t, err)
	assert.Equal(t, 2, p.Streams())

	_, err = Start(t.Context(), testConfig(testURL(refused), p, clock))
	require.Error(t, err)
	assert.Equal(t, 2, p.Streams(), "a stream that never started is not counted")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = Start(ctx, testConfig(testURL(ok), p, clock))
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 2, p.Streams())

	require.NoError(t, a.Close())
	assert.Equal(t, 1, p.Streams())
	require.NoError(t, b.Close())
	assert.Zero(t, p.Streams())
}

func TestAStreamStoppedAtThePacerGivesItsTurnBack(t *testing.T) {
	t.Parallel()
	p, err := NewFixedPacer(1.0/3600, 1)
	require.NoError(t, err)
	now := time.Now()
	d, _ := p.delay(now)
	require.Zero(t, d)
	d, cancel := p.delay(now)
	require.Greater(t, d, 59*time.Minute)
	cancel()
	d, _ = p.delay(now)
	assert.Greater(t, d, 59*time.Minute)
	assert.Less(t, d, 61*time.Minute, "the turn given back was taken again, not one after it")

	ctx, stop := context.WithCancel(t.Context())
	stop()
	assert.False(t, p.wait(ctx, sleep))
}

func TestATurnWokenLateIsTakenAgainOnce(t *testing.T) {
	t.Parallel()
	p, err := NewFixedPacer(10, 1)
	require.NoError(t, err)
	clock := time.Unix(1_700_000_000, 0)
	p.now = func() time.Time { return clock }
	var (
		waits  []time.Duration
		stalls []time.Duration // how much longer than asked each sleep takes
	)
	sleep := func(_ context.Context, d time.Duration) bool {
		waits = append(waits, d)
		clock = clock.Add(d)
		if len(stalls) > 0 {
			clock = clock.Add(stalls[0])
			stalls = stalls[1:]
		}
		return true
	}

	// On time: one turn each, 100 ms apart.
	require.True(t, p.wait(t.Context(), sleep))
	require.True(t, p.wait(t.Context(), sleep))
	assert.Equal(t, []time.Duration{0, 100 * time.Millisecond}, waits)

	// Woken a second late: the turn is traded for a new one, which the
	// bucket, refilled meanwhile, gives at once.
	waits, stalls = nil, []time.Duration{time.Second}
	require.True(t, p.wait(t.Context(), sleep))
	assert.Equal(t, []time.Duration{100 * time.Millisecond, 0}, waits)

	// Late again on the new turn: it is taken anyway.
	waits, stalls = nil, []time.Duration{time.Second, time.Second}
	require.True(t, p.wait(t.Context(), sleep))
	assert.Len(t, waits, 2)

	// A little late is on time.
	waits, stalls = nil, []time.Duration{lateTurn}
	require.True(t, p.wait(t.Context(), sleep))
	assert.Len(t, waits, 1)
}
