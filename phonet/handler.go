package phonet

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/pbxkit/pbxkit/internal/hook"
	"github.com/pbxkit/pbxkit/voip"
)

// WebhookConfig configures [NewWebhookHandler]. At least one of the
// callbacks (Update, Event, Lookup, Record) must be set; the others may be
// nil. Every other field's zero value is its default.
type WebhookConfig struct {
	// Update receives call events as voip.Event (pauses and unknown types
	// have no voip form) and finished calls as voip.Call. An error makes
	// the reply 500, so that Phonet delivers again. Default nil: nothing
	// receives them in the neutral form.
	Update voip.UpdateFunc
	// Event receives every event, typed: calls, pauses (see
	// [Event.Presence]) and unknown types. It runs before Update; an error
	// makes the reply 500. Default nil.
	Event func(ctx context.Context, ev *Event) error
	// Lookup answers the client-card lookup. It sits in the ringing path:
	// answer fast. A nil card replies a card of nulls; so does a nil Lookup
	// (the default).
	Lookup func(ctx context.Context, req LookupRequest) (*Card, error)
	// Record receives the full information of a finished call, the
	// cabinet's «Передача повної інформації про дзвінок» URL (see
	// [Webhook].Record). Update then receives it as a voip.Call. An error
	// makes the reply 500. Default nil.
	Record func(ctx context.Context, r Record) error

	// Token, when set, must be the value of the query parameter TokenParam
	// of the URL configured in Phonet, compared in constant time: Phonet
	// signs nothing, so a secret URL is the usual guard. Default "": no
	// token is checked.
	Token string
	// TokenParam names the query parameter that carries Token; default
	// [DefaultTokenParam], "token". It is never part of a delivery, nor of
	// its Raw, even on GET, where the other query parameters are the
	// delivery.
	TokenParam string
	// AllowFrom, when set, is the only source addresses accepted, such as
	// [PhonetAddresses]. Default nil: any address.
	AllowFrom []netip.Prefix
	// TrustedProxies are the proxies in front of this server whose
	// X-Forwarded-For is believed. Default nil: the peer address is the
	// source and X-Forwarded-For is ignored.
	TrustedProxies []netip.Prefix

	// DedupeWindow is how long a delivery is remembered to drop Phonet's
	// duplicates: an event by (uuid, event), a finished call by uuid.
	// Default voip.DefaultDedupeWindow (10 min); negative disables
	// deduplication.
	DedupeWindow time.Duration
	// Memory is where deliveries are remembered. Default a voip.LocalMemory
	// of the handler's own. Share one Memory between the handlers of a
	// process, and a distributed one between replicas behind a load
	// balancer: with a Memory each, a duplicate that lands on another
	// replica is delivered again. An error of the Memory makes the reply
	// 500.
	Memory voip.Memory
	// MaxBody caps a body; default voip.DefaultWebhookMaxBody (1 MiB).
	MaxBody int64
	// Logger receives one line per rejected request; default nil, silent.
	Logger *slog.Logger
}

type webhookServer struct {
	cfg   WebhookConfig
	token [sha256.Size]byte
	mem   hook.Memory
}

// NewWebhookHandler returns the http.Handler for the URLs configured in
// Phonet's «Інша CRM система» page: one URL can take them all. It accepts
// POST (and GET, with the fields in the query), JSON or form bodies. A call
// event, or a finished call's full information, is answered 200 [] once
// the callbacks succeeded; a lookup with the card. A duplicate within the
// dedupe window is answered 200 without calling back. A failed token or
// address check is 401; a body that cannot be read, or that is neither an
// event, a lookup nor a finished call, is 400 and calls nothing.
//
// A config without any callback, or with an invalid address prefix, is an
// error.
func NewWebhookHandler(cfg WebhookConfig) (http.Handler, error) {
	if cfg.Update == nil && cfg.Event == nil && cfg.Lookup == nil && cfg.Record == nil {
		return nil, errors.New("phonet: NewWebhookHandler: no callback: set Update, Event, Lookup or Record")
	}
	if cfg.TokenParam == "" {
		cfg.TokenParam = DefaultTokenParam
	}
	for _, p := range append(append([]netip.Prefix(nil), cfg.AllowFrom...), cfg.TrustedProxies...) {
		if !p.IsValid() {
			return nil, fmt.Errorf("phonet: NewWebhookHandler: invalid prefix %v", p)
		}
	}
	s := &webhookServer{cfg: cfg, token: sha256.Sum256([]byte(cfg.Token)), mem: hook.NewMemory(cfg.Memory, cfg.DedupeWindow)}
	return &voip.Webhook{
		Methods: []string{http.MethodPost, http.MethodGet},
		MaxBody: cfg.MaxBody,
		Logger:  cfg.Logger,
		Serve:   s.serve,
	}, nil
}

// errToken and errAddress are the verification failures; they never quote
// the token.
var (
	errToken   = fmt.Errorf("%w: wrong or missing URL token", voip.ErrUnverified)
	errAddress = fmt.Errorf("%w: source address not allowed", voip.ErrUnverified)
)

func (s *webhookServer) serve(w http.ResponseWriter, r *http.Request, body []byte) error {
	if err := s.verify(r); err != nil {
		return err
	}
	contentType, body := deliveryBody(r, body, s.cfg.TokenParam)
	d, err := parseWebhook(contentType, body, time.Now())
	if err != nil {
		return err
	}
	ctx := r.Context()
	switch {
	case d.Lookup != nil:
		var card *Card
		if s.cfg.Lookup != nil {
			if card, err = s.cfg.Lookup(ctx, *d.Lookup); err != nil {
				return err
			}
		}
		if card == nil {
			card = &Card{}
		}
		voip.WriteJSON(w, http.StatusOK, card)
		return nil
	case d.Record != nil:
		err = s.once(ctx, deliveryKey("record", d.Record.UUID, ""), func() error { return s.recordCallbacks(ctx, d.Record) })
	default:
		err = s.once(ctx, deliveryKey("delivery", d.Event.UUID, d.Event.Type), func() error { return s.callbacks(ctx, d.Event) })
	}
	if err != nil {
		return err
	}
	voip.WriteJSON(w, http.StatusOK, []struct{}{})
	return nil
}

// verify checks the URL token and the source address, when configured.
func (s *webhookServer) verify(r *http.Request) error {
	if s.cfg.Token != "" {
		got := sha256.Sum256([]byte(queryParam(r.URL, s.cfg.TokenParam)))
		if subtle.ConstantTimeCompare(got[:], s.token[:]) != 1 {
			return errToken
		}
	}
	if len(s.cfg.AllowFrom) > 0 {
		addr, ok := clientAddr(r, s.cfg.TrustedProxies)
		if !ok || !inAny(addr, s.cfg.AllowFrom) {
			return errAddress
		}
	}
	return nil
}

func queryParam(u *url.URL, name string) string {
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return ""
	}
	return q.Get(name)
}

// once runs deliver unless the delivery under key was handled within the
// window. A failed delivery is forgotten, so that Phonet's retry of it is
// not mistaken for a duplicate.
func (s *webhookServer) once(ctx context.Context, key string, deliver func() error) error {
	_, err := s.mem.Once(ctx, key, deliver)
	return err
}

// deliveryKey is the memory key of a delivery about call uuid: kind
// "delivery" with the event type for an event, "record" for a finished
// call. A delivery without uuid cannot be told from another: its key is
// "", which is always delivered.
func deliveryKey(kind, uuid string, event EventType) string {
	if uuid == "" {
		return ""
	}
	parts := [][]byte{[]byte(NormalizeUUID(uuid))}
	if event != "" {
		parts = append(parts, []byte(event))
	}
	return hook.Key(Vendor, kind, parts...)
}

func (s *webhookServer) callbacks(ctx context.Context, ev *Event) error {
	if s.cfg.Event != nil {
		if err := s.cfg.Event(ctx, ev); err != nil {
			return err
		}
	}
	if s.cfg.Update != nil {
		if v, ok := ev.Voip(); ok {
			return s.cfg.Update(ctx, voip.Update{Event: &v})
		}
	}
	return nil
}

func (s *webhookServer) recordCallbacks(ctx context.Context, r *Record) error {
	if s.cfg.Record != nil {
		if err := s.cfg.Record(ctx, *r); err != nil {
			return err
		}
	}
	if s.cfg.Update != nil {
		c := r.Call()
		return s.cfg.Update(ctx, voip.Update{Call: &c})
	}
	return nil
}
