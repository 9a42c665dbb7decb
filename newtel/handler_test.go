package newtel_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/newtel"
	"github.com/pbxkit/pbxkit/newtel/newteltest"
	"github.com/pbxkit/pbxkit/voip"
)

func TestNewWebhookHandlerRefusesMisconfiguration(t *testing.T) {
	t.Parallel()
	update := func(context.Context, voip.Update) error { return nil }
	other := func(context.Context, *newtel.Webhook) error { return nil }
	for name, cfg := range map[string]newtel.WebhookConfig{
		"no key and no verifier": {Update: update},
		"a blank key":            {Key: " \t", Update: update},
		"no callback":            {Key: webhookKey},
		"no callback, verifier":  {Verify: newtel.SkipWebhookVerification()},
	} {
		h, err := newtel.NewWebhookHandler(cfg)
		require.Error(t, err, name)
		assert.Nil(t, h, name)
		assert.True(t, strings.HasPrefix(err.Error(), "newtel: NewWebhookHandler: "), err.Error())
	}
	for name, cfg := range map[string]newtel.WebhookConfig{
		"key and Update":      {Key: webhookKey, Update: update},
		"key and Other":       {Key: webhookKey, Other: other},
		"verifier and Update": {Verify: newtel.SkipWebhookVerification(), Update: update},
	} {
		h, err := newtel.NewWebhookHandler(cfg)
		require.NoError(t, err, name)
		assert.NotNil(t, h, name)
	}
}

// signedBody is a webhook as the emulator would sign it with webhookKey.
func signedBody(event, data string) string {
	return `{"event":"` + event + `","signature":"` + sha1Hex(event+"\n"+data+"\n"+webhookKey) + `","data":` + data + `}`
}

const endData = `{"vpbxId":"vpbx-9","time":1758190095,"dnid":"74951502837","clid":"79161234567","status":"answered","duration":95,"ringduration":8,"fisrtAnswer":"101"}`

func TestWebhookDuplicatesAreDeliveredOnce(t *testing.T) {
	t.Parallel()
	body := signedBody("inboundCallEnd", endData)
	t.Run("a duplicate is answered 200 and dropped", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t, webhookKey, nil)
		assert.Equal(t, http.StatusOK, rc.post(t, body))
		assert.Equal(t, http.StatusOK, rc.post(t, body))
		updates, _ := rc.got()
		assert.Len(t, updates, 1)
	})
	t.Run("the signature is not part of the delivery", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t, webhookKey, newtel.SkipWebhookVerification())
		assert.Equal(t, http.StatusOK, rc.post(t, body))
		assert.Equal(t, http.StatusOK, rc.post(t, strings.Replace(body, `"signature":"`, `"signature":"0`, 1)))
		updates, _ := rc.got()
		assert.Len(t, updates, 1)
	})
	t.Run("another event of the call is delivered", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t, webhookKey, nil)
		assert.Equal(t, http.StatusOK, rc.post(t, body))
		assert.Equal(t, http.StatusOK, rc.post(t, signedBody("outboundCallEnd", endData)))
		updates, _ := rc.got()
		assert.Len(t, updates, 2)
	})
	t.Run("a negative window turns it off", func(t *testing.T) {
		t.Parallel()
		var s sink
		cfg := s.config()
		cfg.DedupeWindow = -1
		srv := httptest.NewServer(newHandler(t, cfg))
		t.Cleanup(srv.Close)
		rc := &receiver{Server: srv}
		assert.Equal(t, http.StatusOK, rc.post(t, body))
		assert.Equal(t, http.StatusOK, rc.post(t, body))
		updates, _ := s.got()
		assert.Len(t, updates, 2)
	})
	t.Run("a failed delivery is delivered again", func(t *testing.T) {
		t.Parallel()
		var calls int
		h := newHandler(t, newtel.WebhookConfig{Key: webhookKey, Update: func(context.Context, voip.Update) error {
			calls++
			if calls == 1 {
				return errors.New("the CRM's database is down")
			}
			return nil
		}})
		assert.Equal(t, http.StatusInternalServerError, serve(h, body))
		assert.Equal(t, http.StatusOK, serve(h, body))
		assert.Equal(t, http.StatusOK, serve(h, body))
		assert.Equal(t, 2, calls, "the redelivery, then nothing")
	})
	t.Run("a failing Memory is a 500", func(t *testing.T) {
		t.Parallel()
		h := newHandler(t, newtel.WebhookConfig{Key: webhookKey, Memory: brokenMemory{},
			Update: func(context.Context, voip.Update) error { t.Error("delivered without the Memory"); return nil }})
		assert.Equal(t, http.StatusInternalServerError, serve(h, body))
	})
}

// brokenMemory is a Memory whose store is down.
type brokenMemory struct{}

var errStoreDown = errors.New("the store is down")

func (brokenMemory) Add(context.Context, string, string, time.Duration) (bool, error) {
	return false, errStoreDown
}
func (brokenMemory) Get(context.Context, string) (string, bool, error) {
	return "", false, errStoreDown
}
func (brokenMemory) Delete(context.Context, string) error { return errStoreDown }

// serve posts body to h and returns the status of the reply.
func serve(h http.Handler, body string) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, request(body))
	return rec.Code
}

func TestWebhookWithoutItsCallbackIsDropped(t *testing.T) {
	t.Parallel()
	var got []voip.Update
	h := newHandler(t, newtel.WebhookConfig{Key: webhookKey, Update: func(_ context.Context, u voip.Update) error {
		got = append(got, u)
		return nil
	}})
	ringing := `{"vpbxId":"vpbx-9","time":1758190001,"ringingNumber":"101"}`
	assert.Equal(t, http.StatusOK, serve(h, signedBody("ringingStart", ringing)), "no Other: answered and dropped")
	assert.Empty(t, got)
	assert.Equal(t, http.StatusOK, serve(h, signedBody("inboundCallEnd", endData)))
	assert.Len(t, got, 1)
}

func TestWebhookHandlerLimits(t *testing.T) {
	t.Parallel()
	h := newHandler(t, newtel.WebhookConfig{Key: webhookKey, MaxBody: 64, Update: func(context.Context, voip.Update) error { return nil }})
	assert.Equal(t, http.StatusRequestEntityTooLarge, serve(h, signedBody("inboundCallEnd", endData)))
	assert.Equal(t, http.StatusBadRequest, serve(h, `{"event":`))

	big := `{"event":"inboundCallStart","data":{"pad":"` + strings.Repeat("x", voip.DefaultWebhookMaxBody) + `"}}`
	_, err := newtel.ParseWebhook(request(big), newtel.SkipWebhookVerification())
	assert.ErrorIs(t, err, voip.ErrMalformed, "ParseWebhook caps the body")
	_, err = newtel.ParseWebhook(&http.Request{Method: http.MethodPost}, newtel.SkipWebhookVerification())
	assert.ErrorIs(t, err, voip.ErrMalformed, "no body")
}

// balancer stands for a load balancer in front of replicas: it passes each
// webhook to the next replica in turn, and the webhook numbered dup to the
// next replica as well, as a redelivery that lands elsewhere would.
type balancer struct {
	replicas []http.Handler
	dup      int

	mu sync.Mutex
	n  int
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	i := b.n
	b.n++
	b.mu.Unlock()
	targets := []http.Handler{b.replicas[i%len(b.replicas)]}
	if i == b.dup {
		targets = append(targets, b.replicas[(i+1)%len(b.replicas)])
	}
	status := http.StatusOK
	for _, h := range targets {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(r.Context(), http.MethodPost, "/", bytes.NewReader(body)))
		if rec.Code != http.StatusOK {
			status = rec.Code
		}
	}
	w.WriteHeader(status)
}

// TestHandlersBehindABalancerShareMemory: two replicas that share one
// Memory, given one call's webhooks round-robin and one of them twice (to
// both), deliver exactly what one handler delivers. With a Memory each, the
// duplicate is delivered twice.
func TestHandlersBehindABalancerShareMemory(t *testing.T) {
	t.Parallel()
	srv, _ := newEmulator(t)
	at := time.Date(2025, 9, 18, 10, 0, 0, 0, time.UTC)
	srv.SetClock(func() time.Time { return at })
	call := newteltest.InboundCall{CallID: "vpbx-42", Client: "79161234567", Ext: "102", Ring: 8 * time.Second, Talk: 87 * time.Second}

	// play sends the call's webhooks through a balancer in front of one
	// handler per Memory in memories (nil: the handler's own), all
	// delivering into one sink.
	play := func(t *testing.T, dup int, memories ...voip.Memory) *sink {
		t.Helper()
		s := &sink{}
		lb := &balancer{dup: dup}
		for _, m := range memories {
			cfg := s.config()
			cfg.Memory = m
			lb.replicas = append(lb.replicas, newHandler(t, cfg))
		}
		front := httptest.NewServer(lb)
		defer front.Close()
		_, err := srv.PlayInbound(t.Context(), newteltest.Webhooks{URL: front.URL, Key: webhookKey, Client: front.Client()}, call)
		require.NoError(t, err)
		return s
	}
	names := func(ws []*newtel.Webhook) []newtel.EventName {
		out := make([]newtel.EventName, 0, len(ws))
		for _, w := range ws {
			out = append(out, w.Name)
		}
		return out
	}

	wantUpdates, wantOthers := play(t, -1, nil).got()
	require.Len(t, wantUpdates, 3, "start, answer, end")
	require.Len(t, wantOthers, 2, "ringingStart, ringingEnd")

	const webhooks = 5
	for dup := range webhooks {
		alone, aloneOthers := play(t, dup, nil).got()
		assert.Equal(t, wantUpdates, alone, "one handler given webhook %d twice", dup)
		assert.Equal(t, names(wantOthers), names(aloneOthers), "one handler given webhook %d twice", dup)

		shared := voip.NewLocalMemory(0)
		updates, others := play(t, dup, shared, shared).got()
		assert.Equal(t, wantUpdates, updates, "shared Memory, webhook %d to both", dup)
		assert.Equal(t, names(wantOthers), names(others), "shared Memory, webhook %d to both", dup)

		updates, others = play(t, dup, voip.NewLocalMemory(0), voip.NewLocalMemory(0)).got()
		assert.Equal(t, len(wantUpdates)+len(wantOthers)+1, len(updates)+len(others),
			"a Memory each: webhook %d is delivered twice", dup)
	}
}
