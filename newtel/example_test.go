package newtel_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/pbxkit/pbxkit/newtel"
	"github.com/pbxkit/pbxkit/newtel/newteltest"
	"github.com/pbxkit/pbxkit/voip"
)

// The token of the WebPhone article's click-to-call, with its example keys.
func ExampleSign() {
	body := []byte(`{"callerId":"74951112233","dstNumber":"79041112233","srcNumber":"79991112233","timeout":30}`)
	token := newtel.Sign(newtel.MethodStartSimpleCall, body, time.Unix(1700000000, 0),
		"616a2cbbc392c798c06161dae2bd0c2093af4f399e95f48d", "84c29e3807ccb092f50ea7e66537ba9b519628efdd741046")
	fmt.Println(len(token))
	fmt.Println(token[:48])
	fmt.Println(token[48:58])
	fmt.Println(token[58:])
	// Output:
	// 122
	// 616a2cbbc392c798c06161dae2bd0c2093af4f399e95f48d
	// 1700000000
	// 4f837e21de211b9cadb2a8d54c6dd7edef8588faac3e41364685b969c160b5d2
}

// A client for a real account, with the keys of the cabinet's API section.
func ExampleNew() {
	c, err := newtel.New("ACCESS-KEY", "SIGN-KEY", newtel.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}))
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = c // c.CompanyState(ctx), c.StartPasswordCall(ctx, …), …
}

// The balance and a flash call, against the emulator.
func ExampleClient_StartPasswordCall() {
	ctx := context.Background()
	api := newteltest.NewServer(accessKey, signKey)
	defer api.Close()
	c, err := newtel.New(accessKey, signKey, newtel.WithBaseURL(api.BaseURL()))
	if err != nil {
		fmt.Println(err)
		return
	}
	state, err := c.CompanyState(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("balance:", state.Balance, state.Currency)
	d, err := c.StartPasswordCall(ctx, newtel.PasswordCallRequest{DstNumber: "+7 908 123-45-67", Pin: "4821", Timeout: 30})
	switch {
	case errors.Is(err, voip.ErrAmbiguous):
		fmt.Println("the call may have been placed; do not retry")
		return
	case err != nil:
		fmt.Println(err)
		return
	}
	fmt.Println("called", api.Calls()[0].DstNumber, "with pin", d.Pin, "-", d.Disposition())
	// Output:
	// balance: 1523.40 RUB
	// called 79081234567 with pin 4821 - answered
}

// The WebPhone widget's HTML for extension 100, against the emulator.
func ExampleWidgetSnippet() {
	api := newteltest.NewServer(accessKey, signKey)
	defer api.Close()
	c, err := newtel.New(accessKey, signKey, newtel.WithBaseURL(api.BaseURL()))
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg, err := c.WidgetConfig(context.Background(), "100")
	if err != nil {
		fmt.Println(err)
		return
	}
	html, err := newtel.WidgetSnippet(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(html) > 0)
	// Output:
	// true
}

// The client as a voip.Provider, the interface a CRM codes against, on the
// emulator: GenerateCall rings the extension, then dials the client.
func Example_provider() {
	ctx := context.Background()
	api := newteltest.NewServer(accessKey, signKey)
	defer api.Close()
	client, err := newtel.New(accessKey, signKey, newtel.WithBaseURL(api.BaseURL()))
	if err != nil {
		fmt.Println(err)
		return
	}
	var p voip.Provider = client
	if err := p.TestConnection(ctx); err != nil {
		fmt.Println(err)
		return
	}
	_, err = p.Members(ctx)
	fmt.Println("members not supported:", errors.Is(err, voip.ErrNotSupported))

	_, err = p.GenerateCall(ctx, "101", "not a phone")
	var argErr *voip.ArgError
	fmt.Println("refused before sending:", errors.As(err, &argErr), argErr.Arg, len(api.Calls()))

	id, err := p.GenerateCall(ctx, "101", "+7 916 123-45-67")
	if err != nil {
		fmt.Println(err) // errors.Is(err, voip.ErrAmbiguous): the call may be ringing; do not retry
		return
	}
	placed := api.Calls()[0]
	fmt.Println("placed:", placed.CallID == id, placed.SrcNumber, "then", placed.DstNumber)
	// Output:
	// members not supported: true
	// refused before sending: true phone 0
	// placed: true 101 then 79161234567
}

// The PBX's webhooks of an inbound call, played by the emulator, through
// the handler: live events and, at the end, the call's record.
func ExampleNewWebhookHandler() {
	ctx := context.Background()
	api := newteltest.NewServer(accessKey, signKey)
	defer api.Close()
	api.SetClock(func() time.Time { return time.Date(2025, 9, 18, 10, 0, 0, 0, time.UTC) })

	const webhookKey = "webhook-key" // the cabinet's «Ключ для подписи данных»
	hooks, err := newtel.NewWebhookHandler(newtel.WebhookConfig{
		Key: webhookKey,
		Update: func(_ context.Context, u voip.Update) error {
			ev, who := u.Event, u.Event.Client
			if ev.Ext != "" {
				who += " → " + ev.Ext
			}
			fmt.Println(ev.At.Format(time.TimeOnly), ev.Kind, ev.Direction, who)
			if c := u.Call; c != nil {
				fmt.Println("record:", c.Disposition, "talk", c.Talk, "recording", c.RecordingURL != "")
			}
			return nil
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	crm := httptest.NewServer(hooks) // in a CRM: mux.Handle("/newtel/webhook", hooks)
	defer crm.Close()

	_, err = api.PlayInbound(ctx, newteltest.Webhooks{URL: crm.URL, Key: webhookKey, Client: crm.Client()},
		newteltest.InboundCall{CallID: "vpbx-1", Client: "79161234567", Ext: "102", Ring: 8 * time.Second, Talk: 87 * time.Second})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// 09:58:25 start in +79161234567
	// 09:58:33 answer in +79161234567 → 102
	// 10:00:00 end in +79161234567 → 102
	// record: answered talk 1m27s recording true
}

// A flash call whose callbackLink carries a token, and New-Tel's callback
// to it, played by the emulator.
func ExampleNewCallbackHandler() {
	ctx := context.Background()
	api := newteltest.NewServer(accessKey, signKey)
	defer api.Close()
	client, err := newtel.New(accessKey, signKey, newtel.WithBaseURL(api.BaseURL()))
	if err != nil {
		fmt.Println(err)
		return
	}

	const token = "an-unguessable-random-token" // e.g. 32 bytes from crypto/rand, hex
	done := make(chan string, 1)
	callbacks, err := newtel.NewCallbackHandler(newtel.CallbackConfig{
		Token: token,
		Callback: func(_ context.Context, cb *newtel.Callback) error {
			done <- cb.CallID
			return nil
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	crm := httptest.NewServer(callbacks)
	defer crm.Close()

	call, err := client.StartPasswordCall(ctx, newtel.PasswordCallRequest{
		DstNumber: "+7 908 123-45-67", Pin: "4821", CallbackLink: crm.URL + "/newtel/callback?token=" + token,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := api.Callback(ctx, crm.Client(), call.CallID); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("callback for the flash call:", <-done == call.CallID)
	// Output:
	// callback for the flash call: true
}
