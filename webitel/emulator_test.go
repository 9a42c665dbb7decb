package webitel_test

import (
	"bytes"
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
