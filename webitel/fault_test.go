package webitel_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/testutil"
	"github.com/pbxkit/pbxkit/voip"
	"github.com/pbxkit/pbxkit/webitel"
)

// restFaults are server misbehaviours after the request arrived.
var restFaults = map[string]http.HandlerFunc{
	"reset": testutil.ResetConnection,
	"500": func(w http.ResponseWriter, _ *http.Request) {
		restJSON(w, 500, `{"id":"app.call.create.app_error","code":500,"detail":"fs down"}`)
	},
	"502": func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "<html>502</html>", http.StatusBadGateway) },
	"503": func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
	},
	"slow": func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(3 * time.Second):
		}
		restJSON(w, 200, `{"id":"late"}`)
	},
	"truncated": testutil.TruncatedJSON("{\"id\":"),
	"garbled":   func(w http.ResponseWriter, _ *http.Request) { restJSON(w, 200, `{"id":`) },
}

// TestFaultCreateCallOnce: POST /api/calls is sent once whatever happens
// after it left, and the failure matches voip.ErrAmbiguous; a read facing
// the same fault is retried and never ambiguous.
func TestFaultCreateCallOnce(t *testing.T) {
	t.Parallel()
	for name, h := range restFaults {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var hits atomic.Int32
			timeout := 5 * time.Second
			if name == "slow" {
				timeout = 300 * time.Millisecond
			}
			_, c := newRESTServer(t, func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				h(w, r)
			}, webitel.WithHTTPClient(&http.Client{Timeout: timeout}))
			_, err := c.GenerateCall(t.Context(), "101", "+380501234567")
			require.Error(t, err)
			assert.ErrorIs(t, err, voip.ErrAmbiguous)
			assert.Equal(t, int32(1), hits.Load(), "POST /api/calls attempts")

			hits.Store(0)
			err = c.TestConnection(t.Context())
			require.Error(t, err)
			assert.NotErrorIs(t, err, voip.ErrAmbiguous)
			if name != "500" && name != "garbled" {
				assert.GreaterOrEqual(t, hits.Load(), int32(2), "a read is retried")
			}
		})
	}
}

// TestFaultCreateCallRefusedBeforeSend: nothing listens, so the request
// never left: a clean unreachable error, not an ambiguous one.
func TestFaultCreateCallRefusedBeforeSend(t *testing.T) {
	t.Parallel()
	s := httptest.NewServer(http.NotFoundHandler())
	addr := s.URL
	s.Close()
	c, err := webitel.New(addr, restToken, restFast)
	require.NoError(t, err)
	_, err = c.GenerateCall(t.Context(), "101", "+380501234567")
	require.ErrorIs(t, err, voip.ErrUnreachable)
	assert.NotErrorIs(t, err, voip.ErrAmbiguous)
}

// TestFaultCreateCall429: a 429 was not processed: it is retried.
func TestFaultCreateCall429(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	_, c := newRESTServer(t, func(w http.ResponseWriter, _ *http.Request) {
		if hits.Add(1) == 1 {
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		restJSON(w, 200, `{"id":"leg-2"}`)
	})
	id, err := c.GenerateCall(t.Context(), "101", "+380501234567")
	require.NoError(t, err)
	assert.Equal(t, "leg-2", id)
	assert.Equal(t, int32(2), hits.Load())
}

// TestFaultCreateCallContextEnds: ctx ends while POST /api/calls is out:
// the error matches ctx's and voip.ErrAmbiguous, and nothing is repeated.
func TestFaultCreateCallContextEnds(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	_, c := newRESTServer(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		restFaults["slow"](w, r)
	})
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err := c.GenerateCall(ctx, "101", "+380501234567")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, voip.ErrAmbiguous)
	assert.Equal(t, int32(1), hits.Load())
}
