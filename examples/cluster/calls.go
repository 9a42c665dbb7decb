package main

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/pbxkit/pbxkit/phonet"
	"github.com/pbxkit/pbxkit/phonet/phonettest"
	"github.com/pbxkit/pbxkit/voip"
)

// pushed is one event the generator had the emulator push: to whom,
// when, and how many sockets of that manager the emulator had open just
// before.
type pushed struct {
	sub     string
	at      time.Time
	sockets int
	phase   int
}

// eventKey names an event as both ends see it: the call id and the kind.
func eventKey(callID string, kind voip.EventKind) string {
	return phonet.NormalizeUUID(callID) + " " + kind.String()
}

// generator rings random managers at a steady rate: each call rings for
// 0.2–1.5 s, four in five are answered and talk for 0.5–3 s, then hang
// up. Every event it has the emulator push goes into its ledger, keyed as
// the consumer keys what it receives.
type generator struct {
	pbx  *phonettest.Server
	tr   *tracker
	subs []string
	rate float64 // calls a second

	// gate: each push holds it for reading; pause takes it, so that a
	// replica is killed between two events.
	gate sync.RWMutex

	mu     sync.Mutex
	ledger map[string]pushed
	calls  int
	phase  int // of the run, noted with each push

	stop    chan struct{}
	ending  sync.Once
	running sync.WaitGroup // the ticker and every call under way
}

func newGenerator(pbx *phonettest.Server, tr *tracker, subs []string, rate float64) *generator {
	return &generator{pbx: pbx, tr: tr, subs: subs, rate: rate, ledger: map[string]pushed{}, stop: make(chan struct{})}
}

// start rings a manager every 1/rate s until end.
func (g *generator) start() {
	g.running.Go(func() {
		t := time.NewTicker(time.Duration(float64(time.Second) / g.rate))
		defer t.Stop()
		for {
			select {
			case <-g.stop:
				return
			case <-t.C:
				sub := g.subs[rand.IntN(len(g.subs))]
				g.running.Go(func() { g.call(sub) })
			}
		}
	})
}

// end stops ringing, hangs up the calls under way at once, and returns
// when their last event is pushed. It is idempotent.
func (g *generator) end() {
	g.ending.Do(func() { close(g.stop) })
	g.running.Wait()
}

// call plays one call on sub; once the generator ends, it hangs up at
// once.
func (g *generator) call(sub string) {
	var id string
	g.push(sub, voip.EventStart, func() string {
		id = g.pbx.Incoming(sub, "+380501234567")
		return id
	})
	g.mu.Lock()
	g.calls++
	g.mu.Unlock()
	if g.wait(200*time.Millisecond, 1500*time.Millisecond) && rand.IntN(5) > 0 {
		g.push(sub, voip.EventAnswer, func() string { g.pbx.Answer(id); return id })
		g.wait(500*time.Millisecond, 3*time.Second)
	}
	g.push(sub, voip.EventEnd, func() string { g.pbx.Hangup(id); return id })
}

// wait sleeps a random time between lo and hi; false when the generator
// ended meanwhile.
func (g *generator) wait(lo, hi time.Duration) bool {
	t := time.NewTimer(lo + rand.N(hi-lo))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-g.stop:
		return false
	}
}

// push has the emulator push one event and notes it in the ledger.
func (g *generator) push(sub string, kind voip.EventKind, do func() string) {
	g.gate.RLock()
	defer g.gate.RUnlock()
	g.mu.Lock()
	p := pushed{sub: sub, at: time.Now(), sockets: g.tr.open(sub), phase: g.phase}
	g.mu.Unlock()
	id := do()
	g.mu.Lock()
	g.ledger[eventKey(id, kind)] = p
	g.mu.Unlock()
}

// setPhase notes the phase of the run the next pushes belong to.
func (g *generator) setPhase(i int) {
	g.mu.Lock()
	g.phase = i
	g.mu.Unlock()
}

// pause holds every push until the function it returns is called.
func (g *generator) pause() (resume func()) {
	g.gate.Lock()
	return g.gate.Unlock
}

// snapshot returns a copy of the ledger and the calls rung.
func (g *generator) snapshot() (map[string]pushed, int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[string]pushed, len(g.ledger))
	for k, p := range g.ledger {
		out[k] = p
	}
	return out, g.calls
}

// received counts the call events the consumer was handed, by key.
type received struct {
	mu     sync.Mutex
	counts map[string]int
	total  int
}

func (r *received) update(_ context.Context, u voip.Update) error {
	if u.Event == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts[eventKey(u.Event.CallID, u.Event.Kind)]++
	r.total++
	return nil
}

func (r *received) snapshot() (map[string]int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.counts))
	for k, n := range r.counts {
		out[k] = n
	}
	return out, r.total
}

// tally sorts every event pushed, and says what became of it.
type tally struct {
	pushed, calls int
	// deliverable: the manager had a socket open, and none of its sockets
	// opened or closed within settle of the push.
	deliverable, delivered int
	// noSocket: no socket open, none opening or closing within settle:
	// Phonet delivers such an event to nobody.
	noSocket, noSocketDelivered int
	// atChange: a socket of the manager opened or closed within settle of
	// the push; whether it could arrive is not judged.
	atChange, atChangeDelivered int
	// atChangeOpenLost: at a change, a socket was open just before the
	// push, and the event was never consumed.
	atChangeOpenLost int
	// duplicates: deliveries beyond the first of one event; unknown:
	// events received that the generator never pushed.
	duplicates, dupEvents, unknown int
	consumed                       int
}

func (t tally) lost() int { return t.deliverable - t.delivered }

// count sorts the ledger against what was received.
func count(ledger map[string]pushed, calls int, got map[string]int, total int, tr *tracker, settle time.Duration) tally {
	t := tally{pushed: len(ledger), calls: calls, consumed: total}
	for k, p := range ledger {
		n := got[k]
		switch {
		case tr.changedNear(p.sub, p.at, settle):
			t.atChange++
			if n > 0 {
				t.atChangeDelivered++
			} else if p.sockets > 0 {
				t.atChangeOpenLost++
			}
		case p.sockets > 0:
			t.deliverable++
			if n > 0 {
				t.delivered++
			}
		default:
			t.noSocket++
			if n > 0 {
				t.noSocketDelivered++
			}
		}
	}
	for k, n := range got {
		if _, ok := ledger[k]; !ok {
			t.unknown += n
			continue
		}
		if n > 1 {
			t.duplicates += n - 1
			t.dupEvents++
		}
	}
	return t
}
