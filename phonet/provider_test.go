package phonet_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/phonet"
	"github.com/pbxkit/pbxkit/voip"
	"github.com/pbxkit/pbxkit/voip/voiptest"
)

func TestProviderContract(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	bad, err := phonet.New(srv.Domain, "wrong-key-0000000", phonet.WithBaseURL(srv.BaseURL()))
	require.NoError(t, err)
	down, err := phonet.New(srv.Domain, apiKey, phonet.WithBaseURL(voiptest.UnreachableURL(t)),
		phonet.WithRetries(0, time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	voiptest.TestProvider(t, c,
		voiptest.WithBadCredentials(bad),
		voiptest.WithUnreachable(down),
		voiptest.WithRequests(func() int { return len(srv.Requests()) }),
		voiptest.WithCall("001", "+380931234567"),
		voiptest.WithRecording(voip.Call{ID: "d38f07d9-3b59-47aa-c711-94c6bebe1621"}),
	)
}

func TestProviderMapping(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	members, err := c.Members(t.Context())
	require.NoError(t, err)
	assert.Equal(t, voip.Member{ID: "36", Name: "Иван Иванов", Ext: "001", Email: "ivan@demo.phonet.com.ua"}, members[0])
	link, err := c.CallLink(t.Context(), voip.Call{ID: "x", RecordingURL: " https://h/rest/public/calls/x/audio "})
	require.NoError(t, err)
	assert.Equal(t, "https://h/rest/public/calls/x/audio", link)
	link, err = c.CallLink(t.Context(), voip.Call{ID: "abc"})
	require.NoError(t, err)
	assert.Equal(t, srv.BaseURL()+"/rest/public/calls/abc/audio", link)
	// The plain uuid of events links to the dashed form of the history.
	link, err = c.CallLink(t.Context(), voip.Call{ID: "D38F07D93B5947AAC71194C6BEBE1621"})
	require.NoError(t, err)
	assert.Equal(t, srv.BaseURL()+"/rest/public/calls/d38f07d9-3b59-47aa-c711-94c6bebe1621/audio", link)
	_, err = c.CallLink(t.Context(), voip.Call{})
	var argErr *voip.ArgError
	require.ErrorAs(t, err, &argErr)
	assert.Equal(t, "CallLink", argErr.Func)
	assert.ErrorIs(t, err, voip.ErrBadRequest)
	assert.ErrorIs(t, err, voip.ErrNotFound, "as on every vendor: no recording can be named")
}
