package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pbxkit/pbxkit/gravitel"
	"github.com/pbxkit/pbxkit/gravitel/graviteltest"
	"github.com/pbxkit/pbxkit/phonet"
	"github.com/pbxkit/pbxkit/phonet/phonettest"
	"github.com/pbxkit/pbxkit/voip"
)

// webhookPath is where the app takes the PBX's webhooks: the URL to give
// the PBX's cabinet is the app's public address plus this path.
const webhookPath = "/pbx/webhook"

// pbx is one PBX wired for the app: the voip.Provider, and where its live
// events come from, a Source or a webhook handler.
type pbx struct {
	provider voip.Provider
	region   string // how the PBX's national numbers read: "UA", "RU"
	// source opens the live stream of the managers' extensions; nil when
	// webhooks carry the events.
	source func(ctx context.Context, exts []string) (voip.Source, error)
	// webhook builds the handler served at webhookPath: the events where
	// webhooks carry them, and the PBX's "who is calling" lookup, answered
	// from the CRM.
	webhook func(a *app) (http.Handler, error)
	// recordOf finds the record of a call that ended, for a PBX whose
	// events carry no outcome; nil when the record arrives by itself.
	recordOf func(ctx context.Context, end voip.Event) ([]voip.Call, error)
	close    func()
}

// emulation is a pbx on its vendor's emulator, with a call generator.
type emulation struct {
	*pbx
	managers []manager // the demo managers, in their zones
	// target points the emulator's webhooks at the app, once it serves.
	target func(baseURL string, client *http.Client)
	// ask has the PBX ask the app who calls from phone, as it does before
	// it rings anyone; it returns the name and the manager it was given.
	ask func(ctx context.Context, phone string) (name, ext string, err error)
	// play plays a client's call from phone to ext: ringing, then, when
	// talk is not zero, answered, then ended. pace is the pause between
	// steps, for a person watching; zero in tests.
	play func(ctx context.Context, phone, ext string, talk, pace time.Duration) error
	// ring starts a client's call from phone to ext and leaves it ringing;
	// nil where the emulator plays whole calls only (webhooks).
	ring func(phone, ext string)
	// finishPlaced plays the rest of the calls placed by click-to-call:
	// answered, then ended.
	finishPlaced func(ctx context.Context) error
	// placed counts the calls the PBX placed; asked counts the requests to
	// place one it received, failed ones too.
	placed, asked func() int
	// failDial makes the PBX fail the next request to place a call with a
	// 502, after which nobody knows whether the call rings. It and asked
	// are nil where the emulation lacks them (New-Tel, Webitel).
	failDial func()
	// drop cuts the PBX's event stream, as a network failure does; nil
	// when webhooks carry the events.
	drop func()
}

// webhookTarget is where an emulator posts its webhooks (W is its
// Webhooks type): set by emulation.target once the app serves, read by the
// call generator.
type webhookTarget[W any] struct {
	mu    sync.Mutex
	hooks W
	playedOnce
}

func (t *webhookTarget[W]) set(hooks W) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.hooks = hooks
}

func (t *webhookTarget[W]) get() W {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.hooks
}

// playedOnce remembers which calls placed by click-to-call were played to
// their end, so that each is played once.
type playedOnce struct {
	mu     sync.Mutex
	played map[string]bool
}

// firstPlay reports whether the placed call id is played for the first
// time, and notes it.
func (p *playedOnce) firstPlay(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.played == nil {
		p.played = map[string]bool{}
	}
	first := !p.played[id]
	p.played[id] = true
	return first
}

// providers are the PBXs the app speaks to: real ones from the
// environment, emulated ones otherwise.
var providers = map[string]struct {
	env      []string // what a real one needs
	real     func(env func(string) string, logger *slog.Logger) (*pbx, error)
	emulated func(logger *slog.Logger) (*emulation, error)
}{
	"phonet":         {[]string{"PHONET_DOMAIN", "PHONET_API_KEY"}, realPhonet(false), emulatedPhonet(false)},
	"phonet-webhook": {[]string{"PHONET_DOMAIN", "PHONET_API_KEY"}, realPhonet(true), emulatedPhonet(true)},
	"gravitel":       {[]string{"GRAVITEL_ENDPOINT", "GRAVITEL_TOKEN", "GRAVITEL_CRM_TOKEN"}, realGravitel, emulatedGravitel},
	"newtel":         {[]string{"NEWTEL_ACCESS_KEY", "NEWTEL_SIGN_KEY", "NEWTEL_WEBHOOK_KEY"}, realNewtel, emulatedNewtel},
	"webitel":        {[]string{"WEBITEL_URL", "WEBITEL_TOKEN"}, realWebitel, emulatedWebitel},
}

func providerNames() []string {
	names := make([]string, 0, len(providers))
	for n := range providers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// pace waits d, or less when ctx ends first.
func pace(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// phonetCard answers Phonet's client-card lookup from the CRM: the
// customer's name and their manager, to whom Phonet routes the call.
func phonetCard(a *app, req phonet.LookupRequest) *phonet.Card {
	cu, ok := a.crm.customer(req.OtherLegNum)
	if !ok {
		return &phonet.Card{NewEntity: true}
	}
	return &phonet.Card{Name: cu.Name, ResponsibleEmployeeExt: cu.Manager}
}

// phonetPBX wires a Phonet client: its managers' sockets as one Hub, or
// its webhooks; the lookup is served at webhookPath either way, guarded
// by token when set.
func phonetPBX(c *phonet.Client, webhooks bool, token string, logger *slog.Logger, opts ...phonet.StreamOption) *pbx {
	p := &pbx{provider: c, region: "UA", close: func() {},
		recordOf: func(ctx context.Context, end voip.Event) ([]voip.Call, error) { return phonetRecord(ctx, c, end) }}
	p.webhook = func(a *app) (http.Handler, error) {
		cfg := phonet.WebhookConfig{Token: token, Logger: logger,
			Lookup: func(_ context.Context, req phonet.LookupRequest) (*phonet.Card, error) {
				return phonetCard(a, req), nil
			}}
		if webhooks {
			cfg.Update = a.update
		}
		return phonet.NewWebhookHandler(cfg)
	}
	if !webhooks {
		p.source = func(ctx context.Context, exts []string) (voip.Source, error) {
			hub, err := c.Watch(ctx, exts, opts...)
			if err != nil {
				return nil, err
			}
			return hub.Source(), nil
		}
	}
	return p
}

// phonetRecord finds the history record of a call that ended: Phonet
// writes it at about the hangup, so it is looked for a few times.
func phonetRecord(ctx context.Context, c *phonet.Client, end voip.Event) ([]voip.Call, error) {
	id := phonet.NormalizeUUID(end.CallID)
	at := end.At
	if at.IsZero() {
		at = time.Now()
	}
	for _, wait := range []time.Duration{0, time.Second, 2 * time.Second} {
		if err := pace(ctx, wait); err != nil {
			return nil, err
		}
		for rec, err := range c.CompanyCalls(ctx, phonet.HistoryQuery{From: at.Add(-2 * time.Hour)}) {
			if err != nil {
				return nil, err
			}
			if call := rec.Call(); phonet.NormalizeUUID(call.ID) == id {
				return []voip.Call{call}, nil
			}
		}
	}
	return nil, fmt.Errorf("phonet: call %s is not in the history: %w", end.CallID, voip.ErrNotFound)
}

func realPhonet(webhooks bool) func(env func(string) string, logger *slog.Logger) (*pbx, error) {
	return func(env func(string) string, logger *slog.Logger) (*pbx, error) {
		c, err := phonet.New(env("PHONET_DOMAIN"), env("PHONET_API_KEY"), phonet.WithLogger(logger))
		if err != nil {
			return nil, err
		}
		return phonetPBX(c, webhooks, env("PHONET_WEBHOOK_TOKEN"), logger), nil
	}
}

func emulatedPhonet(webhooks bool) func(logger *slog.Logger) (*emulation, error) {
	return func(logger *slog.Logger) (*emulation, error) {
		const apiKey = "demo-api-key"
		srv := phonettest.NewServer(apiKey)
		c, err := phonet.New(srv.Domain, apiKey, phonet.WithBaseURL(srv.BaseURL()), phonet.WithLogger(logger))
		if err != nil {
			srv.Close()
			return nil, err
		}
		p := phonetPBX(c, webhooks, "", logger, phonet.WithBackoff(20*time.Millisecond, 200*time.Millisecond))
		p.close = srv.Close
		e := &emulation{pbx: p, managers: []manager{
			{Ext: "001", Name: "Иван Иванов", Zone: mustZone("Europe/Kyiv")},
			{Ext: "002", Name: "Петр Петров", Zone: mustZone("Europe/Moscow")},
		}}
		var hooks webhookTarget[phonettest.Webhooks]
		e.target = func(base string, client *http.Client) {
			hooks.set(phonettest.Webhooks{URL: base + webhookPath, Client: client})
		}
		target := hooks.get
		e.ask = func(ctx context.Context, phone string) (string, string, error) {
			body, err := target().Send(ctx, phonettest.LookupWebhook(phone, phonettest.DefaultTrunk))
			if err != nil {
				return "", "", err
			}
			var card struct {
				Name *string `json:"name"`
				Ext  *string `json:"responsibleEmployeeExt"`
			}
			if err := json.Unmarshal(body, &card); err != nil {
				return "", "", err
			}
			return deref(card.Name), deref(card.Ext), nil
		}
		if webhooks {
			e.play = func(ctx context.Context, phone, ext string, talk, _ time.Duration) error {
				_, err := srv.PlayInbound(ctx, target(), phonettest.InboundCall{Client: phone, Ext: ext, Ring: 4 * time.Second, Talk: talk})
				return err
			}
			e.finishPlaced = func(ctx context.Context) error {
				for _, pc := range srv.Calls() {
					if hooks.firstPlay(pc.UUID) {
						if err := srv.PlayOutbound(ctx, target(), pc, 5*time.Second, 38*time.Second); err != nil {
							return err
						}
					}
				}
				return nil
			}
		} else {
			e.play = func(ctx context.Context, phone, ext string, talk, step time.Duration) error {
				id := srv.Incoming(ext, phone)
				if err := pace(ctx, step); err != nil {
					return err
				}
				if talk > 0 {
					srv.Answer(id)
					if err := pace(ctx, step); err != nil {
						return err
					}
				}
				srv.Hangup(id)
				return nil
			}
			e.finishPlaced = func(context.Context) error {
				for _, pc := range srv.Calls() {
					if hooks.firstPlay(pc.UUID) {
						srv.Answer(pc.UUID)
						srv.Hangup(pc.UUID)
					}
				}
				return nil
			}
			e.drop = srv.DropSockets
			e.ring = func(phone, ext string) { srv.Incoming(ext, phone) }
			open := p.source
			p.source = func(ctx context.Context, exts []string) (voip.Source, error) {
				src, err := open(ctx, exts)
				if err != nil {
					return nil, err
				}
				// Calls rung before a socket is registered reach nobody.
				if err := srv.AwaitSockets(ctx, len(exts)); err != nil {
					_ = src.Close()
					return nil, err
				}
				return src, nil
			}
		}
		e.placed = func() int { return len(srv.Calls()) }
		e.asked = func() int {
			n := 0
			for _, r := range srv.Requests() {
				if r.Path == "/rest/user/makeCall" {
					n++
				}
			}
			return n
		}
		e.failDial = func() { srv.Fail("/rest/user/makeCall", http.StatusBadGateway, "<html>Bad Gateway</html>") }
		return e, nil
	}
}

// gravitelPBX wires a Gravitel client: its webhooks carry the events and
// the records, and the contact lookup is answered from the CRM.
func gravitelPBX(c *gravitel.Client, crmToken string, logger *slog.Logger) *pbx {
	return &pbx{provider: c, region: "RU", close: func() {},
		webhook: func(a *app) (http.Handler, error) {
			return gravitel.NewWebhookHandler(gravitel.WebhookConfig{
				CRMToken: crmToken, Logger: logger, Update: a.update,
				Contact: func(_ context.Context, w *gravitel.Webhook) (*gravitel.Contact, error) {
					cu, ok := a.crm.customer(w.Phone)
					if !ok {
						return nil, nil // an unknown caller: {}
					}
					return &gravitel.Contact{Name: cu.Name, Responsible: cu.Manager}, nil
				},
			})
		}}
}

func realGravitel(env func(string) string, logger *slog.Logger) (*pbx, error) {
	c, err := gravitel.New(env("GRAVITEL_ENDPOINT"), env("GRAVITEL_TOKEN"), gravitel.WithLogger(logger))
	if err != nil {
		return nil, err
	}
	return gravitelPBX(c, env("GRAVITEL_CRM_TOKEN"), logger), nil
}

func emulatedGravitel(logger *slog.Logger) (*emulation, error) {
	const pbxKey, crmKey = "pbx-key-demo", "crm-key-demo"
	srv := graviteltest.NewServer(pbxKey)
	c, err := gravitel.New(srv.BaseURL(), pbxKey, gravitel.WithLogger(logger))
	if err != nil {
		srv.Close()
		return nil, err
	}
	p := gravitelPBX(c, crmKey, logger)
	p.close = srv.Close
	e := &emulation{pbx: p, managers: []manager{
		{Ext: "701", Name: "Администратор", Zone: mustZone("Europe/Moscow")},
		{Ext: "702", Name: "Иван", Zone: mustZone("Asia/Yekaterinburg")},
	}}
	var hooks webhookTarget[graviteltest.Webhooks]
	e.target = func(base string, client *http.Client) {
		hooks.set(graviteltest.Webhooks{URL: base + webhookPath, CRMToken: crmKey, Client: client})
	}
	target := hooks.get
	e.ask = func(ctx context.Context, phone string) (string, string, error) {
		return target().SendContact(ctx, strings.TrimPrefix(phone, "+"), "lookup-demo")
	}
	e.play = func(ctx context.Context, phone, ext string, talk, _ time.Duration) error {
		_, err := srv.PlayInbound(ctx, target(), graviteltest.InboundCall{Client: phone, Ext: ext, Ring: 4 * time.Second, Talk: talk})
		return err
	}
	e.finishPlaced = func(ctx context.Context) error {
		for _, pc := range srv.Calls() {
			if hooks.firstPlay(pc.UUID) {
				if err := srv.PlayOutbound(ctx, target(), pc, 5*time.Second, 38*time.Second); err != nil {
					return err
				}
			}
		}
		return nil
	}
	e.placed = func() int { return len(srv.Calls()) }
	e.asked = func() int {
		n := 0
		for _, r := range srv.Requests() {
			if r.Cmd == "makeCall" {
				n++
			}
		}
		return n
	}
	e.failDial = func() { srv.Fail("makeCall", http.StatusBadGateway, "<html>Bad Gateway</html>") }
	return e, nil
}

// mustZone loads a zone of the embedded database (time/tzdata).
func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return z
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
