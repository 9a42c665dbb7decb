package phonettest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pbxkit/pbxkit/internal/netfault"
)

// DefaultDomain is the tenant host a Server answers as.
const DefaultDomain = "demo.phonet.com.ua"

// DefaultTrunk is the company number of scripted calls.
const DefaultTrunk = "+380442246595"

// User is a PBX user. Ext keeps its leading zeros.
type User struct {
	ID          int
	DisplayName string
	Ext         string
	Email       string
}

// PlacedCall is a call the server was asked to place, over REST (makeCall)
// or over the socket (click2call).
type PlacedCall struct {
	UUID, Ext, To string
	Socket        bool
}

// Request is a REST request as the server received it.
type Request struct {
	Method, Path string
	Query        map[string][]string
	Cookie       bool // a JSESSIONID cookie was sent
	ContentType  string
}

// Server is the emulated tenant. Its methods are safe for concurrent use.
type Server struct {
	*httptest.Server
	// Domain is the tenant host the server expects in authorize and on the
	// socket.
	Domain string

	apiKey string
	net    *netfault.Listener // offline spells and half-open connections
	authN  atomic.Int32

	mu              sync.Mutex
	users           []User
	sessions        map[string]time.Time // JSESSIONID → expiry
	sessionTTL      time.Duration
	expiredReply    int
	cookieForAudio  bool
	history         []map[string]any
	active          map[string]*activeCall
	placed          []PlacedCall
	requests        []Request
	faults          netfault.Replies // Fail's
	sockets         map[*socket]struct{}
	socketFaults    map[string][]int // by subscriber
	click2callErr   string
	click2callMute  bool
	click2callDelay time.Duration
	late            sync.WaitGroup // delayed click2call replies still to be sent
}

type activeCall struct {
	uuid, parent string
	direction    Direction
	user         User
	client       string
	dialAt       time.Time
	bridgeAt     time.Time
}

// NewServer starts a tenant whose apiKey is apiKey, with four users
// ("001", "002", "003", "911") and a short call history.
func NewServer(apiKey string) *Server {
	s := &Server{
		Domain: DefaultDomain, apiKey: apiKey,
		users: []User{
			{36, "Иван Иванов", "001", "ivan@demo.phonet.com.ua"},
			{27, "Петр Петров", "002", "petr@demo.phonet.com.ua"},
			{30, "Юрий Юрьев", "003", "yuriy@demo.phonet.com.ua"},
			{120, "Support Phonet", "911", "support@demo.phonet.com.ua"},
		},
		sessions: map[string]time.Time{}, sessionTTL: time.Hour, expiredReply: http.StatusForbidden,
		active: map[string]*activeCall{}, sockets: map[*socket]struct{}{},
		socketFaults: map[string][]int{},
	}
	s.seedHistory()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /rest/security/authorize", s.authorize)
	mux.HandleFunc("POST /rest/user/makeCall", s.session(s.makeCall))
	mux.HandleFunc("GET /rest/calls/active/v3", s.session(s.activeCalls))
	mux.HandleFunc("GET /rest/calls/active/{uuid}/hangup", s.session(s.hangup))
	for _, p := range []string{"company.api", "users.api", "missed.api"} {
		mux.HandleFunc("GET /rest/calls/"+p, s.session(s.historyPage(p)))
		mux.HandleFunc("GET /rest/calls/"+p+"/", s.session(s.historyPage(p)))
	}
	mux.HandleFunc("GET /rest/users", s.session(s.listUsers))
	mux.HandleFunc("GET /rest/users/", s.session(s.listUsers))
	mux.HandleFunc("GET /rest/public/calls/{id}/audio", s.audio)
	mux.HandleFunc("GET /live/connector/v3/easy", s.live)
	mux.HandleFunc("GET /login.jsp", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<html><body><form>Вход</form></body></html>"))
	})
	s.Server = httptest.NewUnstartedServer(s.logged(mux))
	s.net = netfault.Wrap(s.Listener)
	s.Listener = s.net
	s.Start()
	return s
}

// BaseURL is the scheme and host to give the client instead of
// https://{Domain}.
func (s *Server) BaseURL() string { return s.URL }

// Users returns the users.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.users)
}

// SetUsers replaces the users: the subscribers the socket accepts.
func (s *Server) SetUsers(users []User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users = slices.Clone(users)
}

// Authorizations returns how many sessions authorize opened.
func (s *Server) Authorizations() int { return int(s.authN.Load()) }

// Requests returns the REST requests received, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Calls returns the calls placed (makeCall and click2call), oldest first.
func (s *Server) Calls() []PlacedCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.placed)
}

// Fail makes the next REST request for path (such as "/rest/user/makeCall";
// "" is any path, authorize included) answer status with body, once it has
// passed the session check: a request without a valid session still gets
// the expired reply. Calls queue up; a fault for the exact path goes before
// one for any path.
func (s *Server) Fail(path string, status int, body string) {
	s.faults.Add(path, status, body)
}

// failed answers r with the next fault queued for its path, if any.
func (s *Server) failed(w http.ResponseWriter, r *http.Request) bool { return s.faults.Serve(w, r) }

// ExpireSessions ends every session: the next request with an old cookie
// gets the expired reply.
func (s *Server) ExpireSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.sessions)
}

// SetSessionTTL sets how long new sessions last (default an hour).
func (s *Server) SetSessionTTL(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessionTTL = d
}

// SetExpiredReply chooses how an expired or missing session is answered:
// 401, 403 (the default) or 302 to /login.jsp.
func (s *Server) SetExpiredReply(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expiredReply = status
}

// RequireCookieForRecordings makes the recordings answer 403 without a
// session.
func (s *Server) RequireCookieForRecordings(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cookieForAudio = on
}

func (s *Server) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/rest/") {
			_, err := r.Cookie("JSESSIONID")
			s.mu.Lock()
			s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(),
				Cookie: err == nil, ContentType: r.Header.Get("Content-Type")})
			s.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	if s.failed(w, r) {
		return
	}
	var body struct {
		Domain string `json:"domain"`
		APIKey string `json:"apiKey"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, "Bad Request", http.StatusBadRequest)
		return
	}
	if body.APIKey != s.apiKey || (body.Domain != "" && body.Domain != s.Domain) {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	id := strings.ToUpper(newID())
	s.mu.Lock()
	s.sessions[id] = time.Now().Add(s.sessionTTL)
	s.mu.Unlock()
	s.authN.Add(1)
	http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: id, Path: "/", HttpOnly: true, Secure: false})
	w.WriteHeader(http.StatusOK)
}

// validSession reports whether r carries a live session.
func (s *Server) validSession(r *http.Request) bool {
	c, err := r.Cookie("JSESSIONID")
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.sessions[c.Value]
	return ok && time.Now().Before(exp)
}

// session guards an endpoint with the cookie.
func (s *Server) session(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.validSession(r) {
			if !s.failed(w, r) {
				h(w, r)
			}
			return
		}
		s.mu.Lock()
		status := s.expiredReply
		s.mu.Unlock()
		if status == http.StatusFound {
			http.Redirect(w, r, "/login.jsp", http.StatusFound)
			return
		}
		http.Error(w, http.StatusText(status), status)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) userByExt(ext string) (User, bool) {
	for _, u := range s.users {
		if u.Ext == ext {
			return u, true
		}
	}
	return User{}, false
}

func (s *Server) makeCall(w http.ResponseWriter, r *http.Request) {
	var body struct {
		LegExt      string `json:"legExt"`
		OtherLegNum string `json:"otherLegNum"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.LegExt == "" || body.OtherLegNum == "" {
		http.Error(w, "legExt and otherLegNum are required", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	u, ok := s.userByExt(body.LegExt)
	s.mu.Unlock()
	if !ok {
		http.Error(w, "unknown legExt", http.StatusBadRequest)
		return
	}
	c := s.place(u, body.OtherLegNum, false)
	writeJSON(w, map[string]string{"uuid": c.uuid})
	s.pushCall(c, "call.dial")
}

// place records an outgoing call the employee u asked for. The caller
// replies, then rings the employee's sockets with pushCall.
func (s *Server) place(u User, client string, socket bool) *activeCall {
	c := &activeCall{uuid: newID(), direction: DirectionOut, user: u, client: client, dialAt: time.Now()}
	s.mu.Lock()
	s.active[c.uuid] = c
	s.placed = append(s.placed, PlacedCall{UUID: c.uuid, Ext: u.Ext, To: client, Socket: socket})
	s.mu.Unlock()
	return c
}

func (s *Server) hangup(w http.ResponseWriter, r *http.Request) {
	if !s.Hangup(r.PathValue("uuid")) {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	w.WriteHeader(http.StatusOK) // an empty body, as Phonet sends
}

// activeCalls answers in the vendor sample's style: seconds, string ids in
// otherLegs, null leg2 and otherLegs where they do not apply.
func (s *Server) activeCalls(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	calls := make([]*activeCall, 0, len(s.active))
	for _, c := range s.active {
		calls = append(calls, c)
	}
	s.mu.Unlock()
	slices.SortFunc(calls, func(a, b *activeCall) int { return a.dialAt.Compare(b.dialAt) })
	out := make([]map[string]any, 0, len(calls))
	for _, c := range calls {
		m := s.payload(c, "")
		m["lastEvent"] = "call.dial"
		if !c.bridgeAt.IsZero() {
			m["lastEvent"] = "call.bridge"
			m["bridgeAt"] = c.bridgeAt.Unix()
		}
		m["dialAt"] = c.dialAt.Unix()
		delete(m, "serverTime")
		out = append(out, m)
	}
	writeJSON(w, out)
}

func (s *Server) listUsers(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	out := make([]map[string]any, len(s.users))
	for i, u := range s.users {
		out[i] = map[string]any{"id": u.ID, "displayName": u.DisplayName, "ext": u.Ext, "email": u.Email}
	}
	s.mu.Unlock()
	writeJSON(w, out)
}

// audio serves a fake recording for every history uuid, plain or with -rx
// or -tx.
func (s *Server) audio(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	need := s.cookieForAudio
	s.mu.Unlock()
	if need && !s.validSession(r) {
		http.Error(w, "Forbidden", http.StatusForbidden)
		return
	}
	if s.failed(w, r) {
		return
	}
	id := r.PathValue("id")
	base := strings.TrimSuffix(strings.TrimSuffix(id, "-rx"), "-tx")
	s.mu.Lock()
	found := slices.ContainsFunc(s.history, func(m map[string]any) bool { return m["uuid"] == base && m["audioRecUrl"] != nil })
	s.mu.Unlock()
	if !found {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "audio/mpeg")
	_, _ = w.Write(Recording(id))
}

// Recording is the fake audio the server serves for id.
func Recording(id string) []byte {
	return []byte("ID3\x03\x00\x00\x00\x00\x00\x00fake mp3 of " + id + strings.Repeat("\xff\xfb", 512))
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// dashed writes a 32-hex uuid in the 8-4-4-4-12 form the history uses.
func dashed(id string) string {
	if len(id) != 32 {
		return id
	}
	return id[:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:]
}

// Silence makes the server's connections half-open while on: nothing it
// writes arrives, pongs and handshakes included.
func (s *Server) Silence(on bool) { s.net.SetSilent(on) }
