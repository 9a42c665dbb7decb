package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/gravitel"
	"github.com/pbxkit/pbxkit/gravitel/graviteltest"
	"github.com/pbxkit/pbxkit/newtel"
	"github.com/pbxkit/pbxkit/newtel/newteltest"
	"github.com/pbxkit/pbxkit/phonet"
	"github.com/pbxkit/pbxkit/phonet/phonettest"
	"github.com/pbxkit/pbxkit/retailcrm"
	"github.com/pbxkit/pbxkit/retailcrm/retailcrmtest"
	"github.com/pbxkit/pbxkit/webitel"
	"github.com/pbxkit/pbxkit/webitel/webiteltest"
)

// emulation is a provider on its emulator, with the calls it plays.
type emulation struct {
	*pbx
	// users maps the emulated PBX's extensions to the CRM emulator's
	// users 1..3.
	users string
	// inbound plays an answered call from a client to the webhook URL
	// (socket providers ignore it).
	inbound func(ctx context.Context, hook string) error
	// outbound plays the call that retailCRM's makeCall placed; nil when
	// the emulator has no events for it.
	outbound func(ctx context.Context, hook string) error
	// lookup has the PBX ask who is calling from phone, and returns what
	// the PBX was told; nil for a PBX that does not ask.
	lookup func(ctx context.Context, hook, phone string) (string, error)
	// placed counts the calls the PBX was asked to place.
	placed func() int
	// dnd reads a member's DND back, by login; nil without DND.
	dnd func(ctx context.Context, login string) (bool, error)
	// dndLogin is the PBX login of CRM user 1, managerExt their extension.
	dndLogin, managerExt string
	// events and calls are what the CRM must have received.
	events, calls int
}

const (
	crmKey      = "crm-key-demo-0123456789"
	demoClient  = "+79161234567" // the client the CRM clicks
	demoCaller  = "+79167654321" // the client who calls in
	demoKnown   = "+79121234567" // a customer of the CRM emulator, whose manager is user 1
	callTimeout = 10 * time.Second
)

// runEmulated runs the bridge between the emulators of the PBX and of
// retailCRM, plays the calls and checks what the CRM received.
func runEmulated(ctx context.Context, cfg config, out, logs io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	logger := newLogger(logs, cfg.verbose)
	fmt.Fprintf(out, "pbxkit bridge: %s → retailCRM, on the emulators (set RETAILCRM_URL and RETAILCRM_API_KEY for real accounts)\n", cfg.provider)
	crm := retailcrmtest.NewServer(crmKey)
	defer crm.Close()
	client, err := retailcrm.New(crm.BaseURL(), crmKey, retailcrm.WithLogger(logger),
		retailcrm.WithRateLimit(math.Inf(1), math.Inf(1)), retailcrm.WithRetries(2, 10*time.Millisecond, 50*time.Millisecond))
	if err != nil {
		return err
	}
	emu, err := providers[cfg.provider].emulated(ctx, logger)
	if err != nil {
		return err
	}
	defer emu.close()
	users := cfg.users
	if users == "" {
		users = emu.users
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	public := "http://" + ln.Addr().String()
	hook := public + webhookPath
	clientID := "emulated-client-id-" + fmt.Sprint(time.Now().UnixNano())
	var problems []string
	check := func(ok bool, format string, args ...any) {
		if !ok {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	err = serveBridge(ctx, bridgeConfig{
		crm: client, pbx: emu.pbx, listener: ln, public: public, module: cfg.module, clientID: clientID,
		users: users, flush: cfg.flush, logger: logger,
	}, func(ctx context.Context, b *retailcrm.Bridge) error {
		fmt.Fprintf(out, "\n-- module %q registered, callbacks at %s%s\n", cfg.module, public, callbackPrefix)
		if raw, ok := crm.Module(cfg.module); ok {
			printTelephony(out, raw)
		}

		if emu.lookup != nil {
			fmt.Fprintf(out, "\n-- %s calls; the PBX asks the bridge who it is\n", demoKnown)
			told, err := emu.lookup(ctx, hook, demoKnown)
			if err != nil {
				return fmt.Errorf("lookup: %w", err)
			}
			fmt.Fprintln(out, "the PBX is told:", told)
			check(strings.Contains(told, "Ольга") && strings.Contains(told, emu.managerExt),
				"lookup: want the customer's name and the extension %s of their manager, got %s", emu.managerExt, told)
		}

		fmt.Fprintf(out, "\n-- %s calls the company; the call is answered\n", demoCaller)
		if err := emu.inbound(ctx, hook); err != nil {
			return fmt.Errorf("inbound call: %w", err)
		}

		fmt.Fprintf(out, "\n-- a CRM user clicks %s (makeCallUrl)\n", demoClient)
		before := emu.placed()
		status, err := callback(crm.MakeCall(ctx, nil, "", demoClient, 1, ""))
		if err != nil {
			return err
		}
		fmt.Fprintln(out, "makeCall answered", status)
		check(status == http.StatusOK, "makeCall answered %d", status)
		check(emu.placed() == before+1, "makeCall placed no call on the PBX")
		if emu.outbound != nil && emu.placed() > before {
			if err := emu.outbound(ctx, hook); err != nil {
				return fmt.Errorf("outbound call: %w", err)
			}
		}

		if emu.dnd != nil {
			fmt.Fprintln(out, "\n-- user 1 goes to dinner, then back (changeUserStatusUrl → DND)")
			for _, st := range []struct {
				status string
				dnd    bool
			}{{"dinner", true}, {"free", false}} {
				status, err := callback(crm.ChangeStatus(ctx, nil, "", 1, st.status))
				if err != nil {
					return err
				}
				on, err := emu.dnd(ctx, emu.dndLogin)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "status %s answered %d; DND of %s on the PBX: %v\n", st.status, status, emu.dndLogin, on)
				check(status == http.StatusOK && on == st.dnd, "status %s: answered %d, DND %v", st.status, status, on)
			}
		} else {
			fmt.Fprintln(out, "\n-- no DND in this PBX: changeUserStatusUrl is not registered")
		}

		// Socket events arrive on their own time: wait for them, and for
		// the records of the calls, before uploading.
		waitFor(ctx, func() bool { return len(crm.Events()) >= emu.events && b.Pending() >= emu.calls })
		if _, err := b.Flush(ctx); err != nil {
			check(false, "upload: %v", err)
		}

		fmt.Fprintln(out, "\n-- call events retailCRM received")
		for _, e := range crm.Events() {
			fmt.Fprintln(out, string(e))
		}
		fmt.Fprintln(out, "\n-- calls uploaded to retailCRM's history")
		var record string
		for _, c := range crm.Calls() {
			fmt.Fprintln(out, string(c))
			var v struct {
				RecordURL string `json:"recordUrl"`
			}
			if json.Unmarshal(c, &v) == nil && v.RecordURL != "" && record == "" {
				record = v.RecordURL
			}
		}
		check(len(crm.Events()) >= emu.events, "%d call events, want %d", len(crm.Events()), emu.events)
		check(len(crm.Calls()) >= emu.calls, "%d calls uploaded, want %d", len(crm.Calls()), emu.calls)
		check(b.Pending() == 0, "%d calls still waiting for upload", b.Pending())

		fmt.Fprintln(out, "\n-- the CRM's player fetches a recording (recordUrl → the bridge → the PBX)")
		check(record != "", "no uploaded call has a recordUrl")
		if record != "" {
			n, ctype, status, err := fetchRecording(ctx, crm, record)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%s: %d, %s, %d bytes\n", record, status, ctype, n)
			check(status == http.StatusOK && n > 0, "recording: answered %d with %d bytes", status, n)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("the CRM did not get what it should:\n  %s", strings.Join(problems, "\n  "))
	}
	fmt.Fprintln(out, "\nall arrived")
	return nil
}

// callback closes a callback's response and returns its status.
func callback(resp *http.Response, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

func fetchRecording(ctx context.Context, crm *retailcrmtest.Server, url string) (int64, string, int, error) {
	resp, err := crm.FetchRecording(ctx, nil, url)
	if err != nil {
		return 0, "", 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	return n, resp.Header.Get("Content-Type"), resp.StatusCode, err
}

// waitFor polls cond until it holds or ctx has a second left at most.
func waitFor(ctx context.Context, cond func() bool) {
	deadline := time.Now().Add(5 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Add(-time.Second).Before(deadline) {
		deadline = d.Add(-time.Second)
	}
	for !cond() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
}

func printTelephony(out io.Writer, raw json.RawMessage) {
	var m struct {
		Integrations struct {
			Telephony json.RawMessage `json:"telephony"`
		} `json:"integrations"`
	}
	if json.Unmarshal(raw, &m) == nil {
		fmt.Fprintln(out, "telephony:", string(m.Integrations.Telephony))
	}
}

// The emulated providers.

func emulatedGravitel(_ context.Context, logger *slog.Logger) (*emulation, error) {
	const pbxKey, crmToken = "pbx-key-demo", "crm-token-demo"
	srv := graviteltest.NewServer(pbxKey)
	c, err := gravitel.New(srv.BaseURL(), pbxKey, gravitel.WithLogger(logger))
	if err != nil {
		srv.Close()
		return nil, err
	}
	p := gravitelPBX(c, crmToken, logger)
	p.close = srv.Close
	hooks := func(url string) graviteltest.Webhooks { return graviteltest.Webhooks{URL: url, CRMToken: crmToken} }
	return &emulation{
		pbx: p, users: "701=1,702=2,703=3", events: 4, calls: 2, dndLogin: "admin", managerExt: "701",
		lookup: func(ctx context.Context, hook, phone string) (string, error) {
			name, responsible, err := hooks(hook).SendContact(ctx, strings.TrimPrefix(phone, "+"), "lookup-1")
			return fmt.Sprintf("contact_name=%q responsible=%q", name, responsible), err
		},
		inbound: func(ctx context.Context, hook string) error {
			_, err := srv.PlayInbound(ctx, hooks(hook), graviteltest.InboundCall{
				Client: demoCaller, Ext: "702", Ring: 8 * time.Second, Talk: 65 * time.Second})
			return err
		},
		outbound: func(ctx context.Context, hook string) error {
			placed := srv.Calls()
			return srv.PlayOutbound(ctx, hooks(hook), placed[len(placed)-1], 5*time.Second, 95*time.Second)
		},
		placed: func() int { return len(srv.Calls()) },
		dnd:    c.GetDND,
	}, nil
}

func phonetEmulator(logger *slog.Logger) (*phonettest.Server, *phonet.Client, error) {
	const apiKey = "phonet-key-demo"
	srv := phonettest.NewServer(apiKey)
	c, err := phonet.New(srv.Domain, apiKey, phonet.WithBaseURL(srv.BaseURL()), phonet.WithLogger(logger))
	if err != nil {
		srv.Close()
		return nil, nil, err
	}
	return srv, c, nil
}

func emulatedPhonetSocket(_ context.Context, logger *slog.Logger) (*emulation, error) {
	srv, c, err := phonetEmulator(logger)
	if err != nil {
		return nil, err
	}
	subs := []string{"001", "002", "003"}
	p := phonetSocketPBX(c, subs)
	p.close = srv.Close
	return &emulation{
		pbx: p, users: "001=1,002=2,003=3", events: 2, calls: 1,
		inbound: func(ctx context.Context, _ string) error {
			if err := srv.AwaitSockets(ctx, len(subs)); err != nil {
				return err
			}
			id := srv.Incoming("002", strings.TrimPrefix(demoCaller, "+"))
			if !srv.Answer(id) || !srv.Hangup(id) {
				return errors.New("the emulator lost the call")
			}
			return nil
		},
		// The emulator sends no socket events for a call placed through the
		// API: the makeCall is checked on its list of placed calls.
		placed: func() int { return len(srv.Calls()) },
	}, nil
}

func emulatedPhonetWebhook(_ context.Context, logger *slog.Logger) (*emulation, error) {
	srv, c, err := phonetEmulator(logger)
	if err != nil {
		return nil, err
	}
	const token = "phonet-webhook-token-demo"
	p := phonetWebhookPBX(c, token, logger)
	p.close = srv.Close
	hooks := func(url string) phonettest.Webhooks {
		return phonettest.Webhooks{URL: url + "?" + phonet.DefaultTokenParam + "=" + token}
	}
	return &emulation{
		pbx: p, users: "001=1,002=2,003=3", events: 4, calls: 2, managerExt: "001",
		lookup: func(ctx context.Context, hook, phone string) (string, error) {
			body, err := hooks(hook).Send(ctx, phonettest.LookupWebhook(strings.TrimPrefix(phone, "+"), phonettest.DefaultTrunk))
			return string(body), err
		},
		inbound: func(ctx context.Context, hook string) error {
			_, err := srv.PlayInbound(ctx, hooks(hook), phonettest.InboundCall{
				Client: strings.TrimPrefix(demoCaller, "+"), Ext: "002", Ring: 8 * time.Second, Talk: 65 * time.Second})
			return err
		},
		outbound: func(ctx context.Context, hook string) error {
			placed := srv.Calls()
			return srv.PlayOutbound(ctx, hooks(hook), placed[len(placed)-1], 5*time.Second, 95*time.Second)
		},
		placed: func() int { return len(srv.Calls()) },
	}, nil
}

func emulatedNewtel(_ context.Context, logger *slog.Logger) (*emulation, error) {
	const accessKey, signKey = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071", "f9e8d7c6b5a4938271605f4e3d2c1b0af9e8d7c6b5a49382"
	const webhookKey = "newtel-webhook-key-demo"
	srv := newteltest.NewServer(accessKey, signKey)
	c, err := newtel.New(accessKey, signKey, newtel.WithBaseURL(srv.BaseURL()), newtel.WithLogger(logger))
	if err != nil {
		srv.Close()
		return nil, err
	}
	p := newtelPBX(c, webhookKey, logger)
	p.close = srv.Close
	hooks := func(url string) newteltest.Webhooks { return newteltest.Webhooks{URL: url, Key: webhookKey} }
	return &emulation{
		pbx: p, users: "100=1,101=2,102=3", events: 4, calls: 2,
		inbound: func(ctx context.Context, hook string) error {
			_, err := srv.PlayInbound(ctx, hooks(hook), newteltest.InboundCall{
				Client: strings.TrimPrefix(demoCaller, "+"), Ext: "101", Ring: 8 * time.Second, Talk: 65 * time.Second})
			return err
		},
		outbound: func(ctx context.Context, hook string) error {
			placed := srv.Calls()
			return srv.PlayOutbound(ctx, hooks(hook), placed[len(placed)-1], 5*time.Second, 95*time.Second)
		},
		placed: func() int { return len(srv.Calls()) },
	}, nil
}

func emulatedWebitel(ctx context.Context, logger *slog.Logger) (*emulation, error) {
	const token = "webitel-token-demo-0123456789" // the token of user 1, ext 101
	srv := webiteltest.NewServer(token)
	c, err := webitel.New(srv.BaseURL(), token, webitel.WithLogger(logger))
	if err != nil {
		srv.Close()
		return nil, err
	}
	// A second operator with a token of their own: one socket per
	// operator, as WEBITEL_TOKENS opens them.
	second := srv.AddUser(webiteltest.User{Name: "Марія Шевченко", Username: "maria", Email: "maria@demo.example",
		Extension: "104", Licensed: true})
	tokens := []string{token, srv.TokenFor(second.ID)}
	p := webitelPBX(c, tokens, logger)
	p.close = srv.Close
	return &emulation{
		pbx: p, users: "101=1,102=2,104=3", events: 6, calls: 3,
		inbound: func(ctx context.Context, _ string) error {
			if err := srv.AwaitSockets(ctx, len(tokens)); err != nil {
				return err
			}
			id := srv.Incoming("101", demoCaller)
			if id == "" || !srv.Answer(id) || !srv.Hangup(id, "") {
				return errors.New("the emulator lost the call")
			}
			// The second operator's socket: a call to 104 the caller
			// gives up on while it rings.
			id = srv.Incoming("104", demoKnown)
			if id == "" || !srv.Hangup(id, "ORIGINATOR_CANCEL") {
				return errors.New("the emulator lost the call to 104")
			}
			return nil
		},
		// The click-to-call rings the operator's leg (an outbound ringing
		// on their socket); the operator and the client answer, then hang
		// up.
		outbound: func(ctx context.Context, _ string) error {
			placed := srv.Calls()
			id := placed[len(placed)-1].ID
			if !srv.Answer(id) || !srv.Hangup(id, "") {
				return errors.New("the emulator lost the placed call")
			}
			return nil
		},
		placed: func() int { return len(srv.Calls()) },
	}, nil
}
