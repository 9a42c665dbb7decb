package voip

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
)

// Webhook failure classes. A vendor's parse function wraps them; [Webhook]
// turns them into the HTTP status of its reply.
var (
	// ErrUnverified: the request failed verification (wrong token, bad
	// signature, address not allowed). Answered with 401.
	ErrUnverified = errors.New("voip: webhook not verified")
	// ErrMalformed: the body cannot be parsed. Answered with 400.
	ErrMalformed = errors.New("voip: malformed webhook")
)

// DefaultWebhookMaxBody caps a webhook body: 1 MiB.
const DefaultWebhookMaxBody = 1 << 20

// UpdateFunc receives what a webhook delivery carries. An error makes the
// vendor retry (the reply is 500), where the vendor retries at all.
type UpdateFunc func(ctx context.Context, u Update) error

// WebhookFunc serves one webhook request whose body has been read and
// capped. It may write its own reply (Gravitel's contact, Phonet's client
// card); if it writes nothing and returns nil, the reply is an empty 200.
// If it returns an error before writing, [Webhook] answers with a small JSON
// error, {"error":"..."}, whose status follows the error: a [*WebhookError]
// sets both; [ErrUnverified] is 401, [ErrMalformed] 400, anything else 500.
type WebhookFunc func(w http.ResponseWriter, r *http.Request, body []byte) error

// WebhookError is a failure with the exact reply a vendor expects, such as
// Gravitel's 401 {"error":"Invalid token"}.
type WebhookError struct {
	Status  int    // HTTP status of the reply
	Message string // sent as {"error": Message}; never put secrets here
	Err     error  // the cause, for logs and errors.Is
}

func (e *WebhookError) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *WebhookError) Unwrap() error { return e.Err }

// Webhook is an http.Handler with the guards every vendor webhook needs:
// the method check (405), a capped body (413), and error replies. The zero
// value of each field is its default.
type Webhook struct {
	// Serve handles a request that passed the guards. Required.
	Serve WebhookFunc
	// Methods allowed; default POST only.
	Methods []string
	// MaxBody caps the body; default DefaultWebhookMaxBody.
	MaxBody int64
	// Logger receives one line per failed request; nil is silent. Error
	// texts are logged, so vendors keep secrets out of them.
	Logger *slog.Logger
}

// ServeHTTP implements http.Handler.
func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	methods := h.Methods
	if len(methods) == 0 {
		methods = []string{http.MethodPost}
	}
	if !slices.Contains(methods, r.Method) {
		w.Header().Set("Allow", strings.Join(methods, ", "))
		h.fail(w, r, http.StatusMethodNotAllowed, "method not allowed", nil)
		return
	}
	max := h.MaxBody
	if max <= 0 {
		max = DefaultWebhookMaxBody
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.fail(w, r, http.StatusRequestEntityTooLarge, "request body too large", err)
			return
		}
		h.fail(w, r, http.StatusBadRequest, "cannot read request body", err)
		return
	}
	if h.Serve == nil {
		h.fail(w, r, http.StatusInternalServerError, "internal error", errors.New("voip: Webhook.Serve is nil"))
		return
	}
	rw := &replyWriter{ResponseWriter: w}
	if err := h.Serve(rw, r, body); err != nil {
		if rw.wrote {
			h.logger().WarnContext(r.Context(), "pbxkit: webhook failed after replying", "path", r.URL.Path, "error", err)
			return
		}
		status, msg := webhookStatus(err)
		h.fail(w, r, status, msg, err)
		return
	}
	if !rw.wrote {
		w.WriteHeader(http.StatusOK)
	}
}

// webhookStatus maps a Serve error to the reply's status and message. The
// message is generic unless the vendor chose one: internal errors are not
// for the caller's eyes.
func webhookStatus(err error) (int, string) {
	var we *WebhookError
	switch {
	case errors.As(err, &we) && we.Status != 0:
		return we.Status, we.Message
	case errors.Is(err, ErrUnverified):
		return http.StatusUnauthorized, "unauthorized"
	case errors.Is(err, ErrMalformed):
		return http.StatusBadRequest, "malformed request"
	}
	return http.StatusInternalServerError, "internal error"
}

func (h *Webhook) fail(w http.ResponseWriter, r *http.Request, status int, msg string, err error) {
	if err != nil {
		h.logger().WarnContext(r.Context(), "pbxkit: webhook rejected", "path", r.URL.Path, "status", status, "error", err)
	}
	WriteJSON(w, status, map[string]string{"error": msg})
}

func (h *Webhook) logger() *slog.Logger {
	if h.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Logger
}

// WriteJSON writes v as a JSON reply with the given status, without HTML
// escaping. It is for webhook replies.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client went away; nothing to do
}

// replyWriter notes whether Serve replied.
type replyWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *replyWriter) WriteHeader(status int) {
	w.wrote = true
	w.ResponseWriter.WriteHeader(status)
}

func (w *replyWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *replyWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
