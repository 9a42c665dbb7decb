package newtel

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/internal/hook"
	"github.com/pbxkit/pbxkit/voip"
)

// WebhookConfig configures [NewWebhookHandler]. Key or Verify is required,
// and so is at least one of Update and Other.
type WebhookConfig struct {
	// Key is the «Ключ для подписи данных» of the cabinet's
	// «Webhook-оповещения», which the default verifier,
	// VerifyWebhookSignature(Key), checks the signatures with. It is
	// required unless Verify is set, and then unused.
	Key string
	// Verify replaces VerifyWebhookSignature(Key): for an account whose
	// signatures the default does not match (the scheme is not published),
	// or SkipWebhookVerification behind other protection.
	Verify WebhookVerifier
	// Update receives the events with a neutral form: a voip.Event for
	// inboundCallStart, outboundCallStart, inboundCallAnswer and the *CallEnd
	// events, with a voip.Call too on *CallEnd. An error makes the reply 500,
	// so that the PBX may deliver again.
	Update voip.UpdateFunc
	// Other receives the events without a neutral form: ringingStart,
	// ringingEnd, and event names this package does not know. An error makes
	// the reply 500.
	Other func(ctx context.Context, w *Webhook) error
	// Logger receives one line per rejected request; nil is silent. The
	// lines never carry the Key.
	Logger *slog.Logger
	// MaxBody caps a request body; 0 means voip.DefaultWebhookMaxBody
	// (1 MiB). A larger body is answered 413.
	MaxBody int64
	// DedupeWindow is how long a delivery is remembered, so that the PBX's
	// duplicates of it are answered 200 without being delivered again. 0
	// means voip.DefaultDedupeWindow (10 minutes); a negative value turns
	// deduplication off.
	DedupeWindow time.Duration
	// Memory is where deliveries are remembered; nil means a
	// voip.LocalMemory of the handler's own. Handlers of one process may
	// share one; replicas behind a load balancer need a shared, distributed
	// Memory, or each drops only the duplicates that reach it.
	Memory voip.Memory
}

// NewWebhookHandler returns the handler of the URL set in the cabinet's
// «Оповещения». It checks each webhook's signature (see
// VerifyWebhookSignature: experimental), parses it, and passes it to Update
// or Other; a duplicate of a webhook delivered within DedupeWindow (the same
// event name and the same data text) is answered 200 and not passed on.
//
// Replies: 200 with an empty body for a handled or duplicate webhook, 401
// for a signature that does not verify, 400 for a body that cannot be read,
// 413 for one over MaxBody, 405 for anything but POST, and 500 when Update,
// Other or the Memory fails, in which case the delivery is forgotten so
// that a redelivery is handled. A webhook whose callback is nil is answered
// 200 and dropped.
//
// An empty Key without Verify, or neither Update nor Other, is an error:
// such a handler could only refuse or drop every webhook.
func NewWebhookHandler(cfg WebhookConfig) (http.Handler, error) {
	verify := cfg.Verify
	if verify == nil {
		if strings.TrimSpace(cfg.Key) == "" {
			return nil, errors.New("newtel: NewWebhookHandler: Key is empty and Verify is nil: set Key to the cabinet's «Ключ для подписи данных», or Verify")
		}
		verify = VerifyWebhookSignature(cfg.Key)
	}
	if cfg.Update == nil && cfg.Other == nil {
		return nil, errors.New("newtel: NewWebhookHandler: no callback: set Update, Other or both")
	}
	h := &webhookHandler{verify: verify, update: cfg.Update, other: cfg.Other,
		memory: hook.NewMemory(cfg.Memory, cfg.DedupeWindow)}
	return &voip.Webhook{Serve: h.serve, MaxBody: cfg.MaxBody, Logger: cfg.Logger}, nil
}

type webhookHandler struct {
	verify WebhookVerifier
	update voip.UpdateFunc
	other  func(context.Context, *Webhook) error
	memory hook.Memory
}

func (h *webhookHandler) serve(_ http.ResponseWriter, r *http.Request, body []byte) error {
	w, err := parseWebhook(body, h.verify, time.Now())
	if err != nil {
		return err
	}
	ctx := r.Context()
	deliver := h.delivery(ctx, w)
	if deliver == nil {
		return nil
	}
	// The key is the event and the data as received (the whole body in the
	// flat form), not the envelope's signature: a redelivery repeats them
	// byte for byte, and two events of a call differ in the name, the time
	// or the extension.
	_, err = h.memory.Once(ctx, hook.Key(Vendor, "delivery", []byte(w.Name), w.Data), deliver)
	return err
}

// delivery is the callback w goes to, or nil when that callback is not
// set: the webhook is then dropped without a trip to the Memory.
func (h *webhookHandler) delivery(ctx context.Context, w *Webhook) func() error {
	ev, ok := w.Event()
	if !ok {
		if h.other == nil {
			return nil
		}
		return func() error { return h.other(ctx, w) }
	}
	if h.update == nil {
		return nil
	}
	u := voip.Update{Event: &ev}
	if c, ok := w.Call(); ok {
		u.Call = &c
	}
	return func() error { return h.update(ctx, u) }
}
