package rest

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// attemptTransport runs under the retry layer, once per attempt: it waits for
// the rate limiter, sets the headers, signs the exact body, and logs.
type attemptTransport struct {
	c    *Client
	next http.RoundTripper
}

func (t *attemptTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c := t.c
	ctx := req.Context()
	st := callFrom(ctx)
	if st == nil {
		// Not one of ours (a redirect keeps the context, so this is a
		// misuse): send it untouched.
		return t.next.RoundTrip(req)
	}
	if err := ctx.Err(); err != nil {
		return nil, err // nothing leaves after the caller gave up
	}
	attempt := st.attempts.Add(1)
	if c.cfg.Limiter != nil {
		if err := c.cfg.Limiter.Wait(ctx); err != nil {
			return nil, err
		}
	}
	// A RoundTripper must not modify the caller's request: change a copy
	// with its own headers (the URL and body are only read).
	copied := *req
	out := &copied
	out.Header = req.Header.Clone()
	for k, vs := range c.cfg.Header {
		if out.Header.Get(k) == "" {
			out.Header[k] = vs
		}
	}
	out.Header.Set("User-Agent", c.cfg.UserAgent)
	if c.cfg.Sign != nil {
		if err := c.cfg.Sign(out, st.body); err != nil {
			return nil, fmt.Errorf("sign request: %w", err)
		}
	}

	start := time.Now()
	resp, err := t.next.RoundTrip(out)
	took := time.Since(start)
	if err != nil && !notSent(err) || err == nil && resp.StatusCode != http.StatusTooManyRequests {
		st.reached.Store(true)
	}

	if !c.log.Enabled(ctx, slog.LevelDebug) {
		return resp, err
	}
	args := []any{"method", st.method, "url", st.url(), "attempt", attempt, "duration", took}
	if err != nil {
		c.log.DebugContext(ctx, "pbxkit: request failed", append(args, "error", c.Redactor().String(err.Error()))...)
		return nil, err
	}
	args = append(args, "status", resp.StatusCode,
		"request_headers", c.Redactor().Header(out.Header), "request_body", c.Redactor().Excerpt(string(st.body), excerptLen))
	c.log.DebugContext(ctx, "pbxkit: request", args...)
	return resp, nil
}
