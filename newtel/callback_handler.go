package newtel

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/pbxkit/pbxkit/internal/hook"
	"github.com/pbxkit/pbxkit/voip"
)

// DefaultCallbackTokenParam is the query parameter of the callbackLink that
// carries CallbackConfig.Token when TokenParam is empty.
const DefaultCallbackTokenParam = "token"

// CallbackConfig configures [NewCallbackHandler]. Callback is required.
type CallbackConfig struct {
	// Callback receives each callback. An error makes the reply 500.
	Callback func(ctx context.Context, cb *Callback) error
	// Token, when set, must be the value of the callbackLink's query
	// parameter TokenParam, or the request is answered 401: New-Tel signs
	// no callback, so an unguessable token in the callbackLink you send
	// (https://crm.example/newtel/callback?token=…) is what tells New-Tel's
	// POSTs from anyone else's. It is compared in constant time and never
	// logged. Empty (the default) checks nothing.
	Token string
	// TokenParam is the query parameter that carries Token; empty means
	// DefaultCallbackTokenParam, "token". Setting it without Token is an
	// error, so that a Token read from a missing setting does not turn the
	// check off unnoticed.
	TokenParam string
	// Logger receives one line per rejected request; nil is silent. The
	// lines never carry the Token, nor the query it came in.
	Logger *slog.Logger
	// MaxBody caps a request body; 0 means voip.DefaultWebhookMaxBody
	// (1 MiB). A larger body is answered 413.
	MaxBody int64
	// DedupeWindow is how long a callback is remembered, so that a second
	// POST of the same body is answered 200 without reaching Callback
	// again. 0 means voip.DefaultDedupeWindow (10 minutes); a negative value
	// turns deduplication off.
	DedupeWindow time.Duration
	// Memory is where callbacks are remembered; nil means a
	// voip.LocalMemory of the handler's own. Replicas behind a load balancer
	// need a shared, distributed Memory.
	Memory voip.Memory
}

// NewCallbackHandler returns the handler of the callbackLink given to
// StartPasswordCall, StartInboundCallWaiting and StartWaitingModeBusy.
// It checks the Token, parses the body (see ParseCallback), and passes the
// callback to Callback once: a body already delivered within DedupeWindow
// is answered as a success and not passed on.
//
// Replies: 200 {} for a handled or duplicate callback, 401 when the Token
// does not match, 400 for a body ParseCallback refuses, 413 for one over
// MaxBody, 405 for anything but POST, and 500 when Callback or the Memory
// fails, in which case the callback is forgotten so that a redelivery is
// handled.
func NewCallbackHandler(cfg CallbackConfig) (http.Handler, error) {
	if cfg.Callback == nil {
		return nil, errors.New("newtel: NewCallbackHandler: Callback is nil")
	}
	if cfg.TokenParam != "" && cfg.Token == "" {
		return nil, errors.New("newtel: NewCallbackHandler: TokenParam is set but Token is empty")
	}
	h := &callbackHandler{callback: cfg.Callback, memory: hook.NewMemory(cfg.Memory, cfg.DedupeWindow)}
	if cfg.Token != "" {
		// Only a digest is kept: it compares in constant time whatever the
		// lengths, and the handler holds no copy of the secret.
		sum := sha256.Sum256([]byte(cfg.Token))
		h.token = sum[:]
		h.param = cfg.TokenParam
		if h.param == "" {
			h.param = DefaultCallbackTokenParam
		}
	}
	return &voip.Webhook{Serve: h.serve, MaxBody: cfg.MaxBody, Logger: cfg.Logger}, nil
}

type callbackHandler struct {
	callback func(context.Context, *Callback) error
	token    []byte // SHA-256 of the Token; nil when none is checked
	param    string
	memory   hook.Memory
}

func (h *callbackHandler) serve(w http.ResponseWriter, r *http.Request, body []byte) error {
	if err := h.checkToken(r); err != nil {
		return err
	}
	cb, err := parseCallback(body, time.Now())
	if err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := h.memory.Once(ctx, hook.Key(Vendor, "callback", body), func() error { return h.callback(ctx, cb) }); err != nil {
		return err
	}
	voip.WriteJSON(w, http.StatusOK, struct{}{})
	return nil
}

// checkToken compares the token parameter with the Token. Its errors name
// the parameter, never a value.
func (h *callbackHandler) checkToken(r *http.Request) error {
	if h.token == nil {
		return nil
	}
	got := r.URL.Query()[h.param]
	switch {
	case len(got) == 0:
		return fmt.Errorf("newtel: callback without the %q query parameter: %w", h.param, voip.ErrUnverified)
	case len(got) > 1:
		// One value or none: which of several a proxy or framework would
		// read is anyone's guess.
		return fmt.Errorf("newtel: callback with the %q query parameter more than once: %w", h.param, voip.ErrUnverified)
	}
	sum := sha256.Sum256([]byte(got[0]))
	if subtle.ConstantTimeCompare(sum[:], h.token) != 1 {
		return fmt.Errorf("newtel: callback whose %q query parameter does not match the Token: %w", h.param, voip.ErrUnverified)
	}
	return nil
}
