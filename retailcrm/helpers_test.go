package retailcrm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/retailcrm"
)

// apiKey is the key of the tests.
const apiKey = "t3st-ap1-k3y-0123456789abcdef"

// fastRetries keeps retry tests quick; noLimit keeps the rate limiters out
// of the tests that do not measure them.
var (
	fastRetries = retailcrm.WithRetries(3, time.Millisecond, 5*time.Millisecond)
	noLimit     = retailcrm.WithRateLimit(math.Inf(1), math.Inf(1))
)

// recorded is one request a stub received.
type recorded struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   string
	Form                   url.Values
}

// stub is one test's server answering every request with h, keeping what
// it received.
type stub struct {
	*httptest.Server
	hits atomic.Int32

	mu   sync.Mutex
	reqs []recorded
}

func newStub(t *testing.T, h http.HandlerFunc) *stub {
	t.Helper()
	s := &stub{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<22))
		form, _ := url.ParseQuery(string(body))
		s.mu.Lock()
		s.reqs = append(s.reqs, recorded{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
			Header: r.Header.Clone(), Body: string(body), Form: form})
		s.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *stub) requests() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.reqs...)
}

// client is a client on the stub, without rate limits, with quick retries.
func (s *stub) client(t *testing.T, opts ...retailcrm.Option) *retailcrm.Client {
	t.Helper()
	c, err := retailcrm.New(s.URL, apiKey, append([]retailcrm.Option{fastRetries, noLimit}, opts...)...)
	require.NoError(t, err)
	return c
}

// reply answers with a fixed status and JSON body.
func reply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// formJSON decodes the JSON of form field name of a request.
func formJSON(t *testing.T, r recorded, name string, v any) {
	t.Helper()
	require.Len(t, r.Form, 1, "one form field: %s", r.Body)
	require.Len(t, r.Form[name], 1)
	require.NoError(t, json.Unmarshal([]byte(r.Form.Get(name)), v))
}

// sequence answers the n-th request with the n-th handler, and the last
// one from then on.
func sequence(hs ...http.HandlerFunc) http.HandlerFunc {
	var n atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		hs[min(i, len(hs)-1)](w, r)
	}
}

const ok = `{"success":true}`

func contextWithTimeout(t *testing.T, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), d)
}
