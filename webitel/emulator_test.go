package webitel_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
	"github.com/pbxkit/pbxkit/voip/voiptest"
	"github.com/pbxkit/pbxkit/webitel"
	"github.com/pbxkit/pbxkit/webitel/webiteltest"
)

// emuToken is the integration token of the emulator's first user.
const emuToken = "emulated-integration-token-0123456789"

// newEmulator starts an emulated tenant for one test and a client on it,
// with the base URL written as the Webitel article gives it.
func newEmulator(t *testing.T, opts ...webitel.Option) (*webiteltest.Server, *webitel.Client) {
	t.Helper()
	srv := webiteltest.NewServer(emuToken)
	t.Cleanup(srv.Close)
	c, err := webitel.New(srv.BaseURL()+"/api/", emuToken, append([]webitel.Option{restFast}, opts...)...)
	require.NoError(t, err)
	return srv, c
}

func TestProviderContract(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	srv.AddHistory(4, "101", time.Now().Add(-time.Hour))
	var recorded voip.Call
	for h, err := range c.History(t.Context(), webitel.HistoryQuery{From: time.Now().Add(-24 * time.Hour), To: time.Now()}) {
		require.NoError(t, err)
		if len(h.Files) > 0 {
			recorded = voip.Call{ID: h.ID}
			break
		}
	}
	require.NotEmpty(t, recorded.ID, "the emulator's history has a recorded call")
	bad, err := webitel.New(srv.BaseURL(), "wrong-token-000000000000")
	require.NoError(t, err)
	down, err := webitel.New(voiptest.UnreachableURL(t), emuToken, webitel.WithRetries(0, time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	voiptest.TestProvider(t, c,
		voiptest.WithBadCredentials(bad),
		voiptest.WithUnreachable(down),
		voiptest.WithRequests(func() int { return len(srv.Requests()) }),
		voiptest.WithCall("101", "+380501234567"),
		voiptest.WithRecording(recorded),
	)
}

func TestEmulatorCallsAndHistory(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)

	// Click-to-call rings the operator by extension, once.
	id, err := c.GenerateCall(t.Context(), "102", "050 123 45 67")
	require.NoError(t, err)
	require.NotEmpty(t, id)
	placed := srv.Calls()
	require.Len(t, placed, 1)
	assert.Equal(t, webiteltest.PlacedCall{ID: id, From: "102", Destination: "+380501234567"}, placed[0])

	// A busy operator is refused, and that is not ambiguous.
	srv.SetBusy("103", true)
	_, err = c.GenerateCall(t.Context(), "103", "+380501234567")
	require.ErrorIs(t, err, voip.ErrConflict)
	assert.NotErrorIs(t, err, voip.ErrAmbiguous)
	var apiErr *voip.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, webitel.IDBusy, apiErr.Code)
	assert.Len(t, srv.Calls(), 1)

	// The call ends answered: history gives it back, with its recording.
	require.True(t, srv.Answer(id))
	require.True(t, srv.Hangup(id, ""))
	var got *webitel.HistoryCall
	for h, err := range c.History(t.Context(), webitel.HistoryQuery{IDs: []string{id}}) {
		require.NoError(t, err)
		got = &h
	}
	require.NotNil(t, got)
	call := got.Call()
	assert.Equal(t, webitel.Vendor, call.Vendor)
	assert.Equal(t, voip.DispositionAnswered, call.Disposition)
	assert.Equal(t, "102", call.Ext)
	require.NotEmpty(t, got.Files)
	link, err := c.CallLink(t.Context(), call)
	require.NoError(t, err)
	assert.NotContains(t, link, emuToken, "a link a CRM stores never carries the token")
	var buf bytes.Buffer
	n, err := c.DownloadRecording(t.Context(), got.Files[0].ID, &buf)
	require.NoError(t, err)
	assert.Equal(t, int64(buf.Len()), n)
	assert.Equal(t, webiteltest.Recording(got.Files[0].ID), buf.Bytes())
}

func TestEmulatorHistoryPages(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	end := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	srv.AddHistory(25, "101", end)
	var ids []string
	for h, err := range c.History(t.Context(), webitel.HistoryQuery{From: end.Add(-2 * time.Hour), To: end.Add(time.Minute), PageSize: 10}) {
		require.NoError(t, err)
		ids = append(ids, h.ID)
	}
	assert.Len(t, ids, 25)
	pages := 0
	for _, r := range srv.Requests() {
		if r.Path == "/api/calls/history" {
			pages++
		}
	}
	assert.Equal(t, 3, pages)
}

func TestEmulatorLoginAndProvision(t *testing.T) {
	t.Parallel()
	srv, _ := newEmulator(t)
	srv.SetPassword("ivan", "ivan-password-123456")
	token, err := webitel.Login(t.Context(), srv.BaseURL(), srv.Domain, "ivan", "ivan-password-123456")
	require.NoError(t, err)
	require.NotEmpty(t, token)
	// The session token works as the client's token.
	c, err := webitel.New(srv.BaseURL(), token)
	require.NoError(t, err)
	require.NoError(t, c.TestConnection(t.Context()))
	_, err = webitel.Login(t.Context(), srv.BaseURL(), srv.Domain, "ivan", "wrong-password-123456")
	require.ErrorIs(t, err, voip.ErrUnauthorized)
	srv.SetTwoFactor(true)
	token2, err := webitel.Login(t.Context(), srv.BaseURL(), srv.Domain, "ivan", "ivan-password-123456")
	require.ErrorIs(t, err, webitel.ErrTwoFactor)
	assert.Empty(t, token2)
}

func TestEmulatorProvision(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	p, err := c.Provision(t.Context(), webitel.Provisioning{
		User:   webitel.User{Name: "Тарас Шевченко", Username: "taras", Extension: "150", Password: "user-password-123456"},
		Device: webitel.Device{Name: "taras-phone", Account: "taras-sip", Password: "sip-password-123456"},
	})
	require.NoError(t, err)
	require.NotEmpty(t, p.UserID)
	require.NotEmpty(t, p.DeviceID)
	require.NotEmpty(t, p.Token)
	// The new user's token opens its own session.
	mine, err := webitel.New(srv.BaseURL(), p.Token)
	require.NoError(t, err)
	info, err := mine.UserInfo(t.Context())
	require.NoError(t, err)
	assert.Equal(t, p.UserID, info.UserID)
	assert.Equal(t, "150", info.Extension)
	d, err := c.Device(t.Context(), p.DeviceID)
	require.NoError(t, err)
	assert.Equal(t, "taras-sip", d.Account)
	u, err := c.User(t.Context(), p.UserID)
	require.NoError(t, err)
	require.NotNil(t, u.Device, "the seed's flow makes the device the user's own")
	assert.Equal(t, p.DeviceID, u.Device.ID)
}

// subscribeEmulated opens the socket of the client's user on the emulator,
// with quick reconnects, and waits until the emulator holds it.
func subscribeEmulated(t *testing.T, srv *webiteltest.Server, c *webitel.Client, opts ...webitel.StreamOption) *webitel.Stream {
	t.Helper()
	st := subscribe(t, c, opts...)
	require.NoError(t, srv.AwaitSockets(t.Context(), 1))
	return st
}

func TestEmulatorStreamToVoip(t *testing.T) {
	srv, c := newEmulator(t)
	st := subscribeEmulated(t, srv, c)
	src := st.Source()

	id := srv.Incoming("101", "+380501234567")
	start := nextVoip(t, src.Events())
	assert.Equal(t, voip.EventStart, start.Kind)
	assert.Equal(t, id, start.CallID)
	assert.Equal(t, voip.DirectionIn, start.Direction)
	assert.Equal(t, "+380501234567", start.Client)
	assert.Equal(t, "101", start.Ext)
	require.True(t, srv.Answer(id))
	assert.Equal(t, voip.EventAnswer, nextVoip(t, src.Events()).Kind)
	// Hold and resume are not a second answer: the next event is the end.
	require.True(t, srv.Hold(id))
	require.NoError(t, st.Unhold(t.Context(), id))
	require.True(t, srv.Hangup(id, ""))
	end := nextVoip(t, src.Events())
	assert.Equal(t, voip.EventEnd, end.Kind)
	assert.Equal(t, voip.DispositionAnswered, end.Disposition)

	// A caller who gives up before the answer: sip says 200 all the same,
	// the cause and the missing answer decide.
	id = srv.Incoming("101", "0501112233")
	assert.Equal(t, "+380501112233", nextVoip(t, src.Events()).Client)
	require.True(t, srv.Hangup(id, "ORIGINATOR_CANCEL"))
	end = nextVoip(t, src.Events())
	assert.Equal(t, voip.EventEnd, end.Kind)
	assert.Equal(t, voip.DispositionCancel, end.Disposition)
	assert.Equal(t, "ORIGINATOR_CANCEL", end.RawStatus)
}

func TestEmulatorStreamCallControl(t *testing.T) {
	srv, c := newEmulator(t)
	srv.ShuffleReplies(true)
	st := subscribeEmulated(t, srv, c)

	// call_invite is sent once; its ringing brings the app_id that the
	// call control needs.
	id, err := st.Call(t.Context(), "+380501234567")
	require.NoError(t, err)
	placed := srv.Calls()
	require.Len(t, placed, 1)
	assert.True(t, placed[0].Socket)
	ev := nextEvent(t, st.Events())
	require.NotNil(t, ev.Call)
	assert.Equal(t, webitel.ActionRinging, ev.Call.Action)
	require.True(t, srv.Answer(id))
	// DTMF over the socket keeps a single digit, which REST would drop;
	// concurrent requests are answered out of order and still matched.
	errs := make(chan error, 2)
	go func() { errs <- st.DTMF(t.Context(), id, "5") }()
	go func() { errs <- st.Hold(t.Context(), id) }()
	require.NoError(t, <-errs)
	require.NoError(t, <-errs)
	assert.Equal(t, "5", srv.Digits(id))
	require.NoError(t, st.Hangup(t.Context(), id))
	require.ErrorIs(t, st.Hangup(t.Context(), "no-such-call"), webitel.ErrUnknownCall)
}

func TestEmulatorStreamReconnectsWithAGap(t *testing.T) {
	srv, c := newEmulator(t)
	st := subscribeEmulated(t, srv, c)
	assert.False(t, nextNotice(t, st.Notices(), voip.NoticeConnected).Gap)
	srv.DropSockets()
	nextNotice(t, st.Notices(), voip.NoticeDisconnected)
	assert.True(t, nextNotice(t, st.Notices(), voip.NoticeConnected).Gap)
	require.NoError(t, srv.AwaitSockets(t.Context(), 1))
	srv.Incoming("101", "+380501234567")
	assert.Equal(t, webitel.ActionRinging, nextEvent(t, st.Events()).Call.Action)
}

func TestEmulatorStreamRefusals(t *testing.T) {
	srv, c := newEmulator(t)
	srv.FailSocket(http.StatusPreconditionFailed)
	_, err := c.Subscribe(t.Context())
	require.ErrorIs(t, err, voip.ErrForbidden, "no licence: permanent")
	var apiErr *voip.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, webitel.IDNoLicense, apiErr.Code)

	bad, err := webitel.New(srv.BaseURL(), "wrong-token-000000000000")
	require.NoError(t, err)
	_, err = bad.Subscribe(t.Context())
	require.ErrorIs(t, err, voip.ErrUnauthorized)
}

func TestEmulatorStreamAgentStatus(t *testing.T) {
	srv, c := newEmulator(t)
	st := subscribeEmulated(t, srv, c, webitel.WithAgentStatus(10))
	require.NoError(t, st.AgentPause(t.Context(), 10, "lunch"))
	ev := nextEvent(t, st.Events())
	require.NotNil(t, ev.AgentStatus)
	assert.Equal(t, int64(10), ev.AgentStatus.AgentID)
	assert.Equal(t, "pause", ev.AgentStatus.Status)
}
