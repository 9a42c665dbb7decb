package phonet_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/phonet"
	"github.com/pbxkit/pbxkit/phonet/phonettest"
	"github.com/pbxkit/pbxkit/voip"
)

// crm records what the webhook handler delivered.
type crm struct {
	mu      sync.Mutex
	updates []voip.Update
	events  []*phonet.Event
	lookups []phonet.LookupRequest
	records []phonet.Record
	fail    bool
}

func (c *crm) config() phonet.WebhookConfig {
	return phonet.WebhookConfig{
		Update: func(_ context.Context, u voip.Update) error {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.fail {
				return errors.New("database down")
			}
			c.updates = append(c.updates, u)
			return nil
		},
		Event: func(_ context.Context, ev *phonet.Event) error {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.events = append(c.events, ev)
			return nil
		},
		Record: func(_ context.Context, r phonet.Record) error {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.records = append(c.records, r)
			return nil
		},
		Lookup: func(_ context.Context, r phonet.LookupRequest) (*phonet.Card, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.lookups = append(c.lookups, r)
			if r.OtherLegNum != "+380000000000" {
				return &phonet.Card{NewEntity: true, URL: "https://crm.example.com/clients/new?phone=" + r.OtherLegNum, URLText: "Add contact"}, nil
			}
			return &phonet.Card{Name: "Анастасия Березкина", URL: "https://crm.example.com/clients/123", URLText: "Анастасия Березкина",
				ResponsibleEmployeeExt: "001", ResponsibleEmployeeEmail: "manager@example.com"}, nil
		},
	}
}

// events returns the voip events delivered, in order.
func (c *crm) voipEvents() []voip.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []voip.Event
	for _, u := range c.updates {
		if u.Event != nil {
			out = append(out, *u.Event)
		}
	}
	return out
}

// calls counts every callback run.
func (c *crm) calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.updates) + len(c.events) + len(c.lookups) + len(c.records)
}

func newWebhook(t *testing.T, cfg phonet.WebhookConfig) string {
	t.Helper()
	h, err := phonet.NewWebhookHandler(cfg)
	require.NoError(t, err)
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}

// replyStatus is the status of a Send: 200, or the status of its
// *StatusError.
func replyStatus(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return http.StatusOK
	}
	var se *phonettest.StatusError
	require.ErrorAs(t, err, &se)
	return se.Status
}

func TestWebhookEventsBothEncodings(t *testing.T) {
	t.Parallel()
	srv := phonettest.NewServer(apiKey)
	defer srv.Close()
	for _, enc := range []phonettest.Encoding{phonettest.JSON, phonettest.Form} {
		rec := &crm{}
		h := phonettest.Webhooks{URL: newWebhook(t, rec.config()), Encoding: enc}
		for _, event := range []phonettest.EventType{phonettest.EventDial, phonettest.EventBridge, phonettest.EventBridge, phonettest.EventHangup} {
			body, err := h.Send(t.Context(), srv.EventWebhook(event, "47a968893984475b8c20e29dec144ce3", phonettest.DirectionIn, "001", "+380000000000"))
			require.NoError(t, err)
			assert.JSONEq(t, `[]`, string(body))
		}
		updates := rec.voipEvents()
		require.Len(t, updates, 3, "the duplicate bridge is dropped")
		assert.Equal(t, []voip.EventKind{voip.EventStart, voip.EventAnswer, voip.EventEnd},
			[]voip.EventKind{updates[0].Kind, updates[1].Kind, updates[2].Kind})
		u := updates[1]
		assert.Equal(t, "+380000000000", u.Client)
		assert.Equal(t, "001", u.Ext)
		assert.Equal(t, "+380442246595", u.Line)
		assert.Equal(t, voip.DirectionIn, u.Direction)
		ev := rec.events[0]
		assert.Equal(t, srv.Domain, ev.AccountDomain)
		assert.Equal(t, "1", ev.OtherLegs[0].ID)
		assert.Nil(t, ev.Leg2)
		assert.Empty(t, ev.ParentUUID)
	}
}

func TestWebhookPresenceIsNotACall(t *testing.T) {
	t.Parallel()
	srv := phonettest.NewServer(apiKey)
	defer srv.Close()
	rec := &crm{}
	h := phonettest.Webhooks{URL: newWebhook(t, rec.config()), Encoding: phonettest.Form}
	_, err := h.Send(t.Context(), srv.EventWebhook(phonettest.EventBridge, "aa", phonettest.DirectionAway, "001", ""))
	require.NoError(t, err)
	assert.Empty(t, rec.updates)
	require.Len(t, rec.events, 1)
	p, ok := rec.events[0].Presence()
	require.True(t, ok)
	assert.Equal(t, "001", p.Ext)
	assert.True(t, p.Away)
}

func TestWebhookLookup(t *testing.T) {
	t.Parallel()
	rec := &crm{}
	url := newWebhook(t, rec.config())
	for _, enc := range []phonettest.Encoding{phonettest.JSON, phonettest.Form} {
		h := phonettest.Webhooks{URL: url, Encoding: enc}
		body, err := h.Send(t.Context(), phonettest.LookupWebhook("+380000000000", "+380442246595"))
		require.NoError(t, err)
		assert.JSONEq(t, `{"name":"Анастасия Березкина","url":"https://crm.example.com/clients/123","urlText":"Анастасия Березкина",
			"newEntity":false,"responsibleEmployeeExt":"001","responsibleEmployeeEmail":"manager@example.com"}`, string(body))
		body, err = h.Send(t.Context(), phonettest.LookupWebhook("380671234567", ""))
		require.NoError(t, err)
		assert.JSONEq(t, `{"name":null,"url":"https://crm.example.com/clients/new?phone=380671234567","urlText":"Add contact",
			"newEntity":true,"responsibleEmployeeExt":null,"responsibleEmployeeEmail":null}`, string(body))
		// A hidden number is a null otherLegNum: still a lookup.
		_, err = h.Send(t.Context(), phonettest.LookupWebhook("", "+380442246595"))
		require.NoError(t, err)
	}
	require.Len(t, rec.lookups, 6)
	assert.Equal(t, "+380442246595", rec.lookups[0].TrunkNum)
	assert.Empty(t, rec.lookups[2].OtherLegNum)
	assert.Empty(t, rec.lookups[5].OtherLegNum)
	assert.Equal(t, 6, rec.calls(), "lookups only")

	// No Lookup callback: a card of nulls.
	url = newWebhook(t, phonet.WebhookConfig{Update: func(context.Context, voip.Update) error { return nil }})
	resp, err := http.Get(url + "?otherLegNum=380671234567")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	var card map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&card))
	assert.Nil(t, card["name"])
	assert.Equal(t, false, card["newEntity"])
}

func TestWebhookFailureIsRetriable(t *testing.T) {
	t.Parallel()
	srv := phonettest.NewServer(apiKey)
	defer srv.Close()
	rec := &crm{fail: true}
	h := phonettest.Webhooks{URL: newWebhook(t, rec.config())}
	hook := srv.EventWebhook(phonettest.EventDial, "bb", phonettest.DirectionIn, "001", "+380000000000")
	_, err := h.Send(t.Context(), hook)
	assert.Equal(t, http.StatusInternalServerError, replyStatus(t, err))
	rec.mu.Lock()
	rec.fail = false
	rec.mu.Unlock()
	_, err = h.Send(t.Context(), hook)
	require.NoError(t, err)
	assert.Len(t, rec.updates, 1, "the retry of a failed delivery is not a duplicate")
}

// failingMemory is a Memory whose store is down.
type failingMemory struct{}

func (failingMemory) Add(context.Context, string, string, time.Duration) (bool, error) {
	return false, errors.New("memory store down")
}
func (failingMemory) Get(context.Context, string) (string, bool, error) {
	return "", false, errors.New("memory store down")
}
func (failingMemory) Delete(context.Context, string) error { return errors.New("memory store down") }

func TestWebhookMemoryErrorIsRetriable(t *testing.T) {
	t.Parallel()
	srv := phonettest.NewServer(apiKey)
	defer srv.Close()
	rec := &crm{}
	cfg := rec.config()
	cfg.Memory = failingMemory{}
	h := phonettest.Webhooks{URL: newWebhook(t, cfg)}
	_, err := h.Send(t.Context(), srv.EventWebhook(phonettest.EventDial, "cc", phonettest.DirectionIn, "001", "+380000000000"))
	assert.Equal(t, http.StatusInternalServerError, replyStatus(t, err))
	assert.Zero(t, rec.calls(), "nothing is delivered when the memory cannot tell a duplicate")

	cfg.DedupeWindow = -1 // no deduplication: the memory is never asked
	h = phonettest.Webhooks{URL: newWebhook(t, cfg)}
	_, err = h.Send(t.Context(), srv.EventWebhook(phonettest.EventDial, "cc", phonettest.DirectionIn, "001", "+380000000000"))
	require.NoError(t, err)
	assert.Len(t, rec.voipEvents(), 1)
}

// TestWebhookHandlersShareMemory: two handlers behind one load balancer,
// sharing one Memory, deliver a call exactly as one handler does, however
// its deliveries are spread and when Phonet repeats one to both. With a
// Memory each, the repeat is delivered twice.
func TestWebhookHandlersShareMemory(t *testing.T) {
	t.Parallel()
	srv := phonettest.NewServer(apiKey)
	defer srv.Close()
	// The events carry the plain uuid, the finished call the dashed one.
	const id = "d38f07d93b5947aac71194c6bebe1621"
	var record phonettest.Webhook
	dec := json.NewDecoder(bytes.NewReader(readSample(t, "records/outgoing.json")))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&record))
	event := func(ev phonettest.EventType) phonettest.Webhook {
		return srv.EventWebhook(ev, id, phonettest.DirectionOut, "001", "+380993034330")
	}
	dial, bridge, hangup := event(phonettest.EventDial), event(phonettest.EventBridge), event(phonettest.EventHangup)
	// Round-robin, which ends with the bridge repeated to each handler. A
	// lookup is never remembered and takes no part.
	deliveries := []phonettest.Webhook{dial, bridge, hangup, record, bridge, bridge}

	single := spread(t, deliveries)
	mem := voip.NewLocalMemory(0)
	shared := spread(t, deliveries, mem, mem)
	separate := spread(t, deliveries, voip.NewLocalMemory(0), voip.NewLocalMemory(0))

	require.Len(t, single, 4, "start, answer, end and the finished call")
	assert.Equal(t, single, shared)
	require.Len(t, separate, 5, "with a Memory each the repeated bridge is delivered twice")
	assert.Equal(t, voip.EventAnswer, separate[4].Event.Kind)
	assert.Equal(t, id, separate[4].Event.CallID)
	require.NotNil(t, shared[3].Call)
	assert.Equal(t, id, shared[3].Call.ID)
}

// spread sends deliveries round-robin to one handler per memory (one
// handler with a memory of its own when there is none), all feeding one
// CRM, and returns the updates the CRM received.
func spread(t *testing.T, deliveries []phonettest.Webhook, mems ...voip.Memory) []voip.Update {
	t.Helper()
	rec := &crm{}
	var urls []string
	if len(mems) == 0 {
		urls = append(urls, newWebhook(t, rec.config()))
	}
	for _, m := range mems {
		cfg := rec.config()
		cfg.Memory = m
		urls = append(urls, newWebhook(t, cfg))
	}
	for i, w := range deliveries {
		_, err := phonettest.Webhooks{URL: urls[i%len(urls)]}.Send(t.Context(), w)
		require.NoError(t, err)
	}
	return rec.updates
}

func TestWebhookGuards(t *testing.T) {
	t.Parallel()
	const token = "url-token-0123456789"
	rec := &crm{}
	cfg := rec.config()
	cfg.Token = token
	cfg.AllowFrom = append(phonet.PhonetAddresses(), netip.MustParsePrefix("10.1.0.0/16"))
	cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	url := newWebhook(t, cfg)
	body := `{"otherLegNum":"380671234567"}`
	post := func(query, xff, contentType, body string) int {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+query, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", contentType)
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusOK, post("?token="+token, "89.184.65.208", "application/json", body))
	assert.Equal(t, http.StatusOK, post("?token="+token, "6.6.6.6, 10.1.2.3", "application/json", body))
	assert.Equal(t, http.StatusUnauthorized, post("?token=wrong", "89.184.65.208", "application/json", body))
	assert.Equal(t, http.StatusUnauthorized, post("", "89.184.65.208", "application/json", body))
	assert.Equal(t, http.StatusUnauthorized, post("?token="+token, "", "application/json", body), "the proxy itself is not Phonet")
	assert.Equal(t, http.StatusUnauthorized, post("?token="+token, "89.184.65.208, 6.6.6.6", "application/json", body), "a forged left entry")
	assert.Equal(t, http.StatusBadRequest, post("?token="+token, "89.184.65.208", "application/json", `{"event":`))
	assert.Equal(t, http.StatusBadRequest, post("?token="+token, "89.184.65.208", "application/x-www-form-urlencoded", `leg[id]=1&leg[id][x]=2`))
	assert.Len(t, rec.lookups, 2)

	a, b := phonet.PhonetAddresses(), phonet.PhonetAddresses()
	a[0] = netip.Prefix{}
	assert.True(t, b[0].IsValid(), "a fresh slice each call")
	_, err := phonet.NewWebhookHandler(phonet.WebhookConfig{Update: rec.config().Update, AllowFrom: []netip.Prefix{{}}})
	assert.ErrorContains(t, err, "phonet: NewWebhookHandler: invalid prefix")
}

func TestWebhookConfigNeedsACallback(t *testing.T) {
	t.Parallel()
	h, err := phonet.NewWebhookHandler(phonet.WebhookConfig{Token: "secret-0123456789", DedupeWindow: time.Minute})
	assert.Nil(t, h)
	require.ErrorContains(t, err, "phonet: NewWebhookHandler: no callback")
	assert.NotContains(t, err.Error(), "secret-0123456789")
	for _, cfg := range []phonet.WebhookConfig{
		{Update: func(context.Context, voip.Update) error { return nil }},
		{Event: func(context.Context, *phonet.Event) error { return nil }},
		{Lookup: func(context.Context, phonet.LookupRequest) (*phonet.Card, error) { return nil, nil }},
		{Record: func(context.Context, phonet.Record) error { return nil }},
	} {
		_, err := phonet.NewWebhookHandler(cfg)
		assert.NoError(t, err)
	}
}

// TestWebhookRejectsWhatIsNoDelivery: a body that is neither an event, a
// lookup nor a finished call is 400 and calls nothing: once it was
// answered 200 and called Lookup with an empty number.
func TestWebhookRejectsWhatIsNoDelivery(t *testing.T) {
	t.Parallel()
	rec := &crm{}
	url := newWebhook(t, rec.config())
	for _, c := range []struct{ method, contentType, body string }{
		{http.MethodPost, "text/plain", "hello"},
		{http.MethodPost, "application/json", `{"foo":1}`},
		{http.MethodPost, "application/x-www-form-urlencoded", "foo=1"},
		{http.MethodPost, "application/json", `{"event":"","trunkNum":"+380442246595"}`},
		{http.MethodPost, "application/json", `{"endAt":null,"disposition":null}`},
		{http.MethodPost, "", ""},
		{http.MethodGet, "", ""},
	} {
		req, err := http.NewRequestWithContext(t.Context(), c.method, url, strings.NewReader(c.body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", c.contentType)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s %q", c.method, c.body)

		_, err = phonet.ParseWebhook(httptest.NewRequest(c.method, "/hook", strings.NewReader(c.body)))
		var de *phonet.DecodeError
		assert.ErrorAs(t, err, &de, "%q", c.body)
		assert.ErrorIs(t, err, voip.ErrMalformed)
	}
	assert.Zero(t, rec.calls())
}

// parseWebhook parses body as a POST with contentType.
func parseWebhook(contentType, body string) (*phonet.Webhook, error) {
	r := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	return phonet.ParseWebhook(r)
}

func TestParseWebhookForm(t *testing.T) {
	t.Parallel()
	body := "event=call.dial&uuid=cc&lgDirection=4&leg%5Bid%5D=36&leg%5Bext%5D=001&leg2=&otherLegs%5B1%5D%5Bnum%5D=%2B380500000002" +
		"&otherLegs%5B0%5D%5Bnum%5D=%2B380500000001&otherLegs%5B0%5D%5Bid%5D=7&dialAt=1431686100000&trunkNum="
	w, err := parseWebhook("application/x-www-form-urlencoded", body)
	require.NoError(t, err)
	require.NotNil(t, w.Event)
	ev := w.Event
	assert.Equal(t, int64(36), ev.Leg.ID)
	assert.Nil(t, ev.Leg2)
	require.Len(t, ev.OtherLegs, 2)
	assert.Equal(t, "+380500000001", ev.OtherLegs[0].Num)
	assert.Equal(t, "7", ev.OtherLegs[0].ID)
	assert.Equal(t, "+380500000002", ev.OtherLegs[1].Num)
	assert.Empty(t, ev.TrunkNum)
	assert.True(t, json.Valid(ev.Raw))
}

// TestParseWebhookReadsTheRequest: the query of a GET is the delivery,
// less the token; a body beyond the cap is refused.
func TestParseWebhookReadsTheRequest(t *testing.T) {
	t.Parallel()
	w, err := phonet.ParseWebhook(httptest.NewRequest(http.MethodGet, "/hook?otherLegNum=380671234567&token=url-token-0123456789", nil))
	require.NoError(t, err)
	require.NotNil(t, w.Lookup)
	assert.Equal(t, "380671234567", w.Lookup.OtherLegNum)
	assert.JSONEq(t, `{"otherLegNum":"380671234567"}`, string(w.Lookup.Raw))

	big := `{"otherLegNum":"1","x":"` + strings.Repeat("a", voip.DefaultWebhookMaxBody) + `"}`
	_, err = phonet.ParseWebhook(httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(big)))
	var tooBig *http.MaxBytesError
	require.ErrorAs(t, err, &tooBig)
	assert.ErrorIs(t, err, voip.ErrMalformed)
}

// TestWebhookPlayedCalls: the emulator plays whole calls to the handler,
// answered and not; each joins the history, with a recording only when it
// was answered.
func TestWebhookPlayedCalls(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	rec := &crm{}
	h := phonettest.Webhooks{URL: newWebhook(t, rec.config()), Encoding: phonettest.Form}
	answered, err := srv.PlayInbound(t.Context(), h, phonettest.InboundCall{Client: "+380501234567", Ext: "002", Ring: 5 * time.Second, Talk: 42 * time.Second})
	require.NoError(t, err)
	missed, err := srv.PlayInbound(t.Context(), h, phonettest.InboundCall{CallID: "23-1453990999.41", Client: "+380501234568", Ext: "002", Ring: 20 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, "23-1453990999.41", missed)
	_, err = srv.PlayInbound(t.Context(), h, phonettest.InboundCall{Client: "+380501234567", Ext: "404"})
	assert.ErrorContains(t, err, "no user")

	require.Len(t, rec.lookups, 2, "nothing is sent for an unknown ext")
	assert.Equal(t, "+380501234567", rec.lookups[0].OtherLegNum)
	assert.Equal(t, phonettest.DefaultTrunk, rec.lookups[0].TrunkNum)
	evs := rec.voipEvents()
	require.Len(t, evs, 5)
	var kinds []voip.EventKind
	for _, ev := range evs {
		kinds = append(kinds, ev.Kind)
	}
	assert.Equal(t, []voip.EventKind{voip.EventStart, voip.EventAnswer, voip.EventEnd, voip.EventStart, voip.EventEnd}, kinds)
	assert.Equal(t, answered, evs[0].CallID)
	assert.Equal(t, voip.DirectionIn, evs[0].Direction)
	assert.Equal(t, "002", evs[0].Ext)
	assert.Equal(t, 5*time.Second, evs[1].At.Sub(evs[0].At), "answered after the ring")
	assert.Equal(t, 42*time.Second, evs[2].At.Sub(evs[1].At), "ended after the talk")
	assert.Equal(t, voip.DispositionAnswered, evs[2].Disposition)
	assert.Equal(t, voip.DispositionUnknown, evs[4].Disposition)

	byID := map[string]phonet.Record{}
	for r, err := range c.CompanyCalls(t.Context(), phonet.HistoryQuery{From: time.Now().Add(-time.Hour)}) {
		require.NoError(t, err)
		byID[r.Call().ID] = r
	}
	call := byID[answered].Call()
	assert.Equal(t, evs[0].At, call.StartedAt, "the record starts with the first event")
	assert.Equal(t, evs[1].At, call.AnsweredAt)
	assert.Equal(t, evs[2].At, call.StartedAt.Add(call.Duration), "and ends with the last")
	assert.Equal(t, 42*time.Second, call.Talk)
	assert.Equal(t, voip.DispositionAnswered, call.Disposition)
	assert.NotEmpty(t, call.RecordingURL)
	call = byID[missed].Call()
	assert.Equal(t, voip.DispositionNoAnswer, call.Disposition)
	assert.Equal(t, evs[3].At, call.StartedAt)
	assert.Equal(t, evs[4].At, call.StartedAt.Add(call.Duration))
	assert.Empty(t, call.RecordingURL)
}

// TestWebhookPlayOutbound plays the call a CRM placed.
func TestWebhookPlayOutbound(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	rec := &crm{}
	h := phonettest.Webhooks{URL: newWebhook(t, rec.config())}
	id, err := c.GenerateCall(t.Context(), "001", "+380931234567")
	require.NoError(t, err)
	active, err := c.ActiveCalls(t.Context())
	require.NoError(t, err)
	require.Len(t, active, 1)
	placed := srv.Calls()
	require.Len(t, placed, 1)
	require.NoError(t, srv.PlayOutbound(t.Context(), h, placed[0], 3*time.Second, 10*time.Second))
	evs := rec.voipEvents()
	require.Len(t, evs, 3)
	for _, ev := range evs {
		assert.Equal(t, id, ev.CallID)
		assert.Equal(t, voip.DirectionOut, ev.Direction)
		assert.Equal(t, "+380931234567", ev.Client)
		assert.Equal(t, "001", ev.Ext)
	}
	active, err = c.ActiveCalls(t.Context())
	require.NoError(t, err)
	assert.Empty(t, active, "the call ended")
	assert.Error(t, srv.PlayOutbound(t.Context(), h, placed[0], -time.Second, 0))
}
