package rest_test

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/rest"
)

// basePath is where test servers mount the API, so that a client that drops
// the base URL's prefix fails loudly.
const basePath = "/api/v1/"

// server is one test's vendor: an httptest server counting its hits.
type server struct {
	*httptest.Server
	hits atomic.Int32
}

// newServer mounts h under basePath; any other path fails the test.
func newServer(t *testing.T, h http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	mux := http.NewServeMux()
	mux.HandleFunc(basePath, func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the base path: %s %s", r.Method, r.URL)
		http.Error(w, "outside base path", http.StatusTeapot)
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// newClient builds a pipeline on s with fast retries.
func newClient(t *testing.T, baseURL string, edit ...func(*rest.Config)) *rest.Client {
	t.Helper()
	cfg := rest.Config{
		Vendor:       "testvendor",
		BaseURL:      baseURL + basePath,
		RetryMax:     3,
		RetryWaitMin: time.Millisecond,
		RetryWaitMax: 20 * time.Millisecond,
	}
	for _, e := range edit {
		e(&cfg)
	}
	c, err := rest.New(cfg)
	require.NoError(t, err)
	return c
}

// hijack takes the raw connection, for faults net/http will not produce.
func hijack(t *testing.T, w http.ResponseWriter) (net.Conn, *bufio.ReadWriter) {
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return nil, nil
	}
	return conn, rw
}

// reset closes the connection with a TCP RST and no response.
func reset(t *testing.T, w http.ResponseWriter) {
	conn, _ := hijack(t, w)
	if conn == nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// refusedURL is a loopback address nobody listens on.
func refusedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return "http://" + addr
}
