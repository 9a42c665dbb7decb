package newtel

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pbxkit/pbxkit/internal/redact"
	"github.com/pbxkit/pbxkit/internal/rest"
)

// Vendor is the vendor name in errors, logs and voip values.
const Vendor = "newtel"

// DefaultBaseURL is New-Tel's API. Methods are paths under it.
const DefaultBaseURL = "https://api.new-tel.net/"

// Client calls the signed New-Tel API with one pair of keys. It is safe for
// concurrent use. New-Tel issues keys per cabinet section (Call Password,
// the PBX API), so a program may need one Client per section.
type Client struct {
	rest       *rest.Client
	accessKey  string
	signKey    string
	now        func() time.Time
	signatures signaturePolicy
}

// signaturePolicy is what the client does with a response's Signature.
type signaturePolicy int8

const (
	signatureIfPresent signaturePolicy = iota // check it when sent: the default
	signatureRequired                         // WithRequireSignature
	signatureIgnored                          // WithoutSignatureCheck
)

// Option configures a Client. Options validate their input and return an
// error instead of leaving a half-configured client.
type Option func(*options) error

type options struct {
	baseURL    string
	httpClient *http.Client
	logger     *slog.Logger
	now        func() time.Time
	signatures signaturePolicy
	retries    rest.Retries
}

// WithBaseURL sends requests to a reseller's copy of the API or to an
// emulator (newteltest's BaseURL). Methods are resolved under its path.
// Default: DefaultBaseURL, https://api.new-tel.net/. An empty URL is an
// error.
func WithBaseURL(u string) Option {
	return func(o *options) error {
		if strings.TrimSpace(u) == "" {
			return errors.New("newtel: WithBaseURL: empty URL")
		}
		o.baseURL = u
		return nil
	}
}

// WithHTTPClient sends requests through c. Its Timeout bounds each attempt;
// ctx bounds the whole call, retries included. Redirects are never
// followed, whatever c's CheckRedirect: a signed POST is not repeated
// elsewhere. Default: a client with a 30-second timeout per attempt over
// http.DefaultTransport. Nil is an error.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) error {
		if c == nil {
			return errors.New("newtel: WithHTTPClient: nil client")
		}
		o.httpClient = c
		return nil
	}
}

// WithLogger logs to l, redacted: one line per attempt at Debug; retries,
// the key-format warnings of New and a response Signature that does not
// verify at Warn. Default: silent; nil is silent too.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		o.logger = l
		return nil
	}
}

// WithClock replaces the source of the tokens' time, read once per
// attempt: for tests, or to correct a clock known to be skewed. Default:
// time.Now. Nil is an error.
func WithClock(now func() time.Time) Option {
	return func(o *options) error {
		if now == nil {
			return errors.New("newtel: WithClock: nil clock")
		}
		o.now = now
		return nil
	}
}

// WithRequireSignature makes a response without a valid Signature header an
// error matching ErrBadSignature. By default a present header is checked, a
// mismatch only logged at Warn, and a missing one accepted. No public
// client has seen the header: turn this on only after checking that your
// account sends it.
func WithRequireSignature() Option {
	return func(o *options) error {
		o.signatures = signatureRequired
		return nil
	}
}

// WithoutSignatureCheck ignores the Signature header of responses, without
// the Warn line a mismatch logs by default: for accounts whose header this
// package does not read. The last of WithRequireSignature and
// WithoutSignatureCheck wins; with neither, a present header is checked and
// a mismatch logged.
func WithoutSignatureCheck() Option {
	return func(o *options) error {
		o.signatures = signatureIgnored
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
// a call is never retried once the New-Tel may have seen it.
func WithRetries(max int, minWait, maxWait time.Duration) Option {
	return func(o *options) error {
		r, err := rest.NewRetries(max, minWait, maxWait)
		if err != nil {
			return fmt.Errorf("newtel: %w", err)
		}
		o.retries = r
		return nil
	}
}

// New returns a client signing with accessKey («Ключ API для авторизации
// запросов») and signKey («Ключ API для подписи запросов»), both from the
// same section of the cabinet at my.new-tel.net.
//
// Keys are trimmed of spaces and quotes, which .env files tend to add. A key
// that is then not 48 lowercase hex characters, the format of every key seen,
// is logged as a warning and used as is. An empty key is an error.
func New(accessKey, signKey string, opts ...Option) (*Client, error) {
	accessKey, signKey = cleanKey(accessKey), cleanKey(signKey)
	if accessKey == "" || signKey == "" {
		return nil, errors.New("newtel: the access key and the sign key are both required")
	}
	o := options{baseURL: DefaultBaseURL, now: time.Now}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	red := redact.New(accessKey, signKey)
	c := &Client{accessKey: accessKey, signKey: signKey, now: o.now, signatures: o.signatures}
	cfg := rest.Config{
		Vendor:     Vendor,
		BaseURL:    o.baseURL,
		HTTPClient: o.httpClient,
		Logger:     o.logger,
		Redactor:   red,
		Header:     http.Header{"Accept": {"application/json"}},
		Sign:       c.sign,
		Check:      checkResponse,
	}
	o.retries.Apply(&cfg)
	rc, err := rest.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("newtel: %w", red.Error(err))
	}
	c.rest = rc
	for _, k := range []struct{ name, value string }{{"access", accessKey}, {"sign", signKey}} {
		if !wellFormedKey(k.value) {
			rc.Logger().Warn("newtel: the "+k.name+" key is not 48 lowercase hex characters; check that the keys are not swapped or mistyped",
				"length", len(k.value))
		}
	}
	return c, nil
}

// cleanKey trims the spaces and quotes a key picks up in .env files and
// copy-pasting.
func cleanKey(k string) string {
	return strings.Trim(strings.TrimSpace(k), " \t\r\n\"'`")
}

// keyLen is the length of every New-Tel key seen: 48 hex characters.
const keyLen = 48

func wellFormedKey(k string) bool {
	if len(k) != keyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// signingKey carries a call's *signing to the per-attempt signer.
type signingKey struct{}

// signing is what the signer of one call shares with its decoder: the API
// method, the same constant that made the URL path, and the Unix time of
// the last attempt's token.
type signing struct {
	method string
	unix   atomic.Int64
}

// sign is rest's per-attempt hook: a fresh time on every attempt, and the
// exact body that is sent.
func (c *Client) sign(req *http.Request, body []byte) error {
	sg, ok := req.Context().Value(signingKey{}).(*signing)
	if !ok {
		return errors.New("newtel: request without an API method")
	}
	now := c.now()
	sg.unix.Store(now.Unix())
	req.Header.Set("Authorization", authorization(sg.method, body, now, c.accessKey, c.signKey))
	return nil
}
