package webiteltest

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// User is a user of the tenant. ID 0 in [Server.AddUser] takes the next
// id. Licensed users may open the socket (the others get 412).
type User struct {
	ID                               int64
	Name, Username, Email, Extension string
	Licensed                         bool
}

type userRec struct {
	User
	password string
	busy     bool
	created  time.Time
	updated  time.Time
	device   int64 // the default device, 0 for none
}

type tokenRec struct {
	id, token, usage string
	userID           int64
	created          time.Time
	disabled         bool
}

type deviceRec struct {
	id                      int64
	name, account, password string
	userID                  int64
	created, updated        time.Time
	mac, ip, brand, model   string
}

type agentRec struct {
	id, userID  int64
	status      string
	payload     string
	description string
	changed     time.Time
}

// license is the single licence a licensed user holds.
var license = map[string]any{"id": "1f2e3d4c", "prod": "CALL_CENTER", "name": "CALL_CENTER",
	"issued_at": "1704067200000", "expires_at": "1893456000000", "scope": []string{"calls", "cc_agent"}}

// Users returns the users, by id.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]User, len(s.users))
	for i, u := range s.users {
		out[i] = u.User
	}
	return out
}

// AddUser adds a user; ID 0 takes the next id. It returns the user as
// stored.
func (s *Server) AddUser(u User) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addUserLocked(u, time.Now()).User
}

func (s *Server) addUserLocked(u User, now time.Time) *userRec {
	if u.ID == 0 {
		u.ID = s.nextUser
	}
	s.nextUser = max(s.nextUser, u.ID+1)
	rec := &userRec{User: u, created: now, updated: now}
	s.users = append(s.users, rec)
	slices.SortFunc(s.users, func(a, b *userRec) int { return int(a.ID - b.ID) })
	return rec
}

func (s *Server) userLocked(id int64) *userRec {
	for _, u := range s.users {
		if u.ID == id {
			return u
		}
	}
	return nil
}

func (s *Server) userByExtLocked(ext string) *userRec {
	for _, u := range s.users {
		if u.Extension == ext {
			return u
		}
	}
	return nil
}

// TokenFor returns a valid token for the user, made on the first ask.
func (s *Server) TokenFor(userID int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		if t.userID == userID && !t.disabled {
			return t.token
		}
	}
	t := &tokenRec{id: newHex(8), token: newHex(16), usage: "test", userID: userID, created: time.Now()}
	s.tokens[t.token] = t
	return t.token
}

// SetPassword sets the password POST /api/login accepts for username in
// the server's Domain.
func (s *Server) SetPassword(username, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if u.Username == username {
			u.password = password
		}
	}
}

// SetTwoFactor makes POST /api/login answer a second-factor session
// {"id": …} and no access_token while on.
func (s *Server) SetTwoFactor(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.twoFA = on
}

// SetBusy makes POST /api/calls and call_invite from the user with ext
// fail with 400 app.call.create.valid.busy while on.
func (s *Server) SetBusy(ext string, busy bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.userByExtLocked(ext); u != nil {
		u.busy = busy
	}
}

func (s *Server) directoryRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/userinfo", s.auth(s.userinfo))
	mux.HandleFunc("POST /api/userinfo", s.auth(s.userinfo))
	mux.HandleFunc("GET /api/users", s.auth(s.searchUsers))
	mux.HandleFunc("POST /api/users", s.auth(s.createUser))
	mux.HandleFunc("GET /api/users/{id}", s.auth(s.readUser))
	mux.HandleFunc("PUT /api/users/{id}", s.auth(s.updateUser))
	mux.HandleFunc("PATCH /api/users/{id}", s.auth(s.updateUser))
	mux.HandleFunc("DELETE /api/users/{id}", s.auth(s.deleteUser))
	mux.HandleFunc("POST /api/users/{id}/tokens", s.auth(s.addToken))
	mux.HandleFunc("GET /api/users/{id}/tokens", s.auth(s.listTokens))
	mux.HandleFunc("GET /api/users/{id}/tokens/{tid}", s.auth(s.readToken))
	mux.HandleFunc("DELETE /api/users/{id}/tokens/{tid}", s.auth(s.deleteToken))
	mux.HandleFunc("POST /api/devices", s.auth(s.createDevice))
	mux.HandleFunc("GET /api/devices", s.auth(s.searchDevices))
	mux.HandleFunc("GET /api/devices/{id}", s.auth(s.readDevice))
	mux.HandleFunc("PUT /api/devices/{id}", s.auth(s.updateDevice))
	mux.HandleFunc("PATCH /api/devices/{id}", s.auth(s.updateDevice))
	mux.HandleFunc("DELETE /api/devices/{id}", s.auth(s.deleteDevice))
	mux.HandleFunc("GET /api/call_center/agents", s.auth(s.searchAgents))
	mux.HandleFunc("POST /api/call_center/agents", s.auth(s.createAgent))
	mux.HandleFunc("PATCH /api/call_center/agents/{id}/status", s.auth(s.agentStatus))
}

// login answers the web UI's POST /api/login: the AccessToken at the top
// level, as webitel/web-client-auth reads it.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if s.failed(w, r) {
		return
	}
	var body struct {
		Domain, Username, Password string
	}
	if !decodeBody(r, &body) || body.Username == "" {
		writeError(w, http.StatusBadRequest, "api.process.bad_args", "username and password are required")
		return
	}
	s.mu.Lock()
	var user *userRec
	for _, u := range s.users {
		if u.Username == body.Username && u.password != "" && u.password == body.Password && body.Domain == s.Domain {
			user = u
		}
	}
	twoFA := s.twoFA
	var tok *tokenRec
	if user != nil && !twoFA {
		tok = &tokenRec{id: newHex(8), token: newHex(16), usage: "session", userID: user.ID, created: time.Now()}
		s.tokens[tok.token] = tok
	}
	s.mu.Unlock()
	switch {
	case user == nil:
		writeError(w, http.StatusUnauthorized, "app.login.invalid_credentials", "invalid domain, username or password")
	case twoFA:
		writeJSON(w, map[string]any{"id": newHex(12)})
	default:
		writeJSON(w, map[string]any{"access_token": tok.token, "token_type": "bearer",
			"expires_in": 720 * 3600, "refresh_token": "", "state": ""})
	}
}

func (s *Server) userinfo(w http.ResponseWriter, _ *http.Request, u *userRec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lic := []any{}
	if u.Licensed {
		lic = append(lic, license)
	}
	writeJSON(w, map[string]any{
		"dc": id64(domainID), "domain": s.Domain, "user_id": id64(u.ID), "name": u.Name, "username": u.Username,
		"preferred_username": u.Username, "extension": u.Extension, "chat_name": u.Name,
		"scope":   []map[string]any{{"class": "calls", "access": "rxwd"}, {"class": "users", "access": "rxwd"}},
		"roles":   []map[string]any{{"id": "2", "name": "admin"}},
		"license": lic, "permissions": []map[string]any{{"id": "add", "name": "add"}},
		"updated_at": ms(u.updated), "expires_at": ms(time.Now().Add(720 * time.Hour)),
	})
}

// userJSON is a User as webitel.go writes it: ids as strings, zero values
// present.
func (s *Server) userJSON(u *userRec) map[string]any {
	lic := []any{}
	if u.Licensed {
		lic = append(lic, license)
	}
	devs := []map[string]any{}
	for _, d := range s.devices {
		if d.userID == u.ID {
			devs = append(devs, map[string]any{"id": id64(d.id), "name": d.name})
		}
	}
	m := map[string]any{
		"id": id64(u.ID), "name": u.Name, "username": u.Username, "email": u.Email, "extension": u.Extension,
		"roles": []map[string]any{{"id": "2", "name": "agent"}}, "license": lic, "devices": devs,
		"presence":   map[string]any{"status": ""},
		"created_at": ms(u.created), "created_by": map[string]any{"id": "1", "name": "admin"},
		"updated_at": ms(u.updated), "updated_by": map[string]any{"id": "1", "name": "admin"},
		"chat_name": u.Name, "force_password_change": false,
	}
	if d := s.deviceLocked(u.device); d != nil {
		m["device"] = map[string]any{"id": id64(d.id), "name": d.name}
	}
	return m
}

func (s *Server) searchUsers(w http.ResponseWriter, r *http.Request, _ *userRec) {
	pg, size := page(r, 16)
	q := r.URL.Query()
	ids := append(q["id"], q["id[]"]...)
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []map[string]any
	for _, u := range s.users {
		if len(ids) > 0 && !slices.Contains(ids, id64(u.ID)) {
			continue
		}
		if e := q.Get("extension"); e != "" && e != u.Extension {
			continue
		}
		if !matchQ(q.Get("q"), u.Name, u.Username, u.Extension, u.Email) {
			continue
		}
		all = append(all, s.userJSON(u))
	}
	items, next := cut(all, pg, size)
	writeJSON(w, list(items, next, map[string]any{"page": pg, "size": size}))
}

// inputUser is the InputUser of users.proto; the body may also come
// wrapped as {"user": …}.
type inputUser struct {
	Name      *string `json:"name"`
	Username  *string `json:"username"`
	Email     *string `json:"email"`
	Password  *string `json:"password"`
	Extension *string `json:"extension"`
	License   *[]struct {
		ID flexID `json:"id"`
	} `json:"license"`
	Device *struct {
		ID flexID `json:"id"`
	} `json:"device"`
	User *inputUser `json:"user"`
}

func readInputUser(r *http.Request) (*inputUser, bool) {
	var in inputUser
	if !decodeBody(r, &in) {
		return nil, false
	}
	if in.User != nil {
		return in.User, true
	}
	return &in, true
}

func (in *inputUser) apply(u *userRec) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&u.Name, in.Name)
	set(&u.Username, in.Username)
	set(&u.Email, in.Email)
	set(&u.password, in.Password)
	set(&u.Extension, in.Extension)
	if in.License != nil {
		u.Licensed = len(*in.License) > 0
	}
	if in.Device != nil {
		u.device, _ = in.Device.ID.int()
	}
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, _ *userRec) {
	in, ok := readInputUser(r)
	if !ok || in.Username == nil || *in.Username == "" {
		writeError(w, http.StatusBadRequest, "model.user.is_valid.username.app_error", "username is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if u.Username == *in.Username || (in.Extension != nil && *in.Extension != "" && u.Extension == *in.Extension) {
			writeError(w, http.StatusBadRequest, "store.sql_user.save.unique.app_error", "username or extension taken")
			return
		}
	}
	u := s.addUserLocked(User{}, time.Now())
	in.apply(u)
	writeJSON(w, s.userJSON(u)) // bare: response_body "user"
}

// pathUser finds the user of the {id} path value, answering 404 when none.
func (s *Server) pathUserLocked(w http.ResponseWriter, r *http.Request) *userRec {
	id, ok := flexID(r.PathValue("id")).int()
	var u *userRec
	if ok {
		u = s.userLocked(id)
	}
	if u == nil {
		writeError(w, http.StatusNotFound, "store.sql_user.get.app_error", "user not found")
	}
	return u
}

func (s *Server) readUser(w http.ResponseWriter, r *http.Request, _ *userRec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.pathUserLocked(w, r); u != nil {
		writeJSON(w, s.userJSON(u))
	}
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request, _ *userRec) {
	in, ok := readInputUser(r)
	if !ok {
		writeError(w, http.StatusBadRequest, "api.process.bad_args", "bad user")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.pathUserLocked(w, r); u != nil {
		in.apply(u)
		u.updated = time.Now()
		writeJSON(w, s.userJSON(u)) // bare: response_body "updated"
	}
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, _ *userRec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.pathUserLocked(w, r)
	if u == nil {
		return
	}
	out := s.userJSON(u)
	s.users = slices.DeleteFunc(s.users, func(x *userRec) bool { return x == u })
	for _, t := range s.tokens {
		if t.userID == u.ID {
			t.disabled = true
		}
	}
	writeJSON(w, map[string]any{"deleted": []any{out}})
}

// tokenJSON is a UserAccessToken; the value only when withValue (at
// creation).
func (s *Server) tokenJSON(t *tokenRec, withValue bool) map[string]any {
	name := ""
	if u := s.userLocked(t.userID); u != nil {
		name = u.Name
	}
	m := map[string]any{
		"id": t.id, "usage": t.usage, "user": map[string]any{"id": id64(t.userID), "name": name},
		"created_at": ms(t.created), "created_by": map[string]any{"id": "1", "name": "admin"},
		"updated_at": ms(t.created), "updated_by": map[string]any{"id": "1", "name": "admin"},
		"deleted_at": "0",
	}
	if withValue {
		m["token"] = t.token
	}
	return m
}

func (s *Server) addToken(w http.ResponseWriter, r *http.Request, _ *userRec) {
	var in struct {
		Usage string `json:"usage"`
		Token *struct {
			Usage string `json:"usage"`
		} `json:"token"`
	}
	if !decodeBody(r, &in) {
		writeError(w, http.StatusBadRequest, "api.process.bad_args", "bad token")
		return
	}
	if in.Token != nil && in.Usage == "" {
		in.Usage = in.Token.Usage
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.pathUserLocked(w, r)
	if u == nil {
		return
	}
	t := &tokenRec{id: newHex(8), token: newHex(16), usage: in.Usage, userID: u.ID, created: time.Now()}
	s.tokens[t.token] = t
	writeJSON(w, s.tokenJSON(t, true))
}

// userTokensLocked are a user's tokens, oldest first.
func (s *Server) userTokensLocked(userID int64) []*tokenRec {
	var out []*tokenRec
	for _, t := range s.tokens {
		if t.userID == userID && !t.disabled {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *tokenRec) int {
		if c := a.created.Compare(b.created); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	return out
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, _ *userRec) {
	pg, size := page(r, 16)
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.pathUserLocked(w, r)
	if u == nil {
		return
	}
	var all []map[string]any
	for _, t := range s.userTokensLocked(u.ID) {
		if matchQ(r.URL.Query().Get("q"), t.usage) {
			all = append(all, s.tokenJSON(t, false))
		}
	}
	items, next := cut(all, pg, size)
	// size is an int64 in ListUserAccessToken: a string.
	writeJSON(w, list(items, next, map[string]any{"page": pg, "size": id64(int64(size))}))
}

func (s *Server) pathTokenLocked(w http.ResponseWriter, r *http.Request) *tokenRec {
	u := s.pathUserLocked(w, r)
	if u == nil {
		return nil
	}
	for _, t := range s.userTokensLocked(u.ID) {
		if t.id == r.PathValue("tid") {
			return t
		}
	}
	writeError(w, http.StatusNotFound, "store.sql_user_token.get.app_error", "token not found")
	return nil
}

func (s *Server) readToken(w http.ResponseWriter, r *http.Request, _ *userRec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.pathTokenLocked(w, r); t != nil {
		writeJSON(w, s.tokenJSON(t, false))
	}
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request, _ *userRec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.pathTokenLocked(w, r); t != nil {
		t.disabled = true
		writeJSON(w, s.tokenJSON(t, false))
	}
}

func (s *Server) deviceLocked(id int64) *deviceRec {
	for _, d := range s.devices {
		if d.id == id {
			return d
		}
	}
	return nil
}

func (s *Server) deviceJSON(d *deviceRec) map[string]any {
	m := map[string]any{
		"id": id64(d.id), "name": d.name, "account": d.account, "password": d.password,
		"logged_in": "0", "hotdesk": false, "hotdesks": []any{}, "provision": map[string]any{},
		"brand": d.brand, "model": d.model, "mac": d.mac, "ip": d.ip, "reged": false,
		"created_at": ms(d.created), "created_by": map[string]any{"id": "1", "name": "admin"},
		"updated_at": ms(d.updated), "updated_by": map[string]any{"id": "1", "name": "admin"},
	}
	if u := s.userLocked(d.userID); u != nil {
		m["user"] = map[string]any{"id": id64(u.ID), "name": u.Name}
		m["logged_in"] = ms(d.created)
	}
	return m
}

// inputDevice is a Device as sent; the body may be wrapped as
// {"device": …}.
type inputDevice struct {
	Name     *string `json:"name"`
	Account  *string `json:"account"`
	Password *string `json:"password"`
	MAC      *string `json:"mac"`
	IP       *string `json:"ip"`
	Brand    *string `json:"brand"`
	Model    *string `json:"model"`
	User     *struct {
		ID flexID `json:"id"`
	} `json:"user"`
	Device *inputDevice `json:"device"`
}

func readInputDevice(r *http.Request) (*inputDevice, bool) {
	var in inputDevice
	if !decodeBody(r, &in) {
		return nil, false
	}
	if in.Device != nil {
		return in.Device, true
	}
	return &in, true
}

func (in *inputDevice) apply(d *deviceRec) {
	for _, f := range []struct {
		dst *string
		src *string
	}{{&d.name, in.Name}, {&d.account, in.Account}, {&d.password, in.Password}, {&d.mac, in.MAC},
		{&d.ip, in.IP}, {&d.brand, in.Brand}, {&d.model, in.Model}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if in.User != nil {
		d.userID, _ = in.User.ID.int()
	}
}

// createDevice answers the bare device, as the seed article's sample
// shows (the proto would wrap it).
func (s *Server) createDevice(w http.ResponseWriter, r *http.Request, _ *userRec) {
	in, ok := readInputDevice(r)
	if !ok || in.Name == nil || in.Account == nil || *in.Account == "" {
		writeError(w, http.StatusBadRequest, "model.device.is_valid.account.app_error", "name and account are required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.devices {
		if d.account == *in.Account {
			writeError(w, http.StatusBadRequest, "store.sql_device.save.unique.app_error", "account taken")
			return
		}
	}
	now := time.Now()
	d := &deviceRec{id: s.nextDev, created: now, updated: now}
	s.nextDev++
	in.apply(d)
	if d.userID != 0 && s.userLocked(d.userID) == nil {
		writeError(w, http.StatusBadRequest, "store.sql_device.save.user.app_error", "no such user")
		return
	}
	if d.password == "" {
		d.password = newHex(6)
	}
	s.devices = append(s.devices, d)
	if u := s.userLocked(d.userID); u != nil && u.device == 0 {
		u.device = d.id
	}
	writeJSON(w, s.deviceJSON(d))
}

func (s *Server) searchDevices(w http.ResponseWriter, r *http.Request, _ *userRec) {
	pg, size := page(r, 16)
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []map[string]any
	for _, d := range s.devices {
		if uid := q.Get("user.id"); uid != "" && uid != id64(d.userID) {
			continue
		}
		if !matchQ(q.Get("q"), d.name, d.account, d.mac, d.ip, d.brand, d.model) {
			continue
		}
		all = append(all, s.deviceJSON(d))
	}
	items, next := cut(all, pg, size)
	writeJSON(w, list(items, next, map[string]any{"page": pg, "size": size}))
}

func (s *Server) pathDeviceLocked(w http.ResponseWriter, r *http.Request) *deviceRec {
	id, _ := flexID(r.PathValue("id")).int()
	d := s.deviceLocked(id)
	if d == nil {
		writeError(w, http.StatusNotFound, "store.sql_device.get.app_error", "device not found")
	}
	return d
}

// readDevice wraps the device, as the proto's ReadDeviceResponse does.
func (s *Server) readDevice(w http.ResponseWriter, r *http.Request, _ *userRec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.pathDeviceLocked(w, r); d != nil {
		writeJSON(w, map[string]any{"device": s.deviceJSON(d)})
	}
}

// updateDevice wraps the device too (UpdateDeviceResponse).
func (s *Server) updateDevice(w http.ResponseWriter, r *http.Request, _ *userRec) {
	in, ok := readInputDevice(r)
	if !ok {
		writeError(w, http.StatusBadRequest, "api.process.bad_args", "bad device")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.pathDeviceLocked(w, r); d != nil {
		in.apply(d)
		d.updated = time.Now()
		writeJSON(w, map[string]any{"device": s.deviceJSON(d)})
	}
}

func (s *Server) deleteDevice(w http.ResponseWriter, r *http.Request, _ *userRec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.pathDeviceLocked(w, r)
	if d == nil {
		return
	}
	out := s.deviceJSON(d)
	s.devices = slices.DeleteFunc(s.devices, func(x *deviceRec) bool { return x == d })
	for _, u := range s.users {
		if u.device == d.id {
			u.device = 0
		}
	}
	writeJSON(w, map[string]any{"deleted": []any{out}})
}

func (s *Server) agentLocked(id int64) *agentRec {
	for _, a := range s.agents {
		if a.id == id {
			return a
		}
	}
	return nil
}

func (s *Server) agentOfUserLocked(userID int64) *agentRec {
	for _, a := range s.agents {
		if a.userID == userID {
			return a
		}
	}
	return nil
}

func (s *Server) agentJSON(a *agentRec) map[string]any {
	u := s.userLocked(a.userID)
	name, ext := "", ""
	if u != nil {
		name, ext = u.Name, u.Extension
	}
	return map[string]any{
		"id": id64(a.id), "user": map[string]any{"id": id64(a.userID), "name": name}, "name": name,
		"extension": ext, "description": a.description, "status": a.status, "status_payload": a.payload,
		"last_status_change": ms(a.changed), "status_duration": int(time.Since(a.changed) / time.Second),
		"progressive_count": 1, "allow_channels": []string{"call"}, "chat_count": 1, "task_count": 1,
		"channel":       []map[string]any{{"channel": "call", "state": "waiting", "joined_at": ms(a.changed), "timeout": "0"}},
		"is_supervisor": false, "screen_control": false,
	}
}

func (s *Server) searchAgents(w http.ResponseWriter, r *http.Request, _ *userRec) {
	pg, size := page(r, 40)
	q := r.URL.Query()
	ids := append(q["id"], q["id[]"]...)
	uids := append(q["user_id"], q["user_id[]"]...)
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []map[string]any
	for _, a := range s.agents {
		name := ""
		if u := s.userLocked(a.userID); u != nil {
			name = u.Name
		}
		if (len(ids) > 0 && !slices.Contains(ids, id64(a.id))) || (len(uids) > 0 && !slices.Contains(uids, id64(a.userID))) ||
			!matchQ(q.Get("q"), name, a.description) {
			continue
		}
		all = append(all, s.agentJSON(a))
	}
	items, next := cut(all, pg, size)
	writeJSON(w, list(items, next, nil))
}

func (s *Server) createAgent(w http.ResponseWriter, r *http.Request, _ *userRec) {
	var in struct {
		User *struct {
			ID flexID `json:"id"`
		} `json:"user"`
		Description string `json:"description"`
	}
	if !decodeBody(r, &in) || in.User == nil {
		writeError(w, http.StatusBadRequest, "model.cc_agent.is_valid.user_id.app_error", "user is required")
		return
	}
	uid, _ := in.User.ID.int()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.userLocked(uid) == nil {
		writeError(w, http.StatusBadRequest, "store.sql_agent.save.app_error", "no such user")
		return
	}
	if s.agentOfUserLocked(uid) != nil {
		writeError(w, http.StatusBadRequest, "store.sql_agent.save.unique.app_error", "the user is an agent already")
		return
	}
	a := &agentRec{id: s.nextAg, userID: uid, status: "offline", description: in.Description, changed: time.Now()}
	s.nextAg++
	s.agents = append(s.agents, a)
	writeJSON(w, s.agentJSON(a))
}

// agentStatus is UpdateAgentStatus: online, pause or offline, answered
// {"status":"OK"}; the agent's sockets get an agent_status event.
func (s *Server) agentStatus(w http.ResponseWriter, r *http.Request, _ *userRec) {
	var in struct {
		Status        string `json:"status"`
		Payload       string `json:"payload"`
		StatusComment string `json:"status_comment"`
	}
	if !decodeBody(r, &in) {
		writeError(w, http.StatusBadRequest, "api.process.bad_args", "bad body")
		return
	}
	switch in.Status {
	case "online", "pause", "offline":
	default:
		writeError(w, http.StatusBadRequest, "grpc.agent.update_status", "status must be online, pause or offline")
		return
	}
	id, _ := flexID(r.PathValue("id")).int()
	s.mu.Lock()
	a := s.agentLocked(id)
	s.mu.Unlock()
	if a == nil {
		writeError(w, http.StatusNotFound, "store.sql_agent.get.app_error", "agent not found")
		return
	}
	writeJSON(w, map[string]any{"status": "OK"})
	s.setAgentStatus(a, in.Status, in.Payload)
}
