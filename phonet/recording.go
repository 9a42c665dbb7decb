package phonet

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/voip"
)

// Channel selects a recording's audio: both parties, or one side only.
type Channel int8

// The channels. The split ones are single-sourced (a summary of Phonet's
// PDF) and may not exist on every tenant.
const (
	ChannelMixed Channel = iota // /rest/public/calls/{uuid}/audio
	ChannelRx                   // {uuid}-rx: what the PBX received
	ChannelTx                   // {uuid}-tx: what the PBX sent
)

// recordingPath is the path of a call's recording.
func recordingPath(uuid string, ch Channel) string {
	id := strings.TrimSpace(uuid)
	switch ch {
	case ChannelRx:
		id += "-rx"
	case ChannelTx:
		id += "-tx"
	}
	return "/rest/public/calls/" + url.PathEscape(id) + "/audio"
}

// RecordingURL returns the link to a call's recording on the tenant host,
// the same that history records carry in audioRecUrl. Whether it needs the
// session cookie, and whether it expires, is not known.
func (c *Client) RecordingURL(uuid string, ch Channel) string {
	u := *c.base
	u.Path = recordingPath(uuid, ch)
	return u.String()
}

// DownloadRecording streams a call's recording into w and returns the
// number of bytes written. It asks without the session cookie first (the
// path is "public") and, when refused (401, 403, a redirect to the login
// page, an HTML page), again with the session. A recording that does not
// exist (yet: it appears after the call ends) matches voip.ErrNotFound.
// Retries stop once the first byte reached w.
func (c *Client) DownloadRecording(ctx context.Context, uuid string, ch Channel, w io.Writer) (int64, error) {
	if strings.TrimSpace(uuid) == "" {
		return 0, &voip.APIError{Vendor: Vendor, Kind: voip.ErrBadRequest, Message: "DownloadRecording needs a uuid"}
	}
	if ch < ChannelMixed || ch > ChannelTx {
		return 0, &voip.APIError{Vendor: Vendor, Kind: voip.ErrBadRequest, Message: "unknown recording channel"}
	}
	req := &rest.Request{Method: http.MethodGet, Path: recordingPath(uuid, ch)}
	_, n, err := c.media.Download(noCookie(ctx), req, w)
	if err == nil || !refused(err) {
		return n, err
	}
	gen, err := c.sess.ensure(ctx, c.authorize)
	if err != nil {
		return 0, err
	}
	_, n, err = c.media.Download(ctx, req, w)
	if err != nil && refused(err) {
		// The session may have expired just now: renew it once.
		if rerr := c.sess.renew(ctx, gen, c.authorize); rerr != nil {
			return 0, rerr
		}
		_, n, err = c.media.Download(ctx, req, w)
	}
	return n, err
}
