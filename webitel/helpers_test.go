package webitel_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/webitel"
)

// restToken is the REST tests' access token, long enough to be redacted.
const restToken = "rest-token-0123456789abcdef"

// restFast keeps retry tests quick.
var restFast = webitel.WithRetries(3, time.Millisecond, 5*time.Millisecond)

// restRequest is what a restServer received.
type restRequest struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   string
}

// restServer is one test's Webitel gateway: h answers, every request is
// recorded.
type restServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []restRequest
}

func (s *restServer) requests() []restRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]restRequest(nil), s.reqs...)
}

// newRESTServer starts a server answering with h and a client on it.
func newRESTServer(t *testing.T, h http.HandlerFunc, opts ...webitel.Option) (*restServer, *webitel.Client) {
	t.Helper()
	s := &restServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, restRequest{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: string(b)})
		s.mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(b)))
		h(w, r)
	}))
	t.Cleanup(s.Close)
	c, err := webitel.New(s.URL+"/api/", restToken, append([]webitel.Option{restFast}, opts...)...)
	require.NoError(t, err)
	return s, c
}

// restRoutes answers "METHOD /path" with a fixed status and body, and 404
// with an AppError otherwise.
type restRoutes map[string]restAnswer

type restAnswer struct {
	status int
	body   string
}

func (rs restRoutes) handler(w http.ResponseWriter, r *http.Request) {
	a, ok := rs[r.Method+" "+r.URL.Path]
	if !ok {
		restJSON(w, http.StatusNotFound, `{"id":"api.process.not_found","code":404,"detail":"no route","status":"Not Found"}`)
		return
	}
	restJSON(w, a.status, a.body)
}

// restJSON writes a JSON answer.
func restJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// restOK is a 200 answer.
func restOK(body string) restAnswer { return restAnswer{http.StatusOK, body} }
