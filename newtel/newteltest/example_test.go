package newteltest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/pbxkit/pbxkit/newtel"
	"github.com/pbxkit/pbxkit/newtel/newteltest"
	"github.com/pbxkit/pbxkit/voip"
)

// The keys of the examples, in the format of real ones.
const accessKey, signKey = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071", "f9e8d7c6b5a4938271605f4e3d2c1b0af9e8d7c6b5a49382"

// A client on the emulator: the one line that points it there is
// WithBaseURL(api.BaseURL()).
func ExampleServer() {
	api := newteltest.NewServer(accessKey, signKey)
	defer api.Close()
	client, err := newtel.New(accessKey, signKey, newtel.WithBaseURL(api.BaseURL()))
	if err != nil {
		fmt.Println(err)
		return
	}
	state, err := client.CompanyState(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("balance:", state.Balance, state.Currency)
	for _, r := range api.Requests() {
		fmt.Println("request:", r.Method, len(r.Authorization) == len("Bearer ")+122)
	}
	// Output:
	// balance: 1523.40 RUB
	// request: company/get-state true
}

// printEvents is a CRM that prints the webhooks it receives, as sent.
func printEvents() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var hook struct {
			Event string `json:"event"`
			Data  struct {
				Time   int64  `json:"time"`
				Status string `json:"status"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &hook); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		line := time.Unix(hook.Data.Time, 0).UTC().Format(time.TimeOnly) + " " + hook.Event
		if hook.Data.Status != "" {
			line += ": " + hook.Data.Status
		}
		fmt.Println(line)
	}))
}

// The webhooks of an inbound call that nobody answers (Talk is 0), with
// times counted back from the server's clock.
func ExampleServer_PlayInbound() {
	api := newteltest.NewServer(accessKey, signKey)
	defer api.Close()
	api.SetClock(func() time.Time { return time.Date(2025, 9, 18, 10, 0, 0, 0, time.UTC) })
	crm := printEvents()
	defer crm.Close()

	hooks := newteltest.Webhooks{URL: crm.URL, Key: "webhook-key", Client: crm.Client()}
	_, err := api.PlayInbound(context.Background(), hooks, newteltest.InboundCall{Client: "79161234567", Ext: "102", Ring: 21 * time.Second})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// 09:59:39 inboundCallStart
	// 09:59:39 ringingStart
	// 10:00:00 ringingEnd
	// 10:00:00 inboundCallEnd: no answer
}

// The webhooks of a click-to-call the server placed, answered after 5 s and
// talked for 95 s: the call starts when it was placed.
func ExampleServer_PlayOutbound() {
	ctx := context.Background()
	api := newteltest.NewServer(accessKey, signKey)
	defer api.Close()
	api.SetClock(func() time.Time { return time.Date(2025, 9, 18, 10, 0, 0, 0, time.UTC) })
	client, err := newtel.New(accessKey, signKey, newtel.WithBaseURL(api.BaseURL()),
		newtel.WithClock(func() time.Time { return time.Date(2025, 9, 18, 10, 0, 0, 0, time.UTC) }))
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := client.GenerateCall(ctx, "101", "+7 916 123-45-67"); err != nil {
		fmt.Println(err)
		return
	}
	crm := printEvents()
	defer crm.Close()

	hooks := newteltest.Webhooks{URL: crm.URL, Key: "webhook-key", Client: crm.Client()}
	if err := api.PlayOutbound(ctx, hooks, api.Calls()[0], 5*time.Second, 95*time.Second); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 09:58:20 outboundCallStart
	// 10:00:00 outboundCallEnd: answered
}

// A failure on demand: the next company/get-state is refused as if the keys
// were wrong.
func ExampleServer_Fail() {
	api := newteltest.NewServer(accessKey, signKey)
	defer api.Close()
	client, err := newtel.New(accessKey, signKey, newtel.WithBaseURL(api.BaseURL()))
	if err != nil {
		fmt.Println(err)
		return
	}
	api.Fail(newtel.MethodCompanyState, http.StatusUnauthorized, `{"status":"error","message":"Invalid signature"}`)
	_, err = client.CompanyState(context.Background())
	fmt.Println(errors.Is(err, voip.ErrUnauthorized))
	_, err = client.CompanyState(context.Background())
	fmt.Println(err)
	// Output:
	// true
	// <nil>
}
