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
