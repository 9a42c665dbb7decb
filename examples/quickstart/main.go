// Command quickstart shows pbxkit end to end. With no credentials in the
// environment it runs on the in-process vendor emulators, so it needs no
// network and no account.
//
//	go run ./examples/quickstart
//
// Every vendor client is a voip.Provider, so the CRM side of this program is
// the same for each of them; only the set-up differs.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"sync"
	"time"

	"github.com/pbxkit/pbxkit/gravitel"
	"github.com/pbxkit/pbxkit/gravitel/graviteltest"
	"github.com/pbxkit/pbxkit/newtel"
	"github.com/pbxkit/pbxkit/newtel/newteltest"
	"github.com/pbxkit/pbxkit/phonet"
	"github.com/pbxkit/pbxkit/phonet/phonettest"
	"github.com/pbxkit/pbxkit/voip"
	"github.com/pbxkit/pbxkit/webitel"
	"github.com/pbxkit/pbxkit/webitel/webiteltest"
)

var out = json.NewEncoder(os.Stdout)

func main() {
	log.SetFlags(0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	phones()
	if err := gravitelOnEmulator(ctx); err != nil {
		return fmt.Errorf("gravitel: %w", err)
	}
	if err := phonetOnEmulator(ctx); err != nil {
		return fmt.Errorf("phonet: %w", err)
	}
	if err := newtelOnEmulator(ctx); err != nil {
		return fmt.Errorf("newtel: %w", err)
	}
	if err := webitelOnEmulator(ctx); err != nil {
		return fmt.Errorf("webitel: %w", err)
	}
	return nil
}

// phones shows the one normaliser every vendor package applies to parties.
func phones() {
	fmt.Println("== phone numbers, as every vendor writes them, in E.164")
	for _, in := range []struct{ raw, region string }{
		{"8 (912) 123-45-67", "RU"},
		{"0501234567", "UA"},
		{"380501234567", ""},
		{"+7 701 123 45 67", ""},
		{"101", "RU"},
		{"anonymous", "RU"},
	} {
		e164, err := voip.NormalizePhone(in.raw, in.region)
		if err != nil {
			fmt.Printf("  %-20q %-3s -> error: %v\n", in.raw, in.region, err)
			continue
		}
		fmt.Printf("  %-20q %-3s -> %s\n", in.raw, in.region, e164)
	}
}

// gravitelOnEmulator runs a whole call on the Gravitel emulator: members,
// click-to-call, the live events the PBX posts to the CRM, and the record.
func gravitelOnEmulator(ctx context.Context) error {
	fmt.Println("\n== Gravitel (emulator)")
	const pbxKey, crmKey = "pbx-key-demo", "crm-key-demo"
	pbx := graviteltest.NewServer(pbxKey)
	defer pbx.Close()
	client, err := gravitel.New(pbx.BaseURL(), pbxKey)
	if err != nil {
		return err
	}

	// The CRM's webhook URL: events and records arrive as voip values.
	var mu sync.Mutex
	handler, err := gravitel.NewWebhookHandler(gravitel.WebhookConfig{
		CRMToken: crmKey,
		Update: func(_ context.Context, u voip.Update) error {
			mu.Lock()
			defer mu.Unlock()
			return printUpdate("webhook", u)
		},
	})
	if err != nil {
		return err
	}
	crm := httptest.NewServer(handler)
	defer crm.Close()

	id, err := crmSide(ctx, client, "701", "+7 916 123-45-67")
	if err != nil {
		return err
	}
	// The emulator plays the PBX's part of the call it was asked to place.
	hooks := graviteltest.Webhooks{URL: crm.URL, CRMToken: crmKey, Client: crm.Client()}
	for _, placed := range pbx.Calls() {
		if err := pbx.PlayOutbound(ctx, hooks, placed, 5*time.Second, 95*time.Second); err != nil {
			return err
		}
	}
	fmt.Println("call", id, "done")
	return nil
}

// phonetOnEmulator watches one manager's live socket on the Phonet
// emulator while the CRM places a call through the same voip.Provider code.
func phonetOnEmulator(ctx context.Context) error {
	fmt.Println("\n== Phonet (emulator)")
	const apiKey = "demo-api-key"
	pbx := phonettest.NewServer(apiKey)
	defer pbx.Close()
	client, err := phonet.New(pbx.Domain, apiKey, phonet.WithBaseURL(pbx.BaseURL()))
	if err != nil {
		return err
	}
	// Live events of manager 001 arrive over a reconnecting socket.
	stream, err := client.Subscribe(ctx, "001")
	if err != nil {
		return err
	}
	defer stream.Close()
	events := stream.Source().Events()
	if err := pbx.AwaitSockets(ctx, 1); err != nil {
		return err
	}

	id, err := crmSide(ctx, client, "001", "+380 93 123 45 67")
	if err != nil {
		return err
	}
	pbx.Answer(id)
	pbx.Hangup(id)
	var last voip.Event
	for range 3 { // start, answer, end
		select {
		case last = <-events:
			if err := printUpdate("socket", voip.Update{Event: &last}); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}

	// The hangup carries no outcome: the finished call, with its
	// recording, is in the history.
	for rec, err := range client.CompanyCalls(ctx, phonet.HistoryQuery{From: last.At.Add(-time.Hour)}) {
		if err != nil {
			return err
		}
		call := rec.Call()
		if call.ID != last.CallID {
			continue
		}
		if err := printUpdate("history", voip.Update{Call: &call}); err != nil {
			return err
		}
		var audio bytes.Buffer
		n, err := client.DownloadRecording(ctx, call.ID, phonet.ChannelMixed, &audio)
		if err != nil {
			return err
		}
		fmt.Printf("  recording of %s: %d bytes\n", call.ID, n)
	}
	fmt.Println("call", id, "done")
	return nil
}

// newtelOnEmulator places a signed click-to-call on the New-Tel emulator
// and receives the PBX's signed webhooks.
func newtelOnEmulator(ctx context.Context) error {
	fmt.Println("\n== New-Tel (emulator)")
	const accessKey, signKey = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071", "f9e8d7c6b5a4938271605f4e3d2c1b0af9e8d7c6b5a49382"
	const hookKey = "webhook-key-demo" // the cabinet's «Ключ для подписи данных»
	api := newteltest.NewServer(accessKey, signKey)
	defer api.Close()
	client, err := newtel.New(accessKey, signKey, newtel.WithBaseURL(api.BaseURL()))
	if err != nil {
		return err
	}
	var mu sync.Mutex
	handler, err := newtel.NewWebhookHandler(newtel.WebhookConfig{
		Key: hookKey,
		Update: func(_ context.Context, u voip.Update) error {
			mu.Lock()
			defer mu.Unlock()
			return printUpdate("webhook", u)
		},
	})
	if err != nil {
		return err
	}
	crm := httptest.NewServer(handler)
	defer crm.Close()

	id, err := crmSide(ctx, client, "101", "+7 916 123-45-67")
	if err != nil {
		return err
	}
	hooks := newteltest.Webhooks{URL: crm.URL, Key: hookKey, Client: crm.Client()}
	for _, placed := range api.Calls() {
		if err := api.PlayOutbound(ctx, hooks, placed, 5*time.Second, 95*time.Second); err != nil {
			return err
		}
	}
	fmt.Println("call", id, "done")
	return nil
}

// webitelOnEmulator watches an operator's engine socket on the Webitel
// emulator while the CRM places a call through the same voip.Provider
// code, then reads the call back from the history with its recording.
func webitelOnEmulator(ctx context.Context) error {
	fmt.Println("\n== Webitel (emulator)")
	const token = "integration-token-demo" // the token of user 101
	pbx := webiteltest.NewServer(token)
	defer pbx.Close()
	client, err := webitel.New(pbx.BaseURL(), token)
	if err != nil {
		return err
	}
	// The socket carries the live events of the token's own user.
	stream, err := client.Subscribe(ctx)
	if err != nil {
		return err
	}
	defer stream.Close()
	events := stream.Source().Events()
	if err := pbx.AwaitSockets(ctx, 1); err != nil {
		return err
	}

	id, err := crmSide(ctx, client, "101", "+380 50 123 45 67")
	if err != nil {
		return err
	}
	pbx.Answer(id)
	pbx.Hangup(id, "")
	for range 3 { // start, answer, end
		select {
		case ev, ok := <-events:
			if !ok {
				if err := stream.Err(); err != nil {
					return err
				}
				return errors.New("the socket closed before the call ended")
			}
			if err := printUpdate("socket", voip.Update{Event: &ev}); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}

	// The finished call, with its recording, is in the history.
	for rec, err := range client.History(ctx, webitel.HistoryQuery{IDs: []string{id}}) {
		if err != nil {
			return err
		}
		call := rec.Call()
		if err := printUpdate("history", voip.Update{Call: &call}); err != nil {
			return err
		}
		for _, f := range rec.Files {
			var audio bytes.Buffer
			n, err := client.DownloadRecording(ctx, f.ID, &audio)
			if err != nil {
				return err
			}
			fmt.Printf("  recording %s of %s: %d bytes\n", f.ID, call.ID, n)
		}
	}
	fmt.Println("call", id, "done")
	return nil
}

// crmSide is what a CRM does with any voip.Provider.
func crmSide(ctx context.Context, p voip.Provider, ext, phone string) (string, error) {
	if err := p.TestConnection(ctx); err != nil {
		return "", err
	}
	members, err := p.Members(ctx)
	switch {
	case errors.Is(err, voip.ErrNotSupported):
		fmt.Println("members: not supported by this vendor")
	case err != nil:
		return "", err
	default:
		fmt.Println("members:")
		for _, m := range members {
			fmt.Printf("  %-6s %-4s %s\n", m.ID, m.Ext, m.Name)
		}
	}
	fmt.Printf("click-to-call: ring %s, then dial %s\n", ext, phone)
	id, err := p.GenerateCall(ctx, ext, phone)
	if errors.Is(err, voip.ErrAmbiguous) {
		// Never retried: the call may be ringing already.
		return "", fmt.Errorf("the call may or may not have started: %w", err)
	}
	return id, err
}

// printUpdate prints what one delivery carries, and where it came from (a
// webhook, a socket, the history): an event, a record, or both (New-Tel's
// *CallEnd webhooks).
func printUpdate(from string, u voip.Update) error {
	if u.Event != nil {
		ev := *u.Event
		ev.Raw = nil // the vendor's own fields, left out for brevity
		fmt.Printf("  %-7s event  ", from)
		if err := out.Encode(ev); err != nil {
			return err
		}
	}
	if u.Call != nil {
		c := *u.Call
		c.Raw = nil
		fmt.Printf("  %-7s record ", from)
		return out.Encode(c)
	}
	return nil
}
