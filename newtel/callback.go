package newtel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/pbxkit/pbxkit/internal/lenient"
	"github.com/pbxkit/pbxkit/voip"
)

// Callback is a POST New-Tel makes to the callbackLink of a call: at the end
// of a flash call, or when the user's call arrives in Call Password ID.
// Only callId is confirmed; the other fields are read where present.
type Callback struct {
	CallID string
	// ClientNumber, Status and UserData are unconfirmed: sent by some
	// accounts according to third-party code, absent in New-Tel's examples.
	ClientNumber string
	Status       string
	UserData     string
	ReceivedAt   time.Time
	// Raw is the body as received.
	Raw json.RawMessage
}

// callbackWire is one level of a callback body. Third-party handlers look
// for callId at the top, under data and under data.callDetails, so all
// three are read.
type callbackWire struct {
	CallID lenient.String `json:"callId"`
	// The unconfirmed fields never fail the callback, whatever their type.
	ClientNumber looseString     `json:"clientNumber"`
	Status       looseString     `json:"status"`
	UserData     looseString     `json:"userData"`
	Data         json.RawMessage `json:"data"`
	CallDetails  json.RawMessage `json:"callDetails"`
}

// ParseCallback reads a callback from r's body, at most
// voip.DefaultWebhookMaxBody bytes. A body that is longer, is not a JSON
// object, or has no callId at any level, is an error matching
// voip.ErrMalformed.
//
// Callbacks are not signed in any known example. Match CallID against the
// calls you started, compare ClientNumber where present, and put an
// unguessable token in the callbackLink's query, which NewCallbackHandler
// checks (CallbackConfig.Token) and ParseCallback does not.
func ParseCallback(r *http.Request) (*Callback, error) {
	body, err := readBody(r, "callback")
	if err != nil {
		return nil, err
	}
	return parseCallback(body, time.Now())
}

func parseCallback(body []byte, now time.Time) (*Callback, error) {
	b := bytes.TrimSpace(body)
	cb := &Callback{ReceivedAt: now.UTC(), Raw: json.RawMessage(b)}
	level := b
	for depth := 0; depth < 3 && len(level) > 0; depth++ {
		if level[0] != '{' {
			break
		}
		var w callbackWire
		if err := json.Unmarshal(level, &w); err != nil {
			if depth == 0 {
				return nil, fmt.Errorf("newtel: callback body: %w: %w", err, voip.ErrMalformed)
			}
			break // a nested level of an unexpected shape
		}
		setOnce(&cb.CallID, string(w.CallID))
		setOnce(&cb.ClientNumber, string(w.ClientNumber))
		setOnce(&cb.Status, string(w.Status))
		setOnce(&cb.UserData, string(w.UserData))
		level = bytes.TrimSpace(w.Data)
		if len(level) == 0 {
			level = bytes.TrimSpace(w.CallDetails)
		}
	}
	if len(b) == 0 || b[0] != '{' {
		return nil, fmt.Errorf("newtel: callback body is not a JSON object: %w", voip.ErrMalformed)
	}
	if cb.CallID == "" {
		return nil, fmt.Errorf("newtel: callback without callId: %w", voip.ErrMalformed)
	}
	return cb, nil
}

func setOnce(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}
