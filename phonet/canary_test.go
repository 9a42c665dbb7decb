package phonet_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/testutil"
	"github.com/pbxkit/pbxkit/phonet"
	"github.com/pbxkit/pbxkit/voip"
)

// canary is an apiKey, and canarySession a JSESSIONID, that must never be
// seen in an error or a log line.
const (
	canary        = "c4n4ry-PHONET-S3CRET"
	canarySession = "C4N4RY-SESSION-0123456789"
)

// TestCanaryNeverLeaks provokes REST and socket failures from a server that
// echoes everything it got (body, query, cookie) and looks for the apiKey
// and the session id in error strings and logs.
func TestCanaryNeverLeaks(t *testing.T) {
	t.Parallel()
	echo := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/rest/security/authorize" {
				http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: canarySession})
				b, _ := io.ReadAll(r.Body)
				if status == http.StatusUnauthorized {
					w.WriteHeader(status)
					_, _ = w.Write(b)
				}
				return
			}
			w.Header().Set("Location", "/login.jsp?"+r.URL.RawQuery)
			w.WriteHeader(status)
			_, _ = w.Write([]byte("echo " + r.URL.String() + " cookie " + r.Header.Get("Cookie") + " JSESSIONID=" + canarySession + " apiKey=" + canary))
		}
	}
	handlers := map[string]http.HandlerFunc{
		"401 authorize echo": echo(http.StatusUnauthorized),
		"403 echo":           echo(http.StatusForbidden),
		"302 echo":           echo(http.StatusFound),
		"400 echo":           echo(http.StatusBadRequest),
		"502 echo":           echo(http.StatusBadGateway),
		"reset":              faults["reset"],
		"slow":               slowAfter(300 * time.Millisecond),
		"truncated":          faults["truncated"],
		// The key across the cut of the message (200 bytes) and of the
		// body excerpt (512), and base64-encoded.
		"long text echo": func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, strings.Repeat("x", 190)+canary, http.StatusBadRequest)
		},
		"long html echo": func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "<html>"+strings.Repeat("x", 500)+canary, http.StatusBadRequest)
		},
		"base64 echo": func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, base64.StdEncoding.EncodeToString([]byte(r.URL.String())), http.StatusBadRequest)
		},
	}
	for name, h := range handlers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			logs := &testutil.Logs{}
			s := httptest.NewServer(h)
			defer s.Close()
			c, err := phonet.New("canary.phonet.com.ua", canary, phonet.WithBaseURL(s.URL), fastRetries,
				phonet.WithLogger(logs.Logger()), phonet.WithHTTPClient(&http.Client{Timeout: 100 * time.Millisecond}))
			require.NoError(t, err)
			var errs []error
			_, err = c.Users(t.Context())
			errs = append(errs, err)
			_, err = c.MakeCall(t.Context(), "001", "380931234567")
			errs = append(errs, err)
			for _, err := range c.CompanyCalls(t.Context(), phonet.HistoryQuery{From: time.Now().Add(-time.Hour)}) {
				errs = append(errs, err)
			}
			_, err = c.DownloadRecording(t.Context(), "abc", phonet.ChannelMixed, &bytes.Buffer{})
			errs = append(errs, err)
			_, err = c.Subscribe(t.Context(), "001", fastSocket...)
			errs = append(errs, err)
			hub, err := c.Watch(t.Context(), []string{"001", "002"}, fastSocket...)
			if err == nil {
				// A transient refusal keeps the Hub trying: its notices
				// carry the errors.
				for range 2 {
					n := nextNotice(t, hub.Notices(), voip.NoticeDisconnected)
					errs = append(errs, n.Err)
				}
				require.NoError(t, hub.Close())
			} else {
				errs = append(errs, err)
			}
			texts := []string{logs.String()}
			for _, err := range errs {
				require.Error(t, err)
				texts = append(texts, testutil.ErrorTexts(err)...)
			}
			testutil.NoSecret(t, canary, texts...)
			testutil.NoSecret(t, canarySession, texts...)
		})
	}
}

// TestCanarySocketLogs runs a live socket through drops and a failing
// reconnect with a Debug logger, and checks its logs.
func TestCanarySocketLogs(t *testing.T) {
	t.Parallel()
	logs := &testutil.Logs{}
	srv := newCanaryEmulator(t)
	c, err := phonet.New(srv.Domain, canary, phonet.WithBaseURL(srv.BaseURL()), phonet.WithLogger(logs.Logger()))
	require.NoError(t, err)
	st, err := c.Subscribe(t.Context(), "001", fastSocket...)
	require.NoError(t, err)
	awaitSockets(t, srv, 1)
	srv.Push("001", []byte(`{"event":`)) // a malformed frame is logged
	srv.DropSockets()
	n := nextNotice(t, st.Notices(), 2)
	require.NoError(t, st.Close())
	testutil.NoSecret(t, canary, append(testutil.ErrorTexts(n.Err), logs.String(), n.String())...)
	require.Contains(t, logs.String(), "REDACTED")
}

// TestCanaryWebhookToken: the URL token reaches no delivery's Raw, neither
// through the handler (GET, where the query is the delivery, and POST) nor
// through ParseWebhook, and no log line of a rejected request.
func TestCanaryWebhookToken(t *testing.T) {
	t.Parallel()
	logs := &testutil.Logs{}
	var (
		mu   sync.Mutex
		raws []string
	)
	keep := func(raw []byte) {
		mu.Lock()
		defer mu.Unlock()
		raws = append(raws, string(raw))
	}
	for _, param := range []string{"", "key"} {
		cfg := phonet.WebhookConfig{
			Token: canary, TokenParam: param, Logger: logs.Logger(),
			Update: func(_ context.Context, u voip.Update) error {
				if u.Event != nil {
					keep(u.Event.Raw)
				} else {
					keep(u.Call.Raw)
				}
				return nil
			},
			Event:  func(_ context.Context, ev *phonet.Event) error { keep(ev.Raw); return nil },
			Record: func(_ context.Context, r phonet.Record) error { keep(r.Raw); return nil },
			Lookup: func(_ context.Context, r phonet.LookupRequest) (*phonet.Card, error) {
				keep(r.Raw)
				return nil, nil
			},
		}
		h, err := phonet.NewWebhookHandler(cfg)
		require.NoError(t, err)
		name := cmp.Or(param, phonet.DefaultTokenParam)
		for _, q := range []url.Values{
			{name: {canary}, "otherLegNum": {"380671234567"}},
			{name: {canary}, "event": {"call.dial"}, "uuid": {"47a968893984475b8c20e29dec144ce3"}, "lgDirection": {"4"}},
			{name: {canary}, "uuid": {"d38f07d9-3b59-47aa-c711-94c6bebe1621"}, "endAt": {"1435317888511"}, "duration": {"4"}},
			{name: {"wrong-" + canary}, "otherLegNum": {"380671234567"}},
			{name: {canary}, "foo": {canary}},
		} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/hook?"+q.Encode(), nil))
			require.NotEqual(t, http.StatusInternalServerError, rec.Code)
			testutil.NoSecret(t, canary, rec.Body.String())
			rec = httptest.NewRecorder()
			post := httptest.NewRequest(http.MethodPost, "/hook?"+name+"="+canary, strings.NewReader(`{"otherLegNum":"380671234567"}`))
			h.ServeHTTP(rec, post)
			require.Equal(t, http.StatusOK, rec.Code)
		}
	}
	w, err := phonet.ParseWebhook(httptest.NewRequest(http.MethodGet, "/hook?token="+canary+"&otherLegNum=1", nil))
	require.NoError(t, err)
	keep(w.Lookup.Raw)
	// Per token name: a GET lookup, an event (Event and Update), a record
	// (Record and Update), five POST lookups; and ParseWebhook's.
	require.Len(t, raws, 2*(1+2+2+5)+1)
	testutil.NoSecret(t, canary, append(raws, logs.String())...)
	require.Contains(t, logs.String(), "webhook rejected", "the wrong token and the body that is no delivery are logged")
}

// TestCanaryClick2CallErrorReply: Phonet's error reply to a click2call may
// quote the socket URL, apiKey included; neither Stream.Call nor Hub.Call
// returns it, and an error frame that no call waits for reaches Events
// without it.
func TestCanaryClick2CallErrorReply(t *testing.T) {
	t.Parallel()
	srv := newCanaryEmulator(t)
	quoted := "wrong number for wss://" + srv.Domain + "/live/connector/v3/easy?domain=" + srv.Domain +
		"&apiKey=" + canary + "&subscriber=001, or apiKey " + canary
	srv.FailClick2Call(quoted)
	c, err := phonet.New(srv.Domain, canary, phonet.WithBaseURL(srv.BaseURL()))
	require.NoError(t, err)

	st, err := c.Subscribe(t.Context(), "001", fastSocket...)
	require.NoError(t, err)
	defer st.Close()
	hub, err := c.Watch(t.Context(), []string{"002"}, fastSocket...)
	require.NoError(t, err)
	defer hub.Close()
	awaitSockets(t, srv, 2)

	var texts []string
	err = st.Call(t.Context(), "380931234567")
	require.ErrorIs(t, err, voip.ErrBadRequest)
	texts = append(texts, testutil.ErrorTexts(err)...)
	err = hub.Call(t.Context(), "002", "380931234567")
	require.ErrorIs(t, err, voip.ErrBadRequest)
	texts = append(texts, testutil.ErrorTexts(err)...)
	require.Contains(t, err.Error(), "wrong number", "the vendor's words are kept")

	srv.Push("001", []byte(`{"event":"error","message":"`+quoted+`"}`)) // no call waits for it
	ev := nextEvent(t, st.Events())
	require.Equal(t, phonet.EventError, ev.Type)
	require.True(t, json.Valid(ev.Raw), "Raw stays JSON: %s", ev.Raw)
	texts = append(texts, ev.Message, string(ev.Raw))
	testutil.NoSecret(t, canary, texts...)
}
