package newtel_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/newtel"
	"github.com/pbxkit/pbxkit/newtel/newteltest"
)

// The keys of the tests, in the format of real ones: 48 lowercase hex
// characters.
const (
	accessKey = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071"
	signKey   = "f9e8d7c6b5a4938271605f4e3d2c1b0af9e8d7c6b5a49382"
)

// fastRetries keeps retry tests quick.
var fastRetries = newtel.WithRetries(3, time.Millisecond, 5*time.Millisecond)

// newEmulator starts an emulated New-Tel for one test and a client on it.
func newEmulator(t *testing.T, opts ...newtel.Option) (*newteltest.Server, *newtel.Client) {
	t.Helper()
	srv := newteltest.NewServer(accessKey, signKey)
	t.Cleanup(srv.Close)
	c, err := newtel.New(accessKey, signKey, append([]newtel.Option{newtel.WithBaseURL(srv.BaseURL()), fastRetries}, opts...)...)
	require.NoError(t, err)
	return srv, c
}

// stub is one test's server that answers every request with h, counting
// hits and keeping the requests' Authorization headers and bodies.
type stub struct {
	*httptest.Server
	hits atomic.Int32

	mu     sync.Mutex
	auths  []string
	bodies []string
}

func newStub(t *testing.T, h http.HandlerFunc) *stub {
	t.Helper()
	s := &stub{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.mu.Lock()
		s.auths = append(s.auths, r.Header.Get("Authorization"))
		s.bodies = append(s.bodies, string(body))
		s.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *stub) requests() (auths, bodies []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.auths...), append([]string(nil), s.bodies...)
}

// client is a client on the stub.
func (s *stub) client(t *testing.T, opts ...newtel.Option) *newtel.Client {
	t.Helper()
	c, err := newtel.New(accessKey, signKey, append([]newtel.Option{newtel.WithBaseURL(s.URL + "/"), fastRetries}, opts...)...)
	require.NoError(t, err)
	return c
}

// reply answers with a fixed status and body.
func reply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}
