package wsstream_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pbxkit/pbxkit/internal/wsstream"
	"github.com/pbxkit/pbxkit/voip"
)

// TestMain checks, after every test and benchmark, that no goroutine is
// left: streams, keepers and server handlers included. Per-test VerifyNone
// would see the other parallel tests' goroutines.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitLimit only turns a hang into a failure; tests synchronise on channels
// and notices, never on this.
const waitLimit = 2 * time.Second

// event is what the test servers send: {"n":1}; {"panic":true} makes
// decodeJSON panic.
type event struct {
	N     int  `json:"n"`
	Panic bool `json:"panic,omitempty"`
}

func decodeJSON(_ websocket.MessageType, data []byte, emit func(event)) error {
	var ev event
	if err := json.Unmarshal(data, &ev); err != nil {
		return err
	}
	if ev.Panic {
		panic("decoder exploded")
	}
	emit(ev)
	return nil
}

// server is one test's WebSocket server. handle gets the 1-based number of
// the request (every handshake counts, failed ones too).
type server struct {
	*httptest.Server
	hits atomic.Int32
	url  string // ws://…/stream
}

func newServer(t testing.TB, handle func(w http.ResponseWriter, r *http.Request, n int)) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handle(w, r, int(s.hits.Add(1)))
	}))
	t.Cleanup(s.Close)
	s.url = "ws" + strings.TrimPrefix(s.Server.URL, "http") + "/stream"
	return s
}

// accept upgrades; on failure the handshake already answered the client.
func accept(w http.ResponseWriter, r *http.Request) *websocket.Conn {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return nil
	}
	return c
}

// writeEvents sends {"n":from} … {"n":to-1}.
func writeEvents(c *websocket.Conn, from, to int) error {
	for i := from; i < to; i++ {
		if err := c.Write(context.Background(), websocket.MessageText, fmt.Appendf(nil, `{"n":%d}`, i)); err != nil {
			return err
		}
	}
	return nil
}

// drain reads (and so answers pings) until the client goes away, and
// returns the error that ended it.
func drain(c *websocket.Conn) error {
	for {
		if _, _, err := c.Read(context.Background()); err != nil {
			return err
		}
	}
}

// serveEvents accepts, sends events from..to-1, then drains.
func serveEvents(w http.ResponseWriter, r *http.Request, from, to int) {
	c := accept(w, r)
	if c == nil {
		return
	}
	defer c.CloseNow()
	if writeEvents(c, from, to) == nil {
		_ = drain(c)
	}
}

// sendThenHangUp accepts, sends events from..to-1 and closes with
// StatusGoingAway, as a vendor does on a restart.
func sendThenHangUp(w http.ResponseWriter, r *http.Request, from, to int) {
	c := accept(w, r)
	if c == nil {
		return
	}
	defer c.CloseNow()
	if writeEvents(c, from, to) == nil {
		_ = c.Close(websocket.StatusGoingAway, "restart")
	}
}

// config is a fast test configuration.
func config(url string) wsstream.Config[event] {
	return wsstream.Config[event]{
		Vendor:     "test",
		URL:        url,
		Decode:     decodeJSON,
		BackoffMin: 5 * time.Millisecond,
		BackoffMax: 20 * time.Millisecond,
	}
}

// start starts a stream that stops with the test.
func start(t *testing.T, cfg wsstream.Config[event]) *wsstream.Stream[event] {
	t.Helper()
	s, err := wsstream.Start(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// recv takes one value from ch, failing if ch is closed or stays empty.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v, ok := <-ch:
		require.True(t, ok, "channel closed")
		return v
	case <-time.After(waitLimit):
		require.FailNow(t, "timed out waiting on a channel")
	}
	panic("unreachable")
}

// closed waits until ch is closed, discarding what is left in it, and
// returns what it discarded.
func closed[T any](t *testing.T, ch <-chan T) []T {
	t.Helper()
	var rest []T
	timeout := time.After(waitLimit)
	for {
		select {
		case v, ok := <-ch:
			if !ok {
				return rest
			}
			rest = append(rest, v)
		case <-timeout:
			require.FailNow(t, "timed out waiting for a channel to close")
		}
	}
}

// events receives n events and returns their numbers.
func events(t *testing.T, s *wsstream.Stream[event], n int) []int {
	t.Helper()
	out := make([]int, n)
	for i := range out {
		out[i] = recv(t, s.Events()).N
	}
	return out
}

// seq returns from, from+1, …, to-1.
func seq(from, to int) []int {
	out := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// notice receives the next notice and checks its kind.
func notice(t *testing.T, s *wsstream.Stream[event], kind voip.NoticeKind) voip.Notice {
	t.Helper()
	n := recv(t, s.Notices())
	require.Equal(t, kind, n.Kind, "notice %v", n)
	require.False(t, n.At.IsZero())
	require.Equal(t, time.UTC, n.At.Location())
	return n
}

// signalled waits until ch is closed.
func signalled(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(waitLimit):
		require.FailNow(t, "timed out waiting for a signal")
	}
}

// startStream is wsstream.Start for a test that expects it to fail; a
// stream it returns anyway is closed with the test.
func startStream(ctx context.Context, cfg wsstream.Config[event]) (*wsstream.Stream[event], error) {
	s, err := wsstream.Start(ctx, cfg)
	if s != nil {
		go func() { <-ctx.Done(); _ = s.Close() }()
	}
	return s, err
}
