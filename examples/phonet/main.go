// Command phonet shows the Phonet package end to end: one manager's live
// socket printing call events, a click2call over that socket, and the
// missed calls of the last day, as voip values.
//
// With no environment it runs on the in-process emulator (phonettest) and
// exits at once:
//
//	go run ./examples/phonet
//
// Against a real tenant set PHONET_DOMAIN (the tenant host, such as
// mycompany.phonet.com.ua), PHONET_API_KEY and PHONET_SUBSCRIBER (an
// employee's extension or email). It then lists the users and the missed
// calls and prints that employee's live events for PHONET_WATCH (default
// 30s). It places a click2call only when PHONET_CALL_TO is set too, since
// that rings real phones.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/pbxkit/pbxkit/phonet"
	"github.com/pbxkit/pbxkit/phonet/phonettest"
)

func main() {
	log.SetFlags(0)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var err error
	if domain, key, sub := os.Getenv("PHONET_DOMAIN"), os.Getenv("PHONET_API_KEY"), os.Getenv("PHONET_SUBSCRIBER"); domain != "" && key != "" && sub != "" {
		err = runReal(ctx, domain, key, sub, os.Getenv("PHONET_CALL_TO"))
	} else {
		err = runEmulated(ctx)
	}
	if err != nil {
		log.Fatal(err)
	}
}

var out = json.NewEncoder(os.Stdout)

// runEmulated plays one incoming call and one click2call on the emulator.
func runEmulated(ctx context.Context) error {
	const apiKey = "demo-api-key"
	pbx := phonettest.NewServer(apiKey)
	defer pbx.Close()
	c, err := phonet.New(pbx.Domain, apiKey, phonet.WithBaseURL(pbx.BaseURL()))
	if err != nil {
		return err
	}
	fmt.Println("== Phonet (emulator", pbx.Domain+")")
	if err := printUsers(ctx, c); err != nil {
		return err
	}
	st, err := c.Subscribe(ctx, "001")
	if err != nil {
		return err
	}
	defer st.Close()
	if err := pbx.AwaitSockets(ctx, 1); err != nil {
		return err
	}

	fmt.Println("\n-- live events of 001")
	id := pbx.Incoming("001", "0501234567")
	pbx.Answer(id)
	pbx.Hangup(id)
	pbx.Pause("001", true)
	if err := printEvents(ctx, st, 4); err != nil {
		return err
	}

	fmt.Println("\n-- click2call from 001 to 380991234567")
	if err := st.Call(ctx, "380991234567"); err != nil {
		return err
	}
	if err := printEvents(ctx, st, 1); err != nil {
		return err
	}
	return printMissed(ctx, c)
}

// runReal watches one employee of a real tenant for a while.
func runReal(ctx context.Context, domain, apiKey, subscriber, callTo string) error {
	c, err := phonet.New(domain, apiKey)
	if err != nil {
		return err
	}
	if err := printUsers(ctx, c); err != nil {
		return err
	}
	if err := printMissed(ctx, c); err != nil {
		return err
	}
	watch := 30 * time.Second
	if d, err := time.ParseDuration(os.Getenv("PHONET_WATCH")); err == nil {
		watch = d
	}
	wctx, cancel := context.WithTimeout(ctx, watch)
	defer cancel()
	st, err := c.Subscribe(wctx, subscriber)
	if err != nil {
		return err
	}
	defer st.Close()
	if callTo != "" {
		if err := st.Call(wctx, callTo); err != nil {
			return err
		}
	}
	fmt.Printf("\n-- live events of %s for %v\n", subscriber, watch)
	err = printEvents(wctx, st, -1)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

func printUsers(ctx context.Context, c *phonet.Client) error {
	members, err := c.Members(ctx)
	if err != nil {
		return err
	}
	fmt.Println("-- users")
	for _, m := range members {
		fmt.Printf("%-4s %-20s %s\n", m.Ext, m.Name, m.Email)
	}
	return nil
}

// printEvents prints n events (n < 0: until ctx ends), with the gap
// notices that call for a reconciliation.
func printEvents(ctx context.Context, st *phonet.Stream, n int) error {
	for i := 0; n < 0 || i < n; {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case note := <-st.Notices():
			if note.Gap {
				fmt.Println("gap:", note, "— reconcile with ActiveCalls")
			}
		case ev, ok := <-st.Events():
			if !ok {
				return st.Err()
			}
			i++
			if v, ok := ev.Voip(); ok {
				v.Raw = nil
				if err := out.Encode(v); err != nil {
					return err
				}
				continue
			}
			if p, ok := ev.Presence(); ok {
				fmt.Printf("presence: %s away=%v\n", p.Ext, p.Away)
				continue
			}
			fmt.Printf("other event %q: %s\n", ev.Type, ev.Raw)
		}
	}
	return nil
}

func printMissed(ctx context.Context, c *phonet.Client) error {
	fmt.Println("\n-- missed calls of the last day")
	for rec, err := range c.MissedCalls(ctx, phonet.HistoryQuery{From: time.Now().Add(-24 * time.Hour)}) {
		if err != nil {
			return err
		}
		call := rec.Call()
		call.Raw = nil
		if err := out.Encode(call); err != nil {
			return err
		}
	}
	return nil
}
