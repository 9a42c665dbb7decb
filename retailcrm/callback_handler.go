package retailcrm

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/pbxkit/pbxkit/internal/redact"
	"github.com/pbxkit/pbxkit/voip"
)

// CallbackConfig configures [NewCallbackHandler]. ClientID and at least one
// of the functions are required.
type CallbackConfig struct {
	// ClientID is the module's clientId (IntegrationModule.ClientID), which
	// retailCRM sends with every callback. A request without it is answered
	// 401, one with another value 403, and neither reaches the functions.
	// It is compared in constant time and never logged. Empty is an error.
	ClientID string
	// MakeCall starts a call (makeCallUrl, a request with phone). An error
	// answers 500, which retailCRM shows the user as a failed call.
	MakeCall func(context.Context, MakeCallRequest) error
	// ChangeStatus takes a user's new status (changeUserStatusUrl, a request
	// with status). An error answers 500.
	ChangeStatus func(context.Context, StatusChange) error
	// Recording opens a call's recording (a RecordURL of UploadCalls, any
	// other request) and names its Content-Type, which retailCRM's player
	// needs; empty lets net/http guess it from the first bytes. The handler
	// streams it and closes it. An error matching voip.ErrNotFound answers
	// 404, any other 500.
	Recording func(context.Context, RecordingRequest) (io.ReadCloser, string, error)
	// Logger receives one line per refused or failed request; nil is
	// silent. No line carries the clientId.
	Logger *slog.Logger
}

// NewCallbackHandler returns the handler of the module's callbacks, which
// retailCRM sends as GET requests: it serves makeCallUrl,
// changeUserStatusUrl and the recordUrls of uploads at one or several
// paths, telling them apart by their query: status → ChangeStatus, phone →
// MakeCall, anything else → Recording. A callback whose function is nil is
// answered 404.
//
// Replies: 200 when the function succeeded (with the recording as body),
// 401 without clientId, 403 with a wrong one, 400 for a query that does not
// read (a userId that is not a number, an empty phone or status), 405 for
// methods other than GET, 500 when the function failed.
func NewCallbackHandler(cfg CallbackConfig) (http.Handler, error) {
	if strings.TrimSpace(cfg.ClientID) == "" {
		return nil, errors.New("retailcrm: NewCallbackHandler: ClientID is empty")
	}
	if cfg.MakeCall == nil && cfg.ChangeStatus == nil && cfg.Recording == nil {
		return nil, errors.New("retailcrm: NewCallbackHandler: MakeCall, ChangeStatus and Recording are all nil")
	}
	sum := sha256.Sum256([]byte(cfg.ClientID))
	h := &callbackHandler{cfg: cfg, digest: sum[:], red: redact.New(cfg.ClientID)}
	h.cfg.ClientID = "" // compared through its digest
	return &voip.Webhook{Serve: h.serve, Methods: []string{http.MethodGet}, Logger: cfg.Logger}, nil
}

type callbackHandler struct {
	cfg    CallbackConfig
	digest []byte // SHA-256 of the ClientID
	red    *redact.Redactor
}

func (h *callbackHandler) serve(w http.ResponseWriter, r *http.Request, _ []byte) error {
	// The clientId is checked first: a caller without it learns nothing
	// about the rest of the query. ParseQuery keeps what it could read.
	q, _ := url.ParseQuery(r.URL.RawQuery)
	switch ids := q["clientId"]; len(ids) {
	case 0:
		return &voip.WebhookError{Status: http.StatusUnauthorized, Message: "clientId is missing", Err: voip.ErrUnverified}
	case 1:
		got := sha256.Sum256([]byte(ids[0]))
		if subtle.ConstantTimeCompare(got[:], h.digest) != 1 {
			return &voip.WebhookError{Status: http.StatusForbidden, Message: "wrong clientId", Err: voip.ErrUnverified}
		}
	default:
		return &voip.WebhookError{Status: http.StatusUnauthorized, Message: "clientId given more than once", Err: voip.ErrUnverified}
	}
	cb, err := readCallback(r.URL.RawQuery)
	if err != nil {
		return err
	}
	ctx := r.Context()
	switch cb.kind {
	case kindMakeCall:
		if h.cfg.MakeCall == nil {
			return notServed()
		}
		if err := h.cfg.MakeCall(ctx, cb.call); err != nil {
			return h.failed("makeCall", err)
		}
	case kindStatus:
		if h.cfg.ChangeStatus == nil {
			return notServed()
		}
		if err := h.cfg.ChangeStatus(ctx, cb.status); err != nil {
			return h.failed("changeStatus", err)
		}
	default:
		if h.cfg.Recording == nil {
			return notServed()
		}
		u := *r.URL
		u.RawQuery = cb.rest.Encode()
		body, contentType, err := h.cfg.Recording(ctx, RecordingRequest{ClientID: cb.clientID, URL: &u})
		if err != nil {
			if errors.Is(err, voip.ErrNotFound) {
				return &voip.WebhookError{Status: http.StatusNotFound, Message: "recording not found", Err: h.red.Error(err)}
			}
			return h.failed("recording", err)
		}
		if body == nil {
			return h.failed("recording", errors.New("retailcrm: Recording returned no body"))
		}
		defer body.Close()
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		if _, err := io.Copy(w, body); err != nil {
			return h.red.Error(err) // logged; the status is gone
		}
		return nil
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// failed is the 500 of a function that failed, its error redacted.
func (h *callbackHandler) failed(what string, err error) error {
	return &voip.WebhookError{Status: http.StatusInternalServerError, Message: what + " failed", Err: h.red.Error(err)}
}

func notServed() error {
	return &voip.WebhookError{Status: http.StatusNotFound, Message: "callback not served", Err: errNoFunc}
}
