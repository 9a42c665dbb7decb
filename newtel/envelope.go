package newtel

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/voip"
)

// envelope is the top level of every answer: {"status", "message", "data"}.
// The fields are raw so that an unexpected type (a number, an object) still
// decodes and is read as text rather than failing the whole answer.
type envelope struct {
	Status  rawText         `json:"status"`
	Message rawText         `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// result is the method level inside data: {"result", "message"}.
type result struct {
	Result  rawText `json:"result"`
	Message rawText `json:"message"`
}

// rawText is a raw JSON value read as text, which null leaves as it was:
// encoding/json does the same to the strings of the fast decoders, so an
// answer that repeats "status", the last time as null, reads the same on
// both paths.
type rawText json.RawMessage

func (r *rawText) UnmarshalJSON(b []byte) error {
	if string(b) != "null" {
		*r = append((*r)[:0], b...)
	}
	return nil
}

const success = "success"

// checkResponse is the rest.Check of the client: an answer outside 2xx is
// an error, its envelope decoded for the message since New-Tel sends one
// with errors too. A 2xx answer passes here and is decoded once, failure or
// not, by Client.call: decoding it twice doubled the cost of a request.
func checkResponse(resp *rest.Response) error {
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		return nil
	case s >= 300 && s < 400:
		// Not followed (see New): a wrong base URL, as on every vendor.
		return &voip.APIError{Kind: voip.ErrNotFound, Message: resp.Redirected() + ": check the base URL"}
	}
	if _, e := decodeEnvelope(resp.StatusCode, resp.Body); e != nil {
		return e
	}
	return nil // unreachable: decodeEnvelope fails every status outside 2xx
}

// decodeEnvelope returns the data member of a successful answer, or an
// *voip.APIError for a failed one: either level not "success", a status
// outside 2xx, or a body that is not the envelope. The error is incomplete;
// rest fills in the status, URL and body excerpt.
func decodeEnvelope(status int, body []byte) (json.RawMessage, *voip.APIError) {
	ok := status >= 200 && status < 300
	b := bytes.TrimSpace(body)
	var env envelope
	if len(b) == 0 || b[0] != '{' {
		if ok {
			return nil, &voip.APIError{Kind: voip.ErrBadResponse, Err: errors.New("newtel: the answer is not a JSON envelope")}
		}
		return nil, &voip.APIError{Message: rest.TextMessage(b), Kind: classify(status, "")}
	}
	if err := json.Unmarshal(b, &env); err != nil {
		if ok {
			return nil, &voip.APIError{Kind: voip.ErrBadResponse, Err: err}
		}
		return nil, &voip.APIError{Message: rest.TextMessage(b), Kind: classify(status, "")}
	}
	var res result
	dataIsObject := bytes.HasPrefix(bytes.TrimSpace(env.Data), []byte("{"))
	if dataIsObject {
		_ = json.Unmarshal(env.Data, &res) // a data object that is not one is the payload's problem
	}
	top, inner := text(env.Status), text(res.Result)
	switch {
	case top == "":
		if ok {
			return nil, &voip.APIError{Kind: voip.ErrBadResponse, Err: errors.New(`newtel: the answer has no "status"`)}
		}
		msg := firstText(env.Message, res.Message)
		return nil, &voip.APIError{Message: msg, Kind: classify(status, msg)}
	case !strings.EqualFold(top, success):
		msg := firstText(env.Message, res.Message)
		return nil, &voip.APIError{Message: msg, Kind: classify(status, msg)}
	case inner != "" && !strings.EqualFold(inner, success):
		msg := firstText(res.Message, env.Message)
		return nil, &voip.APIError{Message: msg, Kind: classify(status, msg)}
	case !ok:
		// Both levels say success but the status does not: a redirect that
		// was not followed, or a proxy's answer.
		kind := voip.StatusKind(status)
		if kind == nil {
			kind = voip.ErrBadResponse
		}
		return nil, &voip.APIError{Message: firstText(res.Message, env.Message), Kind: kind}
	}
	return env.Data, nil
}

// fastEnvelope is the envelope as New-Tel is seen to send it, all strings.
// It decodes several times faster than envelope's raw fields, and an answer
// it cannot take (a number for a string, say) falls back to decodeEnvelope.
type fastEnvelope struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	Data    *struct {
		Result  string `json:"result"`
		Message string `json:"message"`
	} `json:"data"`
}

// checkEnvelope is decodeEnvelope without the data, for the success path of
// every call. hasData reports a data member that is not null.
func checkEnvelope(status int, body []byte) (hasData bool, e *voip.APIError) {
	var f fastEnvelope
	if status < 200 || status > 299 || json.Unmarshal(body, &f) != nil || !strings.EqualFold(f.Status, success) ||
		(f.Data != nil && f.Data.Result != "" && !strings.EqualFold(f.Data.Result, success)) {
		data, e := decodeEnvelope(status, body)
		return len(data) > 0 && string(data) != "null", e
	}
	return f.Data != nil, nil
}

// classify picks the error class: the HTTP status when it says one, else the
// message. New-Tel's messages are not catalogued, so the words are a guess
// that errs towards ErrBadRequest.
func classify(status int, msg string) error {
	if k := voip.StatusKind(status); k != nil {
		return k
	}
	m := strings.ToLower(msg)
	for _, w := range []string{"auth", "token", "signature", "sign ", "key", "подпис", "авториз", "ключ", "токен"} {
		if strings.Contains(m, w) {
			return voip.ErrUnauthorized
		}
	}
	for _, w := range []string{"too many", "rate limit", "слишком много", "частот"} {
		if strings.Contains(m, w) {
			return voip.ErrRateLimited
		}
	}
	return voip.ErrBadRequest
}

// text reads a raw JSON value as text: a string unquoted and trimmed, null
// as "", anything else as its JSON.
func text(raw rawText) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' && bytes.IndexByte(raw[1:n-1], '\\') < 0 && bytes.IndexByte(raw[1:n-1], '"') < 0 {
		// The usual case, "success", without the cost of a decoder.
		return strings.TrimSpace(string(raw[1 : n-1]))
	}
	var s string
	if raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	return string(raw)
}

func firstText(raws ...rawText) string {
	for _, r := range raws {
		if s := text(r); s != "" {
			return s
		}
	}
	return ""
}
