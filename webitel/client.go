package webitel

import (
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
const Vendor = "webitel"

// Client talks to one Webitel tenant: the REST API behind its /api gateway,
// the recordings of its storage service and its engine socket. It is safe
// for concurrent use.
type Client struct {
	base  *url.URL // scheme, host and any path prefix, without /api
	token string
	red   *redact.Redactor
	log   *slog.Logger // never nil
	http  *http.Client // never follows redirects
	api   *rest.Client // base + /api
	// ranged is api for byte ranges of recordings: its check refuses a
	// whole file (200) where a part (206) was asked for, before a byte
	// reaches the caller's writer.
	ranged *rest.Client
	pacer  *wsstream.Pacer
}

// Option configures a Client. Options validate their input and return an
// error instead of leaving a half-configured client.
type Option func(*options) error

type options struct {
	httpClient *http.Client
	logger     *slog.Logger
	retries    rest.Retries
	pacer      *wsstream.Pacer
}

// WithHTTPClient sends requests through c. Its Timeout bounds each attempt;
// ctx bounds the whole call, retries included. The client is copied, never
// modified, and redirects are never followed. Default: a client with a 30 s
// timeout per attempt over http.DefaultTransport. Nil is an error.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) error {
		if c == nil {
			return errors.New("webitel: WithHTTPClient: nil client")
		}
		o.httpClient = c
		return nil
	}
}

// WithLogger logs one line per attempt and per socket change to l, with the
// token and session tokens redacted. Default silent; nil is silent too.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		o.logger = l
		return nil
	}
}

// WithRetries sets how reads are retried: max retries after the first
// attempt (0 disables them). Every wait lies between minWait and maxWait:
// the n-th retry waits a random time between half of and the whole of
// minWait·2ⁿ, capped at maxWait; a Retry-After on 429 or 503 is honoured
// within the same bounds. Default: 3 retries, waiting 500 ms to 15 s. A
// negative max, a minWait of 0 or less, or a maxWait below minWait is an
// error. A request that starts a call is never retried once Webitel may
// have seen it.
func WithRetries(max int, minWait, maxWait time.Duration) Option {
	return func(o *options) error {
		r, err := rest.NewRetries(max, minWait, maxWait)
		if err != nil {
			return fmt.Errorf("webitel: %w", err)
		}
		o.retries = r
		return nil
	}
}

// WithDialRate caps the client's socket connection attempts, first ones
// and reconnects, at perSecond with bursts of burst, however many sockets
// there are. By default the rate scales with the client's sockets: n of
// them may dial max(100, n/12) times a second, with bursts of a tenth of
// that. Waiting for a turn never counts against a connection attempt's
// timeout.
func WithDialRate(perSecond float64, burst int) Option {
	return func(o *options) error {
		p, err := wsstream.NewFixedPacer(perSecond, burst)
		if err != nil {
			return fmt.Errorf("webitel: WithDialRate(%v, %d): both must be positive", perSecond, burst)
		}
		o.pacer = p
		return nil
	}
}

// New returns a client for the tenant at baseURL with an access token (an
// integration token made for a user, or the session token [Login]
// returns). baseURL is the tenant's address, such as
// https://cloud.webitel.com; the REST endpoint the Webitel article gives,
// https://cloud.webitel.com/api/, is accepted too: a trailing /api and
// trailing slashes are dropped. Nothing is sent until the first call.
func New(baseURL, token string, opts ...Option) (*Client, error) {
	red := redact.New(token)
	base, err := parseBaseURL(baseURL)
	if err != nil {
		return nil, fmt.Errorf("webitel: %w", red.Error(err))
	}
	if strings.TrimSpace(token) == "" {
		return nil, errors.New("webitel: empty token")
	}
	o, err := readOptions(opts)
	if err != nil {
		return nil, err
	}
	c := &Client{base: base, token: token, red: red, log: o.logger, pacer: o.pacer}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.pacer == nil {
		c.pacer = wsstream.NewPacer()
	}
	c.http = rest.NoRedirects(o.httpClient)
	hdr := http.Header{headerToken: {token}}
	if c.api, err = newREST(base, red, &o, c.http, hdr, checkResponse); err != nil {
		return nil, err
	}
	if c.ranged, err = newREST(base, red, &o, c.http, hdr, checkPartial); err != nil {
		return nil, err
	}
	return c, nil
}

// newREST builds a pipeline rooted at base + /api.
func newREST(base *url.URL, red *redact.Redactor, o *options, hc *http.Client, hdr http.Header, check func(*rest.Response) error) (*rest.Client, error) {
	cfg := rest.Config{
		Vendor:     Vendor,
		BaseURL:    base.String() + "/api",
		HTTPClient: hc,
		Logger:     o.logger,
		Redactor:   red,
		Header:     hdr,
		Check:      check,
	}
	o.retries.Apply(&cfg)
	api, err := rest.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("webitel: %w", err)
	}
	return api, nil
}

// readOptions applies opts in order; the first refused one is the error.
func readOptions(opts []Option) (options, error) {
	var o options
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}

// conceal hides a secret learned at run time (a password sent, a token
// made) from every later error and log line of the client's pipelines.
func (c *Client) conceal(secret string) {
	c.api.Conceal(secret)
	c.ranged.Conceal(secret)
}

// headerToken carries the access token on every REST request and on the
// storage service's downloads.
const headerToken = "X-Webitel-Access"

// BaseURL returns the tenant's address as New understood it, without /api
// and without a trailing slash.
func (c *Client) BaseURL() string { return c.base.String() }

// parseBaseURL reads a tenant address: an absolute http(s) URL with a host
// and no query or fragment. A trailing /api (the REST endpoint as the
// Webitel article gives it) and trailing slashes are dropped, so that
// "https://h", "https://h/", "https://h/api" and "https://h/api/" are one
// tenant; a path before them (a tenant behind a prefix) is kept.
func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid base URL %q: want the tenant's address, such as https://cloud.webitel.com", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("invalid base URL %q: no user, query or fragment", raw)
	}
	p := strings.TrimRight(u.Path, "/")
	p = strings.TrimSuffix(p, "/api")
	u.Path, u.RawPath = strings.TrimRight(p, "/"), ""
	return u, nil
}

// socketURL is the engine socket behind the gateway: ws(s)://host/ws/websocket.
func (c *Client) socketURL() string {
	u := *c.base
	if u.Scheme == "https" {
		u.Scheme = "wss"
	} else {
		u.Scheme = "ws"
	}
	u.Path += "/ws/websocket"
	return u.String()
}
