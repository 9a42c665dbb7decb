package phonet_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/phonet"
	"github.com/pbxkit/pbxkit/phonet/phonettest"
	"github.com/pbxkit/pbxkit/voip"
)

// The client as a voip.Provider, on an emulated tenant: the same CRM code
// drives every vendor.
func Example() {
	ctx := context.Background()
	const apiKey = "demo-api-key"
	pbx := phonettest.NewServer(apiKey)
	defer pbx.Close()
	// On a real tenant: phonet.New("mycompany.phonet.com.ua", apiKey).
	client, err := phonet.New(pbx.Domain, apiKey, phonet.WithBaseURL(pbx.BaseURL()))
	if err != nil {
		log.Fatal(err)
	}
	var p voip.Provider = client
	if err := p.TestConnection(ctx); err != nil {
		log.Fatal(err)
	}
	members, err := p.Members(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("first member:", members[0].Ext, members[0].Name)

	// Phonet rings the manager's extension first, then the client.
	id, err := p.GenerateCall(ctx, "001", "093 123 45 67")
	if err != nil {
		log.Fatal(err)
	}
	placed := pbx.Calls()[0]
	fmt.Println("placed:", placed.UUID == id, placed.Ext, placed.To)

	// A number that is not one is refused before anything is sent.
	_, err = p.GenerateCall(ctx, "001", "not a number")
	var argErr *voip.ArgError
	if errors.As(err, &argErr) {
		fmt.Println("refused:", argErr.Func, argErr.Arg, errors.Is(err, voip.ErrInvalidPhone), len(pbx.Calls()))
	}
	// Output:
	// first member: 001 Иван Иванов
	// placed: true 001 +380931234567
	// refused: GenerateCall phone true 1
}

// The CRM side: Phonet asks who is calling, then posts the call's events.
// The emulator plays a whole answered call to the handler.
func ExampleNewWebhookHandler() {
	ctx := context.Background()
	h, err := phonet.NewWebhookHandler(phonet.WebhookConfig{
		Lookup: func(_ context.Context, r phonet.LookupRequest) (*phonet.Card, error) {
			fmt.Println("lookup:", r.OtherLegNum)
			return &phonet.Card{Name: "Анастасия", URL: "https://crm.example.com/c/1", ResponsibleEmployeeExt: "001"}, nil
		},
		Update: func(_ context.Context, u voip.Update) error {
			fmt.Println("event:", u.Event.Kind, u.Event.Direction, u.Event.Client, u.Event.Ext, u.Event.Disposition)
			return nil
		},
		// Handlers behind one load balancer share a distributed Memory;
		// this one is the default, the handler's own.
		Memory: voip.NewLocalMemory(0),
	})
	if err != nil {
		log.Fatal(err)
	}
	crm := httptest.NewServer(h)
	defer crm.Close()

	pbx := phonettest.NewServer("demo-api-key")
	defer pbx.Close()
	hooks := phonettest.Webhooks{URL: crm.URL, Client: crm.Client()}
	_, err = pbx.PlayInbound(ctx, hooks, phonettest.InboundCall{
		Client: "+380501234567", Ext: "001", Ring: 8 * time.Second, Talk: 95 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// lookup: +380501234567
	// event: start in +380501234567 001 unknown
	// event: answer in +380501234567 001 unknown
	// event: end in +380501234567 001 answered
}

// Paging the history: the iterator asks for one page of 50 at a time, and
// stops asking when the loop stops.
func ExampleClient_CompanyCalls() {
	ctx := context.Background()
	pbx := phonettest.NewServer("demo-api-key")
	defer pbx.Close()
	pbx.AddHistory(120, "002", time.Now().Add(-time.Minute))
	client, err := phonet.New(pbx.Domain, "demo-api-key", phonet.WithBaseURL(pbx.BaseURL()))
	if err != nil {
		log.Fatal(err)
	}
	n, talk := 0, time.Duration(0)
	for rec, err := range client.CompanyCalls(ctx, phonet.HistoryQuery{From: time.Now().Add(-24 * time.Hour)}) {
		if err != nil {
			log.Fatal(err)
		}
		n++
		talk += rec.Call().Talk
	}
	pages := 0
	for _, r := range pbx.Requests() {
		if strings.HasSuffix(r.Path, "/company.api") {
			pages++
		}
	}
	fmt.Println(n, "calls,", talk, "of talk, in", pages, "pages")

	_, err = func() (phonet.Record, error) {
		for rec, err := range client.CompanyCalls(ctx, phonet.HistoryQuery{}) {
			return rec, err
		}
		return phonet.Record{}, nil
	}()
	fmt.Println(err)
	// Output:
	// 123 calls, 1h0m7s of talk, in 3 pages
	// phonet: CompanyCalls: HistoryQuery.From: required
}

// Downloading a recording: the history record's call id (the plain form
// of events) finds the audio the record links to.
func ExampleClient_DownloadRecording() {
	ctx := context.Background()
	pbx := phonettest.NewServer("demo-api-key")
	defer pbx.Close()
	client, err := phonet.New(pbx.Domain, "demo-api-key", phonet.WithBaseURL(pbx.BaseURL()))
	if err != nil {
		log.Fatal(err)
	}
	for rec, err := range client.CompanyCalls(ctx, phonet.HistoryQuery{From: time.Now().Add(-24 * time.Hour)}) {
		if err != nil {
			log.Fatal(err)
		}
		call := rec.Call()
		if call.RecordingURL == "" {
			continue
		}
		var audio bytes.Buffer
		if _, err := client.DownloadRecording(ctx, call.ID, phonet.ChannelMixed, &audio); err != nil {
			log.Fatal(err)
		}
		fmt.Println(call.ID, bytes.Equal(audio.Bytes(), phonettest.Recording(rec.UUID)))
	}
	// Output:
	// d38f07d93b5947aac71194c6bebe1621 true
	// f457486fa53945ddc5f5e735a5870b92 true
}
