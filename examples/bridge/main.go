// Command bridge connects a PBX to retailCRM, which is why a backend team
// installs pbxkit: the PBX's live call events pop up the client's card in
// the CRM, its finished calls fill the CRM's call history, and retailCRM's
// buttons reach the PBX — a click on a number rings the user's phone
// (makeCallUrl → Provider.GenerateCall), a user's status sets their
// do-not-disturb where the PBX has one (changeUserStatusUrl), and the CRM's
// player streams the recording through the bridge (recordUrl →
// Provider.CallLink → the vendor's recording); where the PBX asks the CRM
// who is calling (Gravitel's contact, Phonet's client card) the bridge
// answers with the customer's name and routes the call to their manager
// (telephony/manager). Everything goes through the
// neutral voip model and retailcrm.Bridge, so every provider works the
// same way.
//
// With no credentials it runs on the emulators of the PBX and of
// retailCRM, has the PBX look a caller up, plays an inbound and an
// outbound call, has the CRM click a number, change a status (where the PBX
// has a DND) and play a recording, prints what the CRM received and exits,
// non-zero if anything expected did not arrive:
//
//	go run ./examples/bridge                      # Gravitel, webhooks
//	go run ./examples/bridge -provider phonet     # Phonet, live sockets
//	go run ./examples/bridge -provider phonet-webhook
//	go run ./examples/bridge -provider newtel     # New-Tel, webhooks
//	go run ./examples/bridge -provider webitel    # Webitel, a socket per operator
//
// For real accounts set RETAILCRM_URL (https://<account>.retailcrm.ru),
// RETAILCRM_API_KEY (a key with the telephony and integration scopes),
// RETAILCRM_CLIENT_ID (the module's clientId: long and random, it guards
// the callbacks) and BRIDGE_PUBLIC_URL (where retailCRM and the PBX reach
// this server), and the PBX's credentials:
//
//   - gravitel: GRAVITEL_ENDPOINT, GRAVITEL_TOKEN, and GRAVITEL_CRM_TOKEN
//     (the «Ключ для авторизации в CRM»); the cabinet's CRM URL is
//     BRIDGE_PUBLIC_URL/pbx/webhook;
//   - phonet (sockets): PHONET_DOMAIN, PHONET_API_KEY, and
//     PHONET_SUBSCRIBERS (extensions or emails, comma-separated; default
//     every user);
//   - phonet-webhook: PHONET_DOMAIN, PHONET_API_KEY and PHONET_WEBHOOK_TOKEN;
//     the cabinet's URL is BRIDGE_PUBLIC_URL/pbx/webhook?token=…;
//   - newtel: NEWTEL_ACCESS_KEY, NEWTEL_SIGN_KEY and NEWTEL_WEBHOOK_KEY (the
//     «Ключ для подписи данных»); the receiver is BRIDGE_PUBLIC_URL/pbx/webhook.
//   - webitel: WEBITEL_URL (the tenant, https://cloud.webitel.com; the
//     article's …/api/ works too) and WEBITEL_TOKEN, the integration token
//     the bridge uses for the users, the click-to-call, the history and
//     the recordings (its user needs the permissions to see every
//     operator's calls, their numbers and recordings). An engine socket
//     carries its own user's calls only: WEBITEL_TOKENS, the operators'
//     tokens comma-separated, opens one socket each (default: the socket
//     of WEBITEL_TOKEN alone). A token refused at the start stops the
//     bridge; one revoked later stops its socket only. Webitel has agent
//     status, not DND: changeUserStatusUrl is not registered.
//
// The flags, each with its environment variable (flags win):
//
//	-provider  BRIDGE_PROVIDER  gravitel | phonet | phonet-webhook | newtel | webitel (default gravitel)
//	-listen    BRIDGE_LISTEN    address to serve on (default 127.0.0.1:8080; the emulated run takes a free port)
//	-public    BRIDGE_PUBLIC_URL
//	-module    RETAILCRM_MODULE the module's code (default pbxkit-bridge)
//	-users     BRIDGE_USERS     PBX extension or email = CRM user id, comma-separated: 101=1,ann@example.com=2
//	-flush     BRIDGE_FLUSH     how often finished calls are uploaded (default 10s)
//	-v         BRIDGE_VERBOSE   log at Debug
//
// Secrets (keys, tokens, the clientId) are read from the environment only,
// never from flags, which other users of the machine can see.
//
// A real bridge serves until interrupted, then uploads what is left.
// Expose only /retailcrm/ and /pbx/ of it.
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
	"strconv"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/retailcrm"
	"github.com/pbxkit/pbxkit/voip"
)

// config is what the flags and the environment say.
type config struct {
	provider, listen, public, module string
	users                            string
	flush                            time.Duration
	verbose                          bool
}

func main() {
	log.SetFlags(0)
	cfg, err := parseConfig(os.Args[1:], os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if os.Getenv("RETAILCRM_URL") != "" || os.Getenv("RETAILCRM_API_KEY") != "" {
		err = runReal(ctx, cfg, os.Getenv)
	} else {
		err = runEmulated(ctx, cfg, os.Stdout, os.Stderr)
	}
	if err != nil {
		log.Fatal(err)
	}
}

func parseConfig(args []string, env func(string) string) (config, error) {
	def := func(name, fallback string) string {
		if v := env(name); v != "" {
			return v
		}
		return fallback
	}
	var c config
	fs := flag.NewFlagSet("bridge", flag.ContinueOnError)
	fs.StringVar(&c.provider, "provider", def("BRIDGE_PROVIDER", "gravitel"), "the PBX: "+strings.Join(providerNames(), ", "))
	fs.StringVar(&c.listen, "listen", def("BRIDGE_LISTEN", "127.0.0.1:8080"), "address to serve on")
	fs.StringVar(&c.public, "public", env("BRIDGE_PUBLIC_URL"), "public base URL of this server")
	fs.StringVar(&c.module, "module", def("RETAILCRM_MODULE", "pbxkit-bridge"), "the module's code")
	fs.StringVar(&c.users, "users", env("BRIDGE_USERS"), "PBX extension or email = CRM user id, comma-separated")
	flush, err := time.ParseDuration(def("BRIDGE_FLUSH", "10s"))
	if err != nil {
		return c, fmt.Errorf("BRIDGE_FLUSH: %w", err)
	}
	fs.DurationVar(&c.flush, "flush", flush, "how often finished calls are uploaded")
	verbose, _ := strconv.ParseBool(env("BRIDGE_VERBOSE"))
	fs.BoolVar(&c.verbose, "v", verbose, "log at Debug")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if _, ok := providers[c.provider]; !ok {
		return c, fmt.Errorf("unknown provider %q: want one of %s", c.provider, strings.Join(providerNames(), ", "))
	}
	if c.flush <= 0 {
		return c, errors.New("-flush must be above 0")
	}
	return c, nil
}

// userMap reads "101=1,ann@example.com=2": extensions and emails to CRM
// user ids.
func userMap(s string) (byExt, byEmail map[string]int64, err error) {
	byExt, byEmail = map[string]int64{}, map[string]int64{}
	for pair := range strings.SplitSeq(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if !ok || err != nil || id <= 0 || strings.TrimSpace(k) == "" {
			return nil, nil, fmt.Errorf("users: %q: want extension=userId or email=userId", pair)
		}
		if k = strings.TrimSpace(k); strings.Contains(k, "@") {
			byEmail[k] = id
		} else {
			byExt[k] = id
		}
	}
	return byExt, byEmail, nil
}

// userOf maps a member by extension first, by email next.
func userOf(s string) (func(m voip.Member) (int64, bool), []retailcrm.AdditionalCode, error) {
	byExt, byEmail, err := userMap(s)
	if err != nil {
		return nil, nil, err
	}
	ext, email := retailcrm.UsersByExt(byExt), retailcrm.UsersByEmail(byEmail)
	var codes []retailcrm.AdditionalCode // for a PBX that cannot list its members
	for k, id := range byExt {
		codes = append(codes, retailcrm.AdditionalCode{UserID: id, Code: k})
	}
	return func(m voip.Member) (int64, bool) {
		if id, ok := ext(m); ok {
			return id, true
		}
		return email(m)
	}, codes, nil
}

// newLogger logs to w, at Debug when verbose.
func newLogger(w io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// runReal bridges real accounts until ctx ends.
func runReal(ctx context.Context, cfg config, env func(string) string) error {
	crmURL, key, clientID := env("RETAILCRM_URL"), env("RETAILCRM_API_KEY"), env("RETAILCRM_CLIENT_ID")
	if crmURL == "" || key == "" || clientID == "" || cfg.public == "" {
		return errors.New("a real bridge needs RETAILCRM_URL, RETAILCRM_API_KEY, RETAILCRM_CLIENT_ID and BRIDGE_PUBLIC_URL")
	}
	logger := newLogger(os.Stderr, cfg.verbose)
	crm, err := retailcrm.New(crmURL, key, retailcrm.WithLogger(logger))
	if err != nil {
		return err
	}
	p, err := providers[cfg.provider].real(ctx, env, logger)
	if err != nil {
		return fmt.Errorf("%s: %w", cfg.provider, err)
	}
	defer p.close()
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return err
	}
	return serveBridge(ctx, bridgeConfig{
		crm: crm, pbx: p, listener: ln, public: strings.TrimRight(cfg.public, "/"),
		module: cfg.module, clientID: clientID, users: cfg.users, flush: cfg.flush, logger: logger,
	}, nil)
}

// serveBridge wires the bridge, registers the module, serves the callbacks
// and the PBX's webhooks on listener, and feeds a socket source, until
// ctx ends; then it uploads what is left. ready, when not nil, runs once
// everything is up, and its error ends the bridge.
func serveBridge(ctx context.Context, bc bridgeConfig, ready func(ctx context.Context, b *retailcrm.Bridge) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	b := &retailcrm.Bridge{
		CRM: bc.crm, PBX: bc.pbx.provider, RecordURL: bc.public + recordPath,
		OpenRecording: bc.pbx.openRecording, SetDND: bc.pbx.setDND, Finished: bc.pbx.finished,
		Logger: bc.logger,
	}
	userOf, codes, err := userOf(bc.users)
	if err != nil {
		return err
	}
	tel := &retailcrm.Telephony{
		MakeCallURL:         bc.public + makeCallPath,
		InputEventSupported: true, OutputEventSupported: true, HangupEventSupported: true,
		AdditionalCodes: codes,
	}
	if b.SetDND != nil { // else retailCRM is not told to call what is not served
		tel.ChangeUserStatusURL = bc.public + statusPath
	}
	info, err := b.Register(ctx, bc.module, retailcrm.IntegrationModule{
		IntegrationCode: bc.module, Name: "pbxkit bridge (" + bc.pbx.name + ")", ClientID: bc.clientID,
		BaseURL: bc.public, Active: true, Telephony: tel,
	}, userOf)
	if err != nil {
		return fmt.Errorf("registering the module: %w", err)
	}
	if len(info.NotExistUserIDs) > 0 {
		bc.logger.Warn("users unknown to the CRM", "ids", info.NotExistUserIDs)
	}

	callbacks, err := retailcrm.NewCallbackHandler(b.Callbacks(bc.clientID))
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle(callbackPrefix, callbacks)
	if bc.pbx.webhook != nil {
		h, err := bc.pbx.webhook(b.Update, b.Caller)
		if err != nil {
			return err
		}
		mux.Handle(webhookPath, h)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(bc.listener) }()
	defer func() {
		sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
		<-served
	}()

	consumed := make(chan error, 1)
	if bc.pbx.source != nil {
		src, err := bc.pbx.source(ctx)
		if err != nil {
			return err
		}
		defer src.Close()
		go func() { consumed <- b.Consume(ctx, src) }()
	}
	flushed := make(chan struct{})
	go func() { defer close(flushed); b.FlushEvery(ctx, bc.flush) }()
	defer func() {
		cancel()
		<-flushed
		b.Wait() // the records still being looked up join the last upload
		fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer fcancel()
		if _, err := b.Flush(fctx); err != nil { // each call given up is logged
			bc.logger.Error("last upload", "err", err)
		}
	}()
	bc.logger.Info("bridge up", "provider", bc.pbx.name, "listen", bc.listener.Addr().String(), "public", bc.public)

	if ready != nil {
		return ready(ctx, b)
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-served:
		return err
	case err := <-consumed:
		if err == nil { // ctx ended
			return nil
		}
		return fmt.Errorf("the PBX's socket stopped: %w", err)
	}
}

// The bridge's paths: the callbacks of retailCRM under one prefix, the
// PBX's webhooks under another.
const (
	callbackPrefix = "/retailcrm/"
	makeCallPath   = callbackPrefix + "make-call"
	statusPath     = callbackPrefix + "status"
	recordPath     = callbackPrefix + "record"
	webhookPath    = "/pbx/webhook"
)

// bridgeConfig is what serveBridge needs.
type bridgeConfig struct {
	crm      *retailcrm.Client
	pbx      *pbx
	listener net.Listener
	public   string
	module   string
	clientID string
	users    string
	flush    time.Duration
	logger   *slog.Logger
}
