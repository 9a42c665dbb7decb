package webiteltest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pbxkit/pbxkit/internal/netfault"
)

// DefaultDomain is the domain POST /api/login accepts and the session's
// domain_name on the socket.
const DefaultDomain = "demo"

// domainID is the tenant's dc (domain id).
const domainID = 1

// Request is a REST request as the server received it (everything but the
// socket's upgrade).
type Request struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

// PlacedCall is a call the server was asked to create: over REST (POST
// /api/calls) or over the socket (call_invite, Socket true). From is the
// operator's extension, rung first; ID is the operator leg's id.
type PlacedCall struct {
	ID          string
	From        string
	Destination string
	Socket      bool
}

// Server is the emulated tenant: the /api gateway, the storage's
// recordings and the engine socket at /ws/websocket. Its methods are safe
// for concurrent use.
type Server struct {
	*httptest.Server
	// Domain is the domain POST /api/login accepts.
	Domain string

	net *netfault.Listener // offline spells and half-open connections
	wg  sync.WaitGroup     // socket handlers, writers, pingers, reply flushes

	mu       sync.Mutex
	closed   bool
	users    []*userRec
	nextUser int64
	tokens   map[string]*tokenRec // by token value
	devices  []*deviceRec
	nextDev  int64
	agents   []*agentRec
	nextAg   int64
	calls    map[string]*callRec // live calls by leg id
	placed   []PlacedCall
	requests []Request
	faults   netfault.Replies // Fail's
	history  []*histRec       // oldest first
	files    map[string]*fileRec
	nextFile int64
	nodeTurn int
	twoFA    bool
	sockets  map[*socket]struct{}
	sockCfg  socketConfig
	sockFail []int
	shuffle  bool
	strict   bool
}

// NewServer starts a tenant whose integration token for user 1 is token.
// It holds three users: 1 "Іван Петренко" (ext 101, licensed), 2 "Олена
// Коваль" (102) and 3 "Сергій Бондар" (103), the agents 10 (user 1) and
// 11 (user 2), and no history: see [Server.AddHistory].
func NewServer(token string) *Server {
	s := &Server{
		Domain: DefaultDomain, nextUser: 1, nextDev: 7287, nextAg: 10, nextFile: 555,
		tokens: map[string]*tokenRec{}, calls: map[string]*callRec{},
		files: map[string]*fileRec{}, sockets: map[*socket]struct{}{}, sockCfg: defaultSocketConfig(),
	}
	now := time.Now()
	for _, u := range []User{
		{Name: "Іван Петренко", Username: "ivan", Email: "ivan@demo.example", Extension: "101", Licensed: true},
		{Name: "Олена Коваль", Username: "olena", Email: "olena@demo.example", Extension: "102"},
		{Name: "Сергій Бондар", Username: "serhii", Email: "serhii@demo.example", Extension: "103"},
	} {
		s.addUserLocked(u, now)
	}
	s.tokens[token] = &tokenRec{id: newHex(8), token: token, usage: "integration", userID: 1, created: now}
	s.agents = append(s.agents, &agentRec{id: 10, userID: 1, status: "offline", changed: now},
		&agentRec{id: 11, userID: 2, status: "offline", changed: now})
	s.nextAg = 12

	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", s.login)
	s.directoryRoutes(mux)
	s.callRoutes(mux)
	mux.HandleFunc("GET /api/calls/history", s.auth(s.searchHistory))
	mux.HandleFunc("GET /api/calls/{call_id}/files", s.auth(s.callFiles))
	mux.HandleFunc("GET /api/storage/recordings/{id}/download", s.storage(s.download))
	mux.HandleFunc("GET /api/storage/recordings/{id}/stream", s.storage(s.stream))
	mux.HandleFunc("GET /ws/websocket", s.serveSocket)
	s.faults.ContentType = "application/json"
	s.Server = httptest.NewUnstartedServer(s.logged(mux))
	s.net = netfault.Wrap(s.Listener)
	s.Listener = s.net
	s.Start()
	return s
}

// BaseURL is the tenant's address, such as http://127.0.0.1:port, without
// /api: a client appends /api for REST and /ws/websocket for the socket.
func (s *Server) BaseURL() string { return s.URL }

// Close closes every socket, waits for the goroutines the server started,
// and shuts the HTTP server down like httptest.Server.Close.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.net.SetSilent(false)
	s.DropSockets()
	s.Server.Close()
	s.wg.Wait()
}

// Requests returns the REST requests received, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Calls returns every call created (POST /api/calls and call_invite),
// oldest first.
func (s *Server) Calls() []PlacedCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.placed)
}

// Fail makes the next REST request for path (such as "/api/calls"; "" is
// any path) answer status with body, once. A request with a bad token still
// gets its 401 and leaves the fault queued; POST /api/login takes faults
// too. Calls queue up; a fault for the exact path goes before one for any
// path.
func (s *Server) Fail(path string, status int, body string) {
	s.faults.Add(path, status, body)
}

// failed answers r with the next fault queued for its path, if any.
func (s *Server) failed(w http.ResponseWriter, r *http.Request) bool { return s.faults.Serve(w, r) }

// logged records every request but the socket's upgrade.
func (s *Server) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ws/websocket" {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			s.mu.Lock()
			s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
				Header: r.Header.Clone(), Body: body})
			s.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

// auth guards a gateway endpoint with X-Webitel-Access, then applies the
// queued faults. The handler gets the token's user.
func (s *Server) auth(h func(http.ResponseWriter, *http.Request, *userRec)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u := s.userOfToken(r.Header.Get("X-Webitel-Access"))
		if u == nil {
			writeError(w, http.StatusUnauthorized, "api.context.unauthorized", "invalid or expired access token")
			return
		}
		if !s.failed(w, r) {
			h(w, r, u)
		}
	}
}

// userOfToken returns the live user a token belongs to, or nil.
func (s *Server) userOfToken(token string) *userRec {
	if token == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[token]
	if !ok || t.disabled {
		return nil
	}
	return s.userLocked(t.userID)
}

// writeJSON answers 200 with v.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// appError is the engine's AppError (engine model/utils.go; the gateway
// passes it through): {id, status, detail, code}.
func appError(status int, id, detail string) map[string]any {
	return map[string]any{"id": id, "status": http.StatusText(status), "detail": detail, "code": status}
}

func writeError(w http.ResponseWriter, status int, id, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(appError(status, id, detail))
}

// decodeBody reads a JSON request body into v; an empty body is {}.
func decodeBody(r *http.Request, v any) bool {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return false
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return true
	}
	return json.Unmarshal(b, v) == nil
}

// ms writes a time as the engine writes int64 milliseconds: a string, "0"
// for unset.
func ms(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

func id64(n int64) string { return strconv.FormatInt(n, 10) }

// flexID reads an id sent as a JSON string or number (protojson takes
// both for int64).
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flexID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = flexID(n.String())
	return nil
}

func (f flexID) int() (int64, bool) {
	n, err := strconv.ParseInt(string(f), 10, 64)
	return n, err == nil
}

func newHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newUUID is a random v4 uuid, as FreeSWITCH names legs.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// page reads page (1-based, ≤ 1 is the first) and size (default def, at
// most 20000) as the engine's model/search_list.go does.
func page(r *http.Request, def int) (pg, size int) {
	q := r.URL.Query()
	pg, _ = strconv.Atoi(q.Get("page"))
	pg = max(pg, 1)
	size, _ = strconv.Atoi(q.Get("size"))
	if size <= 0 {
		size = def
	}
	return pg, min(size, 20000)
}

// cut returns page pg of items and whether more follow.
func cut[T any](items []T, pg, size int) ([]T, bool) {
	from := (pg - 1) * size
	if from >= len(items) {
		return []T{}, false
	}
	to := min(from+size, len(items))
	return items[from:to], to < len(items)
}

// list is the engine's {next, items} with next omitted when false (proto3
// JSON drops false); echo adds webitel.go's page and size.
func list(items any, next bool, echo map[string]any) map[string]any {
	m := map[string]any{"items": items}
	if next {
		m["next"] = true
	}
	for k, v := range echo {
		m[k] = v
	}
	return m
}

// matchQ is the search q: a case-insensitive substring, with the admin
// UI's * wildcards dropped.
func matchQ(q string, fields ...string) bool {
	q = strings.ToLower(strings.Trim(q, "*"))
	if q == "" {
		return true
	}
	for _, f := range fields {
		if strings.Contains(strings.ToLower(f), q) {
			return true
		}
	}
	return false
}

// Silence makes every connection half-open while on: the server neither
// receives nor sends anything, pongs included; its own protocol pings go
// unanswered, so it drops a socket after the pong wait, as the engine
// does. Off lets traffic through again (a connection whose frames were
// cut is broken by then).
func (s *Server) Silence(on bool) { s.net.SetSilent(on) }
