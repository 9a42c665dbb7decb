package natsjs_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/pbxkit/pbxkit/gravitel"
	"github.com/pbxkit/pbxkit/gravitel/graviteltest"
	"github.com/pbxkit/pbxkit/natsjs"
	"github.com/pbxkit/pbxkit/voip"

	"github.com/pbxkit/pbxkit/internal/natstest"
)

// exampleNATS runs an embedded server for an example; a program connects
// to its cluster instead.
func exampleNATS() (url string, stop func()) {
	dir, err := os.MkdirTemp("", "natsjs-example")
	if err != nil {
		panic(err)
	}
	srv, err := natstest.Start(dir)
	if err != nil {
		panic(err)
	}
	return srv.URL(), func() { srv.Stop(); _ = os.RemoveAll(dir) }
}

// Every replica gives its webhook handlers a Memory on the same bucket: a
// delivery is handled once, wherever it lands. Here two replicas receive
// the PBX's duplicate.
func ExampleNewMemory() {
	url, stop := exampleNATS()
	defer stop()
	ctx := context.Background()
	var updates atomic.Int32
	var replicas []string
	for range 2 {
		nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond))
		if err != nil {
			fmt.Println(err)
			return
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			fmt.Println(err)
			return
		}
		mem, err := natsjs.NewMemory(ctx, js, natsjs.MemoryConfig{})
		if err != nil {
			fmt.Println(err)
			return
		}
		h, err := gravitel.NewWebhookHandler(gravitel.WebhookConfig{
			CRMToken: "crm-key",
			Memory:   mem,
			Update:   func(context.Context, voip.Update) error { updates.Add(1); return nil },
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		srv := httptest.NewServer(h)
		defer srv.Close()
		replicas = append(replicas, srv.URL)
	}
	ev := graviteltest.Event{Type: graviteltest.EventIncoming, CallID: "8d2c6d0e-1111-4c3b-9a51-0d7f3c6b2a01",
		Phone: "79161234567", User: "ivan@test.gravitel.ru", Ext: "702"}
	for _, u := range replicas {
		err := graviteltest.Webhooks{URL: u, CRMToken: "crm-key"}.SendEvent(ctx, ev)
		fmt.Println(err)
	}
	fmt.Println(updates.Load(), "update")
	// Output:
	// <nil>
	// <nil>
	// 1 update
}

// A webhook handler publishes its updates into the stream, and a CRM
// worker consumes them, on any replica.
func ExampleConsume() {
	url, stop := exampleNATS()
	defer stop()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pub, err := natsjs.NewPublisher(ctx, js, natsjs.PublisherConfig{Tenant: "acme"})
	if err != nil {
		fmt.Println(err)
		return
	}
	// pub.Update() goes into gravitel.WebhookConfig.Update; here the
	// update is published by hand, twice, as two replicas would.
	ev := &voip.Event{Kind: voip.EventStart, Vendor: "phonet", CallID: "0c5e7f2a", Direction: voip.DirectionIn,
		Client: "+380501234567", Ext: "001"}
	for range 2 {
		if err := pub.Publish(ctx, voip.Update{Event: ev}); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Printf("%+v\n", pub.Stats())

	err = natsjs.Consume(ctx, js, natsjs.ConsumerConfig{Durable: "crm", FilterSubject: "pbxkit.acme.>"},
		func(_ context.Context, u voip.Update) error {
			fmt.Println(u.Event.Vendor, u.Event.Kind, u.Event.CallID, u.Event.Ext)
			cancel() // one is enough for the example
			return nil
		})
	fmt.Println(err)
	// Output:
	// {Stored:1 Duplicates:1}
	// phonet start 0c5e7f2a 001
	// <nil>
}
