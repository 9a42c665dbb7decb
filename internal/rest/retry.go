package rest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// checkRetry is the retry policy; see the package doc. err with a non-nil
// resp is a body that could not be read after the status arrived.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	st := callFrom(ctx)
	c.attempted(ctx, st, resp, err)
	if ctxErr := ctx.Err(); ctxErr != nil {
		return false, ctxErr
	}
	retry, reason := decide(st.idempotent, resp, err)
	if retry {
		attempt := int(st.attempts.Load())
		if attempt <= c.cfg.RetryMax {
			args := []any{"method", st.method, "url", st.url(), "attempt", attempt, "reason", reason}
			if resp != nil {
				args = append(args, "status", resp.StatusCode)
			}
			if err != nil {
				args = append(args, "error", c.Redactor().String(err.Error()))
			}
			c.log.WarnContext(ctx, "pbxkit: retrying", args...)
		}
	}
	return retry, nil
}

// decide is the pure part of the policy.
func decide(idempotent bool, resp *http.Response, err error) (retry bool, reason string) {
	switch {
	case err != nil && resp != nil:
		// The server answered, so it acted; only a safe request may ask again.
		return idempotent, "body cut short"
	case err != nil:
		if permanentTransportError(err) {
			return false, ""
		}
		if idempotent {
			return true, "transport error"
		}
		if notSent(err) {
			return true, "connection not made"
		}
		return false, ""
	case resp.StatusCode == http.StatusTooManyRequests:
		// A throttled request was not processed, whatever its method.
		return true, "rate limited"
	case resp.StatusCode == http.StatusBadGateway,
		resp.StatusCode == http.StatusServiceUnavailable,
		resp.StatusCode == http.StatusGatewayTimeout:
		return idempotent, "gateway status"
	}
	return false, ""
}

// permanentTransportError reports failures a retry cannot fix.
func permanentTransportError(err error) bool {
	var (
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
		verify           *tls.CertificateVerificationError
	)
	if errors.As(err, &unknownAuthority) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &verify) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "stopped after") && strings.Contains(msg, "redirects") ||
		strings.Contains(msg, "unsupported protocol scheme")
}

// notSent reports a failure that happened before the request could reach the
// server: the connection was never made.
func notSent(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// backoff is exponential with "equal jitter": the n-th retry (attempt n-1)
// waits a random time in [step/2, step], where step is min·2ⁿ capped at
// max, and never less than min. So every wait lies between min and max,
// the first from min to 2·min; half of each step is fixed, so waits grow,
// and half random, so clients do not retry in step. Retry-After on 429 and
// 503 is honoured, clamped to [min, max].
func backoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return clamp(d, min, max)
		}
	}
	step := max
	if attempt < 32 {
		if s := min << (attempt + 1); s > 0 && s < max {
			step = s
		}
	}
	lo := step / 2
	if lo < min {
		lo = min
	}
	return lo + rand.N(step-lo+1)
}

func clamp(d, min, max time.Duration) time.Duration {
	if d < min {
		return min
	}
	if d > max {
		return max
	}
	return d
}

// maxRetryAfter caps what a Retry-After value is read as.
const maxRetryAfter = 24 * time.Hour

// retryAfter parses a Retry-After value: delay seconds or an HTTP date,
// capped at maxRetryAfter either way.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	// A number of seconds too long for an int64 is still a number of
	// seconds: ParseInt then returns the largest int64, which the cap cuts.
	// (It reports the overflow before it looks at the rest: check that the
	// rest is digits.)
	secs, err := strconv.ParseInt(v, 10, 64)
	if err == nil || errors.Is(err, strconv.ErrRange) && strings.Trim(v, "0123456789") == "" {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(maxRetryAfter/time.Second) {
			secs = int64(maxRetryAfter / time.Second)
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter), true
	}
	return 0, false
}
