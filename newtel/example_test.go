package newtel_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
