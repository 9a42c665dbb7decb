package rest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/voip"
)

const badGatewayPage = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"

// faults are the server misbehaviours of the retry matrix.
var faults = map[string]func(t *testing.T, w http.ResponseWriter, r *http.Request){
	"reset": func(t *testing.T, w http.ResponseWriter, _ *http.Request) { reset(t, w) },
	"500":   status(http.StatusInternalServerError),
	"502": func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte(badGatewayPage))
	},
	"503": status(http.StatusServiceUnavailable),
	"504": status(http.StatusGatewayTimeout),
	"429": func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "3600")
		http.Error(w, `{"error":"too many requests"}`, http.StatusTooManyRequests)
	},
	"slow": func(_ *testing.T, w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(300 * time.Millisecond): // past the client timeout of 100 ms
		}
		_, _ = w.Write([]byte(`{}`))
	},
	"truncated": func(t *testing.T, w http.ResponseWriter, _ *http.Request) {
		conn, rw := hijack(t, w)
		if conn == nil {
			return
		}
		_, _ = rw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\":")
		_ = rw.Flush()
		_ = conn.Close()
	},
}

func status(code int) func(*testing.T, http.ResponseWriter, *http.Request) {
	return func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
		http.Error(w, http.StatusText(code), code)
	}
}

// TestRetryMatrix sends a safe GET and a call-starting POST into each fault
// and counts what reached the server: the POST is never repeated unless the
// server surely did not act on it.
func TestRetryMatrix(t *testing.T) {
	t.Parallel()
	const retryMax = 3
	cases := []struct {
		fault             string
		getHits, postHits int32
		kind              error // class sentinel of the final error, nil for a transport error
		postAmbiguous     bool
	}{
		{"reset", retryMax + 1, 1, nil, true},
		{"500", 1, 1, voip.ErrServer, true},
		{"502", retryMax + 1, 1, voip.ErrServer, true},
		{"503", retryMax + 1, 1, voip.ErrServer, true},
		{"504", retryMax + 1, 1, voip.ErrServer, true},
		{"429", retryMax + 1, retryMax + 1, voip.ErrRateLimited, false},
		{"slow", retryMax + 1, 1, nil, true},
		{"truncated", retryMax + 1, 1, voip.ErrBadResponse, true},
	}
	for _, tc := range cases {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			t.Run(tc.fault+"/"+method, func(t *testing.T) {
				t.Parallel()
				fault := faults[tc.fault]
				srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { fault(t, w, r) })
				// Only the slow fault needs a short per-attempt timeout; a
				// long one elsewhere keeps a loaded machine from turning
				// the other faults into timeouts.
				perAttempt := 10 * time.Second
				if tc.fault == "slow" {
					perAttempt = 100 * time.Millisecond
				}
				c := newClient(t, srv.URL, func(cfg *rest.Config) {
					cfg.RetryMax = retryMax
					cfg.HTTPClient = &http.Client{Timeout: perAttempt}
				})

				start := time.Now()
				_, err := c.Do(t.Context(), &rest.Request{Method: method, Path: "calls", Body: []byte(`{"to":"+79001234567"}`)})
				require.Error(t, err)
				assert.Less(t, time.Since(start), 5*time.Second, "Retry-After must be capped")

				want := tc.getHits
				if method == http.MethodPost {
					want = tc.postHits
				}
				if tc.fault == "slow" {
					// An attempt may time out before the handler counts it.
					assert.LessOrEqual(t, srv.hits.Load(), want, "requests that reached the server")
					if method == http.MethodGet {
						assert.GreaterOrEqual(t, srv.hits.Load(), int32(2), "a slow read is retried")
					}
				} else {
					assert.Equal(t, want, srv.hits.Load(), "requests that reached the server")
				}

				var apiErr *voip.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, "testvendor", apiErr.Vendor)
				assert.Equal(t, method, apiErr.Method)
				assert.Contains(t, apiErr.URL, basePath+"calls")
				if tc.kind != nil {
					assert.ErrorIs(t, err, tc.kind)
				}
				ambiguous := method == http.MethodPost && tc.postAmbiguous
				assert.Equal(t, ambiguous, errors.Is(err, voip.ErrAmbiguous), "ambiguous: %v", err)

				switch tc.fault {
				case "429":
					assert.Equal(t, time.Hour, apiErr.RetryAfter)
				case "502":
					assert.Contains(t, apiErr.Body, "<h1>502 Bad Gateway</h1>", "the error page reaches the caller")
				}
			})
		}
	}
}

// TestRetryConnectionRefused: a refused connection never reached the server,
// so even a call-starting POST is retried, and the error is not ambiguous.
func TestRetryConnectionRefused(t *testing.T) {
	t.Parallel()
	var dials atomic.Int32
	dialer := &net.Dialer{}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return dialer.DialContext(ctx, network, addr)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	c := newClient(t, refusedURL(t), func(cfg *rest.Config) {
		cfg.HTTPClient = &http.Client{Transport: tr, Timeout: time.Second}
	})

	_, err := c.Do(t.Context(), &rest.Request{Method: http.MethodPost, Path: "calls", Body: []byte(`{}`)})
	require.Error(t, err)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.ErrorIs(t, err, voip.ErrUnreachable)
	assert.NotErrorIs(t, err, voip.ErrAmbiguous)
	assert.Equal(t, int32(4), dials.Load())
}

// TestNoAnswerIsUnreachable: every failure that got no response at all
// matches voip.ErrUnreachable, for reads and for call-starting requests; a
// call-starting request that may have arrived is ambiguous as well.
func TestNoAnswerIsUnreachable(t *testing.T) {
	t.Parallel()
	hang := newServer(t, func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so that the server notices the client leave
		<-r.Context().Done()
	})
	reset := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	})
	for _, tc := range []struct {
		name, url string
		ambiguous bool
	}{
		{"refused", refusedURL(t), false},
		{"timeout", hang.URL, true},
		{"reset", reset.URL, true},
		{"dns", "http://no-such-host.invalid", false},
	} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			c := newClient(t, tc.url, func(cfg *rest.Config) {
				cfg.HTTPClient = &http.Client{Timeout: 100 * time.Millisecond}
				cfg.RetryMax = -1
			})
			_, err := c.Do(t.Context(), &rest.Request{Method: method, Path: "x", Body: []byte(`{}`)})
			assert.ErrorIs(t, err, voip.ErrUnreachable, "%s %s", tc.name, method)
			var apiErr *voip.APIError
			assert.ErrorAs(t, err, &apiErr, "%s %s", tc.name, method)
			assert.Equal(t, tc.ambiguous && method == http.MethodPost, errors.Is(err, voip.ErrAmbiguous), "%s %s", tc.name, method)
		}
	}
}

// TestMarkedIdempotency: a POST marked idempotent is retried like a GET, a
// GET marked not idempotent is sent once.
func TestMarkedIdempotency(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		method string
		mode   rest.Idempotency
		hits   int32
	}{
		{http.MethodPost, rest.Idempotent, 4},
		{http.MethodGet, rest.NotIdempotent, 1},
	} {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { status(http.StatusBadGateway)(t, w, r) })
		c := newClient(t, srv.URL)
		_, err := c.Do(t.Context(), &rest.Request{Method: tc.method, Path: "x", Idempotency: tc.mode})
		require.Error(t, err)
		assert.Equal(t, tc.hits, srv.hits.Load(), "%s %v", tc.method, tc.mode)
	}
}

func TestRetryThenSuccess(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		if n.Add(1) < 3 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	})
	c := newClient(t, srv.URL)
	resp, err := c.Do(t.Context(), &rest.Request{Method: http.MethodGet, Path: "state"})
	require.NoError(t, err)
	assert.Equal(t, 3, resp.Attempts)
	var out struct{ OK bool }
	require.NoError(t, resp.DecodeJSON(&out))
	assert.True(t, out.OK)
}

// TestCancelDuringBackoff: a cancelled context ends a long backoff wait at once.
func TestCancelDuringBackoff(t *testing.T) {
	t.Parallel()
	hit := make(chan struct{}, 10)
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		hit <- struct{}{}
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	c := newClient(t, srv.URL, func(cfg *rest.Config) {
		cfg.RetryWaitMin = 10 * time.Second
		cfg.RetryWaitMax = 10 * time.Second
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := c.Do(ctx, &rest.Request{Method: http.MethodGet, Path: "state"})
		done <- err
	}()
	<-hit
	time.Sleep(5 * time.Millisecond) // let the client enter its wait
	cancelled := time.Now()
	cancel()
	select {
	case err := <-done:
		assert.Less(t, time.Since(cancelled), 50*time.Millisecond)
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("Do did not return after cancel")
	}
	assert.Equal(t, int32(1), srv.hits.Load())
}

func TestHTMLWhereJSONWasDue(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><body>Maintenance</body></html>"))
	})
	c := newClient(t, srv.URL)
	resp, err := c.Do(t.Context(), &rest.Request{Method: http.MethodGet, Path: "state"})
	require.NoError(t, err)
	var v map[string]any
	err = resp.DecodeJSON(&v)
	assert.ErrorIs(t, err, voip.ErrBadResponse)
	var apiErr *voip.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Contains(t, apiErr.Body, "Maintenance")
	assert.Equal(t, http.StatusOK, apiErr.StatusCode)
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = fmt.Fprintf(w, "%0100d", 0)
	})
	c := newClient(t, srv.URL, func(cfg *rest.Config) { cfg.MaxBody = 50; cfg.RetryMax = -1 })
	_, err := c.Do(t.Context(), &rest.Request{Method: http.MethodGet, Path: "big"})
	assert.ErrorIs(t, err, voip.ErrBadResponse)
}

// TestContextEndsACallInFlight: a call-starting request given up while the
// vendor holds it may still ring; one that never left is just cancelled.
func TestContextEndsACallInFlight(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 1)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // then the server notices the client leave
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	})
	c := newClient(t, srv.URL)

	ctx, cancel := context.WithCancel(t.Context())
	go func() { <-arrived; cancel() }()
	_, err := c.Do(ctx, &rest.Request{Method: http.MethodPost, Path: "calls", Body: []byte(`{}`)})
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, voip.ErrAmbiguous, "the vendor had the request")

	_, err = c.Do(ctx, &rest.Request{Method: http.MethodPost, Path: "calls", Body: []byte(`{}`)})
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, voip.ErrAmbiguous, "nothing was sent")

	ctx, cancel = context.WithCancel(t.Context())
	go func() { <-arrived; cancel() }()
	_, err = c.Do(ctx, &rest.Request{Method: http.MethodGet, Path: "state"})
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, voip.ErrAmbiguous, "a read is never ambiguous")
}
