package webitel_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/pbxkit/pbxkit/voip"
	"github.com/pbxkit/pbxkit/webitel"
)

// The engine socket of the token's user, read as a voip.Source: the same
// pop-up code serves every vendor. A gap notice says events may have been
// missed while the socket reconnected.
func ExampleClient_Subscribe() {
	ctx := context.Background()
	c, err := webitel.New("https://cloud.webitel.com", "<integration token>")
	if err != nil {
		log.Fatal(err)
	}
	st, err := c.Subscribe(ctx, webitel.WithBackoff(time.Second, time.Minute))
	if errors.Is(err, voip.ErrForbidden) {
		log.Fatal("the token's user has no licence: the engine refuses its socket")
	}
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	src := st.Source()
	for {
		select {
		case ev, ok := <-src.Events():
			if !ok {
				log.Fatal(src.Err()) // nil after Close; a refused token otherwise
			}
			fmt.Println(ev.Kind, ev.CallID, ev.Client, ev.Ext, ev.Disposition)
		case n := <-src.Notices():
			if n.Gap {
				// Reconcile: the active calls and the history (REST).
				fmt.Println("gap:", n)
			}
		}
	}
}

// Click-to-call over the socket, then DTMF into the call: call control
// needs the call's app_id, which the stream learns from the call's events.
func ExampleStream_Call() {
	ctx := context.Background()
	c, err := webitel.New("https://cloud.webitel.com", "<integration token>")
	if err != nil {
		log.Fatal(err)
	}
	st, err := c.Subscribe(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	id, err := st.Call(ctx, "+380501234567")
	if errors.Is(err, voip.ErrAmbiguous) {
		log.Fatal("the call may be ringing: never retry it blindly")
	}
	if err != nil {
		log.Fatal(err)
	}
	for ev := range st.Events() {
		if ev.Call != nil && ev.Call.ID == id && ev.Call.Action == webitel.ActionActive {
			if err := st.DTMF(ctx, id, "1"); err != nil {
				log.Print(err)
			}
		}
	}
}
