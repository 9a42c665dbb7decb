package rest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/pbxkit/pbxkit/internal/redact"
	"github.com/pbxkit/pbxkit/voip"
)

// Response is a final response, its body read in full.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
	// Attempts is how many times the request was sent.
	Attempts int

	call   *call
	c      *Client
	stream io.ReadCloser // Download's unread 2xx body
}

// call is the state of one Do, carried to the retry hooks through the
// request's context.
type call struct {
	req        *Request
	idempotent bool
	body       []byte
	getBody    func() (io.ReadCloser, error) // newBody, made once
	first      body                          // the first attempt's body reader
	method     string
	u          *url.URL
	red        *redact.Redactor
	attempts   atomic.Int32
	// reached is set once an attempt may have reached the vendor: it got an
	// answer other than 429, or failed after the connection was made.
	reached atomic.Bool
	// The retry hooks run on Do's goroutine, one after the other:
	// start is when the last attempt was sent, reported the last attempt
	// whose outcome was recorded, prepErr why a retry could not be sent.
	start    time.Time
	reported int32
	prepErr  error
	// redacted is u for logs and errors, made only when one needs it: the
	// redactor's patterns cost more than a loopback request's parsing.
	redactOnce sync.Once
	redacted   string
	// read holds the body read by the response handler, readErr its failure.
	read    []byte
	readErr error
}

// url returns the call's URL, redacted.
func (st *call) url() string {
	st.redactOnce.Do(func() { st.redacted = st.red.URL(st.u) })
	return st.redacted
}

type callKey struct{}

func callFrom(ctx context.Context) *call {
	st, _ := ctx.Value(callKey{}).(*call)
	return st
}

// Do sends req and returns its response once the vendor's Check passed. ctx
// bounds the whole call, retries and waits included.
//
// A failure is returned as a *voip.APIError (status, vendor code and message,
// redacted URL and body excerpt) that matches one of the voip class
// sentinels, or as the context's error when ctx ended first.
func (c *Client) Do(ctx context.Context, req *Request) (*Response, error) {
	resp, err := c.send(ctx, req, false)
	if err != nil {
		return nil, err
	}
	return c.finish(resp)
}

// Download sends req like Do and streams a successful (2xx) body into w,
// without holding it in memory: recordings run to megabytes. Retries,
// signing and Check are those of Do, up to the response headers; once the
// body flows a failure is returned, never retried, because w already holds
// part of it. For a 2xx response Check sees the headers and an empty Body,
// so that a vendor can refuse a login page served with 200. The HTTP
// client's Timeout bounds the copy too.
func (c *Client) Download(ctx context.Context, req *Request, w io.Writer) (*Response, int64, error) {
	resp, err := c.send(ctx, req, true)
	if err != nil {
		return nil, 0, err
	}
	if resp.stream == nil {
		out, err := c.finish(resp)
		if err == nil {
			// A 2xx that was read whole cannot happen; a non-2xx that
			// Check let through is the vendor's call.
			var n int
			n, err = w.Write(out.Body)
			return out, int64(n), err
		}
		return nil, 0, err
	}
	defer resp.stream.Close()
	if _, err := c.finish(resp); err != nil {
		return nil, 0, err
	}
	dst := &writeErrs{w: w}
	n, err := io.Copy(dst, resp.stream)
	if dst.err != nil {
		return nil, n, dst.err // the caller's writer failed; the vendor did nothing wrong
	}
	if err != nil {
		return nil, n, resp.complete(&voip.APIError{Kind: voip.ErrBadResponse, Err: fmt.Errorf("body cut after %d bytes: %w", n, err)})
	}
	return resp, n, nil
}

// writeErrs remembers a failure of the caller's writer, so that Download
// can tell it from a body cut short by the network.
type writeErrs struct {
	w   io.Writer
	err error
}

func (d *writeErrs) Write(p []byte) (int, error) {
	n, err := d.w.Write(p)
	if err != nil {
		d.err = err
	}
	return n, err
}

// send runs the retry loop. With stream set, a 2xx body is left unread in
// Response.stream for Download; every other body is read in full.
func (c *Client) send(ctx context.Context, req *Request, stream bool) (*Response, error) {
	u, err := resolve(c.base, req.Path, req.Query)
	if err != nil {
		return nil, err
	}
	// One allocation holds the call's state and its response.
	x := &struct {
		st   call
		resp Response
	}{}
	st := &x.st
	st.req, st.idempotent, st.body, st.method, st.u, st.red = req, req.idempotent(), req.Body, req.Method, u, c.Redactor()
	if st.body != nil {
		st.getBody = st.newBody
	}
	ctx = context.WithValue(ctx, callKey{}, st)

	hr, err := http.NewRequestWithContext(ctx, req.Method, u.String(), nil)
	if err != nil {
		return nil, c.Redactor().Error(fmt.Errorf("%s: build request: %w", c.cfg.Vendor, err))
	}
	hr.Header = c.header(req)
	// Wrapped without a body, so that go-retryablehttp leaves the body to
	// prepare, which gives each attempt a reader of its own.
	rr, err := retryablehttp.FromRequest(hr)
	if err != nil {
		return nil, c.Redactor().Error(fmt.Errorf("%s: build request: %w", c.cfg.Vendor, err))
	}
	if err := c.prepare(st, hr); err != nil {
		return nil, c.notSent(ctx, st, err)
	}
	var streamed io.ReadCloser
	rr.SetResponseHandler(func(resp *http.Response) error {
		if stream && resp.StatusCode >= 200 && resp.StatusCode < 300 {
			streamed = resp.Body
			return nil
		}
		st.read, st.readErr = c.readBody(resp)
		return st.readErr
	})

	resp, err := c.retry.Do(rr)
	if st.prepErr != nil {
		if resp != nil {
			_ = resp.Body.Close() // the last attempt's, drained already
		}
		return nil, c.notSent(ctx, st, st.prepErr)
	}
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			if st.ambiguous() {
				// Given up on, not refused: the call may be ringing.
				return nil, &voip.APIError{Vendor: c.cfg.Vendor, Method: st.method, URL: st.url(), Err: ctxErr, Ambiguous: true}
			}
			return nil, ctxErr
		}
		return nil, c.transportError(st, err)
	}
	if streamed == nil && st.read == nil && st.readErr == nil {
		// Retries ran out on a retryable status: the handler never ran.
		st.read, st.readErr = c.readBody(resp)
	}
	x.resp = Response{
		StatusCode: resp.StatusCode, Header: resp.Header, Body: st.read, Attempts: int(st.attempts.Load()),
		call: st, c: c, stream: streamed,
	}
	return &x.resp, nil
}

// notSent reports an attempt that could not be sent: the context ended, the
// rate limiter or the signer failed. An earlier attempt may still have
// reached the vendor.
func (c *Client) notSent(ctx context.Context, st *call, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		if st.ambiguous() {
			return &voip.APIError{Vendor: c.cfg.Vendor, Method: st.method, URL: st.url(), Err: ctxErr, Ambiguous: true}
		}
		return ctxErr
	}
	return c.Redactor().Error(fmt.Errorf("%s: %w", c.cfg.Vendor, err))
}

// finish reports a body that could not be read, then runs the vendor's Check.
func (c *Client) finish(resp *Response) (*Response, error) {
	if err := resp.call.readErr; err != nil {
		return nil, resp.complete(&voip.APIError{Kind: voip.ErrBadResponse, Err: c.Redactor().Error(err)})
	}
	if err := c.cfg.Check(resp); err != nil {
		return nil, resp.complete(err)
	}
	return resp, nil
}

// readBody reads and closes resp.Body, at most MaxBody bytes.
func (c *Client) readBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	if n := resp.ContentLength; n >= 0 && n <= c.cfg.MaxBody {
		// The usual case: the length is known, so read into one buffer of
		// that size instead of growing one.
		b := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, b); err != nil {
			return nil, fmt.Errorf("read body: %w", err)
		}
		return b, nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(b)) > c.cfg.MaxBody {
		return nil, fmt.Errorf("response body exceeds %d bytes", c.cfg.MaxBody)
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

// transportError wraps a failure that produced no response: the vendor was
// unreachable. For a request that is not idempotent it says whether the
// server may have acted on it.
func (c *Client) transportError(st *call, err error) error {
	return &voip.APIError{Vendor: c.cfg.Vendor, Method: st.method, URL: st.url(), Kind: voip.ErrUnreachable,
		Err: c.Redactor().Error(err), Ambiguous: st.ambiguous()}
}

// ambiguous reports a request that is not safe to repeat and may have been
// acted on.
func (st *call) ambiguous() bool { return !st.idempotent && st.reached.Load() }

// complete fills an *voip.APIError found in err with what the response knows.
// Other errors are returned redacted.
func (r *Response) complete(err error) error {
	var e *voip.APIError
	if !errors.As(err, &e) {
		return r.c.Redactor().Error(err)
	}
	if e.Vendor == "" {
		e.Vendor = r.c.cfg.Vendor
	}
	if e.StatusCode == 0 {
		e.StatusCode = r.StatusCode
	}
	if e.Method == "" {
		e.Method = r.call.method
	}
	if e.URL == "" {
		e.URL = r.call.url()
	}
	if e.RequestID == "" && r.c.cfg.RequestIDHeader != "" {
		e.RequestID = r.Header.Get(r.c.cfg.RequestIDHeader)
	}
	red := r.c.Redactor()
	if e.Body == "" {
		e.Body = red.Excerpt(string(r.Body), excerptLen)
	}
	if e.RetryAfter == 0 {
		e.RetryAfter, _ = retryAfter(r.Header.Get("Retry-After"), time.Now())
	}
	// Redacted whole, then cut: a secret that straddles the cut would
	// otherwise leave its first part behind.
	e.Message = red.Excerpt(e.Message, maxMessage)
	e.Code = red.Excerpt(e.Code, maxCode)
	if e.Err != nil {
		e.Err = red.Error(e.Err)
	}
	// A server or gateway failure may come after the vendor acted, and an
	// unreadable success hides whether it did: either way the request must
	// not be repeated. A 4xx is a refusal, not an act.
	success := e.StatusCode >= 200 && e.StatusCode < 300
	if r.call.ambiguous() && (e.StatusCode >= 500 || success && errors.Is(err, voip.ErrBadResponse)) {
		e.Ambiguous = true
	}
	return err
}

// Error returns an *voip.APIError for this response, completed like the ones
// Check returns; for vendors that find a failure after Check (a payload that
// does not decode).
func (r *Response) Error(e *voip.APIError) error { return r.complete(e) }

// How much of each text an APIError keeps, in bytes: enough to read the
// vendor's complaint, not enough to flood a log line.
const (
	excerptLen = 512 // Body
	maxMessage = 200 // Message
	maxCode    = 64  // Code
)

// CheckStatus is the default Check: any status outside 2xx is an error
// classified by voip.StatusKind; a redirect, which the pipeline does not
// follow, matches voip.ErrNotFound and names its Location; a status that
// voip.StatusKind does not classify (1xx) matches voip.ErrBadResponse.
func CheckStatus(resp *Response) error {
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		return nil
	case s >= 300 && s < 400:
		return &voip.APIError{Kind: voip.ErrNotFound, Message: resp.Redirected()}
	case voip.StatusKind(s) == nil:
		// A final 1xx (101 to a request that asked for no upgrade) is no
		// answer an API gives.
		return &voip.APIError{Kind: voip.ErrBadResponse}
	}
	return &voip.APIError{}
}
