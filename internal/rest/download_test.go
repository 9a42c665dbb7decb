package rest_test

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/internal/rest"
	"github.com/pbxkit/pbxkit/voip"
)

func TestDownloadStreamsAfterRetries(t *testing.T) {
	t.Parallel()
	audio := bytes.Repeat([]byte("RIFF-wave-"), 200_000) // 2 MB, above no limit of ours
	var n atomic.Int32
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		if n.Add(1) == 1 {
			http.Error(w, "not yet", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "audio/wav")
		_, _ = w.Write(audio)
	})
	c := newClient(t, srv.URL, func(cfg *rest.Config) { cfg.MaxBody = 1024 })
	var got bytes.Buffer
	resp, written, err := c.Download(t.Context(), &rest.Request{Method: http.MethodGet, Path: "calls/u1/audio"}, &got)
	require.NoError(t, err)
	assert.Equal(t, int64(len(audio)), written)
	assert.Equal(t, audio, got.Bytes(), "MaxBody caps what is held in memory, not what is streamed")
	assert.Equal(t, 2, resp.Attempts)
	assert.Equal(t, "audio/wav", resp.Header.Get("Content-Type"))
}

func TestDownloadErrorStatusWritesNothing(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no such record", http.StatusNotFound) })
	c := newClient(t, srv.URL)
	var got bytes.Buffer
	_, written, err := c.Download(t.Context(), &rest.Request{Method: http.MethodGet, Path: "x"}, &got)
	assert.ErrorIs(t, err, voip.ErrNotFound)
	assert.Zero(t, written)
	assert.Zero(t, got.Len())
}

func TestDownloadCheckSeesHeadersFirst(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>login</html>"))
	})
	c := newClient(t, srv.URL, func(cfg *rest.Config) {
		cfg.Check = func(resp *rest.Response) error {
			if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				return &voip.APIError{Kind: voip.ErrUnauthorized, Message: "login page"}
			}
			return rest.CheckStatus(resp)
		}
	})
	var got bytes.Buffer
	_, _, err := c.Download(t.Context(), &rest.Request{Method: http.MethodGet, Path: "x"}, &got)
	assert.ErrorIs(t, err, voip.ErrUnauthorized)
	assert.Zero(t, got.Len())
}

// TestDownloadCutBodyIsNotRetried: once bytes reached w, nothing is repeated.
func TestDownloadCutBodyIsNotRetried(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { faults["truncated"](t, w, r) })
	c := newClient(t, srv.URL)
	var got bytes.Buffer
	_, written, err := c.Download(t.Context(), &rest.Request{Method: http.MethodGet, Path: "x"}, &got)
	assert.ErrorIs(t, err, voip.ErrBadResponse)
	assert.Equal(t, int32(1), srv.hits.Load())
	assert.Equal(t, int64(got.Len()), written)
}

func TestDownloadWriterErrorIsReturned(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("audio")) })
	c := newClient(t, srv.URL)
	_, _, err := c.Download(t.Context(), &rest.Request{Method: http.MethodGet, Path: "x"}, failingWriter{})
	assert.ErrorIs(t, err, errDiskFull)
	assert.NotErrorIs(t, err, voip.ErrBadResponse, "the writer failed, not the vendor")
}

var errDiskFull = errors.New("disk full")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errDiskFull }
