package retailcrm_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/retailcrm"
	"github.com/pbxkit/pbxkit/voip"
)

// exampleCRM is a stand-in for an account in the examples: it answers every
// request with success and counts the uploaded calls.
func exampleCRM() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v5/telephony/calls/upload":
			n := strings.Count(r.PostFormValue("calls"), `"externalId"`)
			fmt.Fprintf(w, `{"success":true,"processedCallsCount":%d}`, n)
		case "/api/v5/telephony/manager":
			fmt.Fprint(w, `{"success":true,"manager":{"id":1,"firstName":"Анна","code":"101"}}`)
		default:
			fmt.Fprint(w, `{"success":true}`)
		}
	}))
}

// A client for a real account, in the zone of its settings.
func ExampleNew() {
	samara, err := time.LoadLocation("Europe/Samara")
	if err != nil {
		samara = time.FixedZone("SAMT", 4*60*60)
	}
	c, err := retailcrm.New("https://example.retailcrm.ru", "API-KEY", retailcrm.WithLocation(samara))
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = c // c.EditIntegrationModule(ctx, …), c.SendCallEvent(ctx, …), …
}

// Registering the module with its callbacks and the user ↔ extension map.
func ExampleClient_EditIntegrationModule() {
	crm := exampleCRM()
	defer crm.Close()
	c, err := retailcrm.New(crm.URL, "API-KEY")
	if err != nil {
		fmt.Println(err)
		return
	}
	info, err := c.EditIntegrationModule(context.Background(), "acme-pbx", retailcrm.IntegrationModule{
		Name: "Acme PBX", Active: true, ClientID: "a-long-random-secret-per-account",
		BaseURL: "https://pbx.example.com", AccountURL: "https://pbx.example.com/account",
		Telephony: &retailcrm.Telephony{
			MakeCallURL:         "https://pbx.example.com/retailcrm/callback",
			ChangeUserStatusURL: "https://pbx.example.com/retailcrm/callback",
			InputEventSupported: true, OutputEventSupported: true, HangupEventSupported: true,
			AdditionalCodes: []retailcrm.AdditionalCode{{UserID: 1, Code: "101"}},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("registered; unknown users:", len(info.NotExistUserIDs))
	// Output: registered; unknown users: 0
}

// Uploading the history: 120 calls go in three requests.
func ExampleClient_UploadCalls() {
	crm := exampleCRM()
	defer crm.Close()
	c, err := retailcrm.New(crm.URL, "API-KEY")
	if err != nil {
		fmt.Println(err)
		return
	}
	calls := make([]retailcrm.CallRecord, 120)
	for i := range calls {
		calls[i] = retailcrm.CallRecord{Date: time.Now(), Type: retailcrm.CallIn, Phone: "+79121234567", Code: "101",
			Result: retailcrm.ResultAnswered, Duration: time.Minute, ExternalID: fmt.Sprint("call-", i)}
	}
	res, err := c.UploadCalls(context.Background(), calls)
	var partial *retailcrm.UploadError
	switch {
	case errors.As(err, &partial):
		fmt.Println("send again:", partial.Failed) // safe: retailCRM deduplicates on externalId
	case err != nil:
		fmt.Println(err)
		return
	}
	fmt.Println("processed:", res.Processed)
	// Output: processed: 120
}

// A PBX's events to call cards: what retailCRM has no event for is skipped.
func ExampleCallEventFrom() {
	crm := exampleCRM()
	defer crm.Close()
	c, err := retailcrm.New(crm.URL, "API-KEY")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ev := range []voip.Event{
		{Kind: voip.EventStart, Direction: voip.DirectionIn, CallID: "c-1", Client: "+79121234567", Ext: "101"},
		{Kind: voip.EventAnswer, Direction: voip.DirectionIn, CallID: "c-1", Client: "+79121234567", Ext: "101"},
		{Kind: voip.EventEnd, Direction: voip.DirectionIn, CallID: "c-1", Client: "+79121234567", Ext: "101", Disposition: voip.DispositionNoAnswer},
	} {
		out, ok := retailcrm.CallEventFrom(ev)
		if !ok {
			fmt.Println(ev.Kind, "skipped")
			continue
		}
		_, err := c.SendCallEvent(context.Background(), out)
		if errors.Is(err, voip.ErrAmbiguous) {
			continue // it may have been shown; do not send it again
		}
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(ev.Kind, "→", strings.TrimSpace(string(out.Type)+" "+string(out.HangupStatus)))
	}
	// Output:
	// start → in
	// answer skipped
	// end → hangup no answered
}

// Routing an incoming call to the client's manager.
func ExampleClient_ResponsibleManager() {
	crm := exampleCRM()
	defer crm.Close()
	c, err := retailcrm.New(crm.URL, "API-KEY")
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := c.ResponsibleManager(context.Background(), retailcrm.ManagerQuery{Phone: "+79121234567"})
	if err != nil {
		fmt.Println(err)
		return
	}
	if r.Manager == nil {
		fmt.Println("no free manager: route to the queue")
		return
	}
	fmt.Println("route to extension", r.Manager.Code)
	// Output: route to extension 101
}

// The module's callbacks at one URL: the seed article's makeCall, with its
// "+" unescaped, becomes MakeCall with the "+" back.
func ExampleNewCallbackHandler() {
	h, err := retailcrm.NewCallbackHandler(retailcrm.CallbackConfig{
		ClientID: "2dbh26tahjj26sg",
		MakeCall: func(_ context.Context, r retailcrm.MakeCallRequest) error {
			fmt.Println("call", r.Phone, "for extension", r.Code) // provider.GenerateCall(ctx, r.Code, r.Phone)
			return nil
		},
		ChangeStatus: func(_ context.Context, s retailcrm.StatusChange) error {
			fmt.Println("user", s.UserID, "is", s.Status)
			return nil
		},
		Recording: func(_ context.Context, r retailcrm.RecordingRequest) (io.ReadCloser, string, error) {
			return io.NopCloser(strings.NewReader("…")), "audio/mpeg", nil
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, target := range []string{
		"/retailcrm?clientId=2dbh26tahjj26sg&code=100&phone=+79121234567&userId=1",
		"/retailcrm?clientId=2dbh26tahjj26sg&code=100&userId=1&status=busy",
		"/retailcrm?clientId=wrong&code=100&phone=+79121234567&userId=1",
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		fmt.Println(rec.Code)
	}
	// Output:
	// call +79121234567 for extension 100
	// 200
	// user 1 is busy
	// 200
	// 403
}
