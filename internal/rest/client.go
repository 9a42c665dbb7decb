package rest

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/time/rate"

	"github.com/pbxkit/pbxkit/internal/redact"
)

// Defaults applied by [New] to a zero Config field.
const (
	DefaultTimeout      = 30 * time.Second // per attempt
	DefaultRetryMax     = 3
	DefaultRetryWaitMin = 500 * time.Millisecond
	DefaultRetryWaitMax = 15 * time.Second
	DefaultMaxBody      = 32 << 20
)

// Config is what a vendor client hands to [New].
type Config struct {
	// Vendor names the vendor in errors and logs: "gravitel".
	Vendor string
	// BaseURL is the absolute http(s) URL request paths are relative to.
	BaseURL string
	// HTTPClient sends each attempt. Its Timeout bounds one attempt and its
	// Transport does the I/O; the client itself is not modified. Nil means a
	// client with DefaultTimeout over http.DefaultTransport.
	HTTPClient *http.Client
	// Logger receives one line per attempt; nil is silent.
	Logger *slog.Logger
	// Redactor hides the vendor's secrets in errors and logs. Nil still hides
	// secret-looking query parameters and headers.
	Redactor *redact.Redactor
	// Limiter, when set, is waited on before every attempt.
	Limiter *rate.Limiter
	// RetryMax is the number of retries after the first attempt. Zero means
	// DefaultRetryMax; a negative value disables retries.
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the wait between attempts, and
	// RetryWaitMax caps Retry-After.
	RetryWaitMin, RetryWaitMax time.Duration
	// MaxBody caps a response body; longer bodies are an error.
	MaxBody int64
	// UserAgent replaces the default "pbxkit/<version>".
	UserAgent string
	// Header is added to every request.
	Header http.Header
	// Sign runs on every attempt, after the headers are set, with the exact
	// body that is sent. It may set headers or query parameters on req.
	Sign func(req *http.Request, body []byte) error
	// Check inspects every final response and returns an error for one that
	// failed, or nil. A returned *voip.APIError is completed with the status,
	// method, URL, request id and body excerpt. Nil means [CheckStatus].
	Check func(resp *Response) error
	// RequestIDHeader names the header carrying the vendor's request id.
	RequestIDHeader string
}

// Client sends requests through the pipeline. It is safe for concurrent use.
type Client struct {
	cfg       Config
	base      *url.URL
	retry     *retryablehttp.Client
	log       *slog.Logger
	red       atomic.Pointer[redact.Redactor] // swapped by Conceal
	userAgent []string                        // the header's value, shared by every request

	learnedMu sync.Mutex
	learned   []string // secrets learned at run time, newest last
}

// New validates cfg, applies the defaults and builds the pipeline.
func New(cfg Config) (*Client, error) {
	if cfg.Vendor == "" {
		return nil, errors.New("rest: Config.Vendor is empty")
	}
	base, err := parseBase(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.RetryWaitMin < 0, cfg.RetryWaitMax < 0:
		return nil, errors.New("rest: negative retry wait")
	case cfg.MaxBody < 0:
		return nil, errors.New("rest: negative MaxBody")
	}
	if cfg.RetryMax == 0 {
		cfg.RetryMax = DefaultRetryMax
	} else if cfg.RetryMax < 0 {
		cfg.RetryMax = 0
	}
	if cfg.RetryWaitMin == 0 {
		cfg.RetryWaitMin = DefaultRetryWaitMin
	}
	if cfg.RetryWaitMax == 0 {
		cfg.RetryWaitMax = DefaultRetryWaitMax
	}
	if cfg.RetryWaitMax < cfg.RetryWaitMin {
		return nil, fmt.Errorf("rest: RetryWaitMax %v is below RetryWaitMin %v", cfg.RetryWaitMax, cfg.RetryWaitMin)
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = UserAgent
	}
	if cfg.Check == nil {
		cfg.Check = CheckStatus
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{cfg: cfg, base: base, log: log.With("vendor", cfg.Vendor), userAgent: []string{cfg.UserAgent}}
	c.red.Store(cfg.Redactor)

	// Every field is set on purpose: retryablehttp's defaults log to stderr,
	// retry POSTs, cap nothing and drop the last response. The HTTP client
	// keeps the caller's Transport: see prepare.
	c.retry = &retryablehttp.Client{
		HTTPClient:   NoRedirects(cfg.HTTPClient),
		Logger:       nil, // we log ourselves, redacted; its own lines would leak query tokens
		RetryWaitMin: cfg.RetryWaitMin,
		RetryWaitMax: cfg.RetryWaitMax,
		RetryMax:     cfg.RetryMax,
		CheckRetry:   c.checkRetry,
		Backoff:      backoff,
		ErrorHandler: keepLastResponse,
		PrepareRetry: c.prepareRetry,
	}
	return c, nil
}

// Vendor returns the vendor name the client was built for.
func (c *Client) Vendor() string { return c.cfg.Vendor }

// BaseURL returns a copy of the base URL.
func (c *Client) BaseURL() *url.URL { u := *c.base; return &u }

// Redactor returns the client's redactor, with the secrets given to Conceal.
func (c *Client) Redactor() *redact.Redactor { return c.red.Load() }

// maxLearned is how many concealed secrets a client keeps: a session id
// is replaced now and then, and an error may still quote the one before.
const maxLearned = 4

// Conceal adds a secret learned at run time, such as a session id, to the
// ones hidden from every later error and log line. The last few are kept.
func (c *Client) Conceal(secret string) {
	c.learnedMu.Lock()
	defer c.learnedMu.Unlock()
	if slices.Contains(c.learned, secret) {
		return
	}
	c.learned = append(c.learned, secret)
	if len(c.learned) > maxLearned {
		c.learned = c.learned[len(c.learned)-maxLearned:]
	}
	c.red.Store(c.cfg.Redactor.With(c.learned...))
}

// Logger returns the client's logger, never nil.
func (c *Client) Logger() *slog.Logger { return c.log }

// NoRedirects returns a copy of c (nil: a client with DefaultTimeout) that
// hands a redirect back as the response instead of following it. The
// pipeline never follows one: Go would repeat a redirected POST as a bodiless
// GET (301, 302) or send its body, credentials included, to whatever host
// the Location names (307, 308). A 3xx reaches the vendor's Check instead,
// which knows what it means (a wrong tenant, an expired session).
func NoRedirects(c *http.Client) *http.Client {
	out := &http.Client{Timeout: DefaultTimeout}
	if c != nil {
		copied := *c
		out = &copied
	}
	out.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return out
}

// keepLastResponse hands the last response to the caller when there is one,
// so that the vendor's error body reaches its decoder instead of being
// drained away behind "giving up after N attempts".
func keepLastResponse(resp *http.Response, err error, _ int) (*http.Response, error) {
	if resp != nil {
		return resp, nil
	}
	return nil, err
}
