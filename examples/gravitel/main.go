// Command gravitel shows the Gravitel package end to end: the PBX's members,
// a click-to-call, the live events of that call and its final record, all
// as voip values.
//
// With no environment it runs on the in-process emulator (graviteltest) and
// exits at once:
//
//	go run ./examples/gravitel
//
// Against a real PBX set GRAVITEL_ENDPOINT (the "Адрес облачной АТС",
// https://<tenant>.gravitel.ru/sys/crm_api.wcgp) and GRAVITEL_TOKEN (the PBX
// key). It then lists the members and today's calls; it places a call only
// when GRAVITEL_USER (the employee who rings first) and GRAVITEL_PHONE (the
// client) are set too, since that rings real phones. Live events need the
// PBX to reach your CRM URL, so they are shown on the emulator only.
package main

import (
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
	"github.com/pbxkit/pbxkit/voip"
)

func main() {
	log.SetFlags(0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	if endpoint, token := os.Getenv("GRAVITEL_ENDPOINT"), os.Getenv("GRAVITEL_TOKEN"); endpoint != "" && token != "" {
		err = runReal(ctx, endpoint, token, os.Getenv("GRAVITEL_USER"), os.Getenv("GRAVITEL_PHONE"))
	} else {
		err = runEmulated(ctx)
	}
	if err != nil {
		log.Fatal(err)
	}
}

var out = json.NewEncoder(os.Stdout)

func runReal(ctx context.Context, endpoint, token, user, phone string) error {
	c, err := gravitel.New(endpoint, token)
	if err != nil {
		return err
	}
	if err := printMembers(ctx, c); err != nil {
		return err
	}
	if user != "" && phone != "" {
		id, err := c.GenerateCall(ctx, user, phone)
		if errors.Is(err, voip.ErrAmbiguous) {
			// Never retry: the PBX may have placed the call already.
			return fmt.Errorf("call: the phones may be ringing, do not place it again: %w", err)
		}
		if err != nil {
			return fmt.Errorf("call: %w", err)
		}
		fmt.Println("\ncall placed, id", id)
	}
	records, err := c.History(ctx, gravitel.HistoryQuery{Period: gravitel.PeriodToday, Limit: 10})
	if err != nil {
		return err
	}
	fmt.Println("\ntoday's calls:")
	for _, r := range records {
		if err := out.Encode(r.Call()); err != nil {
			return err
		}
	}
	return nil
}

func runEmulated(ctx context.Context) error {
	fmt.Println("Gravitel on the emulator (set GRAVITEL_ENDPOINT and GRAVITEL_TOKEN for a real PBX)")
	const pbxKey, crmKey = "pbx-key-demo", "crm-key-demo"
	pbx := graviteltest.NewServer(pbxKey)
	defer pbx.Close()
	c, err := gravitel.New(pbx.BaseURL(), pbxKey)
	if err != nil {
		return err
	}
	if err := printMembers(ctx, c); err != nil {
		return err
	}

	// The CRM URL: live events and the record arrive here as voip values.
	// Replicas of a CRM behind a load balancer would give every handler one
	// shared, distributed voip.Memory; this one keeps its own.
	var mu sync.Mutex
	handler, err := gravitel.NewWebhookHandler(gravitel.WebhookConfig{
		CRMToken: crmKey,
		Contact: func(_ context.Context, w *gravitel.Webhook) (*gravitel.Contact, error) {
			fmt.Println("contact: who is", w.Phone, "- an unknown caller")
			return nil, nil
		},
		Update: func(_ context.Context, u voip.Update) error {
			mu.Lock()
			defer mu.Unlock()
			if u.Event != nil {
				u.Event.Raw = nil // printed without the PBX's fields, for brevity
				fmt.Print("event: ")
				return out.Encode(u.Event)
			}
			u.Call.Raw = nil
			fmt.Print("record: ")
			return out.Encode(u.Call)
		},
	})
	if err != nil {
		return err
	}
	crm := httptest.NewServer(handler)
	defer crm.Close()

	fmt.Println("\nadmin calls +7 916 123-45-67:")
	id, err := c.GenerateCall(ctx, "admin", "+7 916 123-45-67")
	if err != nil {
		return err
	}
	placed := pbx.Calls()[0]
	fmt.Println("call id", id)
	hooks := graviteltest.Webhooks{URL: crm.URL, CRMToken: crmKey, Client: crm.Client()}
	if err := pbx.PlayOutbound(ctx, hooks, placed, 5*time.Second, 95*time.Second); err != nil {
		return err
	}

	fmt.Println("\n+7 916 765-43-21 calls ivan, who does not answer:")
	missed := graviteltest.InboundCall{Client: "79167654321", Ext: "ivan", Ring: 25 * time.Second}
	if _, err := pbx.PlayInbound(ctx, hooks, missed); err != nil {
		return err
	}

	records, err := c.History(ctx, gravitel.HistoryQuery{Period: gravitel.PeriodToday, Type: gravitel.CallOut, Limit: 1})
	if err != nil {
		return err
	}
	link, err := c.CallLink(ctx, records[0].Call())
	if err != nil {
		return err
	}
	fmt.Println("\nfrom the history command: recording", link)
	return nil
}

func printMembers(ctx context.Context, c *gravitel.Client) error {
	members, err := c.Members(ctx)
	if err != nil {
		return err
	}
	fmt.Println("\nmembers:")
	for _, m := range members {
		if err := out.Encode(m); err != nil {
			return err
		}
	}
	return nil
}
