package gravitel_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/gravitel"
	"github.com/pbxkit/pbxkit/gravitel/graviteltest"
	"github.com/pbxkit/pbxkit/voip"
	"github.com/pbxkit/pbxkit/voip/voiptest"
)

// recordedCall adds a call with a recording to srv's history and returns it
// as the history webhook would give it, without the link.
func recordedCall(srv *graviteltest.Server) voip.Call {
	start := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	srv.AddHistory(graviteltest.Line{UID: "0c5b1f3e-recorded", Type: "in", Client: "+79161234567",
		Account: "ivan@test.gravitel.ru", Via: "+74996861574", Start: start, Wait: 4 * time.Second, Talk: time.Minute,
		Record: srv.URL + "/records/0c5b1f3e-recorded.mp3"})
	return voip.Call{ID: "0c5b1f3e-recorded", StartedAt: start}
}

func TestProviderContract(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	bad, err := gravitel.New(srv.BaseURL(), "wrong-key-123456")
	require.NoError(t, err)
	down, err := gravitel.New(voiptest.UnreachableURL(t), pbxKey, gravitel.WithRetries(0, time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	voiptest.TestProvider(t, c,
		voiptest.WithCall("701", "+79001234567"),
		voiptest.WithBadCredentials(bad),
		voiptest.WithUnreachable(down),
		voiptest.WithRequests(func() int { return len(srv.Requests()) }),
		voiptest.WithRecording(recordedCall(srv)),
	)
}

func TestMembers(t *testing.T) {
	t.Parallel()
	_, c := newEmulator(t)
	got, err := c.Members(t.Context())
	require.NoError(t, err)
	assert.Equal(t, voip.Member{ID: "alexey", Name: "Alexey", Ext: "703", Email: "alex@gmail.com"}, got[0])
	assert.Equal(t, voip.Member{ID: "ivan", Name: "Иван", Ext: "702"}, got[2])
}

func TestGenerateCallRingsTheExtension(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	id, err := c.GenerateCall(t.Context(), "701", "+7 900 123-45-67")
	require.NoError(t, err)
	calls := srv.Calls()
	require.Len(t, calls, 1)
	assert.Equal(t, graviteltest.PlacedCall{UUID: id, Phone: "79001234567", User: "701", At: calls[0].At}, calls[0])
}

func TestCallLink(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	link, err := c.CallLink(t.Context(), voip.Call{RecordingURL: "https://x/r.mp3"})
	require.NoError(t, err)
	assert.Equal(t, "https://x/r.mp3", link)

	call := recordedCall(srv)
	link, err = c.CallLink(t.Context(), call)
	require.NoError(t, err)
	assert.Equal(t, srv.URL+"/records/0c5b1f3e-recorded.mp3", link)

	_, err = c.CallLink(t.Context(), voip.Call{ID: "nope", StartedAt: call.StartedAt})
	assert.ErrorIs(t, err, voip.ErrNotFound)
	_, err = c.CallLink(t.Context(), voip.Call{ID: "nope"})
	assert.ErrorIs(t, err, voip.ErrNotFound)
}
