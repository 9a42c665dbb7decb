package graviteltest

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Path is where the PBX serves its CRM API.
const Path = "/sys/crm_api.wcgp"

// Account is a PBX user.
type Account struct {
	Name, RealName, Ext, Telnum, Email string
}

// Group is a department; Members are account names.
type Group struct {
	ID, RealName, Ext string
	Members           []string
}

// CallType is the type of a history line and of a history webhook.
type CallType string

// The call types. CallMissed appears in the history command's lines only;
// the history webhook of a missed call is CallIn with StatusMissed.
const (
	CallIn     CallType = "in"
	CallOut    CallType = "out"
	CallMissed CallType = "missed"
)

// Line is one call in the history.
type Line struct {
	UID     string
	Type    CallType
	Client  string // "+79002445949"
	Account string // "admin@test.gravitel.ru"
	Via     string
	Start   time.Time
	Wait    time.Duration // ringing; written in whole seconds
	Talk    time.Duration // written in whole seconds
	Record  string
}

// PlacedCall is a makeCall the server accepted.
type PlacedCall struct {
	UUID, Phone, User, CLID string
	At                      time.Time
}

// Request is a command as the server received it, token left out.
type Request struct {
	Cmd         string
	ContentType string
	Params      map[string]string
}

// Server is the emulated PBX. Its methods are safe for concurrent use.
type Server struct {
	*httptest.Server
	// Tenant is the tenant name in logins: login@<Tenant>.gravitel.ru.
	Tenant string

	token string
	zone  *time.Location

	mu       sync.Mutex
	accounts []Account
	groups   []Group
	history  []Line
	calls    []PlacedCall
	requests []Request
	dnd      map[string]bool
	subs     map[[2]string]bool
	faults   map[string][]fault
	header   bool
}

type fault struct {
	status int
	body   string
}

// NewServer starts a PBX whose key is token, with the accounts, groups and
// history lines of the protocol notes' samples. Close it when done.
func NewServer(token string) *Server {
	s := &Server{
		Tenant: "test",
		token:  token,
		zone:   time.FixedZone("MSK", 3*3600),
		dnd:    map[string]bool{},
		subs:   map[[2]string]bool{},
		faults: map[string][]fault{},
		accounts: []Account{
			{Name: "alexey", RealName: "Alexey", Ext: "703", Email: "alex@gmail.com"},
			{Name: "admin", RealName: "Администратор", Ext: "701", Email: "folodia@mail.ru", Telnum: "74996861574"},
			{Name: "ivan", RealName: "Иван", Ext: "702"},
		},
		groups: []Group{
			{ID: "sales", RealName: "Отдел продаж", Ext: "701", Members: []string{"admin", "ivan"}},
			{ID: "buhgalterija_g1551011445322666863", RealName: "Бухгалтерия", Ext: "705", Members: []string{"alexey"}},
			{ID: "test_g7114301475043373338", RealName: "Тест", Ext: "708"},
		},
	}
	s.history = []Line{
		{UID: "a252179d-fa9b-4b2a-9f4a-05c61af0639f", Type: "out", Client: "+79002445949", Account: "admin@" + s.domain(),
			Via: "+74996861574", Start: time.Date(2017, 7, 7, 16, 14, 8, 0, s.zone), Talk: 11 * time.Second},
		{UID: "df3a53ac-c58d-4971-91f6-7c0bf37170cb", Type: "out", Client: "+79002445949", Account: "admin@" + s.domain(),
			Via: "+74996861574", Start: time.Date(2017, 7, 7, 15, 43, 55, 0, s.zone), Talk: 11 * time.Second},
	}
	mux := http.NewServeMux()
	mux.HandleFunc(Path, s.serve)
	mux.HandleFunc("/records/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "audio/mpeg")
		_, _ = w.Write([]byte("ID3\x03\x00")) // the start of an MP3 file
	})
	s.Server = httptest.NewServer(mux)
	return s
}

// BaseURL is the "Адрес облачной АТС" to give a client: the server's URL
// with the CRM API's path.
func (s *Server) BaseURL() string { return s.URL + Path }

func (s *Server) domain() string { return s.Tenant + ".gravitel.ru" }

// Accounts returns the PBX users.
func (s *Server) Accounts() []Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.accounts)
}

// AddHistory appends lines to the history.
func (s *Server) AddHistory(lines ...Line) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.history = append(s.history, lines...)
}

// HistoryHeader makes the history command start its answer with a header
// line naming the columns, as some PBXs of the protocol do, when on is
// true; Gravitel sends none (the default).
func (s *Server) HistoryHeader(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.header = on
}

// Calls returns the calls placed through makeCall, oldest first.
func (s *Server) Calls() []PlacedCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Requests returns every command received, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Fail makes the next request for target, a command such as "makeCall"
// (any command when target is ""), answer status with body, after the
// token check. Calls queue up.
func (s *Server) Fail(target string, status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[target] = append(s.faults[target], fault{status, body})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "Method not allowed"})
		return
	}
	params, ctype, err := readParams(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "Invalid parameters"})
		return
	}
	if params["token"] != s.token || s.token == "" {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Invalid token"})
		return
	}
	cmd := params["cmd"]
	delete(params, "token")
	s.mu.Lock()
	s.requests = append(s.requests, Request{Cmd: cmd, ContentType: ctype, Params: params})
	f, failing := s.nextFault(cmd)
	s.mu.Unlock()
	if failing {
		w.WriteHeader(f.status)
		_, _ = w.Write([]byte(f.body))
		return
	}
	switch cmd {
	case "accounts":
		s.cmdAccounts(w)
	case "groups":
		s.cmdGroups(w, params)
	case "makeCall":
		s.cmdMakeCall(w, params)
	case "history":
		s.cmdHistory(w, params)
	case "subscribeoncalls", "subscribeOnCalls":
		s.cmdSubscribe(w, params)
	case "subscriptionStatus":
		s.cmdSubscriptionStatus(w, params)
	case "set_dnd":
		s.cmdSetDND(w, params)
	case "get_dnd":
		s.cmdGetDND(w, params)
	default:
		invalid(w, "cmd")
	}
}

func (s *Server) nextFault(cmd string) (fault, bool) {
	for _, key := range []string{cmd, ""} {
		if q := s.faults[key]; len(q) > 0 {
			s.faults[key] = q[1:]
			return q[0], true
		}
	}
	return fault{}, false
}

// readParams reads a command sent form-encoded (body or query) or as JSON.
func readParams(r *http.Request) (map[string]string, string, error) {
	ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	out := map[string]string{}
	if ctype == "application/json" {
		var m map[string]any
		if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&m); err != nil {
			return nil, ctype, err
		}
		for k, v := range m {
			switch v := v.(type) {
			case string:
				out[k] = v
			case float64, bool:
				out[k] = fmt.Sprint(v)
			}
		}
		return out, ctype, nil
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		return nil, ctype, err
	}
	for k := range r.Form {
		out[k] = r.Form.Get(k)
	}
	return out, ctype, nil
}

func (s *Server) cmdAccounts(w http.ResponseWriter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]map[string]any, 0, len(s.accounts))
	for i, a := range s.accounts {
		m := map[string]any{"name": a.Name, "realName": a.RealName, "ext": a.Ext}
		if i%2 == 1 { // the spec's sample has ext as a number
			if n, err := strconv.Atoi(a.Ext); err == nil {
				m["ext"] = n
			}
		}
		if a.Email != "" {
			m["email"] = a.Email
		}
		if a.Telnum != "" {
			m["telnum"] = a.Telnum
		}
		out = append(out, m)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) cmdGroups(w http.ResponseWriter, p map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	user := login(p["user"])
	out := []map[string]any{}
	for _, g := range s.groups {
		if user != "" && !slices.Contains(g.Members, user) {
			continue
		}
		ext, _ := strconv.Atoi(g.Ext)
		out = append(out, map[string]any{"id": g.ID, "realName": g.RealName, "ext": ext})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) cmdMakeCall(w http.ResponseWriter, p map[string]string) {
	phone, user := p["phone"], p["user"]
	if !allDigits(phone) { // a live PBX rejected "+": digits only
		invalid(w, "phone")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.account(user); !ok {
		invalid(w, "user")
		return
	}
	if p["clid"] != "" && !allDigits(p["clid"]) {
		invalid(w, "clid")
		return
	}
	c := PlacedCall{UUID: newUUID(), Phone: phone, User: user, CLID: p["clid"], At: time.Now()}
	s.calls = append(s.calls, c)
	writeJSON(w, http.StatusOK, map[string]string{"uuid": c.UUID})
}

// account finds an account by login, login@tenant, extension or direct
// number. The caller holds s.mu.
func (s *Server) account(user string) (Account, bool) {
	for _, a := range s.accounts {
		if user != "" && (login(user) == a.Name || user == a.Ext || user == a.Telnum) {
			return a, true
		}
	}
	return Account{}, false
}

var periods = []string{"today", "yesterday", "this_week", "last_week", "this_month", "last_month"}

func (s *Server) cmdHistory(w http.ResponseWriter, p map[string]string) {
	typ := p["type"]
	if typ == "" {
		typ = "all"
	}
	if !slices.Contains([]string{"all", "in", "out", "missed"}, typ) {
		invalid(w, "type")
		return
	}
	var from, to time.Time
	if period := p["period"]; period != "" {
		if !slices.Contains(periods, period) {
			invalid(w, "period")
			return
		}
	} else {
		var err1, err2 error
		if v := p["start"]; v != "" {
			from, err1 = time.Parse("20060102T150405Z", v)
		}
		if v := p["end"]; v != "" {
			to, err2 = time.Parse("20060102T150405Z", v)
		}
		if err1 != nil || err2 != nil || from.IsZero() {
			invalid(w, "start")
			return
		}
	}
	limit := 0
	if v := p["limit"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			invalid(w, "limit")
			return
		}
		limit = n
	}
	s.mu.Lock()
	lines := slices.Clone(s.history)
	header := s.header
	s.mu.Unlock()
	slices.SortStableFunc(lines, func(a, b Line) int { return b.Start.Compare(a.Start) }) // newest first
	var b strings.Builder
	if header {
		b.WriteString("uid,type,client,account,via,start,wait,duration,record\n")
	}
	n := 0
	for _, l := range lines {
		if (typ != "all" && string(l.Type) != typ) || (!from.IsZero() && l.Start.Before(from)) || (!to.IsZero() && l.Start.After(to)) {
			continue
		}
		if limit > 0 && n == limit {
			break
		}
		n++
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%s,%d,%d,%s\n", l.UID, l.Type, l.Client, l.Account, l.Via,
			l.Start.In(s.zone).Format(time.RFC3339), int(l.Wait/time.Second), int(l.Talk/time.Second), l.Record)
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}

func (s *Server) cmdSubscribe(w http.ResponseWriter, p map[string]string) {
	user, status := p["user"], p["status"]
	if user == "" {
		invalid(w, "user")
		return
	}
	if status != "on" && status != "off" {
		invalid(w, "status")
		return
	}
	s.mu.Lock()
	for _, g := range s.groups {
		if p["group_id"] == "" || p["group_id"] == g.ID {
			s.subs[[2]string{login(user), g.ID}] = status == "on"
		}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("OK"))
}

func (s *Server) cmdSubscriptionStatus(w http.ResponseWriter, p map[string]string) {
	if p["user"] == "" || p["group_id"] == "" {
		invalid(w, "user")
		return
	}
	s.mu.Lock()
	on := s.subs[[2]string{login(p["user"]), p["group_id"]}]
	s.mu.Unlock()
	status := "off"
	if on {
		status = "on"
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": status})
}

func (s *Server) cmdSetDND(w http.ResponseWriter, p map[string]string) {
	state, err := strconv.ParseBool(p["state"])
	if p["user"] == "" || err != nil {
		invalid(w, "state")
		return
	}
	s.mu.Lock()
	s.dnd[login(p["user"])] = state
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{})
}

func (s *Server) cmdGetDND(w http.ResponseWriter, p map[string]string) {
	if p["user"] == "" {
		invalid(w, "user")
		return
	}
	s.mu.Lock()
	state := s.dnd[login(p["user"])]
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]bool{"state": state})
}

func invalid(w http.ResponseWriter, param string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": "Invalid parameters: [" + param + "]"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func login(user string) string {
	name, _, _ := strings.Cut(user, "@")
	return name
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// newUUID returns a random version 4 UUID, the shape of Gravitel's call ids.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
