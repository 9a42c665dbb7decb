package phonet_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/testutil"
	"github.com/pbxkit/pbxkit/phonet"
	"github.com/pbxkit/pbxkit/phonet/phonettest"
	"github.com/pbxkit/pbxkit/voip"
)

// These tests hold the client to the protocol notes' own samples
// (testdata/vendor, copied verbatim), not to the emulator's reading of them.

// seen is one request as a recording stub received it.
type seen struct {
	Method, Path, RawQuery, ContentType, Cookie string
	Query                                       map[string][]string
	Body                                        []byte
}

// recorder is a stub tenant that answers with the vendor samples and keeps
// every request.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newRecorder(t *testing.T) (*recorder, *phonet.Client) {
	t.Helper()
	rec := &recorder{}
	samples := map[string][]byte{}
	for _, name := range []string{"makecall_response.json", "active_calls.json", "users.json", "complete_calls.json"} {
		samples[name] = readSample(t, "vendor/"+name)
	}
	sample := func(name string) []byte { return samples[name] }
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, seen{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
			ContentType: r.Header.Get("Content-Type"), Cookie: r.Header.Get("Cookie"), Query: r.URL.Query(), Body: body})
		rec.mu.Unlock()
		switch p := r.URL.Path; {
		case p == "/rest/security/authorize":
			w.Header().Set("Set-Cookie", "JSESSIONID=7F3A9C0D2B6E4F1A8C5D3E2F1A0B9C8D; Path=/; HttpOnly")
		case p == "/rest/user/makeCall":
			_, _ = w.Write(sample("makecall_response.json"))
		case strings.HasSuffix(p, "/hangup"):
		case p == "/rest/calls/active/v3":
			_, _ = w.Write(sample("active_calls.json"))
		case p == "/rest/users":
			_, _ = w.Write(sample("users.json"))
		case strings.HasPrefix(p, "/rest/calls/") && strings.HasSuffix(p, ".api"):
			_, _ = w.Write(sample("complete_calls.json"))
		default:
			http.Error(w, "Forbidden", http.StatusForbidden)
		}
	}))
	t.Cleanup(rec.Close)
	c, err := phonet.New("mycompany.phonet.com.ua", apiKey, phonet.WithBaseURL(rec.URL), fastRetries)
	require.NoError(t, err)
	return rec, c
}

func (r *recorder) requests(path string) []seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []seen
	for _, s := range r.reqs {
		if s.Path == path {
			out = append(out, s)
		}
	}
	return out
}

// TestRequestsMatchTheProtocol checks what the client sends, byte for
// field, against the notes: §1 authorize, §2.1 makeCall, §2.2 hangup, §2.3
// active calls, §2.4 history query, §2.5 users, §5 the socket URL.
func TestRequestsMatchTheProtocol(t *testing.T) {
	t.Parallel()
	rec, c := newRecorder(t)
	ctx := t.Context()

	id, err := c.MakeCall(ctx, "001", "+380930439475")
	require.NoError(t, err)
	assert.Equal(t, "<call uuid>", id)
	require.NoError(t, c.HangupCall(ctx, "47a968893984475b8c20e29dec144ce3"))
	_, err = c.ActiveCalls(ctx)
	require.NoError(t, err)
	_, err = c.Users(ctx)
	require.NoError(t, err)
	from := time.UnixMilli(1435310000000)
	to := time.UnixMilli(1435320000000)
	for _, err := range c.CompanyCalls(ctx, phonet.HistoryQuery{From: from, To: to}) {
		require.NoError(t, err)
	}

	auth := rec.requests("/rest/security/authorize")
	require.Len(t, auth, 1, "one lazy session")
	assert.Equal(t, http.MethodPost, auth[0].Method)
	assert.Equal(t, "application/json", auth[0].ContentType)
	var want, got map[string]any
	require.NoError(t, json.Unmarshal(readSample(t, "vendor/authorize_request.json"), &want))
	require.NoError(t, json.Unmarshal(auth[0].Body, &got))
	want["domain"], want["apiKey"] = "mycompany.phonet.com.ua", apiKey
	assert.Equal(t, want, got, "both domain and apiKey, nothing else")

	mc := rec.requests("/rest/user/makeCall")
	require.Len(t, mc, 1)
	assert.Equal(t, http.MethodPost, mc[0].Method)
	assert.Equal(t, "application/json", mc[0].ContentType)
	assert.JSONEq(t, string(readSample(t, "vendor/makecall_request.json")), string(mc[0].Body))

	hang := rec.requests("/rest/calls/active/47a968893984475b8c20e29dec144ce3/hangup")
	require.Len(t, hang, 1)
	assert.Equal(t, http.MethodGet, hang[0].Method)
	assert.Empty(t, hang[0].Body)

	hist := rec.requests("/rest/calls/company.api")
	require.Len(t, hist, 1, "two rows are a short page")
	assert.Equal(t, map[string][]string{
		"timeFrom": {"1435310000000"}, "timeTo": {"1435320000000"}, "limit": {"50"}, "offset": {"0"},
	}, hist[0].Query, "ms, limit 50, 0-based offset")

	rest := append(append(append(hang, rec.requests("/rest/calls/active/v3")...), rec.requests("/rest/users")...), hist...)
	rest = append(rest, mc...)
	require.Len(t, rest, 5)
	for _, r := range rest {
		assert.Equal(t, "JSESSIONID=7F3A9C0D2B6E4F1A8C5D3E2F1A0B9C8D", r.Cookie, r.Path)
		if r.Method == http.MethodGet {
			assert.Equal(t, "application/json", r.ContentType, "every public client sends it, even on GET: %s", r.Path)
		}
	}

	_, err = c.Subscribe(ctx, "manager@example.com", fastSocket...)
	require.ErrorIs(t, err, voip.ErrForbidden)
	live := rec.requests("/live/connector/v3/easy")
	require.NotEmpty(t, live)
	assert.Equal(t, map[string][]string{
		"domain": {"mycompany.phonet.com.ua"}, "apiKey": {apiKey}, "subscriber": {"manager@example.com"},
	}, live[0].Query)
	assert.Empty(t, live[0].Cookie, "the socket authenticates by its query alone")
}

// TestVendorSamplesThroughTheClient serves the notes' response samples as
// Phonet would and compares what the client makes of them with golden
// files: the active calls list (seconds, string ids, null leg2 and
// otherLegs), the history page (dashed uuids, trailing spaces, null
// trunk) and the users.
func TestVendorSamplesThroughTheClient(t *testing.T) {
	t.Parallel()
	_, c := newRecorder(t)
	ctx := t.Context()

	active, err := c.ActiveCalls(ctx)
	require.NoError(t, err)
	require.Len(t, active, 2)
	type activeOut struct {
		Event *phonet.Event
		Voip  voip.Event
	}
	var aout []activeOut
	for _, ev := range active {
		ev.ReceivedAt, ev.Raw = receivedAt, nil
		v, ok := ev.Voip()
		require.True(t, ok)
		aout = append(aout, activeOut{ev, v})
	}
	assert.Equal(t, phonet.EventBridge, active[1].Type)
	assert.Equal(t, "002", active[1].Leg2.Ext)
	assert.Nil(t, active[1].OtherLegs)
	golden(t, "vendor_active_calls", aout)

	type recordOut struct {
		Record phonet.Record
		Call   voip.Call
	}
	var rout []recordOut
	for r, err := range c.CompanyCalls(ctx, phonet.HistoryQuery{From: time.UnixMilli(1435310000000)}) {
		require.NoError(t, err)
		call := r.Call()
		r.Raw, call.Raw = nil, nil
		rout = append(rout, recordOut{r, call})
	}
	require.Len(t, rout, 2)
	assert.False(t, strings.HasSuffix(rout[0].Record.AudioRecURL, " "))
	golden(t, "vendor_complete_calls", rout)

	users, err := c.Users(ctx)
	require.NoError(t, err)
	members, err := c.Members(ctx)
	require.NoError(t, err)
	golden(t, "vendor_users", struct {
		Users   []phonet.User
		Members []voip.Member
	}{users, members})
}

// TestCardMatchesTheVendorSamples writes the two lookup replies of §4.2.
func TestCardMatchesTheVendorSamples(t *testing.T) {
	t.Parallel()
	known, err := json.Marshal(phonet.Card{Name: "Анастасия Березкина", URL: "https://crm.example.com/clients/123?phone=380000000000",
		URLText: "Анастасия Березкина", ResponsibleEmployeeExt: "001", ResponsibleEmployeeEmail: "manager@example.com"})
	require.NoError(t, err)
	assert.JSONEq(t, string(readSample(t, "vendor/card_known.json")), string(known))
	unknown, err := json.Marshal(phonet.Card{NewEntity: true, URL: "https://crm.example.com/clients/new?phone=...", URLText: "Add contact"})
	require.NoError(t, err)
	assert.JSONEq(t, string(readSample(t, "vendor/card_unknown.json")), string(unknown))
}

// TestSessionIDNeverInErrors: a server that quotes the session id in free
// text (no "JSESSIONID=" before it) must not put it in an error.
func TestSessionIDNeverInErrors(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusBadRequest, http.StatusForbidden, http.StatusInternalServerError} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/rest/security/authorize" {
					http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: canarySession})
					return
				}
				w.WriteHeader(status)
				_, _ = fmt.Fprintf(w, "request refused for session %s", canarySession)
			}))
			defer s.Close()
			logs := &testutil.Logs{}
			c, err := phonet.New("canary.phonet.com.ua", canary, phonet.WithBaseURL(s.URL), fastRetries, phonet.WithLogger(logs.Logger()))
			require.NoError(t, err)
			var errs []error
			_, err = c.Users(t.Context())
			errs = append(errs, err)
			_, err = c.MakeCall(t.Context(), "001", "380931234567")
			errs = append(errs, err)
			require.NoError(t, c.TestConnection(t.Context()))
			_, err = c.DownloadRecording(t.Context(), "abc", phonet.ChannelMixed, &bytes.Buffer{})
			errs = append(errs, err)
			for _, err := range c.UsersCalls(t.Context(), phonet.HistoryQuery{From: time.Now().Add(-time.Hour)}) {
				errs = append(errs, err)
			}
			texts := []string{logs.String()}
			for _, err := range errs {
				require.Error(t, err)
				texts = append(texts, err.Error(), fmt.Sprintf("%+v", err))
				var ae *voip.APIError
				require.ErrorAs(t, err, &ae)
				texts = append(texts, ae.Body, ae.Message, ae.Error())
			}
			testutil.NoSecret(t, canarySession, texts...)
			testutil.NoSecret(t, canary, texts...)
		})
	}
}

// TestMakeCallContextEndIsAmbiguous: when ctx ends while makeCall is on
// its way, Phonet may have placed the call, so the error must say
// ambiguous (and still match the context's error); when ctx ended before,
// nothing was sent and it is a plain cancellation.
func TestMakeCallContextEndIsAmbiguous(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	release := make(chan struct{})
	defer close(release)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/rest/security/authorize" {
			http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: "S1"})
			return
		}
		hits.Add(1)
		_, _ = io.Copy(io.Discard, r.Body) // so that the server sees the client leave
		// The call is placed; the answer is slow.
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer s.Close()
	c, err := phonet.New("x.phonet.com.ua", apiKey, phonet.WithBaseURL(s.URL), fastRetries)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err = c.MakeCall(ctx, "001", "380931234567")
	require.Error(t, err)
	assert.ErrorIs(t, err, voip.ErrAmbiguous)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.EqualValues(t, 1, hits.Load(), "sent once, never repeated")

	done, cancelNow := context.WithCancel(t.Context())
	cancelNow()
	_, err = c.MakeCall(done, "001", "380931234567")
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, voip.ErrAmbiguous, "nothing was sent")
	assert.EqualValues(t, 1, hits.Load())

	// A read cut short by its context is not ambiguous: it may be repeated.
	rctx, rcancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer rcancel()
	_, err = c.Users(rctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotErrorIs(t, err, voip.ErrAmbiguous)
}

// TestMakeCallRepeatedOnlyAfterARefusal: a 401 before re-authorizing leads
// to exactly one repeat; a refusal again is returned, not repeated further.
func TestMakeCallRepeatedOnlyAfterARefusal(t *testing.T) {
	t.Parallel()
	var hits, auths atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/rest/security/authorize" {
			http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: fmt.Sprint("S", auths.Add(1))})
			return
		}
		hits.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer s.Close()
	c, err := phonet.New("x.phonet.com.ua", apiKey, phonet.WithBaseURL(s.URL), fastRetries)
	require.NoError(t, err)
	_, err = c.MakeCall(t.Context(), "001", "380931234567")
	require.ErrorIs(t, err, voip.ErrUnauthorized)
	assert.NotErrorIs(t, err, voip.ErrAmbiguous, "a refusal was not processed")
	assert.EqualValues(t, 2, hits.Load(), "the first try and one repeat after a new session")
	assert.EqualValues(t, 2, auths.Load())
}

// TestWebhookFullCallInformation: the «Передача повної інформації про
// дзвінок» URL posts a finished call without event; it must not be taken
// for a client-card lookup. The notes' history sample stands in for it, as
// JSON and as a PHP-style form.
func TestWebhookFullCallInformation(t *testing.T) {
	t.Parallel()
	for _, enc := range []phonettest.Encoding{phonettest.JSON, phonettest.Form} {
		var (
			mu      sync.Mutex
			records []phonet.Record
			calls   []voip.Call
			lookups int
		)
		url := newWebhook(t, phonet.WebhookConfig{
			Record: func(_ context.Context, r phonet.Record) error {
				mu.Lock()
				defer mu.Unlock()
				records = append(records, r)
				return nil
			},
			Update: func(_ context.Context, u voip.Update) error {
				mu.Lock()
				defer mu.Unlock()
				require.NotNil(t, u.Call)
				calls = append(calls, *u.Call)
				return nil
			},
			Lookup: func(context.Context, phonet.LookupRequest) (*phonet.Card, error) {
				mu.Lock()
				defer mu.Unlock()
				lookups++
				return nil, nil
			},
		})
		dec := json.NewDecoder(bytes.NewReader(readSample(t, "records/outgoing.json")))
		dec.UseNumber() // keep 1435317888511 whole in the form
		var hook phonettest.Webhook
		require.NoError(t, dec.Decode(&hook))
		for range 2 { // a duplicate delivery
			body, err := phonettest.Webhooks{URL: url, Encoding: enc}.Send(t.Context(), hook)
			require.NoError(t, err)
			assert.JSONEq(t, `[]`, string(body))
		}
		mu.Lock()
		assert.Zero(t, lookups, "not a lookup")
		require.Len(t, records, 1, "the duplicate is dropped")
		require.Len(t, calls, 1)
		r := records[0]
		assert.Equal(t, "d38f07d9-3b59-47aa-c711-94c6bebe1621", r.UUID)
		assert.Equal(t, 15*time.Second, r.Duration)
		assert.True(t, r.HasDisposition)
		assert.Equal(t, "380442249895", r.Line())
		assert.Equal(t, "d38f07d93b5947aac71194c6bebe1621", calls[0].ID)
		assert.Equal(t, voip.DispositionAnswered, calls[0].Disposition)
		assert.Equal(t, time.UnixMilli(1435317888511-15000).UTC(), calls[0].StartedAt)
		mu.Unlock()
	}

	// A lookup stays a lookup.
	w, err := parseWebhook("application/json", `{"otherLegNum":"+380000000000","trunkNum":"+380442246595"}`)
	require.NoError(t, err)
	require.NotNil(t, w.Lookup)
	assert.Nil(t, w.Record)
	w, err = parseWebhook("application/x-www-form-urlencoded", `otherLegNum=380671234567&endAt=&disposition=`)
	require.NoError(t, err)
	assert.NotNil(t, w.Lookup, "empty outcome fields are no record")
}

// TestHistoryStopsWhenOffsetIsIgnored: a server that serves the same full
// page whatever the offset must not be paged forever.
func TestHistoryStopsWhenOffsetIsIgnored(t *testing.T) {
	t.Parallel()
	var page bytes.Buffer
	page.WriteString("[")
	for i := range phonet.MaxPageSize {
		if i > 0 {
			page.WriteString(",")
		}
		fmt.Fprintf(&page, `{"uuid":"u%d","endAt":1435317888511,"duration":4,"billSecs":3,"disposition":0}`, i)
	}
	page.WriteString("]")
	s, c := newStub(t, reply(http.StatusOK, page.String()))
	n := 0
	var last error
	for _, err := range c.CompanyCalls(t.Context(), phonet.HistoryQuery{From: time.Now().Add(-time.Hour)}) {
		if err != nil {
			last = err
			break
		}
		n++
	}
	assert.Equal(t, phonet.MaxPageSize, n)
	require.Error(t, last)
	assert.ErrorIs(t, last, voip.ErrBadResponse)
	assert.EqualValues(t, 2, s.hits.Load())

	// A page longer than limit moves the offset past all its rows.
	var offsets []string
	var mu sync.Mutex
	_, c = newStub(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		offsets = append(offsets, r.URL.Query().Get("offset"))
		mu.Unlock()
		if r.URL.Query().Get("offset") == "0" {
			_, _ = w.Write(bytes.Replace(page.Bytes(), []byte(`[`), []byte(`[{"uuid":"extra"},`), 1))
			return
		}
		_, _ = w.Write([]byte(`[]`))
	})
	n = 0
	for _, err := range c.CompanyCalls(t.Context(), phonet.HistoryQuery{From: time.Now().Add(-time.Hour)}) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, phonet.MaxPageSize+1, n)
	assert.Equal(t, []string{"0", "51"}, offsets)
}

// TestRecordLineReadsTheFirstValue: the trunk field is "o=…;" in the
// sample; further pairs must not stick to the number.
func TestRecordLineReadsTheFirstValue(t *testing.T) {
	t.Parallel()
	for trunk, want := range map[string]string{
		"o=380442249895;":         "380442249895",
		"o=380442249895;n=Sales;": "380442249895",
		" 380442249895 ":          "380442249895",
		";o=380442249895":         "380442249895",
		"":                        "",
		"o=;":                     "",
	} {
		assert.Equal(t, want, phonet.Record{Trunk: trunk}.Line(), trunk)
	}
}

// TestSharedAuthorizeFailureIsScrubbedSafely: requests that wait for one
// failing authorize share its error; scrubbing it must not race (-race)
// nor leave the old session id in any of them.
func TestSharedAuthorizeFailureIsScrubbedSafely(t *testing.T) {
	t.Parallel()
	var expired atomic.Bool
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/rest/security/authorize" && !expired.Load():
			http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: canarySession})
		case r.URL.Path == "/rest/security/authorize":
			time.Sleep(50 * time.Millisecond) // let the others join the flight
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = fmt.Fprintf(w, "no new session while %s is open", canarySession)
		case expired.Load():
			w.WriteHeader(http.StatusForbidden)
		default:
			_, _ = w.Write([]byte(`[]`))
		}
	}))
	defer s.Close()
	c, err := phonet.New("x.phonet.com.ua", apiKey, phonet.WithBaseURL(s.URL), fastRetries)
	require.NoError(t, err)
	_, err = c.Users(t.Context())
	require.NoError(t, err)
	expired.Store(true)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.Users(t.Context())
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.ErrorIs(t, err, voip.ErrUnauthorized)
		var ae *voip.APIError
		require.ErrorAs(t, err, &ae)
		testutil.NoSecret(t, canarySession, err.Error(), ae.Body, ae.Message)
	}
}
