package voip

import (
	"context"
	"net/http"
	"time"

	"github.com/pbxkit/pbxkit/internal/ttlset"
)

// Memory is what webhook handlers remember between deliveries: which
// deliveries they have handled already, so that a vendor's duplicates are
// dropped, and facts about a call that its later events do not repeat
// (Gravitel says a call is outgoing only in its first event). Every vendor's
// WebhookConfig takes one in its Memory field.
//
// Handlers behind one load balancer must share one Memory: with a Memory
// each, every replica remembers only the deliveries it received, and a
// call's events come out differently depending on where they landed. A
// LocalMemory is shared by the handlers of one process; for many replicas use
// a Memory on a distributed store.
//
// Every method may be a network round trip: it takes a context, and an error
// makes the handler answer 500 so that the vendor delivers again. Keys are
// short strings made by the handler (vendor, call id, event); values are
// small. An implementation must be safe for concurrent use.
type Memory interface {
	// Add stores value under key for at least ttl, unless the key is held
	// already, and reports whether it stored it. It is atomic: of
	// concurrent Adds of one key, across every handler that shares the
	// Memory, exactly one reports true.
	Add(ctx context.Context, key, value string, ttl time.Duration) (bool, error)
	// Get returns the value under key and true, or false when the key is
	// not held: never added, expired or deleted.
	Get(ctx context.Context, key string) (string, bool, error)
	// Delete forgets key. Deleting a key that is not held is not an error.
	Delete(ctx context.Context, key string) error
}

// Defaults of the handlers' memory.
const (
	// DefaultDedupeWindow is how long a handler remembers a delivery to
	// drop the vendor's duplicates of it.
	DefaultDedupeWindow = 10 * time.Minute
	// DefaultMemoryKeys bounds the LocalMemory a handler makes for itself
	// when its config has none.
	DefaultMemoryKeys = 100_000
)

// LocalMemory is a Memory in this process: a bounded map of expiring keys.
// When it is full, expired keys go first, then the half that expires
// soonest, so a flood of deliveries cannot grow it without limit. Share one
// between the handlers of a process; it cannot be shared between processes.
// Its methods never fail.
type LocalMemory struct {
	keys *ttlset.Set
	now  func() time.Time
}

var _ Memory = (*LocalMemory)(nil)

// NewLocalMemory returns an empty LocalMemory holding at most maxKeys keys;
// a non-positive maxKeys means DefaultMemoryKeys.
func NewLocalMemory(maxKeys int) *LocalMemory {
	if maxKeys <= 0 {
		maxKeys = DefaultMemoryKeys
	}
	return &LocalMemory{keys: ttlset.New(maxKeys), now: time.Now}
}

// Add implements Memory.
func (m *LocalMemory) Add(ctx context.Context, key, value string, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	return m.keys.Add(key, value, ttl, m.now()), nil
}

// Get implements Memory.
func (m *LocalMemory) Get(ctx context.Context, key string) (string, bool, error) {
	if err := ctx.Err(); err != nil {
		return "", false, err
	}
	v, ok := m.keys.Get(key, m.now())
	return v, ok, nil
}

// Delete implements Memory.
func (m *LocalMemory) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.keys.Delete(key)
	return nil
}

// ErrInProgress is a delivery another handler is running at this moment:
// the same delivery, landed twice at once. DeliverOnce does not run it a
// second time, and does not take it for a duplicate either, since the other
// handler may still fail (or die) before it is done: the webhook answers
// 503 and the vendor delivers again later, when the first one is done or
// given up.
var ErrInProgress = &WebhookError{Status: http.StatusServiceUnavailable, Message: "the same delivery is being handled; deliver it again later"}

// ClaimTTL bounds how long a delivery's claim outlives a handler that died
// while running it: after that, the vendor's redelivery is run afresh.
const ClaimTTL = time.Minute

// claimSuffix names a delivery's claim beside its key.
const claimSuffix = ".claim"

// DeliverOnce runs deliver for the first delivery of key within window and
// reports whether it ran: a later delivery of the same key within the window
// is a duplicate, and is skipped. A window of zero or less runs deliver every
// time. An error of m is returned without running deliver.
//
// A delivery is claimed while it runs and remembered only once deliver has
// succeeded, so that none is lost however handlers fail: a delivery that
// failed, or whose handler died while running it, is not remembered, and
// the vendor's redelivery is handled (a dead handler's claim lapses after
// ClaimTTL, or window if shorter); a delivery that arrives while the same
// one runs elsewhere is ErrInProgress. Each step is an Add, a Get or a
// Delete of m, so the rule holds across every handler sharing m.
//
// Every vendor's webhook handler deduplicates with it; it is exported for
// handlers built on a vendor's ParseWebhook.
func DeliverOnce(ctx context.Context, m Memory, key string, window time.Duration, deliver func() error) (bool, error) {
	if window <= 0 || key == "" {
		return true, deliver()
	}
	claim := key + claimSuffix
	claimed, err := m.Add(ctx, claim, "", min(window, ClaimTTL))
	if err != nil {
		return false, err
	}
	// Done is read after the claim is taken: a handler finishing the same
	// delivery remembers it before it lets go of its claim, so a claim
	// taken after that always sees it.
	_, done, err := m.Get(ctx, key)
	switch {
	case err != nil:
		if claimed {
			_ = m.Delete(context.WithoutCancel(ctx), claim)
		}
		return false, err
	case done:
		if claimed {
			_ = m.Delete(context.WithoutCancel(ctx), claim)
		}
		return false, nil
	case !claimed:
		return false, ErrInProgress
	}
	// Let go of the claim whatever happens, even if ctx is done: the
	// vendor's redelivery must not wait for it to lapse.
	defer func() { _ = m.Delete(context.WithoutCancel(ctx), claim) }()
	if err := deliver(); err != nil {
		return true, err
	}
	// Remembered even if ctx is done. Should m fail here, the delivery
	// stands but is not remembered, and a redelivery would run it again:
	// an error now would make the vendor redeliver at once, which is worse.
	_, _ = m.Add(context.WithoutCancel(ctx), key, "", window)
	return true, nil
}
