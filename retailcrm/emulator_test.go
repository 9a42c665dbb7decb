package retailcrm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/retailcrm"
	"github.com/pbxkit/pbxkit/retailcrm/retailcrmtest"
	"github.com/pbxkit/pbxkit/voip"
)

// emuClientID is the module's clientId in the emulator tests.
const emuClientID = "emulated-client-id-0123456789abcdef"

// newEmulator starts an emulated account for one test and a client on it,
// its rate limits off so that tests do not wait.
func newEmulator(t *testing.T) (*retailcrmtest.Server, *retailcrm.Client) {
	t.Helper()
	crm := retailcrmtest.NewServer(apiKey)
	t.Cleanup(crm.Close)
	c, err := retailcrm.New(crm.BaseURL(), apiKey, retailcrm.WithRateLimit(1e6, 1e6),
		retailcrm.WithRetries(3, time.Millisecond, 5*time.Millisecond))
	require.NoError(t, err)
	return crm, c
}

// register edits the telephony module with its callbacks at base.
func register(t *testing.T, c *retailcrm.Client, base string) *retailcrm.EditInfo {
	t.Helper()
	info, err := c.EditIntegrationModule(t.Context(), "pbxkit", retailcrm.IntegrationModule{
		IntegrationCode: "pbxkit", Name: "pbxkit", ClientID: emuClientID, BaseURL: base, Active: true,
		Telephony: &retailcrm.Telephony{
			MakeCallURL: base + "/make-call", ChangeUserStatusURL: base + "/status",
			InputEventSupported: true, OutputEventSupported: true, HangupEventSupported: true,
			AdditionalCodes: []retailcrm.AdditionalCode{{UserID: 1, Code: "101"}, {UserID: 2, Code: "102"}, {UserID: 99, Code: "199"}},
			ExternalPhones:  []retailcrm.ExternalPhone{{SiteCode: "shop1", ExternalPhone: "+74950000000"}, {SiteCode: "nowhere", ExternalPhone: "+74950000001"}},
		},
	})
	require.NoError(t, err)
	return info
}

func TestEmulatorModule(t *testing.T) {
	t.Parallel()
	crm, c := newEmulator(t)
	info := register(t, c, "https://pbx.example.com/retailcrm")
	assert.Equal(t, []int64{99}, info.NotExistUserIDs)
	assert.Equal(t, []string{"nowhere"}, info.NotExistSiteCodes)
	raw, ok := crm.Module("pbxkit")
	require.True(t, ok)
	var sent map[string]any
	require.NoError(t, json.Unmarshal(raw, &sent))
	tel := sent["integrations"].(map[string]any)["telephony"].(map[string]any)
	assert.Equal(t, false, tel["allowEdit"], "false flags are sent")

	m, err := c.IntegrationModule(t.Context(), "pbxkit")
	require.NoError(t, err)
	assert.True(t, m.Active)
	require.NotNil(t, m.Telephony)
	assert.Equal(t, "https://pbx.example.com/retailcrm/make-call", m.Telephony.MakeCallURL)

	_, err = c.IntegrationModule(t.Context(), "absent")
	require.ErrorIs(t, err, voip.ErrNotFound)
	bad, err := retailcrm.New(crm.BaseURL(), "wrong-key-0123456789")
	require.NoError(t, err)
	_, err = bad.IntegrationModule(t.Context(), "pbxkit")
	require.ErrorIs(t, err, voip.ErrUnauthorized)
}

func TestEmulatorUploadIsChunkedAndSafeToRepeat(t *testing.T) {
	t.Parallel()
	crm, c := newEmulator(t)
	register(t, c, "https://pbx.example.com/retailcrm")
	start := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	calls := make([]retailcrm.CallRecord, 120)
	for i := range calls {
		calls[i] = retailcrm.CallRecord{Date: start.Add(time.Duration(i) * time.Minute), Type: retailcrm.CallIn,
			Phone: fmt.Sprintf("+7912%07d", i), Code: "101", Result: retailcrm.ResultAnswered,
			Duration: 30 * time.Second, ExternalID: fmt.Sprintf("call-%03d", i)}
	}
	res, err := c.UploadCalls(t.Context(), calls)
	require.NoError(t, err)
	assert.Equal(t, 120, res.Processed)
	assert.Len(t, crm.Calls(), 120)
	uploads := 0
	for _, r := range crm.Requests() {
		if strings.HasSuffix(r.Path, "/telephony/calls/upload") {
			uploads++
		}
	}
	assert.Equal(t, 3, uploads, "chunks of at most 50")

	// Sent again: nothing is stored twice.
	res, err = c.UploadCalls(t.Context(), calls[:60])
	require.NoError(t, err)
	assert.Equal(t, 0, res.Processed)
	assert.Len(t, res.Duplicates, 60)
	assert.Len(t, crm.Calls(), 120)

	// One call refused: the others are stored, the refused one named.
	crm.RejectCall("call-200", "bad call")
	more := []retailcrm.CallRecord{calls[0], calls[1]}
	more[0].ExternalID, more[1].ExternalID = "call-200", "call-201"
	res, err = c.UploadCalls(t.Context(), more)
	var upErr *retailcrm.UploadError
	require.ErrorAs(t, err, &upErr)
	assert.Equal(t, []int{0}, upErr.Failed)
	require.NotNil(t, res)
	assert.Len(t, crm.Calls(), 121)
}

func TestEmulatorEventsAndRateLimit(t *testing.T) {
	t.Parallel()
	crm, c := newEmulator(t)
	register(t, c, "https://pbx.example.com/retailcrm")
	crm.RateLimit(2)
	res, err := c.SendCallEvent(t.Context(), retailcrm.CallEvent{Phone: "+79121234567", Type: retailcrm.EventIn,
		Codes: []string{"101", "150"}, CallExternalID: "call-1"})
	require.NoError(t, err, "a rate-limit 503 was not processed: sent again")
	assert.Equal(t, []string{"150"}, res.NotExistCodes)
	assert.Len(t, crm.Events(), 1, "stored once")

	crm.Fail("/api/v5/telephony/call/event", http.StatusBadGateway, "<html>bad gateway</html>")
	_, err = c.SendCallEvent(t.Context(), retailcrm.CallEvent{Phone: "+79121234567", Type: retailcrm.EventHangup,
		Codes: []string{"101"}, CallExternalID: "call-1", HangupStatus: retailcrm.HangupAnswered})
	require.ErrorIs(t, err, voip.ErrAmbiguous, "not resent: it may have been processed")
}

func TestEmulatorResponsibleManager(t *testing.T) {
	t.Parallel()
	_, c := newEmulator(t)
	register(t, c, "https://pbx.example.com/retailcrm")
	r, err := c.ResponsibleManager(t.Context(), retailcrm.ManagerQuery{Phone: "+79121234567"})
	require.NoError(t, err)
	require.NotNil(t, r.Manager)
	assert.Equal(t, int64(1), r.Manager.ID)
	assert.Equal(t, "101", r.Manager.Code)
	require.NotNil(t, r.Customer)
	assert.Equal(t, "Ольга", r.Customer.FirstName)
	assert.NotEmpty(t, r.Links.CustomerLink)
	r, err = c.ResponsibleManager(t.Context(), retailcrm.ManagerQuery{Phone: "+79990000000"})
	require.NoError(t, err)
	assert.Nil(t, r.Customer)
}

func TestEmulatorCallbacks(t *testing.T) {
	t.Parallel()
	crm, c := newEmulator(t)
	var (
		mu      sync.Mutex
		calls   []retailcrm.MakeCallRequest
		changes []retailcrm.StatusChange
	)
	h, err := retailcrm.NewCallbackHandler(retailcrm.CallbackConfig{
		ClientID: emuClientID,
		MakeCall: func(_ context.Context, r retailcrm.MakeCallRequest) error {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, r)
			return nil
		},
		ChangeStatus: func(_ context.Context, s retailcrm.StatusChange) error {
			mu.Lock()
			defer mu.Unlock()
			changes = append(changes, s)
			return nil
		},
		Recording: func(_ context.Context, r retailcrm.RecordingRequest) (io.ReadCloser, string, error) {
			return io.NopCloser(strings.NewReader("ID3 audio of " + r.URL.Path)), "audio/mpeg", nil
		},
	})
	require.NoError(t, err)
	module := httptest.NewServer(h)
	t.Cleanup(module.Close)
	register(t, c, module.URL)

	resp, err := crm.MakeCall(t.Context(), module.Client(), "101", "+79121234567", 1, "")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, err = crm.ChangeStatus(t.Context(), module.Client(), "102", 2, "dinner")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, err = crm.FetchRecording(t.Context(), module.Client(), module.URL+"/records/call-1.mp3")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Equal(t, "audio/mpeg", resp.Header.Get("Content-Type"))
	assert.Equal(t, "ID3 audio of /records/call-1.mp3", string(body))

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, calls, 1)
	assert.Equal(t, "+79121234567", calls[0].Phone, "the + that arrived as a space is restored")
	assert.Equal(t, int64(1), calls[0].UserID)
	require.Len(t, changes, 1)
	assert.Equal(t, retailcrm.StatusDinner, changes[0].Status)
}
