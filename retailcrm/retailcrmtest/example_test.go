package retailcrmtest_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/pbxkit/pbxkit/retailcrm/retailcrmtest"
)

// form POSTs one JSON form field to an API method with the key in
// X-API-KEY, as a client does, and prints the answer.
func form(crm *retailcrmtest.Server, apiKey, method, field, value string) {
	body := url.Values{field: {value}}.Encode()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost,
		crm.BaseURL()+"/api/v5/"+method, strings.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-API-KEY", apiKey)
	resp, err := crm.Client().Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, strings.TrimSpace(string(answer)))
}

// A PBX module registers, uploads a call twice and reports a call event;
// the emulator deduplicates the upload on externalId.
func ExampleServer() {
	const apiKey = "demo-api-key"
	crm := retailcrmtest.NewServer(apiKey)
	defer crm.Close()

	form(crm, apiKey, "integration-modules/acme-pbx/edit", "integrationModule",
		`{"code":"acme-pbx","active":true,"clientId":"tenant-42-7f3c","integrations":{"telephony":{
		"makeCallUrl":"https://pbx.example.com/make-call","inputEventSupported":true,
		"additionalCodes":[{"userId":1,"code":"101"},{"userId":"16","code":102}]}}}`)
	call := `[{"date":"2024-05-01 12:30:00","type":"in","phone":"88005553125","code":"101",
		"result":"answered","duration":60,"externalId":"pbx-call-0001"}]`
	form(crm, apiKey, "telephony/calls/upload", "calls", call)
	form(crm, apiKey, "telephony/calls/upload", "calls", call)
	form(crm, apiKey, "telephony/call/event", "event",
		`{"phone":"88005553125","type":"in","codes":["101","109"],"callExternalId":"pbx-call-0001"}`)
	fmt.Println(len(crm.Calls()), "call,", len(crm.Events()), "event,", len(crm.Requests()), "requests")
	// Output:
	// 201 {"info":{"notExistUsersIds":[16]},"success":true}
	// 200 {"processedCallsCount":1,"success":true}
	// 200 {"duplicateCalls":["pbx-call-0001"],"processedCallsCount":0,"success":true}
	// 200 {"notExistCodes":["109"],"success":true}
	// 1 call, 1 event, 4 requests
}

// A rate-limit refusal, then a failure of one's choosing, then the method
// itself: the seeded customer's responsible manager.
func ExampleServer_RateLimit() {
	const apiKey = "demo-api-key"
	crm := retailcrmtest.NewServer(apiKey)
	defer crm.Close()
	crm.RateLimit(1)
	crm.Fail("/api/v5/telephony/manager", http.StatusForbidden, `{"success":false,"errorMsg":"Access denied."}`)
	for range 3 {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet,
			crm.BaseURL()+"/api/v5/telephony/manager?phone=%2B79121234567", nil)
		if err != nil {
			log.Fatal(err)
		}
		req.Header.Set("X-API-KEY", apiKey)
		resp, err := crm.Client().Do(req)
		if err != nil {
			log.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, strings.TrimSpace(string(answer)))
	}
	// Output:
	// 503 {"errorMsg":"Rate limit exceeded","success":false}
	// 403 {"success":false,"errorMsg":"Access denied."}
	// 200 {"manager":{"code":"101","email":"ivan@example.com","firstName":"Иван","id":1,"lastName":"Петров","patronymic":"Сергеевич"},"success":true}
}

// The CRM asks the module to place a call: the phone is not escaped, so
// the module's standard query decoding sees a space where the "+" was.
func ExampleServer_MakeCall() {
	ctx := context.Background()
	const apiKey = "demo-api-key"
	crm := retailcrmtest.NewServer(apiKey)
	defer crm.Close()
	pbx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println(r.Method, r.URL.Path, r.URL.RawQuery)
		fmt.Printf("phone %q\n", r.URL.Query().Get("phone"))
	}))
	defer pbx.Close()

	form(crm, apiKey, "integration-modules/acme-pbx/edit", "integrationModule",
		`{"code":"acme-pbx","active":true,"clientId":"tenant-42-7f3c","integrations":{"telephony":{
		"makeCallUrl":"`+pbx.URL+`/make-call","additionalCodes":[{"userId":1,"code":"100"}]}}}`)
	resp, err := crm.MakeCall(ctx, pbx.Client(), "", "+79121234567", 1, "")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// 201 {"info":[],"success":true}
	// GET /make-call clientId=tenant-42-7f3c&code=100&phone=+79121234567&userId=1
	// phone " 79121234567"
	// 200
}
