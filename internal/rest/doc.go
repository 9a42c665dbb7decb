// Package rest is the HTTP pipeline every pbxkit vendor client is built on:
// request building, per-attempt signing, safe retries on go-retryablehttp,
// error decoding into *voip.APIError, logging and redaction. Nothing in it is
// vendor-specific; a vendor plugs in its base URL, its signing hook and its
// response checker through [Config].
//
// # Retries
//
// A request is idempotent when its method is GET, HEAD, PUT, DELETE or
// OPTIONS, unless the caller says otherwise with [Request].Idempotency (a GET
// that starts a call is marked [NotIdempotent]; a POST that only reads is
// marked [Idempotent]). Idempotent requests are retried on transport errors,
// on a body cut short, and on 429, 502, 503 and 504. A request that is not
// idempotent is retried only when the server surely did not act on it: the
// connection could not be made (dial error, connection refused, DNS failure)
// or the server answered 429. Any other failure of such a request is
// reported as ambiguous ([voip.ErrAmbiguous]) and never repeated: for a PBX
// a repeat is a second phone call.
//
// A failure without any response (refused, reset, DNS, TLS, timeout) is an
// *voip.APIError of kind [voip.ErrUnreachable]. A context that ends first
// gives its own error, ctx.Err(), unless a call-starting request was already
// out: that is an *voip.APIError matching both ctx.Err() and
// voip.ErrAmbiguous.
//
// Every wait lies between RetryWaitMin and RetryWaitMax: the n-th retry
// waits a random time in [step/2, step], where step is RetryWaitMin·2ⁿ
// capped at RetryWaitMax (half fixed, so waits grow; half random, so
// clients spread out). Retry-After is honoured on 429 and 503, clamped to
// the same range. Every wait ends at once when the context is done; ctx
// bounds the whole call, waits included, while the HTTP client's Timeout
// bounds each attempt.
//
// # Redirects
//
// Redirects are never followed (see [NoRedirects]): a 3xx is an answer for
// the vendor's Check.
//
// # Signing
//
// [Config].Sign runs on every attempt, right before it is sent, with the
// exact bytes that are sent. A time-based token (New-Tel) is
// therefore fresh on a retry.
//
// # Redaction
//
// Every error and log line goes through one [redact.Redactor]: registered
// secrets, secret-looking query parameters and auth headers never appear.
package rest
