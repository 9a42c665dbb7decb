package phonet_test

import (
	"bytes"
	"iter"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/phonet"
	"github.com/pbxkit/pbxkit/phonet/phonettest"
	"github.com/pbxkit/pbxkit/voip"
)

func TestNewValidates(t *testing.T) {
	t.Parallel()
	for _, d := range []string{"", "https://x.phonet.com.ua", "x.phonet.com.ua/rest", "a b"} {
		_, err := phonet.New(d, apiKey)
		assert.Error(t, err, d)
	}
	_, err := phonet.New("x.phonet.com.ua", " ")
	assert.Error(t, err)
	_, err = phonet.New("x.phonet.com.ua", apiKey, phonet.WithBaseURL("ftp://x"))
	assert.Error(t, err)
	_, err = phonet.New("x.phonet.com.ua", apiKey, phonet.WithHTTPClient(nil))
	assert.Error(t, err)
	_, err = phonet.New("x.phonet.com.ua", apiKey, phonet.WithRetries(-1, 0, 0))
	assert.Error(t, err)
	c, err := phonet.New("x.phonet.com.ua:8443", apiKey)
	require.NoError(t, err)
	assert.Equal(t, "https://x.phonet.com.ua:8443/rest/public/calls/abc-rx/audio", c.RecordingURL(" abc ", phonet.ChannelRx))
}

func TestSessionIsOpenedLazilyOnce(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	assert.Equal(t, 0, srv.Authorizations())
	users, err := c.Users(t.Context())
	require.NoError(t, err)
	require.Len(t, users, 4)
	assert.Equal(t, phonet.User{ID: 36, DisplayName: "Иван Иванов", Ext: "001", Email: "ivan@demo.phonet.com.ua"}, users[0])
	_, err = c.ActiveCalls(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, srv.Authorizations())
	for _, r := range srv.Requests()[1:] {
		assert.True(t, r.Cookie, r.Path)
		assert.Equal(t, "application/json", r.ContentType, r.Path)
	}
}

func TestReauthorizeOnExpiredSession(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusFound} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			srv, c := newEmulator(t)
			srv.SetExpiredReply(status)
			_, err := c.Users(t.Context())
			require.NoError(t, err)
			srv.ExpireSessions()
			// Many requests see the refusal at once: one authorize serves them.
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := c.Users(t.Context())
					assert.NoError(t, err)
				}()
			}
			wg.Wait()
			assert.Equal(t, 2, srv.Authorizations())
			// MakeCall is repeated after a refusal: the refused one was not processed.
			srv.ExpireSessions()
			id, err := c.MakeCall(t.Context(), "001", "+380931234567")
			require.NoError(t, err)
			assert.Len(t, srv.Calls(), 1)
			assert.Equal(t, id, srv.Calls()[0].UUID)
		})
	}
}

func TestWrongKeyIsUnauthorized(t *testing.T) {
	t.Parallel()
	srv, _ := newEmulator(t)
	bad, err := phonet.New(srv.Domain, "wrong-key-0000000", phonet.WithBaseURL(srv.BaseURL()))
	require.NoError(t, err)
	_, err = bad.Users(t.Context())
	require.ErrorIs(t, err, voip.ErrUnauthorized)
	var ae *voip.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "phonet", ae.Vendor)
	assert.ErrorIs(t, bad.TestConnection(t.Context()), voip.ErrUnauthorized)
}

func TestAuthorizeWithoutCookieIsUnauthorized(t *testing.T) {
	t.Parallel()
	srv := httptestServer(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	c, err := phonet.New("x.phonet.com.ua", apiKey, phonet.WithBaseURL(srv))
	require.NoError(t, err)
	assert.ErrorIs(t, c.TestConnection(t.Context()), voip.ErrUnauthorized)
}

func TestMakeCallAndHangup(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	id, err := c.MakeCall(t.Context(), "001", "380931234567")
	require.NoError(t, err)
	assert.Len(t, id, 32)
	assert.Equal(t, []phonettest.PlacedCall{{UUID: id, Ext: "001", To: "+380931234567"}}, srv.Calls(), "sent in E.164")

	active, err := c.ActiveCalls(t.Context())
	require.NoError(t, err)
	require.Len(t, active, 1)
	ev := active[0]
	assert.Equal(t, phonet.EventDial, ev.Type)
	assert.Equal(t, id, ev.UUID)
	assert.Equal(t, phonet.DirectionOut, ev.Direction)
	assert.Equal(t, "001", ev.Leg.Ext)
	assert.Equal(t, "29", ev.OtherLegs[0].ID)
	assert.WithinDuration(t, time.Now(), ev.DialAt, 5*time.Second) // seconds in this list
	v, ok := ev.Voip()
	require.True(t, ok)
	assert.Equal(t, voip.EventStart, v.Kind)
	assert.Equal(t, "+380931234567", v.Client)

	require.NoError(t, c.HangupCall(t.Context(), id))
	err = c.HangupCall(t.Context(), id)
	assert.ErrorIs(t, err, voip.ErrNotFound)
	_, err = c.MakeCall(t.Context(), "999", "380931234567")
	assert.ErrorIs(t, err, voip.ErrBadRequest)
	_, err = c.MakeCall(t.Context(), "", "380931234567")
	assert.ErrorIs(t, err, voip.ErrBadRequest)
	_, err = c.MakeCall(t.Context(), "001", "+38 abc")
	assert.ErrorIs(t, err, voip.ErrInvalidPhone)
	var argErr *voip.ArgError
	require.ErrorAs(t, err, &argErr)
	assert.Equal(t, "phone", argErr.Arg)
	assert.Len(t, srv.Calls(), 1, "refused numbers are never sent")
}

func TestHistoryPagesUntilAShortPage(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	now := time.Now()
	srv.AddHistory(120, "002", now.Add(-time.Minute))
	q := phonet.HistoryQuery{From: now.Add(-24 * time.Hour), To: now}
	var got []phonet.Record
	for r, err := range c.CompanyCalls(t.Context(), q) {
		require.NoError(t, err)
		got = append(got, r)
	}
	assert.Len(t, got, 123)
	var offsets []string
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "company.api") {
			offsets = append(offsets, r.Query["offset"][0])
			assert.Equal(t, "50", r.Query["limit"][0])
			assert.Equal(t, []string{"0", "50", "100"}[len(offsets)-1], r.Query["offset"][0])
			assert.Len(t, r.Query["timeFrom"][0], 13, "milliseconds")
		}
	}
	assert.Len(t, offsets, 3)

	// Breaking out early stops paging.
	n := 0
	for _, err := range c.CompanyCalls(t.Context(), phonet.HistoryQuery{From: q.From, PageSize: 10}) {
		require.NoError(t, err)
		if n++; n == 15 {
			break
		}
	}
	assert.Equal(t, 15, n)
}

func TestHistoryRecords(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	q := phonet.HistoryQuery{From: time.Now().Add(-24 * time.Hour)}
	var missed []phonet.Record
	for r, err := range c.MissedCalls(t.Context(), q) {
		require.NoError(t, err)
		missed = append(missed, r)
	}
	require.Len(t, missed, 1)
	call := missed[0].Call()
	assert.Equal(t, voip.DispositionNoAnswer, call.Disposition)
	assert.Equal(t, "1", call.RawStatus)
	assert.Equal(t, voip.DirectionIn, call.Direction)
	assert.Equal(t, "+380671234567", call.Client)
	assert.Equal(t, "+380442246595", call.Line)
	assert.Equal(t, "a1b2c3d400004000800000000000000"+"1", call.ID)
	assert.Equal(t, 21*time.Second, call.Duration)
	assert.Equal(t, missed[0].EndAt.Add(-21*time.Second), call.StartedAt)
	assert.False(t, call.Answered())

	var users []phonet.Record
	for r, err := range c.UsersCalls(t.Context(), q) {
		require.NoError(t, err)
		users = append(users, r)
	}
	require.Len(t, users, 3)
	rec := users[2] // the vendor sample, newest first
	assert.Equal(t, "https://"+srv.Domain+"/rest/public/calls/f457486f-a539-45dd-c5f5-e735a5870b92/audio", rec.AudioRecURL)
	assert.Equal(t, "", rec.Line())
	assert.Equal(t, "002", rec.Leg2.Ext)
	answered := rec.Call()
	assert.Equal(t, voip.DispositionAnswered, answered.Disposition)
	assert.Equal(t, voip.DirectionInternal, answered.Direction)
	assert.Equal(t, rec.EndAt.Add(-3*time.Second), answered.AnsweredAt)
}

// TestHistoryQueryIsChecked: a query refused is a *voip.ArgError naming
// the method and the field, yielded before anything is sent.
func TestHistoryQueryIsChecked(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	now := time.Now()
	for arg, q := range map[string]phonet.HistoryQuery{
		"HistoryQuery.From":               {},
		"HistoryQuery.PageSize":           {From: now, PageSize: 51},
		"HistoryQuery.To":                 {From: now, To: now.Add(-time.Hour)},
		"HistoryQuery.Offset":             {From: now, Offset: -1},
		"HistoryQuery.DirectionsEncoding": {From: now, DirectionsEncoding: 7},
	} {
		for fn, seq := range map[string]iter.Seq2[phonet.Record, error]{
			"CompanyCalls": c.CompanyCalls(t.Context(), q),
			"UsersCalls":   c.UsersCalls(t.Context(), q),
			"MissedCalls":  c.MissedCalls(t.Context(), q),
		} {
			n := 0
			for _, err := range seq {
				n++
				require.ErrorIs(t, err, voip.ErrBadRequest)
				var argErr *voip.ArgError
				require.ErrorAs(t, err, &argErr)
				assert.Equal(t, voip.ArgError{Vendor: phonet.Vendor, Func: fn, Arg: arg, Err: argErr.Err}, *argErr)
			}
			assert.Equal(t, 1, n, "one error ends the iteration")
		}
	}
	assert.Empty(t, srv.Requests(), "nothing is sent")
}

func TestHistoryDirectionsEncodings(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	from := time.Now().Add(-time.Hour)
	dirs := []phonet.Direction{phonet.DirectionOut, phonet.DirectionIn}
	for range c.CompanyCalls(t.Context(), phonet.HistoryQuery{From: from, Directions: dirs}) {
	}
	for range c.CompanyCalls(t.Context(), phonet.HistoryQuery{From: from, Directions: dirs, DirectionsEncoding: phonet.DirectionsBitmask}) {
	}
	var qs []map[string][]string
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "company.api") {
			qs = append(qs, r.Query)
		}
	}
	require.Len(t, qs, 2)
	assert.Equal(t, []string{"2"}, qs[0]["directions[0]"])
	assert.Equal(t, []string{"4"}, qs[0]["directions[1]"])
	assert.Equal(t, []string{"6"}, qs[1]["directions"])
}

func TestHistoryAcceptsWrappedLists(t *testing.T) {
	t.Parallel()
	_, c := newStub(t, reply(http.StatusOK, `{"data":[{"uuid":"x","endAt":"1435319298470","duration":"4","disposition":null}]}`))
	var got []phonet.Record
	for r, err := range c.CompanyCalls(t.Context(), phonet.HistoryQuery{From: time.Now().Add(-time.Hour)}) {
		require.NoError(t, err)
		got = append(got, r)
	}
	require.Len(t, got, 1)
	assert.False(t, got[0].HasDisposition)
	assert.Equal(t, voip.DispositionUnknown, got[0].Call().Disposition)
}

func TestDownloadRecording(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	const id = "d38f07d9-3b59-47aa-c711-94c6bebe1621"
	for _, ch := range []phonet.Channel{phonet.ChannelMixed, phonet.ChannelRx, phonet.ChannelTx} {
		var buf bytes.Buffer
		n, err := c.DownloadRecording(t.Context(), id, ch, &buf)
		require.NoError(t, err)
		assert.EqualValues(t, buf.Len(), n)
		assert.True(t, bytes.HasPrefix(buf.Bytes(), []byte("ID3")))
	}
	assert.Equal(t, 0, srv.Authorizations(), "public recordings need no session")

	srv.RequireCookieForRecordings(true)
	var buf bytes.Buffer
	_, err := c.DownloadRecording(t.Context(), id, phonet.ChannelMixed, &buf)
	require.NoError(t, err)
	assert.Equal(t, phonettest.Recording(id), buf.Bytes())
	assert.Equal(t, 1, srv.Authorizations())

	_, err = c.DownloadRecording(t.Context(), "no-such-call", phonet.ChannelMixed, &buf)
	assert.ErrorIs(t, err, voip.ErrNotFound)
}

func TestDownloadRefusesALoginPage(t *testing.T) {
	t.Parallel()
	s, c := newStub(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>login</html>"))
	})
	var buf bytes.Buffer
	_, err := c.DownloadRecording(t.Context(), "abc", phonet.ChannelMixed, &buf)
	require.ErrorIs(t, err, voip.ErrUnauthorized)
	assert.Zero(t, buf.Len())
	assert.EqualValues(t, 3, s.hits.Load(), "without the cookie, with it, and once more after a new session")
}

func TestErrorBodies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		h    http.HandlerFunc
		kind error
	}{
		{reply(http.StatusBadRequest, "legExt is wrong"), voip.ErrBadRequest},
		{reply(http.StatusOK, "<html>oops</html>"), voip.ErrBadResponse},
		{reply(http.StatusOK, `{"uuid":`), voip.ErrBadResponse},
		{func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) }, voip.ErrBadResponse},
		{reply(http.StatusNotFound, ""), voip.ErrNotFound},
	} {
		_, c := newStub(t, tc.h)
		_, err := c.Users(t.Context())
		assert.ErrorIs(t, err, tc.kind)
	}
	_, c := newStub(t, reply(http.StatusBadRequest, "legExt is wrong\nsecond line"))
	_, err := c.MakeCall(t.Context(), "001", "380931234567")
	var ae *voip.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "legExt is wrong", ae.Message)
}

// TestRedirectNamesTheLocation: a redirect, never followed, is reported as
// on every vendor: "redirected to" and where.
func TestRedirectNamesTheLocation(t *testing.T) {
	t.Parallel()
	for loc, kind := range map[string]error{"/elsewhere": voip.ErrBadResponse, "/login.jsp": voip.ErrUnauthorized} {
		_, c := newStub(t, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, loc, http.StatusFound) })
		_, err := c.Users(t.Context())
		require.ErrorIs(t, err, kind)
		var ae *voip.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, http.StatusFound, ae.StatusCode)
		assert.True(t, strings.HasPrefix(ae.Message, "redirected to "+loc), ae.Message)
	}
}
