package main

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
	"github.com/pbxkit/pbxkit/webitel/webiteltest"
)

// A real Webitel bridge names what it lacks, and a refused operator token
// stops it at the start, named by its place, never by its value.
func TestWebitelSettings(t *testing.T) {
	_, err := realWebitel(t.Context(), func(string) string { return "" }, slog.New(slog.DiscardHandler))
	require.ErrorContains(t, err, "set WEBITEL_URL, WEBITEL_TOKEN")

	const token, refused = "webitel-token-test-0123456789", "refused-operator-token-0123456789"
	srv := webiteltest.NewServer(token)
	defer srv.Close()
	env := map[string]string{"WEBITEL_URL": srv.BaseURL() + "/api/", "WEBITEL_TOKEN": token,
		"WEBITEL_TOKENS": token + ", " + refused + "," + token}
	p, err := realWebitel(t.Context(), func(k string) string { return env[k] }, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	_, err = p.source(t.Context())
	require.ErrorIs(t, err, voip.ErrUnauthorized)
	assert.ErrorContains(t, err, "operator token 2")
	assert.NotContains(t, err.Error(), refused)
	assert.Eventually(t, func() bool { return srv.Sockets() == 0 }, 5*time.Second, 10*time.Millisecond,
		"the socket opened before the refusal is closed")

	// Without WEBITEL_TOKENS the socket is WEBITEL_TOKEN's.
	delete(env, "WEBITEL_TOKENS")
	p, err = realWebitel(t.Context(), func(k string) string { return env[k] }, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	src, err := p.source(t.Context())
	require.NoError(t, err)
	require.NoError(t, srv.AwaitSockets(t.Context(), 1))
	require.NoError(t, src.Close())
}
