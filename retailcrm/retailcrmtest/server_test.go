package retailcrmtest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pbxkit/pbxkit/retailcrm/retailcrmtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const key = "test-api-key-0123456789"

// reply is an answer as received.
type reply struct {
	status int
	raw    string
	body   map[string]any
}

// call sends a request the way the notes describe a client's: the key in
// X-API-KEY (none when apiKey is ""), a POST's form urlencoded.
func call(t *testing.T, s *retailcrmtest.Server, method, path, apiKey string, form url.Values) reply {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.BaseURL()+path, body)
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if apiKey != "" {
		req.Header.Set("X-API-KEY", apiKey)
	}
	return send(t, s.Client(), req)
}

func send(t *testing.T, c *http.Client, req *http.Request) reply {
	t.Helper()
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m), "%s", raw)
	return reply{resp.StatusCode, string(raw), m}
}

func post(t *testing.T, s *retailcrmtest.Server, path, field, jsonText string) reply {
	t.Helper()
	return call(t, s, http.MethodPost, "/api/v5"+path, key, url.Values{field: {jsonText}})
}

func get(t *testing.T, s *retailcrmtest.Server, pathQuery string) reply {
	t.Helper()
	return call(t, s, http.MethodGet, "/api/v5"+pathQuery, key, nil)
}

// telephonyModule is the seed article's module, with the callbacks pointed
// at base.
func telephonyModule(base string) string {
	return `{"code":"my-telephony","active":true,"name":"Телефония","clientId":"2dbh26tahjj26sg",
	"accountUrl":"` + base + `/settings","integrations":{"telephony":{"makeCallUrl":"` + base + `/make-call",
	"changeUserStatusUrl":"` + base + `/change-status","allowEdit":false,"inputEventSupported":true,
	"outputEventSupported":false,"hangupEventSupported":true,
	"additionalCodes":[{"userId":"1","code":100},{"userId":2,"code":"200"}],
	"externalPhones":[{"siteCode":"shop1","externalPhone":"+7-499-999-99-99"}]}}}`
}

func register(t *testing.T, s *retailcrmtest.Server, base string) {
	t.Helper()
	r := post(t, s, "/integration-modules/my-telephony/edit", "integrationModule", telephonyModule(base))
	require.Equal(t, http.StatusCreated, r.status, r.raw)
}

func TestKeyIsCheckedWithTheExactMessages(t *testing.T) {
	t.Parallel()
	s := retailcrmtest.NewServer(key)
	defer s.Close()

	r := call(t, s, http.MethodGet, "/api/v5/telephony/manager?phone=88005553125", "", nil)
	assert.Equal(t, http.StatusForbidden, r.status)
	assert.JSONEq(t, `{"success":false,"errorMsg":"\"apiKey\" is missing."}`, r.raw)

	r = call(t, s, http.MethodGet, "/api/v5/telephony/manager?phone=88005553125", "wrong", nil)
	assert.Equal(t, http.StatusForbidden, r.status)
	assert.JSONEq(t, `{"success":false,"errorMsg":"Wrong \"apiKey\" value."}`, r.raw)

	r = call(t, s, http.MethodGet, "/api/v5/telephony/manager?phone=88005553125&apiKey="+key, "", nil)
	assert.Equal(t, http.StatusOK, r.status, "the apiKey query is accepted too")

	r = call(t, s, http.MethodPost, "/api/v5/telephony/call/event", "", url.Values{"apiKey": {key}, "event": {`{}`}})
	assert.Equal(t, http.StatusBadRequest, r.status, "and the apiKey form field: past the key check")

	reqs := s.Requests()
	require.Len(t, reqs, 4, "refused requests are recorded too")
	assert.Equal(t, "wrong", reqs[1].Header.Get("X-API-KEY"))
	assert.Equal(t, "/api/v5/telephony/manager", reqs[0].Path)
	assert.Equal(t, "phone=88005553125", reqs[0].RawQuery)
	assert.Equal(t, "{}", reqs[3].Form.Get("event"))
}

func TestRateLimitRefusesUnprocessedThenLetsThrough(t *testing.T) {
	t.Parallel()
	s := retailcrmtest.NewServer(key)
	defer s.Close()
	register(t, s, "http://pbx.invalid")
	s.RateLimit(2)
	event := `{"phone":"88005553125","type":"in","codes":["100"]}`
	for range 2 {
		r := post(t, s, "/telephony/call/event", "event", event)
		assert.Equal(t, http.StatusServiceUnavailable, r.status)
		assert.JSONEq(t, `{"success":false,"errorMsg":"Rate limit exceeded"}`, r.raw)
	}
	assert.Empty(t, s.Events(), "a 503 is not processed")
	r := call(t, s, http.MethodGet, "/api/v5/telephony/manager?phone=1", "wrong", nil)
	assert.Equal(t, http.StatusForbidden, r.status, "the limit is spent")
	r = post(t, s, "/telephony/call/event", "event", event)
	assert.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Len(t, s.Events(), 1)
}

func TestEnforceRateLimitsGeneralAndTelephonyApart(t *testing.T) {
	t.Parallel()
	s := retailcrmtest.NewServer(key)
	defer s.Close()
	s.EnforceRate(0.01, 0, 2) // a token per 100 s: no refill within the test
	for i, want := range []int{http.StatusNotFound, http.StatusNotFound, http.StatusServiceUnavailable} {
		r := get(t, s, "/integration-modules/none")
		assert.Equal(t, want, r.status, "general request %d", i)
	}
	for range 5 {
		assert.Equal(t, http.StatusOK, get(t, s, "/telephony/manager?phone=1").status, "telephony is not limited")
	}
	assert.Equal(t, 1, s.RateLimited())
	s.RateLimit(1)
	assert.Equal(t, http.StatusServiceUnavailable, get(t, s, "/telephony/manager?phone=1").status)
	assert.Equal(t, 2, s.RateLimited())
	s.EnforceRate(0, 0, 0)
	assert.Equal(t, http.StatusNotFound, get(t, s, "/integration-modules/none").status, "lifted")
}

func TestFailQueuesOnceByPathThenAnyPath(t *testing.T) {
	t.Parallel()
	s := retailcrmtest.NewServer(key)
	defer s.Close()
	register(t, s, "http://pbx.invalid")
	s.Fail("", http.StatusInternalServerError, `{"success":false,"errorMsg":"any"}`)
	s.Fail("/api/v5/telephony/call/event", http.StatusBadRequest, `{"success":false,"errorMsg":"Telephony not enabled"}`)

	r := post(t, s, "/telephony/call/event", "event", `{"phone":"1","type":"in"}`)
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "Telephony not enabled", r.body["errorMsg"])
	r = post(t, s, "/telephony/call/event", "event", `{"phone":"1","type":"in"}`)
	assert.Equal(t, http.StatusInternalServerError, r.status)
	assert.Equal(t, "any", r.body["errorMsg"])
	r = post(t, s, "/telephony/call/event", "event", `{"phone":"1","type":"in"}`)
	assert.Equal(t, http.StatusOK, r.status)
	assert.Len(t, s.Events(), 1, "failed requests store nothing")

	s.Fail("", http.StatusTeapot, `{}`)
	r = call(t, s, http.MethodGet, "/api/v5/telephony/manager?phone=1", "wrong", nil)
	assert.Equal(t, http.StatusForbidden, r.status, "faults come after the key check")
	assert.Equal(t, http.StatusTeapot, get(t, s, "/telephony/manager?phone=1").status)
}

func TestModuleEditCreatesReplacesAndReportsUnknowns(t *testing.T) {
	t.Parallel()
	s := retailcrmtest.NewServer(key)
	defer s.Close()

	_, ok := s.Module("my-telephony")
	assert.False(t, ok)
	r := get(t, s, "/integration-modules/my-telephony")
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.JSONEq(t, `{"success":false,"errorMsg":"Not found"}`, r.raw)

	text := telephonyModule("https://pbx.example.com")
	r = post(t, s, "/integration-modules/my-telephony/edit", "integrationModule", text)
	assert.Equal(t, http.StatusCreated, r.status)
	assert.JSONEq(t, `{"success":true,"info":[]}`, r.raw, "PHP's empty array")
	stored, ok := s.Module("my-telephony")
	require.True(t, ok)
	assert.JSONEq(t, text, string(stored))
	assert.Contains(t, string(stored), `"outputEventSupported":false`, "kept as sent")

	r = get(t, s, "/integration-modules/my-telephony")
	require.Equal(t, http.StatusOK, r.status)
	m := r.body["integrationModule"].(map[string]any)
	assert.Equal(t, true, r.body["success"])
	assert.NotContains(t, m, "clientId")
	assert.NotContains(t, r.raw, "2dbh26tahjj26sg")
	assert.Equal(t, "my-telephony", m["integrationCode"])
	assert.Equal(t, false, m["freeze"])
	assert.Equal(t, false, m["native"])
	assert.Equal(t, "https://pbx.example.com/settings", m["accountUrl"])
	tel := m["integrations"].(map[string]any)["telephony"].(map[string]any)
	assert.Equal(t, "https://pbx.example.com/make-call", tel["makeCallUrl"])
	assert.Equal(t, false, tel["outputEventSupported"])

	edit := `{"code":"my-telephony","active":true,"integrations":{"telephony":{
	"additionalCodes":[{"userId":"77","code":"777"},{"userId":1,"code":101},{"userId":77,"code":"778"}],
	"externalPhones":[{"siteCode":"shop2","externalPhone":"+74990000000"},{"siteCode":"old-shop","externalPhone":"+74991111111"}]}}}`
	r = post(t, s, "/integration-modules/my-telephony/edit", "integrationModule", edit)
	assert.Equal(t, http.StatusOK, r.status, "an existing module is replaced; clientId may be left out")
	assert.JSONEq(t, `{"success":true,"info":{"notExistUsersIds":[77],"notExistSiteCodes":["old-shop"]}}`, r.raw)
	stored, _ = s.Module("my-telephony")
	assert.JSONEq(t, edit, string(stored))

	s.AddSite("old-shop")
	s.AddUser(retailcrmtest.User{ID: 77, FirstName: "Новый", Code: "777", Status: retailcrmtest.StatusFree})
	r = post(t, s, "/integration-modules/my-telephony/edit", "integrationModule", edit)
	assert.JSONEq(t, `{"success":true,"info":[]}`, r.raw)
}

func TestModuleEditRefusesBadInput(t *testing.T) {
	t.Parallel()
	s := retailcrmtest.NewServer(key)
	defer s.Close()
	path := "/api/v5/integration-modules/my-telephony/edit"

	r := call(t, s, http.MethodPost, path, key, url.Values{"module": {"{}"}})
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.JSONEq(t, `{"success":false,"errorMsg":"Parameter 'integrationModule' is missing"}`, r.raw)

	r = post(t, s, "/integration-modules/my-telephony/edit", "integrationModule", `{"code":`)
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "Errors in the input parameters", r.body["errorMsg"])
	assert.Contains(t, r.body["errors"], "integrationModule")

	for name, tc := range map[string]struct{ json, field string }{
		"no clientId":   {`{"code":"my-telephony","active":true}`, "clientId"},
		"other code":    {`{"code":"other","clientId":"x"}`, "code"},
		"userId":        {`{"clientId":"x","integrations":{"telephony":{"additionalCodes":[{"userId":"one","code":"1"}]}}}`, "integrations.telephony.additionalCodes[0].userId"},
		"blank code":    {`{"clientId":"x","integrations":{"telephony":{"additionalCodes":[{"userId":1}]}}}`, "integrations.telephony.additionalCodes[0].code"},
		"flag a string": {`{"clientId":"x","integrations":{"telephony":{"allowEdit":"no"}}}`, "integrations.telephony.allowEdit"},
		"no site":       {`{"clientId":"x","integrations":{"telephony":{"externalPhones":[{"externalPhone":"1"}]}}}`, "integrations.telephony.externalPhones[0].siteCode"},
	} {
		r := post(t, s, "/integration-modules/my-telephony/edit", "integrationModule", tc.json)
		assert.Equal(t, http.StatusBadRequest, r.status, name)
		assert.Equal(t, "Errors in the entity format", r.body["errorMsg"], name)
		assert.Contains(t, r.body["errors"], tc.field, name)
	}
	_, ok := s.Module("my-telephony")
	assert.False(t, ok, "nothing refused is stored")

	s.ErrorsAsArray(true)
	r = post(t, s, "/integration-modules/my-telephony/edit", "integrationModule", `{"active":true}`)
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, []any{"clientId: This value should not be blank."}, r.body["errors"])
}

func TestMultipartFormIsAccepted(t *testing.T) {
	t.Parallel()
	s := retailcrmtest.NewServer(key)
	defer s.Close()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(t, mw.WriteField("integrationModule", telephonyModule("http://pbx.invalid")))
	require.NoError(t, mw.Close())
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.BaseURL()+"/api/v5/integration-modules/my-telephony/edit", &body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-API-KEY", key)
	r := send(t, s.Client(), req)
	assert.Equal(t, http.StatusCreated, r.status, r.raw)
	_, ok := s.Module("my-telephony")
	assert.True(t, ok)
}

// uploadCall is an uploaded call as api-client-php's fixture has it.
func uploadCall(externalID string) string {
	return `{"date":"2024-05-01 12:30:00","type":"in","phone":"88005553125","code":"100","userId":1,
	"result":"answered","duration":60,"durationWaiting":10,"externalId":"` + externalID + `",
	"recordUrl":"https://pbx.example.com/rec/` + externalID + `.mp3","externalPhone":"+74950000000","site":"shop1"}`
}

func calls(ids ...string) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = uploadCall(id)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func TestUploadDeduplicatesOnExternalID(t *testing.T) {
	t.Parallel()
	s := retailcrmtest.NewServer(key)
	defer s.Close()

	r := post(t, s, "/telephony/calls/upload", "calls", calls("a"))
	assert.Equal(t, http.StatusBadRequest, r.status, "no telephony module yet")
	assert.Equal(t, "Telephony not enabled or not supports calls upload", r.body["errorMsg"])
	register(t, s, "http://pbx.invalid")

	r = post(t, s, "/telephony/calls/upload", "calls", calls("a"))
	assert.Equal(t, http.StatusOK, r.status)
	assert.JSONEq(t, `{"success":true,"processedCallsCount":1}`, r.raw)

	r = post(t, s, "/telephony/calls/upload", "calls", calls("b", "a", "c", "b"))
	assert.Equal(t, http.StatusOK, r.status)
	assert.JSONEq(t, `{"success":true,"processedCallsCount":2,"duplicateCalls":["a","b"]}`, r.raw)

	r = post(t, s, "/telephony/calls/upload", "calls", `[]`)
	assert.JSONEq(t, `{"success":true,"processedCallsCount":0}`, r.raw)

	got := s.Calls()
	require.Len(t, got, 3)
	for i, id := range []string{"a", "b", "c"} {
		var c struct {
			ExternalID string `json:"externalId"`
			UserID     int64  `json:"userId"`
		}
		require.NoError(t, json.Unmarshal(got[i], &c))
		assert.Equal(t, id, c.ExternalID)
		assert.Equal(t, int64(1), c.UserID)
	}
}

func TestUploadTakesAtMostFiftyCalls(t *testing.T) {
	t.Parallel()
	s := retailcrmtest.NewServer(key)
	defer s.Close()
	register(t, s, "http://pbx.invalid")
	ids := make([]string, 51)
	for i := range ids {
		ids[i] = fmt.Sprintf("call-%02d", i)
	}
	r := post(t, s, "/telephony/calls/upload", "calls", calls(ids...))
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.JSONEq(t, `{"success":false,"errorMsg":"Errors in the input parameters",
		"errors":{"calls":"This collection should contain 50 elements or less."}}`, r.raw)
	assert.Empty(t, s.Calls(), "nothing of a refused upload is stored")

	r = post(t, s, "/telephony/calls/upload", "calls", calls(ids[:retailcrmtest.MaxCallsPerUpload]...))
	assert.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, float64(50), r.body["processedCallsCount"])
	assert.Len(t, s.Calls(), 50)
}

func TestUploadReportsEachRefusedCall(t *testing.T) {
	t.Parallel()
	s := retailcrmtest.NewServer(key)
	defer s.Close()
	register(t, s, "http://pbx.invalid")
	s.RejectCall("rejected", "The call cannot be saved.")
	badDate := strings.Replace(uploadCall("unpadded"), "2024-05-01", "2024-5-1", 1)
	badResult := strings.Replace(uploadCall("cancel"), `"answered"`, `"cancel"`, 1)
	body := "[" + uploadCall("good") + "," + badDate + "," + uploadCall("rejected") + "," + badResult + `,{"type":"out"}]`

	r := post(t, s, "/telephony/calls/upload", "calls", body)
	assert.Equal(t, 460, r.status, "some stored")
	assert.Equal(t, false, r.body["success"])
	assert.Equal(t, "Calls are loaded with errors", r.body["errorMsg"])
	assert.Equal(t, float64(1), r.body["processedCallsCount"])
	assert.Equal(t, map[string]any{
		"calls[1].date":   "This value is not a valid datetime.",
		"calls[2]":        "The call cannot be saved.",
		"calls[3].result": "The value you selected is not a valid choice.",
		"calls[4].date":   "This value should not be blank.",
		"calls[4].phone":  "This value should not be blank.",
	}, r.body["errors"])
	assert.Len(t, s.Calls(), 1)

	s.ErrorsAsArray(true)
	r = post(t, s, "/telephony/calls/upload", "calls", "["+uploadCall("good")+","+uploadCall("rejected")+"]")
	assert.Equal(t, http.StatusBadRequest, r.status, "none stored")
	assert.Equal(t, float64(0), r.body["processedCallsCount"])
	assert.Equal(t, []any{"good"}, r.body["duplicateCalls"])
	assert.Equal(t, []any{"calls[1]: The call cannot be saved."}, r.body["errors"])

	r = post(t, s, "/telephony/calls/upload", "calls", `{"not":"an array"}`)
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "Errors in the input parameters", r.body["errorMsg"])
	r = call(t, s, http.MethodPost, "/api/v5/telephony/calls/upload", key, url.Values{"call": {"[]"}})
	assert.JSONEq(t, `{"success":false,"errorMsg":"Parameter 'calls' is missing"}`, r.raw)
}

func TestEventReportsUnknownCodesAndUsers(t *testing.T) {
	t.Parallel()
	s := retailcrmtest.NewServer(key)
	defer s.Close()
	ev := `{"phone":"+7-555-555-55-55","type":"in","codes":["100","999",103],"userIds":[2,"1","42"],
	"callExternalId":"pbx-1","externalPhone":"+7-444-444-44-44"}`

	r := post(t, s, "/telephony/call/event", "event", ev)
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.JSONEq(t, `{"success":false,"errorMsg":"Telephony not enabled"}`, r.raw)
	register(t, s, "http://pbx.invalid")

	r = post(t, s, "/telephony/call/event", "event", ev)
	assert.Equal(t, http.StatusOK, r.status)
	assert.JSONEq(t, `{"success":true,"notExistCodes":["999"],"notExistUsers":[42]}`, r.raw,
		"100 is user 1's by additionalCodes, 103 user 3's own")
	r = post(t, s, "/telephony/call/event", "event", `{"phone":"1","type":"hangup","codes":["200"],"hangupStatus":"no answered"}`)
	assert.JSONEq(t, `{"success":true}`, r.raw)

	got := s.Events()
	require.Len(t, got, 2)
	assert.Contains(t, string(got[0]), `"callExternalId":"pbx-1"`)

	for name, tc := range map[string]struct{ json, field string }{
		"no phone":      {`{"type":"in","codes":["100"]}`, "phone"},
		"bad type":      {`{"phone":"1","type":"ring"}`, "type"},
		"upload status": {`{"phone":"1","type":"hangup","hangupStatus":"no answer"}`, "hangupStatus"},
		"bad user id":   {`{"phone":"1","type":"in","userIds":["x"]}`, "userIds[0]"},
	} {
		r := post(t, s, "/telephony/call/event", "event", tc.json)
		assert.Equal(t, http.StatusBadRequest, r.status, name)
		assert.Equal(t, "Errors in the entity format", r.body["errorMsg"], name)
		assert.Contains(t, r.body["errors"], tc.field, name)
	}
	r = post(t, s, "/telephony/call/event", "event", `{"phone":`)
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "Errors in the input parameters", r.body["errorMsg"])
	assert.Len(t, s.Events(), 2, "refused events are not stored")
}

func TestManagerNeedsDetailsForCustomerAndLinks(t *testing.T) {
	t.Parallel()
	s := retailcrmtest.NewServer(key)
	defer s.Close()

	r := get(t, s, "/telephony/manager?phone=%2B7+912+123-45-67&details=1")
	require.Equal(t, http.StatusOK, r.status)
	assert.JSONEq(t, `{"success":true,
		"manager":{"id":1,"firstName":"Иван","lastName":"Петров","patronymic":"Сергеевич","email":"ivan@example.com","code":"101"},
		"customer":{"id":1,"externalId":"c-1","firstName":"Ольга","lastName":"Иванова","email":"olga@example.org",
			"phones":[{"number":"+7 (912) 123-45-67"}]},
		"links":{"newOrderLink":"`+s.URL+`/orders/add?phone=%2B7+912+123-45-67","customerLink":"`+s.URL+`/customers/1"}}`, r.raw)

	r = get(t, s, "/telephony/manager?phone=89121234567")
	assert.Equal(t, map[string]any{"id": float64(1), "firstName": "Иван", "lastName": "Петров", "patronymic": "Сергеевич",
		"email": "ivan@example.com", "code": "101"}, r.body["manager"])
	assert.NotContains(t, r.body, "customer")
	assert.NotContains(t, r.body, "links")

	register(t, s, "http://pbx.invalid")
	r = get(t, s, "/telephony/manager?phone=89121234567")
	assert.Equal(t, "100", r.body["manager"].(map[string]any)["code"], "additionalCodes override the user's code")

	s.AddUser(retailcrmtest.User{ID: 2, FirstName: "Мария", Code: "102", Status: retailcrmtest.StatusDinner})
	r = get(t, s, "/telephony/manager?phone=88005553125&details=1")
	assert.NotContains(t, r.body, "manager", "not free")
	assert.Equal(t, float64(2), r.body["customer"].(map[string]any)["id"])
	r = get(t, s, "/telephony/manager?phone=88005553125&ignoreStatus=1")
	assert.Equal(t, float64(2), r.body["manager"].(map[string]any)["id"])

	s.AddUser(retailcrmtest.User{ID: 3, Status: retailcrmtest.StatusFree})
	s.AddCustomer(retailcrmtest.Customer{ID: 5, Phones: []string{"+7 900 000-00-05"}, ManagerID: 3})
	r = get(t, s, "/telephony/manager?phone=79000000005&ignoreStatus=1")
	assert.NotContains(t, r.body, "manager", "no extension")

	r = get(t, s, "/telephony/manager?phone=70000000000&details=1")
	assert.JSONEq(t, `{"success":true,"links":{"newOrderLink":"`+s.URL+`/orders/add?phone=70000000000",
		"newCustomerLink":"`+s.URL+`/customers/add?phone=70000000000"}}`, r.raw)

	r = get(t, s, "/telephony/manager?details=1")
	assert.JSONEq(t, `{"success":false,"errorMsg":"Parameter 'phone' is missing"}`, r.raw)
}

func TestUnknownMethodsAndWrongVerbs(t *testing.T) {
	t.Parallel()
	s := retailcrmtest.NewServer(key)
	defer s.Close()
	for path, want := range map[string]int{
		"/api/v5/telephony/calls":                 http.StatusNotFound,
		"/api/v4/telephony/manager":               http.StatusNotFound,
		"/api/v5/integration-modules/a/b/edit":    http.StatusNotFound,
		"/api/v5/telephony/call/event":            http.StatusMethodNotAllowed,
		"/api/v5/integration-modules/my-pbx/edit": http.StatusMethodNotAllowed,
	} {
		r := call(t, s, http.MethodGet, path, key, nil)
		assert.Equal(t, want, r.status, path)
		assert.Equal(t, false, r.body["success"], path)
	}
	r := call(t, s, http.MethodPost, "/api/v5/telephony/manager", key, url.Values{"phone": {"1"}})
	assert.JSONEq(t, `{"success":false,"errorMsg":"Method Not Allowed"}`, r.raw)
}

// receiver is a PBX module's callback endpoint that records what came.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []*url.URL
	code int
}

func newReceiver(code int) *receiver {
	rc := &receiver{code: code}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.mu.Lock()
		rc.got = append(rc.got, r.URL)
		rc.mu.Unlock()
		if r.Method != http.MethodGet {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/rec/") {
			w.Header().Set("Content-Type", "audio/mpeg")
		}
		w.WriteHeader(rc.code)
		_, _ = w.Write([]byte("ID3"))
	}))
	return rc
}

func (rc *receiver) urls() []*url.URL {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.got
}

func TestCallbacksGoToTheModuleAsTheSeedShows(t *testing.T) {
	t.Parallel()
	s := retailcrmtest.NewServer(key)
	defer s.Close()
	pbx := newReceiver(http.StatusOK)
	defer pbx.Close()
	ctx := t.Context()

	_, err := s.MakeCall(ctx, pbx.Client(), "100", "+79121234567", 1, "")
	assert.ErrorIs(t, err, retailcrmtest.ErrNoCallbackURL, "no module yet")
	register(t, s, pbx.URL)

	resp, err := s.MakeCall(ctx, pbx.Client(), "100", "+79121234567", 1, "")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, err = s.MakeCall(ctx, pbx.Client(), "", "+7 912 123-45-67", 2, "+7-499-999-99-99")
	require.NoError(t, err)
	resp.Body.Close()
	resp, err = s.ChangeStatus(ctx, pbx.Client(), "", 1, retailcrmtest.StatusBusy)
	require.NoError(t, err)
	resp.Body.Close()

	got := pbx.urls()
	require.Len(t, got, 3)
	assert.Equal(t, "/make-call", got[0].Path)
	assert.Equal(t, "clientId=2dbh26tahjj26sg&code=100&phone=+79121234567&userId=1", got[0].RawQuery, "the seed's query")
	assert.Equal(t, " 79121234567", got[0].Query().Get("phone"), "a leading + arrives as a space")
	q := got[1].Query()
	assert.Equal(t, "200", q.Get("code"), "filled in from additionalCodes")
	assert.Equal(t, " 7 912 123-45-67", q.Get("phone"))
	assert.Equal(t, " 7-499-999-99-99", q.Get("externalPhone"))
	assert.Equal(t, "/change-status", got[2].Path)
	assert.Equal(t, "clientId=2dbh26tahjj26sg&code=100&userId=1&status=busy", got[2].RawQuery)
	assert.Equal(t, retailcrmtest.StatusBusy, s.Users()[0].Status)

	resp, err = s.MakeCall(ctx, pbx.Client(), "200", "88005553125", 0, "")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "2", pbx.urls()[3].Query().Get("userId"), "filled in from additionalCodes")
}

func TestFetchRecordingAddsClientID(t *testing.T) {
	t.Parallel()
	s := retailcrmtest.NewServer(key)
	defer s.Close()
	pbx := newReceiver(http.StatusOK)
	defer pbx.Close()
	ctx := t.Context()
	_, err := s.FetchRecording(ctx, pbx.Client(), pbx.URL+"/rec/1.mp3")
	assert.ErrorIs(t, err, retailcrmtest.ErrNoCallbackURL, "no clientId before a module")
	register(t, s, pbx.URL)

	resp, err := s.FetchRecording(ctx, pbx.Client(), pbx.URL+"/rec/1.mp3?token=a%2Fb")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, "audio/mpeg", resp.Header.Get("Content-Type"))
	assert.Equal(t, "ID3", string(body))
	assert.Equal(t, "token=a%2Fb&clientId=2dbh26tahjj26sg", pbx.urls()[0].RawQuery)

	up := `[{"date":"2024-05-01 12:30:00","type":"in","phone":"1","externalId":"x-1","recordUrl":"` + pbx.URL + `/rec/x-1.mp3"}]`
	require.Equal(t, http.StatusOK, post(t, s, "/telephony/calls/upload", "calls", up).status)
	resp, err = s.FetchRecording(ctx, pbx.Client(), "x-1")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "/rec/x-1.mp3", pbx.urls()[1].Path, "by the call's externalId")
	assert.Equal(t, "clientId=2dbh26tahjj26sg", pbx.urls()[1].RawQuery)
	_, err = s.FetchRecording(ctx, pbx.Client(), "unknown")
	assert.ErrorIs(t, err, retailcrmtest.ErrNoCallbackURL)
}

// FuzzMethods feeds the methods' JSON form fields (and the manager's
// phone) with anything: every answer is the JSON envelope with a status
// the methods use, and nothing panics.
func FuzzMethods(f *testing.F) {
	s := retailcrmtest.NewServer(key)
	f.Cleanup(s.Close)
	h := s.Config.Handler
	register := httptest.NewRequest(http.MethodPost, "/api/v5/integration-modules/my-telephony/edit",
		strings.NewReader(url.Values{"integrationModule": {telephonyModule("http://pbx.invalid")}}.Encode()))
	register.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	register.Header.Set("X-API-KEY", key)
	h.ServeHTTP(httptest.NewRecorder(), register)

	f.Add(uint8(0), telephonyModule("http://pbx.invalid"))
	f.Add(uint8(0), `{"clientId":"x","integrations":{"telephony":{"additionalCodes":[{"userId":"1","code":100},null]}}}`)
	f.Add(uint8(1), calls("a", "b"))
	f.Add(uint8(1), `[{"date":"2024-05-01 12:30:00","type":"in","phone":"1","userId":"x","duration":-1},7,null]`)
	f.Add(uint8(2), `{"phone":"1","type":"hangup","codes":[100,"101"],"userIds":["1",2],"hangupStatus":"no answered"}`)
	f.Add(uint8(2), `{"phone":null,"codes":{}}`)
	f.Add(uint8(3), "+7 (912) 123-45-67")
	f.Fuzz(func(t *testing.T, which uint8, value string) {
		var req *http.Request
		switch which % 4 {
		case 0, 1, 2:
			path, field := [...][2]string{
				{"/api/v5/integration-modules/my-telephony/edit", "integrationModule"},
				{"/api/v5/telephony/calls/upload", "calls"},
				{"/api/v5/telephony/call/event", "event"},
			}[which%4][0], [...]string{"integrationModule", "calls", "event"}[which%4]
			req = httptest.NewRequest(http.MethodPost, path, strings.NewReader(url.Values{field: {value}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		default:
			req = httptest.NewRequest(http.MethodGet, "/api/v5/telephony/manager?details=1&phone="+url.QueryEscape(value), nil)
		}
		req.Header.Set("X-API-KEY", key)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.Contains(t, []int{http.StatusOK, http.StatusCreated, http.StatusBadRequest, 460}, rec.Code, rec.Body.String())
		var env struct {
			Success *bool `json:"success"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &env), rec.Body.String())
		require.NotNil(t, env.Success)
		assert.Equal(t, rec.Code < 300, *env.Success)
	})
}
