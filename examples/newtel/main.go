// Command newtel shows the New-Tel package end to end: the account balance,
// a click-to-call, and the WebPhone widget of the New-Tel article, its
// configuration fetched from the API and rendered into the article's HTML
// snippet, served on localhost.
//
// With no environment it runs on the in-process emulator (newteltest),
// fetches the page once from its own localhost server, prints an excerpt
// and exits:
//
//	go run ./examples/newtel
//
// For a real account set NEWTEL_ACCESS_KEY and NEWTEL_SIGN_KEY (the API
// section of my.new-tel.net). It then prints the balance; it places a call
// only when NEWTEL_SRC (the operator's number or extension, which rings
// first) and NEWTEL_DST (the client) are set, since that rings real phones;
// and with NEWTEL_INTERNAL_NUMBER it serves the widget for that extension on
// NEWTEL_LISTEN (default 127.0.0.1:8080) until interrupted. Never serve the
// widget publicly: anyone who opens it can call through the account.
package main

import (
	"context"
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
		err = runReal(ctx, access, sign)
	} else {
		err = runEmulated(ctx)
	}
	if err != nil {
		log.Fatal(err)
	}
}

func runEmulated(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	fmt.Println("New-Tel on the emulator (set NEWTEL_ACCESS_KEY and NEWTEL_SIGN_KEY for a real account)")
	const accessKey, signKey = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071", "f9e8d7c6b5a4938271605f4e3d2c1b0af9e8d7c6b5a49382"
	api := newteltest.NewServer(accessKey, signKey)
	defer api.Close()
	c, err := newtel.New(accessKey, signKey, newtel.WithBaseURL(api.BaseURL()), newtel.WithRequireSignature())
	if err != nil {
		return err
	}
	if err := printBalance(ctx, c); err != nil {
		return err
	}
	if err := clickToCall(ctx, c, "100", "+7 916 123-45-67"); err != nil {
		return err
	}

	page, err := widgetPage(ctx, c, "100")
	if err != nil {
		return err
	}
	srv, addr, err := serve(page, "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer srv.Close()
	// Prove that the page is served: fetch it once, as a browser would.
	got, err := fetch(ctx, "http://"+addr+"/")
	if err != nil {
		return err
	}
	fmt.Printf("\nwidget page served on http://%s/ (%d bytes); the config line:\n", addr, len(got))
	for _, line := range strings.Split(got, "\n") {
		if strings.Contains(line, "newtelWebrtcWidgetConfig") {
			// The config carries the operator's SIP password: never print it.
			line = sipPassword.ReplaceAllString(strings.TrimSpace(line), `"password":"***"`)
			fmt.Println("  " + excerpt(line, 160))
		}
	}
	return nil
}

func runReal(ctx context.Context, access, sign string) error {
	c, err := realClient(access, sign, os.Stderr)
	if err != nil {
		return err
	}
	if err := printBalance(ctx, c); err != nil {
		return err
	}
	if src, dst := os.Getenv("NEWTEL_SRC"), os.Getenv("NEWTEL_DST"); src != "" && dst != "" {
		if err := clickToCall(ctx, c, src, dst); err != nil {
			return err
		}
	}
	ext := os.Getenv("NEWTEL_INTERNAL_NUMBER")
	if ext == "" {
		return nil
	}
	page, err := widgetPage(ctx, c, ext)
	if err != nil {
		return err
	}
	listen := os.Getenv("NEWTEL_LISTEN")
	if listen == "" {
		listen = "127.0.0.1:8080"
	}
	srv, addr, err := serve(page, listen)
	if err != nil {
		return err
	}
	fmt.Printf("\nthe widget of extension %s is on http://%s/ — Ctrl-C to stop\n", ext, addr)
	<-ctx.Done()
	return srv.Close()
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

func printBalance(ctx context.Context, c *newtel.Client) error {
	st, err := c.CompanyState(ctx)
	if err != nil {
		return fmt.Errorf("balance: %w", err)
	}
	fmt.Printf("\nbalance: %s %s (credit %s)\n", st.Balance, st.Currency, st.Credit)
	return nil
}

// clickToCall uses the voip.Provider side of the client, as a CRM would.
func clickToCall(ctx context.Context, p voip.Provider, ext, phone string) error {
	fmt.Printf("\nclick-to-call: ring %s, then dial %s\n", ext, phone)
	id, err := p.GenerateCall(ctx, ext, phone)
	if errors.Is(err, voip.ErrAmbiguous) {
		// Never retried: the call may be ringing already.
		return fmt.Errorf("the call may or may not have started: %w", err)
	}
	if err != nil {
		return fmt.Errorf("click-to-call: %w", err)
	}
	fmt.Println("call id", id)
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

// serve serves page at / on addr and returns the server and its address.
func serve(page []byte, addr string) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
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
