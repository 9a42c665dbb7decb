package retailcrm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/pbxkit/pbxkit/internal/redact"
	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/voip"
)

// Vendor is the vendor name in errors, logs and voip values.
const Vendor = "retailcrm"

// MaxCallsPerUpload is the most calls retailCRM takes in one
// telephony/calls/upload request. UploadCalls sends longer lists in chunks
// of this size.
const MaxCallsPerUpload = 50

// The default client-side rate limits, those of the official Go client
// (api-client-go rate.go): requests per second for one API key, and for the
// paths under /telephony.
const (
	DefaultRate          = 10
	DefaultTelephonyRate = 40
)

// apiPrefix is where API version 5 lives under an account's URL.
const apiPrefix = "/api/v5/"

// Client calls one retailCRM account's API v5 with one API key. It is safe
// for concurrent use. Each Client has its own rate limiters: programs that
// share a key should share a Client.
type Client struct {
	general   *rest.Client // integration-modules/…: DefaultRate
	telephony *rest.Client // telephony/…: DefaultTelephonyRate
	loc       *time.Location
	retries   retryPolicy // of the requests the pipeline does not repeat
}

// retryPolicy is what SendCallEvent needs of WithRetries to resend an event
// refused by a rate limit, which the pipeline does not resend by itself.
type retryPolicy struct {
	max              int
	waitMin, waitMax time.Duration
}

// Option configures a Client. Options validate their input and return an
// error instead of leaving a half-configured client.
type Option func(*options) error

type options struct {
	httpClient              *http.Client
	logger                  *slog.Logger
	retries                 rest.Retries
	policy                  retryPolicy
	loc                     *time.Location
	generalRate, telephRate float64
}

// WithHTTPClient sends requests through c. Its Timeout bounds each attempt;
// ctx bounds the whole call, retries and rate-limit waits included.
// Redirects are never followed, whatever c.CheckRedirect says: a redirect is
// an error naming its Location. Default: a client with a 30-second timeout
// per attempt over http.DefaultTransport. Nil is an error.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) error {
		if c == nil {
			return errors.New("retailcrm: WithHTTPClient: nil client")
		}
		o.httpClient = c
		return nil
	}
}

// WithLogger logs to l, redacted (the API key and every module clientId
// never appear): one line per attempt at Debug, request body included;
// retries at Warn. Default: silent; nil is silent too.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		o.logger = l
		return nil
	}
}

// WithRetries sets how requests are retried: max retries after the first
// attempt (0 disables them). Every wait lies between minWait and maxWait:
// the n-th retry waits a random time between half of and the whole of
// minWait·2ⁿ, capped at maxWait; a Retry-After is honoured within the same
// bounds. Default: 3 retries, waiting 500 ms to 15 s. A negative max, a
// minWait of 0 or less, or a maxWait below minWait is an error.
//
// Reads and uploads (which retailCRM deduplicates on externalId) are
// retried on transport errors, 429, 502, 503 and 504. A call event is
// retried only when it surely was not processed: the connection was never
// made, or retailCRM refused it for its rate limit (429, or 503 "Rate limit
// exceeded").
func WithRetries(max int, minWait, maxWait time.Duration) Option {
	return func(o *options) error {
		r, err := rest.NewRetries(max, minWait, maxWait)
		if err != nil {
			return fmt.Errorf("retailcrm: %w", err)
		}
		o.retries = r
		o.policy = retryPolicy{max: max, waitMin: minWait, waitMax: maxWait}
		return nil
	}
}

// WithLocation sets the account's time zone (Settings → «Часовой пояс»),
// in which call dates are written: retailCRM's "2006-01-02 15:04:05" has no
// zone. Default: UTC+3, Moscow time, retailCRM's home zone; set it for
// accounts elsewhere. Nil is an error.
func WithLocation(loc *time.Location) Option {
	return func(o *options) error {
		if loc == nil {
			return errors.New("retailcrm: WithLocation: nil location")
		}
		o.loc = loc
		return nil
	}
}

// WithRateLimit sets the client-side limits, in requests per second: perSecond
// for every path, telephonyPerSecond for the paths under /telephony (call
// events, uploads, the manager lookup), each with a burst of a fifth of a
// second's requests (at least one). A request waits for its turn, within
// ctx. Default: DefaultRate (10) and DefaultTelephonyRate (40), retailCRM's
// published limits per key. math.Inf(1) turns a limit off; a value that is
// not positive, or NaN, is an error.
func WithRateLimit(perSecond, telephonyPerSecond float64) Option {
	return func(o *options) error {
		for _, r := range [...]float64{perSecond, telephonyPerSecond} {
			if !(r > 0) {
				return fmt.Errorf("retailcrm: WithRateLimit(%v, %v): want rates above 0", perSecond, telephonyPerSecond)
			}
		}
		o.generalRate, o.telephRate = perSecond, telephonyPerSecond
		return nil
	}
}

// defaultLocation is the zone of call dates unless WithLocation says
// otherwise: UTC+3, Moscow time, which has had no daylight saving since 2014.
// A fixed zone needs no time zone database on the host.
func defaultLocation() *time.Location { return time.FixedZone("MSK", 3*60*60) }

// New returns a client for the account at baseURL
// ("https://example.retailcrm.ru", with or without "/api/v5" and a trailing
// slash; a query is dropped), authenticated by apiKey, a key from Settings →
// Integration → API access keys with the telephony and integration scopes.
// The key is sent in the X-API-KEY header only.
//
// A base URL that is not http(s), has no host, or names another API version
// is an error, as is an empty key.
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	apiKey = strings.TrimSpace(apiKey)
	if apiKey == "" {
		return nil, errors.New("retailcrm: empty API key")
	}
	red := redact.New(apiKey)
	base, err := apiBase(baseURL)
	if err != nil {
		return nil, red.Error(err)
	}
	o := options{loc: defaultLocation(), generalRate: DefaultRate, telephRate: DefaultTelephonyRate,
		policy: retryPolicy{max: rest.DefaultRetryMax, waitMin: rest.DefaultRetryWaitMin, waitMax: rest.DefaultRetryWaitMax}}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	c := &Client{loc: o.loc, retries: o.policy}
	newRest := func(perSecond float64) (*rest.Client, error) {
		cfg := rest.Config{
			Vendor:     Vendor,
			BaseURL:    base,
			HTTPClient: o.httpClient,
			Logger:     o.logger,
			Redactor:   red,
			Limiter:    limiter(perSecond),
			Header:     http.Header{"X-Api-Key": {apiKey}, "Accept": {"application/json"}},
			Check:      checkResponse,
		}
		o.retries.Apply(&cfg)
		return rest.New(cfg)
	}
	if c.general, err = newRest(o.generalRate); err != nil {
		return nil, fmt.Errorf("retailcrm: %w", red.Error(err))
	}
	if c.telephony, err = newRest(o.telephRate); err != nil {
		return nil, fmt.Errorf("retailcrm: %w", red.Error(err))
	}
	return c, nil
}

// limiter is a token bucket of perSecond with a burst of a fifth of a
// second's worth, or nil for an infinite rate.
func limiter(perSecond float64) *rate.Limiter {
	if math.IsInf(perSecond, 1) {
		return nil
	}
	return rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond/5)))
}

// apiBase turns an account URL into the API v5 base: scheme and host, any
// path before /api kept, and "/api/v5/".
func apiBase(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("retailcrm: invalid base URL %q: want an http(s) URL such as https://example.retailcrm.ru", raw)
	}
	p := strings.TrimRight(u.Path, "/")
	switch i := strings.LastIndex(p, "/api"); {
	case strings.HasSuffix(p, "/api/v5"):
		p = strings.TrimSuffix(p, "/api/v5")
	case strings.HasSuffix(p, "/api"):
		p = strings.TrimSuffix(p, "/api")
	case i >= 0 && strings.HasPrefix(p[i:], "/api/v") && !strings.Contains(p[i+len("/api/"):], "/"):
		return "", fmt.Errorf("retailcrm: base URL %q names API version %s; this package speaks v5", u.Redacted(), p[i+len("/api/"):])
	}
	// A query is dropped: retailCRM takes none on every path, and one
	// pasted with the URL may hold the key, which goes in the header only.
	u.Path, u.RawPath, u.RawQuery, u.Fragment, u.RawFragment = p+apiPrefix, "", "", "", ""
	return u.String(), nil
}

// conceal hides a module's clientId from every later error and log line of
// both pipelines.
func (c *Client) conceal(secret string) {
	if secret = strings.TrimSpace(secret); secret != "" {
		c.general.Conceal(secret)
		c.telephony.Conceal(secret)
	}
}

// do sends req through the pipeline of its path and returns the response
// that passed checkResponse. An envelope error comes back with its whole
// message, errorMsg and every entry of errors, redacted.
func (c *Client) do(ctx context.Context, req *rest.Request) (*rest.Response, error) {
	rc := c.general
	if strings.HasPrefix(req.Path, "telephony/") {
		rc = c.telephony
	}
	resp, err := rc.Do(ctx, req)
	if err != nil {
		var f *apiFailure
		if errors.As(err, &f) {
			f.APIError.Message = rc.Redactor().String(f.full)
			if f.calls != nil {
				return nil, f // an upload's partial refusal: see uploadChunk
			}
			return nil, f.APIError
		}
		return nil, err
	}
	return resp, nil
}

// doOnce sends a request that must not be repeated once retailCRM may have
// processed it (a call event): the pipeline sends it at most once unless
// the connection was never made or it was answered 429, and here it is sent
// again only after a 503 "Rate limit exceeded", which retailCRM did not
// process, waiting as WithRetries says.
func (c *Client) doOnce(ctx context.Context, req *rest.Request) (*rest.Response, error) {
	req.Idempotency = rest.NotIdempotent
	for attempt := 0; ; attempt++ {
		resp, err := c.do(ctx, req)
		var e *voip.APIError
		if err == nil || !errors.Is(err, voip.ErrRateLimited) || !errors.As(err, &e) {
			return resp, err
		}
		// Refused for the rate limit: not processed, whatever the pipeline
		// guessed from a 5xx status. The pipeline resent a 429 itself.
		e.Ambiguous = false
		if e.StatusCode != http.StatusServiceUnavailable || attempt >= c.retries.max {
			return nil, err
		}
		t := time.NewTimer(c.retries.wait(attempt, e.RetryAfter))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// wait is the pause before retry n (from 0): minWait·2ⁿ capped at maxWait,
// or the server's Retry-After within the same bounds.
func (p retryPolicy) wait(n int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(max(retryAfter, p.waitMin), p.waitMax)
	}
	d := p.waitMax
	if n < 30 {
		if s := p.waitMin << n; s > 0 && s < p.waitMax {
			d = s
		}
	}
	return d
}

// argError is an argument of fn refused before anything was sent.
func argError(fn, arg string, err error) error {
	return &voip.ArgError{Vendor: Vendor, Func: fn, Arg: arg, Err: err}
}
