package gravitel_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
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

func (r *recorder) handler() gravitel.Handler {
	return gravitel.Handler{
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

// newCRM serves WebhookHandler for one test and returns a sender of the
// emulated PBX's webhooks aimed at it.
func newCRM(t *testing.T, h gravitel.Handler) graviteltest.Webhooks {
	t.Helper()
	srv := httptest.NewServer(gravitel.WebhookHandler(crmKey, h))
	t.Cleanup(srv.Close)
	return graviteltest.Webhooks{URL: srv.URL, CRMToken: crmKey, Client: srv.Client()}
}

func TestWebhookHandlerWholeInboundCall(t *testing.T) {
	t.Parallel()
	pbx := graviteltest.NewServer(pbxKey)
	t.Cleanup(pbx.Close)
	rec := &recorder{}
	hooks := newCRM(t, rec.handler())

	callID, err := pbx.PlayInbound(t.Context(), hooks, "79161234567", "ivan", 42*time.Second)
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
	hooks := newCRM(t, (&recorder{}).handler())
	name, responsible, err := hooks.SendContact(t.Context(), "79161234567", "1")
	require.NoError(t, err)
	assert.Equal(t, "Менеджер ЗАО <Рога и копыта>", name)
	assert.Equal(t, "admin", responsible)

	body, err := hooks.Send(t.Context(), url.Values{"cmd": {"contact"}, "phone": {"79000000000"}, "callid": {"2"}})
	require.NoError(t, err)
	assert.JSONEq(t, `{}`, string(body), "an unknown caller is {}")

	body, err = newCRM(t, gravitel.Handler{}).Send(t.Context(), url.Values{"cmd": {"contact"}, "phone": {"79161234567"}, "callid": {"3"}})
	require.NoError(t, err)
	assert.JSONEq(t, `{}`, string(body), "no Contact function is {}")
}

func TestWebhookHandlerReplies(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	hooks := newCRM(t, rec.handler())
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
	hooks := newCRM(t, gravitel.Handler{
		Update: func(context.Context, voip.Update) error { return errors.New("database down") },
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
	hooks := newCRM(t, rec.handler())
	id, err := c.MakeCall(t.Context(), gravitel.MakeCallRequest{User: "admin", Phone: "79161234567"})
	require.NoError(t, err)
	require.NoError(t, srv.PlayOutbound(t.Context(), hooks, srv.Calls()[0], 10*time.Second))

	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.Len(t, rec.updates, 4)
	for _, u := range rec.updates[:3] {
		assert.Equal(t, voip.DirectionOut, u.Event.Direction, u.Event.RawStatus)
		assert.Equal(t, id, u.Event.CallID)
	}
	assert.Equal(t, voip.DirectionOut, rec.updates[3].Call.Direction)
}
