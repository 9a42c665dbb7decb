package natsjs

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pbxkit/pbxkit/voip"
)

// Defaults of ConsumerConfig.
const (
	DefaultMaxDeliver = 5
	DefaultAckWait    = 30 * time.Second
	DefaultBackoff    = time.Second
	// maxBackoff caps the delay before a failed message is delivered
	// again.
	maxBackoff = time.Minute
)

// ConsumerConfig configures [Consume]. Durable is required; the zero value
// of every other field is its default.
type ConsumerConfig struct {
	// Stream is the stream to read; default DefaultStream.
	Stream string
	// Durable names the consumer: every process consuming under one name
	// shares its messages (each message goes to one of them), and where
	// it stopped is kept across restarts. Required.
	Durable string
	// FilterSubject selects the messages, such as "pbxkit.acme.>" or
	// "pbxkit.*.*.call"; default every message of the stream.
	FilterSubject string
	// MaxDeliver bounds the deliveries of one message: after that many
	// failures of fn (or of acks not received within AckWait) it is
	// terminated and logged, never retried again. Default
	// DefaultMaxDeliver (5).
	MaxDeliver int
	// AckWait is how long fn has for a message before it is delivered
	// again; fn's context ends then. Default DefaultAckWait (30 s).
	AckWait time.Duration
	// Backoff is the delay before a message that fn failed is delivered
	// again, doubled at each further failure, up to a minute. Default
	// DefaultBackoff (1 s).
	Backoff time.Duration
	// Logger receives a line per poison message (at error level), per
	// failure of fn, and per trouble of the consumer; nil is silent.
	Logger *slog.Logger
}

// Consume hands the updates of a durable consumer to fn, one at a time,
// until ctx ends; it then returns nil, after fn's last call has returned.
// A message is acked once fn returns nil: the user receives each update
// at least once (the stream has dropped what was published twice; a
// message whose ack was lost comes again). When fn fails the message is
// delivered again after Backoff, doubled each time; after MaxDeliver
// deliveries it is terminated and logged as poison. A message that is not
// a stored update is terminated at once (ErrMalformed, logged).
//
// fn is called for one message at a time; its context ends after AckWait
// or when ctx ends. To share the work, run Consume under one Durable in
// several processes.
//
// NATS going away does not end Consume: nats.go reconnects, and the
// consumer goes on where it was. Consume makes (or updates) the consumer
// itself, retrying while NATS is away, and makes it again if it is
// deleted under it; a consumer made again starts from the beginning of
// the stream (the stream's MaxAge bounds that replay). Consume returns
// early only for a config NATS refuses, as an *Error.
func Consume(ctx context.Context, js jetstream.JetStream, cfg ConsumerConfig, fn func(context.Context, voip.Update) error) error {
	const op = "consume"
	switch {
	case js == nil:
		return invalid(op, "nil JetStream")
	case fn == nil:
		return invalid(op, "nil fn")
	case cfg.Durable == "":
		return invalid(op, "empty Durable")
	case cfg.MaxDeliver < 0 || cfg.AckWait < 0 || cfg.Backoff < 0:
		return invalid(op, "negative MaxDeliver, AckWait or Backoff")
	}
	if cfg.Stream == "" {
		cfg.Stream = DefaultStream
	}
	if cfg.MaxDeliver == 0 {
		cfg.MaxDeliver = DefaultMaxDeliver
	}
	if cfg.AckWait == 0 {
		cfg.AckWait = DefaultAckWait
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = DefaultBackoff
	}
	c := &consumer{cfg: cfg, fn: fn, log: logger(cfg.Logger)}
	wait := pumpRetryMin
	for {
		err := c.run(ctx, js)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && !errors.Is(err, ErrUnavailable):
			return err
		}
		c.log.WarnContext(ctx, "pbxkit: consumer stopped, made again", "durable", cfg.Durable, "in", wait, "error", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		wait = min(2*wait, pumpRetryMax)
	}
}

type consumer struct {
	cfg ConsumerConfig
	fn  func(context.Context, voip.Update) error
	log *slog.Logger

	mu      sync.Mutex // held while a message is handled
	stopped bool
}

// run makes the consumer and consumes until ctx ends (nil) or the
// consumption stops on its own (an error saying why).
func (c *consumer) run(ctx context.Context, js jetstream.JetStream) error {
	const op = "consume"
	cctx, cancel := boundCtx(ctx, DefaultTimeout)
	cons, err := js.CreateOrUpdateConsumer(cctx, c.cfg.Stream, jetstream.ConsumerConfig{
		Durable:       c.cfg.Durable,
		FilterSubject: c.cfg.FilterSubject,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       c.cfg.AckWait,
		MaxDeliver:    c.cfg.MaxDeliver,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	cancel()
	if err != nil {
		return wrap(op, err)
	}
	c.mu.Lock()
	c.stopped = false
	c.mu.Unlock()
	errs := make(chan error, 1)
	cc, err := cons.Consume(func(msg jetstream.Msg) { c.handle(ctx, msg) },
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			c.log.WarnContext(ctx, "pbxkit: consumer trouble", "durable", c.cfg.Durable, "error", err)
			if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) {
				select {
				case errs <- err:
				default:
				}
			}
		}))
	if err != nil {
		return wrap(op, err)
	}
	var stopErr error
	select {
	case <-ctx.Done():
	case <-cc.Closed():
		stopErr = &Error{Op: op, Kind: ErrUnavailable, Err: errors.New("consumption closed")}
	case err := <-errs:
		stopErr = &Error{Op: op, Kind: ErrUnavailable, Err: err}
	}
	cc.Stop()
	t := time.NewTimer(time.Second) // the subscription ends soon after
	select {
	case <-cc.Closed():
	case <-t.C:
	}
	t.Stop()
	// Wait for the message being handled, and turn away any later one.
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
	return stopErr
}

// handle runs fn on one message and acks, naks or terminates it.
func (c *consumer) handle(ctx context.Context, msg jetstream.Msg) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped || ctx.Err() != nil {
		_ = msg.Nak() // for another consumer, or the next run
		return
	}
	delivered := uint64(1)
	if md, err := msg.Metadata(); err == nil {
		delivered = md.NumDelivered
	}
	u, err := DecodeUpdate(msg.Data())
	if err != nil {
		c.log.ErrorContext(ctx, "pbxkit: poison message terminated", "durable", c.cfg.Durable, "subject", msg.Subject(),
			"reason", "malformed", "error", err)
		_ = msg.TermWithReason("malformed")
		return
	}
	fctx, cancel := context.WithTimeout(ctx, c.cfg.AckWait)
	err = c.fn(fctx, u)
	cancel()
	switch {
	case err == nil:
		if err := msg.Ack(); err != nil {
			c.log.WarnContext(ctx, "pbxkit: ack failed; the message comes again", "subject", msg.Subject(), "error", err)
		}
	case ctx.Err() != nil: // stopping: not the message's fault
		_ = msg.Nak()
	case delivered >= uint64(c.cfg.MaxDeliver):
		c.log.ErrorContext(ctx, "pbxkit: poison message terminated", "durable", c.cfg.Durable, "subject", msg.Subject(),
			"reason", "max deliveries", "deliveries", delivered, "error", err)
		_ = msg.TermWithReason("max deliveries")
	default:
		delay := c.backoff(delivered)
		c.log.WarnContext(ctx, "pbxkit: update failed, delivered again later", "subject", msg.Subject(),
			"deliveries", delivered, "in", delay, "error", err)
		_ = msg.NakWithDelay(delay)
	}
}

// backoff is the delay after the n-th failed delivery.
func (c *consumer) backoff(n uint64) time.Duration {
	d := c.cfg.Backoff
	for i := uint64(1); i < n && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}
