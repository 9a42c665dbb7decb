package webitel_test

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
	"github.com/pbxkit/pbxkit/webitel"
	"github.com/pbxkit/pbxkit/webitel/webiteltest"
)

// collect reads an iterator to its end.
func collect[T any](t *testing.T, seq func(func(T, error) bool)) []T {
	t.Helper()
	var out []T
	for v, err := range seq {
		require.NoError(t, err)
		out = append(out, v)
	}
	return out
}

func TestEmulatorDirectory(t *testing.T) {
	t.Parallel()
	_, c := newEmulator(t)
	ctx := t.Context()

	// Devices: create (a bare answer), read (a wrapped one), search,
	// update, delete.
	d, err := c.CreateDevice(ctx, webitel.Device{Name: "desk", Account: "desk-sip", Password: "sip-password-0123456789"})
	require.NoError(t, err)
	require.NotEmpty(t, d.ID)
	got, err := c.Device(ctx, d.ID)
	require.NoError(t, err)
	assert.Equal(t, "desk-sip", got.Account)
	found := collect(t, c.Devices(ctx, webitel.DeviceQuery{Q: "desk*"}))
	require.Len(t, found, 1)
	assert.Equal(t, d.ID, found[0].ID)
	got.Name = "front desk"
	upd, err := c.UpdateDevice(ctx, *got)
	require.NoError(t, err)
	assert.Equal(t, "front desk", upd.Name)
	require.NoError(t, c.DeleteDevice(ctx, d.ID))
	_, err = c.Device(ctx, d.ID)
	require.ErrorIs(t, err, voip.ErrNotFound)

	// Users: create, search by extension, update, delete.
	u, err := c.CreateUser(ctx, webitel.User{Name: "Леся Українка", Username: "lesya", Extension: "160"})
	require.NoError(t, err)
	byExt := collect(t, c.Users(ctx, webitel.UserQuery{Extension: "160"}))
	require.Len(t, byExt, 1)
	assert.Equal(t, "Леся Українка", byExt[0].Name)
	u.Email = "lesya@demo.example"
	u2, err := c.UpdateUser(ctx, *u)
	require.NoError(t, err)
	assert.Equal(t, "lesya@demo.example", u2.Email)
	all := collect(t, c.Users(ctx, webitel.UserQuery{PageSize: 2}))
	assert.Len(t, all, 4, "three seeded users and the new one, two a page")

	// Tokens: add (its value once), list (without values), delete.
	tok, err := c.AddUserToken(ctx, u.ID, "crm")
	require.NoError(t, err)
	require.NotEmpty(t, tok.Token)
	list := collect(t, c.UserTokens(ctx, u.ID))
	require.Len(t, list, 1)
	assert.Empty(t, list[0].Token, "a token's value is shown only when it is made")
	require.NoError(t, c.DeleteUserToken(ctx, u.ID, tok.ID))
	assert.Empty(t, collect(t, c.UserTokens(ctx, u.ID)))
	require.NoError(t, c.DeleteUser(ctx, u.ID))
	_, err = c.User(ctx, u.ID)
	require.ErrorIs(t, err, voip.ErrNotFound)
}

func TestEmulatorCallControlOverREST(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	ctx := t.Context()
	id := srv.Incoming("102", "+380501234567")
	require.True(t, srv.Answer(id))

	active := collect(t, c.ActiveCalls(ctx, webitel.ActiveQuery{}))
	require.Len(t, active, 1)
	assert.Equal(t, id, active[0].ID)
	require.NoError(t, c.Hold(ctx, id))
	require.NoError(t, c.Unhold(ctx, id))
	require.ErrorIs(t, c.DTMF(ctx, id, "5"), voip.ErrNotSupported, "REST drops a single digit: use the socket")
	_, err := c.Eavesdrop(ctx, id, webitel.Eavesdrop{FromExtension: "101", ListenA: true})
	require.NoError(t, err)
	require.NoError(t, c.BlindTransfer(ctx, id, "103"))
	assert.Equal(t, "103", srv.Transferred(id))
	require.NoError(t, c.HangupCall(ctx, id))
	assert.Empty(t, collect(t, c.ActiveCalls(ctx, webitel.ActiveQuery{})))

	// The call's files, and a part of its recording.
	files, err := c.CallFiles(ctx, id)
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var part bytes.Buffer
	n, err := c.DownloadRecordingRange(ctx, files[0].ID, 10, 100, &part)
	require.NoError(t, err)
	assert.EqualValues(t, 100, n)
	assert.Equal(t, webiteltest.Recording(files[0].ID)[10:110], part.Bytes())
}

func TestEmulatorAgents(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	ctx := t.Context()
	u := srv.AddUser(webiteltest.User{Name: "Agent Smith", Username: "smith", Extension: "170", Licensed: true})
	a, err := c.CreateAgent(ctx, webitel.Agent{User: &webitel.Lookup{ID: strconv.FormatInt(u.ID, 10)}})
	require.NoError(t, err)
	require.NotEmpty(t, a.ID)
	agents := collect(t, c.Agents(ctx, webitel.AgentQuery{UserIDs: []string{strconv.FormatInt(u.ID, 10)}}))
	require.Len(t, agents, 1)
	require.NoError(t, c.SetAgentStatus(ctx, a.ID, "online", ""))
	require.NoError(t, c.SetAgentStatus(ctx, a.ID, "pause", "lunch"))
	agents = collect(t, c.Agents(ctx, webitel.AgentQuery{UserIDs: []string{strconv.FormatInt(u.ID, 10)}}))
	require.Len(t, agents, 1)
	assert.Equal(t, "pause", agents[0].Status)
	require.Error(t, c.SetAgentStatus(ctx, a.ID, "asleep", ""), "only online, pause or offline")
}
