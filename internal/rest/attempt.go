package rest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// The work of each attempt runs around the HTTP client, not inside it as a
// wrapping RoundTripper: given a Transport it does not know, net/http
// bounds an attempt with a goroutine, a channel and a timer of its own
// instead of a context deadline. So the caller's Transport is used as is;
// send prepares the first attempt, prepareRetry each retry (go-retryablehttp
// calls it after the wait), and checkRetry sees the outcome of each.

// prepare readies req for one attempt: it counts the attempt, waits for the
// rate limiter, gives req a fresh reader of the body and signs it. The
// headers are set already.
func (c *Client) prepare(st *call, req *http.Request) error {
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		return err // nothing leaves after the caller gave up
	}
	first := st.attempts.Add(1) == 1
	if c.cfg.Limiter != nil {
		// Waited before the attempt's timeout starts, so that a busy
		// limiter does not eat into it.
		if err := c.cfg.Limiter.Wait(ctx); err != nil {
			return fmt.Errorf("rate limiter: %w", err)
		}
	}
	if st.body != nil {
		if first && len(st.body) > 0 {
			st.first.Reset(st.body) // held by the call: no allocation for the usual single attempt
			req.Body = &st.first
		} else {
			req.Body, _ = st.getBody()
		}
		req.ContentLength = int64(len(st.body))
		req.GetBody = st.getBody // lets net/http repeat it on a stale keep-alive connection
	}
	if c.cfg.Sign != nil {
		if err := c.cfg.Sign(req, st.body); err != nil {
			return fmt.Errorf("sign request: %w", err)
		}
	}
	st.start = time.Now()
	return nil
}

// prepareRetry is go-retryablehttp's PrepareRetry: req is a fresh shallow
// copy of the last attempt's request. It gets headers of its own, unsigned,
// since the transport may still hold the last ones.
func (c *Client) prepareRetry(req *http.Request) error {
	st := callFrom(req.Context())
	req.Header = c.header(st.req)
	if err := c.prepare(st, req); err != nil {
		st.prepErr = err // go-retryablehttp would hand back the last response instead
		return err
	}
	return nil
}

// header builds the headers of one attempt: the request's own, its
// Content-Type, the client's defaults and the User-Agent. Value slices are
// shared, capped at their length so that an append by a signer copies.
func (c *Client) header(req *Request) http.Header {
	h := make(http.Header, len(req.Header)+len(c.cfg.Header)+2)
	for k, vs := range req.Header {
		h[k] = vs[:len(vs):len(vs)]
	}
	if req.ContentType != "" && req.Body != nil {
		h["Content-Type"] = contentType(req.ContentType)
	}
	for k, vs := range c.cfg.Header {
		if h.Get(k) == "" {
			h[k] = vs[:len(vs):len(vs)]
		}
	}
	h["User-Agent"] = c.userAgent
	return h
}

// The Content-Type values of the usual bodies, shared by every request.
var (
	contentJSON = []string{ContentJSON}
	contentForm = []string{ContentForm}
)

func contentType(ct string) []string {
	switch ct {
	case ContentJSON:
		return contentJSON[:1:1]
	case ContentForm:
		return contentForm[:1:1]
	}
	return []string{ct}
}

// body is a request body reader over the call's bytes.
type body struct{ bytes.Reader }

func (*body) Close() error { return nil }

// newBody is the call's GetBody: a fresh reader of the exact bytes signed.
func (st *call) newBody() (io.ReadCloser, error) {
	if len(st.body) == 0 {
		return http.NoBody, nil
	}
	b := &body{}
	b.Reset(st.body)
	return b, nil
}

// attempted records the outcome of one attempt: whether the request may
// have reached the vendor (an answer other than 429, or a failure after the
// connection was made), and the attempt's Debug line. go-retryablehttp may
// report an attempt twice, the second time with the error of reading its
// body; the first report decides.
func (c *Client) attempted(ctx context.Context, st *call, resp *http.Response, err error) {
	attempt := st.attempts.Load()
	if st.reported == attempt {
		return
	}
	st.reported = attempt
	if resp != nil && resp.StatusCode != http.StatusTooManyRequests || resp == nil && err != nil && !notSent(err) {
		st.reached.Store(true)
	}
	if !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	args := []any{"method", st.method, "url", st.url(), "attempt", attempt, "duration", time.Since(st.start)}
	if resp == nil {
		// The transport's own error: the *url.Error around it repeats the
		// URL, unredacted.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		c.log.DebugContext(ctx, "pbxkit: request failed", append(args, "error", c.Redactor().String(err.Error()))...)
		return
	}
	args = append(args, "status", resp.StatusCode,
		"request_headers", c.Redactor().Header(resp.Request.Header), "request_body", c.Redactor().Excerpt(string(st.body), excerptLen))
	c.log.DebugContext(ctx, "pbxkit: request", args...)
}
