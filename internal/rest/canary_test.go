package rest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/redact"
	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/internal/testutil"
	"github.com/pbxkit/pbxkit/voip"
)

// canary is a secret that must never be seen: it is used as the registered
// key, a query parameter, a header, a bearer token and a cookie.
const canary = "c4n4ry-S3CRET+/="

// echoCheck is a vendor checker that, like some real vendors, echoes the
// request's credentials in its error message.
func echoCheck(resp *rest.Response) error {
	if resp.StatusCode < 300 {
		return nil
	}
	return &voip.APIError{Code: "E_" + canary, Message: "invalid token " + canary + " apiKey=" + canary}
}

func TestCanarySecretNeverLeaks(t *testing.T) {
	t.Parallel()
	handlers := map[string]http.HandlerFunc{
		"401 echoing the secret": func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"error":"Invalid token `+canary+`","query":"`+r.URL.RawQuery+`"}`, http.StatusUnauthorized)
		},
		"500": func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "boom for "+r.Header.Get("Cookie"), http.StatusInternalServerError)
		},
		"reset":     func(w http.ResponseWriter, _ *http.Request) { reset(t, w) },
		"truncated": func(w http.ResponseWriter, r *http.Request) { faults["truncated"](t, w, r) },
		"slow":      func(w http.ResponseWriter, r *http.Request) { faults["slow"](t, w, r) },
		"not json": func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("<html>token=" + canary + "</html>"))
		},
	}
	urls := map[string]string{"refused": refusedURL(t)}
	for name, h := range handlers {
		urls[name] = newServer(t, h).URL
	}

	for name, base := range urls {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			t.Run(name+"/"+method, func(t *testing.T) {
				t.Parallel()
				logs := &testutil.Logs{}
				c := newClient(t, base, func(cfg *rest.Config) {
					cfg.Redactor = redact.New(canary)
					cfg.Logger = logs.Logger()
					cfg.HTTPClient = &http.Client{Timeout: 100 * time.Millisecond}
					cfg.Header = http.Header{"X-Api-Key": {canary}, "Cookie": {"JSESSIONID=" + canary}}
					cfg.Check = echoCheck
					cfg.Sign = func(req *http.Request, _ []byte) error {
						req.Header.Set("Authorization", "Bearer "+canary)
						return nil
					}
				})
				req := &rest.Request{
					Method: method, Path: "calls", Query: url.Values{"apiKey": {canary}, "token": {canary}},
					Body: []byte(`{"password":"` + canary + `"}`), ContentType: rest.ContentJSON,
				}
				resp, err := c.Do(t.Context(), req)
				if err == nil {
					var v any
					err = resp.DecodeJSON(&v)
				}
				require.Error(t, err)
				assertNoCanary(t, err, logs.String())
			})
		}
	}
}

func TestCanaryInSignErrorAndCancel(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	logs := &testutil.Logs{}
	c := newClient(t, srv.URL, func(cfg *rest.Config) {
		cfg.Redactor = redact.New(canary)
		cfg.Logger = logs.Logger()
		cfg.Sign = func(*http.Request, []byte) error { return fmt.Errorf("cannot sign with key %s", canary) }
	})
	_, err := c.Do(t.Context(), &rest.Request{Method: http.MethodGet, Path: "x", Query: url.Values{"apiKey": {canary}}})
	require.Error(t, err)
	assertNoCanary(t, err, logs.String())

	c = newClient(t, srv.URL, func(cfg *rest.Config) {
		cfg.Redactor = redact.New(canary)
		cfg.Logger = logs.Logger()
		cfg.RetryWaitMin, cfg.RetryWaitMax = time.Second, time.Second
	})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	_, err = c.Do(ctx, &rest.Request{Method: http.MethodGet, Path: "x", Query: url.Values{"apiKey": {canary}}})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assertNoCanary(t, err, logs.String())
}

// assertNoCanary checks the error's message, its %+v form, every *url.Error
// and APIError reachable with errors.As, and the log.
func assertNoCanary(t *testing.T, err error, logs string) {
	t.Helper()
	assertNoCanaryOf(t, canary, err, logs)
}

func assertNoCanaryOf(t *testing.T, canary string, err error, logs string) {
	t.Helper()
	var apiErr *voip.APIError
	var texts = []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), logs}
	if asAPIError(err, &apiErr) {
		b, _ := json.Marshal(apiErr)
		texts = append(texts, string(b))
	}
	var ue *url.Error
	if asURLError(err, &ue) {
		texts = append(texts, ue.Error())
	}
	testutil.NoSecret(t, canary, texts...)
	assert.NotEmpty(t, err.Error())
}

// TestConcealHidesSecretsLearnedAtRunTime: a session id the client learns
// after it was built is hidden from later errors, even in free text.
func TestConcealHidesSecretsLearnedAtRunTime(t *testing.T) {
	t.Parallel()
	const session = "B7F1C0FFEE42SESSION"
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "session "+session+" expired", http.StatusForbidden)
	})
	logs := &testutil.Logs{}
	c := newClient(t, srv.URL, func(cfg *rest.Config) { cfg.Logger = logs.Logger() })
	for i := range 6 {
		c.Conceal(fmt.Sprintf("older-session-%d", i)) // more than are kept
	}
	c.Conceal(session)
	c.Conceal(session)
	_, err := c.Do(t.Context(), &rest.Request{Method: http.MethodGet, Path: "x"})
	require.ErrorIs(t, err, voip.ErrForbidden)
	assertNoCanaryOf(t, session, err, logs.String())
	var apiErr *voip.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Contains(t, apiErr.Body, "session [REDACTED] expired")
}
