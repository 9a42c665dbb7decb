package webitel

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/pbxkit/pbxkit/internal/rest"
)

// recordingPath is a recording on the storage service, behind the gateway
// (webitel/storage apis/call_record_files.go; nginx maps
// /api/storage/recordings/… to it).
func recordingPath(fileID, kind string) string {
	return "storage/recordings/" + url.PathEscape(fileID) + "/" + kind
}

// DownloadRecording streams a call recording into w (GET
// /api/storage/recordings/{id}/download) and returns the number of bytes
// written. fileID is a [File] ID from HistoryCall.Files or
// [Client.CallFiles]. The token goes in the X-Webitel-Access header, never
// in the URL. A refusal by the domain's playback period or the user's
// permissions matches voip.ErrForbidden (call.recordings.access.forbidden),
// an unknown file voip.ErrNotFound. Retries stop once the first byte
// reached w.
func (c *Client) DownloadRecording(ctx context.Context, fileID string, w io.Writer) (int64, error) {
	fileID = strings.TrimSpace(fileID)
	if fileID == "" {
		return 0, argError("DownloadRecording", "fileID", errEmpty)
	}
	_, n, err := c.api.Download(ctx, &rest.Request{Method: http.MethodGet, Path: recordingPath(fileID, "download")}, w)
	return n, err
}

// DownloadRecordingRange streams length bytes of a recording from offset
// into w (GET /api/storage/recordings/{id}/stream with a Range header), for
// a player that seeks or a download that resumes; length 0 means to the
// end. The server must answer 206: a 200 (the whole file) is an error
// matching voip.ErrBadResponse before a byte is written, and a range past
// the end (416) an error too.
func (c *Client) DownloadRecordingRange(ctx context.Context, fileID string, offset, length int64, w io.Writer) (int64, error) {
	fileID = strings.TrimSpace(fileID)
	switch {
	case fileID == "":
		return 0, argError("DownloadRecordingRange", "fileID", errEmpty)
	case offset < 0:
		return 0, argError("DownloadRecordingRange", "offset", fmt.Errorf("%d is negative", offset))
	case length < 0 || length > 0 && offset > (1<<63-1)-length:
		return 0, argError("DownloadRecordingRange", "length", fmt.Errorf("%d is out of range", length))
	}
	rng := "bytes=" + strconv.FormatInt(offset, 10) + "-"
	if length > 0 {
		rng += strconv.FormatInt(offset+length-1, 10)
	}
	req := &rest.Request{Method: http.MethodGet, Path: recordingPath(fileID, "stream"), Header: http.Header{"Range": {rng}}}
	_, n, err := c.ranged.Download(ctx, req, w)
	return n, err
}

// RecordingURL is the download link of a recording, without the token:
// the integration token grants the whole API, and a link is stored by a
// CRM and shown to people. Fetching it needs the token in the
// X-Webitel-Access header (or an Authorization: Bearer one), as
// [Client.DownloadRecording] sends it.
func (c *Client) RecordingURL(fileID string) string {
	return c.base.String() + "/api/" + recordingPath(strings.TrimSpace(fileID), "download")
}
