package phonet_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/phonet"
	"github.com/pbxkit/pbxkit/phonet/phonettest"
	"github.com/pbxkit/pbxkit/voip"
)

// crm records what the webhook handler delivered.
type crm struct {
	mu      sync.Mutex
	updates []voip.Event
	events  []*phonet.Event
	lookups []phonet.LookupRequest
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
			c.updates = append(c.updates, *u.Event)
			return nil
		},
		Event: func(_ context.Context, ev *phonet.Event) error {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.events = append(c.events, ev)
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

func newWebhook(t *testing.T, cfg phonet.WebhookConfig) string {
	t.Helper()
	h, err := phonet.NewWebhookHandler(cfg)
	require.NoError(t, err)
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}

func TestWebhookEventsBothEncodings(t *testing.T) {
	t.Parallel()
	srv := phonettest.NewServer(apiKey)
	defer srv.Close()
	for _, enc := range []phonettest.Encoding{phonettest.JSON, phonettest.Form} {
		rec := &crm{}
		url := newWebhook(t, rec.config())
		for _, event := range []string{"call.dial", "call.bridge", "call.bridge", "call.hangup"} {
			status, body, err := phonettest.Fire(t.Context(), nil, url, srv.EventWebhook(event, "47a968893984475b8c20e29dec144ce3", 4, "001", "+380000000000"), enc)
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, status)
			assert.JSONEq(t, `[]`, string(body))
		}
		require.Len(t, rec.updates, 3, "the duplicate bridge is dropped")
		assert.Equal(t, []voip.EventKind{voip.EventStart, voip.EventAnswer, voip.EventEnd},
			[]voip.EventKind{rec.updates[0].Kind, rec.updates[1].Kind, rec.updates[2].Kind})
		u := rec.updates[1]
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
	url := newWebhook(t, rec.config())
	status, _, err := phonettest.Fire(t.Context(), nil, url, srv.EventWebhook("call.bridge", "aa", 32, "001", ""), phonettest.Form)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
	assert.Empty(t, rec.updates)
	require.Len(t, rec.events, 1)
	p, ok := rec.events[0].Presence()
	require.True(t, ok)
	assert.Equal(t, "001", p.Ext)
}

func TestWebhookLookup(t *testing.T) {
	t.Parallel()
	rec := &crm{}
	url := newWebhook(t, rec.config())
	for _, enc := range []phonettest.Encoding{phonettest.JSON, phonettest.Form} {
		status, body, err := phonettest.Fire(t.Context(), nil, url, phonettest.LookupWebhook("+380000000000", "+380442246595"), enc)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, status)
		assert.JSONEq(t, `{"name":"Анастасия Березкина","url":"https://crm.example.com/clients/123","urlText":"Анастасия Березкина",
			"newEntity":false,"responsibleEmployeeExt":"001","responsibleEmployeeEmail":"manager@example.com"}`, string(body))
		status, body, err = phonettest.Fire(t.Context(), nil, url, phonettest.LookupWebhook("380671234567", ""), enc)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, status)
		assert.JSONEq(t, `{"name":null,"url":"https://crm.example.com/clients/new?phone=380671234567","urlText":"Add contact",
			"newEntity":true,"responsibleEmployeeExt":null,"responsibleEmployeeEmail":null}`, string(body))
	}
	assert.Equal(t, "+380442246595", rec.lookups[0].TrunkNum)

	// No Lookup callback: a card of nulls.
	url = newWebhook(t, phonet.WebhookConfig{})
	resp, err := http.Get(url + "?otherLegNum=380671234567")
	require.NoError(t, err)
	defer resp.Body.Close()
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
	url := newWebhook(t, rec.config())
	hook := srv.EventWebhook("call.dial", "bb", 4, "001", "+380000000000")
	status, _, err := phonettest.Fire(t.Context(), nil, url, hook, phonettest.JSON)
	require.NoError(t, err)
	assert.Equal(t, http.StatusInternalServerError, status)
	rec.mu.Lock()
	rec.fail = false
	rec.mu.Unlock()
	status, _, err = phonettest.Fire(t.Context(), nil, url, hook, phonettest.JSON)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
	assert.Len(t, rec.updates, 1, "the retry of a failed delivery is not a duplicate")
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

	a, b := phonet.PhonetAddresses(), phonet.PhonetAddresses()
	a[0] = netip.Prefix{}
	assert.True(t, b[0].IsValid(), "a fresh slice each call")
	_, err := phonet.NewWebhookHandler(phonet.WebhookConfig{AllowFrom: []netip.Prefix{{}}})
	assert.Error(t, err)
}

func TestParseWebhookForm(t *testing.T) {
	t.Parallel()
	body := "event=call.dial&uuid=cc&lgDirection=4&leg%5Bid%5D=36&leg%5Bext%5D=001&leg2=&otherLegs%5B1%5D%5Bnum%5D=%2B380500000002" +
		"&otherLegs%5B0%5D%5Bnum%5D=%2B380500000001&otherLegs%5B0%5D%5Bid%5D=7&dialAt=1431686100000&trunkNum="
	w, err := phonet.ParseWebhook("application/x-www-form-urlencoded", []byte(body))
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
