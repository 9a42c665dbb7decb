package gravitel_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/gravitel"
	"github.com/pbxkit/pbxkit/gravitel/graviteltest"
	"github.com/pbxkit/pbxkit/internal/testutil"
	"github.com/pbxkit/pbxkit/voip"
)

// recorder is a CRM that keeps what the handler delivers.
type recorder struct {
	mu      sync.Mutex
	updates []voip.Update
	other   []*gravitel.Webhook
}

// config is a WebhookConfig with every callback of r.
func (r *recorder) config() gravitel.WebhookConfig {
	return gravitel.WebhookConfig{
		CRMToken: crmKey,
		Update: func(_ context.Context, u voip.Update) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.updates = append(r.updates, u)
			return nil
		},
		Contact: func(_ context.Context, w *gravitel.Webhook) (*gravitel.Contact, error) {
			if w.Phone != "79161234567" {
				return nil, nil
			}
			return &gravitel.Contact{Name: "Менеджер ЗАО <Рога и копыта>", Responsible: "admin"}, nil
		},
		Other: func(_ context.Context, w *gravitel.Webhook) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.other = append(r.other, w)
			return nil
		},
	}
}

// snapshot returns the updates so far.
func (r *recorder) snapshot() []voip.Update {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.updates)
}

// newCRM serves NewWebhookHandler(cfg) for one test and returns a sender of
// the emulated PBX's webhooks aimed at it.
func newCRM(t *testing.T, cfg gravitel.WebhookConfig) graviteltest.Webhooks {
	t.Helper()
	h, err := gravitel.NewWebhookHandler(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return graviteltest.Webhooks{URL: srv.URL, CRMToken: crmKey, Client: srv.Client()}
}

func TestWebhookHandlerWholeInboundCall(t *testing.T) {
	t.Parallel()
	pbx := graviteltest.NewServer(pbxKey)
	t.Cleanup(pbx.Close)
	rec := &recorder{}
	hooks := newCRM(t, rec.config())

	callID, err := pbx.PlayInbound(t.Context(), hooks, graviteltest.InboundCall{Client: "79161234567", Ext: "ivan", Ring: 3 * time.Second, Talk: 42 * time.Second})
	require.NoError(t, err)

	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.Len(t, rec.updates, 4)
	kinds := []voip.EventKind{voip.EventStart, voip.EventAnswer, voip.EventEnd}
	for i, want := range kinds {
		ev := rec.updates[i].Event
		require.NotNil(t, ev)
		assert.Equal(t, want, ev.Kind)
		assert.Equal(t, callID, ev.CallID)
		assert.Equal(t, "+79161234567", ev.Client)
		assert.Equal(t, "702", ev.Ext)
		assert.Equal(t, voip.DirectionIn, ev.Direction)
	}
	call := rec.updates[3].Call
	require.NotNil(t, call)
	assert.Equal(t, callID, call.ID)
	assert.Equal(t, voip.DispositionAnswered, call.Disposition)
	assert.Equal(t, 45*time.Second, call.Duration)
	assert.Contains(t, call.RecordingURL, callID)
	assert.Empty(t, rec.other)
}

func TestWebhookHandlerContact(t *testing.T) {
	t.Parallel()
	hooks := newCRM(t, (&recorder{}).config())
	name, responsible, err := hooks.SendContact(t.Context(), "79161234567", "1")
	require.NoError(t, err)
	assert.Equal(t, "Менеджер ЗАО <Рога и копыта>", name)
	assert.Equal(t, "admin", responsible)

	body, err := hooks.Send(t.Context(), url.Values{"cmd": {"contact"}, "phone": {"79000000000"}, "callid": {"2"}})
	require.NoError(t, err)
	assert.JSONEq(t, `{}`, string(body), "an unknown caller is {}")

	body, err = newCRM(t, gravitel.WebhookConfig{CRMToken: crmKey, Update: (&recorder{}).config().Update}).Send(t.Context(), url.Values{"cmd": {"contact"}, "phone": {"79161234567"}, "callid": {"3"}})
	require.NoError(t, err)
	assert.JSONEq(t, `{}`, string(body), "no Contact function is {}")
}

func TestWebhookHandlerReplies(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	hooks := newCRM(t, rec.config())
	ctx := t.Context()

	body, err := hooks.Send(ctx, url.Values{"cmd": {"event"}, "type": {"TRANSFERRED"}, "callid": {"1"}, "second_callid": {"2"}})
	require.NoError(t, err)
	assert.JSONEq(t, `{}`, string(body))
	body, err = hooks.Send(ctx, url.Values{"cmd": {"rating"}, "callid": {"1"}, "rating": {"5"}})
	require.NoError(t, err)
	assert.JSONEq(t, `{}`, string(body))
	rec.mu.Lock()
	assert.Len(t, rec.other, 2)
	assert.Equal(t, "5", rec.other[1].Rating)
	rec.mu.Unlock()

	wrong := hooks
	wrong.CRMToken = "not-the-key"
	_, err = wrong.Send(ctx, url.Values{"cmd": {"event"}, "type": {"INCOMING"}, "callid": {"1"}})
	var se *graviteltest.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusUnauthorized, se.Status)
	assert.JSONEq(t, `{"error":"Invalid token"}`, se.Body)

	_, err = hooks.Send(ctx, url.Values{"cmd": {"dial"}, "callid": {"1"}})
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusBadRequest, se.Status)
	assert.JSONEq(t, `{"error":"Invalid parameters"}`, se.Body)

	resp, err := hooks.Client.Get(hooks.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestWebhookHandlerUserFailureIs500(t *testing.T) {
	t.Parallel()
	logs := &testutil.Logs{}
	hooks := newCRM(t, gravitel.WebhookConfig{
		CRMToken: crmKey,
		Update:   func(context.Context, voip.Update) error { return errors.New("database down") },
		Contact: func(context.Context, *gravitel.Webhook) (*gravitel.Contact, error) {
			return nil, errors.New("database down")
		},
		Logger: logs.Logger(),
	})
	for _, cmd := range []string{"event", "contact"} {
		_, err := hooks.Send(t.Context(), url.Values{"cmd": {cmd}, "type": {"INCOMING"}, "callid": {"1"}})
		var se *graviteltest.StatusError
		require.ErrorAs(t, err, &se, cmd)
		assert.Equal(t, http.StatusInternalServerError, se.Status)
	}
	assert.Contains(t, logs.String(), "database down")
	assert.False(t, strings.Contains(logs.String(), crmKey))
}

func TestWebhookHandlerOutboundKeepsItsDirection(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	rec := &recorder{}
	hooks := newCRM(t, rec.config())
	id, err := c.MakeCall(t.Context(), gravitel.MakeCallRequest{User: "admin", Phone: "79161234567"})
	require.NoError(t, err)
	require.NoError(t, srv.PlayOutbound(t.Context(), hooks, srv.Calls()[0], 2*time.Second, 10*time.Second))

	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.Len(t, rec.updates, 4)
	for _, u := range rec.updates[:3] {
		assert.Equal(t, voip.DirectionOut, u.Event.Direction, u.Event.RawStatus)
		assert.Equal(t, id, u.Event.CallID)
	}
	assert.Equal(t, voip.DirectionOut, rec.updates[3].Call.Direction)
}

func TestNewWebhookHandlerRefusesMisconfiguration(t *testing.T) {
	t.Parallel()
	update := func(context.Context, voip.Update) error { return nil }
	for name, tc := range map[string]struct {
		cfg  gravitel.WebhookConfig
		want string
	}{
		"no token":    {gravitel.WebhookConfig{Update: update}, "gravitel: NewWebhookHandler: empty CRMToken"},
		"blank token": {gravitel.WebhookConfig{CRMToken: " \t", Update: update}, "gravitel: NewWebhookHandler: empty CRMToken"},
		"no callback": {gravitel.WebhookConfig{CRMToken: crmKey, Logger: slog.Default()}, "gravitel: NewWebhookHandler: no callback"},
	} {
		h, err := gravitel.NewWebhookHandler(tc.cfg)
		require.Error(t, err, name)
		assert.Nil(t, h, name)
		assert.True(t, strings.HasPrefix(err.Error(), tc.want), "%s: %v", name, err)
		assert.NotContains(t, err.Error(), crmKey, name)
	}
	for name, cfg := range map[string]gravitel.WebhookConfig{
		"Update only":  {CRMToken: crmKey, Update: update},
		"Contact only": {CRMToken: crmKey, Contact: func(context.Context, *gravitel.Webhook) (*gravitel.Contact, error) { return nil, nil }},
		"Other only":   {CRMToken: crmKey, Other: func(context.Context, *gravitel.Webhook) error { return nil }},
	} {
		_, err := gravitel.NewWebhookHandler(cfg)
		assert.NoError(t, err, name)
	}
}

func TestWebhookHandlerMaxBody(t *testing.T) {
	t.Parallel()
	cfg := (&recorder{}).config()
	cfg.MaxBody = 64
	hooks := newCRM(t, cfg)
	_, err := hooks.Send(t.Context(), url.Values{"cmd": {"rating"}, "callid": {"1"}, "pad": {strings.Repeat("x", 64)}})
	var se *graviteltest.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusRequestEntityTooLarge, se.Status)
	_, err = hooks.Send(t.Context(), url.Values{"cmd": {"rating"}, "callid": {"1"}})
	assert.NoError(t, err, "a short body passes")
}

// TestWebhookHandlerDirectionSentWins: a direction field the PBX sends is
// not overridden by the memory of an OUTGOING.
func TestWebhookHandlerDirectionSentWins(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	hooks := newCRM(t, rec.config())
	for _, fields := range []url.Values{
		{"cmd": {"event"}, "type": {"OUTGOING"}, "callid": {"7"}, "phone": {"79161234567"}},
		{"cmd": {"event"}, "type": {"ACCEPTED"}, "callid": {"7"}, "phone": {"79161234567"}, "direction": {"internal"}},
		{"cmd": {"event"}, "type": {"COMPLETED"}, "callid": {"7"}, "phone": {"79161234567"}},
	} {
		_, err := hooks.Send(t.Context(), fields)
		require.NoError(t, err)
	}
	got := rec.snapshot()
	require.Len(t, got, 3)
	assert.Equal(t, []voip.Direction{voip.DirectionOut, voip.DirectionInternal, voip.DirectionOut},
		[]voip.Direction{got[0].Event.Direction, got[1].Event.Direction, got[2].Event.Direction})
}

// TestWebhookHandlerUnansweredCalls: calls nobody answered end with
// CANCELLED, and their history says so.
func TestWebhookHandlerUnansweredCalls(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	rec := &recorder{}
	hooks := newCRM(t, rec.config())
	_, err := srv.PlayInbound(t.Context(), hooks, graviteltest.InboundCall{Client: "79161234567", Ext: "702", Ring: 20 * time.Second})
	require.NoError(t, err)
	_, err = c.GenerateCall(t.Context(), "701", "79161234568")
	require.NoError(t, err)
	require.NoError(t, srv.PlayOutbound(t.Context(), hooks, srv.Calls()[0], 30*time.Second, 0))

	got := rec.snapshot()
	require.Len(t, got, 6)
	assert.Equal(t, []string{"start/in", "end/in", "call/in", "start/out", "end/out", "call/out"}, directions(got))
	assert.Equal(t, voip.DispositionCancel, got[1].Event.Disposition)
	assert.Equal(t, voip.DispositionCancel, got[2].Call.Disposition, "missed")
	assert.Equal(t, 20*time.Second, got[2].Call.Duration)
	assert.Zero(t, got[2].Call.Talk)
	assert.Empty(t, got[2].Call.RecordingURL)
	assert.Equal(t, voip.DispositionNoAnswer, got[5].Call.Disposition, "NotAvailable")
}
