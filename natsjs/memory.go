package natsjs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pbxkit/pbxkit/voip"
)

// Defaults of MemoryConfig.
const (
	DefaultMemoryBucket = "pbxkit_memory"
	// DefaultMaxTTL is the longest a key is held: Gravitel's handler
	// remembers an outgoing call for 4 hours, deliveries for 10 minutes.
	DefaultMaxTTL = 24 * time.Hour
	// DefaultTimeout bounds one round trip to NATS when the caller's
	// context has no earlier deadline.
	DefaultTimeout = 5 * time.Second
	// markerTTL is how long the bucket keeps the marker of an expired or
	// deleted key; nothing here reads markers, so the server's minimum.
	markerTTL = time.Second
	// maxKeyLen bounds a key in the bucket; a longer escaped key is
	// replaced by its digest.
	maxKeyLen = 256
	// addAttempts bounds Add's retries when a key vanishes between the
	// create that found it and the read that checks it.
	addAttempts = 5
)

// MemoryConfig configures [NewMemory]. The zero value of each field is its
// default. Every replica sharing a bucket must use the same config: the
// bucket is created or updated to match it.
type MemoryConfig struct {
	// Bucket is the KV bucket's name; default DefaultMemoryBucket.
	Bucket string
	// Replicas is the bucket's replication factor in a cluster; default 1.
	Replicas int
	// Storage is where the bucket is kept; default jetstream.FileStorage,
	// so that a restart of NATS loses nothing.
	Storage jetstream.StorageType
	// MaxTTL caps how long a key is held: an Add's ttl above it, or not
	// positive, is cut to it. It is also the bucket's MaxAge. Default
	// DefaultMaxTTL.
	MaxTTL time.Duration
	// Timeout bounds each call when its context has no earlier deadline;
	// default DefaultTimeout.
	Timeout time.Duration
	// Logger receives a line per failed call; nil is silent.
	Logger *slog.Logger
}

// Memory is a voip.Memory on a JetStream key-value bucket, shared by every
// replica connected to the same NATS: give one to each replica's webhook
// handlers (WebhookConfig.Memory) and a vendor's duplicate is dropped
// wherever it lands. Add is an atomic create-if-absent (kv.Create with a
// per-key TTL), so of concurrent Adds of one key across replicas exactly
// one reports true. Its methods are safe for concurrent use.
//
// A key is held for its ttl rounded up to whole seconds (NATS counts TTLs
// in seconds), and until the server removes it, within a second or so
// after. Keys are stored as given when they are made of letters, digits,
// '-', '_' and '/' (the vendor handlers' keys are); any other byte is
// escaped, and a key longer than 256 bytes once escaped is stored under
// its SHA-256 digest.
//
// Errors are *Error values: ErrUnavailable when NATS is away (the handler
// answers 500, and the vendor delivers again), ErrRefused when it refuses.
// A call fails at once while the connection is down rather than being
// queued for the reconnect, so that nothing the caller was told failed is
// applied later.
type Memory struct {
	kv      jetstream.KeyValue
	js      jetstream.JetStream
	maxTTL  time.Duration
	timeout time.Duration
	log     *slog.Logger
}

var _ voip.Memory = (*Memory)(nil)

// NewMemory creates the bucket, or updates it to cfg, and returns a Memory
// on it.
func NewMemory(ctx context.Context, js jetstream.JetStream, cfg MemoryConfig) (*Memory, error) {
	const op = "new memory"
	if js == nil {
		return nil, invalid(op, "nil JetStream")
	}
	if cfg.Bucket == "" {
		cfg.Bucket = DefaultMemoryBucket
	}
	if cfg.Replicas < 0 || cfg.MaxTTL < 0 || cfg.Timeout < 0 {
		return nil, invalid(op, "negative Replicas, MaxTTL or Timeout")
	}
	if cfg.MaxTTL == 0 {
		cfg.MaxTTL = DefaultMaxTTL
	}
	if cfg.MaxTTL < time.Second {
		return nil, invalid(op, "MaxTTL under a second")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	m := &Memory{js: js, maxTTL: cfg.MaxTTL.Round(time.Second), timeout: cfg.Timeout, log: logger(cfg.Logger)}
	ctx, cancel := m.bound(ctx)
	defer cancel()
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:         cfg.Bucket,
		Description:    "pbxkit webhook handlers' memory",
		History:        1,
		TTL:            m.maxTTL,
		Storage:        cfg.Storage,
		Replicas:       cfg.Replicas,
		LimitMarkerTTL: markerTTL,
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	m.kv = kv
	return m, nil
}

// Add implements voip.Memory: it creates key unless it is held.
func (m *Memory) Add(ctx context.Context, key, value string, ttl time.Duration) (bool, error) {
	const op = "memory add"
	k, err := m.key(op, key)
	if err != nil {
		return false, err
	}
	if ttl <= 0 || ttl > m.maxTTL {
		ttl = m.maxTTL
	}
	if r := ttl % time.Second; r != 0 { // NATS counts whole seconds: round up
		ttl += time.Second - r
	}
	ctx, cancel := m.bound(ctx)
	defer cancel()
	for range addAttempts {
		if err := m.connected(op); err != nil {
			return false, err
		}
		_, err := m.kv.Create(ctx, k, []byte(value), jetstream.KeyTTL(ttl))
		if err == nil {
			return true, nil
		}
		if !exists(err) {
			return false, m.fail(ctx, op, err)
		}
		// Held, or held a moment ago: a marker or a concurrent create
		// that lost. Read it to tell.
		if _, err := m.kv.Get(ctx, k); err == nil {
			return false, nil
		} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
			return false, m.fail(ctx, op, err)
		}
	}
	return false, m.fail(ctx, op, fmt.Errorf("key %s kept changing", k))
}

// exists reports a create refused because the key's subject has a message:
// the key, or a marker that Create's own retry lost to another writer.
func exists(err error) bool {
	var apiErr *jetstream.APIError
	return errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) ||
		errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// Get implements voip.Memory.
func (m *Memory) Get(ctx context.Context, key string) (string, bool, error) {
	const op = "memory get"
	k, err := m.key(op, key)
	if err != nil {
		return "", false, err
	}
	if err := m.connected(op); err != nil {
		return "", false, err
	}
	ctx, cancel := m.bound(ctx)
	defer cancel()
	e, err := m.kv.Get(ctx, k)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return "", false, nil
	case err != nil:
		return "", false, m.fail(ctx, op, err)
	}
	return string(e.Value()), true, nil
}

// Delete implements voip.Memory. It purges the key; the purge's marker
// expires a second later, so that deleted keys leave nothing behind.
func (m *Memory) Delete(ctx context.Context, key string) error {
	const op = "memory delete"
	k, err := m.key(op, key)
	if err != nil {
		return err
	}
	if err := m.connected(op); err != nil {
		return err
	}
	ctx, cancel := m.bound(ctx)
	defer cancel()
	if err := m.kv.Purge(ctx, k, jetstream.PurgeTTL(markerTTL)); err != nil {
		return m.fail(ctx, op, err)
	}
	return nil
}

// Bucket is the name of the KV bucket.
func (m *Memory) Bucket() string { return m.kv.Bucket() }

func (m *Memory) key(op, key string) (string, error) {
	if key == "" {
		return "", invalid(op, "empty key")
	}
	return kvKey(key), nil
}

// connected fails at once while the connection is down: a request made
// now would wait in the reconnect buffer and might be applied after the
// caller was told it failed.
func (m *Memory) connected(op string) error {
	if nc := m.js.Conn(); nc != nil && !nc.IsConnected() {
		return &Error{Op: op, Kind: ErrUnavailable, Err: fmt.Errorf("connection %s", strings.ToLower(nc.Status().String()))}
	}
	return nil
}

func (m *Memory) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return boundCtx(ctx, m.timeout)
}

func (m *Memory) fail(ctx context.Context, op string, err error) error {
	err = wrap(op, err)
	m.log.WarnContext(ctx, "pbxkit: NATS memory failed", "op", op, "error", err)
	return err
}

// kvKey maps a memory key to a valid KV key, one to one: letters, digits,
// '-', '_' and '/' stay, every other byte becomes "=XX" (upper-case hex),
// and a result longer than maxKeyLen becomes "==" and the hex digest of
// the key, which no escaped key starts with.
func kvKey(key string) string {
	plain := true
	for i := range len(key) {
		if !keyByte(key[i]) {
			plain = false
			break
		}
	}
	if plain && len(key) <= maxKeyLen {
		return key
	}
	var b strings.Builder
	const hexDigits = "0123456789ABCDEF"
	for i := range len(key) {
		c := key[i]
		if keyByte(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('=')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	if b.Len() > maxKeyLen {
		sum := sha256.Sum256([]byte(key))
		return "==" + hex.EncodeToString(sum[:])
	}
	return b.String()
}

func keyByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '/'
}

// boundCtx applies timeout unless ctx ends sooner.
func boundCtx(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= timeout {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, timeout)
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
