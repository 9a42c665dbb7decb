package gravitel_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/gravitel"
	"github.com/pbxkit/pbxkit/gravitel/graviteltest"
)

// pbxKey is the PBX key of the tests. It is long enough to be redacted.
const pbxKey = "pbx-key-0123456789"

// fastRetries keeps retry tests quick.
var fastRetries = gravitel.WithRetries(3, time.Millisecond, 5*time.Millisecond)

// newEmulator starts an emulated PBX for one test and a client on it.
func newEmulator(t *testing.T, opts ...gravitel.Option) (*graviteltest.Server, *gravitel.Client) {
	t.Helper()
	srv := graviteltest.NewServer(pbxKey)
	t.Cleanup(srv.Close)
	c, err := gravitel.New(srv.BaseURL(), pbxKey, append([]gravitel.Option{fastRetries}, opts...)...)
	require.NoError(t, err)
	return srv, c
}

// stub is one test's PBX that answers every request with h, counting hits.
type stub struct {
	*httptest.Server
	hits atomic.Int32
}

func newStub(t *testing.T, h http.HandlerFunc) *stub {
	t.Helper()
	s := &stub{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// endpoint is the stub's CRM API address.
func (s *stub) endpoint() string { return s.URL + graviteltest.Path }

// reply answers with a fixed status and body.
func reply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}
