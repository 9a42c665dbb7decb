package rest

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/pbxkit/pbxkit/voip"
)

// DecodeJSON unmarshals the body into v. A body that is not the expected
// JSON (an HTML page from a proxy, say) is an *voip.APIError matching
// voip.ErrBadResponse, with the JSON error as its cause.
func (r *Response) DecodeJSON(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return r.BadResponse(err)
	}
	return nil
}

// BadResponse reports a body this response carried that cannot be read.
func (r *Response) BadResponse(cause error) error {
	return r.complete(&voip.APIError{Kind: voip.ErrBadResponse, Err: cause})
}

// IsJSON reports whether the body looks like a JSON object or array, for
// vendors whose error bodies are sometimes JSON and sometimes text.
func (r *Response) IsJSON() bool {
	b := bytes.TrimSpace(r.Body)
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

// TextMessage is the first line of a text error body ("502 Bad Gateway"),
// or "" for an empty body, an HTML page or bytes that are not UTF-8: what a
// vendor's checker puts in APIError.Message when the body is not the
// vendor's JSON. It is not cut: the pipeline redacts every Message whole
// and then cuts it to 200 bytes, so that no part of a secret is left behind.
func TextMessage(body []byte) string {
	s := strings.TrimSpace(string(body))
	if s == "" || s[0] == '<' || !utf8.ValidString(s) {
		return ""
	}
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	return s
}

// Redirected is the message every vendor gives for a redirect, which the
// pipeline never follows: "redirected to " and the Location, which the
// pipeline redacts like every Message. A vendor may add what it means.
func (r *Response) Redirected() string {
	loc := strings.TrimSpace(r.Header.Get("Location"))
	if loc == "" {
		return "redirected without a Location"
	}
	return "redirected to " + loc
}
