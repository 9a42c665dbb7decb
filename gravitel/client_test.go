package gravitel_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/gravitel"
	"github.com/pbxkit/pbxkit/voip"
)

func TestNewValidates(t *testing.T) {
	t.Parallel()
	for _, endpoint := range []string{"", "vats1.gravitel.ru/sys/crm_api.wcgp", "ftp://x/y", "https://", ":bad"} {
		_, err := gravitel.New(endpoint, pbxKey)
		assert.Error(t, err, endpoint)
	}
	_, err := gravitel.New("https://vats1.gravitel.ru/sys/crm_api.wcgp", " ")
	assert.ErrorContains(t, err, "empty token")
	_, err = gravitel.New("https://vats1.gravitel.ru/sys/crm_api.wcgp", pbxKey, gravitel.WithHTTPClient(nil))
	assert.Error(t, err)
	_, err = gravitel.New("https://vats1.gravitel.ru/sys/crm_api.wcgp", pbxKey, gravitel.WithEncoding(7))
	assert.Error(t, err)
	_, err = gravitel.New("https://vats1.gravitel.ru/sys/crm_api.wcgp", pbxKey, gravitel.WithRetries(-1, time.Second, time.Second))
	assert.Error(t, err)
	_, err = gravitel.New("https://vats1.gravitel.ru/sys/crm_api.wcgp", pbxKey,
		gravitel.WithHTTPClient(&http.Client{}), gravitel.WithLogger(nil), gravitel.WithEncoding(gravitel.EncodingJSON))
	assert.NoError(t, err)
}

func TestAccounts(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	got, err := c.Accounts(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []gravitel.Account{
		{Name: "alexey", RealName: "Alexey", Ext: "703", Email: "alex@gmail.com"},
		{Name: "admin", RealName: "Администратор", Ext: "701", Email: "folodia@mail.ru", Telnum: "74996861574"},
		{Name: "ivan", RealName: "Иван", Ext: "702"},
	}, got)
	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "accounts", reqs[0].Cmd)
	assert.Equal(t, "application/x-www-form-urlencoded", reqs[0].ContentType)
}

func TestJSONEncoding(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t, gravitel.WithEncoding(gravitel.EncodingJSON))
	_, err := c.MakeCall(t.Context(), gravitel.MakeCallRequest{Phone: "+7 (910) 123-45-67", User: "admin", CLID: "74996861574"})
	require.NoError(t, err)
	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "application/json", reqs[0].ContentType)
	assert.Equal(t, map[string]string{"cmd": "makeCall", "phone": "79101234567", "user": "admin", "clid": "74996861574"}, reqs[0].Params)
}

func TestGroups(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	all, err := c.Groups(t.Context(), "")
	require.NoError(t, err)
	require.Len(t, all, 3)
	assert.Equal(t, gravitel.Group{ID: "sales", RealName: "Отдел продаж", Ext: "701"}, all[0])
	mine, err := c.Groups(t.Context(), "alexey@test.gravitel.ru")
	require.NoError(t, err)
	assert.Equal(t, []gravitel.Group{{ID: "buhgalterija_g1551011445322666863", RealName: "Бухгалтерия", Ext: "705"}}, mine)
	assert.NotContains(t, srv.Requests()[0].Params, "user", "an empty user is left out")
}

func TestMakeCall(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	id, err := c.MakeCall(t.Context(), gravitel.MakeCallRequest{Phone: "+79101234567", User: "admin@test.gravitel.ru"})
	require.NoError(t, err)
	calls := srv.Calls()
	require.Len(t, calls, 1)
	assert.Equal(t, calls[0].UUID, id)
	assert.Equal(t, "79101234567", calls[0].Phone, "digits only")
	assert.Empty(t, calls[0].CLID)

	_, err = c.MakeCall(t.Context(), gravitel.MakeCallRequest{Phone: "+", User: "admin"})
	assert.ErrorIs(t, err, voip.ErrInvalidPhone)
	_, err = c.MakeCall(t.Context(), gravitel.MakeCallRequest{Phone: "79101234567"})
	assert.ErrorIs(t, err, voip.ErrBadRequest)
	assert.EqualError(t, err, "gravitel: MakeCall: user: empty")
	assert.Len(t, srv.Calls(), 1, "invalid requests are not sent")
}

func TestMakeCallAnswerShapes(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		`{"uuid":"28187487-edcf-4d23-9f95-c8591fbd9936"}`: "28187487-edcf-4d23-9f95-c8591fbd9936",
		`{"CallID":"B10D0EB124F4E64AF4EA-1511"}`:          "B10D0EB124F4E64AF4EA-1511",
		`{"CallID":1511}`:                                 "1511",
		`"B10D0EB124F4E64AF4EA-1511"`:                     "B10D0EB124F4E64AF4EA-1511",
		"B10D0EB124F4E64AF4EA-1511\n":                     "B10D0EB124F4E64AF4EA-1511",
		``:                                                "",
		"OK":                                              "",
		"null":                                            "",
		`{}`:                                              "",
		`{"result":{"x":1}}`:                              "",
	} {
		s := newStub(t, reply(http.StatusOK, body))
		c, err := gravitel.New(s.endpoint(), pbxKey)
		require.NoError(t, err)
		id, err := c.MakeCall(t.Context(), gravitel.MakeCallRequest{Phone: "79101234567", User: "admin"})
		require.NoError(t, err, body)
		assert.Equal(t, want, id, body)
	}
}

func TestHistoryCommand(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	got, err := c.History(t.Context(), gravitel.HistoryQuery{Period: gravitel.PeriodToday, Type: gravitel.CallOut, Limit: 1})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "a252179d-fa9b-4b2a-9f4a-05c61af0639f", got[0].UID)
	assert.Equal(t, time.Date(2017, 7, 7, 13, 14, 8, 0, time.UTC), got[0].Start)
	assert.Equal(t, map[string]string{"cmd": "history", "period": "today", "type": "out", "limit": "1"}, srv.Requests()[0].Params)

	from := time.Date(2017, 7, 7, 15, 40, 0, 0, time.FixedZone("MSK", 3*3600))
	got, err = c.History(t.Context(), gravitel.HistoryQuery{Start: from, End: from.Add(20 * time.Minute)})
	require.NoError(t, err)
	require.Len(t, got, 1, "only the 15:43 MSK call is in 12:40–13:00 UTC")
	assert.Equal(t, "df3a53ac-c58d-4971-91f6-7c0bf37170cb", got[0].UID)
	assert.Equal(t, map[string]string{"cmd": "history", "start": "20170707T124000Z", "end": "20170707T130000Z", "type": "all"},
		srv.Requests()[1].Params)

}

func TestSubscriptionsAndDND(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	ctx := t.Context()
	require.NoError(t, c.SubscribeOnCalls(ctx, "ivan", true, "sales"))
	on, err := c.SubscriptionStatus(ctx, "ivan", "sales")
	require.NoError(t, err)
	assert.True(t, on)
	require.NoError(t, c.SubscribeOnCalls(ctx, "ivan", false, ""))
	on, err = c.SubscriptionStatus(ctx, "ivan", "sales")
	require.NoError(t, err)
	assert.False(t, on)

	require.NoError(t, c.SetDND(ctx, "admin", true))
	dnd, err := c.GetDND(ctx, "admin")
	require.NoError(t, err)
	assert.True(t, dnd)
	require.NoError(t, c.SetDND(ctx, "admin", false))
	dnd, err = c.GetDND(ctx, "admin")
	require.NoError(t, err)
	assert.False(t, dnd)

	reqs := srv.Requests()
	assert.Equal(t, map[string]string{"cmd": "subscribeoncalls", "user": "ivan", "status": "on", "group_id": "sales"}, reqs[0].Params)
	assert.Equal(t, "subscriptionStatus", reqs[1].Cmd)
	assert.Equal(t, map[string]string{"cmd": "set_dnd", "user": "admin", "state": "true"}, reqs[4].Params)
}

func TestStateAnswerShapes(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]bool{`{"state":true}`: true, `{"state":"false"}`: false, `{"state":"TRUE"}`: true} {
		c, err := gravitel.New(newStub(t, reply(http.StatusOK, body)).endpoint(), pbxKey)
		require.NoError(t, err)
		got, err := c.GetDND(t.Context(), "admin")
		require.NoError(t, err, body)
		assert.Equal(t, want, got, body)
	}
	for _, body := range []string{"OK", "", "{}"} {
		c, err := gravitel.New(newStub(t, reply(http.StatusOK, body)).endpoint(), pbxKey)
		require.NoError(t, err)
		assert.NoError(t, c.SubscribeOnCalls(t.Context(), "admin", true, ""), body)
		assert.NoError(t, c.SetDND(t.Context(), "admin", true), body)
	}
}
