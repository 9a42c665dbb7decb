package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/newtel"
	"github.com/pbxkit/pbxkit/newtel/newteltest"
	"github.com/pbxkit/pbxkit/voip"
	"github.com/pbxkit/pbxkit/webitel"
	"github.com/pbxkit/pbxkit/webitel/webiteltest"
)

// webitelPBX wires a Webitel client: an engine socket carries its own
// user's calls only, so each operator's token opens one, and they are
// merged; c, with the integration token, places the calls and reads the
// history.
func webitelPBX(c *webitel.Client, tokens []string, logger *slog.Logger, opts ...webitel.StreamOption) *pbx {
	return &pbx{provider: c, region: "UA", close: func() {},
		source: func(ctx context.Context, _ []string) (voip.Source, error) {
			return webitelSockets(ctx, c.BaseURL(), tokens, logger, opts...)
		},
		recordOf: func(ctx context.Context, end voip.Event) ([]voip.Call, error) { return webitelRecord(ctx, c, end) },
	}
}

// webitelSockets opens the socket of each token. A socket is named after
// its user's extension, never after its token.
func webitelSockets(ctx context.Context, baseURL string, tokens []string, logger *slog.Logger, opts ...webitel.StreamOption) (voip.Source, error) {
	var (
		srcs  []voip.Source
		names []string
	)
	for i, tok := range tokens {
		name := fmt.Sprintf("operator token %d", i+1)
		c, err := webitel.New(baseURL, tok, webitel.WithLogger(logger))
		if err == nil {
			var u *webitel.UserInfo
			if u, err = c.UserInfo(ctx); err == nil && u.Extension != "" {
				name = u.Extension
			}
		}
		var st *webitel.Stream
		if err == nil {
			st, err = c.Subscribe(ctx, opts...)
		}
		if err != nil {
			for _, s := range srcs {
				_ = s.Close()
			}
			return nil, fmt.Errorf("the socket of %s: %w", name, err)
		}
		srcs, names = append(srcs, st.Source()), append(names, name)
	}
	named := make(map[string]voip.Source, len(srcs))
	for i, src := range srcs {
		name := names[i]
		if _, taken := named[name]; taken {
			name = fmt.Sprintf("%s (%d)", name, i+1)
		}
		named[name] = src
	}
	return voip.Merge(named), nil
}

// webitelRecord finds the history record of a call that ended: Webitel
// stores it at about the hangup, so it is looked for a few times.
func webitelRecord(ctx context.Context, c *webitel.Client, end voip.Event) ([]voip.Call, error) {
	for _, wait := range []time.Duration{0, 500 * time.Millisecond, time.Second, 2 * time.Second} {
		if err := pace(ctx, wait); err != nil {
			return nil, err
		}
		for rec, err := range c.History(ctx, webitel.HistoryQuery{IDs: []string{end.CallID}}) {
			if err != nil {
				return nil, err
			}
			if rec.ID == end.CallID {
				return []voip.Call{rec.Call()}, nil
			}
		}
	}
	return nil, fmt.Errorf("webitel: call %s is not in the history: %w", end.CallID, voip.ErrNotFound)
}

func realWebitel(env func(string) string, logger *slog.Logger) (*pbx, error) {
	c, err := webitel.New(env("WEBITEL_URL"), env("WEBITEL_TOKEN"), webitel.WithLogger(logger))
	if err != nil {
		return nil, err
	}
	tokens := splitList(env("WEBITEL_TOKENS"))
	if len(tokens) == 0 {
		tokens = []string{env("WEBITEL_TOKEN")}
	}
	return webitelPBX(c, tokens, logger), nil
}

func emulatedWebitel(logger *slog.Logger) (*emulation, error) {
	const token = "integration-token-demo" // user 1's, ext 101
	srv := webiteltest.NewServer(token)
	// Only licensed users may open the socket: a second operator.
	second := srv.AddUser(webiteltest.User{Name: "Оксана Мельник", Username: "oksana", Email: "oksana@demo.example",
		Extension: "104", Licensed: true})
	c, err := webitel.New(srv.BaseURL(), token, webitel.WithLogger(logger))
	if err != nil {
		srv.Close()
		return nil, err
	}
	p := webitelPBX(c, []string{token, srv.TokenFor(second.ID)}, logger, webitel.WithBackoff(20*time.Millisecond, 200*time.Millisecond))
	p.close = srv.Close
	e := &emulation{pbx: p, managers: []manager{
		{Ext: "101", Name: "Іван Петренко", Zone: mustZone("Europe/Kyiv")},
		{Ext: "104", Name: "Оксана Мельник", Zone: mustZone("Europe/Warsaw")},
	}}
	var placed playedOnce
	e.target = func(string, *http.Client) {}
	e.ask = func(_ context.Context, phone string) (string, string, error) {
		return "", "", fmt.Errorf("webitel asks no CRM who calls from %s: %w", phone, voip.ErrNotSupported)
	}
	e.play = func(ctx context.Context, phone, ext string, talk, step time.Duration) error {
		id := srv.Incoming(ext, phone)
		if id == "" {
			return fmt.Errorf("webiteltest: no user with ext %q", ext)
		}
		if err := pace(ctx, step); err != nil {
			return err
		}
		if talk > 0 {
			srv.Answer(id)
			if err := pace(ctx, step); err != nil {
				return err
			}
		}
		srv.Hangup(id, "")
		return nil
	}
	e.ring = func(phone, ext string) { srv.Incoming(ext, phone) }
	e.finishPlaced = func(context.Context) error {
		for _, pc := range srv.Calls() {
			if placed.firstPlay(pc.ID) {
				srv.Answer(pc.ID)
				srv.Hangup(pc.ID, "")
			}
		}
		return nil
	}
	e.placed = func() int { return len(srv.Calls()) }
	e.drop = srv.DropSockets
	open := p.source
	p.source = func(ctx context.Context, exts []string) (voip.Source, error) {
		src, err := open(ctx, exts)
		if err != nil {
			return nil, err
		}
		if err := srv.AwaitSockets(ctx, 2); err != nil {
			_ = src.Close()
			return nil, err
		}
		return src, nil
	}
	return e, nil
}

// newtelPBX wires a New-Tel client: its signed webhooks carry the events,
// and the records on the *CallEnd ones. An inbound call names the
// extension it rings in ringingStart only, which has no neutral form: it
// is the call's Start on that manager's page.
func newtelPBX(c *newtel.Client, key string, logger *slog.Logger) *pbx {
	return &pbx{provider: c, region: "RU", close: func() {},
		webhook: func(a *app) (http.Handler, error) {
			return newtel.NewWebhookHandler(newtel.WebhookConfig{Key: key, Logger: logger, Update: a.update,
				Other: func(_ context.Context, w *newtel.Webhook) error {
					if w.Name == newtel.EventRingingStart && w.RingingNumber != "" {
						at := w.Time
						if at.IsZero() {
							at = w.ReceivedAt
						}
						a.event(voip.Event{Kind: voip.EventStart, Vendor: newtel.Vendor, CallID: w.CallID,
							Direction: voip.DirectionIn, Client: voip.Party(w.CLID, "RU"), Ext: w.RingingNumber,
							Line: voip.Party(w.DNID, "RU"), At: at})
					}
					return nil
				}})
		}}
}

func realNewtel(env func(string) string, logger *slog.Logger) (*pbx, error) {
	c, err := newtel.New(env("NEWTEL_ACCESS_KEY"), env("NEWTEL_SIGN_KEY"), newtel.WithLogger(logger))
	if err != nil {
		return nil, err
	}
	return newtelPBX(c, env("NEWTEL_WEBHOOK_KEY"), logger), nil
}

func emulatedNewtel(logger *slog.Logger) (*emulation, error) {
	const accessKey, signKey = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071", "f9e8d7c6b5a4938271605f4e3d2c1b0af9e8d7c6b5a49382"
	const hookKey = "webhook-key-demo"
	srv := newteltest.NewServer(accessKey, signKey)
	c, err := newtel.New(accessKey, signKey, newtel.WithBaseURL(srv.BaseURL()), newtel.WithLogger(logger))
	if err != nil {
		srv.Close()
		return nil, err
	}
	p := newtelPBX(c, hookKey, logger)
	p.close = srv.Close
	e := &emulation{pbx: p, managers: []manager{
		{Ext: "101", Name: "Мария Кузнецова", Zone: mustZone("Europe/Moscow")},
		{Ext: "102", Name: "Дмитрий Орлов", Zone: mustZone("Asia/Novosibirsk")},
	}}
	var hooks webhookTarget[newteltest.Webhooks]
	e.target = func(base string, client *http.Client) {
		hooks.set(newteltest.Webhooks{URL: base + webhookPath, Key: hookKey, Client: client})
	}
	target := hooks.get
	e.ask = func(_ context.Context, phone string) (string, string, error) {
		return "", "", fmt.Errorf("new-tel asks no CRM who calls from %s: %w", phone, voip.ErrNotSupported)
	}
	e.play = func(ctx context.Context, phone, ext string, talk, _ time.Duration) error {
		_, err := srv.PlayInbound(ctx, target(), newteltest.InboundCall{Client: strings.TrimPrefix(phone, "+"), Ext: ext,
			Ring: 4 * time.Second, Talk: talk})
		return err
	}
	e.finishPlaced = func(ctx context.Context) error {
		for _, pc := range srv.Calls() {
			if hooks.firstPlay(pc.CallID) {
				if err := srv.PlayOutbound(ctx, target(), pc, 5*time.Second, 38*time.Second); err != nil {
					return err
				}
			}
		}
		return nil
	}
	e.placed = func() int { return len(srv.Calls()) }
	return e, nil
}

// splitList splits a comma-separated list, without blanks.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
