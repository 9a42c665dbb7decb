package retailcrm_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/retailcrm"
	"github.com/pbxkit/pbxkit/voip"
)

// seedClientID is the seed article's clientId.
const seedClientID = "2dbh26tahjj26sg"

// callbackRecorder keeps what reached the functions.
type callbackRecorder struct {
	mu       sync.Mutex
	calls    []retailcrm.MakeCallRequest
	statuses []retailcrm.StatusChange
	records  []retailcrm.RecordingRequest
	fail     error
}

func (c *callbackRecorder) config() retailcrm.CallbackConfig {
	return retailcrm.CallbackConfig{
		ClientID: seedClientID,
		MakeCall: func(_ context.Context, r retailcrm.MakeCallRequest) error {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.calls = append(c.calls, r)
			return c.fail
		},
		ChangeStatus: func(_ context.Context, s retailcrm.StatusChange) error {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.statuses = append(c.statuses, s)
			return c.fail
		},
		Recording: func(_ context.Context, r retailcrm.RecordingRequest) (io.ReadCloser, string, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.records = append(c.records, r)
			if c.fail != nil {
				return nil, "", c.fail
			}
			return io.NopCloser(strings.NewReader("ID3 audio bytes")), "audio/mpeg", nil
		},
	}
}

func (c *callbackRecorder) reached() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.calls) + len(c.statuses) + len(c.records)
}

// get sends a GET with the raw query as retailCRM writes it, over a real
// server so that the query is not cleaned up on the way.
func get(t *testing.T, h http.Handler, target string) (*http.Response, string) {
	t.Helper()
	s := httptest.NewServer(h)
	defer s.Close()
	resp, err := s.Client().Get(s.URL + target)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

// TestCallbacksOfTheSeed sends the seed article's requests as written: the
// makeCall phone's "+" unescaped.
func TestCallbacksOfTheSeed(t *testing.T) {
	t.Parallel()
	rec := &callbackRecorder{}
	h, err := retailcrm.NewCallbackHandler(rec.config())
	require.NoError(t, err)

	resp, _ := get(t, h, "/make-call?clientId="+seedClientID+"&code=100&phone=+79121234567&userId=1")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = get(t, h, "/make-call?clientId="+seedClientID+"&code=100&phone=%2B7%20912%20123-45-67&userId=1&externalPhone=+74999999999")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = get(t, h, "/change-status?clientId="+seedClientID+"&code=100&userId=1&status=busy")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, []retailcrm.MakeCallRequest{
		{ClientID: seedClientID, Code: "100", Phone: "+79121234567", UserID: 1},
		{ClientID: seedClientID, Code: "100", Phone: "+7 912 123-45-67", UserID: 1, ExternalPhone: "+74999999999"},
	}, rec.calls)
	assert.Equal(t, []retailcrm.StatusChange{{ClientID: seedClientID, UserID: 1, Code: "100", Status: retailcrm.StatusBusy}}, rec.statuses)
}

// TestRecordingStreams fetches a recording as retailCRM does, with
// ?clientId= added to the uploaded recordUrl.
func TestRecordingStreams(t *testing.T) {
	t.Parallel()
	rec := &callbackRecorder{}
	h, err := retailcrm.NewCallbackHandler(rec.config())
	require.NoError(t, err)
	resp, body := get(t, h, "/records/pbx-call-0001.mp3?token=abc&clientId="+seedClientID)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "audio/mpeg", resp.Header.Get("Content-Type"))
	assert.Equal(t, "ID3 audio bytes", body)
	require.Len(t, rec.records, 1)
	assert.Equal(t, seedClientID, rec.records[0].ClientID)
	assert.Equal(t, "/records/pbx-call-0001.mp3", rec.records[0].URL.Path)
	assert.Equal(t, "token=abc", rec.records[0].URL.RawQuery, "the clientId is taken out of the URL")

	rec.fail = errors.New("no such recording: " + voip.ErrNotFound.Error())
	resp, _ = get(t, h, "/records/x.mp3?clientId="+seedClientID)
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	rec.fail = voip.ErrNotFound
	resp, _ = get(t, h, "/records/x.mp3?clientId="+seedClientID)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// TestCallbackClientID sends every callback with a missing, wrong or
// doubled clientId: refused, and no function reached.
func TestCallbackClientID(t *testing.T) {
	t.Parallel()
	rec := &callbackRecorder{}
	h, err := retailcrm.NewCallbackHandler(rec.config())
	require.NoError(t, err)
	for _, q := range []string{"code=100&phone=+79121234567&userId=1", "code=100&userId=1&status=busy", "", "phone=1&userId=x", "a=%zz"} {
		for clientID, want := range map[string]int{
			"":                           http.StatusUnauthorized,
			"&clientId=":                 http.StatusForbidden,
			"&clientId=2dbh26tahjj26s":   http.StatusForbidden,
			"&clientId=2dbh26tahjj26sgX": http.StatusForbidden,
			"&clientId=2DBH26TAHJJ26SG":  http.StatusForbidden,
			"&clientId=" + seedClientID + "&clientId=" + seedClientID: http.StatusUnauthorized,
		} {
			resp, body := get(t, h, "/cb?"+q+clientID)
			assert.Equal(t, want, resp.StatusCode, q+clientID)
			assert.NotContains(t, body, seedClientID)
		}
	}
	assert.Zero(t, rec.reached())
}

func TestCallbackFailures(t *testing.T) {
	t.Parallel()
	rec := &callbackRecorder{fail: errors.New("the PBX is down")}
	h, err := retailcrm.NewCallbackHandler(rec.config())
	require.NoError(t, err)
	for _, q := range []string{"code=100&phone=%2B79121234567&userId=1", "code=100&userId=1&status=busy", "id=1"} {
		resp, _ := get(t, h, "/cb?"+q+"&clientId="+seedClientID)
		assert.Equal(t, http.StatusInternalServerError, resp.StatusCode, q)
	}
	assert.Equal(t, 3, rec.reached())

	for q, want := range map[string]int{
		"phone=1&userId=x":      http.StatusBadRequest,
		"phone=&userId=1":       http.StatusBadRequest,
		"status=&userId=1":      http.StatusBadRequest,
		"status=busy&userId=-1": http.StatusBadRequest,
		"a=%zz":                 http.StatusBadRequest,
	} {
		resp, _ := get(t, h, "/cb?"+q+"&clientId="+seedClientID)
		assert.Equal(t, want, resp.StatusCode, q)
	}
	assert.Equal(t, 3, rec.reached())

	s := httptest.NewServer(h)
	defer s.Close()
	resp, err := s.Client().Post(s.URL+"/cb?status=busy&clientId="+seedClientID, "text/plain", nil)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	// A callback without its function is not served.
	only, err := retailcrm.NewCallbackHandler(retailcrm.CallbackConfig{ClientID: seedClientID,
		ChangeStatus: func(context.Context, retailcrm.StatusChange) error { return nil }})
	require.NoError(t, err)
	resp2, _ := get(t, only, "/cb?phone=1&clientId="+seedClientID)
	assert.Equal(t, http.StatusNotFound, resp2.StatusCode)
	resp2, _ = get(t, only, "/cb?status=dinner&clientId="+seedClientID)
	assert.Equal(t, http.StatusOK, resp2.StatusCode)
}

func TestNewCallbackHandlerRefuses(t *testing.T) {
	t.Parallel()
	_, err := retailcrm.NewCallbackHandler(retailcrm.CallbackConfig{ChangeStatus: func(context.Context, retailcrm.StatusChange) error { return nil }})
	assert.Error(t, err, "an empty ClientID")
	_, err = retailcrm.NewCallbackHandler(retailcrm.CallbackConfig{ClientID: "  ", MakeCall: func(context.Context, retailcrm.MakeCallRequest) error { return nil }})
	assert.Error(t, err, "a blank ClientID")
	_, err = retailcrm.NewCallbackHandler(retailcrm.CallbackConfig{ClientID: seedClientID})
	assert.Error(t, err, "no function")
}
