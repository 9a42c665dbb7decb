package phonet_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/phonet"
	"github.com/pbxkit/pbxkit/phonet/phonettest"
	"github.com/pbxkit/pbxkit/voip"
)

// TestRecordingOfEveryCallID: calls carry their uuid plain (socket,
// webhooks, makeCall, voip ids) while the emulator, as the history's
// audioRecUrl shows, serves the audio at the dashed form. Every id a CRM
// holds reaches the recording, and so does the link CallLink builds.
func TestRecordingOfEveryCallID(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	hooks := phonettest.Webhooks{URL: newWebhook(t, (&crm{}).config())}

	// A call from the socket's id, a placed call's and a webhook's.
	socketID := srv.Incoming("001", "+380501234567")
	require.True(t, srv.Answer(socketID))
	require.True(t, srv.Hangup(socketID))
	placedID, err := c.GenerateCall(t.Context(), "002", "+380931234567")
	require.NoError(t, err)
	require.NoError(t, srv.PlayOutbound(t.Context(), hooks, srv.Calls()[0], time.Second, 20*time.Second))
	hookID, err := srv.PlayInbound(t.Context(), hooks, phonettest.InboundCall{Client: "+380501234568", Ext: "003", Ring: time.Second, Talk: 5 * time.Second})
	require.NoError(t, err)

	records := map[string]phonet.Record{}
	for r, err := range c.CompanyCalls(t.Context(), phonet.HistoryQuery{From: time.Now().Add(-time.Hour)}) {
		require.NoError(t, err)
		records[r.Call().ID] = r
	}
	for _, id := range []string{socketID, placedID, hookID} {
		require.Len(t, id, 32, "a plain uuid")
		rec, ok := records[id]
		require.True(t, ok, "the call %s is in the history", id)
		require.Len(t, rec.UUID, 36, "which writes it dashed")
		want := phonettest.Recording(rec.UUID)
		for _, given := range []string{id, rec.Call().ID, rec.UUID, strings.ToUpper(rec.UUID)} {
			var buf bytes.Buffer
			n, err := c.DownloadRecording(t.Context(), given, phonet.ChannelMixed, &buf)
			require.NoError(t, err, given)
			assert.EqualValues(t, len(want), n)
			assert.Equal(t, want, buf.Bytes(), given)
		}
		link, err := c.CallLink(t.Context(), voip.Call{ID: id})
		require.NoError(t, err)
		assert.Equal(t, strings.Replace(rec.AudioRecURL, "https://"+srv.Domain, srv.BaseURL(), 1), link)
		resp, err := http.Get(link)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, want, body, "the link CallLink built")
	}
}

// TestDownloadRecordingFallsBackToTheIDAsGiven: a tenant that names
// recordings by the plain uuid answers the dashed form 404; the id as
// given is tried next, and only then.
func TestDownloadRecordingFallsBackToTheIDAsGiven(t *testing.T) {
	t.Parallel()
	const plain = "47a968893984475b8c20e29dec144ce3"
	var (
		mu    sync.Mutex
		paths []string
	)
	s, c := newStub(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		if r.URL.Path != "/rest/public/calls/"+plain+"-rx/audio" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("ID3 audio"))
	})
	var buf bytes.Buffer
	n, err := c.DownloadRecording(t.Context(), plain, phonet.ChannelRx, &buf)
	require.NoError(t, err)
	assert.EqualValues(t, 9, n)
	assert.Equal(t, []string{"/rest/public/calls/47a96889-3984-475b-8c20-e29dec144ce3-rx/audio", "/rest/public/calls/" + plain + "-rx/audio"}, paths)

	// The dashed form given: one request, and its 404 stands.
	paths = nil
	_, err = c.DownloadRecording(t.Context(), "47a96889-3984-475b-8c20-e29dec144ce3", phonet.ChannelRx, &buf)
	require.ErrorIs(t, err, voip.ErrNotFound)
	assert.Len(t, paths, 1)
	assert.EqualValues(t, 3, s.hits.Load())
}

// TestDownloadRecordingArguments: an empty uuid or an unknown channel is
// refused before anything is sent.
func TestDownloadRecordingArguments(t *testing.T) {
	t.Parallel()
	s, c := newStub(t, reply(http.StatusOK, "audio"))
	for _, tc := range []struct {
		uuid string
		ch   phonet.Channel
		arg  string
	}{{"", phonet.ChannelMixed, "uuid"}, {"  ", phonet.ChannelTx, "uuid"}, {"abc", phonet.Channel(3), "channel"}, {"abc", -1, "channel"}} {
		_, err := c.DownloadRecording(t.Context(), tc.uuid, tc.ch, io.Discard)
		require.ErrorIs(t, err, voip.ErrBadRequest)
		var argErr *voip.ArgError
		require.ErrorAs(t, err, &argErr)
		assert.Equal(t, voip.ArgError{Vendor: phonet.Vendor, Func: "DownloadRecording", Arg: tc.arg, Err: argErr.Err}, *argErr)
	}
	assert.Zero(t, s.hits.Load())
}
