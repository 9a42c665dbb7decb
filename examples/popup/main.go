// Command popup is the CRM pop-up: the web page a manager keeps open, on
// which every call to or from their extension pops up as it rings — the
// caller's number in E.164, the customer from the CRM or "new customer",
// the line — then shows when it is answered, how it ended and how long it
// was talked, and the recording once the PBX has it. A "call back" button
// on each card and a dial box place a click-to-call through the PBX. It is
// a small server: html/template, Server-Sent Events, vanilla JS.
//
// The PBX's live events come through the neutral voip model, from a
// voip.Source (Phonet's sockets, one per manager, as a Hub; Webitel's
// engine sockets, one per operator) or from a webhook handler (Phonet's,
// Gravitel's or New-Tel's webhooks), chosen by -provider. The PBX's "who
// is calling" lookup (Phonet's client card, Gravitel's contact) is
// answered from the same small in-memory CRM, so the PBX shows the
// customer's name and routes the call to their manager.
//
// With no credentials in the environment it runs on the vendor's
// emulator. By default it serves the app, plays a few calls through it for
// a few seconds, prints what each manager's page received, and exits
// (non-zero if something did not arrive):
//
//	go run ./examples/popup
//	go run ./examples/popup -provider gravitel
//
// To open the pages in a browser, keep it serving, with a call generator
// playing a call every few seconds:
//
//	go run ./examples/popup -serve
//
// and open http://127.0.0.1:8080/, which links the managers' pages:
// /m/001 and /m/002 on the Phonet emulator (701 and 702 on Gravitel's,
// 101 and 104 on Webitel's, 101 and 102 on New-Tel's).
//
// With real credentials in the environment it serves until interrupted,
// with the PBX's users as the managers (or -managers):
//
//   - phonet (sockets) and phonet-webhook: PHONET_DOMAIN, PHONET_API_KEY;
//     PHONET_WEBHOOK_TOKEN guards the webhook URL, which is the app's
//     public address plus /pbx/webhook?token=… (for phonet it takes the
//     client-card lookup only);
//   - gravitel: GRAVITEL_ENDPOINT, GRAVITEL_TOKEN and GRAVITEL_CRM_TOKEN
//     (the «Ключ для авторизации в CRM»); the cabinet's CRM URL is the
//     app's public address plus /pbx/webhook;
//   - newtel: NEWTEL_ACCESS_KEY, NEWTEL_SIGN_KEY and NEWTEL_WEBHOOK_KEY;
//     the receiver is the app's public address plus /pbx/webhook. New-Tel
//     does not list its users: name the managers with -managers;
//   - webitel: WEBITEL_URL and WEBITEL_TOKEN (the integration token: the
//     users, the click-to-call, the history); WEBITEL_TOKENS, the
//     operators' tokens comma-separated, opens one socket each (default:
//     WEBITEL_TOKEN's alone).
//
// Flags, each with its environment variable (flags win):
//
//	-provider POPUP_PROVIDER  phonet | phonet-webhook | gravitel | newtel | webitel (default phonet)
//	-addr     POPUP_ADDR      address to serve on (default 127.0.0.1:8080; a free port for the demo run)
//	-serve                    keep serving the emulator, with a call generator
//	-zone     POPUP_ZONE      the managers' time zone (default Europe/Kyiv; the emulated managers have their own)
//	-managers POPUP_MANAGERS  the managers, ext=Name comma-separated (default: the PBX's users)
//	-v                        log at Debug
//
// Secrets come from the environment only and are never logged. The app
// has no login: put it behind the CRM's authentication before managers use
// it, and expose /pbx/webhook to the PBX only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // the managers' zones, on machines without a zone database

	"github.com/pbxkit/pbxkit/voip"
)

type config struct {
	provider string
	addr     string
	serve    bool
	zone     string
	managers string // ext=Name,…: the managers, when the PBX's users are not
	verbose  bool
}

func parseConfig(args []string, env func(string) string) (config, error) {
	def := func(name, fallback string) string {
		if v := strings.TrimSpace(env(name)); v != "" {
			return v
		}
		return fallback
	}
	var cfg config
	fs := flag.NewFlagSet("popup", flag.ContinueOnError)
	fs.StringVar(&cfg.provider, "provider", def("POPUP_PROVIDER", "phonet"), "the PBX: "+strings.Join(providerNames(), " | "))
	fs.StringVar(&cfg.addr, "addr", env("POPUP_ADDR"), "address to serve on (default 127.0.0.1:8080; a free port for the demo run)")
	fs.BoolVar(&cfg.serve, "serve", false, "keep serving the emulator, with a call generator")
	fs.StringVar(&cfg.zone, "zone", def("POPUP_ZONE", "Europe/Kyiv"), "the managers' time zone when the CRM has none")
	fs.StringVar(&cfg.managers, "managers", env("POPUP_MANAGERS"), "the managers, ext=Name comma-separated (default: the PBX's users)")
	fs.BoolVar(&cfg.verbose, "v", false, "log at Debug")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if _, ok := providers[cfg.provider]; !ok {
		return cfg, fmt.Errorf("unknown provider %q: want %s", cfg.provider, strings.Join(providerNames(), ", "))
	}
	if _, err := time.LoadLocation(cfg.zone); err != nil {
		return cfg, fmt.Errorf("-zone: %w", err)
	}
	if _, err := managerList(cfg.managers); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// managerList reads ext=Name,ext=Name.
func managerList(s string) ([]manager, error) {
	var out []manager
	for _, f := range splitList(s) {
		ext, name, ok := strings.Cut(f, "=")
		ext, name = strings.TrimSpace(ext), strings.TrimSpace(name)
		if !ok || ext == "" || name == "" {
			return nil, fmt.Errorf("-managers: %q is not ext=Name", f)
		}
		out = append(out, manager{Ext: ext, Name: name})
	}
	return out, nil
}

func main() {
	log.SetFlags(0)
	cfg, err := parseConfig(os.Args[1:], os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, cfg, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		log.Fatal(err)
	}
}

// run serves the app on a real PBX when the environment has its
// credentials, on the emulator otherwise.
func run(ctx context.Context, cfg config, env func(string) string, out, logs io.Writer) error {
	level := slog.LevelWarn
	if !cfg.serve && env("POPUP_PROVIDER") == "" && cfg.addr == "" {
		// The demo drops the PBX's socket on purpose: its reconnect is
		// not worth a warning.
		level = slog.LevelError
	}
	if cfg.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: level}))
	kit := providers[cfg.provider]
	real := true
	for _, name := range kit.env {
		real = real && env(name) != ""
	}
	var (
		p   *pbx
		emu *emulation
		err error
	)
	if real {
		p, err = kit.real(env, logger)
	} else if emu, err = kit.emulated(logger); err == nil {
		p = emu.pbx
	}
	if err != nil {
		return err
	}
	defer p.close()

	zone, _ := time.LoadLocation(cfg.zone) // checked by parseConfig
	addr := cfg.addr
	if addr == "" {
		addr = "127.0.0.1:8080"
		if emu != nil && !cfg.serve {
			addr = "127.0.0.1:0"
		}
	}
	managers, _ := managerList(cfg.managers) // checked by parseConfig
	if emu != nil {
		managers = emu.managers
	}
	in, err := start(ctx, p, managers, zone, addr, logger)
	if err != nil {
		return err
	}
	defer in.Close()
	a, c, base := in.app, in.crm, in.base
	if emu != nil {
		emu.target(base, in.client)
	}

	switch {
	case emu != nil && !cfg.serve:
		return demo(ctx, a, emu, base, in.client, out)
	case emu != nil:
		fmt.Fprintf(out, "Serving the pop-up on the %s emulator: open %s/ (Ctrl-C stops)\n", cfg.provider, base)
		printPages(out, base, c)
		gctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := generate(gctx, emu, c); err != nil {
				logger.Error("call generator stopped", "error", err)
			}
		})
		defer func() {
			cancel()
			wg.Wait()
		}()
	default:
		fmt.Fprintf(out, "Serving the pop-up on %s: open %s/ (Ctrl-C stops)\n", cfg.provider, base)
		printPages(out, base, c)
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-in.served:
		return err
	case err := <-in.stopped:
		if err == nil {
			err = errors.New("the PBX's event stream stopped")
		}
		return err
	}
}

// instance is the app serving on a PBX.
type instance struct {
	app     *app
	crm     *crm
	base    string       // where the pages are: http://host:port
	client  *http.Client // the emulator's webhooks' and the demo's
	served  chan error   // the HTTP server stopped
	stopped chan error   // the PBX's event stream stopped
	closers []func()     // run last first
}

// Close stops the event stream, the pages' streams and the server.
func (in *instance) Close() {
	for i := len(in.closers) - 1; i >= 0; i-- {
		in.closers[i]()
	}
	in.closers = nil
}

// start serves the app on addr for the PBX p: the CRM with its managers
// (nil: the PBX's users), in zone unless they have their own, and its
// customers; the PBX's webhook handler; its event stream. Close it when
// done.
func start(ctx context.Context, p *pbx, managers []manager, zone *time.Location, addr string, logger *slog.Logger) (_ *instance, err error) {
	c := newCRM(p.region, zone)
	if managers == nil {
		members, err := p.provider.Members(ctx)
		if errors.Is(err, voip.ErrNotSupported) {
			return nil, fmt.Errorf("this PBX does not list its users: name the managers with -managers ext=Name,…: %w", err)
		}
		if err != nil {
			return nil, fmt.Errorf("the PBX's users: %w", err)
		}
		for _, m := range members {
			if m.Ext != "" {
				managers = append(managers, manager{Ext: m.Ext, Name: cmp(m.Name, m.Ext)})
			}
		}
	}
	for _, m := range managers {
		c.addManager(m)
	}
	seedCustomers(c)

	a := newApp(c, p.provider, logger)
	a.recordOf = p.recordOf
	in := &instance{app: a, crm: c, client: &http.Client{}, served: make(chan error, 1), stopped: make(chan error, 1)}
	defer func() {
		if err != nil {
			in.Close()
		}
	}()
	in.closers = append(in.closers, in.client.CloseIdleConnections)
	if p.webhook != nil {
		h, err := p.webhook(a)
		if err != nil {
			return nil, err
		}
		a.Handle(webhookPath, h)
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: a, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	go func() { in.served <- srv.Serve(ln) }()
	in.closers = append(in.closers, func() {
		a.Close() // the event streams end, so that Shutdown need not wait for them
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	})
	in.base = "http://" + ln.Addr().String()

	// The live stream, for a PBX whose events come over sockets.
	if p.source != nil {
		var exts []string
		for _, m := range c.managerList() {
			exts = append(exts, m.Ext)
		}
		src, err := p.source(ctx, exts)
		if err != nil {
			return nil, fmt.Errorf("the PBX's event stream: %w", err)
		}
		cctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() { in.stopped <- a.consume(cctx, src) })
		in.closers = append(in.closers, func() {
			cancel()
			wg.Wait()
			_ = src.Close()
		})
	}
	return in, nil
}

func printPages(out io.Writer, base string, c *crm) {
	for _, m := range c.managerList() {
		fmt.Fprintf(out, "  %-16s %s/m/%s\n", m.Name, base, m.Ext)
	}
}

func cmp(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// demoCustomers are the CRM's customers; Manager is the index of their
// manager among the CRM's managers.
var demoCustomers = []struct {
	Name, Phone string
	Manager     int
}{
	{"Олена Шевченко", "+380501234567", 0},
	{"Анна Смирнова", "+79161234567", 1},
	{"Богдан Ковальчук", "+380671112233", 0},
}

// unknownCaller is a number the CRM does not know.
const unknownCaller = "+380931234567"

// seedCustomers fills the CRM: its customers, each with a manager.
func seedCustomers(c *crm) {
	ms := c.managerList()
	for _, cu := range demoCustomers {
		mgr := ""
		if len(ms) > 0 {
			mgr = ms[cu.Manager%len(ms)].Ext
		}
		c.addCustomer(customer{Name: cu.Name, Phone: cu.Phone, Manager: mgr})
	}
}

// generate plays calls on the emulator until ctx ends: a customer's call
// to their manager, an unknown caller nobody answers, and the calls the
// managers placed from their pages.
func generate(ctx context.Context, emu *emulation, c *crm) error {
	ms := c.managerList()
	for i := 0; ctx.Err() == nil; i++ {
		cu := demoCustomers[i%len(demoCustomers)]
		from, ext, talk := cu.Phone, ms[cu.Manager%len(ms)].Ext, time.Duration(30+i%90)*time.Second
		if i%3 == 2 {
			from, ext, talk = unknownCaller, ms[i%len(ms)].Ext, 0
		}
		err := emu.play(ctx, from, ext, talk, 2*time.Second)
		if err == nil {
			err = emu.finishPlaced(ctx)
		}
		if err == nil {
			_ = pace(ctx, 4*time.Second)
		} else if ctx.Err() == nil {
			return err
		}
	}
	return nil
}
