// Command newtel shows the New-Tel package end to end: the account balance,
// a click-to-call through voip.Provider, the PBX's webhooks of that call, a
// flash call and its callbackLink callback, and the WebPhone widget of the
// New-Tel article, its configuration fetched from the API and rendered into
// the article's HTML snippet. One local server plays the CRM: the widget
// page at /, the webhooks at /newtel/webhook, the callbacks at
// /newtel/callback.
//
// With no environment it runs on the in-process emulator (newteltest),
// which places the calls and posts their webhooks and callbacks; it
// fetches the page once from the local server, prints an excerpt and exits:
//
//	go run ./examples/newtel
//
// For a real account set NEWTEL_ACCESS_KEY and NEWTEL_SIGN_KEY (the API
// section of my.new-tel.net). It then prints the balance; it places a call
// only when NEWTEL_SRC (the operator's number or extension, which rings
// first) and NEWTEL_DST (the client) are set, since that rings real phones.
// It serves on NEWTEL_LISTEN (default 127.0.0.1:8080) until interrupted:
// the widget for extension NEWTEL_INTERNAL_NUMBER, the webhooks with
// NEWTEL_WEBHOOK_KEY (the cabinet's «Ключ для подписи данных»), and the
// callbacks with NEWTEL_CALLBACK_TOKEN (put it in your callbackLinks as
// ?token=…), each when set. Never serve the widget publicly: anyone who
// opens it can call through the account. Expose only /newtel/ (a tunnel or
// a reverse proxy) for New-Tel to reach.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/pbxkit/pbxkit/newtel"
	"github.com/pbxkit/pbxkit/newtel/newteltest"
	"github.com/pbxkit/pbxkit/voip"
)

func main() {
	log.SetFlags(0)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	if access, sign := os.Getenv("NEWTEL_ACCESS_KEY"), os.Getenv("NEWTEL_SIGN_KEY"); access != "" && sign != "" {
		err = runReal(ctx, os.Stdout, access, sign)
	} else {
		err = runEmulated(ctx, os.Stdout)
	}
	if err != nil {
		log.Fatal(err)
	}
}

func runEmulated(ctx context.Context, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	fmt.Fprintln(out, "New-Tel on the emulator (set NEWTEL_ACCESS_KEY and NEWTEL_SIGN_KEY for a real account)")
	const accessKey, signKey = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071", "f9e8d7c6b5a4938271605f4e3d2c1b0af9e8d7c6b5a49382"
	const webhookKey = "webhook-key-demo" // the cabinet's «Ключ для подписи данных»
	api := newteltest.NewServer(accessKey, signKey)
	defer api.Close()
	c, err := newtel.New(accessKey, signKey, newtel.WithBaseURL(api.BaseURL()), newtel.WithRequireSignature())
	if err != nil {
		return err
	}
	if err := printBalance(ctx, out, c); err != nil {
		return err
	}
	page, err := widgetPage(ctx, c, "100")
	if err != nil {
		return err
	}
	token := rand.Text() // the callbackLink's token: random, never logged
	crm, err := newCRM(out, page, webhookKey, token)
	if err != nil {
		return err
	}
	srv, addr, err := serve(crm, "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer srv.Close()
	base := "http://" + addr

	if err := clickToCall(ctx, out, c, "100", "+7 916 123-45-67"); err != nil {
		return err
	}
	// The PBX reports the call to the CRM: answered after 5 s, 95 s of talk.
	hooks := newteltest.Webhooks{URL: base + webhookPath, Key: webhookKey}
	if err := api.PlayOutbound(ctx, hooks, api.Calls()[0], 5*time.Second, 95*time.Second); err != nil {
		return fmt.Errorf("webhooks: %w", err)
	}

	fmt.Fprintln(out, "\nflash call to +7 908 123-45-67 with pin 4821")
	flash, err := c.StartPasswordCall(ctx, newtel.PasswordCallRequest{
		DstNumber: "+7 908 123-45-67", Pin: "4821", CallbackLink: base + callbackPath + "?token=" + token,
	})
	if err != nil {
		return fmt.Errorf("flash call: %w", err)
	}
	fmt.Fprintln(out, "call id", flash.CallID, "-", flash.Disposition())
	if err := api.Callback(ctx, nil, flash.CallID); err != nil {
		return fmt.Errorf("callback: %w", err)
	}

	// Prove that the page is served: fetch it once, as a browser would.
	got, err := fetch(ctx, base+"/")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nwidget page served on %s/ (%d bytes); the config line:\n", base, len(got))
	for _, line := range strings.Split(got, "\n") {
		if strings.Contains(line, "newtelWebrtcWidgetConfig") {
			// The config carries the operator's SIP password: never print it.
			line = sipPassword.ReplaceAllString(strings.TrimSpace(line), `"password":"***"`)
			fmt.Fprintln(out, "  "+excerpt(line, 160))
		}
	}
	return nil
}

func runReal(ctx context.Context, out io.Writer, access, sign string) error {
	c, err := realClient(access, sign, os.Stderr)
	if err != nil {
		return err
	}
	if err := printBalance(ctx, out, c); err != nil {
		return err
	}
	if src, dst := os.Getenv("NEWTEL_SRC"), os.Getenv("NEWTEL_DST"); src != "" && dst != "" {
		if err := clickToCall(ctx, out, c, src, dst); err != nil {
			return err
		}
	}
	ext, webhookKey, token := os.Getenv("NEWTEL_INTERNAL_NUMBER"), os.Getenv("NEWTEL_WEBHOOK_KEY"), os.Getenv("NEWTEL_CALLBACK_TOKEN")
	if ext == "" && webhookKey == "" && token == "" {
		return nil
	}
	var page []byte
	if ext != "" {
		if page, err = widgetPage(ctx, c, ext); err != nil {
			return err
		}
	}
	crm, err := newCRM(out, page, webhookKey, token)
	if err != nil {
		return err
	}
	listen := os.Getenv("NEWTEL_LISTEN")
	if listen == "" {
		listen = "127.0.0.1:8080"
	}
	srv, addr, err := serve(crm, listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nserving on http://%s/ — Ctrl-C to stop\n", addr)
	if ext != "" {
		fmt.Fprintf(out, "  the widget of extension %s at /\n", ext)
	}
	if webhookKey != "" {
		fmt.Fprintf(out, "  the PBX's webhooks at %s\n", webhookPath)
	}
	if token != "" {
		fmt.Fprintf(out, "  callbacks at %s?token=<NEWTEL_CALLBACK_TOKEN>\n", callbackPath)
	}
	<-ctx.Done()
	return srv.Close()
}

// The CRM's paths for what New-Tel posts.
const (
	webhookPath  = "/newtel/webhook"
	callbackPath = "/newtel/callback"
)

// newCRM is the CRM's side: the widget page at / when page is set, the
// PBX's webhooks when webhookKey is set, and the callbacks when token is
// set, each printed to out.
func newCRM(out io.Writer, page []byte, webhookKey, token string) (http.Handler, error) {
	p := &printer{out: out}
	mux := http.NewServeMux()
	if page != nil {
		mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write(page)
		})
	}
	// Refusals are logged, never with the key or the token.
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if webhookKey != "" {
		hooks, err := newtel.NewWebhookHandler(newtel.WebhookConfig{Key: webhookKey, Update: p.update, Other: p.other, Logger: logger})
		if err != nil {
			return nil, err
		}
		mux.Handle(webhookPath, hooks)
	}
	if token != "" {
		callbacks, err := newtel.NewCallbackHandler(newtel.CallbackConfig{Token: token, Callback: p.callback, Logger: logger})
		if err != nil {
			return nil, err
		}
		mux.Handle(callbackPath, callbacks)
	}
	return mux, nil
}

// printer prints what the handlers deliver, one delivery at a time.
type printer struct {
	mu  sync.Mutex
	out io.Writer
}

func (p *printer) update(_ context.Context, u voip.Update) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ev := u.Event; ev != nil {
		fmt.Fprintf(p.out, "webhook: %s %s call %s, client %s, extension %s, at %s\n",
			ev.Kind, ev.Direction, ev.CallID, ev.Client, ev.Ext, ev.At.Local().Format(time.TimeOnly))
	}
	if c := u.Call; c != nil {
		fmt.Fprintf(p.out, "  record: %s, %s long, %s of talk, recording %s\n", c.Disposition, c.Duration, c.Talk, c.RecordingURL)
	}
	return nil
}

func (p *printer) other(_ context.Context, w *newtel.Webhook) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.out, "webhook: %s of call %s\n", w.Name, w.CallID)
	return nil
}

func (p *printer) callback(_ context.Context, cb *newtel.Callback) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	// A CRM would now match cb.CallID against the flash calls it started.
	fmt.Fprintln(p.out, "callback for call", cb.CallID)
	return nil
}

// realClient is the client for a real account. Its warnings go to w: a key
// that is not 48 hex characters, and a response Signature header that does
// not verify (accepted, since the header is unconfirmed; a report of that
// line is how the guess gets checked against real traffic). Debug lines,
// which carry redacted requests, stay off.
func realClient(access, sign string, w io.Writer) (*newtel.Client, error) {
	logger := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return newtel.New(access, sign, newtel.WithLogger(logger))
}

func printBalance(ctx context.Context, out io.Writer, c *newtel.Client) error {
	st, err := c.CompanyState(ctx)
	if err != nil {
		return fmt.Errorf("balance: %w", err)
	}
	fmt.Fprintf(out, "\nbalance: %s %s (credit %s)\n", st.Balance, st.Currency, st.Credit)
	return nil
}

// clickToCall uses the voip.Provider side of the client, as a CRM would.
func clickToCall(ctx context.Context, out io.Writer, p voip.Provider, ext, phone string) error {
	fmt.Fprintf(out, "\nclick-to-call: ring %s, then dial %s\n", ext, phone)
	id, err := p.GenerateCall(ctx, ext, phone)
	if errors.Is(err, voip.ErrAmbiguous) {
		// Never retried: the call may be ringing already.
		return fmt.Errorf("the call may or may not have started: %w", err)
	}
	if err != nil {
		return fmt.Errorf("click-to-call: %w", err)
	}
	fmt.Fprintln(out, "call id", id)
	return nil
}

// pageTemplate is the WebPhone article's example page.
var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="ru">
<head>
<meta charset="utf-8">
<title>WebPhone</title>
<style>
.widget-container {
  background-color: #fff; border: 1px solid #ccc; border-radius: 5px;
  box-shadow: 0 0 10px rgba(0, 0, 0, 0.1);
  position: fixed; bottom: 20px; right: 20px; z-index: 9999;
}
</style>
</head>
<body>
{{.Snippet}}
<div class="widget-container">
  <div class="widget-header"><span>WebRTC виджет</span></div>
  <div class="widget-body"><p>Здесь будет содержимое виджета.</p></div>
</div>
</body>
</html>
`))

func widgetPage(ctx context.Context, c *newtel.Client, ext string) ([]byte, error) {
	cfg, err := c.WidgetConfig(ctx, ext)
	if err != nil {
		return nil, fmt.Errorf("widget config: %w", err)
	}
	snippet, err := newtel.WidgetSnippet(cfg)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	if err := pageTemplate.Execute(&b, struct{ Snippet template.HTML }{snippet}); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

// serve serves h on addr and returns the server and its address.
func serve(h http.Handler, addr string) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return srv, ln.Addr().String(), nil
}

func fetch(ctx context.Context, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return string(b), nil
}

// sipPassword finds the password member of the widget config.
var sipPassword = regexp.MustCompile(`"password"\s*:\s*"(?:[^"\\]|\\.)*"`)

func excerpt(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
