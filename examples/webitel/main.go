// Command webitel shows the Webitel package end to end: a user provisioned
// as the Webitel integration article does it, a click-to-call over REST,
// the live events of that call on the engine socket, the call history page
// by page, and a call recording, as voip values.
//
// With no environment it runs on the in-process emulator (webiteltest) and
// exits at once:
//
//	go run ./examples/webitel
//
// Against a real tenant set WEBITEL_URL (the tenant's address, such as
// https://cloud.webitel.com; the article's https://cloud.webitel.com/api/
// works too) and WEBITEL_TOKEN (an integration token). It then checks the
// connection, lists the members and today's calls, and prints the live
// events of the token's user for 30 s (WEBITEL_WATCH, such as 2m) or until
// Ctrl-C; the socket needs that user to hold a licence. It places a
// click-to-call only when WEBITEL_EXT (the operator rung first) and
// WEBITEL_PHONE (the number dialled once the operator answers) are set
// too, since that rings real phones; the socket shows that call only when
// WEBITEL_EXT is the token's own user. It never creates users or devices
// on a real tenant, and never prints the token.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/pbxkit/pbxkit/voip"
	"github.com/pbxkit/pbxkit/webitel"
	"github.com/pbxkit/pbxkit/webitel/webiteltest"
)

func main() {
	log.SetFlags(0)
	var err error
	if base, token := os.Getenv("WEBITEL_URL"), os.Getenv("WEBITEL_TOKEN"); base != "" && token != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		err = runReal(ctx, base, token, os.Getenv("WEBITEL_EXT"), os.Getenv("WEBITEL_PHONE"))
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err = runEmulated(ctx)
	}
	if err != nil {
		log.Fatal(err)
	}
}

var out = json.NewEncoder(os.Stdout)

// runEmulated provisions a user on the emulator and follows one call of
// theirs from the click to the recording.
func runEmulated(ctx context.Context) error {
	fmt.Println("== Webitel (emulator; set WEBITEL_URL and WEBITEL_TOKEN for a real tenant)")
	const adminToken = "integration-token-demo" // the integration's own token
	pbx := webiteltest.NewServer(adminToken)
	defer pbx.Close()
	admin, err := webitel.New(pbx.BaseURL()+"/api/", adminToken)
	if err != nil {
		return err
	}
	if err := admin.TestConnection(ctx); err != nil {
		return err
	}
	if err := printMembers(ctx, admin); err != nil {
		return err
	}

	// The article's flow: a WebRTC device, a user with a licence and that
	// device, and a token for the user. The CRM stores the three ids.
	fmt.Println("\n-- provision user 2020 (device, user with a licence, token)")
	p, err := admin.Provision(ctx, webitel.Provisioning{
		Device: webitel.Device{Name: "device for user 1", Account: "sipUser1", Password: "BNZdVLryFwcB"},
		User: webitel.User{
			Name: "User1", Email: "user1@example.com", Username: "2020", Password: "dl75lfLcOLLL", Extension: "2020",
			Roles:   []webitel.Lookup{{ID: "4"}},
			License: []webitel.Lookup{{ID: "95309f22-0d7c-4fb9-baab-9911898019c4"}},
		},
		TokenUsage: "crm-integration",
	})
	if err != nil {
		return err // p holds what was made before the failing step
	}
	// The token is a credential: stored by the CRM, never printed.
	if err := out.Encode(map[string]any{"user_id": p.UserID, "device_id": p.DeviceID, "token_chars": len(p.Token)}); err != nil {
		return err
	}

	// The new user's own socket: it sees that user's calls only.
	user, err := webitel.New(pbx.BaseURL(), p.Token)
	if err != nil {
		return err
	}
	st, err := user.Subscribe(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	src := st.Source()
	if err := pbx.AwaitSockets(ctx, 1); err != nil {
		return err
	}

	fmt.Println("\n-- click-to-call: ring 2020, then dial 050 123 45 67")
	id, err := admin.GenerateCall(ctx, "2020", "050 123 45 67")
	if errors.Is(err, voip.ErrAmbiguous) {
		// Never retried: the phones may be ringing already.
		return fmt.Errorf("the call may or may not have started: %w", err)
	}
	if err != nil {
		return err
	}
	fmt.Println("call id", id)
	// The emulator plays the phones: the operator's auto-answer and the
	// client's pick-up, a second of talk, then the client hangs up.
	pbx.Answer(id)
	time.Sleep(time.Second)
	pbx.Hangup(id, "")
	fmt.Println("\n-- the socket of 2020")
	if err := printEvents(ctx, src, id); err != nil {
		return err
	}

	// Earlier calls of 2020, so that the history has several pages.
	pbx.AddHistory(6, "2020", time.Now().Add(-5*time.Minute))
	fmt.Println("\n-- the history of the last hour, 3 calls a page, newest first")
	pagesBefore := historyRequests(pbx)
	var ours *webitel.HistoryCall
	q := webitel.HistoryQuery{From: time.Now().Add(-time.Hour), To: time.Now(), Sort: "-created_at", PageSize: 3}
	n := 0
	for h, err := range admin.History(ctx, q) {
		if err != nil {
			return err
		}
		n++
		if err := printCall(h.Call()); err != nil {
			return err
		}
		if h.ID == id {
			ours = &h
		}
	}
	fmt.Printf("%d calls in %d pages\n", n, historyRequests(pbx)-pagesBefore)
	if ours == nil || len(ours.Files) == 0 {
		return fmt.Errorf("call %s: no record with a recording in the history", id)
	}

	fmt.Println("\n-- the recording of call", id)
	f := ours.Files[0]
	var audio bytes.Buffer
	size, err := admin.DownloadRecording(ctx, f.ID, &audio)
	if err != nil {
		return err
	}
	// The link a CRM stores carries no token: fetching it needs the
	// X-Webitel-Access header, as DownloadRecording sends it.
	return out.Encode(map[string]any{"file_id": f.ID, "name": f.Name, "mime_type": f.MimeType, "bytes": size,
		"link": admin.RecordingURL(f.ID)})
}

// historyRequests counts the history pages the emulator has served.
func historyRequests(pbx *webiteltest.Server) int {
	n := 0
	for _, r := range pbx.Requests() {
		if r.Path == "/api/calls/history" {
			n++
		}
	}
	return n
}

// runReal looks at a real tenant: nothing is created, and a call is placed
// only when ext and phone are both given.
func runReal(ctx context.Context, base, token, ext, phone string) error {
	c, err := webitel.New(base, token)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := c.TestConnection(rctx); err != nil {
		return fmt.Errorf("connection: %w", err)
	}
	me, err := c.UserInfo(rctx)
	if err != nil {
		return err
	}
	fmt.Printf("== Webitel %s, domain %s, as %s (ext %s)\n", c.BaseURL(), me.Domain, me.Name, me.Extension)
	if err := printMembers(rctx, c); err != nil {
		return err
	}
	if err := printToday(rctx, c); err != nil {
		return err
	}

	watch := 30 * time.Second
	if d, err := time.ParseDuration(os.Getenv("WEBITEL_WATCH")); err == nil && d > 0 {
		watch = d
	}
	wctx, cancelWatch := context.WithTimeout(ctx, watch)
	defer cancelWatch()
	st, err := c.Subscribe(wctx)
	switch {
	case errors.Is(err, voip.ErrForbidden):
		fmt.Println("\nsocket: the token's user has no licence, so the engine refuses its socket")
	case err != nil:
		return fmt.Errorf("socket: %w", err)
	default:
		defer st.Close()
	}

	if ext != "" && phone != "" {
		fmt.Printf("\n-- click-to-call: ring %s, then dial %s\n", ext, phone)
		id, err := c.GenerateCall(rctx, ext, phone)
		if errors.Is(err, voip.ErrAmbiguous) {
			return fmt.Errorf("call: the phones may be ringing, do not place it again: %w", err)
		}
		if err != nil {
			return fmt.Errorf("call: %w", err)
		}
		fmt.Println("call id", id)
	}
	if st == nil {
		return nil
	}
	fmt.Printf("\n-- live events of %s for %v (Ctrl-C stops)\n", me.Name, watch)
	err = printEvents(wctx, st.Source(), "")
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// printToday prints the first calls of today, one record per call.
func printToday(ctx context.Context, c *webitel.Client) error {
	const limit = 20
	y, m, d := time.Now().Date()
	q := webitel.HistoryQuery{From: time.Date(y, m, d, 0, 0, 0, 0, time.Local), SkipParent: true, Sort: "-created_at", PageSize: limit}
	fmt.Printf("\n-- today's calls, newest first (at most %d)\n", limit)
	n := 0
	for h, err := range c.History(ctx, q) {
		if err != nil {
			return err
		}
		if err := printCall(h.Call()); err != nil {
			return err
		}
		if n++; n == limit {
			break
		}
	}
	if n == 0 {
		fmt.Println("none")
	}
	return nil
}

func printMembers(ctx context.Context, c *webitel.Client) error {
	members, err := c.Members(ctx)
	if err != nil {
		return err
	}
	fmt.Println("\n-- members")
	for _, m := range members {
		if err := out.Encode(m); err != nil {
			return err
		}
	}
	return nil
}

// printEvents prints the socket's call events as voip values, with the
// notices that say events may have been missed. With callID set it returns
// once that call has ended; otherwise it runs until ctx ends.
func printEvents(ctx context.Context, src voip.Source, callID string) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case n := <-src.Notices():
			if n.Gap {
				fmt.Println("gap:", n, "— reconcile with ActiveCalls and History")
			}
		case ev, ok := <-src.Events():
			if !ok {
				return src.Err()
			}
			ev.Raw = nil // the engine's own frame, left out for brevity
			if err := out.Encode(ev); err != nil {
				return err
			}
			if callID != "" && ev.CallID == callID && ev.Kind == voip.EventEnd {
				return nil
			}
		}
	}
}

func printCall(c voip.Call) error {
	c.Raw = nil
	return out.Encode(c)
}
