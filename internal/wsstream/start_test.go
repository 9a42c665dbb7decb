package wsstream_test

import (
	"context"
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
)

// TestKeepTryingRetriesATransientFirstFailure: with KeepTrying a 503 on the
// first attempt is a notice, not Start's error, and the stream connects
// later, announcing the gap.
func TestKeepTryingRetriesATransientFirstFailure(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		serveEvents(w, r, 0, 1)
	})
	cfg := config(srv.url)
	cfg.KeepTrying = true
	s := start(t, cfg)

	first := notice(t, s, voip.NoticeDisconnected)
	assert.ErrorIs(t, first.Err, voip.ErrServer)
	assert.Equal(t, 1, first.Attempt)
	c := notice(t, s, voip.NoticeConnected)
	assert.True(t, c.Gap, "events since Start may have been missed")
	assert.Equal(t, 1, c.Attempt)
	assert.Equal(t, []int{0}, events(t, s, 1))
	assert.NoError(t, s.Err())
}

// TestKeepTryingStillStopsOnAPermanentFirstFailure: a 403 is not retried,
// KeepTrying or not.
func TestKeepTryingStillStopsOnAPermanentFirstFailure(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		http.Error(w, "no such subscriber", http.StatusForbidden)
	})
	cfg := config(srv.url)
	cfg.KeepTrying = true
	s, err := startStream(t.Context(), cfg)
	assert.Nil(t, s)
	assert.ErrorIs(t, err, voip.ErrForbidden)
	assert.EqualValues(t, 1, srv.hits.Load())
}

// TestWithoutKeepTryingTheFirstFailureIsReturned keeps Start's default.
func TestWithoutKeepTryingTheFirstFailureIsReturned(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		http.Error(w, "try later", http.StatusServiceUnavailable)
	})
	s, err := startStream(t.Context(), config(srv.url))
	assert.Nil(t, s)
	assert.ErrorIs(t, err, voip.ErrServer)
}

// TestUnreachableServerMatchesErrUnreachable: a dial that gets no answer is
// typed, and names no secret.
func TestUnreachableServerMatchesErrUnreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	s, err := startStream(t.Context(), config("ws://"+addr+"/stream?apiKey=canary-secret-1"))
	assert.Nil(t, s)
	assert.ErrorIs(t, err, voip.ErrUnreachable)
	var apiErr *voip.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.NotContains(t, err.Error(), "canary-secret-1")
}

// TestDeadContextGivesItsOwnError: Start with a context that has ended
// returns ctx.Err() itself, the shape REST calls give.
func TestDeadContextGivesItsOwnError(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { serveEvents(w, r, 0, 1) })
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	s, err := startStream(ctx, config(srv.url))
	assert.Nil(t, s)
	assert.Equal(t, context.Canceled, err)
	assert.Zero(t, srv.hits.Load(), "nothing dialled")
}
