package wsstream_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/redact"
	"github.com/pbxkit/pbxkit/internal/testutil"
	"github.com/pbxkit/pbxkit/internal/wsstream"
	"github.com/pbxkit/pbxkit/voip"
)

func TestEventsFlowInOrder(t *testing.T) {
	t.Parallel()
	const n = 100
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { serveEvents(w, r, 0, n) })
	s := start(t, config(srv.url))

	c := notice(t, s, voip.NoticeConnected)
	assert.False(t, c.Gap, "the first connect has no gap")
	assert.Zero(t, c.Attempt)
	assert.Equal(t, seq(0, n), events(t, s, n))
	assert.Zero(t, s.Dropped())
	assert.Zero(t, s.Malformed())
	assert.NoError(t, s.Err())
}

func TestReconnectsAfterServerDrop(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			sendThenHangUp(w, r, 0, 3)
			return
		}
		serveEvents(w, r, 3, 6)
	})
	var connects atomic.Int32
	hooked := make(chan voip.Notice, 8)
	cfg := config(srv.url)
	cfg.OnConnect = func(_ context.Context, c *wsstream.Conn) error {
		assert.Equal(t, connects.Add(1) > 1, c.Reconnect())
		return nil
	}
	cfg.OnNotice = func(n voip.Notice) { hooked <- n }
	s := start(t, cfg)

	assert.False(t, notice(t, s, voip.NoticeConnected).Gap)
	assert.Equal(t, seq(0, 3), events(t, s, 3))
	d := notice(t, s, voip.NoticeDisconnected)
	require.Error(t, d.Err)
	assert.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(d.Err), "the cause survives redaction: %v", d.Err)
	assert.True(t, notice(t, s, voip.NoticeConnected).Gap, "a reconnect may have missed events")
	assert.Equal(t, seq(3, 6), events(t, s, 3))
	assert.EqualValues(t, 2, connects.Load(), "OnConnect runs on every connect")
	assert.EqualValues(t, 2, srv.hits.Load())
	var kinds []voip.NoticeKind
	for range 3 {
		kinds = append(kinds, recv(t, hooked).Kind)
	}
	assert.Equal(t, []voip.NoticeKind{voip.NoticeConnected, voip.NoticeDisconnected, voip.NoticeConnected}, kinds,
		"OnNotice sees every notice, in order")
}

func TestHalfOpenConnectionIsDetectedByPings(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n > 1 {
			serveEvents(w, r, 1, 2)
			return
		}
		// Accept, send one event, then never read again: pings go
		// unanswered, as with a peer that vanished without a FIN.
		c := accept(w, r)
		if c == nil {
			return
		}
		defer c.CloseNow()
		_ = writeEvents(c, 0, 1)
		<-release
	})
	t.Cleanup(func() { close(release) }) // runs before srv.Close
	cfg := config(srv.url)
	cfg.PingInterval = 20 * time.Millisecond
	cfg.PongTimeout = 20 * time.Millisecond
	s := start(t, cfg)

	notice(t, s, voip.NoticeConnected)
	assert.Equal(t, []int{0}, events(t, s, 1))
	d := notice(t, s, voip.NoticeDisconnected)
	assert.ErrorIs(t, d.Err, context.DeadlineExceeded)
	assert.Contains(t, d.Err.Error(), "no pong")
	assert.True(t, notice(t, s, voip.NoticeConnected).Gap)
	assert.Equal(t, []int{1}, events(t, s, 1))
}

func TestUnauthorizedHandshakeOnFirstAttempt(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		http.Error(w, "bad key", http.StatusUnauthorized)
	})
	s, err := wsstream.Start(t.Context(), config(srv.url))
	require.Error(t, err)
	assert.Nil(t, s)
	assert.ErrorIs(t, err, voip.ErrUnauthorized)
	var apiErr *voip.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusUnauthorized, apiErr.StatusCode)
	assert.Equal(t, "test", apiErr.Vendor)
	assert.Equal(t, http.MethodGet, apiErr.Method)
	assert.Equal(t, srv.url, apiErr.URL)
	assert.Contains(t, apiErr.Body, "bad key")
	assert.EqualValues(t, 1, srv.hits.Load(), "a 401 is not retried")
}

func TestForbiddenHandshakeOnReconnectStopsTheStream(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			sendThenHangUp(w, r, 0, 1)
			return
		}
		http.Error(w, "key revoked", http.StatusForbidden)
	})
	s := start(t, config(srv.url))

	notice(t, s, voip.NoticeConnected)
	assert.Equal(t, []int{0}, events(t, s, 1))
	notice(t, s, voip.NoticeDisconnected)
	last := notice(t, s, voip.NoticeStopped)
	assert.ErrorIs(t, last.Err, voip.ErrForbidden)
	assert.Equal(t, 1, last.Attempt)

	assert.Empty(t, closed(t, s.Events()))
	assert.Empty(t, closed(t, s.Notices()))
	assert.ErrorIs(t, s.Err(), voip.ErrForbidden)
	var apiErr *voip.APIError
	require.ErrorAs(t, s.Err(), &apiErr)
	assert.Equal(t, http.StatusForbidden, apiErr.StatusCode)
	assert.EqualValues(t, 2, srv.hits.Load(), "no hot loop after a 403")
	assert.ErrorIs(t, s.Send(t.Context(), websocket.MessageText, []byte("x")), wsstream.ErrClosed)
}

func TestServerErrorIsRetried(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch n {
		case 1:
			sendThenHangUp(w, r, 0, 1)
		case 2, 3:
			http.Error(w, "try later", http.StatusServiceUnavailable)
		default:
			serveEvents(w, r, 1, 2)
		}
	})
	s := start(t, config(srv.url))

	notice(t, s, voip.NoticeConnected)
	assert.Equal(t, []int{0}, events(t, s, 1))
	notice(t, s, voip.NoticeDisconnected)
	c := notice(t, s, voip.NoticeConnected)
	assert.True(t, c.Gap)
	assert.Equal(t, 2, c.Attempt, "two failed attempts before this connect")
	assert.Equal(t, []int{1}, events(t, s, 1))
}

func TestDropOldestKeepsTheNewestEvents(t *testing.T) {
	t.Parallel()
	const buffer, sent = 8, 20
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { serveEvents(w, r, 0, sent) })
	decoded := make(chan struct{})
	cfg := config(srv.url)
	cfg.Buffer = buffer
	cfg.Decode = func(typ websocket.MessageType, data []byte, emit func(event)) error {
		err := decodeJSON(typ, data, emit)
		if strings.Contains(string(data), fmt.Sprint(sent-1)) {
			close(decoded) // the last event has been pushed
		}
		return err
	}
	s := start(t, cfg)

	signalled(t, decoded) // the consumer has not read anything yet
	assert.EqualValues(t, sent-buffer, s.Dropped())
	assert.Equal(t, seq(sent-buffer, sent), events(t, s, buffer))

	assert.False(t, notice(t, s, voip.NoticeConnected).Gap)
	d := notice(t, s, voip.NoticeDropped)
	assert.True(t, d.Gap)
	assert.EqualValues(t, 1, d.Dropped, "the notice comes with the first drop")
	assert.Empty(t, s.Notices(), "one notice per overflow episode")
}

func TestBlockDeliversEverything(t *testing.T) {
	t.Parallel()
	const buffer, sent = 4, 50
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { serveEvents(w, r, 0, sent) })
	full := make(chan struct{})
	cfg := config(srv.url)
	cfg.Buffer = buffer
	cfg.Policy = wsstream.Block
	cfg.Decode = func(typ websocket.MessageType, data []byte, emit func(event)) error {
		if string(data) == fmt.Sprintf(`{"n":%d}`, buffer) {
			close(full) // events 0..buffer-1 fill the buffer; this one must wait
		}
		return decodeJSON(typ, data, emit)
	}
	s := start(t, cfg)

	signalled(t, full)
	assert.Len(t, s.Events(), buffer)
	assert.Equal(t, seq(0, sent), events(t, s, sent))
	assert.Zero(t, s.Dropped())
	notice(t, s, voip.NoticeConnected)
	assert.Empty(t, s.Notices())
}

func TestOnConnect(t *testing.T) {
	t.Parallel()

	// handshake is a vendor protocol: the client says "auth", the server
	// answers "ok", then events flow.
	handshake := func(from, to int) func(http.ResponseWriter, *http.Request, int) {
		return func(w http.ResponseWriter, r *http.Request, n int) {
			c := accept(w, r)
			if c == nil {
				return
			}
			defer c.CloseNow()
			ctx := context.Background()
			if _, msg, err := c.Read(ctx); err != nil || string(msg) != "auth" {
				return
			}
			if c.Write(ctx, websocket.MessageText, []byte("ok")) != nil {
				return
			}
			if n == 1 {
				_ = writeEvents(c, from, from+1)
				_ = c.Close(websocket.StatusGoingAway, "")
				return
			}
			if writeEvents(c, from+n, to+n) == nil {
				_ = drain(c)
			}
		}
	}
	auth := func(ctx context.Context, c *wsstream.Conn) error {
		if err := c.WriteText(ctx, []byte("auth")); err != nil {
			return err
		}
		_, msg, err := c.Read(ctx)
		if err != nil {
			return err
		}
		if string(msg) != "ok" {
			return fmt.Errorf("auth reply %q", msg)
		}
		return nil
	}

	t.Run("an ordinary error is retried", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t, handshake(0, 1))
		var calls atomic.Int32
		var first *wsstream.Conn
		cfg := config(srv.url)
		cfg.OnConnect = func(ctx context.Context, c *wsstream.Conn) error {
			switch calls.Add(1) {
			case 1:
				first = c
			case 2:
				return errors.New("subscription rejected")
			}
			return auth(ctx, c)
		}
		s := start(t, cfg)

		_, _, err := first.Read(t.Context())
		assert.Error(t, err, "Conn.Read is only valid inside OnConnect")
		notice(t, s, voip.NoticeConnected)
		assert.Equal(t, []int{0}, events(t, s, 1))
		notice(t, s, voip.NoticeDisconnected)
		c := notice(t, s, voip.NoticeConnected)
		assert.True(t, c.Gap)
		assert.Equal(t, 1, c.Attempt)
		assert.Equal(t, []int{3}, events(t, s, 1))
		assert.EqualValues(t, 3, calls.Load())
	})

	t.Run("a permanent error stops the stream", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t, handshake(0, 1))
		var calls atomic.Int32
		cfg := config(srv.url)
		cfg.OnConnect = func(ctx context.Context, c *wsstream.Conn) error {
			if calls.Add(1) > 1 {
				return wsstream.Permanent(errors.New("token revoked"))
			}
			return auth(ctx, c)
		}
		s := start(t, cfg)

		assert.Equal(t, []int{0}, events(t, s, 1))
		assert.Empty(t, closed(t, s.Events()))
		assert.ErrorIs(t, s.Err(), wsstream.ErrPermanent)
		assert.Contains(t, s.Err().Error(), "token revoked")
		assert.EqualValues(t, 2, calls.Load())
		assert.EqualValues(t, 2, srv.hits.Load())
	})

	t.Run("the first attempt's error is Start's", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t, handshake(0, 1))
		for _, tc := range []struct {
			hook func(context.Context, *wsstream.Conn) error
			want string
		}{
			{func(context.Context, *wsstream.Conn) error { return errors.New("flaky") }, "flaky"},
			{func(context.Context, *wsstream.Conn) error { return fmt.Errorf("%w: bad login", voip.ErrUnauthorized) }, "bad login"},
			{func(context.Context, *wsstream.Conn) error { panic("hook exploded") }, "hook exploded"},
		} {
			cfg := config(srv.url)
			cfg.OnConnect = tc.hook
			s, err := wsstream.Start(t.Context(), cfg)
			assert.Nil(t, s)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		}
		assert.EqualValues(t, 3, srv.hits.Load(), "Start never retries")
	})
}

func TestMalformedMessagesAreSkipped(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		c := accept(w, r)
		if c == nil {
			return
		}
		defer c.CloseNow()
		for _, m := range []string{`{"n":0}`, `not json`, `{"panic":true}`, `{"n":1}`} {
			if c.Write(context.Background(), websocket.MessageText, []byte(m)) != nil {
				return
			}
		}
		_ = drain(c)
	})
	var logs testutil.Logs
	cfg := config(srv.url)
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := start(t, cfg)

	assert.Equal(t, []int{0, 1}, events(t, s, 2))
	assert.EqualValues(t, 2, s.Malformed(), "counted before the next event is delivered")
	notice(t, s, voip.NoticeConnected)
	assert.Empty(t, s.Notices(), "the connection survived")
	require.NoError(t, s.Close())
	assert.Contains(t, logs.String(), "malformed message skipped")
	assert.Contains(t, logs.String(), "Decode panicked")
	assert.Contains(t, logs.String(), "decoder exploded")
}

func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	const canary = "C4N4RY-s3cr3t/+=&x"

	for name, red := range map[string]*redact.Redactor{
		"registered": redact.New(canary),
		"nil":        nil, // the stream registers the apiKey and header values itself
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var logs testutil.Logs
			var shown []string // every error string and notice the user can see
			check := func() {
				t.Helper()
				testutil.NoSecret(t, canary, append(shown, logs.String())...)
			}
			cfg := func(base string) wsstream.Config[event] {
				c := config(base + "?apiKey=" + url.QueryEscape(canary) + "&subscriber=101")
				c.Header = http.Header{"X-Api-Key": {canary}, "Authorization": {"Bearer " + canary}}
				c.Redactor = red
				c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
				return c
			}
			// echo answers with the credentials it got, as careless vendors do.
			// The padding puts the key across the cut of the body excerpt.
			echo := func(w http.ResponseWriter, r *http.Request, status int) {
				http.Error(w, strings.Repeat("p", 245)+fmt.Sprintf("bad key %s (query %s, header %s)",
					r.URL.Query().Get("apiKey"), r.URL.RawQuery, r.Header.Get("Authorization")), status)
			}

			// Connection refused.
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			addr := ln.Addr().String()
			require.NoError(t, ln.Close())
			_, err = wsstream.Start(t.Context(), cfg("ws://"+addr+"/stream"))
			require.Error(t, err)
			shown = append(shown, testutil.ErrorTexts(err)...)

			// 401 on the first attempt.
			srv401 := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { echo(w, r, http.StatusUnauthorized) })
			_, err = wsstream.Start(t.Context(), cfg(srv401.url))
			require.ErrorIs(t, err, voip.ErrUnauthorized)
			var apiErr *voip.APIError
			require.ErrorAs(t, err, &apiErr)
			shown = append(shown, testutil.ErrorTexts(err)...)
			assert.Contains(t, apiErr.Body, "bad key", "the body reached the excerpt")

			// A drop, a malformed frame, a 500 and a 401 while reconnecting.
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				switch n {
				case 1:
					c := accept(w, r)
					if c == nil {
						return
					}
					defer c.CloseNow()
					// A frame with the key across the cut of the logged excerpt,
					// then a close whose reason quotes it.
					_ = c.Write(context.Background(), websocket.MessageText, []byte(strings.Repeat("g", 250)+canary))
					_ = c.Close(websocket.StatusPolicyViolation, "bad key "+canary)
				case 2:
					echo(w, r, http.StatusInternalServerError)
				default:
					echo(w, r, http.StatusUnauthorized)
				}
			})
			s, err := wsstream.Start(t.Context(), cfg(srv.url))
			require.NoError(t, err)
			sawReason := false
			for _, n := range closed(t, s.Notices()) {
				shown = append(shown, n.String())
				shown = append(shown, testutil.ErrorTexts(n.Err)...)
				var ce websocket.CloseError
				if errors.As(n.Err, &ce) {
					sawReason = true
					assert.Equal(t, websocket.StatusPolicyViolation, ce.Code)
					shown = append(shown, ce.Reason)
				}
			}
			assert.True(t, sawReason, "a notice carries the close frame")
			require.ErrorIs(t, s.Err(), voip.ErrUnauthorized)
			shown = append(shown, testutil.ErrorTexts(s.Err())...)
			require.NoError(t, s.Close())

			check()
			assert.Contains(t, logs.String(), redact.Mask, "the secrets were there, and masked")
			assert.Contains(t, logs.String(), "connection refused")
			assert.Contains(t, logs.String(), "500 Internal Server Error")
		})
	}
}

func TestSend(t *testing.T) {
	t.Parallel()
	got := make(chan string, 4)
	release := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		c := accept(w, r)
		if c == nil {
			return
		}
		defer c.CloseNow()
		_, msg, err := c.Read(context.Background())
		if err != nil {
			return
		}
		got <- string(msg)
		if n == 1 {
			_ = c.Close(websocket.StatusGoingAway, "")
			return
		}
		_ = drain(c)
	})
	var calls atomic.Int32
	cfg := config(srv.url)
	cfg.OnConnect = func(ctx context.Context, _ *wsstream.Conn) error {
		if calls.Add(1) == 2 {
			select { // hold the reconnect so that Send sees it
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
	s := start(t, cfg)

	require.NoError(t, s.Send(t.Context(), websocket.MessageText, []byte("hello")), "Send works once Start returns")
	notice(t, s, voip.NoticeConnected)
	assert.Equal(t, "hello", recv(t, got))
	notice(t, s, voip.NoticeDisconnected)
	assert.ErrorIs(t, s.Send(t.Context(), websocket.MessageText, []byte("lost")), wsstream.ErrNotConnected)
	close(release)
	notice(t, s, voip.NoticeConnected)
	require.NoError(t, s.Send(t.Context(), websocket.MessageBinary, []byte("again")))
	assert.Equal(t, "again", recv(t, got))
}

func TestClose(t *testing.T) {
	t.Parallel()
	status := make(chan websocket.StatusCode, 1)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		c := accept(w, r)
		if c == nil {
			return
		}
		defer c.CloseNow()
		status <- websocket.CloseStatus(drain(c))
	})
	cfg := config(srv.url)
	cfg.PingInterval = 10 * time.Millisecond
	s := start(t, cfg)
	notice(t, s, voip.NoticeConnected)

	begin := time.Now()
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "idempotent")
	assert.Less(t, time.Since(begin), time.Second)
	assert.Equal(t, websocket.StatusNormalClosure, recv(t, status))
	assert.Empty(t, closed(t, s.Events()))
	assert.Empty(t, closed(t, s.Notices()))
	assert.NoError(t, s.Err())
	assert.ErrorIs(t, s.Send(t.Context(), websocket.MessageText, []byte("x")), wsstream.ErrClosed)
}

func TestContextCancelStopsLikeClose(t *testing.T) {
	t.Parallel()
	status := make(chan websocket.StatusCode, 1)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		c := accept(w, r)
		if c == nil {
			return
		}
		defer c.CloseNow()
		_ = writeEvents(c, 0, 1000) // keep the reader busy while it stops
		status <- websocket.CloseStatus(drain(c))
	})
	ctx, cancel := context.WithCancel(t.Context())
	cfg := config(srv.url)
	cfg.Buffer = 1
	cfg.Policy = wsstream.Block // the reader is blocked on a full buffer
	s, err := wsstream.Start(ctx, cfg)
	require.NoError(t, err)
	recv(t, s.Events())

	cancel()
	closed(t, s.Events())
	closed(t, s.Notices())
	assert.NoError(t, s.Err())
	assert.ErrorIs(t, s.Send(t.Context(), websocket.MessageText, []byte("x")), wsstream.ErrClosed)
	require.NoError(t, s.Close())
	assert.Equal(t, websocket.StatusNormalClosure, recv(t, status))
}

func TestStopDuringBackoff(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			sendThenHangUp(w, r, 0, 0)
			return
		}
		http.Error(w, "down", http.StatusBadGateway)
	})
	cfg := config(srv.url)
	cfg.BackoffMin = time.Hour // the first reconnect waits up to an hour
	cfg.BackoffMax = time.Hour
	s := start(t, cfg)
	notice(t, s, voip.NoticeConnected)
	notice(t, s, voip.NoticeDisconnected)

	begin := time.Now()
	require.NoError(t, s.Close())
	assert.Less(t, time.Since(begin), time.Second, "Close does not wait out a backoff")
	assert.NoError(t, s.Err())
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	valid := config("wss://pbx.example/ws?apiKey=s3cr3t-canary")
	for want, mutate := range map[string]func(*wsstream.Config[event]){
		"Vendor is required":       func(c *wsstream.Config[event]) { c.Vendor = "" },
		"URL is required":          func(c *wsstream.Config[event]) { c.URL = "" },
		"scheme must be ws or wss": func(c *wsstream.Config[event]) { c.URL = "https://pbx.example/ws?apiKey=s3cr3t-canary" },
		"invalid Config.URL":       func(c *wsstream.Config[event]) { c.URL = "ws://pbx example/%zz?apiKey=s3cr3t-canary" },
		"has no host":              func(c *wsstream.Config[event]) { c.URL = "ws:///ws" },
		"Decode is required":       func(c *wsstream.Config[event]) { c.Decode = nil },
		"unknown Config.Policy":    func(c *wsstream.Config[event]) { c.Policy = 7 },
		"PongTimeout must not":     func(c *wsstream.Config[event]) { c.PongTimeout = -time.Second },
		"BackoffMin must not":      func(c *wsstream.Config[event]) { c.BackoffMin = -1 },
		"HealthyAfter must not":    func(c *wsstream.Config[event]) { c.HealthyAfter = -1 },
		"Buffer must not":          func(c *wsstream.Config[event]) { c.Buffer = -1 },
		"ReadLimit must not":       func(c *wsstream.Config[event]) { c.ReadLimit = -1 },
		"exceeds BackoffMax":       func(c *wsstream.Config[event]) { c.BackoffMin, c.BackoffMax = time.Minute, time.Second },
	} {
		cfg := valid
		mutate(&cfg)
		s, err := wsstream.Start(t.Context(), cfg)
		assert.Nil(t, s)
		if assert.Error(t, err, want) {
			assert.Contains(t, err.Error(), want)
			assert.NotContains(t, err.Error(), "s3cr3t-canary")
		}
	}
	assert.Equal(t, "drop-oldest", wsstream.DropOldest.String())
	assert.Equal(t, "block", wsstream.Block.String())
	assert.Equal(t, "Policy(7)", wsstream.Policy(7).String())
}

func TestInjectedDialerAndReadLimit(t *testing.T) {
	t.Parallel()
	big := `{"n":1,"pad":"` + strings.Repeat("x", 100<<10) + `"}` // above the 32 KiB library default
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		c := accept(w, r)
		if c == nil {
			return
		}
		defer c.CloseNow()
		if c.Write(context.Background(), websocket.MessageText, []byte(big)) == nil {
			_ = drain(c)
		}
	})
	var dials atomic.Int32
	cfg := config(srv.url)
	cfg.Header = http.Header{"X-Trace": {"abc"}}
	cfg.Dial = func(ctx context.Context, u string, opts *websocket.DialOptions) (*websocket.Conn, *http.Response, error) {
		dials.Add(1)
		assert.Equal(t, "abc", opts.HTTPHeader.Get("X-Trace"))
		assert.NotNil(t, opts.HTTPClient)
		return websocket.Dial(ctx, u, opts)
	}
	s := start(t, cfg)
	assert.Equal(t, []int{1}, events(t, s, 1), "the 1 MiB default read limit applies")
	assert.EqualValues(t, 1, dials.Load())
}

func TestDropEndsTheConnectionAndReconnects(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		serveEvents(w, r, 3*(n-1), 3*n)
	})
	var connects atomic.Int32
	cfg := config(srv.url)
	cfg.OnConnect = func(context.Context, *wsstream.Conn) error {
		connects.Add(1)
		return nil
	}
	s := start(t, cfg)
	notice(t, s, voip.NoticeConnected)
	assert.Equal(t, seq(0, 3), events(t, s, 3))
	cause := errors.New("no pong to the application ping")
	s.Drop(cause)
	d := notice(t, s, voip.NoticeDisconnected)
	require.ErrorIs(t, d.Err, cause, "the cause is the disconnect's error")
	assert.True(t, notice(t, s, voip.NoticeConnected).Gap)
	assert.Equal(t, seq(3, 6), events(t, s, 3))
	assert.EqualValues(t, 2, connects.Load())
	require.NoError(t, s.Close())
	s.Drop(cause) // after Close: nothing to drop
}
