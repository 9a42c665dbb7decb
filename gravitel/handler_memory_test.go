package gravitel_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/gravitel"
	"github.com/pbxkit/pbxkit/gravitel/graviteltest"
	"github.com/pbxkit/pbxkit/internal/hook"
	"github.com/pbxkit/pbxkit/internal/testutil"
	"github.com/pbxkit/pbxkit/voip"
)

// roundRobin is a load balancer: each request goes to the next backend.
type roundRobin struct {
	mu       sync.Mutex
	next     int
	backends []http.Handler
}

func (rr *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rr.mu.Lock()
	h := rr.backends[rr.next%len(rr.backends)]
	rr.next++
	rr.mu.Unlock()
	h.ServeHTTP(w, r)
}

// outgoingCall is the deliveries of one outgoing call, in order, the
// ACCEPTED twice: the PBX's duplicate.
var outgoingCall = func() []url.Values {
	event := func(typ string) url.Values {
		return url.Values{"cmd": {"event"}, "type": {typ}, "callid": {"4f1c2d3e-0a9b-4c8d-8e7f-6a5b4c3d2e1f"},
			"phone": {"79161234567"}, "user": {"admin@test.gravitel.ru"}, "ext": {"701"}, "z-flag": {"0"}}
	}
	return []url.Values{
		event("OUTGOING"), event("ACCEPTED"), event("ACCEPTED"), event("COMPLETED"),
		{"cmd": {"history"}, "type": {"out"}, "status": {"Success"}, "callid": {"4f1c2d3e-0a9b-4c8d-8e7f-6a5b4c3d2e1f"},
			"phone": {"79161234567"}, "user": {"admin@test.gravitel.ru"}, "ext": {"701"},
			"start": {"20260301T120000Z"}, "duration": {"65"}, "z-flag": {"0"}},
	}
}()

// spread serves one handler per memory behind a round-robin (one handler
// when mems has one element), posts the outgoing call through it, checks
// that every reply is {}, and returns the updates delivered, without their
// receipt times.
func spread(t *testing.T, mems ...voip.Memory) []voip.Update {
	t.Helper()
	rec := &recorder{}
	rr := &roundRobin{}
	for _, m := range mems {
		cfg := rec.config()
		cfg.Memory = m
		h, err := gravitel.NewWebhookHandler(cfg)
		require.NoError(t, err)
		rr.backends = append(rr.backends, h)
	}
	srv := httptest.NewServer(rr)
	defer srv.Close()
	hooks := graviteltest.Webhooks{URL: srv.URL, CRMToken: crmKey, Client: srv.Client()}
	for _, fields := range outgoingCall {
		body, err := hooks.Send(t.Context(), fields)
		require.NoError(t, err)
		assert.JSONEq(t, `{}`, string(body))
	}
	updates := rec.snapshot()
	for _, u := range updates {
		if u.Event != nil {
			u.Event.At = time.Time{} // when it was received: not the same twice
		}
	}
	return updates
}

// directions lists the kind and direction of every update.
func directions(updates []voip.Update) []string {
	out := make([]string, len(updates))
	for i, u := range updates {
		if u.Event != nil {
			out[i] = u.Event.Kind.String() + "/" + u.Event.Direction.String()
		} else {
			out[i] = "call/" + u.Call.Direction.String()
		}
	}
	return out
}

// TestWebhookHandlersShareMemory: two handlers behind a round-robin that
// share one Memory deliver a call, its duplicate included, exactly as one
// handler does. With a Memory each they do not: the second handler neither
// knows that the call went out nor that the duplicate was delivered.
func TestWebhookHandlersShareMemory(t *testing.T) {
	t.Parallel()
	one := spread(t, voip.NewLocalMemory(0))
	require.Equal(t, []string{"start/out", "answer/out", "end/out", "call/out"}, directions(one))

	shared := voip.NewLocalMemory(0)
	assert.Equal(t, one, spread(t, shared, shared))

	each := spread(t, voip.NewLocalMemory(0), voip.NewLocalMemory(0))
	assert.NotEqual(t, one, each)
	// A: OUTGOING, the duplicate ACCEPTED, history; B: ACCEPTED, COMPLETED.
	assert.Equal(t, []string{"start/out", "answer/in", "answer/out", "end/in", "call/out"}, directions(each))
}

// TestWebhookHandlerForgetsAFinishedCall: the OUTGOING fact lives under its
// documented key until the call's history arrives.
func TestWebhookHandlerForgetsAFinishedCall(t *testing.T) {
	t.Parallel()
	mem := voip.NewLocalMemory(0)
	cfg := (&recorder{}).config()
	cfg.Memory = mem
	hooks := newCRM(t, cfg)
	key := hook.Key(gravitel.Vendor, "outgoing", []byte(outgoingCall[0].Get("callid")))
	_, err := hooks.Send(t.Context(), outgoingCall[0])
	require.NoError(t, err)
	_, held, err := mem.Get(t.Context(), key)
	require.NoError(t, err)
	assert.True(t, held, "OUTGOING is remembered")
	_, err = hooks.Send(t.Context(), outgoingCall[4])
	require.NoError(t, err)
	_, held, err = mem.Get(t.Context(), key)
	require.NoError(t, err)
	assert.False(t, held, "the history ends the call")
}

func TestWebhookHandlerDeduplicates(t *testing.T) {
	t.Parallel()
	var updates, others, contacts atomic.Int32
	fail := atomic.Bool{}
	cfg := gravitel.WebhookConfig{
		CRMToken: crmKey,
		Update: func(context.Context, voip.Update) error {
			if fail.Load() {
				return errors.New("database down")
			}
			updates.Add(1)
			return nil
		},
		Other:   func(context.Context, *gravitel.Webhook) error { others.Add(1); return nil },
		Contact: func(context.Context, *gravitel.Webhook) (*gravitel.Contact, error) { contacts.Add(1); return nil, nil },
	}
	hooks := newCRM(t, cfg)
	ctx := t.Context()
	send := func(fields url.Values) error {
		_, err := hooks.Send(ctx, fields)
		return err
	}
	incoming := url.Values{"cmd": {"event"}, "type": {"INCOMING"}, "callid": {"1"}, "phone": {"79161234567"}}
	rating := url.Values{"cmd": {"rating"}, "callid": {"1"}, "rating": {"5"}}
	contact := url.Values{"cmd": {"contact"}, "callid": {"1"}, "phone": {"79161234567"}}
	for range 2 {
		require.NoError(t, send(incoming))
		require.NoError(t, send(rating))
		require.NoError(t, send(contact))
	}
	assert.EqualValues(t, 1, updates.Load(), "a duplicate event is dropped")
	assert.EqualValues(t, 1, others.Load(), "a duplicate rating is dropped")
	assert.EqualValues(t, 2, contacts.Load(), "every contact is answered")

	other := url.Values{"cmd": {"event"}, "type": {"INCOMING"}, "callid": {"1"}, "phone": {"79161234567"}, "ext": {"702"}}
	require.NoError(t, send(other))
	assert.EqualValues(t, 2, updates.Load(), "another employee's event is not a duplicate")

	// A failed delivery is not remembered: the PBX's redelivery goes through.
	fail.Store(true)
	completed := url.Values{"cmd": {"event"}, "type": {"COMPLETED"}, "callid": {"1"}}
	var se *graviteltest.StatusError
	require.ErrorAs(t, send(completed), &se)
	assert.Equal(t, http.StatusInternalServerError, se.Status)
	fail.Store(false)
	require.NoError(t, send(completed))
	assert.EqualValues(t, 3, updates.Load())

	// A negative window delivers every duplicate.
	cfg.DedupeWindow = -1
	hooks = newCRM(t, cfg)
	for range 2 {
		require.NoError(t, send(incoming))
	}
	assert.EqualValues(t, 5, updates.Load())
}

// failingMemory is a Memory whose store is down.
type failingMemory struct{}

var errStoreDown = errors.New("memory store down")

func (failingMemory) Add(context.Context, string, string, time.Duration) (bool, error) {
	return false, errStoreDown
}
func (failingMemory) Get(context.Context, string) (string, bool, error) {
	return "", false, errStoreDown
}
func (failingMemory) Delete(context.Context, string) error { return errStoreDown }

// TestWebhookHandlerMemoryFailureIs500: when the Memory fails, the reply is
// 500 so that the PBX delivers again, nothing is delivered, and the log
// line holds no token. A contact does not need the Memory.
func TestWebhookHandlerMemoryFailureIs500(t *testing.T) {
	t.Parallel()
	logs := &testutil.Logs{}
	rec := &recorder{}
	cfg := rec.config()
	cfg.Memory, cfg.Logger = failingMemory{}, logs.Logger()
	hooks := newCRM(t, cfg)
	for _, fields := range outgoingCall {
		_, err := hooks.Send(t.Context(), fields)
		var se *graviteltest.StatusError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, http.StatusInternalServerError, se.Status)
		assert.JSONEq(t, `{"error":"internal error"}`, se.Body)
	}
	assert.Empty(t, rec.snapshot())
	name, _, err := hooks.SendContact(t.Context(), "79161234567", "1")
	require.NoError(t, err)
	assert.NotEmpty(t, name)
	assert.Contains(t, logs.String(), errStoreDown.Error())
	testutil.NoSecret(t, crmKey, logs.String())

	// Without deduplication the Memory still holds the OUTGOING fact.
	cfg.DedupeWindow = -1
	hooks = newCRM(t, cfg)
	_, err = hooks.Send(t.Context(), outgoingCall[0])
	require.Error(t, err)
	assert.Empty(t, rec.snapshot())
}
