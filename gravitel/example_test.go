package gravitel_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/gravitel"
	"github.com/pbxkit/pbxkit/gravitel/graviteltest"
	"github.com/pbxkit/pbxkit/voip"
)

// A client for a real tenant. The endpoint is the "Адрес облачной АТС" and
// the token the PBX key from the cabinet page "Интеграция с CRM".
func ExampleNew() {
	c, err := gravitel.New("https://vats19910.gravitel.ru/sys/crm_api.wcgp", "PBX-KEY",
		gravitel.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}))
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = c // c.Accounts(ctx), c.MakeCall(ctx, …), …
}

// The client as a voip.Provider, on the emulator: the code a CRM writes
// once for every vendor.
func Example_provider() {
	ctx := context.Background()
	pbx := graviteltest.NewServer("pbx-key")
	defer pbx.Close()
	client, err := gravitel.New(pbx.BaseURL(), "pbx-key")
	if err != nil {
		fmt.Println(err)
		return
	}

	var p voip.Provider = client
	if err := p.TestConnection(ctx); err != nil {
		fmt.Println(err)
		return
	}
	members, err := p.Members(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range members {
		fmt.Printf("%s %s (%s)\n", m.Ext, m.ID, m.Name)
	}
	// Extension 701 rings first; when it picks up, the PBX dials the client.
	id, err := p.GenerateCall(ctx, "701", "+7 916 123-45-67")
	if errors.Is(err, voip.ErrAmbiguous) {
		fmt.Println("the call may be ringing: do not place it again")
		return
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	placed := pbx.Calls()[0]
	fmt.Println("placed:", id == placed.UUID, placed.User, placed.Phone)
	// Output:
	// 703 alexey (Alexey)
	// 701 admin (Администратор)
	// 702 ivan (Иван)
	// placed: true 701 79161234567
}

// A click-to-call with the caller ID the client sees.
func ExampleClient_MakeCall() {
	pbx := graviteltest.NewServer("pbx-key")
	defer pbx.Close()
	c, err := gravitel.New(pbx.BaseURL(), "pbx-key")
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = c.MakeCall(context.Background(), gravitel.MakeCallRequest{
		User: "admin@test.gravitel.ru", Phone: "8 (916) 123-45-67", CLID: "+7 499 686-15-74",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	placed := pbx.Calls()[0]
	fmt.Println(placed.User, placed.Phone, placed.CLID)
	// Output:
	// admin@test.gravitel.ru 79161234567 74996861574
}

// Errors match the voip sentinels: the PBX's refusal is a *voip.APIError,
// an argument refused before sending a *voip.ArgError.
func ExampleClient_Accounts_errors() {
	ctx := context.Background()
	pbx := graviteltest.NewServer("pbx-key")
	defer pbx.Close()
	c, _ := gravitel.New(pbx.BaseURL(), "wrong-key")
	_, err := c.Accounts(ctx)
	var apiErr *voip.APIError
	fmt.Println(errors.Is(err, voip.ErrUnauthorized), errors.As(err, &apiErr) && apiErr.Message == "Invalid token")

	err = c.SetDND(ctx, "", true)
	var argErr *voip.ArgError
	fmt.Println(errors.Is(err, voip.ErrBadRequest), errors.As(err, &argErr), err)
	// Output:
	// true true
	// true true gravitel: SetDND: user: empty
}

// The CRM URL: the emulated PBX plays an inbound call into the handler.
func ExampleNewWebhookHandler() {
	handler, err := gravitel.NewWebhookHandler(gravitel.WebhookConfig{
		CRMToken: "crm-key", // the CRM key typed into the PBX cabinet
		Update: func(_ context.Context, u voip.Update) error {
			if u.Event != nil {
				fmt.Println("event:", u.Event.Kind, u.Event.Direction, u.Event.Client, u.Event.Ext)
			}
			if u.Call != nil {
				fmt.Println("call:", u.Call.Disposition, u.Call.Duration, u.Call.RawStatus)
			}
			return nil
		},
		Contact: func(_ context.Context, w *gravitel.Webhook) (*gravitel.Contact, error) {
			fmt.Println("who is", w.Phone)
			return &gravitel.Contact{Name: "ООО Ромашка", Responsible: "ivan"}, nil
		},
		// Replicas behind a load balancer share one Memory (a distributed
		// one); the handlers of one process may share a LocalMemory.
		Memory: voip.NewLocalMemory(0),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	crm := httptest.NewServer(handler)
	defer crm.Close()
	pbx := graviteltest.NewServer("pbx-key")
	defer pbx.Close()

	hooks := graviteltest.Webhooks{URL: crm.URL, CRMToken: "crm-key"}
	call := graviteltest.InboundCall{Client: "79161234567", Ext: "ivan", Ring: 3 * time.Second, Talk: 42 * time.Second}
	if _, err := pbx.PlayInbound(context.Background(), hooks, call); err != nil {
		fmt.Println(err)
	}
	// Output:
	// who is 79161234567
	// event: start in +79161234567 702
	// event: answer in +79161234567 702
	// event: end in +79161234567 702
	// call: answered 45s Success
}

// The call history of a period, as voip calls.
func ExampleClient_History() {
	pbx := graviteltest.NewServer("pbx-key")
	defer pbx.Close()
	c, err := gravitel.New(pbx.BaseURL(), "pbx-key")
	if err != nil {
		fmt.Println(err)
		return
	}
	records, err := c.History(context.Background(), gravitel.HistoryQuery{Period: gravitel.PeriodToday, Type: gravitel.CallOut, Limit: 10})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range records {
		call := r.Call()
		fmt.Println(call.ID[:8], call.Direction, call.Client, call.Ext, call.StartedAt, call.Talk, call.Disposition)
	}
	// Output:
	// a252179d out +79002445949 admin 2017-07-07 13:14:08 +0000 UTC 11s answered
	// df3a53ac out +79002445949 admin 2017-07-07 12:43:55 +0000 UTC 11s answered
}

// The recording of a call the CRM knows by id and start time: CallLink
// finds it in the history, and the link is downloaded as it is.
func ExampleClient_CallLink() {
	ctx := context.Background()
	pbx := graviteltest.NewServer("pbx-key")
	defer pbx.Close()
	c, err := gravitel.New(pbx.BaseURL(), "pbx-key")
	if err != nil {
		fmt.Println(err)
		return
	}
	// The emulator plays a call to a CRM that only acknowledges it.
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("{}"))
	}))
	defer crm.Close()
	call := graviteltest.InboundCall{CallID: "0c5b1f3e-5d1a-4e2b-9c8d-7f6e5d4c3b2a", Client: "79161234567", Ext: "702", Talk: time.Minute}
	if _, err := pbx.PlayInbound(ctx, graviteltest.Webhooks{URL: crm.URL}, call); err != nil {
		fmt.Println(err)
		return
	}

	link, err := c.CallLink(ctx, voip.Call{ID: call.CallID, StartedAt: time.Now()})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.TrimPrefix(link, pbx.URL))
	resp, err := http.Get(link)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	fmt.Println(resp.Header.Get("Content-Type"))
	// Output:
	// /records/0c5b1f3e-5d1a-4e2b-9c8d-7f6e5d4c3b2a.mp3
	// audio/mpeg
}

// The history command answers CSV; ParseHistory reads it.
func ExampleParseHistory() {
	csv := "a252179d-fa9b-4b2a-9f4a-05c61af0639f,out,+79002445949,admin@ats23.gravitel.ru,+74996861574,2017-07-07T16:14:08+03:00,0,11,\n"
	records, err := gravitel.ParseHistory(strings.NewReader(csv))
	if err != nil {
		fmt.Println(err)
		return
	}
	c := records[0].Call()
	fmt.Println(c.Direction, c.Client, c.Ext, c.StartedAt, c.Talk, c.Disposition)
	// Output:
	// out +79002445949 admin 2017-07-07 13:14:08 +0000 UTC 11s answered
}
