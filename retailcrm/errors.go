package retailcrm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/pbxkit/pbxkit/internal/lenient"
	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/voip"
)

// The errorMsg texts retailCRM answers that decide an error's class (the
// official clients key their error types on the same strings: api-client-go
// error.go, api-client-php ApiExceptionFactory).
const (
	msgMissingKey    = `"apiKey" is missing.`
	msgWrongKey      = `Wrong "apiKey" value.`
	msgAccessDenied  = `Access denied.`
	msgNoAccount     = `Account does not exist.`
	msgNotFound      = `Not found`
	accountNotExists = "account does not exist (an HTML page answered): check the base URL"
)

// envelope is what every answer carries: {"success", "errorMsg", "errors"}.
// errors is a map of field → message, or a list of messages.
type envelope struct {
	Success  *bool          `json:"success"`
	ErrorMsg lenient.String `json:"errorMsg"`
	Errors   jsontext.Value `json:"errors"`
}

// apiFailure carries an envelope error's whole text past the pipeline,
// which cuts APIError.Message to 200 bytes; Client.do puts it back,
// redacted, so that no entry of errors is lost.
type apiFailure struct {
	*voip.APIError
	full string
	// calls, for an upload that stored some calls and refused others, are
	// the indexes in the request of the refused ones, read from the keys
	// of errors ("calls[3].date"); nil when errors does not name them all.
	// stored is its processedCallsCount.
	calls  []int
	stored int
}

func (f *apiFailure) Unwrap() error { return f.APIError }

// checkResponse is the rest.Check of the client: an answer outside 2xx is
// an error, its envelope read for the message. A 2xx answer passes here and
// is decoded once, envelope and payload together, by its method.
func checkResponse(resp *rest.Response) error {
	s := resp.StatusCode
	switch {
	case s >= 200 && s < 300:
		return nil
	case s >= 300 && s < 400:
		return &voip.APIError{Kind: voip.ErrNotFound, Message: resp.Redirected() + ": check the base URL"}
	}
	var env envelope
	if err := decodeEnvelope(resp.Body, &env); err != nil {
		// Not the envelope: a proxy's page, or retailCRM's page for an
		// account that does not exist (HTML, 404 or 405).
		if isHTML(resp.Body) && (s == http.StatusNotFound || s == http.StatusMethodNotAllowed) {
			return &voip.APIError{Kind: voip.ErrNotFound, Message: accountNotExists}
		}
		return &voip.APIError{Message: rest.TextMessage(resp.Body), Kind: errorKind(s, "")}
	}
	err := envelopeError(s, &env)
	if s == statusPartial {
		f := err.(*apiFailure)
		f.calls = refusedCalls(env.Errors)
		var counts struct {
			Stored lenient.Int64 `json:"processedCallsCount"`
		}
		if f.calls != nil && lenient.Unmarshal(bytes.TrimSpace(resp.Body), &counts) == nil {
			f.stored = int(counts.Stored)
		} else {
			f.calls = nil
		}
	}
	return err
}

// statusPartial is retailCRM's answer to an upload of which some entities
// were stored and some refused (api-client-go's customers upload test
// answers it; calls are assumed to follow, unconfirmed).
const statusPartial = 460

// refusedCalls reads the indexes of the refused calls from the keys of an
// errors map ("calls[3]", "calls[3].date"), in order and without repeats.
// nil when errors is not a map or a key names no call: the request then
// counts as refused whole.
func refusedCalls(raw jsontext.Value) []int {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	var m map[string]jsontext.Value
	if lenient.Unmarshal(raw, &m) != nil || len(m) == 0 {
		return nil
	}
	out := make([]int, 0, len(m))
	for k := range m {
		rest, ok := strings.CutPrefix(k, "calls[")
		if !ok {
			return nil
		}
		num, _, ok := strings.Cut(rest, "]")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || n < 0 || n >= MaxCallsPerUpload {
			return nil
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// decodeEnvelope decodes a body into v, a struct embedding envelope. A body
// that is not a JSON object is an error.
func decodeEnvelope(body []byte, v any) error {
	b := bytes.TrimSpace(body)
	if len(b) == 0 || b[0] != '{' {
		return errors.New("retailcrm: the answer is not a JSON object")
	}
	return lenient.Unmarshal(b, v)
}

// envelopeError is the error of a failed envelope: its class from errorMsg
// and the status, its text errorMsg and every entry of errors.
func envelopeError(status int, env *envelope) error {
	msg := strings.TrimSpace(string(env.ErrorMsg))
	full := msg
	if entries := errorEntries(env.Errors); len(entries) > 0 {
		if full != "" {
			full += ": "
		}
		full += strings.Join(entries, "; ")
	}
	if full == "" && env.Success != nil && !*env.Success {
		full = "success: false without an errorMsg"
	}
	return &apiFailure{APIError: &voip.APIError{Message: full, Kind: errorKind(status, msg)}, full: full}
}

// errorKind picks the class of a failure: errorMsg first, since retailCRM
// answers a wrong key and a missing scope with the same 403, then the
// status.
func errorKind(status int, msg string) error {
	switch {
	case msg == msgMissingKey, msg == msgWrongKey:
		return voip.ErrUnauthorized
	case msg == msgAccessDenied:
		return voip.ErrForbidden
	case msg == msgNoAccount, msg == msgNotFound:
		return voip.ErrNotFound
	case status == http.StatusTooManyRequests, strings.Contains(strings.ToLower(msg), "rate limit"):
		return voip.ErrRateLimited
	}
	if k := voip.StatusKind(status); k != nil {
		return k
	}
	return voip.ErrBadRequest // a 2xx that says success: false
}

// errorEntries lists the entries of an errors member in the order sent:
// "field: message" for a map, "message" for a list. A value that is not a
// string is kept as its JSON text.
func errorEntries(raw jsontext.Value) []string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || (raw[0] != '{' && raw[0] != '[') {
		if len(raw) > 0 && string(raw) != "null" {
			return []string{valueText(raw)}
		}
		return nil
	}
	dec := jsontext.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.ReadToken(); err != nil { // { or [
		return nil
	}
	object := raw[0] == '{'
	var out []string
	for dec.PeekKind() != '}' && dec.PeekKind() != ']' && dec.PeekKind() != 0 {
		key := ""
		if object {
			tok, err := dec.ReadToken()
			if err != nil {
				break
			}
			key = tok.String()
		}
		v, err := dec.ReadValue()
		if err != nil {
			break
		}
		text := valueText(v)
		if key != "" {
			text = key + ": " + text
		}
		out = append(out, text)
	}
	return out
}

// valueText reads a JSON string as its text and any other value as its JSON.
func valueText(v []byte) string {
	var s string
	if len(v) > 0 && v[0] == '"' && json.Unmarshal(v, &s) == nil {
		return strings.TrimSpace(s)
	}
	return string(v)
}

func isHTML(body []byte) bool {
	b := bytes.TrimSpace(body)
	return len(b) > 0 && b[0] == '<'
}

// decode reads a 2xx answer into v, a struct embedding envelope, once: a
// body that is not the envelope is an error matching voip.ErrBadResponse,
// one that says success: false an error of its class.
func (c *Client) decode(resp *rest.Response, v interface{ env() *envelope }) error {
	if err := decodeEnvelope(resp.Body, v); err != nil {
		return resp.BadResponse(err)
	}
	env := v.env()
	if env.Success == nil {
		return resp.BadResponse(errors.New(`retailcrm: the answer has no "success"`))
	}
	if !*env.Success {
		err := envelopeError(resp.StatusCode, env)
		var f *apiFailure
		errors.As(err, &f)
		out := resp.Error(f.APIError)
		// resp.Error cut the message; put all of it back, redacted.
		f.APIError.Message = c.general.Redactor().String(f.full)
		return out
	}
	return nil
}

func (e *envelope) env() *envelope { return e }

// UploadError is a call upload that stored some calls and not others. It
// comes with the UploadResult of the calls that were stored.
type UploadError struct {
	// Failed lists the indexes into the input of every call that was not
	// stored (refused before sending, or in a request that failed), in
	// order. Sending them again is safe: retailCRM deduplicates on
	// externalId.
	Failed []int
	// Err is why: one error, or several joined (errors.Join), each an
	// *voip.APIError or an *voip.ArgError.
	Err error
}

// Error reads "retailcrm: N calls not uploaded (indexes …): cause".
func (e *UploadError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "retailcrm: %d calls not uploaded (indexes ", len(e.Failed))
	for i, n := range e.Failed {
		if i > 0 {
			b.WriteByte(',')
		}
		if i == 20 && len(e.Failed) > 21 {
			fmt.Fprintf(&b, "… %d more", len(e.Failed)-20)
			break
		}
		fmt.Fprint(&b, n)
	}
	b.WriteString(")")
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap exposes Err, so that errors.Is(err, voip.ErrUnauthorized) works.
func (e *UploadError) Unwrap() error { return e.Err }
