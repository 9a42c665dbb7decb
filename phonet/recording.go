package phonet

import (
	"context"
	"errors"
	"fmt"
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

// recordingID is the id a recording link names: a uuid of 32 hex digits,
// dashed or not, in the dashed 8-4-4-4-12 form the history's audioRecUrl
// shows, and any other id as given. Events and voip values carry the plain
// form (see [NormalizeUUID]), so the link must be rebuilt from them.
func recordingID(uuid string) string {
	id := NormalizeUUID(uuid)
	if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
		return strings.TrimSpace(uuid)
	}
	return id[:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:]
}

// recordingPath is the path of the recording of id, as given.
func recordingPath(id string, ch Channel) string {
	switch ch {
	case ChannelRx:
		id += "-rx"
	case ChannelTx:
		id += "-tx"
	}
	return "/rest/public/calls/" + url.PathEscape(id) + "/audio"
}

// RecordingURL returns the link to a call's recording on the tenant host,
// as history records carry it in audioRecUrl: a uuid of 32 hex digits,
// plain as events and voip values carry it or dashed, is written dashed;
// any other id as given. Whether the link needs the session cookie, and
// whether it expires, is not known.
func (c *Client) RecordingURL(uuid string, ch Channel) string {
	u := *c.base
	u.Path = recordingPath(recordingID(uuid), ch)
	return u.String()
}

// DownloadRecording streams a call's recording into w and returns the
// number of bytes written. uuid is the call's id in any form: the plain
// one of events and voip values, or the history's dashed one. The
// recording is asked for at [Client.RecordingURL]'s link and, when that is
// not found and uuid was given in another form, at the uuid as given.
//
// It asks without the session cookie first (the path is "public") and,
// when refused (401, 403, a redirect to the login page, an HTML page),
// again with the session. A recording that does not exist (yet: it appears
// after the call ends) matches voip.ErrNotFound. Retries stop once the
// first byte reached w. An empty uuid or an unknown channel is a
// *voip.ArgError, and nothing is sent.
func (c *Client) DownloadRecording(ctx context.Context, uuid string, ch Channel, w io.Writer) (int64, error) {
	given := strings.TrimSpace(uuid)
	if given == "" {
		return 0, argError("DownloadRecording", "uuid", errors.New("empty"))
	}
	if ch < ChannelMixed || ch > ChannelTx {
		return 0, argError("DownloadRecording", "channel", fmt.Errorf("unknown channel %d", ch))
	}
	id := recordingID(given)
	n, err := c.download(ctx, recordingPath(id, ch), w)
	if id != given && errors.Is(err, voip.ErrNotFound) {
		// A tenant whose links name the id another way: try it as given.
		return c.download(ctx, recordingPath(given, ch), w)
	}
	return n, err
}

// download fetches one recording path without the session, then with it.
func (c *Client) download(ctx context.Context, path string, w io.Writer) (int64, error) {
	req := &rest.Request{Method: http.MethodGet, Path: path}
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
