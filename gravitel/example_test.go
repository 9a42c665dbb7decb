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

// Members and a click-to-call, against the emulator.
func ExampleClient_MakeCall() {
	ctx := context.Background()
	pbx := graviteltest.NewServer("pbx-key")
	defer pbx.Close()
	c, err := gravitel.New(pbx.BaseURL(), "pbx-key")
	if err != nil {
		fmt.Println(err)
		return
	}
	members, err := c.Members(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range members {
		fmt.Printf("%s %s (%s)\n", m.Ext, m.ID, m.Name)
	}
	id, err := c.MakeCall(ctx, gravitel.MakeCallRequest{User: "admin", Phone: "+7 916 123-45-67"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("placed:", id == pbx.Calls()[0].UUID, pbx.Calls()[0].Phone)
	// Output:
	// 703 alexey (Alexey)
	// 701 admin (Администратор)
	// 702 ivan (Иван)
	// placed: true 79161234567
}

// Errors match the voip sentinels.
func ExampleClient_Accounts_errors() {
	pbx := graviteltest.NewServer("pbx-key")
	defer pbx.Close()
	c, _ := gravitel.New(pbx.BaseURL(), "wrong-key")
	_, err := c.Accounts(context.Background())
	var apiErr *voip.APIError
	fmt.Println(errors.Is(err, voip.ErrUnauthorized), errors.As(err, &apiErr) && apiErr.Message == "Invalid token")
	// Output:
	// true true
}

// The CRM URL: the emulated PBX plays an inbound call into the handler.
func ExampleNewWebhookHandler() {
	handler, err := gravitel.NewWebhookHandler(gravitel.WebhookConfig{
		CRMToken: "crm-key",
		Update: func(_ context.Context, u voip.Update) error {
			if u.Event != nil {
				fmt.Println("event:", u.Event.Kind, u.Event.Direction, u.Event.Client, u.Event.Ext)
			}
			if u.Call != nil {
				fmt.Println("call:", u.Call.Disposition, u.Call.Talk, u.Call.RawStatus)
			}
			return nil
		},
		Contact: func(_ context.Context, w *gravitel.Webhook) (*gravitel.Contact, error) {
			fmt.Println("who is", w.Phone)
			return &gravitel.Contact{Name: "ООО Ромашка", Responsible: "ivan"}, nil
		},
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
	if _, err := pbx.PlayInbound(context.Background(), hooks, graviteltest.InboundCall{Client: "79161234567", Ext: "ivan", Ring: 3 * time.Second, Talk: 42 * time.Second}); err != nil {
		fmt.Println(err)
	}
	// Output:
	// who is 79161234567
	// event: start in +79161234567 702
	// event: answer in +79161234567 702
	// event: end in +79161234567 702
	// call: answered 45s Success
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
