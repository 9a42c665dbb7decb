package newteltest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultMaxSkew is how far a token's time may be from the server's clock.
// New-Tel's window is not known.
const DefaultMaxSkew = 2 * time.Minute

// DefaultLine is the account's number: the confirmationNumber of Call
// Password ID, the number an InboundCall dials when its DID is empty, and
// the caller ID of an outbound call placed without one.
const DefaultLine = "74951502837"

// Request is a method call as the server received it.
type Request struct {
	Method        string // the API method: "company/get-state"
	ContentType   string
	Authorization string
	Body          []byte
	At            time.Time
}

// PlacedCall is a call-starting method the server accepted.
type PlacedCall struct {
	Method       string // the API method that placed it
	CallID       string
	DstNumber    string
	SrcNumber    string // call/start_simple_call
	CallerID     string
	ClientNumber string // the inbound flows
	Pin          string
	CallbackLink string
	At           time.Time
}

// SignatureMode is how the server signs its answers.
type SignatureMode int8

// The signature modes.
const (
	SignValid   SignatureMode = iota // a correct Signature header, the default
	SignNone                         // no Signature header, as public clients see it
	SignCorrupt                      // a Signature header with a wrong digest
)

// Server is the emulated API. Its methods are safe for concurrent use.
type Server struct {
	*httptest.Server

	accessKey, signKey string

	mu       sync.Mutex
	now      func() time.Time
	maxSkew  time.Duration
	sigMode  SignatureMode
	balance  string
	calls    []PlacedCall
	requests []Request
	faults   map[string][]fault
}

type fault struct {
	status int
	body   string
}

// NewServer starts the API with a key pair. Close it when done. Its base
// URL, under which the methods are served, is URL + "/".
func NewServer(accessKey, signKey string) *Server {
	s := &Server{
		accessKey: accessKey, signKey: signKey,
		now: time.Now, maxSkew: DefaultMaxSkew, balance: "1523.40",
		faults: map[string][]fault{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/records/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "audio/mpeg")
		_, _ = w.Write([]byte("ID3\x03\x00")) // the start of an MP3 file
	})
	mux.HandleFunc("/", s.serve)
	s.Server = httptest.NewServer(mux)
	return s
}

// BaseURL is the URL to give a client.
func (s *Server) BaseURL() string { return s.URL + "/" }

// SetClock replaces the server's clock, against which token times are
// checked and with which answers are signed.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// clock reads the server's clock.
func (s *Server) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

// SetMaxSkew sets how far a token's time may be from the clock.
func (s *Server) SetMaxSkew(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxSkew = d
}

// SetSignatureMode sets how answers are signed.
func (s *Server) SetSignatureMode(m SignatureMode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sigMode = m
}

// SetBalance sets the balance company/get-state reports, as JSON number
// text ("1523.40").
func (s *Server) SetBalance(b string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.balance = b
}

// Fail makes the next request for target, an API method such as
// "company/get-state" or "" for any, answer with status and body instead,
// before any check. Calls queue up; a request takes from its method's own
// queue before the queue of "".
func (s *Server) Fail(target string, status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[target] = append(s.faults[target], fault{status, body})
}

// nextFault takes the fault queued for method, or for any request. s.mu is
// held.
func (s *Server) nextFault(method string) *fault {
	for _, target := range [...]string{method, ""} {
		if q := s.faults[target]; len(q) > 0 {
			s.faults[target] = q[1:]
			return &q[0]
		}
	}
	return nil
}

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Calls returns the calls placed so far, oldest first.
func (s *Server) Calls() []PlacedCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// apiError is a failure with its HTTP status and envelope.
type apiError struct {
	status int
	// method is true for a method-level error: 200 with data.result=error.
	method bool
	msg    string
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/")
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		s.reply(w, method, nil, &apiError{status: http.StatusBadRequest, msg: "Cannot read the request body"})
		return
	}
	s.mu.Lock()
	now := s.now()
	s.requests = append(s.requests, Request{Method: method, ContentType: r.Header.Get("Content-Type"),
		Authorization: r.Header.Get("Authorization"), Body: body, At: now})
	f := s.nextFault(method)
	s.mu.Unlock()
	if f != nil {
		w.WriteHeader(f.status)
		_, _ = io.WriteString(w, f.body)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.reply(w, method, nil, &apiError{status: http.StatusMethodNotAllowed, msg: "Only POST requests are accepted"})
		return
	}
	if e := s.authorize(method, r.Header.Get("Authorization"), body, now); e != nil {
		s.reply(w, method, nil, e)
		return
	}
	p, e := readParams(r.Header.Get("Content-Type"), body)
	if e != nil {
		s.reply(w, method, nil, e)
		return
	}
	data, e := s.dispatch(method, p, now)
	s.reply(w, method, data, e)
}

// authorize checks the Bearer token: accessKey + time + sha256hex(method
// \n time \n accessKey \n body \n signKey).
func (s *Server) authorize(method, header string, body []byte, now time.Time) *apiError {
	deny := func(msg string) *apiError { return &apiError{status: http.StatusUnauthorized, msg: msg} }
	token, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		return deny("Authorization required")
	}
	if len(token) != len(s.accessKey)+10+64 {
		return deny("Invalid token format")
	}
	key, ts, sum := token[:len(s.accessKey)], token[len(s.accessKey):len(s.accessKey)+10], token[len(s.accessKey)+10:]
	if subtle.ConstantTimeCompare([]byte(key), []byte(s.accessKey)) != 1 {
		return deny("Invalid access key")
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return deny("Invalid token time")
	}
	s.mu.Lock()
	skew := s.maxSkew
	s.mu.Unlock()
	if d := now.Sub(time.Unix(unix, 0)); d > skew || d < -skew {
		return deny("Token time is out of the allowed range")
	}
	want := s.digest(method, ts, body)
	if subtle.ConstantTimeCompare([]byte(sum), []byte(want)) != 1 {
		return deny("Invalid request signature")
	}
	return nil
}

// digest is the lowercase hex SHA-256 of the signed string.
func (s *Server) digest(method, ts string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(method + "\n" + ts + "\n" + s.accessKey + "\n"))
	h.Write(body)
	h.Write([]byte("\n" + s.signKey))
	return hex.EncodeToString(h.Sum(nil))
}

// reply writes the envelope and signs it.
func (s *Server) reply(w http.ResponseWriter, method string, data map[string]any, e *apiError) {
	var env map[string]any
	status := http.StatusOK
	switch {
	case e == nil:
		if data == nil {
			data = map[string]any{}
		}
		data["result"] = "success"
		env = map[string]any{"status": "success", "data": data}
	case e.method:
		env = map[string]any{"status": "success", "data": map[string]any{"result": "error", "message": e.msg}}
	default:
		status = e.status
		env = map[string]any{"status": "error", "message": e.msg}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(env)
	out := bytes.TrimRight(buf.Bytes(), "\n")

	s.mu.Lock()
	mode, now := s.sigMode, s.now()
	s.mu.Unlock()
	if mode != SignNone {
		ts := strconv.FormatInt(now.Unix(), 10)
		sum := s.digest(method, ts, out)
		if mode == SignCorrupt {
			sum = strings.Repeat("0", 64)
		}
		w.Header().Set("Signature", s.accessKey+ts+sum)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

// params is a request's parameters, values as sent (strings or numbers).
type params map[string]any

// readParams reads a JSON object, an empty body, or a form body.
func readParams(contentType string, body []byte) (params, *apiError) {
	media, _, _ := mime.ParseMediaType(contentType)
	if media == "application/x-www-form-urlencoded" {
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, &apiError{status: http.StatusBadRequest, msg: "Invalid form body"}
		}
		p := params{}
		for k := range v {
			p[k] = v.Get(k)
		}
		return p, nil
	}
	p := params{}
	if len(bytes.TrimSpace(body)) == 0 {
		return p, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return nil, &apiError{status: http.StatusBadRequest, msg: "Invalid JSON in the request body"}
	}
	return p, nil
}

// str reads a parameter sent as a string or a number.
func (p params) str(name string) string {
	switch v := p[name].(type) {
	case string:
		return strings.TrimSpace(v)
	case json.Number:
		return v.String()
	}
	return ""
}

// int reads an integer parameter; ok is false when it is present but not
// an integer.
func (p params) int(name string) (n int, present, ok bool) {
	s := p.str(name)
	if s == "" {
		return 0, p[name] != nil, p[name] == nil
	}
	n, err := strconv.Atoi(s)
	return n, true, err == nil
}

func badParam(msg string) *apiError { return &apiError{method: true, msg: msg} }

// number checks a phone number: 9 to 15 digits not starting with 0, an
// optional "+" in front.
func number(p params, name string, required bool) (string, *apiError) {
	n := strings.TrimPrefix(p.str(name), "+")
	if n == "" {
		if required {
			return "", badParam("Parameter " + name + " is required")
		}
		return "", nil
	}
	if len(n) < 9 || len(n) > 15 || n[0] == '0' || strings.Trim(n, "0123456789") != "" {
		return "", badParam("Parameter " + name + " must be 9 to 15 digits, not starting with 0")
	}
	return n, nil
}

// extOrNumber is a phone number or an internal number (2 to 6 digits).
func extOrNumber(p params, name string) (string, *apiError) {
	n := p.str(name)
	if len(n) >= 2 && len(n) <= 6 && strings.Trim(n, "0123456789") == "" {
		return n, nil
	}
	return number(p, name, true)
}

func (s *Server) dispatch(method string, p params, now time.Time) (map[string]any, *apiError) {
	switch method {
	case "company/get-state":
		s.mu.Lock()
		balance := s.balance
		s.mu.Unlock()
		return map[string]any{"state": map[string]any{
			"balance": json.Number(balance), "credit": json.Number("0"), "currency": "RUB", "status": "active",
		}}, nil
	case "call-password/start-password-call", "call/start-password-call":
		return s.startPasswordCall(method, p, now)
	case "call-password/get-password-call-status":
		return s.passwordCallStatus(p)
	case "call-password/start-voice-password-call":
		dst, e := number(p, "dstNumber", true)
		if e != nil {
			return nil, e
		}
		if p.str("text") == "" {
			return nil, badParam("Parameter text is required")
		}
		id := s.place(PlacedCall{Method: method, DstNumber: dst, At: now})
		return details(map[string]any{"callId": id, "status": "answered"}), nil
	case "call-verification/start-inbound-call-waiting", "call-password-id/start-waiting-mode-busy":
		return s.startInbound(method, p, now)
	case "call/start_simple_call":
		return s.startSimpleCall(method, p, now)
	case "webrtc/get-widget-config":
		ext := p.str("internalNumber")
		if ext == "" {
			return nil, badParam("Parameter internalNumber is required")
		}
		return map[string]any{"widgetConfig": map[string]any{
			"internalNumber": ext,
			"login":          ext + "@vpbx.new-tel.net",
			"password":       "emulated-sip-password",
			"server":         "wss://webrtc.new-tel.net/ws",
			"displayName":    "Оператор " + ext,
			"position":       "bottom-right",
		}}, nil
	}
	return nil, &apiError{status: http.StatusNotFound, msg: "Method " + method + " not found"}
}

func details(d map[string]any) map[string]any { return map[string]any{"callDetails": d} }

func (s *Server) startPasswordCall(method string, p params, now time.Time) (map[string]any, *apiError) {
	dst, e := number(p, "dstNumber", true)
	if e != nil {
		return nil, e
	}
	pin := p.str("pin")
	if pin == "" {
		pin = fmt.Sprintf("%04d", randomInt(10000))
	} else if len(pin) < 4 || len(pin) > 5 || strings.Trim(pin, "0123456789") != "" {
		return nil, badParam("Parameter pin must be 4 or 5 digits")
	}
	if t, present, ok := p.int("timeout"); present && (!ok || t < 20 || t > 99) {
		return nil, badParam("Parameter timeout must be from 20 to 99")
	}
	async, _, ok := p.int("async")
	if !ok || async < 0 || async > 1 {
		return nil, badParam("Parameter async must be 0 or 1")
	}
	id := s.place(PlacedCall{Method: method, DstNumber: dst, Pin: pin, CallbackLink: p.str("callbackLink"), At: now})
	d := map[string]any{"callId": id, "pin": pin, "oper": "ПАО МТС", "region": "г. Москва и Московская область",
		"isValidNumber": true, "status": "answered"}
	if async == 1 {
		d["status"] = "null"
	}
	return details(d), nil
}

func (s *Server) passwordCallStatus(p params) (map[string]any, *apiError) {
	id := p.str("callId")
	if id == "" {
		return nil, badParam("Parameter callId is required")
	}
	s.mu.Lock()
	known := slices.ContainsFunc(s.calls, func(c PlacedCall) bool { return c.CallID == id })
	s.mu.Unlock()
	if !known {
		return nil, badParam("Call not found")
	}
	return details(map[string]any{"callId": id, "status": "answered", "reasonCode": 1}), nil
}

func (s *Server) startInbound(method string, p params, now time.Time) (map[string]any, *apiError) {
	client, e := number(p, "clientNumber", true)
	if e != nil {
		return nil, e
	}
	link := p.str("callbackLink")
	if u, err := url.Parse(link); link == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, badParam("Parameter callbackLink must be an http or https URL")
	}
	if t, present, ok := p.int("timeout"); present && (!ok || t < 30 || t > 120) {
		return nil, badParam("Parameter timeout must be from 30 to 120")
	}
	id := s.place(PlacedCall{Method: method, ClientNumber: client, CallbackLink: link, At: now})
	var userData any
	if u := p.str("userData"); u != "" {
		userData = u
	}
	return details(map[string]any{
		"callId": id, "callbackLink": link, "clientNumber": client, "confirmationNumber": DefaultLine,
		"isMnp": false, "operatorName": "ПАО МТС", "operatorNameMnp": nil, "regionName": "г. Москва и Московская область",
		"qrCodeUri": s.URL + "/qr/" + DefaultLine + ".png", "userData": userData,
	}), nil
}

func (s *Server) startSimpleCall(method string, p params, now time.Time) (map[string]any, *apiError) {
	dst, e := number(p, "dstNumber", true)
	if e != nil {
		return nil, e
	}
	src, e := extOrNumber(p, "srcNumber")
	if e != nil {
		return nil, e
	}
	cid, e := number(p, "callerId", false)
	if e != nil {
		return nil, e
	}
	if t, present, ok := p.int("timeout"); present && (!ok || t < 1 || t > 300) {
		return nil, badParam("Parameter timeout must be from 1 to 300")
	}
	id := s.place(PlacedCall{Method: method, DstNumber: dst, SrcNumber: src, CallerID: cid, At: now})
	return details(map[string]any{"callId": id}), nil
}

// place records a call and returns its new id, a long decimal string like
// New-Tel's.
func (s *Server) place(c PlacedCall) string {
	c.CallID = strconv.FormatInt(1_000_000_000_000_000_000+randomInt(8_000_000_000_000_000_000), 10)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
	return c.CallID
}

func randomInt(n int64) int64 {
	v, err := rand.Int(rand.Reader, big.NewInt(n))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return v.Int64()
}
