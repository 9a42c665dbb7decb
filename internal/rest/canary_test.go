package rest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
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
	texts := append(testutil.ErrorTexts(err), logs)
	var apiErr *voip.APIError
	if errors.As(err, &apiErr) {
		b, _ := json.Marshal(apiErr)
		texts = append(texts, string(b))
	}
	testutil.NoSecret(t, canary, texts...)
	assert.NotEmpty(t, err.Error())
}

// longCanary is as long as New-Tel's keys, so that it straddles every cut.
const longCanary = "c4a7a12ccc4a7a12ccc4a7a12ccc4a7a12ccc4a7a12ccc4a"

// TestCanaryStraddlingEveryCut: a registered secret that a vendor echoes
// across the point where the body excerpt (512 bytes), the message (200) or
// the logged request body (512) is cut leaves no part of itself behind.
func TestCanaryStraddlingEveryCut(t *testing.T) {
	t.Parallel()
	pad := func(r *http.Request) string {
		n, _ := strconv.Atoi(r.URL.Query().Get("pad"))
		return strings.Repeat("x", n)
	}
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, pad(r)+longCanary+" is not a valid key", http.StatusBadRequest)
	})
	logs := &testutil.Logs{}
	c := newClient(t, srv.URL, func(cfg *rest.Config) {
		cfg.Redactor = redact.New(longCanary)
		cfg.Logger = logs.Logger()
		cfg.Check = func(resp *rest.Response) error {
			if resp.StatusCode < 300 {
				return nil
			}
			return &voip.APIError{Message: rest.TextMessage(resp.Body), Code: rest.TextMessage(resp.Body)}
		}
	})
	var cuts []int
	for _, limit := range []int{64, 200, 512} {
		for k := limit - len(longCanary); k <= limit; k++ {
			cuts = append(cuts, k)
		}
	}
	for _, k := range cuts {
		body := []byte(strings.Repeat("y", k) + longCanary + "tail")
		_, err := c.Do(t.Context(), &rest.Request{Method: http.MethodPost, Path: "x",
			Query: url.Values{"pad": {strconv.Itoa(k)}}, Body: body, ContentType: "text/plain"})
		require.ErrorIs(t, err, voip.ErrBadRequest)
		assertNoCanaryOf(t, longCanary, err, "")
		var apiErr *voip.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.LessOrEqual(t, len(apiErr.Body), 512+len("…"))
		assert.LessOrEqual(t, len(apiErr.Message), 200+len("…"))
		assert.LessOrEqual(t, len(apiErr.Code), 64+len("…"))
	}
	assertNoCanaryOf(t, longCanary, errors.New("logs"), logs.String())
}

// TestCanaryInOtherEncodings: a vendor that echoes the key base64-encoded,
// %q-quoted or URL-escaped, in a body or a redirect's Location, shows it
// to nobody.
func TestCanaryInOtherEncodings(t *testing.T) {
	t.Parallel()
	const key = `k3y"with\quote+slash/=`
	echoes := map[string]func(w http.ResponseWriter, r *http.Request){
		"base64 body": func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, base64.StdEncoding.EncodeToString([]byte("cmd=accounts&token="+key)), http.StatusInternalServerError)
		},
		"base64 location": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", "/login?state="+base64.URLEncoding.EncodeToString([]byte("cmd=accounts&token="+key)))
			w.WriteHeader(http.StatusFound)
		},
		"quoted body": func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, fmt.Sprintf("bad key %q", key), http.StatusBadRequest)
		},
		"escaped body": func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "bad key "+strings.ToLower(url.QueryEscape(key)), http.StatusBadRequest)
		},
	}
	for name, h := range echoes {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			logs := &testutil.Logs{}
			c := newClient(t, newServer(t, h).URL, func(cfg *rest.Config) {
				cfg.Redactor = redact.New(key)
				cfg.Logger = logs.Logger()
				cfg.RetryMax = 0
			})
			_, err := c.Do(t.Context(), &rest.Request{Method: http.MethodGet, Path: "x"})
			require.Error(t, err)
			assertNoCanaryOf(t, key, err, logs.String())
		})
	}
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
