package retailcrm_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/retailcrm"
	"github.com/pbxkit/pbxkit/voip"
)

// historyCRM plays calls/upload as retailCRM does: at most 50 calls a
// request (400 otherwise), calls stored once per externalId, duplicates
// reported.
type historyCRM struct {
	mu     sync.Mutex
	stored map[string]bool
	sizes  []int
}

func (h *historyCRM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var calls []map[string]any
	if r.URL.Path != "/api/v5/telephony/calls/upload" || json.Unmarshal([]byte(r.PostFormValue("calls")), &calls) != nil {
		reply(http.StatusBadRequest, `{"success":false,"errorMsg":"Errors in the input parameters"}`)(w, r)
		return
	}
	if len(calls) > 50 {
		reply(http.StatusBadRequest, `{"success":false,"errorMsg":"Errors in the input parameters","errors":["calls: must contain 50 or less records"]}`)(w, r)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sizes = append(h.sizes, len(calls))
	var dups []string
	n := 0
	for _, c := range calls {
		id, _ := c["externalId"].(string)
		if h.stored[id] {
			dups = append(dups, id)
			continue
		}
		h.stored[id] = true
		n++
	}
	body, _ := json.Marshal(map[string]any{"success": true, "processedCallsCount": n, "duplicateCalls": dups})
	reply(http.StatusOK, string(body))(w, r)
}

func records(n int) []retailcrm.CallRecord {
	out := make([]retailcrm.CallRecord, n)
	start := time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC)
	for i := range out {
		out[i] = retailcrm.CallRecord{Date: start.Add(time.Duration(i) * time.Minute), Type: retailcrm.CallIn,
			Phone: fmt.Sprintf("+7912%07d", i), Code: "101", Result: retailcrm.ResultAnswered,
			Duration: time.Minute, DurationWaiting: 10 * time.Second, ExternalID: fmt.Sprintf("pbx-call-%04d", i)}
	}
	return out
}

// TestUploadChunks uploads 0, 1, 50, 51 and 1,000 calls: requests of at
// most 50, every call stored once, nothing sent for none.
func TestUploadChunks(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 50, 51, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			crm := &historyCRM{stored: map[string]bool{}}
			s := newStub(t, crm.ServeHTTP)
			res, err := s.client(t).UploadCalls(t.Context(), records(n))
			require.NoError(t, err)
			assert.Equal(t, n, res.Processed)
			assert.Empty(t, res.Duplicates)
			assert.Len(t, crm.stored, n)
			assert.EqualValues(t, (n+49)/50, s.hits.Load())
			for i, size := range crm.sizes {
				if i < len(crm.sizes)-1 {
					assert.Equal(t, 50, size)
				}
			}
		})
	}
}

// TestUploadAgainIsSafe uploads the same calls twice: the second time they
// are duplicates, and nothing is stored twice.
func TestUploadAgainIsSafe(t *testing.T) {
	t.Parallel()
	crm := &historyCRM{stored: map[string]bool{}}
	s := newStub(t, crm.ServeHTTP)
	c := s.client(t)
	calls := records(60)
	_, err := c.UploadCalls(t.Context(), calls)
	require.NoError(t, err)
	res, err := c.UploadCalls(t.Context(), calls[40:])
	require.NoError(t, err)
	assert.Zero(t, res.Processed)
	assert.Len(t, res.Duplicates, 20)
	assert.Equal(t, "pbx-call-0040", res.Duplicates[0])
	assert.Len(t, crm.stored, 60)
}

// TestUploadWire checks one call as sent, after api-client-php's
// testCallsUpload fixture: the date in the account's zone, durations in
// seconds, result spelled "no answer".
func TestUploadWire(t *testing.T) {
	t.Parallel()
	s := newStub(t, reply(http.StatusOK, `{"success":true,"processedCallsCount":1}`))
	samara := time.FixedZone("SAMT", 4*60*60)
	c := s.client(t, retailcrm.WithLocation(samara))
	res, err := c.UploadCalls(t.Context(), []retailcrm.CallRecord{{
		Date: time.Date(2024, 5, 1, 8, 30, 0, 0, time.UTC), Type: retailcrm.CallOut, Phone: " 88005553125 ", UserID: 27,
		Result: retailcrm.ResultNoAnswer, Duration: 1500 * time.Millisecond, DurationWaiting: 10 * time.Second,
		ExternalID: "test_call_external_id", RecordURL: "https://example.com/test.mp3", ExternalPhone: "+74950000000", Site: "aliexpress",
	}})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Processed)
	r := s.requests()[0]
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "/api/v5/telephony/calls/upload", r.Path)
	var got []map[string]any
	formJSON(t, r, "calls", &got)
	assert.Equal(t, []map[string]any{{
		"date": "2024-05-01 12:30:00", "type": "out", "phone": "88005553125", "userId": float64(27), "result": "no answer",
		"duration": float64(2), "durationWaiting": float64(10), "externalId": "test_call_external_id",
		"recordUrl": "https://example.com/test.mp3", "externalPhone": "+74950000000", "site": "aliexpress",
	}}, got)

	// The default zone is Moscow time.
	s2 := newStub(t, reply(http.StatusOK, `{"success":true,"processedCallsCount":1}`))
	_, err = s2.client(t).UploadCalls(t.Context(), []retailcrm.CallRecord{{Date: time.Date(2024, 5, 1, 8, 30, 0, 0, time.UTC),
		Type: retailcrm.CallIn, Phone: "1", ExternalID: "x"}})
	require.NoError(t, err)
	formJSON(t, s2.requests()[0], "calls", &got)
	assert.Equal(t, "2024-05-01 11:30:00", got[0]["date"])
}

// TestUploadPartialFailure fails the second of three requests for its data
// and refuses two calls before sending: the result counts the stored
// calls, and the UploadError names every other one.
func TestUploadPartialFailure(t *testing.T) {
	t.Parallel()
	crm := &historyCRM{stored: map[string]bool{}}
	s := newStub(t, sequence(crm.ServeHTTP,
		reply(http.StatusBadRequest, `{"success":false,"errorMsg":"Errors in the entity format","errors":{"calls[3].phone":"Phone is invalid","calls[7].date":"Date is invalid"}}`),
		crm.ServeHTTP))
	calls := records(150)
	calls[10].Phone = ""
	calls[120].Type = "internal"
	res, err := s.client(t).UploadCalls(t.Context(), calls)
	var ue *retailcrm.UploadError
	require.ErrorAs(t, err, &ue)
	want := []int{10}
	for i := 51; i <= 100; i++ { // the second request: the 50 calls after the first 51, one refused
		want = append(want, i)
	}
	want = append(want, 120)
	assert.Equal(t, want, ue.Failed)
	assert.Equal(t, 150-len(want), res.Processed)
	assert.ErrorIs(t, err, voip.ErrBadRequest)
	var arg *voip.ArgError
	assert.ErrorAs(t, err, &arg)
	assert.Contains(t, err.Error(), "calls[3].phone: Phone is invalid")
	assert.Contains(t, err.Error(), "calls[7].date: Date is invalid")
	assert.Contains(t, err.Error(), "calls[10]")

	// Sending the failed ones again stores them all.
	again := make([]retailcrm.CallRecord, 0, len(ue.Failed))
	for _, i := range ue.Failed {
		if i != 10 && i != 120 {
			again = append(again, calls[i])
		}
	}
	res, err = s.client(t).UploadCalls(t.Context(), again)
	require.NoError(t, err)
	assert.Equal(t, len(again), res.Processed)
	assert.Len(t, crm.stored, 148)
}

// TestUploadStopsOnKeyError checks that a refused key stops the upload:
// one request, every call named.
func TestUploadStopsOnKeyError(t *testing.T) {
	t.Parallel()
	s := newStub(t, reply(http.StatusForbidden, `{"success":false,"errorMsg":"Wrong \"apiKey\" value."}`))
	res, err := s.client(t).UploadCalls(t.Context(), records(120))
	var ue *retailcrm.UploadError
	require.ErrorAs(t, err, &ue)
	assert.Len(t, ue.Failed, 120)
	assert.Zero(t, res.Processed)
	assert.ErrorIs(t, err, voip.ErrUnauthorized)
	assert.EqualValues(t, 1, s.hits.Load())
}

// TestUploadWithoutExternalIDOnce checks that a chunk with a call retailCRM
// cannot deduplicate is sent at most once on an uncertain failure.
func TestUploadWithoutExternalIDOnce(t *testing.T) {
	t.Parallel()
	s := newStub(t, reply(http.StatusBadGateway, "<html>502</html>"))
	calls := records(3)
	calls[1].ExternalID = ""
	_, err := s.client(t).UploadCalls(t.Context(), calls)
	require.ErrorIs(t, err, voip.ErrAmbiguous)
	assert.EqualValues(t, 1, s.hits.Load())
	var ue *retailcrm.UploadError
	require.True(t, errors.As(err, &ue))
	assert.Equal(t, []int{0, 1, 2}, ue.Failed)
}

// TestUploadRefusesCalls checks each call refused before sending: the
// valid ones go, the others are named with their reason.
func TestUploadRefusesCalls(t *testing.T) {
	t.Parallel()
	crm := &historyCRM{stored: map[string]bool{}}
	s := newStub(t, crm.ServeHTTP)
	calls := records(7)
	calls[0].Date = time.Time{}
	calls[1].Result = "no answered" // the event's spelling
	calls[2].Duration = -time.Second
	calls[3].UserID = -1
	calls[4].Type = ""
	calls[5].Phone = " "
	res, err := s.client(t).UploadCalls(t.Context(), calls)
	var ue *retailcrm.UploadError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, []int{0, 1, 2, 3, 4, 5}, ue.Failed)
	assert.Equal(t, 1, res.Processed)
	assert.True(t, crm.stored["pbx-call-0006"])
	for _, want := range []string{"calls[0]: no date", `calls[1]: unknown result "no answered"`, "calls[2]: negative duration",
		"calls[3]: negative userId", `calls[4]: type ""`, "calls[5]: no phone"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.ErrorIs(t, err, voip.ErrBadRequest)
	for _, r := range []retailcrm.CallResult{retailcrm.ResultAnswered, retailcrm.ResultBusy, retailcrm.ResultFailed,
		retailcrm.ResultNoAnswer, retailcrm.ResultNotAllowed, retailcrm.ResultUnknown} {
		calls := records(1)
		calls[0].Result = r
		_, err := s.client(t).UploadCalls(t.Context(), calls)
		assert.NoError(t, err, r)
	}
}
