package newtel

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/pbxkit/pbxkit/voip"
)

// Handler receives what WebhookHandler parses. Every function may be nil.
type Handler struct {
	// Update receives the events with a neutral form: a voip.Event for
	// *CallStart, inboundCallAnswer and *CallEnd, with a voip.Call too on
	// *CallEnd. An error makes the reply 500.
	Update voip.UpdateFunc
	// Other receives the rest: ringingStart, ringingEnd and unknown events.
	Other func(ctx context.Context, w *Webhook) error
	// Verify replaces the default verifier, VerifyWebhookSignature(key).
	Verify WebhookVerifier
	// Logger receives one line per rejected request; nil is silent.
	Logger *slog.Logger
}

// WebhookHandler serves the URL set in the cabinet's «Оповещения». key is
// the «Ключ для подписи данных»; the default verification is experimental
// (see VerifyWebhookSignature) and fails closed, so an empty key without
// Handler.Verify rejects every webhook with 401. A body that cannot be read
// is answered 400; a handled webhook 200 with an empty body.
//
// Handle updates idempotently, keyed on CallID and the event name: the
// PBX's redelivery policy is unknown.
func WebhookHandler(key string, h Handler) http.Handler {
	verify := h.Verify
	if verify == nil {
		verify = VerifyWebhookSignature(key)
	}
	return &voip.Webhook{
		Logger: h.Logger,
		Serve: func(_ http.ResponseWriter, r *http.Request, body []byte) error {
			hook, err := ParseWebhook(body, verify)
			if err != nil {
				return err
			}
			var u voip.Update
			if ev, ok := hook.Event(); ok {
				u.Event = &ev
			}
			if c, ok := hook.Call(); ok {
				u.Call = &c
			}
			switch {
			case u.Event == nil:
				if h.Other != nil {
					return h.Other(r.Context(), hook)
				}
			case h.Update != nil:
				return h.Update(r.Context(), u)
			}
			return nil
		},
	}
}
