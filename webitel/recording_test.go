package webitel_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
	"github.com/pbxkit/pbxkit/webitel"
)

// recordingBytes is the recording the storage stub serves.
var recordingBytes = []byte(strings.Repeat("RIFF-audio-", 100))

// storageStub serves /api/storage/recordings/555/{download,stream} to the
// token in the header only, honouring Range on stream unless ignoreRange.
func storageStub(ignoreRange bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Webitel-Access") != restToken {
			restJSON(w, 401, `{"id":"api.context.unauthorized","code":401}`)
			return
		}
		switch r.URL.Path {
		case "/api/storage/recordings/555/download":
			w.Header().Set("Content-Type", "audio/mpeg")
			_, _ = w.Write(recordingBytes)
		case "/api/storage/recordings/555/stream":
			if ignoreRange {
				_, _ = w.Write(recordingBytes)
				return
			}
			http.ServeContent(w, r, "rec.mp3", time.Time{}, bytes.NewReader(recordingBytes))
		case "/api/storage/recordings/403/download":
			restJSON(w, 403, `{"id":"call.recordings.access.forbidden","code":403,"detail":"period_to_playback_records"}`)
		default:
			restJSON(w, 404, `{"id":"app.file.not_found","code":404}`)
		}
	}
}

func TestDownloadRecording(t *testing.T) {
	t.Parallel()
	s, c := newRESTServer(t, storageStub(false))
	var buf bytes.Buffer
	n, err := c.DownloadRecording(t.Context(), "555", &buf)
	require.NoError(t, err)
	assert.Equal(t, int64(len(recordingBytes)), n)
	assert.Equal(t, recordingBytes, buf.Bytes())
	assert.NotContains(t, s.requests()[0].RawQuery, restToken, "the token is in the header, not the URL")

	_, err = c.DownloadRecording(t.Context(), "403", &bytes.Buffer{})
	require.ErrorIs(t, err, voip.ErrForbidden)
	_, err = c.DownloadRecording(t.Context(), "404", &bytes.Buffer{})
	require.ErrorIs(t, err, voip.ErrNotFound)
	var arg *voip.ArgError
	_, err = c.DownloadRecording(t.Context(), "", &bytes.Buffer{})
	require.ErrorAs(t, err, &arg)
}

func TestDownloadRecordingRange(t *testing.T) {
	t.Parallel()
	s, c := newRESTServer(t, storageStub(false))
	var buf bytes.Buffer
	n, err := c.DownloadRecordingRange(t.Context(), "555", 11, 22, &buf)
	require.NoError(t, err)
	assert.Equal(t, int64(22), n)
	assert.Equal(t, recordingBytes[11:33], buf.Bytes())
	assert.Equal(t, "bytes=11-32", s.requests()[0].Header.Get("Range"))

	buf.Reset()
	n, err = c.DownloadRecordingRange(t.Context(), "555", 1000, 0, &buf)
	require.NoError(t, err)
	assert.Equal(t, recordingBytes[1000:], buf.Bytes(), "length 0 reads to the end")
	assert.Equal(t, int64(len(recordingBytes)-1000), n)

	_, err = c.DownloadRecordingRange(t.Context(), "555", 5000, 0, &bytes.Buffer{})
	require.Error(t, err, "416 past the end")

	var arg *voip.ArgError
	_, err = c.DownloadRecordingRange(t.Context(), "555", -1, 0, &bytes.Buffer{})
	require.ErrorAs(t, err, &arg)
}

// TestDownloadRecordingRangeIgnored: a server that answers 200 (the whole
// file) to a Range is refused before a byte reaches the writer.
func TestDownloadRecordingRangeIgnored(t *testing.T) {
	t.Parallel()
	_, c := newRESTServer(t, storageStub(true))
	var buf bytes.Buffer
	n, err := c.DownloadRecordingRange(t.Context(), "555", 10, 10, &buf)
	require.ErrorIs(t, err, voip.ErrBadResponse)
	assert.Zero(t, n)
	assert.Zero(t, buf.Len())
}

func TestRecordingURLAndCallLink(t *testing.T) {
	t.Parallel()
	s, c := newRESTServer(t, restRoutes{
		"GET /api/calls/history":   restOK(historySample),
		"GET /api/calls/c9/files":  restOK(`{"items":[{"id":"777","type":"file_type_screenshot"},{"id":"778","mime_type":"audio/wav"}]}`),
		"GET /api/calls/c10/files": restOK(`{"items":[]}`),
	}.handler)
	link := c.RecordingURL("555")
	assert.Equal(t, s.URL+"/api/storage/recordings/555/download", link)
	assert.NotContains(t, link, restToken)
	assert.NotContains(t, link, "access_token")

	var first voip.Call
	for h, err := range c.History(t.Context(), webitel.HistoryQuery{Number: "1"}) {
		require.NoError(t, err)
		first = h.Call()
		break
	}
	var p voip.Provider = c
	got, err := p.CallLink(t.Context(), first)
	require.NoError(t, err)
	assert.Equal(t, link, got, "read from the record's files, without a request")
	assert.Len(t, s.requests(), 1)

	got, err = p.CallLink(t.Context(), voip.Call{ID: "c9"})
	require.NoError(t, err)
	assert.Equal(t, s.URL+"/api/storage/recordings/778/download", got, "the first audio file")

	_, err = p.CallLink(t.Context(), voip.Call{ID: "c10"})
	require.ErrorIs(t, err, voip.ErrNotFound)
	got, err = p.CallLink(t.Context(), voip.Call{RecordingURL: "https://x/y"})
	require.NoError(t, err)
	assert.Equal(t, "https://x/y", got)
	var arg *voip.ArgError
	_, err = p.CallLink(t.Context(), voip.Call{})
	require.ErrorAs(t, err, &arg)
}

// TestDownloadRecordingHTMLPage: a portal's page served with 200 is not a
// recording: nothing reaches the writer.
func TestDownloadRecordingHTMLPage(t *testing.T) {
	t.Parallel()
	_, c := newRESTServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<html>sign in</html>"))
	})
	var buf bytes.Buffer
	n, err := c.DownloadRecording(t.Context(), "555", &buf)
	require.ErrorIs(t, err, voip.ErrBadResponse)
	assert.Zero(t, n)
	assert.Zero(t, buf.Len())
}
