package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pbxkit/pbxkit/voip"
)

// demoTime bounds the demo run: it ends sooner when everything arrived.
const demoTime = 12 * time.Second

// watcher reads the managers' event streams as their pages do, prints
// what arrives and keeps it for the demo's checks.
type watcher struct {
	out io.Writer
	mu  sync.Mutex
	got map[string][]message // by extension
}

func (w *watcher) watch(ctx context.Context, client *http.Client, base, ext string) {
	_, _ = readEvents(ctx, client, base+"/m/"+ext+"/events", "", func(m message) bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.got[ext] = append(w.got[ext], m)
		fmt.Fprintf(w.out, "  [%s] %s\n", ext, describe(m))
		return true
	})
}

// has reports whether a message of ext's stream matches ok.
func (w *watcher) has(ext string, ok func(m message, c card) bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range w.got[ext] {
		var c card
		if m.Event == "call" {
			_ = json.Unmarshal(m.Data, &c)
		}
		if ok(m, c) {
			return true
		}
	}
	return false
}

// describe is a line of what a page shows for m.
func describe(m message) string {
	switch m.Event {
	case "gap":
		var g gapNotice
		_ = json.Unmarshal(m.Data, &g)
		return fmt.Sprintf("BANNER at %s: may have missed calls (%s)", g.At, g.Why)
	case "call":
		var c card
		_ = json.Unmarshal(m.Data, &c)
		who := c.Customer
		if who == "" {
			who = "new customer"
		}
		s := fmt.Sprintf("%-3s %-8s %-14s %-18s started %s", c.Direction, c.State, c.Client, who, c.Started)
		if c.Line != "" {
			s += ", line " + c.Line
		}
		if c.Disposition != "" {
			s += ", " + c.Disposition
		}
		if c.Talk != "" {
			s += ", talk " + c.Talk
		}
		if c.Recording != "" {
			s += ", recording " + c.Recording
		}
		return s
	}
	return m.Event + " " + string(m.Data)
}

// demo plays a few calls through the app on the emulator and prints what
// each manager's page received: a customer's call, answered; an unknown
// caller nobody answers; a call back from a page; and, on a PBX with
// sockets, a dropped connection and the banner it brings.
func demo(ctx context.Context, a *app, emu *emulation, base string, client *http.Client, w io.Writer) error {
	out := &lockedWriter{w: w} // the demo's lines and the pages'
	ctx, cancel := context.WithTimeout(ctx, demoTime)
	defer cancel()
	ms := a.crm.managerList()
	if len(ms) < 2 {
		return errors.New("the demo needs two managers")
	}
	m1, m2 := ms[0], ms[1]
	fmt.Fprintf(out, "The pop-up app serves on %s; the managers' pages:\n", base)
	printPages(out, base, a.crm)
	fmt.Fprintf(out, "(run with -serve to keep it serving and open them)\n\n")

	seen := &watcher{out: out, got: map[string][]message{}}
	wctx, stopWatching := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, m := range []manager{m1, m2} {
		wg.Go(func() { seen.watch(wctx, client, base, m.Ext) })
	}
	defer func() {
		stopWatching()
		wg.Wait()
	}()
	// The pages are open once their streams have said hello: the feeds
	// have a waiter each.
	if !waitFor(ctx, func() bool { return a.watching(m1.Ext) && a.watching(m2.Ext) }) {
		return errors.New("the pages did not connect")
	}

	known, other := demoCustomers[0], demoCustomers[1]
	switch name, resp, err := emu.ask(ctx, known.Phone); {
	case errors.Is(err, voip.ErrNotSupported):
		fmt.Fprintf(out, "This PBX does not ask the CRM who is calling.\n")
	case err != nil:
		return fmt.Errorf("lookup: %w", err)
	default:
		fmt.Fprintf(out, "The PBX asks who calls from %s: the CRM says %q, manager %s\n", known.Phone, name, resp)
	}

	step := 300 * time.Millisecond
	fmt.Fprintf(out, "\n%s calls %s, who answers:\n", known.Name, m1.Name)
	if err := emu.play(ctx, known.Phone, m1.Ext, 47*time.Second, step); err != nil {
		return err
	}
	fmt.Fprintf(out, "An unknown number calls %s, nobody answers:\n", m2.Name)
	if err := emu.play(ctx, unknownCaller, m2.Ext, 0, step); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s calls %s, who answers:\n", other.Name, m2.Name)
	if err := emu.play(ctx, other.Phone, m2.Ext, 95*time.Second, step); err != nil {
		return err
	}

	fmt.Fprintf(out, "%s clicks \"call back\" on %s's card:\n", m1.Name, known.Name)
	reply, err := clickToCall(ctx, client, base, m1.Ext, known.Phone)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  the page shows: %s (%s)\n", reply.Message, reply.State)
	if err := emu.finishPlaced(ctx); err != nil {
		return err
	}

	if emu.drop != nil {
		if !waitFor(ctx, func() bool { return seen.has(m1.Ext, recorded(known.Phone)) }) {
			return errors.New("the call's recording did not arrive")
		}
		fmt.Fprintf(out, "The PBX's socket drops:\n")
		emu.drop()
	}

	want := map[string]func() bool{
		"the customer's card, ended, with its recording": func() bool { return seen.has(m1.Ext, recorded(known.Phone)) },
		"the unknown caller's card, as a new customer, missed": func() bool {
			return seen.has(m2.Ext, func(_ message, c card) bool {
				return c.Client == unknownCaller && c.Customer == "" && c.State == "ended"
			})
		},
		"the call back, placed once": func() bool {
			return emu.placed() == 1 && seen.has(m1.Ext, func(_ message, c card) bool { return c.Direction == "out" })
		},
		"no call of one manager on the other's page": func() bool {
			return !seen.has(m2.Ext, func(_ message, c card) bool { return c.Client == known.Phone }) &&
				!seen.has(m1.Ext, func(_ message, c card) bool { return c.Client == other.Phone })
		},
	}
	if emu.drop != nil {
		want["the banner after the drop"] = func() bool {
			return seen.has(m1.Ext, func(m message, _ card) bool { return m.Event == "gap" })
		}
	}
	waitFor(ctx, func() bool {
		for _, ok := range want {
			if !ok() {
				return false
			}
		}
		return true
	})
	var missing []string
	for what, ok := range want {
		if !ok() {
			missing = append(missing, what)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the pages did not show: %s", strings.Join(missing, "; "))
	}
	stopWatching()
	wg.Wait()
	fmt.Fprintf(out, "\nEvery page showed its own calls only; the demo is over.\n")
	return nil
}

// recorded matches the card of phone's call once its recording is there.
func recorded(phone string) func(message, card) bool {
	return func(_ message, c card) bool { return c.Client == phone && c.State == "ended" && c.Recording != "" }
}

// clickToCall posts what the page's "call back" button posts.
func clickToCall(ctx context.Context, client *http.Client, base, ext, phone string) (dialReply, error) {
	body, _ := json.Marshal(map[string]string{"phone": phone})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/m/"+ext+"/call", bytes.NewReader(body))
	if err != nil {
		return dialReply{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return dialReply{}, err
	}
	defer resp.Body.Close()
	var r dialReply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return dialReply{}, fmt.Errorf("click-to-call: %s: %w", resp.Status, err)
	}
	return r, nil
}

// waitFor polls cond until it holds or ctx ends, and says which.
func waitFor(ctx context.Context, cond func() bool) bool {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return cond()
		case <-t.C:
		}
	}
	return true
}

// lockedWriter serialises the writes of several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
