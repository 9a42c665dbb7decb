package voip

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Error classes. Every error a pbxkit client returns for a failed API call
// matches at most one of these through [errors.Is]; the details are in an
// [*APIError], reachable through [errors.As].
var (
	// ErrNotSupported: the vendor has no such operation.
	ErrNotSupported = errors.New("voip: operation not supported by this vendor")
	// ErrBadRequest: the vendor rejected the parameters (HTTP 400, 422, or the
	// vendor's equivalent).
	ErrBadRequest = errors.New("voip: bad request")
	// ErrUnauthorized: the credentials are missing, wrong or expired.
	ErrUnauthorized = errors.New("voip: unauthorized")
	// ErrForbidden: the credentials are valid but lack the permission.
	ErrForbidden = errors.New("voip: forbidden")
	// ErrNotFound: no such object.
	ErrNotFound = errors.New("voip: not found")
	// ErrConflict: the request conflicts with the object's state (HTTP 409).
	ErrConflict = errors.New("voip: conflict")
	// ErrRateLimited: too many requests; see APIError.RetryAfter.
	ErrRateLimited = errors.New("voip: rate limited")
	// ErrServer: the vendor failed (HTTP 5xx).
	ErrServer = errors.New("voip: server error")
	// ErrBadResponse: the vendor answered with something that cannot be
	// read: an HTML page where JSON was due, a truncated body, an unknown
	// envelope.
	ErrBadResponse = errors.New("voip: malformed response")
	// ErrUnreachable: no answer came from the vendor: the connection was
	// refused or reset, the host name did not resolve, TLS failed, or the
	// attempt timed out. Reads were retried before it was returned; trying
	// again later may succeed. A call-starting request that may have
	// reached the vendor before the failure matches ErrAmbiguous too.
	ErrUnreachable = errors.New("voip: vendor unreachable")
	// ErrAmbiguous: a request that is not safe to repeat (one that starts a
	// call) failed in a way that leaves unknown whether the vendor acted on
	// it. It was not retried; the call may be ringing.
	ErrAmbiguous = errors.New("voip: outcome unknown, the request may have been processed")
)

// APIError is a failed call to a vendor's API. The URL and Body are redacted:
// keys and tokens never appear in them.
type APIError struct {
	Vendor     string // "gravitel", "phonet", …
	StatusCode int    // HTTP status; 0 when the failure is not an HTTP one
	Code       string // the vendor's error code, if it sends one
	Message    string // the vendor's error message, if it sends one
	RequestID  string // the vendor's request id, if it sends one
	Method     string
	URL        string
	// Body is an excerpt of the response body, at most a few hundred bytes.
	Body string
	// RetryAfter is how long the vendor asked to wait, when it did.
	RetryAfter time.Duration
	// Kind is the class sentinel (ErrUnauthorized, …) the error matches.
	// When nil it is derived from StatusCode by [StatusKind].
	Kind error
	// Err is the underlying cause, if any (a JSON syntax error, say).
	Err error
	// Ambiguous is set on the failure of a request that is not safe to
	// repeat (one that starts a call) when the vendor may have acted on it:
	// the connection broke or timed out after the request went out, the
	// vendor answered 5xx, or it answered 2xx with a body that cannot be
	// read. The request was not repeated; the call may be ringing. The
	// error then matches ErrAmbiguous as well as its Kind.
	Ambiguous bool
}

// Error reads "vendor: METHOD URL: 401 Unauthorized: message (code C)".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Vendor)
	if e.Method != "" || e.URL != "" {
		b.WriteString(": ")
		b.WriteString(strings.TrimSpace(e.Method + " " + e.URL))
	}
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	switch {
	case e.Message != "":
		b.WriteString(": ")
		b.WriteString(e.Message)
	case e.Err != nil:
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	case e.kind() != nil:
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.kind().Error(), "voip: "))
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " (code %s)", e.Code)
	}
	if e.Ambiguous {
		b.WriteString("; it may have been processed, so it was not repeated")
	}
	return b.String()
}

// Unwrap exposes the class sentinel and the cause, so that errors.Is(err,
// ErrUnauthorized) and errors.As(err, &syntaxErr) both work.
func (e *APIError) Unwrap() []error {
	errs := make([]error, 0, 3)
	if k := e.kind(); k != nil {
		errs = append(errs, k)
	}
	if e.Ambiguous {
		errs = append(errs, ErrAmbiguous)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

func (e *APIError) kind() error {
	if e.Kind != nil {
		return e.Kind
	}
	return StatusKind(e.StatusCode)
}

// ArgError is an argument refused before anything was sent to the vendor:
// an empty extension, a phone that is not a number, a query without the
// field it needs. It matches ErrBadRequest, and its cause through
// errors.Is: a refused phone number matches ErrInvalidPhone.
type ArgError struct {
	Vendor string // "gravitel", "phonet", …
	Func   string // the method refused: "GenerateCall"
	Arg    string // the argument or field: "phone"
	Err    error  // why; never nil
}

// Error reads "vendor: Func: Arg: why".
func (e *ArgError) Error() string {
	var b strings.Builder
	for _, part := range [...]string{e.Vendor, e.Func, e.Arg} {
		if part != "" {
			b.WriteString(part)
			b.WriteString(": ")
		}
	}
	if e.Err == nil {
		b.WriteString("invalid argument")
	} else {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap exposes ErrBadRequest and the cause.
func (e *ArgError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrBadRequest}
	}
	return []error{ErrBadRequest, e.Err}
}

// StatusKind maps an HTTP status to its class sentinel, or nil for a status
// that is not an error.
func StatusKind(status int) error {
	switch {
	case status == http.StatusBadRequest, status == http.StatusUnprocessableEntity:
		return ErrBadRequest
	case status == http.StatusUnauthorized:
		return ErrUnauthorized
	case status == http.StatusForbidden:
		return ErrForbidden
	case status == http.StatusNotFound, status == http.StatusGone:
		return ErrNotFound
	case status == http.StatusConflict:
		return ErrConflict
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status == http.StatusNotImplemented:
		return ErrNotSupported
	case status >= 500:
		return ErrServer
	case status >= 400:
		return ErrBadRequest
	}
	return nil
}
