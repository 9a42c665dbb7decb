package webitel_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
	"github.com/pbxkit/pbxkit/webitel"
)

func TestSetPresence(t *testing.T) {
	t.Parallel()
	s, c := newRESTServer(t, restRoutes{
		"PATCH /api/users/5/presence": restOK(`{}`),
		"PATCH /api/presence":         restOK(`{}`),
	}.handler)
	require.NoError(t, c.SetPresence(t.Context(), "5", webitel.Presence{Status: "dnd", Note: "meeting", Expires: time.Hour}))
	require.NoError(t, c.SetPresence(t.Context(), "", webitel.Presence{}))
	reqs := s.requests()
	assert.JSONEq(t, `{"publish":{"status":"dnd","note":"meeting","expires":3600},"fields":["status","note","expires"]}`, reqs[0].Body)
	assert.Equal(t, "fields=status&fields=note&fields=expires&publish.expires=3600&publish.note=meeting&publish.status=dnd", reqs[0].RawQuery)
	assert.Equal(t, "/api/presence", reqs[1].Path)
	var arg *voip.ArgError
	require.ErrorAs(t, c.SetPresence(t.Context(), "5", webitel.Presence{Expires: -time.Second}), &arg)
}
