package gravitel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/internal/redact"
	"github.com/pbxkit/pbxkit/internal/rest"
)

// Vendor is the vendor name in errors, logs and voip values.
const Vendor = "gravitel"

// Encoding is how commands are encoded in the request body.
type Encoding int8

const (
	// EncodingForm sends application/x-www-form-urlencoded bodies, as the
	// protocol's spec documents. The default.
	EncodingForm Encoding = iota
	// EncodingJSON sends a JSON object of strings, as the ELMA365 module
	// does. Seen working on Gravitel; unconfirmed on other tenants.
	EncodingJSON
)

// Client sends commands to one tenant's PBX. It is safe for concurrent use.
type Client struct {
	rest     *rest.Client
	token    string
	encoding Encoding
}

// Option configures a Client. Options validate their input and return an
// error instead of leaving a half-configured client.
type Option func(*options) error

type options struct {
	httpClient *http.Client
	logger     *slog.Logger
	encoding   Encoding
	retries    rest.Retries
}

// WithHTTPClient sends requests through c. Its Timeout bounds each attempt;
// ctx bounds the whole call, retries included. Nil is an error. Redirects
// are never followed, whatever c.CheckRedirect says: see [New].
//
// Default: a client with a 30 s timeout per attempt over
// http.DefaultTransport.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) error {
		if c == nil {
			return errors.New("gravitel: WithHTTPClient: nil client")
		}
		o.httpClient = c
		return nil
	}
}

// WithLogger logs one line per attempt to l, with keys and tokens
// redacted. Default (and nil): silent.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		o.logger = l
		return nil
	}
}

// WithEncoding chooses the request body encoding. Default: EncodingForm,
// as the protocol's spec documents.
func WithEncoding(e Encoding) Option {
	return func(o *options) error {
		if e != EncodingForm && e != EncodingJSON {
			return fmt.Errorf("gravitel: WithEncoding: unknown encoding %d", e)
		}
		o.encoding = e
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
// a call is never retried once the PBX may have seen it.
func WithRetries(max int, minWait, maxWait time.Duration) Option {
	return func(o *options) error {
		r, err := rest.NewRetries(max, minWait, maxWait)
		if err != nil {
			return fmt.Errorf("gravitel: %w", err)
		}
		o.retries = r
		return nil
	}
}

// New returns a client for the PBX at endpoint, the tenant's "Адрес облачной
// АТС" such as https://example.gravitel.ru/sys/crm_api.wcgp, authenticated
// by token, the PBX key from the cabinet page "Интеграция с CRM".
//
// The endpoint is used as given, so the same client serves the other PBXs of
// this protocol (MegaFon, Kcell, Moldcell); a bare host such as
// https://example.gravitel.ru gets the protocol's path, /sys/crm_api.wcgp.
// There is no default endpoint: each tenant has its own. For tests, give
// graviteltest's Server.BaseURL.
//
// Redirects are not followed: Go would repeat a redirected POST as a GET
// without its body (301, 302) or send the body, token included, to another
// host (307, 308). A redirect is an error matching voip.ErrNotFound whose
// message names the Location: the PBX answers a wrong tenant name so.
func New(endpoint, token string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(endpoint))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("gravitel: invalid endpoint %q: want an http(s) URL such as https://<tenant>.gravitel.ru/sys/crm_api.wcgp", redact.New(token).String(endpoint))
	}
	if u.Path == "" || u.Path == "/" {
		u.Path, u.RawPath = endpointPath, ""
	}
	if strings.TrimSpace(token) == "" {
		return nil, errors.New("gravitel: empty token")
	}
	var o options
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	cfg := rest.Config{
		Vendor:     Vendor,
		BaseURL:    u.String(),
		HTTPClient: rest.NoRedirects(o.httpClient),
		Logger:     o.logger,
		Redactor:   redact.New(token),
		Check:      checkResponse,
	}
	o.retries.Apply(&cfg)
	rc, err := rest.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("gravitel: %w", err)
	}
	return &Client{rest: rc, token: token, encoding: o.encoding}, nil
}

// endpointPath is where a tenant's PBX serves the CRM API.
const endpointPath = "/sys/crm_api.wcgp"

// command is one CRM → PBX command: its name and its parameters, empty ones
// left out. Parameter names are unique, and neither "cmd" nor "token".
type command struct {
	name   string
	params [][2]string
	// idempotency is rest.Idempotent for every command but makeCall: they
	// only read or set a state, so repeating them is harmless.
	idempotency rest.Idempotency
}

// maxParams is the most parameters a command has (history: start, end,
// type, limit), the capacity given to the first.
const maxParams = 4

func (c command) with(name, value string) command {
	if value != "" {
		if c.params == nil {
			c.params = make([][2]string, 0, maxParams)
		}
		c.params = append(c.params, [2]string{name, value})
	}
	return c
}

// do sends cmd and returns the response that passed checkResponse.
func (c *Client) do(ctx context.Context, cmd command) (*rest.Response, error) {
	req := &rest.Request{Method: http.MethodPost, Idempotency: cmd.idempotency}
	switch c.encoding {
	case EncodingJSON:
		m := make(map[string]string, len(cmd.params)+2)
		m["cmd"], m["token"] = cmd.name, c.token
		for _, p := range cmd.params {
			m[p[0]] = p[1]
		}
		body, err := rest.JSON(m)
		if err != nil {
			return nil, err
		}
		req.Body, req.ContentType = body, rest.ContentJSON
	default:
		req.Body, req.ContentType = c.form(cmd), rest.ContentForm
	}
	return c.rest.Do(ctx, req)
}

// form is cmd with the token as url.Values.Encode writes it: sorted by
// name, each name and value escaped by url.QueryEscape. It is written in
// one buffer, without the map and the slices url.Values needs, since a
// command is a few short pairs and the map cost more than the rest of the
// body.
func (c *Client) form(cmd command) []byte {
	var buf [maxParams + 2][2]string
	pairs := append(append(buf[:0], [2]string{"cmd", cmd.name}, [2]string{"token", c.token}), cmd.params...)
	slices.SortFunc(pairs, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	n := 0
	for i := range pairs {
		pairs[i] = [2]string{url.QueryEscape(pairs[i][0]), url.QueryEscape(pairs[i][1])}
		n += len(pairs[i][0]) + len(pairs[i][1]) + 2
	}
	out := make([]byte, 0, n)
	for i, p := range pairs {
		if i > 0 {
			out = append(out, '&')
		}
		out = append(append(append(out, p[0]...), '='), p[1]...)
	}
	return out
}
