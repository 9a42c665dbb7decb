package rest

import (
	"bytes"
	"encoding/json"

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
