package retailcrmtest

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"

	"golang.org/x/time/rate"

	"github.com/pbxkit/pbxkit/internal/netfault"
)

// APIPrefix is where the account serves API v5. A client is given
// [Server.BaseURL] and appends this prefix and the method's path.
const APIPrefix = "/api/v5"

// MaxCallsPerUpload is the most calls one telephony/calls/upload takes.
const MaxCallsPerUpload = 50

// The exact errorMsg texts the server answers with. The first five are
// the texts the official clients match (api-client-go error.go, api-client-php
// ApiExceptionFactory); the others come from the vendors' own mocks.
const (
	MsgMissingKey       = `"apiKey" is missing.`
	MsgWrongKey         = `Wrong "apiKey" value.`
	MsgRateLimit        = "Rate limit exceeded"
	MsgInputErrors      = "Errors in the input parameters"
	MsgEntityErrors     = "Errors in the entity format"
	MsgNotFound         = "Not found"
	MsgMethodNotFound   = "API method not found"
	MsgMethodNotAllowed = "Method Not Allowed"
	MsgNoTelephony      = "Telephony not enabled"
	MsgNoCallsUpload    = "Telephony not enabled or not supports calls upload"
	MsgCallsWithErrors  = "Calls are loaded with errors"
)

// Request is an API request as the server received it, whatever it was
// answered: a refused key, a rate-limit 503 and a Fail reply included.
// Form holds the parsed body of a form POST (the query is in RawQuery).
type Request struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Form                   url.Values
}

// Server is the emulated retailCRM account. Its methods are safe for
// concurrent use.
type Server struct {
	*httptest.Server

	apiKey string

	mu         sync.Mutex
	requests   []Request
	faults     netfault.Replies // Fail's
	rateLimit  int              // requests still to be refused with 503
	limits     [2]*rate.Limiter // general, /telephony; nil: no limit
	refused    int              // requests refused with the rate-limit 503
	errorsList bool             // validation errors as an array, not a map
	modules    map[string]*module
	lastModule string // the code of the module edited last
	users      []User
	customers  []Customer
	sites      []string
	calls      []json.RawMessage
	callIDs    map[string]bool // externalIds stored
	rejects    map[string]string
	events     []json.RawMessage
}

// NewServer starts an account whose API key is apiKey, with three users
// (ids 1 to 3, extension codes "101" to "103", all free), two customers
// with phones, each with user 1 or 2 as manager, and two stores ("shop1"
// and "shop2", the seed article's). Close it when done.
func NewServer(apiKey string) *Server {
	s := &Server{
		apiKey: apiKey,

		modules: map[string]*module{},
		callIDs: map[string]bool{},
		rejects: map[string]string{},
		users: []User{
			{ID: 1, FirstName: "Иван", LastName: "Петров", Patronymic: "Сергеевич", Email: "ivan@example.com", Code: "101", Status: StatusFree},
			{ID: 2, FirstName: "Мария", LastName: "Смирнова", Patronymic: "Олеговна", Email: "maria@example.com", Code: "102", Status: StatusFree},
			{ID: 3, FirstName: "Алексей", LastName: "Кузнецов", Email: "alexey@example.com", Code: "103", Status: StatusFree},
		},
		customers: []Customer{
			{ID: 1, ExternalID: "c-1", FirstName: "Ольга", LastName: "Иванова", Email: "olga@example.org",
				Phones: []string{"+7 (912) 123-45-67"}, ManagerID: 1},
			{ID: 2, FirstName: "Пётр", LastName: "Сидоров", Patronymic: "Ильич",
				Phones: []string{"88005553125", "+74951234567"}, ManagerID: 2},
		},
		sites: []string{"shop1", "shop2"},
	}
	s.faults.ContentType = "application/json"
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// BaseURL is the account's address to give a client, such as
// "http://127.0.0.1:41235"; the client appends /api/v5/….
func (s *Server) BaseURL() string { return s.URL }

// Requests returns every API request received, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = Request{Method: r.Method, Path: r.Path, RawQuery: r.RawQuery, Header: r.Header.Clone(), Form: cloneValues(r.Form)}
	}
	return out
}

// Fail makes the next request for path (such as
// "/api/v5/telephony/call/event"; "" is any path) answer status with body,
// after the key check and the rate limit, without doing anything else.
// Calls queue up; a fault for the exact path goes before one for any path.
func (s *Server) Fail(path string, status int, body string) {
	s.faults.Add(path, status, body)
}

// RateLimit makes the next n requests answer 503
// {"success":false,"errorMsg":"Rate limit exceeded"} before anything else
// is looked at, the key included: nothing of them is processed.
func (s *Server) RateLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimit = max(n, 0)
}

// EnforceRate makes the server refuse with the rate-limit 503 the requests
// over rps per second (a burst of burst), and over telephonyRPS for the
// paths under /api/v5/telephony, as retailCRM's limits of 10 and 40 per
// key do (api-client-go rate.go). A rate of 0 or less lifts that limit;
// none is enforced by default.
func (s *Server) EnforceRate(rps, telephonyRPS float64, burst int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range []float64{rps, telephonyRPS} {
		s.limits[i] = nil
		if r > 0 {
			s.limits[i] = rate.NewLimiter(rate.Limit(r), max(burst, 1))
		}
	}
}

// RateLimited returns how many requests were refused with the rate-limit
// 503, by [Server.RateLimit] or [Server.EnforceRate].
func (s *Server) RateLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// ErrorsAsArray makes validation errors come as a JSON array of texts,
// each "<field>: <message>", instead of the default object of field →
// message; retailCRM sends both envelopes (api-client-go error_test.go).
func (s *Server) ErrorsAsArray(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errorsList = on
}

// serve records the request, then applies in turn the rate limit, the key
// check and a queued fault before handing it to the method.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<20)
	formErr := parseForm(r)
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		Header: r.Header.Clone(), Form: cloneValues(r.PostForm)})
	limited := s.rateLimit > 0
	if limited {
		s.rateLimit--
	} else if l := s.limits[classOf(r.URL.Path)]; l != nil {
		limited = !l.Allow()
	}
	if limited {
		s.refused++
	}
	s.mu.Unlock()
	if limited {
		writeError(w, http.StatusServiceUnavailable, MsgRateLimit, nil)
		return
	}
	if formErr != nil {
		writeError(w, http.StatusBadRequest, MsgInputErrors, nil)
		return
	}
	key := r.Header.Get("X-API-KEY")
	if key == "" {
		key = r.Form.Get("apiKey") // the query, or the form of a POST
	}
	switch {
	case key == "":
		writeError(w, http.StatusForbidden, MsgMissingKey, nil)
		return
	case key != s.apiKey:
		writeError(w, http.StatusForbidden, MsgWrongKey, nil)
		return
	}
	if s.failed(w, r) {
		return
	}
	s.route(w, r)
}

// route dispatches an authorised request to its method.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, APIPrefix+"/")
	if !ok {
		writeError(w, http.StatusNotFound, MsgMethodNotFound, nil)
		return
	}
	method := func(want string, h func(http.ResponseWriter, *http.Request)) {
		if r.Method != want {
			writeError(w, http.StatusMethodNotAllowed, MsgMethodNotAllowed, nil)
			return
		}
		h(w, r)
	}
	switch rest {
	case "telephony/calls/upload":
		method(http.MethodPost, s.uploadCalls)
		return
	case "telephony/call/event":
		method(http.MethodPost, s.callEvent)
		return
	case "telephony/manager":
		method(http.MethodGet, s.manager)
		return
	}
	if code, ok := strings.CutPrefix(rest, "integration-modules/"); ok && code != "" {
		if code, ok := strings.CutSuffix(code, "/edit"); ok && code != "" && !strings.Contains(code, "/") {
			method(http.MethodPost, func(w http.ResponseWriter, r *http.Request) { s.editModule(w, r, code) })
			return
		}
		if !strings.Contains(code, "/") {
			method(http.MethodGet, func(w http.ResponseWriter, _ *http.Request) { s.getModule(w, code) })
			return
		}
	}
	writeError(w, http.StatusNotFound, MsgMethodNotFound, nil)
}

// classOf is the index of the limit a path counts against.
func classOf(path string) int {
	if strings.HasPrefix(path, APIPrefix+"/telephony/") {
		return 1
	}
	return 0
}

// failed answers r with the next fault queued for its path, if any.
func (s *Server) failed(w http.ResponseWriter, r *http.Request) bool { return s.faults.Serve(w, r) }

// parseForm reads the query, and the body of a urlencoded or multipart
// POST (Vochi-dev/v3 sends multipart, and it works).
func parseForm(r *http.Request) error {
	ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if r.Method == http.MethodPost && ctype == "multipart/form-data" {
		err := r.ParseMultipartForm(1 << 20)
		if r.MultipartForm != nil {
			_ = r.MultipartForm.RemoveAll()
		}
		return err
	}
	return r.ParseForm()
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return url.Values{}
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// writeJSON answers status with v encoded, keeping "<", ">" and "&" as
// they are, as PHP's json_encode does with the flags retailCRM uses for
// links.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
