package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/gravitel"
	"github.com/pbxkit/pbxkit/newtel"
	"github.com/pbxkit/pbxkit/phonet"
	"github.com/pbxkit/pbxkit/retailcrm"
	"github.com/pbxkit/pbxkit/voip"
	"github.com/pbxkit/pbxkit/webitel"
)

// pbx is one provider wired for the bridge: the voip.Provider, where its
// live updates come from (a webhook handler or a socket), and what the
// voip contract lacks (DND, an authenticated recording download, the record
// of a call whose events carry none).
type pbx struct {
	name     string
	provider voip.Provider
	// webhook builds the handler of the PBX's webhooks, served at
	// webhookPath, with who asks the CRM who is calling where the PBX
	// looks callers up; nil for a socket provider.
	webhook func(update voip.UpdateFunc, who lookup) (http.Handler, error)
	// source opens the live socket; nil for a webhook provider.
	source        func(ctx context.Context) (voip.Source, error)
	setDND        func(ctx context.Context, m voip.Member, on bool) error
	openRecording func(ctx context.Context, c voip.Call, link string) (io.ReadCloser, string, error)
	finished      func(ctx context.Context, end voip.Event) ([]voip.Call, error)
	close         func()
}

// lookup asks the CRM who is calling (retailcrm.Bridge.Caller).
type lookup func(ctx context.Context, phone string) (retailcrm.Caller, error)

// lookupTimeout bounds a lookup, which sits in the ringing path.
const lookupTimeout = 2 * time.Second

// kit makes a provider for real credentials and on its emulator.
type kit struct {
	real     func(ctx context.Context, env func(string) string, logger *slog.Logger) (*pbx, error)
	emulated func(ctx context.Context, logger *slog.Logger) (*emulation, error)
}

// providers are the PBXs the bridge speaks to.
var providers = map[string]kit{
	"gravitel":       {real: realGravitel, emulated: emulatedGravitel},
	"phonet":         {real: realPhonetSocket, emulated: emulatedPhonetSocket},
	"phonet-webhook": {real: realPhonetWebhook, emulated: emulatedPhonetWebhook},
	"newtel":         {real: realNewtel, emulated: emulatedNewtel},
	"webitel":        {real: realWebitel, emulated: emulatedWebitel},
}

func providerNames() []string {
	var names []string
	for n := range providers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// need returns the named variables, or an error naming those missing.
func need(env func(string) string, names ...string) ([]string, error) {
	var vals, missing []string
	for _, n := range names {
		v := env(n)
		if v == "" {
			missing = append(missing, n)
		}
		vals = append(vals, v)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("set %s", strings.Join(missing, ", "))
	}
	return vals, nil
}

// Gravitel: webhooks (events and the history of each call), DND.

func realGravitel(_ context.Context, env func(string) string, logger *slog.Logger) (*pbx, error) {
	v, err := need(env, "GRAVITEL_ENDPOINT", "GRAVITEL_TOKEN", "GRAVITEL_CRM_TOKEN")
	if err != nil {
		return nil, err
	}
	c, err := gravitel.New(v[0], v[1], gravitel.WithLogger(logger))
	if err != nil {
		return nil, err
	}
	return gravitelPBX(c, v[2], logger), nil
}

func gravitelPBX(c *gravitel.Client, crmToken string, logger *slog.Logger) *pbx {
	return &pbx{
		name: "gravitel", provider: c, close: func() {},
		webhook: func(update voip.UpdateFunc, who lookup) (http.Handler, error) {
			return gravitel.NewWebhookHandler(gravitel.WebhookConfig{
				CRMToken: crmToken, Update: update, Logger: logger,
				// The caller's name on the employee's phone, and the call
				// routed to the client's manager.
				Contact: func(ctx context.Context, w *gravitel.Webhook) (*gravitel.Contact, error) {
					ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
					defer cancel()
					c, err := who(ctx, w.Phone)
					if err != nil || (!c.Known && c.Ext == "") {
						return nil, nil // an unknown caller: the call goes on as usual
					}
					return &gravitel.Contact{Name: c.Name, Responsible: c.Ext}, nil
				},
			})
		},
		// Gravitel names a user by login: Members gives it as ID.
		setDND: func(ctx context.Context, m voip.Member, on bool) error { return c.SetDND(ctx, m.ID, on) },
	}
}

// Phonet: a socket per manager (a Hub) or webhooks; either way the record
// of a call comes from the history, and the recording through the API.

func phonetClient(env func(string) string, logger *slog.Logger) (*phonet.Client, error) {
	v, err := need(env, "PHONET_DOMAIN", "PHONET_API_KEY")
	if err != nil {
		return nil, err
	}
	return phonet.New(v[0], v[1], phonet.WithLogger(logger))
}

func realPhonetSocket(ctx context.Context, env func(string) string, logger *slog.Logger) (*pbx, error) {
	c, err := phonetClient(env, logger)
	if err != nil {
		return nil, err
	}
	var subs []string
	for s := range strings.SplitSeq(env("PHONET_SUBSCRIBERS"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			subs = append(subs, s)
		}
	}
	if len(subs) == 0 {
		members, err := c.Members(ctx)
		if err != nil {
			return nil, err
		}
		for _, m := range members {
			subs = append(subs, m.Ext)
		}
	}
	return phonetSocketPBX(c, subs), nil
}

func phonetSocketPBX(c *phonet.Client, subscribers []string) *pbx {
	p := phonetPBX(c)
	p.name = "phonet (sockets)"
	p.source = func(ctx context.Context) (voip.Source, error) {
		hub, err := c.Watch(ctx, subscribers)
		if err != nil {
			return nil, err
		}
		return hub.Source(), nil
	}
	return p
}

func realPhonetWebhook(_ context.Context, env func(string) string, logger *slog.Logger) (*pbx, error) {
	c, err := phonetClient(env, logger)
	if err != nil {
		return nil, err
	}
	v, err := need(env, "PHONET_WEBHOOK_TOKEN")
	if err != nil {
		return nil, err
	}
	return phonetWebhookPBX(c, v[0], logger), nil
}

func phonetWebhookPBX(c *phonet.Client, token string, logger *slog.Logger) *pbx {
	p := phonetPBX(c)
	p.name = "phonet (webhooks)"
	p.webhook = func(update voip.UpdateFunc, who lookup) (http.Handler, error) {
		return phonet.NewWebhookHandler(phonet.WebhookConfig{
			Update: update, Token: token, Logger: logger,
			// The client card and the call routed to the client's manager.
			Lookup: func(ctx context.Context, req phonet.LookupRequest) (*phonet.Card, error) {
				if req.OtherLegNum == "" {
					return nil, nil // a hidden number
				}
				ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
				defer cancel()
				c, err := who(ctx, req.OtherLegNum)
				if err != nil {
					return nil, nil // a card of nulls: the call goes on as usual
				}
				return &phonet.Card{Name: c.Name, URL: c.Link, NewEntity: !c.Known, ResponsibleEmployeeExt: c.Ext}, nil
			},
		})
	}
	return p
}

func phonetPBX(c *phonet.Client) *pbx {
	return &pbx{
		provider: c, close: func() {},
		finished: func(ctx context.Context, end voip.Event) ([]voip.Call, error) {
			return phonetRecord(ctx, c, end)
		},
		openRecording: func(ctx context.Context, call voip.Call, _ string) (io.ReadCloser, string, error) {
			return download(func(w io.Writer) error {
				_, err := c.DownloadRecording(ctx, call.ID, phonet.ChannelMixed, w)
				return err
			}, "")
		},
	}
}

// phonetRecord finds the history record of a call that ended: Phonet
// writes it at about the hangup, so it is looked for a few times.
func phonetRecord(ctx context.Context, c *phonet.Client, end voip.Event) ([]voip.Call, error) {
	ids := []string{phonet.NormalizeUUID(end.CallID)}
	if end.ParentCallID != "" {
		ids = append(ids, phonet.NormalizeUUID(end.ParentCallID))
	}
	at := end.At
	if at.IsZero() {
		at = time.Now()
	}
	for _, wait := range []time.Duration{0, time.Second, 2 * time.Second} {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		for rec, err := range c.CompanyCalls(ctx, phonet.HistoryQuery{From: at.Add(-2 * time.Hour)}) {
			if err != nil {
				return nil, err
			}
			if call := rec.Call(); slices.Contains(ids, phonet.NormalizeUUID(call.ID)) {
				return []voip.Call{call}, nil
			}
		}
	}
	return nil, fmt.Errorf("phonet: call %s is not in the history: %w", end.CallID, voip.ErrNotFound)
}

// download runs a vendor's download into a pipe and returns its reading
// end once the first bytes came, so that a missing recording is an error
// (a 404 of the callback), not an empty 200. The Content-Type is ctype, or
// sniffed from the first bytes when ctype is empty.
func download(run func(w io.Writer) error, ctype string) (io.ReadCloser, string, error) {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(run(pw)) }()
	br := bufio.NewReaderSize(pr, 4096)
	head, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) {
		_ = pr.Close()
		return nil, "", err
	}
	if len(head) == 0 {
		_ = pr.Close()
		return nil, "", fmt.Errorf("empty recording: %w", voip.ErrNotFound)
	}
	if ctype == "" {
		ctype = http.DetectContentType(head)
	}
	return readCloser{br, pr}, ctype, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// New-Tel: webhooks carry events and the record with its recording link;
// there is no member list and no DND.

func realNewtel(_ context.Context, env func(string) string, logger *slog.Logger) (*pbx, error) {
	v, err := need(env, "NEWTEL_ACCESS_KEY", "NEWTEL_SIGN_KEY", "NEWTEL_WEBHOOK_KEY")
	if err != nil {
		return nil, err
	}
	c, err := newtel.New(v[0], v[1], newtel.WithLogger(logger))
	if err != nil {
		return nil, err
	}
	return newtelPBX(c, v[2], logger), nil
}

func newtelPBX(c *newtel.Client, webhookKey string, logger *slog.Logger) *pbx {
	return &pbx{
		name: "newtel", provider: c, close: func() {},
		webhook: func(update voip.UpdateFunc, _ lookup) (http.Handler, error) {
			return newtel.NewWebhookHandler(newtel.WebhookConfig{Key: webhookKey, Update: update, Logger: logger})
		},
	}
}

// Webitel: the engine socket of each operator's token (a socket sees only
// its own user's calls), the record of a call from the history, and the
// recording from the storage with the token, since the link CallLink gives
// carries none. No DND: Webitel's agent status belongs to the contact
// centre, and this package does not map it to one, so changeUserStatusUrl
// is not registered.

func realWebitel(_ context.Context, env func(string) string, logger *slog.Logger) (*pbx, error) {
	v, err := need(env, "WEBITEL_URL", "WEBITEL_TOKEN")
	if err != nil {
		return nil, err
	}
	c, err := webitel.New(v[0], v[1], webitel.WithLogger(logger))
	if err != nil {
		return nil, err
	}
	var tokens []string
	for t := range strings.SplitSeq(env("WEBITEL_TOKENS"), ",") {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(tokens, t) {
			tokens = append(tokens, t)
		}
	}
	if len(tokens) == 0 {
		tokens = []string{v[1]}
	}
	return webitelPBX(c, tokens, logger), nil
}

// webitelPBX is the tenant c, with the sockets of the operators' tokens.
func webitelPBX(c *webitel.Client, tokens []string, logger *slog.Logger) *pbx {
	return &pbx{
		name: "webitel", provider: c, close: func() {},
		source: func(ctx context.Context) (voip.Source, error) {
			return webitelSockets(ctx, c.BaseURL(), tokens, logger)
		},
		finished: func(ctx context.Context, end voip.Event) ([]voip.Call, error) {
			return webitelRecord(ctx, c, end)
		},
		openRecording: func(ctx context.Context, call voip.Call, link string) (io.ReadCloser, string, error) {
			return webitelRecording(ctx, c, call, link)
		},
	}
}

// webitelSockets opens the engine socket of each operator's token, and
// fails if any is refused. One socket is the source as it is; several are
// merged, and one stopped for good (a token revoked) leaves the others
// running. Errors and notices name a socket by its user's extension, or by
// the token's place in the list, never by the token.
func webitelSockets(ctx context.Context, baseURL string, tokens []string, logger *slog.Logger) (voip.Source, error) {
	var srcs []voip.Source
	var names []string
	fail := func(err error) (voip.Source, error) {
		for _, s := range srcs {
			_ = s.Close()
		}
		return nil, err
	}
	for i, tok := range tokens {
		name := fmt.Sprintf("operator token %d", i+1)
		c, err := webitel.New(baseURL, tok, webitel.WithLogger(logger))
		if err != nil {
			return fail(fmt.Errorf("%s: %w", name, err))
		}
		st, err := c.Subscribe(ctx)
		if err != nil {
			return fail(fmt.Errorf("the socket of %s: %w", name, err))
		}
		if len(tokens) == 1 {
			return st.Source(), nil
		}
		srcs = append(srcs, st.Source())
		if u, err := c.UserInfo(ctx); err == nil && u.Extension != "" {
			name = "ext " + u.Extension
		}
		names = append(names, name)
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
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
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

// webitelRecording streams the call's recording at link, the one CallLink
// chose among the call's files, with the token and the file's MIME type.
// A link that is none of the call's files is not fetched: the token goes
// to the tenant's own storage only.
func webitelRecording(ctx context.Context, c *webitel.Client, call voip.Call, link string) (io.ReadCloser, string, error) {
	files, err := c.CallFiles(ctx, call.ID)
	if err != nil {
		return nil, "", err
	}
	for _, f := range files {
		if f.ID != "" && c.RecordingURL(f.ID) == link {
			return download(func(w io.Writer) error {
				_, err := c.DownloadRecording(ctx, f.ID, w)
				return err
			}, f.MimeType)
		}
	}
	return nil, "", fmt.Errorf("webitel: %s is not a recording of call %s: %w", link, call.ID, voip.ErrNotFound)
}
