package webitel

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/pbxkit/pbxkit/internal/lenient"
	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/voip"
)

// Error ids Webitel answers with that this package gives a meaning of
// their own (the engine's model/*.go and app/*.go).
const (
	// IDBusy refuses POST /api/calls for a user already on a call (400).
	IDBusy = "app.call.create.valid.busy"
	// IDNoLicense refuses a socket whose token carries no licence (412).
	IDNoLicense = "api.context.permissions.license"
	// IDSessionExpired ends a session (REST or socket).
	IDSessionExpired = "api.context.session_expired.app_error"
)

// appError is every error body Webitel sends: the engine's AppError
// {id, code, detail, status, request_id}, or grpc-gateway's
// {code, message, details}. code is the HTTP status in the first and a
// gRPC code in the second; both are read as numbers or strings.
type appError struct {
	ID        lenient.String `json:"id"`
	Code      lenient.String `json:"code"` // a number, read apart so that a garbled one loses nothing else
	Detail    lenient.String `json:"detail"`
	Status    lenient.String `json:"status"`
	RequestID lenient.String `json:"request_id"`
	Message   lenient.String `json:"message"`
}

// checkResponse turns a response outside 2xx into a *voip.APIError whose
// Code is the AppError id and whose Message is its detail (or the
// grpc-gateway message, or the body's text). A 3xx is never followed (see
// New): it says where it pointed.
func checkResponse(resp *rest.Response) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// Neither the API nor the storage serves HTML: a page with 200 is
		// a proxy's or a login portal's, and must not be streamed into a
		// caller's writer as a recording.
		if ct := strings.ToLower(resp.Header.Get("Content-Type")); strings.HasPrefix(ct, "text/html") {
			return &voip.APIError{Kind: voip.ErrBadResponse, Message: "an HTML page where Webitel's answer was due: check the base URL"}
		}
		return nil
	}
	e := parseAppError(resp.Body, resp.StatusCode)
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		e.Message, e.Kind = resp.Redirected()+": check the base URL", voip.ErrNotFound
	}
	return resp.Error(e)
}

// parseAppError reads an error body into an APIError of the given HTTP
// status (0 for a socket reply, where the AppError's own code is the
// status). A body that is not an error object leaves Code empty and its
// text as the Message.
func parseAppError(body []byte, status int) *voip.APIError {
	e := &voip.APIError{StatusCode: status}
	b := bytes.TrimSpace(body)
	var w appError
	if len(b) == 0 || b[0] != '{' || lenient.Unmarshal(b, &w) != nil {
		e.Message = rest.TextMessage(body)
		e.Kind = errorKind("", status)
		return e
	}
	e.Code, e.RequestID = string(w.ID), string(w.RequestID)
	e.Message = string(w.Detail)
	if e.Message == "" {
		e.Message = string(w.Message)
	}
	if e.Message == "" {
		e.Message = string(w.Status)
	}
	code, _ := strconv.Atoi(string(w.Code))
	if status == 0 && w.ID != "" && code >= 100 && code <= 599 {
		// A socket reply: the AppError's code is the HTTP status it stands
		// for.
		e.StatusCode = code
	}
	e.Kind = errorKind(e.Code, e.StatusCode)
	return e
}

// errorKind classifies by the id first, where Webitel's status says less
// than the id (412 for a missing licence), then by the HTTP status.
func errorKind(id string, status int) error {
	switch {
	case id == IDNoLicense, strings.HasPrefix(id, "api.context.permissions"), strings.Contains(id, ".license."):
		return voip.ErrForbidden
	case id == IDSessionExpired, strings.HasPrefix(id, "api.context.unauthorized"), id == "api.process.unauthenticated":
		return voip.ErrUnauthorized
	case id == IDBusy:
		return voip.ErrConflict
	case id == "api.process.not_found":
		return voip.ErrNotFound
	}
	if status == http.StatusPreconditionFailed {
		return voip.ErrForbidden // the engine's "no licence"
	}
	if k := voip.StatusKind(status); k != nil {
		return k
	}
	if status == 0 {
		return voip.ErrBadRequest
	}
	return voip.ErrServer
}

// checkPartial is checkResponse for a request of a byte range: a success
// must be 206 Partial Content. A 200 is the whole file, which the caller
// did not ask for: it is refused before any byte reaches the writer.
func checkPartial(resp *rest.Response) error {
	if resp.StatusCode == http.StatusOK {
		return &voip.APIError{Kind: voip.ErrBadResponse,
			Message: "the server ignored the Range header and sent the whole file"}
	}
	return checkResponse(resp)
}

// argError is an argument of fn refused before anything was sent.
func argError(fn, arg string, err error) error {
	return &voip.ArgError{Vendor: Vendor, Func: fn, Arg: arg, Err: err}
}

// notSupported is what a method Webitel lacks (or has broken) returns:
// it matches voip.ErrNotSupported and says what to use instead.
func notSupported(fn, why string) error {
	return &voip.APIError{Vendor: Vendor, Method: fn, Kind: voip.ErrNotSupported, Message: why}
}

// errEmpty is the cause of an ArgError for a required argument left empty.
var errEmpty = errors.New("empty")

// errNegative is the cause of an ArgError for a duration below zero.
var errNegative = errors.New("negative")
