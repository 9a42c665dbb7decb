package webitel

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/internal/rest"
)

// Presence is what [Client.SetPresence] publishes (protos
// webitel-go/presence.proto): Status is a presence word such as "dnd", Note
// a free text, Expires how long it holds (0: until changed).
type Presence struct {
	Status, Note string
	Expires      time.Duration
}

// SetPresence publishes a user's presence (PATCH
// /api/users/{id}/presence); an empty userID sets the token's own user's
// (PATCH /api/presence). Status, note and expiry are all sent: an empty
// Status clears it. Publishing twice is harmless, so it is retried like a
// read. Only the shape from the proto is known: how each status word
// affects call routing is the tenant's.
func (c *Client) SetPresence(ctx context.Context, userID string, p Presence) error {
	if p.Expires < 0 {
		return argError("SetPresence", "Presence.Expires", errNegative)
	}
	path := "presence"
	if id := strings.TrimSpace(userID); id != "" {
		path = "users/" + url.PathEscape(id) + "/presence"
	}
	type publish struct {
		Status  string `json:"status"`
		Note    string `json:"note"`
		Expires int64  `json:"expires"`
	}
	body := struct {
		Publish publish  `json:"publish"`
		Fields  []string `json:"fields"`
	}{publish{p.Status, p.Note, int64(p.Expires / time.Second)}, []string{"status", "note", "expires"}}
	_, err := c.do(ctx, http.MethodPatch, path, nil, body, rest.Idempotent)
	return err
}
