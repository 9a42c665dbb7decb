package natsjs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/pbxkit/pbxkit/voip"
)

// Defaults of PublisherConfig.
const (
	DefaultStream = "PBXKIT_UPDATES"
	DefaultPrefix = "pbxkit"
	DefaultTenant = "default"
	// DefaultDuplicates is the stream's deduplication window: the same
	// event published twice within it is stored once.
	DefaultDuplicates = 2 * time.Minute
)

// PublisherConfig configures [NewPublisher]. The zero value of each field
// is its default. Every replica publishing into a stream must use the same
// Stream, Prefix, Duplicates, Replicas and Storage: the stream is created
// or updated to match.
type PublisherConfig struct {
	// Stream is the stream's name; default DefaultStream.
	Stream string
	// Prefix is the first token of every subject; default DefaultPrefix.
	// The stream takes <Prefix>.>. It may hold dots (several tokens).
	Prefix string
	// Tenant is the second token of the subjects this publisher writes,
	// and part of every message id; default DefaultTenant. A byte that is
	// not a letter, digit, '-' or '_' is escaped as "=XX".
	Tenant string
	// Duplicates is the stream's deduplication window; default
	// DefaultDuplicates. A vendor that delivers a webhook again later
	// than this is not deduplicated by the stream (the handler's memory
	// still drops it within its own window).
	Duplicates time.Duration
	// MaxAge is how long the stream keeps a message; default 0, no limit
	// (size it with NATS's own limits, or set it).
	MaxAge time.Duration
	// Replicas is the stream's replication factor; default 1.
	Replicas int
	// Storage is the stream's storage; default jetstream.FileStorage.
	Storage jetstream.StorageType
	// Timeout bounds one publish when its context has no earlier
	// deadline; default DefaultTimeout.
	Timeout time.Duration
	// Logger receives a line per failed publish, and Pump's retries; nil
	// is silent.
	Logger *slog.Logger
}

// Publisher publishes voip.Update values into a stream, each under the
// subject <prefix>.<tenant>.<vendor>.<kind> (kind: start, answer, end, the
// other event kinds, or call for a finished-call record) and with a
// Nats-Msg-Id made of the vendor's identity of the event (see
// [Publisher.MsgID]), so that the same event published twice within the
// stream's Duplicates window is stored once. Its methods are safe for
// concurrent use.
type Publisher struct {
	js       jetstream.JetStream
	stream   string
	prefix   string
	tenant   string
	timeout  time.Duration
	log      *slog.Logger
	stored   atomic.Uint64
	dupes    atomic.Uint64
	subjects string
}

// NewPublisher creates the stream, or updates it to cfg, and returns a
// Publisher into it.
func NewPublisher(ctx context.Context, js jetstream.JetStream, cfg PublisherConfig) (*Publisher, error) {
	const op = "new publisher"
	if js == nil {
		return nil, invalid(op, "nil JetStream")
	}
	if cfg.Stream == "" {
		cfg.Stream = DefaultStream
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if cfg.Tenant == "" {
		cfg.Tenant = DefaultTenant
	}
	if cfg.Duplicates == 0 {
		cfg.Duplicates = DefaultDuplicates
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Duplicates < 0 || cfg.MaxAge < 0 || cfg.Replicas < 0 || cfg.Timeout < 0 {
		return nil, invalid(op, "negative Duplicates, MaxAge, Replicas or Timeout")
	}
	if cfg.MaxAge > 0 && cfg.Duplicates > cfg.MaxAge {
		return nil, invalid(op, "Duplicates longer than MaxAge")
	}
	if strings.ContainsAny(cfg.Stream, ". *>\t\r\n/\\") {
		return nil, invalid(op, "Stream name with a dot, a space, a wildcard or a slash")
	}
	for _, t := range strings.Split(cfg.Prefix, ".") {
		if t == "" || strings.ContainsAny(t, " *>\t\r\n") {
			return nil, invalid(op, "Prefix is not a subject of literal tokens")
		}
	}
	p := &Publisher{js: js, stream: cfg.Stream, prefix: cfg.Prefix, tenant: token(cfg.Tenant),
		timeout: cfg.Timeout, log: logger(cfg.Logger), subjects: cfg.Prefix + ".>"}
	ctx, cancel := boundCtx(ctx, cfg.Timeout)
	defer cancel()
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        cfg.Stream,
		Description: "pbxkit call events and records",
		Subjects:    []string{p.subjects},
		Duplicates:  cfg.Duplicates,
		MaxAge:      cfg.MaxAge,
		Replicas:    cfg.Replicas,
		Storage:     cfg.Storage,
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	return p, nil
}

// Subject is the subject an update's event (or, without one, its call
// record) is published under.
func (p *Publisher) Subject(u voip.Update) string {
	if u.Event != nil {
		return p.subject(u.Event.Vendor, u.Event.Kind.String())
	}
	if u.Call != nil {
		return p.subject(u.Call.Vendor, kindCall)
	}
	return ""
}

func (p *Publisher) subject(vendor, kind string) string {
	return p.prefix + "." + p.tenant + "." + token(vendor) + "." + token(kind)
}

// MsgID is the Nats-Msg-Id of an update's event (or, without one, its
// call record): a digest of the tenant, the vendor, the kind ("call" for a
// record), the call id, the parent call id, the extension and the
// vendor's raw status word. Times are left out (a webhook without a time
// of its own is stamped when received, which differs between two
// deliveries), and so are direction and disposition, which the handler
// derives.
func (p *Publisher) MsgID(u voip.Update) string {
	if u.Event == nil && u.Call == nil {
		return ""
	}
	return msgID(p.tenant, u.Event, u.Call)
}

// Publish stores u in the stream and waits for the stream's ack. An update
// that carries both an event and a call record is stored as two messages,
// the event first. An update already stored within the Duplicates window
// is not stored again, and that is not an error: see [Publisher.Stats].
//
// Errors are *Error values: ErrUnavailable when NATS is away (it may then
// have been stored: publishing it again is safe within the window),
// ErrRefused when the stream refused it, ErrInvalid for an empty update
// or one whose enums cannot be written.
func (p *Publisher) Publish(ctx context.Context, u voip.Update) error {
	const op = "publish"
	if u.Event == nil && u.Call == nil {
		return invalid(op, "empty update")
	}
	if u.Event != nil {
		if _, err := p.publish(ctx, voip.Update{Event: u.Event}); err != nil {
			return err
		}
	}
	if u.Call != nil {
		if _, err := p.publish(ctx, voip.Update{Call: u.Call}); err != nil {
			return err
		}
	}
	return nil
}

// publish stores an update with one of its fields set and reports whether
// the stream took it for a duplicate.
func (p *Publisher) publish(ctx context.Context, u voip.Update) (bool, error) {
	const op = "publish"
	data, err := encodeUpdate(u)
	if err != nil {
		return false, &Error{Op: op, Kind: ErrInvalid, Err: err}
	}
	if nc := p.js.Conn(); nc != nil && !nc.IsConnected() {
		// Not queued for the reconnect: the caller is told it failed
		// and publishes again (a vendor delivers again).
		return false, &Error{Op: op, Kind: ErrUnavailable, Err: fmt.Errorf("connection %s", strings.ToLower(nc.Status().String()))}
	}
	ctx, cancel := boundCtx(ctx, p.timeout)
	defer cancel()
	msg := &nats.Msg{Subject: p.Subject(u), Data: data, Header: nats.Header{}}
	ack, err := p.js.PublishMsg(ctx, msg, jetstream.WithMsgID(p.MsgID(u)), jetstream.WithExpectStream(p.stream))
	if err != nil {
		err = wrap(op, err)
		p.log.WarnContext(ctx, "pbxkit: publish failed", "subject", msg.Subject, "error", err)
		return false, err
	}
	if ack.Duplicate {
		p.dupes.Add(1)
		return true, nil
	}
	p.stored.Add(1)
	return false, nil
}

// PublisherStats counts what a Publisher published.
type PublisherStats struct {
	Stored     uint64 // messages the stream stored
	Duplicates uint64 // messages the stream had stored already, and dropped
}

// Stats returns the counts so far.
func (p *Publisher) Stats() PublisherStats {
	return PublisherStats{Stored: p.stored.Load(), Duplicates: p.dupes.Load()}
}

// Update returns p.Publish as a voip.UpdateFunc, for a webhook handler's
// WebhookConfig.Update: a failed publish makes the handler answer 500, so
// that the vendor delivers again.
func (p *Publisher) Update() voip.UpdateFunc { return p.Publish }

// pumpRetry bounds the wait between two attempts of Pump to publish one
// event.
const (
	pumpRetryMin = 50 * time.Millisecond
	pumpRetryMax = 5 * time.Second
)

// Pump publishes every event of src (a phonet.Hub's or Stream's Source, a
// webitel one) until src's events close or ctx ends, and returns src.Err()
// or ctx's error. It does not close src.
//
// An event that cannot be published because NATS is away is retried, with
// a backoff from 50 ms to 5 s, until it is stored or ctx ends: meanwhile
// the source's bounded buffer fills, and when it is full the source drops
// events and says so with a notice whose Gap is true. Pump leaves the
// notices to the caller, who reads src.Notices() and reconciles a gap
// from the vendor's history (publishing the calls found there is safe:
// the stream drops what it holds already). An event the stream refuses
// (ErrRefused, ErrInvalid) is logged and skipped: retrying cannot help.
func (p *Publisher) Pump(ctx context.Context, src voip.Source) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-src.Events():
			if !ok {
				return src.Err()
			}
			if err := p.pumpOne(ctx, &ev); err != nil {
				return err
			}
		}
	}
}

// pumpOne publishes ev, retrying while NATS is away; it returns only
// ctx's error.
func (p *Publisher) pumpOne(ctx context.Context, ev *voip.Event) error {
	wait := pumpRetryMin
	for attempt := 1; ; attempt++ {
		_, err := p.publish(ctx, voip.Update{Event: ev})
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case !errors.Is(err, ErrUnavailable):
			p.log.ErrorContext(ctx, "pbxkit: event refused, skipped", "vendor", ev.Vendor, "call_id", ev.CallID,
				"kind", ev.Kind.String(), "error", err)
			return nil
		}
		p.log.WarnContext(ctx, "pbxkit: NATS away, publish retried", "attempt", attempt, "in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, pumpRetryMax)
	}
}
