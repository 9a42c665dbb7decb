package natsjs

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Defaults of [OwnershipConfig].
const (
	// DefaultOwnersBucket is the KV bucket of the leases.
	DefaultOwnersBucket = "pbxkit_owners"
	// DefaultLeaseTTL is how long a lease outlives its holder's last
	// renewal.
	DefaultLeaseTTL = 10 * time.Second
)

const (
	// addWorkers bounds the Target.Add calls under way at once.
	addWorkers = 16
	// renewWorkers bounds the renewals under way at once.
	renewWorkers = 8
	// takeBatch bounds the leases taken in one look.
	takeBatch = 256
	// leasePrefix and replicaPrefix name the bucket's two kinds of keys;
	// signalKey is touched after a release so that the others look for
	// free leases at once.
	leasePrefix   = "lease."
	replicaPrefix = "replica."
	signalKey     = "signal.released"
)

// Target holds the sockets of the subscribers an [Ownership] owns:
// *phonet.Hub fits. Add returns once the socket's first attempt is over;
// an error means the subscriber was refused (its lease is given back).
// Remove closes the socket and returns once it is closed.
type Target interface {
	Add(ctx context.Context, subscriber string) error
	Remove(subscriber string)
}

// OwnershipConfig configures [NewOwnership].
type OwnershipConfig struct {
	// Bucket is the KV bucket of the leases, made when missing. Default
	// [DefaultOwnersBucket]. Every replica must use the same bucket and
	// TTL: a bucket made with another TTL is an error.
	Bucket string
	// Replica names this replica: required, unique among live replicas
	// (a pod name, a host:port). A replica restarted under the same name
	// starts afresh: the leases of its previous life expire.
	Replica string
	// TTL is how long a lease outlives its holder's last renewal, in whole
	// seconds (JetStream's per-message TTL counts seconds), at least 1 s.
	// Default [DefaultLeaseTTL]. Leases are renewed every TTL/3; a dead
	// replica's managers are taken within 2×TTL, a replica that cannot
	// renew for TTL keeps its sockets but may find them taken when NATS
	// is back (see [Ownership]).
	TTL time.Duration
	// Replicas is the number of copies of the bucket in a NATS cluster.
	// Default 1.
	Replicas int
	// Storage is the bucket's storage. Default jetstream.FileStorage.
	Storage jetstream.StorageType
	// Fence closes the socket of a lease this replica could not renew for
	// 0.7×TTL (from when its last successful renewal was sent), before the
	// lease can expire and be taken by another replica, and opens it again
	// when a renewal succeeds: no two replicas hold a manager at once even
	// when this replica alone is cut off from NATS. The cost: while NATS
	// itself is down for longer than that, every replica has its sockets
	// closed. Default false: sockets stay open while NATS is away (see
	// [Ownership]).
	Fence bool
	// Logger receives the lease moves at Info, failures at Warn. Nil is
	// silent.
	Logger *slog.Logger
}

// Ownership has every subscriber's socket held by one replica at a time,
// through leases in a JetStream KV bucket, and opens and closes the
// sockets on its [Target] as leases come and go.
//
// The protocol: a lease is the key lease.<subscriber> (characters other
// than letters, digits, '-' and '_' hex-escaped as =XX) whose value is the
// holder's replica name, a space and a random nonce of its life; it is
// made with Create, with a TTL, so that only one replica gets it, and
// renewed every TTL/3 with Update at the revision the holder last wrote,
// which fails once anybody else wrote it (a renewal whose reply was lost
// is recognised by the value, and its revision adopted). A replica
// announces itself as replica.<name> the same way. Every TTL/3, and at
// once when a replica comes or goes, each replica reads the bucket, counts
// the live replicas and aims at ceil(subscribers / live) sockets: above it,
// it closes the surplus on its Target first and then deletes those leases
// (at their revision); below it, it creates free leases, in random order,
// 256 at most before it looks again, and opens their sockets. Its first
// look is TTL/3 after NewOwnership, or as soon as another replica comes. So managers per replica end even to within one,
// a dead replica's leases expire within TTL of its last renewal and are
// taken at the next look after its announcement expires too (under
// 2×TTL), and a replica closed with [Ownership.Close] hands over at once.
//
// A lease is written before its socket is opened and deleted only after
// its socket is closed, so two replicas hold one subscriber at once only
// when a holder lost a lease it could not renew: then it closes the socket
// as soon as it learns so.
//
// NATS away: renewals fail, and the sockets stay open. When NATS is back,
// each lease is renewed at its revision; a lease that expired meanwhile is
// created again by its holder, and only a lease another replica created
// first is given up (its socket closed). After an outage each replica
// waits TTL before it takes any free lease, so that the holders, who
// re-create theirs on their first renewal, come first: an outage longer
// than TTL moves nothing when the replicas reconnect within TTL of each
// other (nats.go's default reconnect wait is 2 s). A replica cut off alone
// keeps its sockets while the others take its leases after TTL: the two
// overlap until it reconnects and gives them up, unless
// [OwnershipConfig.Fence] closes them before the leases can expire.
//
// A Target.Add that fails (a refused socket) gives the lease back at once
// and this replica leaves that subscriber alone for 3×TTL; another replica
// may try it meanwhile.
type Ownership struct {
	kv     jetstream.KeyValue
	log    *slog.Logger
	target Target
	id     string
	nonce  string // this life of the replica
	value  []byte // of its leases: its name and nonce
	ttl    time.Duration
	fence  bool
	opTime time.Duration // bound of one KV operation
	subs   []string      // sorted, distinct
	keyOf  map[string]string

	ctx    context.Context // the loops' life
	cancel context.CancelFunc
	stop   func() bool // unregisters the Close on the caller's ctx
	wg     sync.WaitGroup
	nudge  chan struct{}

	mu         sync.Mutex
	held       map[string]*lease
	cooldown   map[string]time.Time
	announced  bool
	replicaRev uint64
	away       bool      // the last KV operation failed for want of NATS
	quietUntil time.Time // no free lease is taken before
	moves      OwnershipStats

	closeOnce sync.Once
	closeErr  error
}

// lease is one lease this replica holds. mu serialises the writes to its
// key.
type lease struct {
	sub, key string

	mu        sync.Mutex
	rev       uint64
	renewedAt time.Time // when the last successful write was sent
	added     bool      // Target.Add succeeded
	lost      bool      // taken by another replica, or given back
	fenced    bool      // socket closed for want of renewals, lease kept
}

// OwnershipStats counts what an Ownership did.
type OwnershipStats struct {
	Taken    int // leases created and sockets opened
	Released int // leases given back for a rebalance or after a refused Add
	Lost     int // leases found taken by another replica: sockets closed
	Renewed  int // leases re-created after they expired while NATS was away
	Refused  int // Target.Add failures
	Fenced   int // sockets closed for want of renewals (see OwnershipConfig.Fence)
}

// NewOwnership makes the bucket when missing (TTL of cfg, history 1),
// announces the replica and starts taking its share of subscribers (blanks
// and repeats are ignored). It returns before any socket is opened: see
// [Ownership.Held]. ctx bounds its life: when ctx ends it stops as Close
// does.
func NewOwnership(ctx context.Context, js jetstream.JetStream, cfg OwnershipConfig, target Target, subscribers []string) (*Ownership, error) {
	if js == nil || target == nil {
		return nil, errors.New("natsjs: NewOwnership: nil JetStream or Target")
	}
	if strings.TrimSpace(cfg.Replica) == "" {
		return nil, errors.New("natsjs: NewOwnership: Replica is required")
	}
	if cfg.Bucket == "" {
		cfg.Bucket = DefaultOwnersBucket
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultLeaseTTL
	}
	if cfg.TTL < time.Second || cfg.TTL%time.Second != 0 {
		return nil, fmt.Errorf("natsjs: NewOwnership: TTL %v: whole seconds, at least 1 s", cfg.TTL)
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.Replicas < 1 || cfg.Replicas > 5 {
		return nil, fmt.Errorf("natsjs: NewOwnership: Replicas %d: 1 to 5", cfg.Replicas)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o := &Ownership{
		log: log.With("replica", cfg.Replica), target: target, id: cfg.Replica, ttl: cfg.TTL, fence: cfg.Fence,
		opTime: min(max(cfg.TTL/4, 250*time.Millisecond), 5*time.Second),
		keyOf:  map[string]string{}, nudge: make(chan struct{}, 1),
		held: map[string]*lease{}, cooldown: map[string]time.Time{},
	}
	for _, s := range subscribers {
		if s = strings.TrimSpace(s); s != "" && o.keyOf[s] == "" {
			o.subs = append(o.subs, s)
			o.keyOf[s] = leasePrefix + escapeKey(s)
		}
	}
	slices.Sort(o.subs)
	var b [8]byte
	_, _ = rand.Read(b[:])
	o.nonce = hex.EncodeToString(b[:])
	o.value = []byte(o.id + " " + o.nonce)

	kv, err := ownersBucket(ctx, js, cfg)
	if err != nil {
		return nil, err
	}
	o.kv = kv
	o.ctx, o.cancel = context.WithCancel(context.WithoutCancel(ctx))
	o.renew() // announce before the first look, so that it counts itself
	o.wg.Add(3)
	if o.fence {
		o.wg.Add(1)
		go o.fenceLoop()
	}
	go o.renewLoop()
	go o.balanceLoop()
	go o.watchLoop()
	o.stop = context.AfterFunc(ctx, func() { _ = o.Close() })
	return o, nil
}

// ownersBucket makes or opens the bucket, checking its TTL.
func ownersBucket(ctx context.Context, js jetstream.JetStream, cfg OwnershipConfig) (jetstream.KeyValue, error) {
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: cfg.Bucket, Description: "pbxkit socket leases", History: 1, TTL: cfg.TTL,
		LimitMarkerTTL: time.Second, Storage: cfg.Storage, Replicas: cfg.Replicas,
	})
	if errors.Is(err, jetstream.ErrBucketExists) {
		kv, err = js.KeyValue(ctx, cfg.Bucket)
		if err == nil {
			var st jetstream.KeyValueStatus
			if st, err = kv.Status(ctx); err == nil && st.TTL() != cfg.TTL {
				return nil, fmt.Errorf("natsjs: NewOwnership: bucket %s has a TTL of %v, not %v", cfg.Bucket, st.TTL(), cfg.TTL)
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("natsjs: NewOwnership: bucket %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}

// escapeKey makes a subscriber a KV key token: letters, digits, '-' and
// '_' stay, every other byte is =XX.
func escapeKey(s string) string {
	var b strings.Builder
	for i := range len(s) {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	return b.String()
}

// Held returns the subscribers whose lease this replica holds and whose
// socket its Target opened, sorted.
func (o *Ownership) Held() []string {
	o.mu.Lock()
	ls := make([]*lease, 0, len(o.held))
	for _, l := range o.held {
		ls = append(ls, l)
	}
	o.mu.Unlock()
	var out []string
	for _, l := range ls {
		l.mu.Lock()
		if l.added && !l.lost {
			out = append(out, l.sub)
		}
		l.mu.Unlock()
	}
	slices.Sort(out)
	return out
}

// Stats returns what it did so far.
func (o *Ownership) Stats() OwnershipStats {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.moves
}

// Close hands over: it stops renewing, closes every socket it holds on
// its Target, then deletes those leases and its announcement, so that the
// other replicas take them at once. It returns an error when NATS could
// not be told (those leases expire after TTL instead). It is idempotent.
func (o *Ownership) Close() error {
	o.closeOnce.Do(func() {
		o.stop()
		o.cancel()
		o.wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), max(5*time.Second, o.ttl))
		defer cancel()
		var errs []error
		for _, l := range o.leases() {
			if l.added && !l.lost {
				o.target.Remove(l.sub)
			}
			if len(errs) == 0 && !l.lost {
				if err := o.deleteLease(ctx, l); err != nil {
					errs = append(errs, err)
				}
			}
		}
		o.mu.Lock()
		clear(o.held)
		announced, rev := o.announced, o.replicaRev
		o.announced = false
		o.mu.Unlock()
		if announced && len(errs) == 0 {
			_, err := kvDo(ctx, o.opTime, func(c context.Context) (struct{}, error) {
				return struct{}{}, o.kv.Delete(c, o.replicaKey(), jetstream.LastRevision(rev))
			})
			if err != nil && !isConflict(err) {
				errs = append(errs, err)
			}
		}
		if len(errs) > 0 {
			o.closeErr = fmt.Errorf("natsjs: Ownership.Close: leases left to expire: %w", errs[0])
		}
	})
	return o.closeErr
}

// leases returns the held leases, sorted by subscriber.
func (o *Ownership) leases() []*lease {
	o.mu.Lock()
	defer o.mu.Unlock()
	ls := make([]*lease, 0, len(o.held))
	for _, l := range o.held {
		ls = append(ls, l)
	}
	slices.SortFunc(ls, func(a, b *lease) int { return strings.Compare(a.sub, b.sub) })
	return ls
}

// replicaKey is this replica's announcement.
func (o *Ownership) replicaKey() string { return replicaPrefix + escapeKey(o.id) }

// deleteLease gives a lease back at its revision; a lease somebody else
// wrote meanwhile is not ours to delete.
func (o *Ownership) deleteLease(ctx context.Context, l *lease) error {
	_, err := kvDo(ctx, o.opTime, func(c context.Context) (struct{}, error) {
		return struct{}{}, o.kv.Delete(c, l.key, jetstream.LastRevision(l.rev))
	})
	if err != nil && !isConflict(err) {
		return err
	}
	return nil
}

// kvDo runs one KV operation bounded by the operation timeout.
func kvDo[T any](ctx context.Context, d time.Duration, f func(context.Context) (T, error)) (T, error) {
	c, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return f(c)
}

// errAgain: a key expired between two operations; the next round sees
// what it is.
var errAgain = errors.New("natsjs: lease changed meanwhile")

// isConflict: the key is not at the revision we wrote (taken, expired or
// deleted), or exists when we meant to create it.
func isConflict(err error) bool {
	return errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) ||
		errors.Is(err, jetstream.ErrKeyNotFound)
}

// reached records a KV operation's outcome: a failure other than a
// conflict means NATS is away; the first success after it starts the
// quiet period.
func (o *Ownership) reached(err error) {
	if errors.Is(err, errAgain) {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if err != nil && !isConflict(err) {
		if !o.away {
			o.log.Warn("natsjs: NATS unreachable; sockets kept", "err", err)
		}
		o.away = true
		return
	}
	if o.away {
		o.away = false
		o.quietUntil = time.Now().Add(o.ttl)
		o.log.Info("natsjs: NATS back; taking no free lease for a TTL", "ttl", o.ttl)
	}
}

func (o *Ownership) poke() {
	select {
	case o.nudge <- struct{}{}:
	default:
	}
}

// renewLoop renews the announcement and the leases every TTL/3.
func (o *Ownership) renewLoop() {
	defer o.wg.Done()
	t := time.NewTicker(o.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-o.ctx.Done():
			return
		case <-t.C:
			o.renew()
		}
	}
}

// renew is one round: every lease, renewWorkers at a time, then the
// announcement, so that a dead replica's announcement expires after its
// leases and the others, told of the one, find the others free. A replica
// not announced yet announces itself first. The round stops at the first
// failure for want of NATS: the next one tries again.
func (o *Ownership) renew() {
	o.mu.Lock()
	announced := o.announced
	o.mu.Unlock()
	if !announced {
		if !o.announce() {
			return
		}
		o.mu.Lock()
		announced = o.announced
		o.mu.Unlock()
		if !announced {
			return // the name is in use: this replica holds nothing
		}
		if len(o.leases()) == 0 {
			return // just announced, nothing to renew
		}
	}
	var (
		away atomic.Bool
		wg   sync.WaitGroup
		next = make(chan *lease)
	)
	ls := o.leases()
	for range min(renewWorkers, len(ls)) {
		wg.Go(func() {
			for l := range next {
				if away.Load() || o.ctx.Err() != nil {
					continue
				}
				ok, reopen := o.renewLease(l)
				if !ok {
					away.Store(true)
				}
				if reopen {
					o.open(l)
				}
			}
		})
	}
	for _, l := range ls {
		next <- l
	}
	close(next)
	wg.Wait()
	if !away.Load() && o.ctx.Err() == nil {
		o.announce()
	}
}

// fenceLoop closes the sockets of the leases not renewed for 0.7×TTL,
// looking every TTL/10: each is closed before 0.8×TTL, the lease expires
// at TTL at the earliest.
func (o *Ownership) fenceLoop() {
	defer o.wg.Done()
	t := time.NewTicker(o.ttl / 10)
	defer t.Stop()
	for {
		select {
		case <-o.ctx.Done():
			return
		case <-t.C:
		}
		for _, l := range o.leases() {
			l.mu.Lock()
			if l.added && !l.lost && time.Since(l.renewedAt) > o.ttl*7/10 {
				o.target.Remove(l.sub)
				l.added, l.fenced = false, true
				o.count(func(s *OwnershipStats) { s.Fenced++ })
				o.log.Warn("natsjs: lease not renewed for 0.7×TTL; socket closed", "subscriber", l.sub)
			}
			l.mu.Unlock()
		}
	}
}

// announce creates or renews replica.<id>; false when NATS is away.
func (o *Ownership) announce() bool {
	key := o.replicaKey()
	o.mu.Lock()
	announced, rev := o.announced, o.replicaRev
	o.mu.Unlock()
	rev, _, err := o.write(key, []byte(o.nonce), rev, announced)
	if err != nil && isConflict(err) {
		// A previous life of this replica, not expired yet, or a replica
		// named alike: it takes nothing until the name is free.
		o.log.Warn("natsjs: replica name in use; waiting for it to expire", "key", key)
	}
	o.reached(err)
	o.mu.Lock()
	o.announced = err == nil
	if err == nil {
		o.replicaRev = rev
	}
	o.mu.Unlock()
	return err == nil || isConflict(err) || errors.Is(err, errAgain)
}

// write renews key at rev (when have), or creates it with the TTL when it
// is gone. A key that holds value at another revision is ours too: a write
// whose reply was lost (a timeout) was applied. A conflict error means
// somebody else holds it.
func (o *Ownership) write(key string, value []byte, rev uint64, have bool) (uint64, bool, error) {
	if have {
		n, err := kvDo(o.ctx, o.opTime, func(c context.Context) (uint64, error) { return o.kv.Update(c, key, value, rev) })
		if err == nil || !isConflict(err) {
			return n, false, err
		}
	}
	n, err := kvDo(o.ctx, o.opTime, func(c context.Context) (uint64, error) {
		return o.kv.Create(c, key, value, jetstream.KeyTTL(o.ttl))
	})
	if err == nil || !isConflict(err) {
		return n, err == nil && have, err
	}
	e, err := kvDo(o.ctx, o.opTime, func(c context.Context) (jetstream.KeyValueEntry, error) { return o.kv.Get(c, key) })
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, false, errAgain
	}
	if err != nil {
		return 0, false, err // NATS away
	}
	if !bytes.Equal(e.Value(), value) {
		return 0, false, fmt.Errorf("%s is held by another replica: %w", key, jetstream.ErrKeyExists)
	}
	n, err = kvDo(o.ctx, o.opTime, func(c context.Context) (uint64, error) { return o.kv.Update(c, key, value, e.Revision()) })
	return n, false, err
}

// renewLease renews one lease, re-creates it when it expired, or gives up
// its socket when another replica took it. ok is false when NATS is away;
// reopen says a fenced lease is renewed: its socket is to be opened again.
func (o *Ownership) renewLease(l *lease) (ok, reopen bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost {
		return true, false
	}
	sent := time.Now()
	rev, recreated, err := o.write(l.key, o.value, l.rev, true)
	o.reached(err)
	switch {
	case err == nil:
		l.rev, l.renewedAt = rev, sent
		if recreated {
			o.count(func(s *OwnershipStats) { s.Renewed++ })
			o.log.Info("natsjs: lease expired meanwhile, made again", "subscriber", l.sub)
		}
		reopen = l.fenced
		l.fenced = false
		return true, reopen
	case isConflict(err):
		l.lost = true
		if l.added {
			o.target.Remove(l.sub)
		}
		o.mu.Lock()
		if o.held[l.sub] == l {
			delete(o.held, l.sub)
		}
		o.moves.Lost++
		o.mu.Unlock()
		o.log.Warn("natsjs: lease taken by another replica; socket closed", "subscriber", l.sub)
		return true, false
	case errors.Is(err, errAgain):
		return true, false
	}
	return false, false
}

func (o *Ownership) count(f func(*OwnershipStats)) {
	o.mu.Lock()
	f(&o.moves)
	o.mu.Unlock()
}

// watchLoop nudges the balancer when a replica comes or goes, or gives
// leases back. Without it the balancer still looks every TTL/3.
func (o *Ownership) watchLoop() {
	defer o.wg.Done()
	for o.ctx.Err() == nil {
		w, err := o.kv.WatchFiltered(o.ctx, []string{replicaPrefix + "*", signalKey},
			jetstream.UpdatesOnly(), jetstream.MetaOnly())
		if err != nil {
			select {
			case <-o.ctx.Done():
				return
			case <-time.After(o.ttl / 3):
				continue
			}
		}
		known := map[string]bool{}
		for open := true; open; {
			select {
			case <-o.ctx.Done():
				stopWatch(w)
				return
			case e, ok := <-w.Updates():
				if !ok {
					open = false
					break
				}
				if e == nil {
					continue
				}
				gone := e.Operation() != jetstream.KeyValuePut
				if e.Key() == signalKey || gone || !known[e.Key()] {
					o.poke()
				}
				known[e.Key()] = !gone
			}
		}
	}
}

// stopWatch stops a watcher and drains it until its subscription is
// closed (its callback blocks on a full channel), for a second at most.
func stopWatch(w jetstream.KeyWatcher) {
	_ = w.Stop()
	limit := time.NewTimer(time.Second)
	defer limit.Stop()
	for {
		select {
		case _, ok := <-w.Updates():
			if !ok {
				return
			}
		case <-limit.C:
			return
		}
	}
}

// balanceLoop looks at the bucket every TTL/3 and when nudged. The first
// look is TTL/3 after the start, or when another replica comes: replicas
// started together see each other before they take anything, rather than
// the first one opening every socket only to give most of them back.
func (o *Ownership) balanceLoop() {
	defer o.wg.Done()
	t := time.NewTicker(o.ttl / 3)
	defer t.Stop()
	var (
		last   int              // live replicas at the last look
		again  <-chan time.Time // another look soon, after a replica went
		agains int              // how many more
	)
	for {
		select {
		case <-o.ctx.Done():
			return
		case <-t.C:
		case <-o.nudge:
		case <-again:
		}
		again = nil
		live := o.balance()
		if live >= 0 && live < last {
			// A replica went: its leases expire about when its
			// announcement does, some up to a second later (the
			// server's expiry counts seconds): look three more times,
			// TTL/10 apart, rather than wait TTL/3 for the next look.
			agains = 3
		}
		if agains > 0 {
			agains--
			again = time.After(o.ttl / 10)
		}
		if live >= 0 {
			last = live
		}
	}
}

// snapshot reads which leases exist and how many replicas are live.
func (o *Ownership) snapshot() (taken map[string]bool, live int, err error) {
	replicas := map[string]bool{} // a watcher may repeat a key
	ctx, cancel := context.WithTimeout(o.ctx, max(o.opTime, o.ttl/3))
	defer cancel()
	w, err := o.kv.WatchAll(ctx, jetstream.IgnoreDeletes(), jetstream.MetaOnly())
	if err != nil {
		return nil, 0, err
	}
	defer stopWatch(w)
	taken = map[string]bool{}
	for {
		select {
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		case e, ok := <-w.Updates():
			if !ok {
				return nil, 0, errors.New("watcher closed")
			}
			if e == nil {
				return taken, len(replicas), nil
			}
			switch k := e.Key(); {
			case strings.HasPrefix(k, leasePrefix):
				taken[k] = true
			case strings.HasPrefix(k, replicaPrefix):
				replicas[k] = true
			}
		}
	}
}

// balance gives back the surplus over this replica's share, or takes free
// leases up to it. It returns the live replicas it counted, -1 when it
// could not look.
func (o *Ownership) balance() int {
	if len(o.subs) == 0 {
		return -1
	}
	taken, live, err := o.snapshot()
	if err != nil {
		if o.ctx.Err() == nil {
			o.reached(err)
		}
		return -1
	}
	o.reached(nil)
	o.mu.Lock()
	announced, quiet := o.announced, time.Now().Before(o.quietUntil)
	held := len(o.held)
	o.mu.Unlock()
	if !announced {
		return live
	}
	share := int(math.Ceil(float64(len(o.subs)) / float64(max(live, 1))))
	switch {
	case held > share:
		o.release(held - share)
	case held < share && !quiet:
		// A batch at a time, looking again in between: a replica that
		// came meanwhile is counted before this one takes too much.
		n := share - held
		if n > takeBatch {
			n = takeBatch
			o.poke()
		}
		o.take(taken, n)
	}
	return live
}

// release closes n sockets and gives their leases back.
func (o *Ownership) release(n int) {
	ls := o.leases()
	released := 0
	for i := len(ls) - 1; i >= 0 && released < n && o.ctx.Err() == nil; i-- {
		l := ls[i]
		l.mu.Lock()
		if l.lost || !l.added {
			l.mu.Unlock()
			continue
		}
		o.target.Remove(l.sub)
		l.lost = true
		err := o.deleteLease(o.ctx, l)
		l.mu.Unlock()
		o.mu.Lock()
		delete(o.held, l.sub)
		o.moves.Released++
		o.mu.Unlock()
		o.reached(err)
		released++
		if err != nil {
			break // it expires after TTL
		}
	}
	if released > 0 {
		o.log.Info("natsjs: leases given back for a rebalance", "n", released)
		_, err := kvDo(o.ctx, o.opTime, func(c context.Context) (uint64, error) { return o.kv.Put(c, signalKey, []byte(o.id)) })
		o.reached(err)
	}
}

// take creates up to n free leases, then opens their sockets, addWorkers
// at a time.
func (o *Ownership) take(taken map[string]bool, n int) {
	now := time.Now()
	o.mu.Lock()
	var free []string
	for _, s := range o.subs {
		if !taken[o.keyOf[s]] && o.held[s] == nil && !now.Before(o.cooldown[s]) {
			free = append(free, s)
		}
	}
	o.mu.Unlock()
	mrand.Shuffle(len(free), func(i, j int) { free[i], free[j] = free[j], free[i] })
	var got []*lease
	for _, s := range free {
		if len(got) == n || o.ctx.Err() != nil {
			break
		}
		l := &lease{sub: s, key: o.keyOf[s], renewedAt: time.Now()}
		rev, err := kvDo(o.ctx, o.opTime, func(c context.Context) (uint64, error) {
			return o.kv.Create(c, l.key, o.value, jetstream.KeyTTL(o.ttl))
		})
		o.reached(err)
		if err != nil {
			if isConflict(err) {
				continue
			}
			break
		}
		l.rev = rev
		o.mu.Lock()
		o.held[s] = l
		o.mu.Unlock()
		got = append(got, l)
	}
	next := make(chan *lease)
	var wg sync.WaitGroup
	for range min(addWorkers, len(got)) {
		wg.Go(func() {
			for l := range next {
				o.open(l)
			}
		})
	}
	for _, l := range got {
		next <- l
	}
	close(next)
	wg.Wait()
	if len(got) > 0 {
		o.log.Info("natsjs: leases taken", "n", len(got))
	}
}

// open adds a leased subscriber to the Target; a refusal gives the lease
// back.
func (o *Ownership) open(l *lease) {
	err := o.target.Add(o.ctx, l.sub)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil {
		if l.lost {
			o.target.Remove(l.sub) // lost while it opened
			return
		}
		l.added = true
		o.count(func(s *OwnershipStats) { s.Taken++ })
		return
	}
	if o.ctx.Err() != nil {
		return // closing: Close gives the lease back
	}
	o.log.Warn("natsjs: socket refused; lease given back", "subscriber", l.sub, "err", err)
	l.lost = true
	derr := o.deleteLease(o.ctx, l)
	o.reached(derr)
	o.mu.Lock()
	if o.held[l.sub] == l {
		delete(o.held, l.sub)
	}
	o.cooldown[l.sub] = time.Now().Add(3 * o.ttl)
	o.moves.Refused++
	o.mu.Unlock()
}
