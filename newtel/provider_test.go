package newtel_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/newtel"
	"github.com/pbxkit/pbxkit/newtel/newteltest"
	"github.com/pbxkit/pbxkit/voip"
	"github.com/pbxkit/pbxkit/voip/voiptest"
)

func TestProviderContract(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	bad, err := newtel.New(accessKey, "0000"+signKey[4:], newtel.WithBaseURL(srv.BaseURL()))
	require.NoError(t, err)
	down, err := newtel.New(accessKey, signKey, newtel.WithBaseURL(voiptest.UnreachableURL(t)+"/"),
		newtel.WithRetries(0, time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	voiptest.TestProvider(t, c,
		voiptest.WithCall("100", "+79001234567"),
		voiptest.WithBadCredentials(bad),
		voiptest.WithUnreachable(down),
		voiptest.WithRequests(func() int { return len(srv.Requests()) }),
		voiptest.WithRecording(voip.Call{ID: "vpbx-1", RecordingURL: srv.URL + "/records/vpbx-1.mp3"}),
	)
}

func TestGenerateCallRingsTheExtensionFirst(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	id, err := c.GenerateCall(t.Context(), "101", "+7 900 123-45-67")
	require.NoError(t, err)
	calls := srv.Calls()
	require.Len(t, calls, 1)
	assert.Equal(t, newteltest.PlacedCall{Method: newtel.MethodStartSimpleCall, CallID: id, SrcNumber: "101",
		DstNumber: "79001234567", At: calls[0].At}, calls[0])
}

func TestMembersAndCallLinkNotSupported(t *testing.T) {
	t.Parallel()
	_, c := newEmulator(t)
	_, err := c.Members(t.Context())
	assert.ErrorIs(t, err, voip.ErrNotSupported)
	_, err = c.CallLink(t.Context(), voip.Call{ID: "x"})
	assert.ErrorIs(t, err, voip.ErrNotSupported)
	link, err := c.CallLink(t.Context(), voip.Call{RecordingURL: "https://records.new-tel.net/file.mp3"})
	require.NoError(t, err)
	assert.Equal(t, "https://records.new-tel.net/file.mp3", link)
}
