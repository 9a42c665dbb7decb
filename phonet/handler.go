package phonet

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/pbxkit/pbxkit/internal/ttlset"
	"github.com/pbxkit/pbxkit/voip"
)

// DefaultDedupeWindow is how long a (uuid, event) pair is remembered to
// drop Phonet's duplicate deliveries.
const DefaultDedupeWindow = 10 * time.Minute

// maxDedupeKeys bounds the dedupe memory whatever the traffic.
const maxDedupeKeys = 100_000

// WebhookConfig configures [NewWebhookHandler]. Every callback may be nil.
type WebhookConfig struct {
	// Update receives call events as voip.Event (pauses and unknown types
	// have no voip form) and finished calls as voip.Call. An error makes
	// the reply 500.
	Update voip.UpdateFunc
	// Event receives every event, typed: calls, pauses (see
	// [Event.Presence]) and unknown types. It runs before Update.
	Event func(ctx context.Context, ev *Event) error
	// Lookup answers the client-card lookup. It sits in the ringing path:
	// answer fast. A nil card (or a nil Lookup) replies a card of nulls.
	Lookup func(ctx context.Context, req LookupRequest) (*Card, error)
	// Record receives the full information of a finished call, the
	// cabinet's «Передача повної інформації про дзвінок» URL (see
	// [Webhook].Record). Update then receives it as a voip.Call. An error
	// makes the reply 500.
	Record func(ctx context.Context, r Record) error

	// Token, when set, must be the value of the query parameter TokenParam
	// (default "token") of the URL configured in Phonet, compared in
	// constant time: Phonet signs nothing, so a secret URL is the usual
	// guard.
	Token      string
	TokenParam string
	// AllowFrom, when set, is the only source addresses accepted, such as
	// [PhonetAddresses]. TrustedProxies are the proxies in front of this
	// server whose X-Forwarded-For is believed.
	AllowFrom      []netip.Prefix
	TrustedProxies []netip.Prefix

	// DedupeWindow is how long a (uuid, event) pair is remembered; default
	// DefaultDedupeWindow, negative disables deduplication.
	DedupeWindow time.Duration
	// MaxBody caps a body; default voip.DefaultWebhookMaxBody.
	MaxBody int64
	// Logger receives one line per rejected request; nil is silent.
	Logger *slog.Logger
}

type webhookServer struct {
	cfg    WebhookConfig
	token  [sha256.Size]byte
	seen   *ttlset.Set // nil when deduplication is off
	window time.Duration
}

// NewWebhookHandler returns the http.Handler for the URLs configured in
// Phonet's «Інша CRM система» page: one URL can take them all. It accepts
// POST (and GET, with the fields in the query), JSON or form bodies. A call
// event, or a finished call's full information, is answered 200 [] once
// the callbacks succeeded; a lookup with the card. A duplicate (uuid, event)
// within the window is answered 200 without calling back. A failed token or address check is 401, an unreadable body
// 400.
func NewWebhookHandler(cfg WebhookConfig) (http.Handler, error) {
	if cfg.TokenParam == "" {
		cfg.TokenParam = "token"
	}
	for _, p := range append(append([]netip.Prefix(nil), cfg.AllowFrom...), cfg.TrustedProxies...) {
		if !p.IsValid() {
			return nil, fmt.Errorf("phonet: NewWebhookHandler: invalid prefix %v", p)
		}
	}
	s := &webhookServer{cfg: cfg, token: sha256.Sum256([]byte(cfg.Token))}
	if cfg.DedupeWindow == 0 {
		cfg.DedupeWindow = DefaultDedupeWindow
	}
	if cfg.DedupeWindow > 0 {
		s.seen, s.window = ttlset.New(maxDedupeKeys), cfg.DedupeWindow
	}
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
	contentType := r.Header.Get("Content-Type")
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		q.Del(s.cfg.TokenParam)
		body, contentType = []byte(q.Encode()), "application/x-www-form-urlencoded"
	}
	hook, err := parseWebhook(contentType, body, time.Now())
	if err != nil {
		return err
	}
	ctx := r.Context()
	if hook.Lookup != nil {
		var card *Card
		if s.cfg.Lookup != nil {
			if card, err = s.cfg.Lookup(ctx, *hook.Lookup); err != nil {
				return err
			}
		}
		if card == nil {
			card = &Card{}
		}
		voip.WriteJSON(w, http.StatusOK, card)
		return nil
	}
	if hook.Record != nil {
		if err := s.deliverRecord(ctx, hook.Record); err != nil {
			return err
		}
		voip.WriteJSON(w, http.StatusOK, []struct{}{})
		return nil
	}
	if err := s.deliver(ctx, hook.Event); err != nil {
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

// deliver hands a fresh event to the callbacks. The dedupe key is taken
// before and given back on failure, so that Phonet's retry of a failed
// delivery is not mistaken for a duplicate.
func (s *webhookServer) deliver(ctx context.Context, ev *Event) error {
	key := ""
	if s.seen != nil && ev.UUID != "" {
		key = NormalizeUUID(ev.UUID) + "\x00" + string(ev.Type)
		if !s.seen.Add(key, "", s.window, time.Now()) {
			return nil
		}
	}
	err := s.callbacks(ctx, ev)
	if err != nil && key != "" {
		s.seen.Delete(key)
	}
	return err
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

// deliverRecord hands a finished call to the callbacks, once per uuid
// within the dedupe window, like deliver.
func (s *webhookServer) deliverRecord(ctx context.Context, r *Record) error {
	key := ""
	if s.seen != nil && r.UUID != "" {
		key = NormalizeUUID(r.UUID) + "\x00record"
		if !s.seen.Add(key, "", s.window, time.Now()) {
			return nil
		}
	}
	err := s.recordCallbacks(ctx, r)
	if err != nil && key != "" {
		s.seen.Delete(key)
	}
	return err
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
