package wsstream

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Defaults of a Pacer made by [NewPacer].
const (
	// DefaultReturnWindow is how long a pacer takes to let every one of its
	// streams dial once: its rate is the number of streams divided by this.
	// After a server restart every stream drops at once; at 12 s each
	// second sees 1/12 of them plus the burst (a tenth of that), under a
	// tenth of the fleet, and all are back well within 20 s.
	DefaultReturnWindow = 12 * time.Second
	// DefaultMinDialRate is the floor of that rate, in dials per second: a
	// fleet of up to a hundred streams comes back within about a second,
	// as a lone stream does. A hundred handshakes a second are nothing for
	// a server.
	DefaultMinDialRate = 100
)

// lateTurn is how late a turn may be taken. A process held off the CPU
// (a busy machine, a long collection) wakes every stream whose turn passed
// meanwhile at once; a stream later than this takes a new turn instead,
// behind the others, so that a stall of the client never becomes a burst
// at the server. 100 ms bunch at most a tenth of a second's turns.
const lateTurn = 100 * time.Millisecond

// A Pacer paces the connection attempts of every stream that shares it,
// first ones and reconnects: one token bucket for a set of streams that
// talk to the same server, so that a server restart does not turn into a
// reconnect storm. It also sets the spread over which a stream draws its
// first wait after a drop ([Pacer.Spread]), so that sockets dropped
// together reach the bucket at about the rate it lets them through.
//
// A stream joins its pacer when it starts and leaves when it stops. The
// pacer's wait comes before ConnectTimeout starts: waiting for a turn
// never fails an attempt. A Pacer is safe for concurrent use.
type Pacer struct {
	fixed bool // the rate was given: it does not scale
	lim   *rate.Limiter
	now   func() time.Time // the clock; tests replace it

	mu      sync.Mutex
	streams int
}

// NewPacer returns a pacer whose rate scales with its streams: n streams
// may dial at max(DefaultMinDialRate, n / DefaultReturnWindow) a second,
// with bursts of a tenth of that (at least one).
func NewPacer() *Pacer {
	p := &Pacer{lim: rate.NewLimiter(DefaultMinDialRate, DefaultMinDialRate/10), now: time.Now}
	p.retune()
	return p
}

// NewFixedPacer returns a pacer that lets perSecond dials through a second,
// with bursts of burst, however many streams share it.
func NewFixedPacer(perSecond float64, burst int) (*Pacer, error) {
	if perSecond <= 0 || burst <= 0 {
		return nil, fmt.Errorf("wsstream: NewFixedPacer(%v, %d): both must be positive", perSecond, burst)
	}
	return &Pacer{fixed: true, lim: rate.NewLimiter(rate.Limit(perSecond), burst), now: time.Now}, nil
}

// scaledRate is a scaling pacer's rate and burst for n streams.
func scaledRate(n int) (rate.Limit, int) {
	r := max(DefaultMinDialRate, float64(n)/DefaultReturnWindow.Seconds())
	return rate.Limit(r), max(1, int(r/10))
}

// retune sets a scaling pacer's rate for its current streams. The caller
// holds p.mu, or is the constructor.
func (p *Pacer) retune() {
	if p.fixed {
		return
	}
	r, b := scaledRate(p.streams)
	if p.lim.Limit() != r {
		p.lim.SetLimit(r)
	}
	if p.lim.Burst() != b {
		p.lim.SetBurst(b)
	}
}

// join counts one more stream, and returns the function that counts it out
// again (idempotent).
func (p *Pacer) join() (leave func()) {
	p.mu.Lock()
	p.streams++
	p.retune()
	p.mu.Unlock()
	return sync.OnceFunc(func() {
		p.mu.Lock()
		p.streams--
		p.retune()
		p.mu.Unlock()
	})
}

// Streams returns how many running streams share the pacer.
func (p *Pacer) Streams() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.streams
}

// Rate returns the dials a second the pacer lets through now, and its
// burst.
func (p *Pacer) Rate() (perSecond float64, burst int) {
	return float64(p.lim.Limit()), p.lim.Burst()
}

// Spread returns how long the pacer takes to let each of its streams dial
// once: a stream that lost a healthy connection draws its first wait
// uniformly from [0, max(BackoffMin, Spread)].
func (p *Pacer) Spread() time.Duration {
	p.mu.Lock()
	n := p.streams
	p.mu.Unlock()
	r := float64(p.lim.Limit())
	if r <= 0 || n == 0 {
		return 0
	}
	return time.Duration(float64(n) / r * float64(time.Second))
}

// delay reserves the next turn at now and returns how long to wait for it,
// with the function that gives the turn back when the wait is abandoned.
func (p *Pacer) delay(now time.Time) (time.Duration, func()) {
	r := p.lim.ReserveN(now, 1) // burst ≥ 1, so a reservation of one is always OK
	return r.DelayFrom(now), r.Cancel
}

// wait waits for the stream's turn with sleep, and reports whether it came;
// false means ctx ended first, and the turn was given back. A turn woken
// more than lateTurn after its time is traded, once, for a new one.
func (p *Pacer) wait(ctx context.Context, sleep func(context.Context, time.Duration) bool) bool {
	for retake := true; ; retake = false {
		now := p.now()
		d, cancel := p.delay(now)
		if !sleep(ctx, d) {
			cancel()
			return false
		}
		if !retake || p.now().Sub(now.Add(d)) <= lateTurn {
			return true
		}
	}
}
