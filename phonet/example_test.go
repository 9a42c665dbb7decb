package phonet_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/phonet"
	"github.com/pbxkit/pbxkit/phonet/phonettest"
	"github.com/pbxkit/pbxkit/voip"
)

// The client on an emulated tenant: the users, a click-to-call, and the
// missed calls of the last day.
func Example() {
	ctx := context.Background()
	pbx := phonettest.NewServer("demo-api-key")
	defer pbx.Close()
	// On a real tenant: phonet.New("mycompany.phonet.com.ua", apiKey).
	c, err := phonet.New(pbx.Domain, "demo-api-key", phonet.WithBaseURL(pbx.BaseURL()))
	if err != nil {
		log.Fatal(err)
	}
	users, err := c.Users(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("first user:", users[0].Ext, users[0].DisplayName)

	uuid, err := c.MakeCall(ctx, "001", "+380931234567")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("call placed:", len(uuid) == 32)

	for rec, err := range c.MissedCalls(ctx, phonet.HistoryQuery{From: time.Now().Add(-24 * time.Hour)}) {
		if err != nil {
			log.Fatal(err)
		}
		call := rec.Call()
		fmt.Println("missed:", call.Client, call.Disposition, call.Duration)
	}
	// Output:
	// first user: 001 Иван Иванов
	// call placed: true
	// missed: +380671234567 noanswer 21s
}

// One manager's live socket: events as they happen, and a click2call.
func ExampleClient_Subscribe() {
	ctx := context.Background()
	pbx := phonettest.NewServer("demo-api-key")
	defer pbx.Close()
	c, err := phonet.New(pbx.Domain, "demo-api-key", phonet.WithBaseURL(pbx.BaseURL()))
	if err != nil {
		log.Fatal(err)
	}
	st, err := c.Subscribe(ctx, "001")
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	_ = pbx.AwaitSockets(ctx, 1)

	id := pbx.Incoming("001", "380501234567")
	pbx.Answer(id)
	for range 2 {
		ev := <-st.Events()
		v, _ := ev.Voip()
		fmt.Println(ev.Type, v.Kind, v.Direction, v.Client)
	}
	if err := st.Call(ctx, "380991234567"); err != nil {
		log.Fatal(err)
	}
	ev := <-st.Events() // the operator's phone rings first
	fmt.Println(ev.Type, ev.Direction, ev.Client())
	// Output:
	// call.dial start in +380501234567
	// call.bridge answer in +380501234567
	// call.dial out 380991234567
}

// The CRM side: Phonet asks who is calling, then posts the call's events.
func ExampleNewWebhookHandler() {
	ctx := context.Background()
	h, err := phonet.NewWebhookHandler(phonet.WebhookConfig{
		Lookup: func(_ context.Context, r phonet.LookupRequest) (*phonet.Card, error) {
			return &phonet.Card{Name: "Анастасия", URL: "https://crm.example.com/c/1", ResponsibleEmployeeExt: "001"}, nil
		},
		Update: func(_ context.Context, u voip.Update) error {
			fmt.Println("event:", u.Event.Kind, u.Event.Client, u.Event.Ext)
			return nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	crm := httptest.NewServer(h)
	defer crm.Close()

	pbx := phonettest.NewServer("demo-api-key")
	defer pbx.Close()
	_, card, _ := phonettest.Fire(ctx, nil, crm.URL, phonettest.LookupWebhook("+380000000000", phonettest.DefaultTrunk), phonettest.Form)
	fmt.Println("card:", strings.TrimSpace(string(card)))
	hook := pbx.EventWebhook("call.dial", "47a968893984475b8c20e29dec144ce3", 4, "001", "+380000000000")
	_, _, _ = phonettest.Fire(ctx, nil, crm.URL, hook, phonettest.JSON)
	_, _, _ = phonettest.Fire(ctx, nil, crm.URL, hook, phonettest.JSON) // a duplicate: dropped
	// Output:
	// card: {"name":"Анастасия","url":"https://crm.example.com/c/1","urlText":null,"newEntity":false,"responsibleEmployeeExt":"001","responsibleEmployeeEmail":null}
	// event: start +380000000000 001
}
