package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/testutil"
	"github.com/pbxkit/pbxkit/voip"
)

// fakeProvider places calls as told and counts them.
type fakeProvider struct {
	calls atomic.Int32
	dial  func(ctx context.Context, ext, phone string) (string, error)
	link  func(c voip.Call) (string, error)
}

func (p *fakeProvider) TestConnection(context.Context) error           { return nil }
func (p *fakeProvider) Members(context.Context) ([]voip.Member, error) { return nil, nil }
func (p *fakeProvider) GenerateCall(ctx context.Context, ext, phone string) (string, error) {
	p.calls.Add(1)
	if p.dial == nil {
		return "call-1", nil
	}
	return p.dial(ctx, ext, phone)
}
func (p *fakeProvider) CallLink(_ context.Context, c voip.Call) (string, error) {
	if p.link == nil {
		return "https://pbx.example/rec/" + c.ID + ".mp3", nil
	}
	return p.link(c)
}

// testApp serves an app with two managers, 001 in Kyiv and 002 in
// Moscow, and two customers; the server and the app close with the test.
func testApp(t *testing.T, p voip.Provider) (*app, *httptest.Server) {
	t.Helper()
	c := newCRM("UA", mustZone("Europe/Kyiv"))
	c.addManager(manager{Ext: "001", Name: "Іван Петренко"})
	c.addManager(manager{Ext: "002", Name: "Анна Смирнова", Zone: mustZone("Europe/Moscow")})
	c.addCustomer(customer{Name: "Олена Шевченко", Phone: "050 123 45 67", Manager: "001"})
	c.addCustomer(customer{Name: "Пётр Сидоров", Phone: "+7 916 123-45-67", Manager: "002"})
	a := newApp(c, p, slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(a)
	t.Cleanup(func() {
		a.Close()
		srv.Close()
	})
	return a, srv
}

// collect reads ext's stream until n events came, as a page does.
func collect(t *testing.T, srv *httptest.Server, ext, lastID string, n int) []message {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var got []message
	_, err := readEvents(ctx, srv.Client(), srv.URL+"/m/"+ext+"/events", lastID, func(m message) bool {
		got = append(got, m)
		return len(got) < n
	})
	require.NoError(t, err)
	require.Len(t, got, n, "events of %s", ext)
	return got
}

func cardOf(t *testing.T, m message) card {
	t.Helper()
	require.Equal(t, "call", m.Event)
	var c card
	require.NoError(t, json.Unmarshal(m.Data, &c))
	return c
}

var t0 = time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)

func ring(ext, id, client string) voip.Event {
	return voip.Event{Kind: voip.EventStart, Vendor: "test", CallID: id, Direction: voip.DirectionIn,
		Client: client, Ext: ext, Line: "+380442246595", At: t0}
}

// Each event is one SSE message: an id, its type, one line of JSON, a
// blank line; the stream opens with the reconnect delay.
func TestSSEFraming(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, message{ID: 7, Event: "call", Data: []byte(`{"a":1}`)}.writeTo(&b))
	assert.Equal(t, "id: 7\nevent: call\ndata: {\"a\":1}\n\n", b.String())
	b.Reset()
	require.NoError(t, message{Event: "gap", Data: []byte(`{}`)}.writeTo(&b))
	assert.Equal(t, "event: gap\ndata: {}\n\n", b.String(), "no id: the page's Last-Event-ID stays")

	a, srv := testApp(t, &fakeProvider{})
	a.event(ring("001", "c1", "+380501234567"))

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/m/001/events", nil)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "text/event-stream; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	buf := make([]byte, 0, 4096)
	for !bytes.Contains(buf, []byte("\n\nid: 1\nevent: call\ndata: {")) || !bytes.HasSuffix(buf, []byte("}\n\n")) {
		n, err := resp.Body.Read(buf[len(buf):cap(buf)])
		require.NoError(t, err, "read so far: %q", buf)
		buf = buf[:len(buf)+n]
	}
	text := string(buf)
	assert.True(t, strings.HasPrefix(text, "retry: 1000\n\n"), text)
	data := strings.TrimSuffix(text[strings.Index(text, "data: ")+len("data: "):], "\n\n")
	assert.NotContains(t, data, "\n", "the JSON is one line")
	var c card
	require.NoError(t, json.Unmarshal([]byte(data), &c))
	assert.Equal(t, card{CallID: "c1", Direction: "in", Client: "+380501234567", Customer: "Олена Шевченко",
		Line: "+380442246595", State: "ringing", Started: "11:15:00", StartedFull: "2026-03-02 11:15:00 EET"}, c)
	assert.Contains(t, data, "Олена Шевченко", "names go as UTF-8, not escaped")
}

// A call shows on its manager's page only; an extension that is no
// manager's reaches nobody.
func TestManagerSeesOwnCallsOnly(t *testing.T) {
	a, srv := testApp(t, &fakeProvider{})
	a.event(ring("001", "c1", "+380501234567"))
	a.event(ring("002", "c2", "+79161234567"))
	a.event(ring("003", "c3", "+380931234567"))
	a.event(voip.Event{Kind: voip.EventAnswer, CallID: "c1", Ext: "001", At: t0.Add(5 * time.Second)})
	a.event(voip.Event{Kind: voip.EventEnd, CallID: "c2", Ext: "002", Disposition: voip.DispositionCancel, At: t0.Add(9 * time.Second)})
	a.event(voip.Event{Kind: voip.EventEnd, CallID: "c1", Ext: "001", Disposition: voip.DispositionAnswered, At: t0.Add(65 * time.Second)})

	one := collect(t, srv, "001", "", 3)
	for _, m := range one {
		assert.Equal(t, "c1", cardOf(t, m).CallID)
	}
	end := cardOf(t, one[2])
	assert.Equal(t, "ended", end.State)
	assert.Equal(t, "answered", end.Disposition)
	assert.Equal(t, "1:00", end.Talk)
	assert.Equal(t, "11:15:05", end.Answered, "in Kyiv")

	two := collect(t, srv, "002", "", 2)
	for _, m := range two {
		c := cardOf(t, m)
		assert.Equal(t, "c2", c.CallID)
		assert.Equal(t, "Пётр Сидоров", c.Customer)
		assert.Equal(t, "12:15:00", c.Started, "in Moscow")
	}
	assert.Equal(t, "cancel", cardOf(t, two[1]).Disposition)

	resp, err := srv.Client().Get(srv.URL + "/m/003/events")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "no page for who is no manager")
}

// A page that reconnects with Last-Event-ID gets what it missed, and no
// more; one from before a restart, or too far behind, gets the banner
// first and then every call kept.
func TestLastEventIDResume(t *testing.T) {
	a, srv := testApp(t, &fakeProvider{})
	a.event(ring("001", "c1", "+380501234567"))
	a.event(ring("001", "c2", "+380931234567"))
	a.event(ring("001", "c3", "+380671112233"))

	got := collect(t, srv, "001", "1", 2)
	assert.Equal(t, []uint64{2, 3}, []uint64{got[0].ID, got[1].ID})
	assert.Equal(t, "c2", cardOf(t, got[0]).CallID)
	assert.Equal(t, "", cardOf(t, got[0]).Customer, "a new customer")

	// Live after the resume: the stream waits, then delivers.
	done := make(chan []message)
	go func() { done <- collect(t, srv, "001", "3", 1) }()
	require.Eventually(t, func() bool { return a.watching("001") }, 5*time.Second, 5*time.Millisecond)
	a.event(voip.Event{Kind: voip.EventAnswer, CallID: "c3", Ext: "001", At: t0})
	live := <-done
	assert.Equal(t, uint64(4), live[0].ID)
	assert.Equal(t, "answered", cardOf(t, live[0]).State)

	// An id this server never gave: a restart in between.
	got = collect(t, srv, "001", "99", 5)
	assert.Equal(t, "gap", got[0].Event)
	assert.Equal(t, uint64(0), got[0].ID)
	assert.Equal(t, uint64(1), got[1].ID)

	// Further behind than the log keeps.
	for i := range maxLog {
		a.event(voip.Event{Kind: voip.EventAnswer, CallID: "c1", Ext: "001", At: t0.Add(time.Duration(i) * time.Second)})
	}
	got = collect(t, srv, "001", "2", 2)
	assert.Equal(t, "gap", got[0].Event)
	assert.Equal(t, uint64(5), got[1].ID, "the oldest kept: 4 before, maxLog after")
}

// fakeSource is a voip.Source the test feeds.
type fakeSource struct {
	events  chan voip.Event
	notices chan voip.Notice
}

func (f *fakeSource) Events() <-chan voip.Event   { return f.events }
func (f *fakeSource) Notices() <-chan voip.Notice { return f.notices }
func (f *fakeSource) Err() error                  { return nil }
func (f *fakeSource) Close() error                { return nil }

// A gap notice of the Source puts the banner on the page of the socket's
// manager; one of no socket in particular on every page.
func TestGapBanner(t *testing.T) {
	a, srv := testApp(t, &fakeProvider{})
	src := &fakeSource{events: make(chan voip.Event), notices: make(chan voip.Notice)}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { _ = a.consume(ctx, src) })
	defer func() {
		cancel()
		wg.Wait()
	}()

	src.notices <- voip.Notice{Kind: voip.NoticeConnected, Subscriber: "001"} // a first connect: no gap
	src.notices <- voip.Notice{Kind: voip.NoticeConnected, Gap: true, Attempt: 2, Subscriber: "002"}
	src.events <- ring("001", "c1", "+380501234567") // after the notices, on the same goroutine
	src.notices <- voip.Notice{Kind: voip.NoticeDropped, Gap: true}
	src.events <- ring("002", "c2", "+79161234567")

	one := collect(t, srv, "001", "", 2)
	assert.Equal(t, []string{"call", "gap"}, []string{one[0].Event, one[1].Event})
	two := collect(t, srv, "002", "", 3)
	assert.Equal(t, []string{"gap", "gap", "call"}, []string{two[0].Event, two[1].Event, two[2].Event})
	var g gapNotice
	require.NoError(t, json.Unmarshal(two[0].Data, &g))
	assert.Equal(t, "the connection to the PBX was interrupted", g.Why)
	assert.NotEmpty(t, g.At)
}

// dial posts what the page's buttons post.
func dial(t *testing.T, srv *httptest.Server, ext, body string) (int, dialReply) {
	t.Helper()
	status, r, err := post(srv, ext, body)
	require.NoError(t, err)
	return status, r
}

func post(srv *httptest.Server, ext, body string) (int, dialReply, error) {
	resp, err := srv.Client().Post(srv.URL+"/m/"+ext+"/call", "application/json", strings.NewReader(body))
	if err != nil {
		return 0, dialReply{}, err
	}
	defer resp.Body.Close()
	var r dialReply
	err = json.NewDecoder(resp.Body).Decode(&r)
	return resp.StatusCode, r, err
}

// Click-to-call: the PBX is asked once, whatever its answer; an
// ambiguous failure says the call may be ringing and is not retried.
func TestClickToCall(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status int
		state  string
		text   string
	}{
		{"placed", nil, http.StatusOK, "ringing", "pick up your phone"},
		{"ambiguous", &voip.APIError{Vendor: "test", StatusCode: 502, Ambiguous: true}, http.StatusAccepted, "maybe", "may be ringing"},
		{"timed out", &voip.APIError{Vendor: "test", Kind: voip.ErrUnreachable, Ambiguous: true, Err: context.DeadlineExceeded}, http.StatusAccepted, "maybe", "may be ringing"},
		{"bad number", &voip.ArgError{Vendor: "test", Func: "GenerateCall", Arg: "phone", Err: voip.ErrInvalidPhone}, http.StatusBadRequest, "failed", "not a phone number"},
		{"refused", &voip.APIError{Vendor: "test", StatusCode: 401}, http.StatusBadGateway, "failed", "credentials"},
		{"unreachable", &voip.APIError{Vendor: "test", Kind: voip.ErrUnreachable, Err: errors.New("connection refused")}, http.StatusBadGateway, "failed", "not placed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &fakeProvider{dial: func(_ context.Context, ext, phone string) (string, error) {
				assert.Equal(t, "001", ext)
				assert.Equal(t, "+380501234567", phone)
				if tc.err != nil {
					return "", tc.err
				}
				return "call-9", nil
			}}
			_, srv := testApp(t, p)
			status, r := dial(t, srv, "001", `{"phone":"+380501234567"}`)
			assert.Equal(t, tc.status, status)
			assert.Equal(t, tc.state, r.State)
			assert.Contains(t, r.Message, tc.text)
			assert.Equal(t, int32(1), p.calls.Load(), "asked once, never again")
			if tc.err == nil {
				assert.Equal(t, "call-9", r.CallID)
			}
		})
	}

	t.Run("refused before the PBX", func(t *testing.T) {
		p := &fakeProvider{}
		_, srv := testApp(t, p)
		status, r := dial(t, srv, "001", `{"phone":"  "}`)
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Equal(t, "failed", r.State)
		resp, err := srv.Client().Post(srv.URL+"/m/001/call", "application/x-www-form-urlencoded", strings.NewReader("phone=%2B380501234567"))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnsupportedMediaType, resp.StatusCode, "a cross-site form cannot place calls")
		resp, err = srv.Client().Post(srv.URL+"/m/009/call", "application/json", strings.NewReader(`{"phone":"+380501234567"}`))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
		assert.Zero(t, p.calls.Load())
	})

	t.Run("one at a time", func(t *testing.T) {
		entered, release := make(chan struct{}), make(chan struct{})
		p := &fakeProvider{dial: func(context.Context, string, string) (string, error) {
			close(entered)
			<-release
			return "call-1", nil
		}}
		_, srv := testApp(t, p)
		first := make(chan dialReply)
		go func() {
			_, r, err := post(srv, "001", `{"phone":"+380501234567"}`)
			assert.NoError(t, err)
			first <- r
		}()
		<-entered
		status, r := dial(t, srv, "001", `{"phone":"+380501234567"}`)
		assert.Equal(t, http.StatusConflict, status)
		assert.Equal(t, "busy", r.State)
		close(release)
		assert.Equal(t, "ringing", (<-first).State)
		assert.Equal(t, int32(1), p.calls.Load())
	})
}

// A finished call's record brings its outcome and, from CallLink, its
// recording; a link that is no web address is not shown.
func TestRecording(t *testing.T) {
	p := &fakeProvider{link: func(c voip.Call) (string, error) {
		if c.ID == "c2" {
			return "javascript:alert(1)", nil
		}
		return "https://pbx.example/rec/" + c.ID + ".mp3", nil
	}}
	a, srv := testApp(t, p)
	a.event(ring("001", "c1", "+380501234567"))
	a.record(voip.Call{ID: "c1", Ext: "001", Client: "+380501234567", Disposition: voip.DispositionAnswered,
		AnsweredAt: t0.Add(3 * time.Second), Talk: 83 * time.Second})
	got := collect(t, srv, "001", "", 3)
	c := cardOf(t, got[1])
	assert.Equal(t, "ended", c.State)
	assert.Equal(t, "1:23", c.Talk)
	assert.Empty(t, c.Recording)
	assert.Equal(t, "https://pbx.example/rec/c1.mp3", cardOf(t, got[2]).Recording)

	a.record(voip.Call{ID: "c2", Ext: "001", Client: "+380931234567", Disposition: voip.DispositionAnswered, Talk: time.Second})
	a.Close() // waits for the look-up
	a.feeds["001"].mu.Lock()
	defer a.feeds["001"].mu.Unlock()
	assert.Empty(t, a.feeds["001"].cards["c2"].Recording)
}

// The pages: the managers' list and a manager's page, UTF-8, with the
// zone; no page for who is no manager.
func TestPages(t *testing.T) {
	_, srv := testApp(t, &fakeProvider{})
	get := func(path string) (int, string, http.Header) {
		resp, err := srv.Client().Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b), resp.Header
	}
	status, body, h := get("/")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "text/html; charset=utf-8", h.Get("Content-Type"))
	assert.Contains(t, body, `<a href="/m/002">Анна Смирнова</a>`)
	status, body, h = get("/m/002")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "Анна Смирнова")
	assert.Contains(t, body, "Times in Europe/Moscow")
	assert.Contains(t, h.Get("Content-Security-Policy"), "default-src 'self'")
	status, _, _ = get("/m/003")
	assert.Equal(t, http.StatusNotFound, status)
	status, body, _ = get("/static/app.js")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "EventSource")
}

// The demo runs on every emulator, and none of the emulators' keys shows
// in what it prints or logs.
func TestDemoOnTheEmulators(t *testing.T) {
	for _, name := range providerNames() {
		t.Run(name, func(t *testing.T) {
			cfg, err := parseConfig([]string{"-provider", name, "-v"}, func(string) string { return "" })
			require.NoError(t, err)
			var out, logs strings.Builder
			require.NoError(t, run(t.Context(), cfg, func(string) string { return "" }, &out, &logs), out.String())
			assert.Contains(t, out.String(), "the demo is over")
			assert.Contains(t, out.String(), "Олена Шевченко")
			for _, key := range []string{"demo-api-key", "pbx-key-demo", "crm-key-demo", "integration-token-demo",
				"webhook-key-demo", "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071", "f9e8d7c6b5a4938271605f4e3d2c1b0af9e8d7c6b5a49382"} {
				testutil.NoSecret(t, key, out.String(), logs.String())
			}
		})
	}
}

func TestConfig(t *testing.T) {
	env := map[string]string{"POPUP_PROVIDER": "gravitel", "POPUP_ZONE": "Europe/Moscow"}
	cfg, err := parseConfig(nil, func(k string) string { return env[k] })
	require.NoError(t, err)
	assert.Equal(t, "gravitel", cfg.provider)
	assert.Equal(t, "Europe/Moscow", cfg.zone)
	cfg, err = parseConfig([]string{"-provider", "phonet"}, func(k string) string { return env[k] })
	require.NoError(t, err)
	assert.Equal(t, "phonet", cfg.provider, "a flag wins over the environment")
	_, err = parseConfig([]string{"-provider", "asterisk"}, func(string) string { return "" })
	require.ErrorContains(t, err, "unknown provider")
	_, err = parseConfig([]string{"-zone", "Mars/Olympus"}, func(string) string { return "" })
	require.Error(t, err)
}

// startEmulated serves the app on a vendor's emulator for one test.
func startEmulated(t *testing.T, provider string) (*instance, *emulation) {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	emu, err := providers[provider].emulated(logger)
	require.NoError(t, err)
	t.Cleanup(emu.close)
	in, err := start(t.Context(), emu.pbx, emu.managers, mustZone("Europe/Kyiv"), "127.0.0.1:0", logger)
	require.NoError(t, err)
	t.Cleanup(in.Close)
	emu.target(in.base, in.client)
	return in, emu
}

// Click-to-call through a real client on each emulator that can fail it:
// the call is placed once; a 502 from the PBX is ambiguous, shown as "may
// be ringing", and not sent again.
func TestClickToCallOnTheEmulators(t *testing.T) {
	for _, name := range []string{"phonet", "gravitel"} {
		t.Run(name, func(t *testing.T) { clickToCallOn(t, name) })
	}
}

func clickToCallOn(t *testing.T, provider string) {
	in, emu := startEmulated(t, provider)
	srv := httptest.NewServer(in.app) // the same app, so that dial's helper applies
	defer srv.Close()
	ext := in.crm.managerList()[1].Ext

	status, r := dial(t, srv, ext, `{"phone":"+7 916 123-45-67"}`)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "ringing", r.State)
	assert.NotEmpty(t, r.CallID)
	assert.Equal(t, 1, emu.placed())

	emu.failDial()
	status, r = dial(t, srv, ext, `{"phone":"+7 916 123-45-67"}`)
	assert.Equal(t, http.StatusAccepted, status)
	assert.Equal(t, "maybe", r.State)
	assert.Contains(t, r.Message, "may be ringing")
	assert.Equal(t, 2, emu.asked(), "the ambiguous request was sent once")
	assert.Equal(t, 1, emu.placed())
	require.NoError(t, emu.finishPlaced(t.Context()))
}
