package wsstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/coder/websocket"

	"github.com/pbxkit/pbxkit/internal/redact"
	"github.com/pbxkit/pbxkit/voip"
)

// Policy says what the reader does when the event buffer is full because the
// consumer does not keep up.
type Policy int8

// The slow consumer policies.
const (
	// DropOldest drops the oldest undelivered event to make room for the new
	// one, counts it in [Stream.Dropped], and emits one voip.NoticeDropped
	// (Gap true) per overflow episode. The reader never waits, so pings keep
	// being answered and the connection stays healthy. This is the default.
	DropOldest Policy = iota
	// Block makes the reader wait until the consumer takes the event. Nothing
	// is dropped, but while the reader waits it reads no frames, pongs
	// included: a consumer that stalls for longer than PongTimeout makes the
	// connection look dead, and the stream reconnects (with a gap).
	Block
)

// String returns "drop-oldest", "block" or "Policy(n)".
func (p Policy) String() string {
	switch p {
	case DropOldest:
		return "drop-oldest"
	case Block:
		return "block"
	}
	return fmt.Sprintf("Policy(%d)", int8(p))
}

// Defaults applied by [Start] to the zero fields of a [Config].
const (
	DefaultReadLimit      = 1 << 20 // 1 MiB; coder/websocket's own default (32 KiB) is too small for call lists
	DefaultPingInterval   = 25 * time.Second
	DefaultPongTimeout    = 10 * time.Second
	DefaultBackoffMin     = time.Second
	DefaultBackoffMax     = 30 * time.Second
	DefaultHealthyAfter   = 10 * time.Second
	DefaultBuffer         = 256
	DefaultDialTimeout    = 15 * time.Second
	DefaultConnectTimeout = 30 * time.Second
)

// noticeBuffer is the capacity of the Notices channel. Notices are rare; 16
// covers a burst of reconnects while the consumer is busy.
const noticeBuffer = 16

// Config describes a stream. Only Vendor, URL and Decode are required; every
// zero field gets the default documented on it.
type Config[T any] struct {
	// Vendor prefixes errors and log lines, e.g. "phonet".
	Vendor string
	// URL is the ws:// or wss:// address. It may carry a secret in its query
	// (apiKey=…): it is only ever shown redacted.
	URL string
	// Header is sent with every dial; put authentication here.
	Header http.Header
	// HTTPClient performs the handshake. nil means a plain client with a
	// 15 s timeout; coder/websocket applies Timeout to the dial only, so it
	// does not cut the long-lived connection. Do not pass a retrying
	// transport: retries belong to the reconnect loop.
	HTTPClient *http.Client
	// Dial opens a connection; nil means websocket.Dial. Tests inject it.
	Dial func(ctx context.Context, url string, opts *websocket.DialOptions) (*websocket.Conn, *http.Response, error)
	// Redactor hides registered secrets. nil still applies the name rules
	// (apiKey query parameter, Authorization header, …). Either way the
	// stream also registers the values of the secret query parameters and
	// headers of URL and Header.
	Redactor *redact.Redactor
	// Logger receives the stream's log lines, all redacted. nil is silent.
	Logger *slog.Logger
	// ReadLimit is the largest message accepted, in bytes; default 1 MiB.
	// A larger message closes the connection (and a reconnect follows).
	ReadLimit int64
	// PingInterval is how often the connection is pinged; default 25 s.
	// Negative disables the pinger (half-open connections then go unnoticed
	// until TCP gives up).
	PingInterval time.Duration
	// PongTimeout is how long a pong may take before the connection is
	// declared dead; default 10 s, capped to PingInterval.
	PongTimeout time.Duration
	// BackoffMin and BackoffMax bound the wait after a failed attempt;
	// defaults 1 s and 30 s. The first wait after a healthy connection
	// dropped is drawn over the Pacer's spread instead, at least BackoffMin
	// (see the package doc).
	BackoffMin time.Duration
	BackoffMax time.Duration
	// HealthyAfter is how long a connection must stay up to prove healthy
	// and reset the backoff, unless it delivered a data message first;
	// default 10 s. A server that accepts and drops at once is therefore
	// still backed off, while restarts a minute apart each start afresh.
	HealthyAfter time.Duration
	// Pacer paces the connection attempts of every stream that shares it,
	// this one's included; the wait for a turn comes before ConnectTimeout
	// starts. Give the streams of one server one Pacer. nil means a pacer
	// of this stream's own ([NewPacer]).
	Pacer *Pacer
	// ConnectTimeout bounds one connection attempt, dial and OnConnect
	// together; default 30 s. The pinger does not run during OnConnect, so
	// this is what stops a vendor that never answers the subscription.
	ConnectTimeout time.Duration
	// Buffer is the capacity of the Events channel; default 256.
	Buffer int
	// Policy is what happens when Buffer is full; default DropOldest.
	Policy Policy
	// OnConnect runs after every successful dial, before the reader starts:
	// the vendor authenticates and subscribes here, and may Read and Write
	// on c directly. ctx ends after ConnectTimeout or when the stream stops.
	// An error (or a panic) disconnects and retries, unless it matches
	// ErrPermanent, voip.ErrUnauthorized or voip.ErrForbidden, which stop the
	// stream. nil means nothing to do.
	OnConnect func(ctx context.Context, c *Conn) error
	// OnNotice, when set, receives every notice as it happens, on the
	// stream's goroutine, before it is queued on Notices: for a caller that
	// merges many streams (a hub) without a goroutine per stream. It must
	// return quickly and must not call the stream's methods.
	OnNotice func(voip.Notice)
	// KeepTrying makes a failure of the first connection attempt that is
	// not permanent a notice rather than Start's error: the stream then
	// retries in the background like after a lost connection. For a caller
	// that runs many streams (a hub), where one vendor hiccup at start-up
	// must not lose a socket for good. Default false.
	KeepTrying bool
	// Decode turns one data message into zero or more events, calling emit
	// for each. It runs on the single reader goroutine, so it needs no
	// locking, but a slow Decode delays pongs like a slow consumer does.
	// data belongs to Decode: it may be kept (as Event.Raw, say). emit is
	// only valid during the call. An error, or a
	// panic, is logged and counted in [Stream.Malformed], never fatal.
	Decode func(typ websocket.MessageType, data []byte, emit func(T)) error

	// sleep and jitter are the clock and the dice of the reconnect loop:
	// the package's tests replace them to see the waits it chooses without
	// waiting them. nil means the real ones.
	sleep  func(ctx context.Context, d time.Duration) bool
	jitter func(ceil time.Duration) time.Duration
}

// normalize validates cfg and returns it with every default applied. It is
// the only place defaults live.
func (cfg Config[T]) normalize() (Config[T], error) {
	if cfg.Vendor == "" {
		return cfg, errors.New("wsstream: Config.Vendor is required")
	}
	prefix := "wsstream: " + cfg.Vendor + ": "
	if cfg.URL == "" {
		return cfg, errors.New(prefix + "Config.URL is required")
	}
	u, err := url.Parse(cfg.URL)
	if err != nil {
		// The parse error quotes the URL: redact it by name rules at least.
		return cfg, fmt.Errorf("%sinvalid Config.URL: %w", prefix, cfg.Redactor.Error(err))
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return cfg, fmt.Errorf("%sConfig.URL scheme must be ws or wss, not %q", prefix, u.Scheme)
	}
	if u.Host == "" {
		return cfg, errors.New(prefix + "Config.URL has no host")
	}
	if cfg.Decode == nil {
		return cfg, errors.New(prefix + "Config.Decode is required")
	}
	if cfg.Policy != DropOldest && cfg.Policy != Block {
		return cfg, fmt.Errorf("%sunknown Config.Policy %v", prefix, cfg.Policy)
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"ReadLimit", cfg.ReadLimit},
		{"PongTimeout", int64(cfg.PongTimeout)},
		{"BackoffMin", int64(cfg.BackoffMin)},
		{"BackoffMax", int64(cfg.BackoffMax)},
		{"HealthyAfter", int64(cfg.HealthyAfter)},
		{"ConnectTimeout", int64(cfg.ConnectTimeout)},
		{"Buffer", int64(cfg.Buffer)},
	} {
		if f.v < 0 {
			return cfg, fmt.Errorf("%sConfig.%s must not be negative", prefix, f.name)
		}
	}

	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: DefaultDialTimeout}
	}
	if cfg.Dial == nil {
		cfg.Dial = websocket.Dial
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Pacer == nil {
		cfg.Pacer = NewPacer()
	}
	if cfg.sleep == nil {
		cfg.sleep = sleep
	}
	if cfg.jitter == nil {
		cfg.jitter = jitter
	}
	if cfg.OnConnect == nil {
		cfg.OnConnect = func(context.Context, *Conn) error { return nil }
	}
	setDefault(&cfg.ReadLimit, DefaultReadLimit)
	setDefault(&cfg.PingInterval, DefaultPingInterval)
	setDefault(&cfg.PongTimeout, DefaultPongTimeout)
	setDefault(&cfg.BackoffMin, DefaultBackoffMin)
	setDefault(&cfg.BackoffMax, DefaultBackoffMax)
	setDefault(&cfg.HealthyAfter, DefaultHealthyAfter)
	setDefault(&cfg.ConnectTimeout, DefaultConnectTimeout)
	setDefault(&cfg.Buffer, DefaultBuffer)
	if cfg.PingInterval > 0 && cfg.PongTimeout > cfg.PingInterval {
		// A pong slower than the interval would overlap the next ping.
		cfg.PongTimeout = cfg.PingInterval
	}
	if cfg.BackoffMin > cfg.BackoffMax {
		return cfg, fmt.Errorf("%sConfig.BackoffMin (%v) exceeds BackoffMax (%v)", prefix, cfg.BackoffMin, cfg.BackoffMax)
	}
	return cfg, nil
}

func setDefault[V int | int64 | time.Duration](v *V, def V) {
	if *v == 0 {
		*v = def
	}
}
