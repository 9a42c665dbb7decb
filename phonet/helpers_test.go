package phonet_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/phonet"
	"github.com/pbxkit/pbxkit/phonet/phonettest"
)

// apiKey is the tests' key. It is long enough to be redacted.
const apiKey = "test-api-key-0123456789"

// fastRetries keeps retry tests quick.
var fastRetries = phonet.WithRetries(3, time.Millisecond, 5*time.Millisecond)

// fastSocket keeps socket tests quick: reconnects at once (newEmulator's
// client dials at a high rate). Its pings are rare, because a busy test
// machine can hold a pong for a long time: a test of dead links sets its
// own.
var fastSocket = []phonet.StreamOption{
	phonet.WithPing(time.Minute, 30*time.Second),
	phonet.WithBackoff(5*time.Millisecond, 20*time.Millisecond),
}

// fastDials lets a test client's sockets dial without queueing.
var fastDials = phonet.WithDialRate(10000, 1000)

// newEmulator starts an emulated tenant for one test and a client on it.
func newEmulator(t *testing.T, opts ...phonet.Option) (*phonettest.Server, *phonet.Client) {
	t.Helper()
	srv := phonettest.NewServer(apiKey)
	t.Cleanup(srv.Close)
	c, err := phonet.New(srv.Domain, apiKey, append([]phonet.Option{phonet.WithBaseURL(srv.BaseURL()), fastRetries, fastDials}, opts...)...)
	require.NoError(t, err)
	return srv, c
}

// stub is one test's server that answers every request with h, counting
// hits; authorize is answered with a session.
type stub struct {
	*httptest.Server
	hits atomic.Int32
}

func newStub(t *testing.T, h http.HandlerFunc) (*stub, *phonet.Client) {
	t.Helper()
	return newStubTimeout(t, h, 2*time.Second)
}

// newStubTimeout is newStub with a per-attempt timeout, for the slow fault.
func newStubTimeout(t *testing.T, h http.HandlerFunc, timeout time.Duration) (*stub, *phonet.Client) {
	t.Helper()
	s := &stub{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/rest/security/authorize" {
			http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: "STUB-SESSION-ID"})
			return
		}
		s.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(s.Close)
	c, err := phonet.New("stub.phonet.com.ua", apiKey, phonet.WithBaseURL(s.URL), fastRetries,
		phonet.WithHTTPClient(&http.Client{Timeout: timeout}))
	require.NoError(t, err)
	return s, c
}

// reply answers with a fixed status and body.
func reply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// httptestServer starts a bare server for one test and returns its URL.
func httptestServer(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}

// newCanaryEmulator is an emulator whose apiKey is the canary.
func newCanaryEmulator(t *testing.T) *phonettest.Server {
	t.Helper()
	srv := phonettest.NewServer(canary)
	t.Cleanup(srv.Close)
	return srv
}
