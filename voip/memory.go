package voip

import (
	"context"
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

// DeliverOnce runs deliver for the first delivery of key within window and
// reports whether it ran: a later delivery of the same key within the window
// is a duplicate, and is skipped. When deliver fails the key is forgotten,
// so that the vendor's redelivery of a failed delivery is handled rather
// than taken for a duplicate. A window of zero or less runs deliver every
// time. An error of m is returned without running deliver.
//
// Every vendor's webhook handler deduplicates with it; it is exported for
// handlers built on a vendor's ParseWebhook.
func DeliverOnce(ctx context.Context, m Memory, key string, window time.Duration, deliver func() error) (bool, error) {
	if window <= 0 || key == "" {
		return true, deliver()
	}
	fresh, err := m.Add(ctx, key, "", window)
	if err != nil {
		return false, err
	}
	if !fresh {
		return false, nil
	}
	if err := deliver(); err != nil {
		// Forgotten even if ctx is done: the redelivery must not be lost.
		_ = m.Delete(context.WithoutCancel(ctx), key)
		return true, err
	}
	return true, nil
}
