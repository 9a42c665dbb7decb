package phonet_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"

	"github.com/pbxkit/pbxkit/phonet"
	"github.com/pbxkit/pbxkit/phonet/phonettest"
	"github.com/pbxkit/pbxkit/voip"
)

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
		log.Fatal(err) // a refused apiKey or subscriber: voip.ErrForbidden
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
	if err := st.Call(ctx, "+380 99 123 45 67"); err != nil {
		log.Fatal(err) // voip.ErrAmbiguous: the phone may be ringing; never retry blindly
	}
	ev := <-st.Events() // the operator's phone rings first
	fmt.Println(ev.Type, ev.Direction, ev.Client())
	// Output:
	// call.dial start in +380501234567
	// call.bridge answer in +380501234567
	// call.dial out 380991234567
}

// A CRM that follows every manager: one Hub of sockets, read as a
// voip.Source, so the pop-up code is the same for every vendor. A manager
// whose first connection fails is retried, not lost; managers join and
// leave while it runs.
func ExampleClient_Watch() {
	ctx := context.Background()
	pbx := phonettest.NewServer("demo-api-key")
	defer pbx.Close()
	c, err := phonet.New(pbx.Domain, "demo-api-key", phonet.WithBaseURL(pbx.BaseURL()))
	if err != nil {
		log.Fatal(err)
	}
	pbx.FailSocket("002", http.StatusServiceUnavailable) // a hiccup at start-up

	hub, err := c.Watch(ctx, []string{"001", "002"})
	if err != nil {
		log.Fatal(err) // every manager was refused: a wrong apiKey
	}
	defer hub.Close()
	src := hub.Source()
	for n := range src.Notices() {
		if n.Subscriber == "002" && n.Kind == voip.NoticeConnected {
			fmt.Println("002 connected; gap:", n.Gap) // reconcile 002's calls from ActiveCalls
			break
		}
	}
	if err := hub.Add(ctx, "003"); err != nil {
		log.Fatal(err)
	}
	_ = pbx.AwaitSockets(ctx, 3)
	pbx.Incoming("003", "+380501234567")
	ev := <-src.Events()
	fmt.Println(ev.Kind, ev.Direction, ev.Ext, ev.Client)
	hub.Remove("003")
	fmt.Println("watching:", hub.Subscribers())
	// Output:
	// 002 connected; gap: true
	// start in 003 +380501234567
	// watching: [001 002]
}

// A manager's click2call from the CRM: the Hub places it on that
// manager's socket. An ambiguous failure may have rung the phone: it is
// never repeated by itself.
func ExampleHub_Call() {
	ctx := context.Background()
	pbx := phonettest.NewServer("demo-api-key")
	defer pbx.Close()
	c, err := phonet.New(pbx.Domain, "demo-api-key", phonet.WithBaseURL(pbx.BaseURL()))
	if err != nil {
		log.Fatal(err)
	}
	hub, err := c.Watch(ctx, []string{"001"})
	if err != nil {
		log.Fatal(err)
	}
	defer hub.Close()
	_ = pbx.AwaitSockets(ctx, 1)

	err = hub.Call(ctx, "001", "+38 (099) 123-45-67")
	fmt.Println("placed:", err == nil, pbx.Calls()[0].To)
	err = hub.Call(ctx, "001", "call me maybe")
	fmt.Println("refused before sending:", errors.Is(err, voip.ErrInvalidPhone))
	// Output:
	// placed: true 380991234567
	// refused before sending: true
}
