package gravitel_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/gravitel"
	"github.com/pbxkit/pbxkit/voip"
)

// wire is a PBX stub that keeps every request as sent and answers each cmd
// with a body from testdata: the protocol notes' samples, verbatim.
type wire struct {
	*stub
	mu      sync.Mutex
	sent    []sentRequest
	answers map[string]string // cmd → testdata file
}

type sentRequest struct {
	path, contentType string
	fields            map[string]string
}

func newWire(t *testing.T, answers map[string]string) *wire {
	t.Helper()
	w := &wire{answers: answers}
	w.stub = newStub(t, func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fields := map[string]string{}
		if r.Header.Get("Content-Type") == "application/json" {
			_ = json.Unmarshal(body, &fields)
		} else if q, err := url.ParseQuery(string(body)); err == nil {
			for k := range q {
				fields[k] = q.Get(k)
			}
		}
		w.mu.Lock()
		w.sent = append(w.sent, sentRequest{r.URL.Path, r.Header.Get("Content-Type"), fields})
		w.mu.Unlock()
		if name, ok := w.answers[fields["cmd"]]; ok {
			b, err := os.ReadFile(filepath.Join("testdata", name))
			if err == nil {
				_, _ = rw.Write(b)
				return
			}
		}
		rw.WriteHeader(http.StatusBadRequest)
		_, _ = rw.Write([]byte(`{"error":"Invalid parameters: [cmd]"}`))
	})
	return w
}

func (w *wire) requests() []sentRequest {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.sent)
}

func (w *wire) last() sentRequest {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sent[len(w.sent)-1]
}

// sample is a request line of the protocol notes (§2.1), token filled in.
func sample(t *testing.T, line string) map[string]string {
	t.Helper()
	q, err := url.ParseQuery(line)
	require.NoError(t, err)
	out := map[string]string{}
	for k := range q {
		out[k] = q.Get(k)
	}
	out["token"] = pbxKey
	return out
}

// TestDocSamplesOnTheWire sends each command of the notes' samples and
// compares the body on the wire with the sample request, then reads the
// sample answer, for both encodings.
func TestDocSamplesOnTheWire(t *testing.T) {
	t.Parallel()
	for _, enc := range []gravitel.Encoding{gravitel.EncodingForm, gravitel.EncodingJSON} {
		w := newWire(t, map[string]string{
			"accounts": "commands/accounts.json", "groups": "commands/groups.json",
			"makeCall": "commands/makecall.json", "history": "history/gravitel.csv",
			"subscribeoncalls": "commands/subscribeoncalls.txt",
		})
		c, err := gravitel.New(w.endpoint(), pbxKey, gravitel.WithEncoding(enc))
		require.NoError(t, err)
		ctx := t.Context()
		wantType := map[gravitel.Encoding]string{gravitel.EncodingForm: "application/x-www-form-urlencoded", gravitel.EncodingJSON: "application/json"}[enc]
		check := func(line string) {
			t.Helper()
			got := w.last()
			assert.Equal(t, "/sys/crm_api.wcgp", got.path)
			assert.Equal(t, wantType, got.contentType)
			assert.Equal(t, sample(t, line), got.fields)
		}

		accounts, err := c.Accounts(ctx)
		require.NoError(t, err)
		check("cmd=accounts")
		assert.Equal(t, []gravitel.Account{
			{Name: "alexey", RealName: "Alexey", Ext: "703", Email: "alex@gmail.com"},
			{Name: "admin", RealName: "Администратор", Ext: "701", Email: "folodia@mail.ru"},
			{Name: "ivan", RealName: "Иван", Ext: "702"},
		}, accounts)

		groups, err := c.Groups(ctx, "")
		require.NoError(t, err)
		check("cmd=groups")
		assert.Equal(t, gravitel.Group{ID: "buhgalterija_g1551011445322666863", RealName: "Бухгалтерия", Ext: "705"}, groups[1])

		id, err := c.MakeCall(ctx, gravitel.MakeCallRequest{User: "admin", Phone: "79101234567", CLID: "74996861574"})
		require.NoError(t, err)
		check("cmd=makeCall&user=admin&phone=79101234567&clid=74996861574")
		assert.Equal(t, "28187487-edcf-4d23-9f95-c8591fbd9936", id)

		records, err := c.History(ctx, gravitel.HistoryQuery{Type: gravitel.CallAll, Limit: 2, Period: gravitel.PeriodToday})
		require.NoError(t, err)
		check("cmd=history&type=all&limit=2&period=today")
		require.Len(t, records, 2)
		assert.Equal(t, time.Date(2017, 7, 7, 13, 14, 8, 0, time.UTC), records[0].Start)

		require.NoError(t, c.SubscribeOnCalls(ctx, "user", false, "gravitel-group-id"))
		check("cmd=subscribeoncalls&user=user&status=off&group_id=gravitel-group-id")
	}
}

// TestMakeCallSendsE164Digits: the spec asks for E.164 digits; national and
// punctuated forms are brought to them, an internal number goes as typed,
// and anything else is refused before sending.
func TestMakeCallSendsE164Digits(t *testing.T) {
	t.Parallel()
	w := newWire(t, map[string]string{"makeCall": "commands/makecall.json"})
	c, err := gravitel.New(w.endpoint(), pbxKey)
	require.NoError(t, err)
	for _, tc := range []struct{ phone, clid, wantPhone, wantCLID string }{
		{"8 (916) 123-45-67", "8 499 686-15-74", "79161234567", "74996861574"},
		{"+7 916 123-45-67", "+74996861574", "79161234567", "74996861574"},
		{"9161234567", "", "79161234567", ""},
		{"+380 50 123 4567", "", "380501234567", ""},
		{"101", "", "101", ""},
	} {
		_, err := c.MakeCall(t.Context(), gravitel.MakeCallRequest{User: "admin", Phone: tc.phone, CLID: tc.clid})
		require.NoError(t, err, tc.phone)
		got := w.last().fields
		assert.Equal(t, tc.wantPhone, got["phone"], tc.phone)
		assert.Equal(t, tc.wantCLID, got["clid"], tc.clid)
	}
	sent := len(w.requests())
	for _, tc := range []struct{ phone, clid, arg string }{
		{"sip:alice", "", "phone"},
		{"+7 abc", "", "phone"},
		{"not a phone", "", "phone"},
		{"+79161234567", "ACME", "clid"},
	} {
		_, err := c.MakeCall(t.Context(), gravitel.MakeCallRequest{User: "admin", Phone: tc.phone, CLID: tc.clid})
		assert.ErrorIs(t, err, voip.ErrInvalidPhone, tc.phone)
		assert.ErrorIs(t, err, voip.ErrBadRequest, tc.phone)
		var argErr *voip.ArgError
		require.ErrorAs(t, err, &argErr, tc.phone)
		assert.Equal(t, tc.arg, argErr.Arg)
	}
	assert.Len(t, w.requests(), sent, "refused numbers are never sent")
}

// TestRedirectIsNotFollowed: a redirect (a wrong tenant, or http for https)
// is reported with its Location; the POST is neither turned into a bodiless
// GET nor sent, token and all, to where the redirect points.
func TestRedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	elsewhere := newStub(t, reply(http.StatusOK, `{"uuid":"x"}`))
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusPermanentRedirect} {
		for _, opts := range [][]gravitel.Option{nil, {gravitel.WithHTTPClient(&http.Client{})}} {
			s := newStub(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, elsewhere.endpoint(), status)
			})
			c, err := gravitel.New(s.endpoint(), pbxKey, opts...)
			require.NoError(t, err)
			_, err = c.MakeCall(t.Context(), gravitel.MakeCallRequest{User: "admin", Phone: "79101234567"})
			require.ErrorIs(t, err, voip.ErrNotFound, status)
			assert.NotErrorIs(t, err, voip.ErrAmbiguous)
			assert.ErrorContains(t, err, elsewhere.endpoint())
			_, err = c.Accounts(t.Context())
			require.ErrorIs(t, err, voip.ErrNotFound, status)
			assert.EqualValues(t, 2, s.hits.Load())
		}
	}
	assert.Zero(t, elsewhere.hits.Load(), "the redirect target must never see the request")
}

// TestBareHostGetsTheProtocolPath: an endpoint given as the tenant's host
// alone is served at /sys/crm_api.wcgp; any other path is kept.
func TestBareHostGetsTheProtocolPath(t *testing.T) {
	t.Parallel()
	w := newWire(t, map[string]string{"accounts": "commands/accounts.json"})
	for endpoint, want := range map[string]string{
		w.URL: "/sys/crm_api.wcgp", w.URL + "/": "/sys/crm_api.wcgp", w.URL + "/custom/api": "/custom/api",
	} {
		c, err := gravitel.New(endpoint, pbxKey)
		require.NoError(t, err)
		_, err = c.Accounts(t.Context())
		require.NoError(t, err, endpoint)
		assert.Equal(t, want, w.last().path, endpoint)
	}
}

// TestMakeCallContextEndIsAmbiguous: ctx ending while makeCall is out leaves
// the call possibly placed; ending before it is sent does not.
func TestMakeCallContextEndIsAmbiguous(t *testing.T) {
	t.Parallel()
	s := newStub(t, faults["slow"])
	c, err := gravitel.New(s.endpoint(), pbxKey, fastRetries)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err = c.MakeCall(ctx, gravitel.MakeCallRequest{User: "admin", Phone: "79101234567"})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, voip.ErrAmbiguous)
	assert.EqualValues(t, 1, s.hits.Load())

	done, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = c.MakeCall(done, gravitel.MakeCallRequest{User: "admin", Phone: "79101234567"})
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, voip.ErrAmbiguous)
	assert.EqualValues(t, 1, s.hits.Load(), "a dead context sends nothing")
}

// TestMakeCallUnreadable2xxIsAmbiguous: a 2xx the client cannot read means
// the PBX took the call; a refusal, even with 200, does not.
func TestMakeCallUnreadable2xxIsAmbiguous(t *testing.T) {
	t.Parallel()
	for body, ambiguous := range map[string]bool{
		"<html><body>proxy</body></html>": true,
		`{"uuid":`:                        true,
		`{"error":"Invalid parameters"}`:  false,
		`{"error":"Invalid token"}`:       false,
	} {
		s := newStub(t, reply(http.StatusOK, body))
		c, err := gravitel.New(s.endpoint(), pbxKey, fastRetries)
		require.NoError(t, err)
		_, err = c.MakeCall(t.Context(), gravitel.MakeCallRequest{User: "admin", Phone: "79101234567"})
		require.Error(t, err, body)
		assert.Equal(t, ambiguous, errors.Is(err, voip.ErrAmbiguous), body)
		var ae *voip.APIError
		require.ErrorAs(t, err, &ae, body)
		assert.Equal(t, http.StatusOK, ae.StatusCode, body)
		assert.EqualValues(t, 1, s.hits.Load(), body)
	}
}

// TestMembersLabel: a member without realName (the spec's accounts sample
// has none for some users) is labelled by login, as the ELMA365 module does.
func TestMembersLabel(t *testing.T) {
	t.Parallel()
	c, err := gravitel.New(newStub(t, reply(http.StatusOK, `[{"name":"admin","ext":701},{"name":"ivan","realName":"Иван","ext":"702"}]`)).endpoint(), pbxKey)
	require.NoError(t, err)
	got, err := c.Members(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []voip.Member{{ID: "admin", Name: "admin", Ext: "701"}, {ID: "ivan", Name: "Иван", Ext: "702"}}, got)
}
