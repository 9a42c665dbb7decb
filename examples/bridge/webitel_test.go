package main

import (
	"errors"
	"log/slog"
	"sync"
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

// A merged socket that stops for good says so, named, and the others go
// on; the events close once every socket has stopped.
func TestMergedSockets(t *testing.T) {
	a, b := newFakeSource(), newFakeSource()
	m := mergeSources([]voip.Source{a, b}, []string{"ext 101", "ext 104"})
	defer m.Close()

	revoked := errors.New("token revoked")
	a.err = revoked
	a.notices <- voip.Notice{Kind: voip.NoticeStopped, Err: revoked}
	a.Close()
	n := <-m.Notices()
	assert.Equal(t, "ext 101", n.Subscriber)
	assert.Equal(t, voip.NoticeStopped, n.Kind)

	b.events <- voip.Event{CallID: "call-1", Kind: voip.EventStart}
	ev := <-m.Events()
	assert.Equal(t, "call-1", ev.CallID)

	b.Close()
	_, open := <-m.Events()
	assert.False(t, open)
	require.ErrorIs(t, m.Err(), revoked)
	assert.ErrorContains(t, m.Err(), "ext 101: ")
	assert.NoError(t, m.Close())
	assert.NoError(t, m.Close(), "twice")
}

type fakeSource struct {
	events  chan voip.Event
	notices chan voip.Notice
	err     error // set before Close
	once    sync.Once
}

func newFakeSource() *fakeSource {
	return &fakeSource{events: make(chan voip.Event), notices: make(chan voip.Notice, 1)}
}

func (f *fakeSource) Events() <-chan voip.Event   { return f.events }
func (f *fakeSource) Notices() <-chan voip.Notice { return f.notices }
func (f *fakeSource) Err() error                  { return f.err }
func (f *fakeSource) Close() error {
	f.once.Do(func() { close(f.notices); close(f.events) })
	return nil
}
