package rest_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/rest"
)

// TestSignRunsOnEveryAttemptWithTheSentBytes: the hook signs each attempt
// with a fresh time, over exactly the bytes the server receives.
func TestSignRunsOnEveryAttemptWithTheSentBytes(t *testing.T) {
	t.Parallel()
	type seen struct{ stamp, sum, bodySum string }
	var (
		mu   sync.Mutex
		got  []seen
		hits atomic.Int32
	)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sum := sha256.Sum256(body)
		mu.Lock()
		got = append(got, seen{r.Header.Get("X-Stamp"), r.Header.Get("X-Body-Sum"), hex.EncodeToString(sum[:])})
		mu.Unlock()
		if hits.Add(1) < 3 {
			http.Error(w, "again", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{}`))
	})
	var calls atomic.Int32
	c := newClient(t, srv.URL, func(cfg *rest.Config) {
		cfg.Sign = func(req *http.Request, body []byte) error {
			calls.Add(1)
			sum := sha256.Sum256(body)
			req.Header.Set("X-Stamp", strconv.FormatInt(time.Now().UnixNano(), 10))
			req.Header.Set("X-Body-Sum", hex.EncodeToString(sum[:]))
			return nil
		}
	})
	req, err := rest.JSONRequest(http.MethodPost, "company/get-state", map[string]string{"name": "<Иван>"})
	require.NoError(t, err)
	req.Idempotency = rest.Idempotent

	_, err = c.Do(t.Context(), req)
	require.NoError(t, err)
	assert.Equal(t, int32(3), calls.Load(), "one signature per attempt")
	require.Len(t, got, 3)
	stamps := map[string]bool{}
	for _, s := range got {
		assert.Equal(t, s.bodySum, s.sum, "the signed bytes are the sent bytes")
		stamps[s.stamp] = true
	}
	assert.Len(t, stamps, 3, "every attempt is signed afresh")
}

func TestSignErrorStopsTheRequest(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) {})
	c := newClient(t, srv.URL, func(cfg *rest.Config) {
		cfg.Sign = func(*http.Request, []byte) error { return assert.AnError }
	})
	_, err := c.Do(t.Context(), &rest.Request{Method: http.MethodPost, Path: "x"})
	assert.ErrorIs(t, err, assert.AnError)
	assert.Equal(t, int32(0), srv.hits.Load())
}

func TestHeadersAndUserAgent(t *testing.T) {
	t.Parallel()
	var h http.Header
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		h = r.Header.Clone()
		w.WriteHeader(http.StatusNoContent)
	})
	c := newClient(t, srv.URL, func(cfg *rest.Config) {
		cfg.Header = http.Header{"X-Static": {"s"}}
	})
	resp, err := c.Do(t.Context(), &rest.Request{Method: http.MethodGet, Path: "x", Header: http.Header{"X-Per-Request": {"p"}}})
	require.NoError(t, err)
	assert.Empty(t, resp.Body, "an empty body is not an error")
	assert.Equal(t, rest.UserAgent, h.Get("User-Agent"))
	assert.Equal(t, "s", h.Get("X-Static"))
	assert.Equal(t, "p", h.Get("X-Per-Request"))
	assert.Empty(t, h.Get("Content-Type"), "no body, no Content-Type")

	_, err = c.Do(t.Context(), rest.FormRequest(http.MethodPost, "x", map[string][]string{"cmd": {"accounts"}}))
	require.NoError(t, err)
	assert.Equal(t, rest.ContentForm, h.Get("Content-Type"))
}

// TestRetryStartsFromUnsignedHeaders: a signer that adds to a header (a
// cookie) finds on each attempt the request's own headers, not the last
// attempt's signed ones, and the caller's Header is never written to.
func TestRetryStartsFromUnsignedHeaders(t *testing.T) {
	t.Parallel()
	var (
		mu  sync.Mutex
		got [][]string
	)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Values("X-Sig"))
		n := len(got)
		mu.Unlock()
		if n < 3 {
			http.Error(w, "again", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	c := newClient(t, srv.URL, func(cfg *rest.Config) {
		cfg.Sign = func(req *http.Request, _ []byte) error {
			req.Header.Add("X-Sig", "signed")
			return nil
		}
	})
	own := http.Header{"X-Sig": make([]string, 1, 4)}
	own["X-Sig"][0] = "own"
	resp, err := c.Do(t.Context(), &rest.Request{Method: http.MethodGet, Path: "x", Header: own})
	require.NoError(t, err)
	assert.Equal(t, 3, resp.Attempts)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, [][]string{{"own", "signed"}, {"own", "signed"}, {"own", "signed"}}, got)
	assert.Equal(t, []string{"own"}, own["X-Sig"], "the caller's header is not written to")
	assert.Empty(t, own["X-Sig"][:2][1], "nor its spare capacity")
}

// TestSignErrorOnARetry: a retry that cannot be signed ends the call with
// the signer's error, not with the last attempt's response.
func TestSignErrorOnARetry(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "again", http.StatusServiceUnavailable)
	})
	var calls atomic.Int32
	c := newClient(t, srv.URL, func(cfg *rest.Config) {
		cfg.Sign = func(*http.Request, []byte) error {
			if calls.Add(1) > 1 {
				return assert.AnError
			}
			return nil
		}
	})
	resp, err := c.Do(t.Context(), &rest.Request{Method: http.MethodGet, Path: "x"})
	assert.Nil(t, resp)
	assert.ErrorIs(t, err, assert.AnError)
	assert.Equal(t, int32(1), srv.hits.Load(), "the unsigned retry is not sent")
}
