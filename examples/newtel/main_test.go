package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a strings.Builder safe for the logger's writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRealClientShowsWarnings: with a real account the client's warnings
// reach the writer (here a key in the wrong format), without the key.
func TestRealClientShowsWarnings(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	const key = "NOT-A-NEWTEL-KEY"
	c, err := realClient(key, "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071", &out)
	require.NoError(t, err)
	require.NotNil(t, c)
	assert.Contains(t, out.String(), "not 48 lowercase hex")
	assert.NotContains(t, out.String(), key)
}

// TestRunEmulated runs the whole example on the emulator.
func TestRunEmulated(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	require.NoError(t, runEmulated(t.Context(), &out))
	got := out.String()
	for _, want := range []string{
		"balance: 1523.40 RUB",
		"click-to-call: ring 100, then dial +7 916 123-45-67",
		"webhook: start out call ",
		"webhook: end out call ",
		"record: answered, 1m40s long, 1m35s of talk, recording http://",
		"callback for call ",
		`"password":"***"`,
	} {
		assert.Contains(t, got, want)
	}
	assert.NotContains(t, got, "token=", "the callback token is never printed")
	assert.NotContains(t, got, "emulated-sip-password")
}

// TestCRMChecksWhatNewTelPosts: the CRM's paths refuse an unsigned webhook
// and a callback without the token, and exist only when configured.
func TestCRMChecksWhatNewTelPosts(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	crm, err := newCRM(&out, nil, "webhook-key", "callback-token")
	require.NoError(t, err)
	post := func(h http.Handler, target, body string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, target, strings.NewReader(body)))
		return rec.Code
	}
	assert.Equal(t, http.StatusUnauthorized, post(crm, webhookPath, `{"event":"inboundCallStart","signature":"00","data":{}}`))
	assert.Equal(t, http.StatusUnauthorized, post(crm, callbackPath, `{"callId":"1"}`))
	assert.Equal(t, http.StatusUnauthorized, post(crm, callbackPath+"?token=guess", `{"callId":"1"}`))
	assert.Equal(t, http.StatusOK, post(crm, callbackPath+"?token=callback-token", `{"callId":"1"}`))
	assert.Equal(t, "callback for call 1\n", out.String())

	bare, err := newCRM(&out, nil, "", "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, post(bare, webhookPath, `{}`))
	assert.Equal(t, http.StatusNotFound, post(bare, callbackPath, `{}`))
}
