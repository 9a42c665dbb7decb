package webitel_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
	"github.com/pbxkit/pbxkit/webitel"
)

func TestAgents(t *testing.T) {
	t.Parallel()
	agent := `{"id":"9","user":{"id":"123","name":"John"},"name":"John","extension":"101","status":"pause",
		"last_status_change":"1714550000000","status_duration":"60","allow_channels":["call","chat"],"progressive_count":1,
		"team":{"id":"2","name":"Sales"},"is_supervisor":false}`
	s, c := newRESTServer(t, restRoutes{
		"POST /api/call_center/agents":           restOK(agent),
		"GET /api/call_center/agents":            restOK(`{"next":false,"items":[` + agent + `]}`),
		"PATCH /api/call_center/agents/9/status": restOK(`{"status":"OK"}`),
		"PATCH /api/call_center/agents/8/status": restOK(`{"status":"FAIL"}`),
	}.handler)
	a, err := c.CreateAgent(t.Context(), webitel.Agent{User: &webitel.Lookup{ID: "123"}, AllowChannels: []string{"call"}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"user":{"id":"123"},"progressive_count":1,"allow_channels":["call"]}`, s.requests()[0].Body)
	assert.Equal(t, "9", a.ID)
	assert.Equal(t, time.Minute, a.StatusDuration)
	assert.Equal(t, []string{"call", "chat"}, a.AllowChannels)

	var list []webitel.Agent
	for a, err := range c.Agents(t.Context(), webitel.AgentQuery{UserIDs: []string{"123"}}) {
		require.NoError(t, err)
		list = append(list, a)
	}
	require.Len(t, list, 1)
	assert.Equal(t, "pause", list[0].Status)
	assert.Contains(t, s.requests()[1].RawQuery, "user_id=123")

	require.NoError(t, c.SetAgentStatus(t.Context(), "9", "pause", "lunch"))
	assert.JSONEq(t, `{"status":"pause","payload":"lunch"}`, s.requests()[2].Body)
	require.NoError(t, c.SetAgentStatus(t.Context(), "9", "online", "ignored"))
	assert.JSONEq(t, `{"status":"online"}`, s.requests()[3].Body)
	require.ErrorIs(t, c.SetAgentStatus(t.Context(), "8", "offline", ""), voip.ErrBadResponse)

	n := len(s.requests())
	var arg *voip.ArgError
	require.ErrorAs(t, c.SetAgentStatus(t.Context(), "9", "break_out", ""), &arg)
	assert.Equal(t, "status", arg.Arg)
	require.ErrorAs(t, c.SetAgentStatus(t.Context(), "", "online", ""), &arg)
	_, err = c.CreateAgent(t.Context(), webitel.Agent{})
	require.ErrorAs(t, err, &arg)
	assert.Len(t, s.requests(), n)
}
