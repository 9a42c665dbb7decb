package webitel_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
	"github.com/pbxkit/pbxkit/webitel"
)

// seedDevice is the seed article's answer to POST /api/devices.
const seedDevice = `{ "id": "7287", "name": "device for user 1", "account": "sipUser1", "password": "BNZdVLryFwcB", "user": {}, "logged_in": "1682943253855", "created_at": "1682943253855", "created_by": { "id": "130", "name": "Administrator" }, "updated_at": "1682943253855", "updated_by": { "id": "130", "name": "Administrator" } }`

func TestCreateDeviceBare(t *testing.T) {
	t.Parallel()
	s, c := newRESTServer(t, restRoutes{"POST /api/devices": restOK(seedDevice)}.handler)
	d, err := c.CreateDevice(t.Context(), webitel.Device{Name: "device for user 1", Account: "sipUser1", Password: "BNZdVLryFwcB"})
	require.NoError(t, err)
	at := time.UnixMilli(1682943253855).UTC()
	assert.Equal(t, webitel.Device{ID: "7287", Name: "device for user 1", Account: "sipUser1", Password: "BNZdVLryFwcB",
		LoggedIn: at, CreatedAt: at, UpdatedAt: at, CreatedBy: &webitel.Lookup{ID: "130", Name: "Administrator"},
		UpdatedBy: &webitel.Lookup{ID: "130", Name: "Administrator"}}, *d)
	assert.JSONEq(t, `{"name":"device for user 1","account":"sipUser1","password":"BNZdVLryFwcB"}`, s.requests()[0].Body)
}

func TestDeviceWrapped(t *testing.T) {
	t.Parallel()
	s, c := newRESTServer(t, restRoutes{
		"GET /api/devices/7287":    restOK(`{"device":` + seedDevice + `}`),
		"POST /api/devices":        restOK(`{"device":{"id":7288,"account":"a2"}}`),
		"PUT /api/devices/7287":    restOK(`{"updated":{"id":"7287","name":"renamed","user":{"id":"5","name":"Olena"}}}`),
		"DELETE /api/devices/7287": restOK(`{"deleted":[{"id":"7287"}]}`),
	}.handler)
	d, err := c.Device(t.Context(), "7287")
	require.NoError(t, err)
	assert.Equal(t, "sipUser1", d.Account)
	d2, err := c.CreateDevice(t.Context(), webitel.Device{Account: "a2"})
	require.NoError(t, err)
	assert.Equal(t, "7288", d2.ID, "an int64 id sent as a number reads as a string")
	d3, err := c.UpdateDevice(t.Context(), webitel.Device{ID: "7287", Name: "renamed", User: &webitel.Lookup{ID: "5"}})
	require.NoError(t, err)
	assert.Equal(t, &webitel.Lookup{ID: "5", Name: "Olena"}, d3.User)
	assert.JSONEq(t, `{"id":"7287","name":"renamed","user":{"id":"5"}}`, s.requests()[2].Body, "ids are sent as strings")
	require.NoError(t, c.DeleteDevice(t.Context(), "7287"))
	_, err = c.Device(t.Context(), "1")
	assert.ErrorIs(t, err, voip.ErrNotFound)
}

func TestDeviceArgs(t *testing.T) {
	t.Parallel()
	s, c := newRESTServer(t, restRoutes{}.handler)
	var arg *voip.ArgError
	_, err := c.CreateDevice(t.Context(), webitel.Device{Name: "x"})
	require.ErrorAs(t, err, &arg)
	_, err = c.Device(t.Context(), " ")
	require.ErrorAs(t, err, &arg)
	_, err = c.UpdateDevice(t.Context(), webitel.Device{})
	require.ErrorAs(t, err, &arg)
	require.ErrorAs(t, c.DeleteDevice(t.Context(), ""), &arg)
	assert.Empty(t, s.requests())
}

func TestDevicesSearch(t *testing.T) {
	t.Parallel()
	s, c := newRESTServer(t, restRoutes{"GET /api/devices": restOK(`{"page":1,"size":"100","items":[` + seedDevice + `]}`)}.handler)
	var got []webitel.Device
	for d, err := range c.Devices(t.Context(), webitel.DeviceQuery{UserID: "5", Q: "sip*"}) {
		require.NoError(t, err)
		got = append(got, d)
	}
	require.Len(t, got, 1)
	assert.Equal(t, "7287", got[0].ID)
	assert.Equal(t, "page=1&q=sip%2A&size=100&user.id=5", s.requests()[0].RawQuery)
}

func TestUsers(t *testing.T) {
	t.Parallel()
	user := `{"id":"130","name":"User1","email":"user1@gmail.com","username":"2020","extension":"2020",
		"roles":[{"id":"4","name":"agent"}],"device":{"id":"7287"},"devices":[{"id":"7287"}],
		"license":[{"id":"95309f22-0d7c-4fb9-baab-9911898019c4","prod":"CALL_CENTER"}],
		"presence":{"status":"sip"},"profile":{"k":1},"created_at":"1682943253855"}`
	s, c := newRESTServer(t, restRoutes{
		"POST /api/users":       restOK(user),
		"GET /api/users/130":    restOK(`{"user":` + user + `}`),
		"PUT /api/users/130":    restOK(`{"updated":` + user + `}`),
		"DELETE /api/users/130": restOK(`{}`),
	}.handler)
	in := webitel.User{Name: "User1", Email: "user1@gmail.com", Username: "2020", Password: "dl75lfLcOLLL", Extension: "2020",
		Roles: []webitel.Lookup{{ID: "4"}}, Device: &webitel.Lookup{ID: "7287"}, Devices: []webitel.Lookup{{ID: "7287"}},
		License: []webitel.Lookup{{ID: "95309f22-0d7c-4fb9-baab-9911898019c4"}}}
	u, err := c.CreateUser(t.Context(), in)
	require.NoError(t, err)
	// The seed article's body, with the role id as a string.
	assert.JSONEq(t, `{ "name": "User1", "email": "user1@gmail.com", "username": "2020", "password": "dl75lfLcOLLL", "extension": "2020", "roles": [ { "id": "4" } ], "device": { "id": "7287" }, "license": [ { "id": "95309f22-0d7c-4fb9-baab-9911898019c4" } ], "devices": [ { "id": "7287" } ] }`, s.requests()[0].Body)
	assert.Equal(t, "130", u.ID)
	assert.Equal(t, []webitel.Lookup{{ID: "4", Name: "agent"}}, u.Roles)
	assert.Equal(t, "sip", u.Presence)
	assert.Equal(t, map[string]string{"k": "1"}, u.Profile)
	assert.Empty(t, u.Password)
	got, err := c.User(t.Context(), "130")
	require.NoError(t, err)
	assert.Equal(t, u, got)
	in.ID = "130"
	_, err = c.UpdateUser(t.Context(), in)
	require.NoError(t, err)
	require.NoError(t, c.DeleteUser(t.Context(), "130"))
	var arg *voip.ArgError
	_, err = c.CreateUser(t.Context(), webitel.User{Name: "x"})
	require.ErrorAs(t, err, &arg)
}

func TestUserTokens(t *testing.T) {
	t.Parallel()
	s, c := newRESTServer(t, restRoutes{
		"POST /api/users/130/tokens":        restOK(`{"id":"b1f1","token":"new-token-value-123","usage":"crm","user":{"id":"130"},"created_at":"1682943253855"}`),
		"GET /api/users/130/tokens":         restOK(`{"page":1,"size":"16","next":false,"items":[{"id":"b1f1","usage":"crm","deleted_at":"0"},{"id":"b1f2","usage":"old","deleted_at":"1682943253855"}]}`),
		"DELETE /api/users/130/tokens/b1f1": restOK(`{"id":"b1f1"}`),
	}.handler)
	tok, err := c.AddUserToken(t.Context(), "130", "crm")
	require.NoError(t, err)
	assert.Equal(t, "new-token-value-123", tok.Token)
	assert.JSONEq(t, `{"usage":"crm"}`, s.requests()[0].Body)
	var list []webitel.Token
	for tk, err := range c.UserTokens(t.Context(), "130") {
		require.NoError(t, err)
		list = append(list, tk)
	}
	require.Len(t, list, 2, "tokens' size is a string: read without trouble")
	assert.True(t, list[0].DisabledAt.IsZero())
	assert.False(t, list[1].DisabledAt.IsZero())
	require.NoError(t, c.DeleteUserToken(t.Context(), "130", "b1f1"))
}

// TestProvision runs the seed article's flow against a server that checks
// each step's body.
func TestProvision(t *testing.T) {
	t.Parallel()
	s, c := newRESTServer(t, func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		switch r.Method + " " + r.URL.Path {
		case "POST /api/devices":
			restJSON(w, 200, seedDevice)
		case "POST /api/users":
			if dev, _ := body["device"].(map[string]any); dev["id"] != "7287" {
				restJSON(w, 400, `{"id":"bad","code":400,"detail":"no device"}`)
				return
			}
			restJSON(w, 200, `{"user":{"id":"131","username":"2020"}}`)
		case "POST /api/users/131/tokens":
			restJSON(w, 200, `{"id":"t1","token":"user-token-0123456789","usage":"crm"}`)
		default:
			restJSON(w, 404, `{}`)
		}
	})
	p, err := c.Provision(t.Context(), webitel.Provisioning{
		Device:     webitel.Device{Name: "device for user 1", Account: "sipUser1", Password: "BNZdVLryFwcB"},
		User:       webitel.User{Name: "User1", Username: "2020", Password: "dl75lfLcOLLL", Extension: "2020", License: []webitel.Lookup{{ID: "lic"}}},
		TokenUsage: "crm",
	})
	require.NoError(t, err)
	assert.Equal(t, webitel.Provisioned{UserID: "131", DeviceID: "7287", Token: "user-token-0123456789"}, *p)
	reqs := s.requests()
	require.Len(t, reqs, 3)
	var u map[string]any
	require.NoError(t, json.Unmarshal([]byte(reqs[1].Body), &u))
	assert.Equal(t, []any{map[string]any{"id": "7287"}}, u["devices"])
	assert.Equal(t, []any{map[string]any{"id": "lic"}}, u["license"])
}

func TestProvisionPartial(t *testing.T) {
	t.Parallel()
	_, c := newRESTServer(t, restRoutes{
		"POST /api/devices": restOK(seedDevice),
		"POST /api/users":   {http.StatusForbidden, `{"id":"api.context.permissions.app_error","code":403,"detail":"no access"}`},
	}.handler)
	p, err := c.Provision(t.Context(), webitel.Provisioning{Device: webitel.Device{Account: "a"}, User: webitel.User{Username: "u"}})
	require.ErrorIs(t, err, voip.ErrForbidden)
	require.NotNil(t, p)
	assert.Equal(t, webitel.Provisioned{DeviceID: "7287"}, *p, "the caller learns what to clean up")
	assert.Contains(t, err.Error(), "create the user")
}
