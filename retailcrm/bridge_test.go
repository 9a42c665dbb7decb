package retailcrm_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/retailcrm"
	"github.com/pbxkit/pbxkit/voip"
)

func TestAdditionalCodes(t *testing.T) {
	t.Parallel()
	members := []voip.Member{
		{ID: "ann", Ext: "101", Email: "Ann@Example.com"},
		{ID: "bob", Ext: " 102 "},
		{ID: "noext", Email: "noext@example.com"},
		{ID: "carl", Ext: "103"},
		{ID: "ann-again", Ext: "104"}, // user 1 has 101 already
		{ID: "dup", Ext: "101"},       // 101 is mapped already
		{ID: "zero", Ext: "105"},
	}
	users := map[string]int64{"101": 1, "102": 2, "104": 1, "105": 0, "": 9}
	got := retailcrm.AdditionalCodes(members, retailcrm.UsersByExt(users))
	assert.Equal(t, []retailcrm.AdditionalCode{{UserID: 1, Code: "101"}, {UserID: 2, Code: "102"}}, got)

	assert.Nil(t, retailcrm.AdditionalCodes(members, nil))
	assert.Nil(t, retailcrm.AdditionalCodes(nil, retailcrm.UsersByExt(users)))

	byEmail := retailcrm.UsersByEmail(map[string]int64{" ann@example.COM": 7, "noext@example.com": 8})
	got = retailcrm.AdditionalCodes(members, byEmail)
	assert.Equal(t, []retailcrm.AdditionalCode{{UserID: 7, Code: "101"}}, got, "case-insensitive; a member without ext has no code")
	_, ok := byEmail(voip.Member{Ext: "1"})
	assert.False(t, ok, "no email, no user")
}

// fakePBX is a voip.Provider that records what the bridge asked of it.
type fakePBX struct {
	members []voip.Member
	link    func(voip.Call) (string, error)

	mu     sync.Mutex
	placed [][2]string
	links  []voip.Call
	err    error
}

func (p *fakePBX) TestConnection(context.Context) error { return nil }
func (p *fakePBX) Members(context.Context) ([]voip.Member, error) {
	if p.members == nil {
		return nil, &voip.APIError{Vendor: "fake", Err: voip.ErrNotSupported}
	}
	return p.members, nil
}
func (p *fakePBX) GenerateCall(_ context.Context, ext, phone string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.placed = append(p.placed, [2]string{ext, phone})
	return "placed-1", p.err
}
func (p *fakePBX) CallLink(_ context.Context, c voip.Call) (string, error) {
	p.mu.Lock()
	p.links = append(p.links, c)
	p.mu.Unlock()
	return p.link(c)
}

// logSink keeps the log lines of a test.
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (s *logSink) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(s, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, string(p))
	return len(p), nil
}

func (s *logSink) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "")
}

var (
	bridgeMembers = []voip.Member{{ID: "ann", Ext: "101"}, {ID: "bob", Ext: "102"}, {ID: "eve", Ext: "199"}}
	callStart     = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
)

func answeredCall(id string) voip.Call {
	return voip.Call{ID: id, Direction: voip.DirectionIn, Client: "+79121234567", Ext: "101", StartedAt: callStart,
		AnsweredAt: callStart.Add(5 * time.Second), Duration: 65 * time.Second, Talk: 60 * time.Second,
		Disposition: voip.DispositionAnswered, RecordingURL: "https://pbx.example.com/rec/" + id + ".mp3"}
}

func TestBridgeRegistersEventsAndUploads(t *testing.T) {
	t.Parallel()
	crm, c := newEmulator(t)
	var logs logSink
	b := &retailcrm.Bridge{CRM: c, PBX: &fakePBX{members: bridgeMembers}, Logger: logs.logger(),
		RecordURL: "https://bridge.example.com/retailcrm/record"}
	info, err := b.Register(t.Context(), "pbxkit", retailcrm.IntegrationModule{ClientID: emuClientID, Active: true,
		Telephony: &retailcrm.Telephony{InputEventSupported: true, HangupEventSupported: true}},
		retailcrm.UsersByExt(map[string]int64{"101": 1, "102": 2, "199": 99}))
	require.NoError(t, err)
	assert.Equal(t, []int64{99}, info.NotExistUserIDs)
	assert.Contains(t, logs.text(), "no such users")
	raw, ok := crm.Module("pbxkit")
	require.True(t, ok)
	var sent struct {
		Integrations struct {
			Telephony struct {
				AdditionalCodes []struct {
					UserID int64  `json:"userId"`
					Code   string `json:"code"`
				} `json:"additionalCodes"`
			} `json:"telephony"`
		} `json:"integrations"`
	}
	require.NoError(t, json.Unmarshal(raw, &sent))
	assert.Len(t, sent.Integrations.Telephony.AdditionalCodes, 3)

	ctx := t.Context()
	in := voip.Event{Kind: voip.EventStart, Direction: voip.DirectionIn, CallID: "c1", Client: "+79121234567", Ext: "101"}
	out := voip.Event{Kind: voip.EventStart, Direction: voip.DirectionOut, CallID: "c2", Client: "+79121234567", Ext: "102"}
	answer := voip.Event{Kind: voip.EventAnswer, Direction: voip.DirectionIn, CallID: "c1", Client: "+79121234567", Ext: "101"}
	end := voip.Event{Kind: voip.EventEnd, Direction: voip.DirectionIn, CallID: "c1", Client: "+79121234567", Ext: "101",
		Disposition: voip.DispositionAnswered}
	assert.True(t, b.Event(ctx, in))
	assert.False(t, b.Event(ctx, out), "the module does not ask for outgoing events")
	assert.False(t, b.Event(ctx, answer), "retailCRM has no answer event")
	call := answeredCall("c1")
	require.NoError(t, b.Update(ctx, voip.Update{Event: &end, Call: &call}))
	events := crm.Events()
	require.Len(t, events, 2)
	assert.Contains(t, string(events[1]), `"hangupStatus":"answered"`)

	missed := answeredCall("c3")
	missed.AnsweredAt, missed.Talk, missed.Disposition, missed.RecordingURL = time.Time{}, 0, voip.DispositionNoAnswer, ""
	internal := answeredCall("c4")
	internal.Direction = voip.DirectionInternal
	assert.True(t, b.Record(missed))
	assert.False(t, b.Record(internal), "retailCRM has no record of an internal call")
	assert.True(t, b.Record(call), "queued again: replaces the first")
	assert.Equal(t, 2, b.Pending())

	n, err := b.Flush(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Zero(t, b.Pending())
	calls := crm.Calls()
	require.Len(t, calls, 2)
	var first, second struct {
		ExternalID string `json:"externalId"`
		RecordURL  string `json:"recordUrl"`
	}
	require.NoError(t, json.Unmarshal(calls[0], &first))
	require.NoError(t, json.Unmarshal(calls[1], &second))
	assert.Equal(t, "c1", first.ExternalID)
	u, err := url.Parse(first.RecordURL)
	require.NoError(t, err)
	assert.Equal(t, "bridge.example.com", u.Host, "the bridge's link, not the vendor's")
	assert.Equal(t, "c1", u.Query().Get("call"))
	assert.Equal(t, "1796029200", u.Query().Get("at"))
	assert.Empty(t, second.RecordURL, "an unanswered call without a recording has no link")

	n, err = b.Flush(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing queued, nothing sent")
}

func TestBridgeNeverResendsAnAmbiguousEvent(t *testing.T) {
	t.Parallel()
	crm, c := newEmulator(t)
	register(t, c, "https://pbx.example.com/retailcrm")
	var logs logSink
	b := &retailcrm.Bridge{CRM: c, PBX: &fakePBX{members: bridgeMembers}, Logger: logs.logger()}
	crm.Fail("/api/v5/telephony/call/event", http.StatusBadGateway, "<html>bad gateway</html>")
	ev := voip.Event{Kind: voip.EventStart, Direction: voip.DirectionIn, CallID: "c1", Client: "+79121234567", Ext: "101"}
	require.NoError(t, b.Update(t.Context(), voip.Update{Event: &ev}), "an error would make the vendor deliver it again")
	sent := 0
	for _, r := range crm.Requests() {
		if strings.HasSuffix(r.Path, "/telephony/call/event") {
			sent++
		}
	}
	assert.Equal(t, 1, sent, "sent once")
	assert.Empty(t, crm.Events())
	assert.Contains(t, logs.text(), "not resent")
	assert.NotContains(t, logs.text(), apiKey)
}

func TestBridgeRetriesFailedCallsThenGivesUpLoudly(t *testing.T) {
	t.Parallel()
	crm, _ := newEmulator(t)
	c, err := retailcrm.New(crm.BaseURL(), apiKey, noLimit, retailcrm.WithRetries(0, time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	var logs logSink
	b := &retailcrm.Bridge{CRM: c, PBX: &fakePBX{}, Logger: logs.logger(), MaxUploadAttempts: 2}
	ctx := t.Context()
	register(t, c, "https://pbx.example.com/retailcrm")

	// A failed request: every call of it waits for the next Flush, as long
	// as retailCRM fails: an outage counts no attempts.
	b.Record(answeredCall("ok-1"))
	b.Record(answeredCall("ok-2"))
	for range 3 {
		crm.Fail("/api/v5/telephony/calls/upload", http.StatusInternalServerError, `{"success":false,"errorMsg":"boom"}`)
		_, err = b.Flush(ctx)
		require.ErrorIs(t, err, voip.ErrServer)
		assert.Equal(t, 2, b.Pending())
	}
	assert.Empty(t, crm.Calls())
	assert.NotContains(t, logs.text(), "given up")
	n, err := b.Flush(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Len(t, crm.Calls(), 2)

	// A call retailCRM refuses: the others are stored; it is tried
	// MaxUploadAttempts times, then logged at Error with its id.
	crm.RejectCall("bad-1", "bad call")
	b.Record(answeredCall("bad-1"))
	b.Record(answeredCall("ok-3"))
	stored, err := b.Flush(ctx)
	var upErr *retailcrm.UploadError
	require.ErrorAs(t, err, &upErr)
	assert.Equal(t, 1, stored)
	assert.Equal(t, 1, b.Pending())
	_, err = b.Flush(ctx)
	require.Error(t, err)
	assert.Zero(t, b.Pending(), "given up after 2 attempts")
	assert.Contains(t, logs.text(), "level=ERROR")
	assert.Contains(t, logs.text(), "call=bad-1")
	assert.Len(t, crm.Calls(), 3)

	// A call without an id cannot be sent again safely: given up at once.
	noID := answeredCall("")
	crm.Fail("/api/v5/telephony/calls/upload", http.StatusInternalServerError, `{"success":false,"errorMsg":"boom"}`)
	b.Record(noID)
	_, err = b.Flush(ctx)
	require.Error(t, err)
	assert.Zero(t, b.Pending())
}

func TestBridgeFlushEveryUploadsAFullBatchAtOnce(t *testing.T) {
	t.Parallel()
	crm, c := newEmulator(t)
	register(t, c, "https://pbx.example.com/retailcrm")
	b := &retailcrm.Bridge{CRM: c, PBX: &fakePBX{}}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); b.FlushEvery(ctx, time.Hour) }()
	for i := range retailcrm.MaxCallsPerUpload {
		b.Record(answeredCall("batch-" + string(rune('a'+i%26)) + string(rune('a'+i/26))))
	}
	require.Eventually(t, func() bool { return len(crm.Calls()) == retailcrm.MaxCallsPerUpload },
		5*time.Second, 10*time.Millisecond, "a full batch goes without waiting for the hour")
	cancel()
	<-done
}

// fakeSource is a voip.Source fed by the test.
type fakeSource struct {
	events  chan voip.Event
	notices chan voip.Notice
}

func (s *fakeSource) Events() <-chan voip.Event   { return s.events }
func (s *fakeSource) Notices() <-chan voip.Notice { return s.notices }
func (s *fakeSource) Err() error                  { return errors.New("socket gone") }
func (s *fakeSource) Close() error                { return nil }

func TestBridgeConsumesASocketAndFindsTheRecords(t *testing.T) {
	t.Parallel()
	crm, c := newEmulator(t)
	var logs logSink
	var (
		mu    sync.Mutex
		asked []string
	)
	b := &retailcrm.Bridge{CRM: c, PBX: &fakePBX{}, Logger: logs.logger(),
		Finished: func(_ context.Context, end voip.Event) ([]voip.Call, error) {
			mu.Lock()
			asked = append(asked, end.CallID) // the lookups run apart, in any order
			mu.Unlock()
			if end.CallID == "lost" {
				return nil, voip.ErrNotFound
			}
			return []voip.Call{answeredCall(end.CallID)}, nil
		}}
	register(t, c, "https://pbx.example.com/retailcrm")
	src := &fakeSource{events: make(chan voip.Event, 4), notices: make(chan voip.Notice, 1)}
	src.notices <- voip.Notice{Kind: voip.NoticeConnected, Gap: true, Subscriber: "101"}
	src.events <- voip.Event{Kind: voip.EventStart, Direction: voip.DirectionIn, CallID: "s1", Client: "+79121234567", Ext: "101"}
	src.events <- voip.Event{Kind: voip.EventEnd, Direction: voip.DirectionIn, CallID: "s1", Client: "+79121234567", Ext: "101",
		Disposition: voip.DispositionAnswered}
	src.events <- voip.Event{Kind: voip.EventEnd, Direction: voip.DirectionIn, CallID: "lost", Client: "+79121234567",
		Disposition: voip.DispositionBusy}
	close(src.events)
	err := b.Consume(t.Context(), src)
	require.EqualError(t, err, "socket gone")
	b.Wait()
	assert.Len(t, crm.Events(), 3)
	assert.ElementsMatch(t, []string{"s1", "lost"}, asked)
	assert.Equal(t, 1, b.Pending())
	assert.Contains(t, logs.text(), "not uploaded")
}

func TestBridgeCallbacks(t *testing.T) {
	t.Parallel()
	crm, c := newEmulator(t)
	audio := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "gone") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "audio/wav")
		_, _ = io.WriteString(w, "RIFF audio of "+r.URL.Path)
	}))
	t.Cleanup(audio.Close)
	pbx := &fakePBX{members: bridgeMembers, link: func(c voip.Call) (string, error) {
		if c.ID == "none" {
			return "", voip.ErrNotFound
		}
		return audio.URL + "/" + c.ID + ".wav", nil
	}}
	var (
		mu   sync.Mutex
		dnds []string
	)
	var logs logSink
	b := &retailcrm.Bridge{CRM: c, PBX: pbx, HTTPClient: audio.Client(), Logger: logs.logger(),
		SetDND: func(_ context.Context, m voip.Member, on bool) error {
			mu.Lock()
			defer mu.Unlock()
			dnds = append(dnds, m.ID+"="+map[bool]string{true: "on", false: "off"}[on])
			return nil
		}}
	h, err := retailcrm.NewCallbackHandler(b.Callbacks(emuClientID))
	require.NoError(t, err)
	module := httptest.NewServer(h)
	t.Cleanup(module.Close)
	b.RecordURL = module.URL + "/record"
	_, err = b.Register(t.Context(), "pbxkit", retailcrm.IntegrationModule{ClientID: emuClientID, Active: true,
		BaseURL: module.URL, Telephony: &retailcrm.Telephony{MakeCallURL: module.URL + "/call", ChangeUserStatusURL: module.URL + "/status"}},
		retailcrm.UsersByExt(map[string]int64{"101": 1, "102": 2}))
	require.NoError(t, err)
	ctx := t.Context()
	status := func(resp *http.Response, err error) int {
		t.Helper()
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}

	assert.Equal(t, http.StatusOK, status(crm.MakeCall(ctx, module.Client(), "", "+79121234567", 2, "")))
	pbx.mu.Lock()
	assert.Equal(t, [][2]string{{"102", "+79121234567"}}, pbx.placed, "the user's extension rings, then the client")
	pbx.err = &voip.APIError{Vendor: "fake", Err: voip.ErrAmbiguous}
	pbx.mu.Unlock()
	assert.Equal(t, http.StatusInternalServerError, status(crm.MakeCall(ctx, module.Client(), "101", "+79121234567", 1, "")))

	assert.Equal(t, http.StatusOK, status(crm.ChangeStatus(ctx, module.Client(), "", 1, "dinner")))
	assert.Equal(t, http.StatusOK, status(crm.ChangeStatus(ctx, module.Client(), "102", 2, "free")))
	assert.Equal(t, http.StatusOK, status(crm.ChangeStatus(ctx, module.Client(), "102", 2, "on-a-walk")), "unknown: DND left alone")
	assert.Equal(t, http.StatusInternalServerError, status(crm.ChangeStatus(ctx, module.Client(), "150", 3, "busy")), "no such member")
	mu.Lock()
	assert.Equal(t, []string{"ann=on", "bob=off"}, dnds)
	mu.Unlock()

	// The recording: the bridge's link → CallLink (with the vendor's link it
	// remembers) → a GET, streamed with its Content-Type.
	b.Record(answeredCall("r1"))
	_, err = b.Flush(ctx)
	require.NoError(t, err)
	resp, err := crm.FetchRecording(ctx, module.Client(), "r1")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "audio/wav", resp.Header.Get("Content-Type"))
	assert.Equal(t, "RIFF audio of /r1.wav", string(body))
	pbx.mu.Lock()
	last := pbx.links[len(pbx.links)-1]
	pbx.mu.Unlock()
	assert.Equal(t, callStart, last.StartedAt)
	assert.Equal(t, "https://pbx.example.com/rec/r1.mp3", last.RecordingURL, "the vendor's link, remembered")

	assert.Equal(t, http.StatusNotFound, status(crm.FetchRecording(ctx, module.Client(), module.URL+"/record?call=none&at=1")))
	assert.Equal(t, http.StatusNotFound, status(crm.FetchRecording(ctx, module.Client(), module.URL+"/record?call=gone&at=1")))
	assert.Equal(t, http.StatusNotFound, status(crm.FetchRecording(ctx, module.Client(), module.URL+"/elsewhere")))

	// Wrong clientIds never reach the PBX, and no secret reaches a log.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, module.URL+"/call?clientId=wrong&phone=1&code=101", nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, status(module.Client().Do(req)))
	pbx.mu.Lock()
	assert.Len(t, pbx.placed, 2)
	pbx.mu.Unlock()
	assert.Contains(t, logs.text(), "makeCall may have rung")
	assert.NotContains(t, logs.text(), emuClientID)
	assert.NotContains(t, logs.text(), apiKey)

	// Without SetDND the status callback is not served.
	b2 := &retailcrm.Bridge{CRM: c, PBX: pbx}
	assert.Nil(t, b2.Callbacks(emuClientID).ChangeStatus)
}

func TestBridgeKeepsTheCodesOfAPBXWithoutMembers(t *testing.T) {
	t.Parallel()
	crm, c := newEmulator(t)
	b := &retailcrm.Bridge{CRM: c, PBX: &fakePBX{}}
	codes := []retailcrm.AdditionalCode{{UserID: 1, Code: "100"}}
	_, err := b.Register(t.Context(), "pbxkit", retailcrm.IntegrationModule{ClientID: emuClientID, Active: true,
		Telephony: &retailcrm.Telephony{AdditionalCodes: codes}}, retailcrm.UsersByExt(map[string]int64{"100": 2}))
	require.NoError(t, err)
	raw, _ := crm.Module("pbxkit")
	assert.Contains(t, string(raw), `"additionalCodes":[{"userId":1,"code":"100"}]`)

	failing := &retailcrm.Bridge{CRM: c, PBX: &fakePBX{members: bridgeMembers}}
	_, err = failing.Register(t.Context(), "bad code!", retailcrm.IntegrationModule{ClientID: emuClientID}, nil)
	require.Error(t, err)
}

func TestBridgeCaller(t *testing.T) {
	t.Parallel()
	crm, c := newEmulator(t)
	b := &retailcrm.Bridge{CRM: c, PBX: &fakePBX{members: bridgeMembers}}
	_, err := b.Register(t.Context(), "pbxkit", retailcrm.IntegrationModule{ClientID: emuClientID, Active: true,
		Telephony: &retailcrm.Telephony{}}, retailcrm.UsersByExt(map[string]int64{"101": 1, "102": 2}))
	require.NoError(t, err)
	who, err := b.Caller(t.Context(), "+79121234567")
	require.NoError(t, err)
	assert.True(t, who.Known)
	assert.Equal(t, "Ольга Иванова", who.Name)
	assert.Equal(t, "101", who.Ext, "the responsible manager's extension")
	assert.NotEmpty(t, who.Link)

	who, err = b.Caller(t.Context(), "+79990000000")
	require.NoError(t, err)
	assert.False(t, who.Known)
	assert.Empty(t, who.Name)
	assert.Empty(t, who.Ext)

	crm.Fail("/api/v5/telephony/manager", http.StatusForbidden, `{"success":false,"errorMsg":"Access denied."}`)
	_, err = b.Caller(t.Context(), "+79121234567")
	require.ErrorIs(t, err, voip.ErrForbidden)
}
