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

// maxTextMessage caps the message TextMessage keeps.
const maxTextMessage = 200

// TextMessage is a one-line message from a text error body ("502 Bad
// Gateway"), at most 200 bytes, or "" for an empty body, an HTML page or
// bytes that are not UTF-8: what a vendor's checker puts in
// APIError.Message when the body is not the vendor's JSON.
func TextMessage(body []byte) string {
	s := strings.TrimSpace(string(body))
	if s == "" || s[0] == '<' || !utf8.ValidString(s) {
		return ""
	}
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > maxTextMessage {
		n := maxTextMessage
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "…"
	}
	return s
}
