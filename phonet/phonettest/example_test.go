package phonettest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/pbxkit/pbxkit/phonet"
	"github.com/pbxkit/pbxkit/phonet/phonettest"
	"github.com/pbxkit/pbxkit/voip"
)

// A client on the emulator, a failure injected, and what the emulator saw.
func ExampleServer() {
	ctx := context.Background()
	const apiKey = "demo-api-key"
	pbx := phonettest.NewServer(apiKey)
	defer pbx.Close()
	client, err := phonet.New(pbx.Domain, apiKey, phonet.WithBaseURL(pbx.BaseURL()))
	if err != nil {
		log.Fatal(err)
	}

	// A 503 to makeCall: Phonet may have placed the call, so the client
	// does not repeat it.
	pbx.Fail("/rest/user/makeCall", http.StatusServiceUnavailable, "try later")
	_, err = client.MakeCall(ctx, "001", "+380931234567")
	fmt.Println("first try:", errors.Is(err, voip.ErrServer), errors.Is(err, voip.ErrAmbiguous))
	id, err := client.MakeCall(ctx, "001", "+380931234567")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("placed:", pbx.Calls()[0].UUID == id, pbx.Calls()[0].To)
	for _, r := range pbx.Requests() {
		fmt.Println(r.Method, r.Path, r.Cookie)
	}
	// Output:
	// first try: true true
	// placed: true +380931234567
	// POST /rest/security/authorize false
	// POST /rest/user/makeCall true
	// POST /rest/user/makeCall true
}

// The emulator plays a client's call to a CRM's webhook handler; the call
// then shows in the REST history.
func ExampleServer_PlayInbound() {
	ctx := context.Background()
	const apiKey = "demo-api-key"
	pbx := phonettest.NewServer(apiKey)
	defer pbx.Close()
	h, err := phonet.NewWebhookHandler(phonet.WebhookConfig{
		Update: func(_ context.Context, u voip.Update) error {
			fmt.Println(u.Event.Kind, u.Event.Client, u.Event.Ext)
			return nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	crm := httptest.NewServer(h)
	defer crm.Close()

	id, err := pbx.PlayInbound(ctx, phonettest.Webhooks{URL: crm.URL, Encoding: phonettest.Form}, phonettest.InboundCall{
		Client: "+380501234567", Ext: "002", Ring: 5 * time.Second, Talk: 2 * time.Minute,
	})
	if err != nil {
		log.Fatal(err)
	}

	client, err := phonet.New(pbx.Domain, apiKey, phonet.WithBaseURL(pbx.BaseURL()))
	if err != nil {
		log.Fatal(err)
	}
	for rec, err := range client.CompanyCalls(ctx, phonet.HistoryQuery{From: time.Now().Add(-time.Hour)}) {
		if err != nil {
			log.Fatal(err)
		}
		if call := rec.Call(); call.ID == id {
			fmt.Println("history:", call.Disposition, call.Duration, call.Talk, call.RecordingURL != "")
		}
	}
	// Output:
	// start +380501234567 002
	// answer +380501234567 002
	// end +380501234567 002
	// history: answered 2m5s 2m0s true
}

// One delivery at a time: the client-card lookup, and the CRM's card.
func ExampleWebhooks_Send() {
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		fmt.Println("lookup of", r.PostForm.Get("otherLegNum"))
		_, _ = w.Write([]byte(`{"name":"Анастасия","newEntity":false}`))
	}))
	defer crm.Close()
	hooks := phonettest.Webhooks{URL: crm.URL, Encoding: phonettest.Form}
	card, err := hooks.Send(context.Background(), phonettest.LookupWebhook("+380501234567", phonettest.DefaultTrunk))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s", card)
	// Output:
	// lookup of +380501234567
	// {"name":"Анастасия","newEntity":false}
}
