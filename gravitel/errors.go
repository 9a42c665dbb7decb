package gravitel

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/voip"
)

// The PBX's error messages, as in {"error":"Invalid token"}. A live PBX may
// add detail after them ("Invalid parameters: [cmd]"), so they are matched
// as prefixes.
const (
	msgInvalidToken      = "Invalid token"
	msgInvalidParameters = "Invalid parameters"
)

// errorBody is the PBX's error shape.
type errorBody struct {
	Error json.RawMessage `json:"error"`
}

// checkResponse turns every failure shape of the PBX into a *voip.APIError:
// {"error": …} with any status (the PBX sends it with 200 too), and any
// status outside 2xx with whatever text it carries.
func checkResponse(resp *rest.Response) error {
	msg, hasError := errorMessage(resp.Body)
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	if ok && !hasError {
		return nil
	}
	if !hasError {
		msg = rest.TextMessage(resp.Body)
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			// Not followed (see New): say where to, since a wrong tenant
			// name or http instead of https is the usual cause.
			msg = resp.Redirected() + ": check the endpoint"
		}
	}
	return &voip.APIError{Message: msg, Kind: errorKind(msg, resp.StatusCode)}
}

// errorMessage returns the "error" member of a JSON object body, when there
// is one that is not null, false or empty.
func errorMessage(body []byte) (string, bool) {
	b := bytes.TrimSpace(body)
	if len(b) == 0 || b[0] != '{' {
		return "", false
	}
	var e errorBody
	if json.Unmarshal(b, &e) != nil || len(e.Error) == 0 {
		return "", false
	}
	switch string(e.Error) {
	case "null", "false", `""`:
		return "", false
	}
	var s string
	if json.Unmarshal(e.Error, &s) == nil {
		return strings.TrimSpace(s), true
	}
	return string(e.Error), true // an object or a number: keep its text
}

// errorKind classifies a failure by the PBX's message first, since it sends
// errors with 200 too, then by status.
func errorKind(msg string, status int) error {
	switch {
	case hasPrefixFold(msg, msgInvalidToken):
		return voip.ErrUnauthorized
	case hasPrefixFold(msg, msgInvalidParameters):
		return voip.ErrBadRequest
	}
	if k := voip.StatusKind(status); k != nil {
		return k
	}
	if status >= 300 && status < 400 {
		// MegaFon answers a wrong tenant name with a redirect.
		return voip.ErrNotFound
	}
	return voip.ErrBadRequest // a 2xx carrying an error: the PBX refused
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
