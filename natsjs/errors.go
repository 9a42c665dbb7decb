package natsjs

import (
	"context"
	"errors"
	"net"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/pbxkit/pbxkit/voip"
)

// Error classes. Every error of this package matches at most one of them
// through errors.Is; the details are in an [*Error], reachable through
// errors.As, whose cause is the nats.go error.
var (
	// ErrUnavailable: NATS did not answer: the connection is down or
	// reconnecting, no server (or no JetStream) responded, or the request
	// timed out. Trying again later may succeed. It matches
	// voip.ErrUnreachable too, so code written against the vendor
	// packages' errors treats it alike. When a write fails this way its
	// outcome may be unknown: a request sent just before the connection
	// dropped may still have been applied.
	ErrUnavailable = errors.New("natsjs: NATS unavailable")
	// ErrRefused: NATS answered and refused the request: a stream or
	// bucket limit, a message too large, a permission, a configuration
	// that conflicts with the existing stream.
	ErrRefused = errors.New("natsjs: refused by NATS")
	// ErrInvalid: an argument or a config was refused before anything was
	// sent (an empty stream name, a subject token with a dot).
	ErrInvalid = errors.New("natsjs: invalid argument")
	// ErrMalformed: a message read from a stream is not a stored update.
	// The consumer terminates such a message: no retry can mend it.
	ErrMalformed = errors.New("natsjs: malformed stored update")
)

// Error is a failed operation of this package.
type Error struct {
	Op   string // "memory add", "publish", "consume", …
	Kind error  // one of the class sentinels above
	Err  error  // the cause, often a nats.go error; may be nil
}

func (e *Error) Error() string {
	s := "natsjs: " + e.Op
	if e.Kind != nil {
		s += ": " + trimPkg(e.Kind.Error())
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap exposes the class, voip.ErrUnreachable for ErrUnavailable, and
// the cause.
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, 3)
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Kind == ErrUnavailable {
		errs = append(errs, voip.ErrUnreachable)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

func trimPkg(s string) string {
	const p = "natsjs: "
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

// wrap classifies a nats.go error for op. A cancelled context stays what
// it is (the caller gave up; NATS is not to blame) but is still wrapped,
// so that errors.Is(err, context.Canceled) holds.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Op: op, Kind: classify(err), Err: err}
}

func classify(err error) error {
	var apiErr *jetstream.APIError
	var netErr net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return nil
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, nats.ErrTimeout),
		errors.Is(err, nats.ErrNoResponders),
		errors.Is(err, jetstream.ErrNoStreamResponse),
		errors.Is(err, nats.ErrConnectionClosed),
		errors.Is(err, nats.ErrConnectionDraining),
		errors.Is(err, nats.ErrConnectionReconnecting),
		errors.Is(err, nats.ErrDisconnected),
		errors.Is(err, nats.ErrNoServers),
		errors.Is(err, nats.ErrReconnectBufExceeded),
		errors.Is(err, nats.ErrStaleConnection),
		errors.Is(err, jetstream.ErrJetStreamNotEnabled),
		errors.As(err, &netErr):
		return ErrUnavailable
	case errors.As(err, &apiErr) && apiErr.Code == 503:
		return ErrUnavailable
	case errors.Is(err, jetstream.ErrInvalidKey),
		errors.Is(err, jetstream.ErrInvalidBucketName),
		errors.Is(err, jetstream.ErrInvalidStreamName):
		return ErrInvalid
	}
	return ErrRefused
}

// invalid is a refused argument.
func invalid(op, why string) error {
	return &Error{Op: op, Kind: ErrInvalid, Err: errors.New(why)}
}
