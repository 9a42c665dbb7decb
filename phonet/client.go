package phonet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/internal/redact"
	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/internal/wsstream"
)

// Vendor is the vendor name in errors, logs and voip values.
const Vendor = "phonet"

// Client talks to one Phonet tenant: its REST API, its recordings and its
// live socket. It is safe for concurrent use.
type Client struct {
	domain string // the tenant host, sent to the API as such
	apiKey string
	base   *url.URL // scheme and host the requests go to
	red    *redact.Redactor
	log    *slog.Logger
	http   *http.Client // never follows redirects: a redirect is the session's end
	api    *rest.Client // JSON endpoints
	media  *rest.Client // recordings: an HTML page is a refusal there
	sess   session
	pacer  *wsstream.Pacer // paces the dials of every socket of the client
}

// Option configures a Client. Options validate their input and return an
// error instead of leaving a half-configured client.
type Option func(*options) error

type options struct {
	baseURL    string
	httpClient *http.Client
	logger     *slog.Logger
	retries    rest.Retries
	pacer      *wsstream.Pacer
}

// WithBaseURL sends every request (REST, recordings and the socket) to the
// scheme and host of base: for emulators and proxies. Default
// https://{domain}, the tenant host given to New. The domain is still sent
// to the API as the tenant's name.
func WithBaseURL(base string) Option {
	return func(o *options) error {
		u, err := url.Parse(strings.TrimSpace(base))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("phonet: WithBaseURL: %q is not an absolute http(s) URL", redact.New().URLString(base))
		}
		o.baseURL = u.Scheme + "://" + u.Host
		return nil
	}
}

// WithHTTPClient sends requests through c. Its Timeout bounds each attempt;
// ctx bounds the whole call, retries included. The client is copied, never
// modified; redirects are never followed, because Phonet redirects an
// expired session to a login page. Default: a client with a 30 s timeout
// per attempt over http.DefaultTransport. Nil is an error.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) error {
		if c == nil {
			return errors.New("phonet: WithHTTPClient: nil client")
		}
		o.httpClient = c
		return nil
	}
}

// WithLogger logs one line per attempt and per connection change to l,
// redacted. Default silent; nil is silent too.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		o.logger = l
		return nil
	}
}

// WithRetries sets how reads are retried: max retries after the first
// attempt (0 disables them). Every wait lies between minWait and maxWait:
// the n-th retry waits a random time between half of and the whole of
// minWait·2ⁿ, capped at maxWait (so the first waits minWait to 2·minWait);
// a Retry-After on 429 or 503 is honoured within the same bounds.
// Default: 3 retries, waiting 500 ms to 15 s. A negative max, a minWait of
// 0 or less, or a maxWait below minWait is an error. A request that starts
// a call is never retried once the Phonet may have seen it.
func WithRetries(max int, minWait, maxWait time.Duration) Option {
	return func(o *options) error {
		r, err := rest.NewRetries(max, minWait, maxWait)
		if err != nil {
			return fmt.Errorf("phonet: %w", err)
		}
		o.retries = r
		return nil
	}
}

// WithDialRate caps the client's socket connection attempts, first ones
// and reconnects, of Subscribe and Watch alike, at perSecond with bursts of
// burst, however many sockets there are. By default the rate scales with
// the client's sockets: n of them may dial max(100, n/12) times a second,
// with bursts of a tenth of that, so that after a server restart 10,000
// sockets are back in about 12 s with under a tenth of them in any one
// second, and a server that stays down sees at most one attempt per socket
// every 12 s. Waiting for a turn never counts against a connection
// attempt's timeout.
func WithDialRate(perSecond float64, burst int) Option {
	return func(o *options) error {
		p, err := wsstream.NewFixedPacer(perSecond, burst)
		if err != nil {
			return fmt.Errorf("phonet: WithDialRate(%v, %d): both must be positive", perSecond, burst)
		}
		o.pacer = p
		return nil
	}
}

// New returns a client for the tenant host domain ("qwerty.phonet.com.ua",
// the cabinet's "Phonet домен") with its API key ("Phonet ApiKey"). Nothing
// is sent until the first call: the session is opened lazily.
func New(domain, apiKey string, opts ...Option) (*Client, error) {
	red := redact.New(apiKey)
	domain = strings.TrimSpace(domain)
	if !validHost(domain) {
		return nil, fmt.Errorf("phonet: invalid domain %q: want the tenant host, such as qwerty.phonet.com.ua", red.String(domain))
	}
	if strings.TrimSpace(apiKey) == "" {
		return nil, errors.New("phonet: empty apiKey")
	}
	o := options{baseURL: "https://" + domain}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	c := &Client{domain: domain, apiKey: apiKey, red: red, log: o.logger, pacer: o.pacer}
	if c.pacer == nil {
		c.pacer = wsstream.NewPacer()
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.base, _ = url.Parse(o.baseURL) // validated by WithBaseURL or built from a valid host
	c.http = rest.NoRedirects(o.httpClient)
	cfg := rest.Config{
		Vendor:     Vendor,
		BaseURL:    o.baseURL,
		HTTPClient: c.http,
		Logger:     o.logger,
		Redactor:   red,
		Sign:       c.sign,
		Check:      checkAPI,
	}
	o.retries.Apply(&cfg)
	var err error
	if c.api, err = rest.New(cfg); err != nil {
		return nil, fmt.Errorf("phonet: %w", err)
	}
	cfg.Check = checkMedia
	if c.media, err = rest.New(cfg); err != nil {
		return nil, fmt.Errorf("phonet: %w", err)
	}
	return c, nil
}

// Domain returns the tenant host the client was built for.
func (c *Client) Domain() string { return c.domain }

// validHost accepts a bare host name, optionally with a port: no scheme, no
// path, no user info.
func validHost(h string) bool {
	if h == "" || strings.ContainsAny(h, "/?#@ \t") {
		return false
	}
	u, err := url.Parse("https://" + h)
	return err == nil && u.Host == h && u.Hostname() != ""
}

// sign sets the session cookie on every attempt, so that a retry after a
// re-authorization carries the new session. The authorize call and the
// first, cookie-less try of a recording go without it.
func (c *Client) sign(req *http.Request, _ []byte) error {
	if withoutCookie(req.Context()) || req.URL.Path == pathAuthorize {
		return nil
	}
	if id := c.sess.cookie(); id != "" {
		req.AddCookie(&http.Cookie{Name: cookieName, Value: id})
	}
	return nil
}

type noCookieKey struct{}

// noCookie marks a request to be sent without the session cookie.
func noCookie(ctx context.Context) context.Context {
	return context.WithValue(ctx, noCookieKey{}, true)
}

func withoutCookie(ctx context.Context) bool { v, _ := ctx.Value(noCookieKey{}).(bool); return v }

// do sends req with the session cookie, opening the session first if need
// be. When Phonet refuses the session (401, 403, a redirect to its login
// page) it re-authorizes once, shared by every request that saw the same
// refusal, and repeats req once: a refused request was not processed, so
// even MakeCall may be repeated then.
func (c *Client) do(ctx context.Context, req *rest.Request) (*rest.Response, error) {
	gen, err := c.sess.ensure(ctx, c.authorize)
	if err != nil {
		return nil, err
	}
	resp, err := c.api.Do(ctx, req)
	if err == nil || !refused(err) {
		return resp, err
	}
	c.log.InfoContext(ctx, "phonet: session refused, authorizing again", "path", req.Path)
	if err := c.sess.renew(ctx, gen, c.authorize); err != nil {
		return nil, err
	}
	return c.api.Do(ctx, req)
}
