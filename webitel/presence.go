package webitel

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
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
// read. The proto's HTTP rule names no body in the version read (protos
// webitel-go/presence.proto SetStatus), where the notes saw body "*": the
// values go both in the JSON body and in the query (publish.status,
// publish.note, publish.expires, fields), so that either reading finds
// them.
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
	q := url.Values{"publish.status": {p.Status}, "publish.note": {p.Note},
		"publish.expires": {strconv.FormatInt(body.Publish.Expires, 10)}, "fields": body.Fields}
	_, err := c.do(ctx, http.MethodPatch, path, q, body, rest.Idempotent)
	return err
}
